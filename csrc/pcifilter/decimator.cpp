// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/decimator.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "pcifilter/cpu_level.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PCIFILTER_HAVE_AVX2_DECIMATOR 1
#endif

namespace pcifilter {
namespace {

constexpr int kQ = 15;  // tap scale: 2^15 is a gain of 1
constexpr int kPieceOutputs = 40;  // a 5 ms piece's worth of inputs in buf_ at a time
constexpr int kMaxOutputs = kPieceOutputs + 1;

// acc[j] = Σ taps[k]·x[j·stride + k] over k < padded (a multiple of 16), for j < count:
// `count` windows, each exact in int32. Plain loops: compilers make the inner one pmaddwd
// (SSE2) in the portable build.
void fir_portable(const std::int16_t* taps, const std::int16_t* x, int padded, int stride, int count,
                  std::int32_t* acc) noexcept {
    for (int j = 0; j < count; ++j, x += stride) {
        std::int32_t a = 0;
        for (int k = 0; k < padded; ++k) a += std::int32_t(taps[k]) * std::int32_t(x[k]);
        acc[j] = a;
    }
}

#ifdef PCIFILTER_HAVE_AVX2_DECIMATOR
__attribute__((target("avx2"))) inline __m256i madd_at(__m256i acc, __m256i taps, const std::int16_t* x) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(taps, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x))));
}

// Four windows side by side (their chains overlap), reduced together with horizontal adds:
// one reduction per four outputs instead of one each.
__attribute__((target("avx2"))) void fir_avx2(const std::int16_t* taps, const std::int16_t* x, int padded,
                                              int stride, int count, std::int32_t* acc) noexcept {
    int j = 0;
    for (; j + 4 <= count; j += 4) {
        const std::int16_t* w = x + j * stride;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < padded; k += 16) {
            const __m256i t = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(taps + k));
            a0 = madd_at(a0, t, w + k);
            a1 = madd_at(a1, t, w + stride + k);
            a2 = madd_at(a2, t, w + 2 * stride + k);
            a3 = madd_at(a3, t, w + 3 * stride + k);
        }
        // hadd(hadd(a0, a1), hadd(a2, a3)): in each 128-bit half the four windows' partial
        // sums in order; the halves added give the four sums.
        const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
        const __m128i s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(acc + j), s);
    }
    fir_portable(taps, x + j * stride, padded, stride, count - j, acc + j);
}
#endif

using FirFn = void (*)(const std::int16_t*, const std::int16_t*, int, int, int, std::int32_t*) noexcept;

#ifdef PCIFILTER_HAVE_AVX2_DECIMATOR
const FirFn kFir = kernels_isa() >= BankIsa::avx2 ? fir_avx2 : fir_portable;
#else
const FirFn kFir = fir_portable;
#endif

}  // namespace

Decimator::Decimator(int input_rate) {
    if (input_rate != 16000 && input_rate != 48000)
        throw std::invalid_argument("decimator input rate must be 16000 or 48000");
    factor_ = input_rate / 8000;
    n_taps_ = 24 * factor_ + 1;
    padded_ = (n_taps_ + 15) / 16 * 16;
    const double fc = 3600.0 / input_rate;
    std::vector<double> h(static_cast<std::size_t>(n_taps_));
    double sum = 0;
    for (int i = 0; i < n_taps_; ++i) {
        const double m = i - (n_taps_ - 1) / 2.0;
        const double sinc = m == 0 ? 2 * fc : std::sin(2 * M_PI * fc * m) / (M_PI * m);
        const double win = 0.42 - 0.5 * std::cos(2 * M_PI * i / (n_taps_ - 1)) +
                           0.08 * std::cos(4 * M_PI * i / (n_taps_ - 1));
        h[static_cast<std::size_t>(i)] = sinc * win;
        sum += sinc * win;
    }
    // Q15, symmetric (one half rounded and mirrored: linear phase exactly), the centre tap
    // making the sum exactly 2^15 (a DC gain of 1).
    taps_.assign(static_cast<std::size_t>(padded_), 0);
    const int centre = (n_taps_ - 1) / 2;
    std::int32_t total = 0;
    for (int i = 0; i < centre; ++i) {
        const auto q = static_cast<std::int16_t>(std::lround(h[static_cast<std::size_t>(i)] / sum * (1 << kQ)));
        taps_[static_cast<std::size_t>(i)] = taps_[static_cast<std::size_t>(n_taps_ - 1 - i)] = q;
        total += 2 * q;
    }
    taps_[static_cast<std::size_t>(centre)] = static_cast<std::int16_t>((1 << kQ) - total);
    room_ = n_taps_ - 1 + kPieceOutputs * factor_;  // the last taps - 1 inputs and a 5 ms piece
    buf_.assign(static_cast<std::size_t>(room_ + padded_ - n_taps_), 0);
    reset();
}

void Decimator::reset() noexcept {
    std::fill(buf_.begin(), buf_.end(), std::int16_t{0});
    fill_ = n_taps_ - 1;  // silence before the first input
    phase_ = 0;
}

bool Decimator::settled() const noexcept {
    return std::all_of(buf_.begin() + (fill_ - (n_taps_ - 1)), buf_.begin() + fill_,
                       [](std::int16_t v) { return v == 0; });
}

void Decimator::skip(std::size_t n) noexcept {
    phase_ = static_cast<int>((static_cast<std::size_t>(phase_) + n) % static_cast<std::size_t>(factor_));
}

std::size_t Decimator::process(const std::int16_t* in, std::size_t n, std::int16_t* out) noexcept {
    std::size_t produced = 0;
    while (n > 0) {
        const int k = static_cast<int>(std::min<std::size_t>(n, static_cast<std::size_t>(room_ - fill_)));
        std::memcpy(buf_.data() + fill_, in, static_cast<std::size_t>(k) * sizeof(std::int16_t));
        // An output for each input that completes a group of factor_: the window of the
        // last n_taps_ inputs ending with it.
        const int first = fill_ + (factor_ - 1 - phase_);
        const int count = first < fill_ + k ? (fill_ + k - 1 - first) / factor_ + 1 : 0;
        std::int32_t acc[kMaxOutputs];
        kFir(taps_.data(), buf_.data() + first + 1 - n_taps_, padded_, factor_, count, acc);
        for (int j = 0; j < count; ++j) {
            const std::int32_t y = (acc[j] + (1 << (kQ - 1))) >> kQ;  // rounded, halves up
            out[produced++] = static_cast<std::int16_t>(std::clamp<std::int32_t>(y, -32768, 32767));
        }
        phase_ = (phase_ + k) % factor_;
        fill_ += k;
        in += k;
        n -= static_cast<std::size_t>(k);
        if (fill_ == room_) {
            std::memmove(buf_.data(), buf_.data() + fill_ - (n_taps_ - 1),
                         static_cast<std::size_t>(n_taps_ - 1) * sizeof(std::int16_t));
            fill_ = n_taps_ - 1;
        }
    }
    return produced;
}

}  // namespace pcifilter
