// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/g711.hpp"

#include <array>
#include "pcifilter/cpu_level.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define PCIFILTER_HAVE_AVX2_G711 1
#endif

namespace pcifilter {
namespace {

// G.711 Table 2 (µ-law): sign bit set means positive, bits inverted on the line.
constexpr std::int16_t ulaw_expand(std::uint8_t y) {
    const int inverted = (~y) & 0xFF;
    const int exponent = (inverted >> 4) & 0x07;
    const int mantissa = inverted & 0x0F;
    const int step = 4 << (exponent + 1);
    const int magnitude = (0x80 << exponent) + step * mantissa + step / 2 - 4 * 33;
    return static_cast<std::int16_t>(y < 0x80 ? -magnitude : magnitude);
}

// G.711 Table 1 (A-law): even bits inverted on the line (XOR 0x55).
constexpr std::int16_t alaw_expand(std::uint8_t y) {
    const int ix = y ^ 0x55;
    const int exponent = (ix & 0x70) >> 4;
    int mantissa = ix & 0x0F;
    if (exponent > 0) mantissa += 16;
    mantissa = (mantissa << 4) + 0x08;
    if (exponent > 1) mantissa <<= (exponent - 1);
    return static_cast<std::int16_t>(ix > 127 ? mantissa : -mantissa);
}

template <std::int16_t (*F)(std::uint8_t)>
constexpr std::array<std::int16_t, 256> make_table() {
    std::array<std::int16_t, 256> t{};
    for (int i = 0; i < 256; ++i) t[static_cast<std::size_t>(i)] = F(static_cast<std::uint8_t>(i));
    return t;
}

constexpr auto kUlawTable = make_table<ulaw_expand>();
constexpr auto kAlawTable = make_table<alaw_expand>();

constexpr std::uint8_t ulaw_compress(std::int16_t x) {
    // 14-bit magnitude plus the µ-law bias of 33 (G.191 ulaw_compress).
    unsigned absno = x < 0 ? static_cast<unsigned>((~x) >> 2) + 33u : static_cast<unsigned>(x >> 2) + 33u;
    if (absno > 0x1FFF) absno = 0x1FFF;
    const unsigned top = absno >> 6;
    const int segno = (top == 0 ? 0 : 32 - __builtin_clz(top)) + 1;  // its bit length, plus one
    const unsigned high = static_cast<unsigned>(8 - segno);
    const unsigned low = 0x0F - ((absno >> segno) & 0x0F);
    unsigned y = (high << 4) | low;
    if (x >= 0) y |= 0x80;
    return static_cast<std::uint8_t>(y);
}

constexpr std::uint8_t alaw_compress(std::int16_t x) {
    // 12-bit magnitude (G.191 alaw_compress).
    unsigned ix = x < 0 ? static_cast<unsigned>((~x) >> 4) : static_cast<unsigned>(x >> 4);
    if (ix > 15) {
        unsigned iexp = 1;
        while (ix > 16 + 15) {
            ix >>= 1;
            ++iexp;
        }
        ix -= 16;
        ix += iexp << 4;
    }
    if (x >= 0) ix |= 0x80;
    return static_cast<std::uint8_t>(ix ^ 0x55);
}

// Encoding tables: µ-law depends only on x >> 2 (14 bits), A-law on x >> 4 (12 bits), the
// one's-complement folding of negative inputs included. Made from the functions above at
// compile time; a lookup per sample instead of a segment search.
template <std::size_t N, int Shift, std::uint8_t (*F)(std::int16_t)>
constexpr std::array<std::uint8_t, N> make_encode_table() {
    std::array<std::uint8_t, N> t{};
    for (std::size_t i = 0; i < N; ++i)
        t[i] = F(static_cast<std::int16_t>((static_cast<int>(i) - static_cast<int>(N / 2)) * (1 << Shift)));
    return t;
}

constexpr auto kUlawEncode = make_encode_table<16384, 2, ulaw_compress>();
constexpr auto kAlawEncode = make_encode_table<4096, 4, alaw_compress>();

}  // namespace

std::uint8_t linear_to_ulaw(std::int16_t x) noexcept { return kUlawEncode[(x >> 2) + 8192]; }
std::uint8_t linear_to_alaw(std::int16_t x) noexcept { return kAlawEncode[(x >> 4) + 2048]; }

std::int16_t ulaw_to_linear(std::uint8_t code) noexcept { return kUlawTable[code]; }
std::int16_t alaw_to_linear(std::uint8_t code) noexcept { return kAlawTable[code]; }

void encode_ulaw(const std::int16_t* in, std::uint8_t* out, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) out[i] = linear_to_ulaw(in[i]);
}
void encode_alaw(const std::int16_t* in, std::uint8_t* out, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) out[i] = linear_to_alaw(in[i]);
}
namespace {

using DecodeFn = void (*)(const std::uint8_t*, std::int16_t*, std::size_t);

void decode_ulaw_table(const std::uint8_t* in, std::int16_t* out, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) out[i] = kUlawTable[in[i]];
}
void decode_alaw_table(const std::uint8_t* in, std::int16_t* out, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) out[i] = kAlawTable[in[i]];
}

