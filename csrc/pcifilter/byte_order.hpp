// SPDX-License-Identifier: Apache-2.0
// Big-endian (network order) fields read and written in place, for RTP, RFC 4733 and the
// IP/UDP headers of captures.
#pragma once

#include <cstdint>

namespace pcifilter {

inline std::uint16_t be16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}
inline std::uint32_t be24(const std::uint8_t* p) noexcept {  // (an HTTP/2 frame's length)
    return std::uint32_t{p[0]} << 16 | std::uint32_t{p[1]} << 8 | p[2];
}
inline std::uint32_t be32(const std::uint8_t* p) noexcept {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
inline void put_be16(std::uint8_t* p, std::uint16_t v) noexcept {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
inline void put_be32(std::uint8_t* p, std::uint32_t v) noexcept {
    put_be16(p, static_cast<std::uint16_t>(v >> 16));
    put_be16(p + 2, static_cast<std::uint16_t>(v));
}

}  // namespace pcifilter
