// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/edges.hpp"

#include <algorithm>
#include <cmath>

#include "pcifilter/dtmf_detector.hpp"
#include "pcifilter/levels.hpp"

namespace pcifilter {

double energy(const std::int16_t* x, std::size_t n) noexcept {
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) total += double(x[i]) * x[i];
    return total;
}

bool sound_at(const std::int16_t* x, std::size_t n) noexcept {
    return n > 0 && energy(x, n) >= double(n) * dbm0_to_power(kSoundDbm0);
}

// Whether x[0, m) sounds like (part of) a keypress: one row and one column frequency each
// hold a tenth of its energy or more, together 40 %. Single-bin DFTs, Goertzel's recurrence.
bool keypress_like(const std::int16_t* x, std::size_t m, int rate) noexcept {
    if (m == 0) return false;
    const double total = energy(x, m);
    double best[2] = {0, 0};  // rows, columns
    for (std::size_t f = 0; f < DtmfDetector::kFreqs.size(); ++f) {
        const double coef = 2.0 * std::cos(2.0 * M_PI * DtmfDetector::kFreqs[f] / rate);
        double s1 = 0, s2 = 0;
        for (std::size_t i = 0; i < m; ++i) {
            const double s0 = x[i] + coef * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        const double tone = 2.0 * (s1 * s1 + s2 * s2 - coef * s1 * s2) / double(m);  // A²m/2
        best[f / 4] = std::max(best[f / 4], tone);
    }
    return std::min(best[0], best[1]) >= 0.1 * total && best[0] + best[1] >= 0.4 * total;
}

// Whether a stream's first (`at_end`: last) audio, `n` samples, looks like the end (start)
// of a keypress: over its first (last) 10 ms, or over the sound it starts (ends) with when
// that is shorter, in 2.5 ms blocks at a keypress's level. Once per stream.
bool keypress_at_edge(const std::int16_t* x, std::size_t n, int rate, bool at_end) noexcept {
    const auto block = static_cast<std::size_t>(rate / 400);
    const double loud = double(block) * dbm0_to_power(kEdgeLevelDbm0);
    const std::size_t most = std::min<std::size_t>(n, 4 * block) / block * block;
    const auto at = [&](std::size_t m) { return at_end ? x + n - m - block : x + m; };
    std::size_t m = 0;
    while (m + block <= most && energy(at(m), block) >= loud) m += block;
    return keypress_like(at_end ? x + n - m : x, m, rate);
}

// Whether x[0, n) ends in a sound that starts in its last 1 ms, at a keypress's level
// (-45 dBm0 or more over that 1 ms, 20 dB and more above the 1.5 ms before it): a keypress
// whose first 1-8 samples come before a pause or a stream's end, too few to tell by their
// frequencies (2-3 samples came out at -22 to -29 dB in a sweep of pauses). A voice does not
// pause on such an onset.
bool onset_at_end(const std::int16_t* x, std::size_t n, int rate) noexcept {
    const auto last = static_cast<std::size_t>(rate / 1000), before = static_cast<std::size_t>(rate / 400) - last;
    if (n < last + before) return false;
    const double e_last = energy(x + n - last, last), e_before = energy(x + n - last - before, before);
    return e_last >= double(last) * dbm0_to_power(kEdgeLevelDbm0) && e_last / last >= 100.0 * e_before / before;
}

// Whether the first (`at_end`: last) 2.5 ms of x[0, n) are at a keypress's level (-45 dBm0
// or more).
bool loud_at_edge(const std::int16_t* x, std::size_t n, int rate, bool at_end) noexcept {
    const auto block = static_cast<std::size_t>(rate / 400);
    return n >= block && energy(at_end ? x + n - block : x, block) >= double(block) * dbm0_to_power(kEdgeLevelDbm0);
}

bool loud_anywhere(const std::int16_t* x, std::size_t n, int rate) noexcept {
    const auto block = static_cast<std::size_t>(rate / 400);
    const double loud = double(block) * dbm0_to_power(kEdgeLevelDbm0);
    for (std::size_t i = 0; i + block <= n; i += block)
        if (energy(x + i, block) >= loud) return true;
    return false;
}

}  // namespace pcifilter
