// SPDX-License-Identifier: Apache-2.0
// RTP packets (RFC 3550) with RFC 8285 header extensions: parse and validate in place.
//
// Parsing never reads past `len` and never allocates: the header is decoded into a small
// struct of offsets into the caller's buffer. A malformed packet yields a drop reason, which
// the data path counts (RtpDropCounters) instead of throwing.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace pcifilter {

constexpr std::size_t kRtpFixedHeader = 12;
constexpr std::uint16_t kOneByteExtensionProfile = 0xBEDE;  // RFC 8285 §4.2
constexpr std::uint16_t kTwoByteExtensionProfile = 0x1000;  // RFC 8285 §4.3 (top 12 bits 0x100)

enum class RtpDrop : std::uint8_t {
    None = 0,
    TooShort,           // shorter than the 12-byte fixed header
    BadVersion,         // V != 2
    Rtcp,               // RFC 5761: second byte 192-223 is RTCP sharing the port
    CsrcOverrun,        // CSRC list runs past the packet
    ExtensionOverrun,   // header extension runs past the packet
    BadExtension,       // an RFC 8285 element runs past the extension
    BadPadding,         // P set but the padding count is 0 or larger than the payload
    TooLong,            // larger than a stream filter's packet slot
    Count
};

const char* rtp_drop_name(RtpDrop reason) noexcept;

struct RtpHeader {
    bool padding = false;
    bool extension = false;
    bool marker = false;
    std::uint8_t payload_type = 0;
    std::uint8_t csrc_count = 0;
    std::uint16_t sequence = 0;
    std::uint32_t timestamp = 0;
    std::uint32_t ssrc = 0;
    // Set for i < csrc_count only: not zeroed on construction (a header is made per packet).
    std::array<std::uint32_t, 15> csrc;
    std::uint16_t extension_profile = 0;
    std::size_t extension_offset = 0;  // extension data (after its 4-byte header)
    std::size_t extension_length = 0;  // bytes
    std::size_t payload_offset = 0;
    std::size_t payload_length = 0;    // without padding
    std::uint8_t padding_length = 0;
};

// Decodes and checks a packet; on success returns RtpDrop::None. On failure *out holds a
// partly decoded header (not to be used); csrc[i] is set for i < csrc_count only.
RtpDrop parse_rtp(const std::uint8_t* data, std::size_t len, RtpHeader* out) noexcept;

// One RFC 8285 element.
struct RtpExtensionElement {
    std::uint8_t id = 0;
    std::uint8_t length = 0;
    std::size_t offset = 0;  // into the packet
};

// Walks the RFC 8285 elements of a parsed packet (one- or two-byte form), up to `max`.
// Returns the number found, or -1 if an element runs past the extension. Other extension
// profiles hold no elements (0). One-byte ID 15 ends the walk, as RFC 8285 §4.2 requires.
int rtp_extension_elements(const std::uint8_t* data, const RtpHeader& h,
                           RtpExtensionElement* out, int max) noexcept;

// Writes the fixed header fields of `h` (sequence, timestamp, marker, payload type, SSRC)
// into an existing packet in place; the rest of the packet is untouched.
void rewrite_rtp_fixed_header(std::uint8_t* data, const RtpHeader& h) noexcept;

struct RtpDropCounters {
    std::array<std::uint64_t, static_cast<std::size_t>(RtpDrop::Count)> by_reason{};
    void count(RtpDrop r) noexcept { ++by_reason[static_cast<std::size_t>(r)]; }
    std::uint64_t total() const noexcept {
        std::uint64_t n = 0;
        for (std::size_t i = 1; i < by_reason.size(); ++i) n += by_reason[i];
        return n;
    }
};

}  // namespace pcifilter
