// SPDX-License-Identifier: Apache-2.0
// RTP parsing: a real packet (sipp's g711a.pcap), every truncation and every single-byte
// mutation of it parse or drop cleanly, with the payload inside the buffer.
#include <cstdint>
#include <vector>

#include "check.hpp"
#include "pcifilter/rtp.hpp"

using namespace pcifilter;

int main() {
    // Header of the first packet of sipp's g711a.pcap, plus one RFC 8285 element and payload.
    std::vector<std::uint8_t> p = {0x90, 0x88, 0xe6, 0xfd, 0x00, 0x00, 0x00, 0xf0, 0xde, 0xe0,
                                   0xee, 0x8f, 0xbe, 0xde, 0x00, 0x01, 0x10, 0xaa, 0x00, 0x00};
    for (int i = 0; i < 160; ++i) p.push_back(0xd5);
    RtpHeader h;
    CHECK(parse_rtp(p.data(), p.size(), &h) == RtpDrop::None);
    CHECK(h.payload_type == 8 && h.marker && h.sequence == 0xe6fd && h.timestamp == 0xf0);
    CHECK(h.payload_offset == 20 && h.payload_length == 160);
    RtpExtensionElement el[4];
    CHECK(rtp_extension_elements(p.data(), h, el, 4) == 1 && el[0].id == 1 && el[0].length == 1);
    for (std::size_t n = 0; n < p.size(); ++n) {
        RtpHeader t;
        const RtpDrop r = parse_rtp(p.data(), n, &t);
        CHECK((n < 20) == (r != RtpDrop::None));
        if (r == RtpDrop::None) CHECK(t.payload_offset + t.payload_length <= n);
    }
    RtpDropCounters counters;
    for (std::size_t at = 0; at < 24; ++at)
        for (int v = 0; v < 256; ++v) {
            std::vector<std::uint8_t> m = p;
            m[at] = static_cast<std::uint8_t>(v);
            RtpHeader t;
            const RtpDrop r = parse_rtp(m.data(), m.size(), &t);
            counters.count(r);
            if (r == RtpDrop::None)
                CHECK(t.payload_offset + t.payload_length + t.padding_length <= m.size());
        }
    CHECK(counters.total() > 0 && counters.by_reason[0] > 0);
    return CHECK_DONE();
}
