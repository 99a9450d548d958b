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

constexpr int kQ = 15;             // tap scale: 2^15 is a gain of 1
constexpr int kPieceOutputs = 40;  // a 5 ms piece's worth of inputs in buf_ at a time

// One output from its exact sum: rounded (halves up), saturated to int16.
std::int16_t to_sample(std::int32_t acc) noexcept {
    return static_cast<std::int16_t>(std::clamp<std::int32_t>((acc + (1 << (kQ - 1))) >> kQ, -32768, 32767));
}

// out[j] from Σ taps[k]·x[j·stride + k] over k < padded (a multiple of 32), for j < count:
// `count` windows, each summed exactly in int32. Plain loops: compilers make the inner one
// pmaddwd (SSE2) in the portable build.
void fir_portable(const std::int16_t* taps, const std::int16_t* x, int padded, int stride, int count,
                  std::int16_t* out) noexcept {
    for (int j = 0; j < count; ++j, x += stride) {
        std::int32_t a = 0;
        for (int k = 0; k < padded; ++k) a += std::int32_t(taps[k]) * std::int32_t(x[k]);
        out[j] = to_sample(a);
    }
}

#ifdef PCIFILTER_HAVE_AVX2_DECIMATOR
// The vector kernels take four windows side by side (their chains overlap) and finish them
// together: horizontal adds give the four sums in one register, then the rounding, the
// shift and a saturating pack (the clamp) make the four samples.
__attribute__((target("avx2"))) inline void finish4(__m256i a0, __m256i a1, __m256i a2, __m256i a3,
                                                   std::int16_t* out) {
    // hadd(hadd(a0, a1), hadd(a2, a3)): in each 128-bit half the four windows' partial
    // sums in order; the halves added give the four sums.
    const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1), _mm256_hadd_epi32(a2, a3));
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    s = _mm_srai_epi32(_mm_add_epi32(s, _mm_set1_epi32(1 << (kQ - 1))), kQ);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packs_epi32(s, s));
}

__attribute__((target("avx2"))) inline __m256i madd_at(__m256i acc, __m256i taps, const std::int16_t* x) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(taps, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x))));
}

__attribute__((target("avx2"))) void fir_avx2(const std::int16_t* taps, const std::int16_t* x, int padded,
                                              int stride, int count, std::int16_t* out) noexcept {
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
        finish4(a0, a1, a2, a3, out + j);
    }
    fir_portable(taps, x + j * stride, padded, stride, count - j, out + j);
}

// AVX-512 VNNI (level avx512vnni: 512-bit registers where they do not lower the clock):
// 32 taps an instruction, multiplied and added by vpdpwssd; the four 512-bit sums folded to
// 256 bits (exact: integer) and finished as above. GCC 12's AVX-512 intrinsics warn of their
// own `_mm512_undefined` operands (GCC bug 105593, fixed in GCC 13): quiet here only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define PCIFILTER_VNNI_TARGET "avx2,avx512f,avx512bw,avx512vl,avx512vnni"
__attribute__((target(PCIFILTER_VNNI_TARGET))) inline __m256i fold(__m512i a) {
    return _mm256_add_epi32(_mm512_castsi512_si256(a), _mm512_extracti64x4_epi64(a, 1));
}

__attribute__((target(PCIFILTER_VNNI_TARGET))) void fir_vnni(const std::int16_t* taps, const std::int16_t* x,
                                                             int padded, int stride, int count,
                                                             std::int16_t* out) noexcept {
    int j = 0;
    for (; j + 4 <= count; j += 4) {
        const std::int16_t* w = x + j * stride;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
        for (int k = 0; k < padded; k += 32) {
            const __m512i t = _mm512_loadu_si512(taps + k);
            a0 = _mm512_dpwssd_epi32(a0, t, _mm512_loadu_si512(w + k));
            a1 = _mm512_dpwssd_epi32(a1, t, _mm512_loadu_si512(w + stride + k));
            a2 = _mm512_dpwssd_epi32(a2, t, _mm512_loadu_si512(w + 2 * stride + k));
            a3 = _mm512_dpwssd_epi32(a3, t, _mm512_loadu_si512(w + 3 * stride + k));
        }
        finish4(fold(a0), fold(a1), fold(a2), fold(a3), out + j);
    }
    fir_portable(taps, x + j * stride, padded, stride, count - j, out + j);
}
#undef PCIFILTER_VNNI_TARGET
#pragma GCC diagnostic pop
#endif

using FirFn = void (*)(const std::int16_t*, const std::int16_t*, int, int, int, std::int16_t*) noexcept;

FirFn pick_fir() noexcept {
#ifdef PCIFILTER_HAVE_AVX2_DECIMATOR
    const BankIsa isa = kernels_isa();
    if (isa == BankIsa::avx512vnni) return fir_vnni;
    if (isa >= BankIsa::avx2) return fir_avx2;
#endif
    return fir_portable;
}

const FirFn kFir = pick_fir();

}  // namespace

Decimator::Decimator(int input_rate) {
    if (input_rate != 16000 && input_rate != 48000)
        throw std::invalid_argument("decimator input rate must be 16000 or 48000");
    factor_ = input_rate / 8000;
    n_taps_ = 24 * factor_ + 1;
    padded_ = (n_taps_ + 31) / 32 * 32;
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
        kFir(taps_.data(), buf_.data() + first + 1 - n_taps_, padded_, factor_, count, out + produced);
        produced += static_cast<std::size_t>(count);
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
