// SPDX-License-Identifier: Apache-2.0
// A WebSocket frame's header (RFC 6455 §5.2), as the signalling recognisers (signalling.hpp)
// and the maskers (redaction.hpp) read it in a capture's bytes. Internal to the core.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace pcifilter {

struct WebSocketHeader {
    std::uint8_t first = 0;  // FIN, RSV1-3, opcode
    std::uint8_t len7 = 0;   // the 7-bit length field: 126 and 127 say more bytes follow
    bool masked = false;     // a client's frame: its payload XORed with `key`
    std::uint64_t len = 0;   // the payload's length
    std::size_t data = 0;    // where the payload starts (after the masking key)
    std::array<std::uint8_t, 4> key{};
};

// The header at p[at] of p[0, n), when all of it (its masking key included) is there.
inline bool read_websocket_header(const std::uint8_t* p, std::size_t n, std::size_t at,
                                  WebSocketHeader* h) noexcept {
    if (at > n || n - at < 2) return false;
    h->first = p[at];
    h->len7 = p[at + 1] & 0x7F;
    h->masked = (p[at + 1] & 0x80) != 0;
    h->len = h->len7;
    std::size_t data = at + 2;
    if (h->len7 >= 126) {
        const std::size_t ext = h->len7 == 126 ? 2 : 8;
        if (n - data < ext) return false;
        h->len = 0;
        for (std::size_t i = 0; i < ext; ++i) h->len = (h->len << 8) | p[data + i];
        data += ext;
    }
    if (h->masked) {
        if (n - data < 4) return false;
        std::memcpy(h->key.data(), p + data, 4);
        data += 4;
    }
    h->data = data;
    return true;
}

// A header as a conforming sender writes it: RSV2 and RSV3 clear, a defined opcode, a
// control frame whole and at most 125 bytes, its length in the fewest bytes, no frame of
// 4 GiB or more (which no sender sends in one frame).
inline bool strict_websocket_header(const WebSocketHeader& h) noexcept {
    const std::uint8_t opcode = h.first & 0x0F;
    if ((h.first & 0x30) != 0 || (opcode > 2 && opcode < 8) || opcode > 10 ||
        (opcode >= 8 && ((h.first & 0x80) == 0 || h.len > 125)))
        return false;
    return !(h.len7 == 126 && h.len < 126) && !(h.len7 == 127 && (h.len < 65536 || h.len >> 32 != 0));
}

}  // namespace pcifilter
