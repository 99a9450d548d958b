// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/correlator_bank.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PCIFILTER_HAVE_AVX2_KERNEL 1
#endif

namespace pcifilter {

namespace {

// The correlation is integer: int16 samples times a Q10 int16 basis, summed exactly in int32.
// Bounds: |x·b| ≤ 2^15·2^10, and a sub-block of at most 64 samples sums to < 2^31 for any
// input, full-scale square waves included. Integer sums are exact, so the portable and the
// AVX2 kernels give identical results on every CPU, whatever the caller's chunking.
constexpr double kBasisScale = 1024.0;

void correlate_portable(const BankTables& t, const std::int16_t* x, std::int32_t* out,
                        std::uint64_t* energy) {
    const int n = t.sub_block, padded = t.padded;
    const std::int16_t* basis = t.basis.data();
    std::uint64_t e = 0;
    for (int i = 0; i < n; ++i) e += static_cast<std::uint64_t>(std::int32_t(x[i]) * x[i]);
    *energy = e;
    for (int k = 0; k < kBankLanes; ++k) {
        const std::int16_t* b = basis + k * padded;
        std::int32_t acc = 0;
        for (int i = 0; i < n; ++i) acc += std::int32_t(x[i]) * b[i];
        out[k] = acc;
    }
}

void rotate_portable(const std::int32_t* acc, const float* a, const float* b, float* out) {
    for (int k = 0; k < kBankLanes; k += 2) {
        const float re = static_cast<float>(acc[k]), im = static_cast<float>(acc[k + 1]);
        out[k] = re * a[k] + im * b[k];
        out[k + 1] = im * a[k + 1] + re * b[k + 1];
    }
}

WindowPeaks powers3_portable(const float* s0, const float* s1, const float* s2, float* q) {
    float w[kBankLanes];
    for (int k = 0; k < kBankLanes; ++k) w[k] = s0[k] + s1[k] + s2[k];
    for (int f = 0; f < kBankMaxFreqs; ++f) q[f] = w[2 * f] * w[2 * f] + w[2 * f + 1] * w[2 * f + 1];
    int low = 0, high = 4;
    for (int f = 1; f < 4; ++f)
        if (q[f] > q[low]) low = f;
    for (int f = 5; f < 8; ++f)
        if (q[f] > q[high]) high = f;
    return {q[low], q[high], low, high};
}

#ifdef PCIFILTER_HAVE_AVX2_KERNEL
// Energy: each vpmaddwd lane sums two squares (at most 2^31), exact read as unsigned 32-bit;
// its even and odd lanes are summed in 64-bit lanes.
__attribute__((target("avx2"))) inline __m256i add_squares(__m256i e64, __m256i x) {
    const __m256i sq = _mm256_madd_epi16(x, x);
    const __m256i even = _mm256_and_si256(sq, _mm256_set1_epi64x(0xFFFFFFFF));
    return _mm256_add_epi64(e64, _mm256_add_epi64(even, _mm256_srli_epi64(sq, 32)));
}

__attribute__((target("avx2"))) inline std::uint64_t sum_lanes(__m256i e64) {
    alignas(32) std::uint64_t e4[4];
    _mm256_store_si256(reinterpret_cast<__m256i*>(e4), e64);
    return e4[0] + e4[1] + e4[2] + e4[3];
}

// Σ x² over a 40-sample sub-block, exact.
__attribute__((target("avx2"))) inline std::uint64_t energy40(const std::int16_t* x) {
    const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x));
    const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + 16));
    const __m256i x2 = _mm256_inserti128_si256(
        _mm256_setzero_si256(), _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 32)), 0);
    return sum_lanes(add_squares(add_squares(add_squares(_mm256_setzero_si256(), x0), x1), x2));
}

// Transposed reduction: 16 vectors of 8 partial sums to 16 totals.
__attribute__((target("avx2"))) inline void reduce16(const __m256i* acc, std::int32_t* out) {
    __m256i h[8], g[4];
    for (int j = 0; j < 8; ++j) h[j] = _mm256_hadd_epi32(acc[2 * j], acc[2 * j + 1]);
    for (int j = 0; j < 4; ++j) g[j] = _mm256_hadd_epi32(h[2 * j], h[2 * j + 1]);
    for (int j = 0; j < 4; j += 2) {
        const __m256i lo = _mm256_permute2x128_si256(g[j], g[j + 1], 0x20);
        const __m256i hi = _mm256_permute2x128_si256(g[j], g[j + 1], 0x31);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 4 * j), _mm256_add_epi32(lo, hi));
    }
}

