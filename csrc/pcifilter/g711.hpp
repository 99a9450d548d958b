// SPDX-License-Identifier: Apache-2.0
// ITU-T G.711 µ-law and A-law, bit-exact to the ITU-T G.191 reference implementation
// (negative inputs are folded with one's complement, so encode(x) mirrors encode(~x)).
#pragma once

#include <cstddef>
#include <cstdint>

namespace pcifilter {

// G.711 idle (silence) codes.
constexpr std::uint8_t kUlawSilence = 0xFF;
constexpr std::uint8_t kAlawSilence = 0xD5;

std::uint8_t linear_to_ulaw(std::int16_t x) noexcept;
std::uint8_t linear_to_alaw(std::int16_t x) noexcept;
std::int16_t ulaw_to_linear(std::uint8_t code) noexcept;
std::int16_t alaw_to_linear(std::uint8_t code) noexcept;

void encode_ulaw(const std::int16_t* in, std::uint8_t* out, std::size_t n) noexcept;
void encode_alaw(const std::int16_t* in, std::uint8_t* out, std::size_t n) noexcept;
void decode_ulaw(const std::uint8_t* in, std::int16_t* out, std::size_t n) noexcept;
void decode_alaw(const std::uint8_t* in, std::int16_t* out, std::size_t n) noexcept;

}  // namespace pcifilter
