// SPDX-License-Identifier: Apache-2.0
// The 16/48 kHz decimator: its taps (read back through impulses) are symmetric and sum to
// exactly 1 in Q15, so a constant comes out unchanged; every output is the integer formula
// of those taps (full-scale and worst-case inputs included: no sum overflows); chunking
// changes nothing; the DTMF band passes flat and what would alias onto it is cut. Run with
// PCIFILTER_ISA=portable as well as without (ctest does both) to check both kernels.
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "check.hpp"
#include "pcifilter/decimator.hpp"

using namespace pcifilter;

namespace {

std::vector<std::int16_t> run(Decimator& d, const std::vector<std::int16_t>& x) {
    std::vector<std::int16_t> y(d.max_output(x.size()));
    y.resize(d.process(x.data(), x.size(), y.data()));
    return y;
}

// The taps, read back: an impulse of 32767 at input p makes the output completing at input a
// round(t[m]·32767/32768) = t[m] (|t| < 2^14), m = p - a + taps - 1.
std::vector<int> taps_of(int rate) {
    Decimator probe(rate);
    const int f = probe.factor(), n_taps = 2 * probe.delay() + 1;
    std::vector<int> taps(static_cast<std::size_t>(n_taps), INT32_MIN);
    for (int r = 0; r < f; ++r) {
        Decimator d(rate);
        std::vector<std::int16_t> x(static_cast<std::size_t>(4 * n_taps), 0);
        const int p = 2 * n_taps + r;
        x[static_cast<std::size_t>(p)] = 32767;
        const auto y = run(d, x);
        for (std::size_t j = 0; j < y.size(); ++j) {
            const int a = static_cast<int>(j + 1) * f - 1, m = p - a + n_taps - 1;
            if (m >= 0 && m < n_taps) taps[static_cast<std::size_t>(m)] = y[j];
        }
    }
    return taps;
}

// What the decimator must give: the rounded Q15 sum of the taps over each window, clamped.
std::vector<std::int16_t> reference(const std::vector<int>& taps, int f, const std::vector<std::int16_t>& x) {
    const int n_taps = static_cast<int>(taps.size());
    std::vector<std::int16_t> y;
    for (int a = f - 1; a < static_cast<int>(x.size()); a += f) {
        std::int64_t acc = 0;
        for (int k = 0; k < n_taps; ++k) {
            const int i = a - (n_taps - 1) + k;
            if (i >= 0) acc += std::int64_t(taps[static_cast<std::size_t>(k)]) * x[static_cast<std::size_t>(i)];
        }
        const std::int64_t v = (acc + (1 << 14)) >> 15;
        y.push_back(static_cast<std::int16_t>(v > 32767 ? 32767 : v < -32768 ? -32768 : v));
    }
    return y;
}

double rms(const std::vector<std::int16_t>& y, std::size_t from) {
    double s = 0;
    for (std::size_t i = from; i < y.size(); ++i) s += double(y[i]) * y[i];
    return std::sqrt(s / static_cast<double>(y.size() - from));
}

void check_rate(int rate, std::mt19937& rng) {
    const auto taps = taps_of(rate);
    const int n_taps = static_cast<int>(taps.size()), f = rate / 8000;
    long sum = 0, sum_abs = 0;
    for (int k = 0; k < n_taps; ++k) {
        CHECK(taps[static_cast<std::size_t>(k)] != INT32_MIN);  // every tap read back
        CHECK(taps[static_cast<std::size_t>(k)] == taps[static_cast<std::size_t>(n_taps - 1 - k)]);
        sum += taps[static_cast<std::size_t>(k)];
        sum_abs += std::abs(taps[static_cast<std::size_t>(k)]);
    }
    CHECK(sum == 32768);
    CHECK(sum_abs * 32768L < (1L << 31));  // no window's sum can overflow int32

    // A constant passes unchanged, once the window is full of it.
    for (const int c : {-32768, -1, 1, 1234, 32767}) {
        Decimator d(rate);
        const auto y = run(d, std::vector<std::int16_t>(static_cast<std::size_t>(8 * n_taps), static_cast<std::int16_t>(c)));
        for (std::size_t j = static_cast<std::size_t>(n_taps); j < y.size(); ++j) CHECK(y[j] == c);
    }

    // Random full-scale input, the worst case for the sums (each sample at full scale with
    // its tap's sign, both ways), and quiet noise: the formula exactly, however chunked.
    std::vector<std::int16_t> x;
    std::uniform_int_distribution<int> full(-32768, 32767);
    for (int i = 0; i < 3000; ++i) x.push_back(static_cast<std::int16_t>(full(rng)));
    for (const int s : {1, -1})
        for (int rep = 0; rep < 3; ++rep) {
            // An output's window starts at input j with j + taps - 1 = f - 1 (mod f).
            while (static_cast<int>(x.size()) % f != (f - 1) % f) x.push_back(0);
            for (int k = 0; k < n_taps; ++k) {
                const int t = taps[static_cast<std::size_t>(k)];
                x.push_back(static_cast<std::int16_t>((t >= 0) == (s > 0) ? 32767 : -32768));
            }
        }
    std::normal_distribution<double> quiet(0.0, 30.0);
    for (int i = 0; i < 3000; ++i) x.push_back(static_cast<std::int16_t>(std::lround(quiet(rng))));
    const auto want = reference(taps, f, x);
    Decimator whole(rate);
    CHECK(run(whole, x) == want);
    Decimator chunked(rate);
    std::vector<std::int16_t> got;
    std::uniform_int_distribution<int> size(0, 700);
    for (std::size_t at = 0; at < x.size();) {
        const std::size_t n = std::min(x.size() - at, static_cast<std::size_t>(size(rng)));
        std::vector<std::int16_t> y(chunked.max_output(n));
        y.resize(chunked.process(x.data() + at, n, y.data()));
        got.insert(got.end(), y.begin(), y.end());
        at += n;
    }
    CHECK(got == want);

    // The DTMF band flat (±0.01 dB); whatever aliases onto it (8 kHz multiples ± 697..1633 Hz)
    // at least 60 dB down.
    const auto sine = [&](double hz) {
        std::vector<std::int16_t> s(static_cast<std::size_t>(rate / 5));
        for (std::size_t i = 0; i < s.size(); ++i)
            s[i] = static_cast<std::int16_t>(std::lround(16000.0 * std::sin(2 * M_PI * hz * double(i) / rate)));
        Decimator d(rate);
        return 20 * std::log10(rms(run(d, s), static_cast<std::size_t>(n_taps)) / (16000.0 / std::sqrt(2.0)));
    };
    for (const double hz : {697.0, 770.0, 852.0, 941.0, 1209.0, 1336.0, 1477.0, 1633.0}) {
        const double db = sine(hz);
        CHECK(std::fabs(db) <= 0.01);
    }
    for (int m = 8000; m < rate / 2; m += 8000)
        for (double hz = m - 1650.0; hz <= m + 1650.0 && hz < rate / 2; hz += 50.0)
            if (std::fabs(hz - m) >= 690.0) CHECK(sine(hz) <= -60.0);
}

}  // namespace

int main() {
    std::mt19937 rng(7);
    for (const int rate : {16000, 48000}) check_rate(rate, rng);
    return CHECK_DONE();
}