// The DTMF case, 40-sample sub-blocks (5 ms at 8 kHz), exactly the sub-block read. Each pair
// of samples is broadcast and multiplied against the pair basis: one vpmaddwd gives eight
// lanes' two products summed, so the 16 sums come out in lane order with no reduction.
// Four accumulators (two per half) keep the additions off one dependency chain. Lanes 0-7
// and 8-15 are returned in `lo` and `hi`.
__attribute__((target("avx2"))) inline std::uint64_t correlate40_lanes(const BankTables& t,
                                                                      const std::int16_t* x,
                                                                      __m256i* lo, __m256i* hi) {
    const std::uint64_t energy = energy40(x);
    const auto* b = reinterpret_cast<const __m256i*>(t.pair_basis.data());  // two a pair
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    // Unrolled twice, not fully: fully unrolled, GCC computes all 40 products before
    // summing them and spills most of them to the stack; not unrolled, it copies each
    // accumulator between registers every iteration.
#pragma GCC unroll 2
    for (int p = 0; p < 20; p += 2) {
        std::int32_t two0, two1;  // samples 2p, 2p+1 and 2p+2, 2p+3 as one 32-bit word each
        std::memcpy(&two0, x + 2 * p, sizeof two0);
        std::memcpy(&two1, x + 2 * p + 2, sizeof two1);
        const __m256i v0 = _mm256_set1_epi32(two0), v1 = _mm256_set1_epi32(two1);
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(v0, _mm256_loadu_si256(b + 2 * p)));
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(v0, _mm256_loadu_si256(b + 2 * p + 1)));
        a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(v1, _mm256_loadu_si256(b + 2 * p + 2)));
        a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(v1, _mm256_loadu_si256(b + 2 * p + 3)));
    }
    *lo = _mm256_add_epi32(a0, a2);
    *hi = _mm256_add_epi32(a1, a3);
    return energy;
}

__attribute__((target("avx2"))) void correlate40_avx2(const BankTables& t, const std::int16_t* x,
                                                      std::int32_t* out, std::uint64_t* energy) {
    __m256i lo, hi;
    *energy = correlate40_lanes(t, x, &lo, &hi);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), lo);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), hi);
}

// (re, im)·a + (im, re)·b on 8 interleaved lanes: the same products and sums as the
// portable loop, in the same order, so the same floats.
__attribute__((target("avx2"))) inline __m256 rotate8(__m256i acc, const float* a, const float* b) {
    const __m256 v = _mm256_cvtepi32_ps(acc);
    const __m256 sw = _mm256_permute_ps(v, 0xB1);  // (im, re) pairs
    return _mm256_add_ps(_mm256_mul_ps(v, _mm256_loadu_ps(a)), _mm256_mul_ps(sw, _mm256_loadu_ps(b)));
}

// The 8 powers (in order) stored, and each group's strongest.
__attribute__((target("avx2"), always_inline)) inline WindowPeaks peaks8(__m256 p, float* q) {
    _mm256_storeu_ps(q, p);
    // Each group's maximum in all its lanes, then the first lane equal to it: no branches
    // (which of four bins is strongest changes at random over speech).
    const __m256 m1 = _mm256_max_ps(p, _mm256_permute_ps(p, 0xB1));
    const __m256 m2 = _mm256_max_ps(m1, _mm256_permute_ps(m1, 0x4E));
    const auto at_max = static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(p, m2, _CMP_EQ_OQ)));
    return {_mm256_cvtss_f32(m2), _mm_cvtss_f32(_mm256_extractf128_ps(m2, 1)),
            __builtin_ctz(at_max | 0x10u), 4 + __builtin_ctz((at_max >> 4) | 0x10u)};
}

// Window powers from the window's 16 summed lanes, and each group's strongest.
__attribute__((target("avx2"))) inline WindowPeaks powers_peaks(__m256 w0, __m256 w1, float* q) {
    // re² + im² pairwise: (q0 q1 q4 q5 | q2 q3 q6 q7), then into order.
    const __m256 pairs = _mm256_hadd_ps(_mm256_mul_ps(w0, w0), _mm256_mul_ps(w1, w1));
    return peaks8(_mm256_permutevar8x32_ps(pairs, _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7)), q);
}

