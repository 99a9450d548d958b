// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/g711.hpp"

#include <array>

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

inline int bit_length(unsigned v) { return v == 0 ? 0 : 32 - __builtin_clz(v); }

}  // namespace

std::uint8_t linear_to_ulaw(std::int16_t x) noexcept {
    // 14-bit magnitude plus the µ-law bias of 33 (G.191 ulaw_compress).
    unsigned absno = x < 0 ? static_cast<unsigned>((~x) >> 2) + 33u : static_cast<unsigned>(x >> 2) + 33u;
    if (absno > 0x1FFF) absno = 0x1FFF;
    const int segno = bit_length(absno >> 6) + 1;
    const unsigned high = static_cast<unsigned>(8 - segno);
    const unsigned low = 0x0F - ((absno >> segno) & 0x0F);
    unsigned y = (high << 4) | low;
    if (x >= 0) y |= 0x80;
    return static_cast<std::uint8_t>(y);
}

std::uint8_t linear_to_alaw(std::int16_t x) noexcept {
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

std::int16_t ulaw_to_linear(std::uint8_t code) noexcept { return kUlawTable[code]; }
std::int16_t alaw_to_linear(std::uint8_t code) noexcept { return kAlawTable[code]; }

void encode_ulaw(const std::int16_t* in, std::uint8_t* out, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) out[i] = linear_to_ulaw(in[i]);
}
void encode_alaw(const std::int16_t* in, std::uint8_t* out, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) out[i] = linear_to_alaw(in[i]);
}
void decode_ulaw(const std::uint8_t* in, std::int16_t* out, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) out[i] = kUlawTable[in[i]];
}
void decode_alaw(const std::uint8_t* in, std::int16_t* out, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) out[i] = kAlawTable[in[i]];
}

}  // namespace pcifilter