#ifdef PCIFILTER_HAVE_AVX2_G711
// Every packet is decoded for the detector: 16 codes at a time, computed rather than looked
// up (the table costs a load and a store per sample). The same values as the tables, checked
// for every code (csrc/tests/test_g711.cpp): with e the exponent and m the mantissa,
// µ-law |x| = ((8m + 0x84) << e) - 0x84 and A-law |x| = (16m + 8 + (e > 0 ? 0x100 : 0))
// << max(e - 1, 0); the shift is a 16-bit multiply by 2^k from a byte shuffle (k <= 7, so
// the products stay below 2^15).
__attribute__((target("avx2"))) inline __m256i pow2_of(__m256i k, __m256i table) {
    // Index bytes: k in each lane's low byte, 0x80 in its high byte (shuffled to zero).
    return _mm256_shuffle_epi8(table, _mm256_or_si256(k, _mm256_set1_epi16(static_cast<short>(0x8000))));
}

__attribute__((target("avx2"))) inline __m256i apply_sign(__m256i mag, __m256i negative) {
    return _mm256_sub_epi16(_mm256_xor_si256(mag, negative), negative);
}

// 16 codes widened to 16-bit lanes, with the line's bit inversion (`flip`) undone: the
// exponent (bits 4-6) and mantissa (bits 0-3) of each, and whether its sign bit is clear.
struct Codes {
    __m256i exponent, mantissa, sign_clear;
};
__attribute__((target("avx2"))) inline Codes load_codes(const std::uint8_t* in, short flip) {
    const __m256i y = _mm256_xor_si256(
        _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in))), _mm256_set1_epi16(flip));
    return {_mm256_and_si256(_mm256_srli_epi16(y, 4), _mm256_set1_epi16(7)),
            _mm256_and_si256(y, _mm256_set1_epi16(0x0F)), _mm256_cmpgt_epi16(_mm256_set1_epi16(0x80), y)};
}

__attribute__((target("avx2"))) void decode_ulaw_avx2(const std::uint8_t* in, std::int16_t* out,
                                                      std::size_t n) noexcept {
    const __m256i pow2 = _mm256_setr_epi8(1, 2, 4, 8, 16, 32, 64, static_cast<char>(128), 0, 0, 0, 0, 0, 0, 0, 0,
                                          1, 2, 4, 8, 16, 32, 64, static_cast<char>(128), 0, 0, 0, 0, 0, 0, 0, 0);
    const __m256i bias = _mm256_set1_epi16(0x84);
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const Codes c = load_codes(in + i, 0xFF);  // inverted: the sign bit set means negative
        const __m256i mag = _mm256_sub_epi16(
            _mm256_mullo_epi16(_mm256_add_epi16(_mm256_slli_epi16(c.mantissa, 3), bias), pow2_of(c.exponent, pow2)),
            bias);
        const __m256i negative = _mm256_xor_si256(c.sign_clear, _mm256_set1_epi16(-1));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), apply_sign(mag, negative));
    }
    decode_ulaw_table(in + i, out + i, n - i);
}

__attribute__((target("avx2"))) void decode_alaw_avx2(const std::uint8_t* in, std::int16_t* out,
                                                      std::size_t n) noexcept {
    const __m256i pow2 = _mm256_setr_epi8(1, 1, 2, 4, 8, 16, 32, 64, 0, 0, 0, 0, 0, 0, 0, 0,
                                          1, 1, 2, 4, 8, 16, 32, 64, 0, 0, 0, 0, 0, 0, 0, 0);
    std::size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const Codes c = load_codes(in + i, 0x55);  // even bits inverted: sign bit clear, negative
        const __m256i segment = _mm256_and_si256(_mm256_cmpgt_epi16(c.exponent, _mm256_setzero_si256()),
                                                 _mm256_set1_epi16(0x100));
        const __m256i base =
            _mm256_add_epi16(_mm256_add_epi16(_mm256_slli_epi16(c.mantissa, 4), _mm256_set1_epi16(8)), segment);
        const __m256i mag = _mm256_mullo_epi16(base, pow2_of(c.exponent, pow2));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), apply_sign(mag, c.sign_clear));
    }
    decode_alaw_table(in + i, out + i, n - i);
}
#endif

DecodeFn pick(DecodeFn table, [[maybe_unused]] DecodeFn avx2) noexcept {
#ifdef PCIFILTER_HAVE_AVX2_G711
    const BankIsa isa = kernels_isa();
    if (isa >= BankIsa::avx2) return avx2;
#endif
    return table;
}

#ifdef PCIFILTER_HAVE_AVX2_G711
const DecodeFn kDecodeUlaw = pick(decode_ulaw_table, decode_ulaw_avx2);
const DecodeFn kDecodeAlaw = pick(decode_alaw_table, decode_alaw_avx2);
#else
const DecodeFn kDecodeUlaw = decode_ulaw_table;
const DecodeFn kDecodeAlaw = decode_alaw_table;
#endif

}  // namespace

void decode_ulaw(const std::uint8_t* in, std::int16_t* out, std::size_t n) noexcept { kDecodeUlaw(in, out, n); }
void decode_alaw(const std::uint8_t* in, std::int16_t* out, std::size_t n) noexcept { kDecodeAlaw(in, out, n); }

}  // namespace pcifilter