// One sub-block's 16 sums (lanes 0-7 in `lo`, 8-15 in `hi`) rotated onto the absolute phase,
// into `out` and `c`, and the window (prev2 + prev1) + c: its powers into `q`, its peaks
// returned. rotate_avx2 and powers3_portable's operations in their order: the same floats.
__attribute__((target("avx2"), always_inline)) inline WindowPeaks window8x2(
    const BankTables& t, __m256i lo, __m256i hi, std::size_t rot, const __m256* prev2,
    const __m256* prev1, SubBlock* out, __m256* c, float* q) {
    c[0] = rotate8(lo, t.rot_a.data() + rot, t.rot_b.data() + rot);
    c[1] = rotate8(hi, t.rot_a.data() + rot + 8, t.rot_b.data() + rot + 8);
    auto* corr = reinterpret_cast<float*>(out->corr.data());
    _mm256_storeu_ps(corr, c[0]);
    _mm256_storeu_ps(corr + 8, c[1]);
    const __m256 w0 = _mm256_add_ps(_mm256_add_ps(prev2[0], prev1[0]), c[0]);
    const __m256 w1 = _mm256_add_ps(_mm256_add_ps(prev2[1], prev1[1]), c[1]);
    return powers_peaks(w0, w1, q);
}

// A sub-block's 16 lanes as two registers.
__attribute__((target("avx2"), always_inline)) inline void load8x2(const SubBlock& b, __m256* v) {
    const auto* f = reinterpret_cast<const float*>(b.corr.data());
    v[0] = _mm256_loadu_ps(f);
    v[1] = _mm256_loadu_ps(f + 8);
}

// correlate40_avx2 and window8x2 in one pass, kept in registers.
__attribute__((target("avx2"))) WindowPeaks fused40_avx2(const BankTables& t, const std::int16_t* x,
                                                        std::size_t rot, const SubBlock& first,
                                                        const SubBlock& second, SubBlock* out, float* q) {
    __m256i lo, hi;
    const std::uint64_t energy = correlate40_lanes(t, x, &lo, &hi);
    out->energy = static_cast<float>(static_cast<std::int64_t>(energy));  // < 2^37: the same value
    __m256 prev2[2], prev1[2], c[2];
    load8x2(first, prev2);
    load8x2(second, prev1);
    return window8x2(t, lo, hi, rot, prev2, prev1, out, c, q);
}

// The rotation and windows of four sub-blocks from their 16 sums each, as fused40_avx2 does
// them (the same floats): for the 256-bit VNNI passes, not inlined into them (their targets
// have FMA).
__attribute__((target("avx2"), noinline)) void finish40x4_avx2(
    const BankTables& t, const std::int32_t (*sums)[kBankLanes], const std::uint64_t* energy,
    const std::size_t* rot, const SubBlock& first, const SubBlock& second, SubBlock* out,
    WindowPeaks* peaks, float* q) {
    __m256 prev2[2], prev1[2], c[2];
    load8x2(first, prev2);
    load8x2(second, prev1);
    for (int k = 0; k < 4; ++k) {
        out[k].energy = static_cast<float>(static_cast<std::int64_t>(energy[k]));  // < 2^37
        const auto* acc = reinterpret_cast<const __m256i*>(sums[k]);
        peaks[k] = window8x2(t, _mm256_loadu_si256(acc), _mm256_loadu_si256(acc + 1), rot[k], prev2,
                             prev1, out + k, c, q + 8 * k);
        std::copy(prev1, prev1 + 2, prev2);
        std::copy(c, c + 2, prev1);
    }
}

// Four sub-blocks' sums (lanes 0-7 and 8-15 each) and energies handed to finish40x4_avx2.
__attribute__((target("avx2"), always_inline)) inline void finish_sums4(
    const BankTables& t, const std::int16_t* x, const __m256i (*sums)[2], const std::size_t* rot,
    const SubBlock& first, const SubBlock& second, SubBlock* out, WindowPeaks* peaks, float* q) {
    alignas(32) std::int32_t lanes[4][kBankLanes];
    std::uint64_t energy[4];
    for (int k = 0; k < 4; ++k) {
        _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[k]), sums[k][0]);
        _mm256_store_si256(reinterpret_cast<__m256i*>(lanes[k] + 8), sums[k][1]);
        energy[k] = energy40(x + 40 * k);
    }
    finish40x4_avx2(t, lanes, energy, rot, first, second, out, peaks, q);
}

