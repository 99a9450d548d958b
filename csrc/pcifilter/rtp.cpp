// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/rtp.hpp"

#include "pcifilter/byte_order.hpp"

namespace pcifilter {

const char* rtp_drop_name(RtpDrop reason) noexcept {
    switch (reason) {
        case RtpDrop::None: return "none";
        case RtpDrop::TooShort: return "too_short";
        case RtpDrop::BadVersion: return "bad_version";
        case RtpDrop::Rtcp: return "rtcp";
        case RtpDrop::CsrcOverrun: return "csrc_overrun";
        case RtpDrop::ExtensionOverrun: return "extension_overrun";
        case RtpDrop::BadExtension: return "bad_extension";
        case RtpDrop::BadPadding: return "bad_padding";
        case RtpDrop::TooLong: return "too_long";
        case RtpDrop::Count: break;
    }
    return "unknown";
}

RtpDrop parse_rtp(const std::uint8_t* data, std::size_t len, RtpHeader* out) noexcept {
    if (len < kRtpFixedHeader) return RtpDrop::TooShort;
    if ((data[0] >> 6) != 2) return RtpDrop::BadVersion;
    if (data[1] >= 192 && data[1] <= 223) return RtpDrop::Rtcp;  // RFC 5761 §4
    // Fields are written into *out one by one: a local header copied out whole made the
    // copy's vector loads wait on the field stores (no store forwarding), on every packet.
    RtpHeader& h = *out;
    h.padding = (data[0] & 0x20) != 0;
    h.extension = (data[0] & 0x10) != 0;
    h.csrc_count = data[0] & 0x0F;
    h.marker = (data[1] & 0x80) != 0;
    h.payload_type = data[1] & 0x7F;
    h.sequence = be16(data + 2);
    h.timestamp = be32(data + 4);
    h.ssrc = be32(data + 8);
    h.extension_profile = 0;
    h.extension_offset = h.extension_length = 0;
    h.padding_length = 0;
    std::size_t pos = kRtpFixedHeader;
    if (len < pos + 4u * h.csrc_count) return RtpDrop::CsrcOverrun;
    for (int i = 0; i < h.csrc_count; ++i, pos += 4) h.csrc[static_cast<std::size_t>(i)] = be32(data + pos);
    if (h.extension) {
        // RFC 3550 §5.3.1: 16-bit profile, 16-bit length in 32-bit words, then the data.
        if (len < pos + 4) return RtpDrop::ExtensionOverrun;
        h.extension_profile = be16(data + pos);
        h.extension_length = 4u * be16(data + pos + 2);
        h.extension_offset = pos + 4;
        pos = h.extension_offset + h.extension_length;
        if (pos > len) return RtpDrop::ExtensionOverrun;
    }
    std::size_t end = len;
    if (h.padding) {
        // RFC 3550 §5.1: the last octet counts the padding, itself included.
        h.padding_length = data[len - 1];
        if (h.padding_length == 0 || h.padding_length > len - pos) return RtpDrop::BadPadding;
        end -= h.padding_length;
    }
    h.payload_offset = pos;
    h.payload_length = end - pos;
    if (h.extension && rtp_extension_elements(data, h, nullptr, 0) < 0) return RtpDrop::BadExtension;
    return RtpDrop::None;
}

int rtp_extension_elements(const std::uint8_t* data, const RtpHeader& h,
                           RtpExtensionElement* out, int max) noexcept {
    if (!h.extension) return 0;
    const bool one_byte = h.extension_profile == kOneByteExtensionProfile;
    const bool two_byte = (h.extension_profile & 0xFFF0) == kTwoByteExtensionProfile;
    if (!one_byte && !two_byte) return 0;
    std::size_t pos = h.extension_offset;
    const std::size_t end = h.extension_offset + h.extension_length;
    int n = 0;
    while (pos < end) {
        const std::uint8_t b = data[pos];
        if (b == 0) {  // padding byte between elements (RFC 8285 §4.1.1)
            ++pos;
            continue;
        }
        RtpExtensionElement e;
        if (one_byte) {
            e.id = b >> 4;
            if (e.id == 15) break;  // §4.2: stop processing here
            e.length = static_cast<std::uint8_t>((b & 0x0F) + 1);
            e.offset = pos + 1;
        } else {
            if (pos + 2 > end) return -1;
            e.id = b;
            e.length = data[pos + 1];
            e.offset = pos + 2;
        }
        if (e.offset + e.length > end) return -1;
        if (out != nullptr && n < max) out[n] = e;
        ++n;
        pos = e.offset + e.length;
    }
    return n;
}

void rewrite_rtp_fixed_header(std::uint8_t* data, const RtpHeader& h) noexcept {
    data[1] = static_cast<std::uint8_t>((h.marker ? 0x80 : 0) | (h.payload_type & 0x7F));
    put_be16(data + 2, h.sequence);
    put_be32(data + 4, h.timestamp);
    put_be32(data + 8, h.ssrc);
}

}  // namespace pcifilter