// The four-sub-block pass with AVX-VNNI (VEX-encoded vpdpwssd on 256-bit registers: Intel
// cores without AVX-512). Two instructions a sample pair (lanes 0-7, 8-15), one accumulator
// each: the 16 registers hold the eight, the pair's basis and the samples. The loop is
// fused40x4_vnni_ymm's with the other encoding's intrinsic and half its accumulators (that
// one has 32 registers); a body specific to a target cannot be shared by inlining (GCC
// inlines only into callers whose target includes the callee's), so it is written twice.
__attribute__((target("avx2,avxvnni"))) void fused40x4_avxvnni(
    const BankTables& t, const std::int16_t* x, const std::size_t* rot, const SubBlock& first,
    const SubBlock& second, SubBlock* out, WindowPeaks* peaks, float* q) {
    const auto* b = reinterpret_cast<const __m256i*>(t.pair_basis.data());  // two a pair
    __m256i sums[4][2];  // sub-block, lanes 0-7 / 8-15
    for (auto& blk : sums) blk[0] = blk[1] = _mm256_setzero_si256();
#pragma GCC unroll 20
    for (int p = 0; p < 20; ++p) {
        const __m256i lo = _mm256_load_si256(b + 2 * p), hi = _mm256_load_si256(b + 2 * p + 1);
        for (int k = 0; k < 4; ++k) {
            std::int32_t two;  // sub-block k's samples 2p and 2p+1 as one 32-bit word
            std::memcpy(&two, x + 40 * k + 2 * p, sizeof two);
            const __m256i v = _mm256_set1_epi32(two);
            sums[k][0] = _mm256_dpwssd_avx_epi32(sums[k][0], v, lo);
            sums[k][1] = _mm256_dpwssd_avx_epi32(sums[k][1], v, hi);
        }
    }
    finish_sums4(t, x, sums, rot, first, second, out, peaks, q);
}

// GCC 12's AVX-512 intrinsics warn of their own `_mm512_undefined` operands (GCC bug 105593,
// fixed in GCC 13): quiet for these kernels only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#define PCIFILTER_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
// AVX-512 VNNI: vpdpwssd multiplies and adds in one instruction, and one 512-bit register
// holds all 16 lanes: each sample pair is one instruction against its 64-byte row of the
// pair basis (the AVX2 kernel needs two multiplies and two additions, on half the lanes).
// Four accumulators keep the additions five deep. The same exact integer sums (|basis| <=
// 1024: nothing wraps), the energy as the AVX2 kernel sums it. Measured on this project's
// VM (AVX-512 VNNI): the fused pass about a quarter faster than with AVX2, detect+mask about
// a tenth (bench/RESULTS.md, "Thirtieth session").
PCIFILTER_VNNI inline std::uint64_t correlate40_vnni_sums(const BankTables& t,
                                                      const std::int16_t* x, __m512i* sums) {
    const std::uint64_t energy = energy40(x);
    const auto* b = reinterpret_cast<const __m512i*>(t.pair_basis.data());
    __m512i a[4] = {_mm512_setzero_si512(), _mm512_setzero_si512(), _mm512_setzero_si512(),
                    _mm512_setzero_si512()};
#pragma GCC unroll 20
    for (int p = 0; p < 20; ++p) {
        std::int32_t two;  // samples 2p and 2p+1 as one 32-bit word
        std::memcpy(&two, x + 2 * p, sizeof two);
        a[p & 3] = _mm512_dpwssd_epi32(a[p & 3], _mm512_set1_epi32(two), _mm512_load_si512(b + p));
    }
    *sums = _mm512_add_epi32(_mm512_add_epi32(a[0], a[1]), _mm512_add_epi32(a[2], a[3]));
    return energy;
}

PCIFILTER_VNNI void correlate40_vnni(const BankTables& t, const std::int16_t* x, std::int32_t* out,
                                    std::uint64_t* energy) {
    __m512i sums;
    *energy = correlate40_vnni_sums(t, x, &sums);
    _mm512_storeu_si512(out, sums);
}

// window8x2 on all 16 lanes at once: the sums rotated into `out`, the window (prev2 + prev1)
// + new, its powers into `q` and peaks into `peak`; returns the rotated lanes. The same
// operations in the same order, so the same floats. Products by _mm512_mul_round_ps (round to
// nearest, as _mm512_mul_ps): the target enables FMA, and a compiler allowed to contract
// (GCC's default outside ISO C) would fuse a plain product with the sum after it, rounding
// once instead of twice.
PCIFILTER_VNNI inline __m512 window16(const BankTables& t, __m512i sums, std::size_t rot,
                                      __m512 prev2, __m512 prev1, SubBlock* out, float* q,
                                      WindowPeaks* peak) {
    constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    const __m512 v = _mm512_cvtepi32_ps(sums);
    const __m512 c = _mm512_add_ps(
        _mm512_mul_round_ps(v, _mm512_loadu_ps(t.rot_a.data() + rot), kNearest),
        _mm512_mul_round_ps(_mm512_permute_ps(v, 0xB1),  // (im, re) pairs
                            _mm512_loadu_ps(t.rot_b.data() + rot), kNearest));
    _mm512_storeu_ps(reinterpret_cast<float*>(out->corr.data()), c);
    const __m512 w = _mm512_add_ps(_mm512_add_ps(prev2, prev1), c);
    const __m512 sq = _mm512_mul_round_ps(w, w, kNearest);
    // re² + im² in each even lane (a + b == b + a exactly), then the even lanes, in order.
    const __m512 pairs = _mm512_add_ps(sq, _mm512_permute_ps(sq, 0xB1));
    *peak = peaks8(_mm256_castsi256_ps(_mm512_cvtepi64_epi32(_mm512_castps_si512(pairs))), q);
    return c;
}

PCIFILTER_VNNI inline __m512 load16(const SubBlock& b) {
    return _mm512_loadu_ps(reinterpret_cast<const float*>(b.corr.data()));
}

// correlate40_vnni and window16 in one pass.
PCIFILTER_VNNI WindowPeaks fused40_vnni(const BankTables& t, const std::int16_t* x, std::size_t rot,
                                        const SubBlock& first, const SubBlock& second,
                                        SubBlock* out, float* q) {
    __m512i sums;
    const std::uint64_t energy = correlate40_vnni_sums(t, x, &sums);
    out->energy = static_cast<float>(static_cast<std::int64_t>(energy));  // < 2^37: the same value
    WindowPeaks peak;
    window16(t, sums, rot, load16(first), load16(second), out, q, &peak);
    return peak;
}

// Four consecutive sub-blocks and the windows they end in one pass: their sums are
// independent chains run side by side, then each is finished as fused40_vnni finishes it
// (window16), the windows running on from `first`, `second`.
PCIFILTER_VNNI void fused40x4_vnni(const BankTables& t, const std::int16_t* x, const std::size_t* rot,
                                   const SubBlock& first, const SubBlock& second, SubBlock* out,
                                   WindowPeaks* peaks, float* q) {
    const auto* b = reinterpret_cast<const __m512i*>(t.pair_basis.data());
    __m512i a[4][2];
    for (auto& blk : a) blk[0] = blk[1] = _mm512_setzero_si512();
#pragma GCC unroll 20
    for (int p = 0; p < 20; ++p) {
        const __m512i basis = _mm512_load_si512(b + p);
        for (int k = 0; k < 4; ++k) {
            std::int32_t two;  // sub-block k's samples 2p and 2p+1 as one 32-bit word
            std::memcpy(&two, x + 40 * k + 2 * p, sizeof two);
            a[k][p & 1] = _mm512_dpwssd_epi32(a[k][p & 1], _mm512_set1_epi32(two), basis);
        }
    }
    __m512 prev2 = load16(first), prev1 = load16(second);
    for (int k = 0; k < 4; ++k) {
        out[k].energy = static_cast<float>(static_cast<std::int64_t>(energy40(x + 40 * k)));
        // (a0 + a1) as fused40_vnni sums ((a0 + a1) + (a2 + a3)): integer sums, exact in any order.
        const __m512 c = window16(t, _mm512_add_epi32(a[k][0], a[k][1]), rot[k], prev2, prev1,
                                  out + k, q + 8 * k, peaks + k);
        prev2 = prev1;
        prev1 = c;
    }
}

// fused40x4_vnni on 256-bit registers only (BankIsa::avx512vnni_ymm): two vpdpwssd a sample
// pair (lanes 0-7, 8-15), two accumulators each (32 registers with AVX-512VL), the rotation
// and windows then as fused40_avx2 does them, in an AVX2 function not inlined here (so no
// FMA can fuse its products, whatever the compiler flags). About 5 % slower than the 512-bit
// pass on this project's Xeon (bench/RESULTS.md, "Thirtieth session").
PCIFILTER_VNNI void fused40x4_vnni_ymm(const BankTables& t, const std::int16_t* x,
                                       const std::size_t* rot, const SubBlock& first,
                                       const SubBlock& second, SubBlock* out, WindowPeaks* peaks,
                                       float* q) {
    const auto* b = reinterpret_cast<const __m256i*>(t.pair_basis.data());  // two a pair
    __m256i a[4][2][2];  // sub-block, lanes 0-7 / 8-15, even / odd pairs
    for (auto& blk : a)
        for (auto& half : blk) half[0] = half[1] = _mm256_setzero_si256();
#pragma GCC unroll 20
    for (int p = 0; p < 20; ++p) {
        const __m256i lo = _mm256_load_si256(b + 2 * p), hi = _mm256_load_si256(b + 2 * p + 1);
        for (int k = 0; k < 4; ++k) {
            std::int32_t two;  // sub-block k's samples 2p and 2p+1 as one 32-bit word
            std::memcpy(&two, x + 40 * k + 2 * p, sizeof two);
            const __m256i v = _mm256_set1_epi32(two);
            a[k][0][p & 1] = _mm256_dpwssd_epi32(a[k][0][p & 1], v, lo);
            a[k][1][p & 1] = _mm256_dpwssd_epi32(a[k][1][p & 1], v, hi);
        }
    }
    const __m256i sums[4][2] = {
        {_mm256_add_epi32(a[0][0][0], a[0][0][1]), _mm256_add_epi32(a[0][1][0], a[0][1][1])},
        {_mm256_add_epi32(a[1][0][0], a[1][0][1]), _mm256_add_epi32(a[1][1][0], a[1][1][1])},
        {_mm256_add_epi32(a[2][0][0], a[2][0][1]), _mm256_add_epi32(a[2][1][0], a[2][1][1])},
        {_mm256_add_epi32(a[3][0][0], a[3][0][1]), _mm256_add_epi32(a[3][1][0], a[3][1][1])}};
    finish_sums4(t, x, sums, rot, first, second, out, peaks, q);
}

#undef PCIFILTER_VNNI
#pragma GCC diagnostic pop

// (re, im)·a + (im, re)·b on 16 interleaved lanes: the same products and sums as the
// portable loop, in the same order, so the same floats.
__attribute__((target("avx2"))) void rotate_avx2(const std::int32_t* acc, const float* a,
                                                 const float* b, float* out) {
    for (int k = 0; k < kBankLanes; k += 8)
        _mm256_storeu_ps(out + k, rotate8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + k)),
                                          a + k, b + k));
}

// Any sub-block length: 16 products per vpmaddwd; one load of the samples serves all 16
// lanes. Reads `padded` samples.
__attribute__((target("avx2"))) void correlate_avx2(const BankTables& t, const std::int16_t* x,
                                                    std::int32_t* out, std::uint64_t* energy) {
    const int padded = t.padded;
    const std::int16_t* basis = t.basis.data();
    __m256i e64 = _mm256_setzero_si256();
    for (int c = 0; c < padded; c += 16)
        e64 = add_squares(e64, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c)));
    *energy = sum_lanes(e64);
    // Eight lanes per pass: 8 accumulators, the samples and a basis vector fit the 16 ymm
    // registers (all 16 lanes at once would spill).
    __m256i acc[kBankLanes];
    for (int half = 0; half < kBankLanes; half += 8) {
        __m256i a[8];
        for (__m256i& v : a) v = _mm256_setzero_si256();
        for (int c = 0; c < padded; c += 16) {
            const __m256i xv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + c));
            for (int k = 0; k < 8; ++k) {
                const __m256i b = _mm256_loadu_si256(
                    reinterpret_cast<const __m256i*>(basis + (half + k) * padded + c));
                a[k] = _mm256_add_epi32(a[k], _mm256_madd_epi16(xv, b));
            }
        }
        for (int k = 0; k < 8; ++k) acc[half + k] = a[k];
    }
    reduce16(acc, out);
}
#endif

}  // namespace

BankTables::BankTables(const std::vector<double>& freqs_hz, int sub_block_, double sample_rate,
                       BankIsa widest)
    : isa(widest),
      n_freqs(static_cast<int>(freqs_hz.size())),
      sub_block(sub_block_) {
    if (freqs_hz.empty() || freqs_hz.size() > kBankMaxFreqs)
        throw std::invalid_argument("correlator bank takes 1 to 8 frequencies");
    if (sub_block < 8 || sub_block > kMaxSubBlock || sub_block % 8 != 0)
        throw std::invalid_argument("sub_block must be a multiple of 8 within [8, 64]");
    padded = (sub_block + 15) / 16 * 16;
    isa = usable_bank_isa(isa);
    basis.assign(static_cast<std::size_t>(padded) * kBankLanes, 0);
    kernel = exact_kernel = correlate_portable;
    rotate = rotate_portable;
    powers3 = powers3_portable;
#ifdef PCIFILTER_HAVE_AVX2_KERNEL
    if (isa >= BankIsa::avx2) {
        const bool zmm = isa == BankIsa::avx512vnni;  // 512-bit registers
        kernel = sub_block == 40 ? (zmm ? correlate40_vnni : correlate40_avx2) : correlate_avx2;
        if (sub_block == 40) exact_kernel = kernel;
        const bool dtmf = sub_block == 40 && n_freqs == kBankMaxFreqs;
        if (dtmf) fused = zmm ? fused40_vnni : fused40_avx2;
        // Four sub-blocks in one pass: measured faster with VNNI, not with AVX2 alone (more
        // instructions for no time gained; bench/RESULTS.md, "Thirtieth session").
        if (dtmf && isa == BankIsa::avxvnni) fused4 = fused40x4_avxvnni;
        if (dtmf && isa >= BankIsa::avx512vnni_ymm) fused4 = zmm ? fused40x4_vnni : fused40x4_vnni_ymm;
        rotate = rotate_avx2;  // powers3 stays portable: with AVX2, `fused` does its work
    }
#endif
    step_re.fill(1.0);
    step_im.fill(0.0);
    for (int k = 0; k < n_freqs; ++k) {
        const double w = 2.0 * M_PI * freqs_hz[static_cast<std::size_t>(k)] / sample_rate;
        for (int n = 0; n < sub_block; ++n) {
            const auto at = [&](int lane) { return static_cast<std::size_t>(lane * padded + n); };
            basis[at(2 * k)] = static_cast<std::int16_t>(std::lround(kBasisScale * std::cos(w * n)));
            basis[at(2 * k + 1)] = static_cast<std::int16_t>(std::lround(-kBasisScale * std::sin(w * n)));
        }
        step_re[static_cast<std::size_t>(k)] = std::cos(w * sub_block);
        step_im[static_cast<std::size_t>(k)] = -std::sin(w * sub_block);
    }
    pair_basis.assign(static_cast<std::size_t>(sub_block / 2), PairLanes{});
    for (int p = 0; p < sub_block / 2; ++p)
        for (int lane = 0; lane < kBankLanes; ++lane)
            for (int j = 0; j < 2; ++j)
                pair_basis[static_cast<std::size_t>(p)].v[lane * 2 + j] =
                    basis[static_cast<std::size_t>(lane * padded + 2 * p + j)];
    // When every frequency turns a whole number of times in P sub-blocks (DTMF at 8 kHz with
    // S = 40: f·S/fs = f/200, so P = 200), the absolute phase reference repeats: tabulate it
    // (scaled back from Q10) instead of running a recurrence.
    for (int p = 1; p <= kMaxPeriod && period == 0; ++p) {
        bool whole = true;
        for (double f : freqs_hz) {
            const double turns = f * sub_block * p / sample_rate;
            whole = whole && std::fabs(turns - std::round(turns)) < 1e-9;
        }
        if (whole) period = p;
    }
    if (period > 0) {
        rot_a.assign(static_cast<std::size_t>(period) * kBankLanes, 0.0f);
        rot_b.assign(static_cast<std::size_t>(period) * kBankLanes, 0.0f);
        for (int b = 0; b < period; ++b)
            for (int k = 0; k < n_freqs; ++k) {
                const double a = -2.0 * M_PI * freqs_hz[static_cast<std::size_t>(k)] / sample_rate *
                                 double(sub_block) * b;
                const auto at = static_cast<std::size_t>(b * kBankLanes + 2 * k);
                const auto c = static_cast<float>(std::cos(a) / kBasisScale);
                const auto s = static_cast<float>(std::sin(a) / kBasisScale);
                rot_a[at] = rot_a[at + 1] = c;
                rot_b[at] = -s;
                rot_b[at + 1] = s;
            }
    }
}

CorrelatorBank::CorrelatorBank(std::shared_ptr<const BankTables> tables, bool buffered)
    : tables_(std::move(tables)), buf_(buffered ? static_cast<std::size_t>(tables_->padded) : 0, 0) {
    reset();
}

void CorrelatorBank::reset() noexcept {
    fill_ = 0;
    ready_ = false;
    blocks_done_ = 0;
    phase_index_ = 0;
    phasor_re_.fill(1.0);
    phasor_im_.fill(0.0);
    last_ = SubBlock{};
}

void CorrelatorBank::skip_blocks(std::int64_t k) noexcept {
    blocks_done_ += k;
    if (tables_->period > 0) {
        phase_index_ = static_cast<int>((phase_index_ + k % tables_->period) % tables_->period);
        return;
    }
    // The recurrence, stepped as finish_block steps it (so the same phase reference
    // afterwards): k steps of a few multiplications, against k correlations.
    for (int f = 0; f < tables_->n_freqs; ++f)
        for (std::int64_t i = 0; i < k; ++i) step_phasor(static_cast<std::size_t>(f));
}

void CorrelatorBank::step_phasor(std::size_t k) noexcept {
    // One sub-block on: the phasor times e^{-jωS}, then one Newton step towards |phasor| = 1
    // keeps the recurrence on the unit circle.
    const double pr = phasor_re_[k], pi = phasor_im_[k];
    const double sr = tables_->step_re[k], si = tables_->step_im[k];
    const double nr = pr * sr - pi * si, ni = pr * si + pi * sr;
    const double g = 1.5 - 0.5 * (nr * nr + ni * ni);
    phasor_re_[k] = nr * g;
    phasor_im_[k] = ni * g;
}

std::size_t CorrelatorBank::feed(const std::int16_t* x, std::size_t n, SubBlock* out) noexcept {
    const int S = tables_->sub_block;
    const std::size_t take = std::min<std::size_t>(n, static_cast<std::size_t>(S - fill_));
    std::memcpy(buf_.data() + fill_, x, take * sizeof(std::int16_t));
    fill_ += static_cast<int>(take);
    ready_ = fill_ == S;
    if (ready_) {
        std::int32_t acc[kBankLanes];
        std::uint64_t energy = 0;
        tables_->kernel(*tables_, buf_.data(), acc, &energy);
        finish_block(acc, energy, out);
        fill_ = 0;
    }
    return take;
}

void CorrelatorBank::block(const std::int16_t* x, SubBlock* out) noexcept {
    std::int32_t acc[kBankLanes];
    std::uint64_t energy = 0;
    tables_->exact_kernel(*tables_, x, acc, &energy);
    finish_block(acc, energy, out);
    ready_ = true;
}

void CorrelatorBank::finish_block(const std::int32_t* acc, std::uint64_t energy, SubBlock* out) noexcept {
    out->energy = static_cast<float>(energy);
    if (tables_->period > 0) {
        const std::size_t at = next_phase();
        tables_->rotate(acc, tables_->rot_a.data() + at, tables_->rot_b.data() + at,
                        reinterpret_cast<float*>(out->corr.data()));
    } else {
        rotate_by_recurrence(acc, out);
    }
    ++blocks_done_;
}

void CorrelatorBank::rotate_by_recurrence(const std::int32_t* acc, SubBlock* out) noexcept {
    // Rotate each sum onto the absolute phase reference, then advance the reference.
    // Written out by hand: std::complex's operator* calls __muldc3 (NaN handling).
    for (int k = 0; k < tables_->n_freqs; ++k) {
        const auto kk = static_cast<std::size_t>(k);
        const double re = acc[2 * kk] / kBasisScale, im = acc[2 * kk + 1] / kBasisScale;
        const double pr = phasor_re_[kk], pi = phasor_im_[kk];
        out->corr[kk] = {static_cast<float>(re * pr - im * pi), static_cast<float>(re * pi + im * pr)};
        step_phasor(kk);
    }
}

}  // namespace pcifilter
