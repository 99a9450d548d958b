// SPDX-License-Identifier: Apache-2.0
// Coverage-guided fuzzing (clang libFuzzer + ASan/UBSan) of capture files: each input is
// written to a file in /dev/shm and read, every RTP flow scrubbed (some two at a time through
// one filter) and the result written, as `pcifilter scrub` does. A refused file
// (std::invalid_argument) is a clean outcome; a crash, a read out of bounds or an undefined
// operation is not. Seeds: `test_capture --write-seeds DIR` (a capture of plain calls, one in tunnels).
#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "pcifilter/capture.hpp"

using namespace pcifilter;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string in = "/dev/shm/pcifilter-fuzz-" + std::to_string(getpid()) + ".pcap";
    static const std::string out = in + ".out";
    std::FILE* f = std::fopen(in.c_str(), "wb");
    if (f == nullptr) return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    try {
        Capture c(in);
        for (std::size_t i = 0; i < c.flows().size(); ++i) {
            StreamFilterParams params;
            params.payload_types[101] = PayloadKind::TelephoneEvent;
            params.telephone_events = i % 2 ? TelephoneEventAction::Replace : TelephoneEventAction::Drop;
            StreamFilter filter(params);
            if (i % 4 == 2 && i + 1 < c.flows().size()) {  // two flows through one filter, as
                c.scrub(std::vector<std::size_t>{i, i + 1}, filter);  // pcap.py does events beside audio
                ++i;
            } else {
                c.scrub(i, filter);
            }
        }
        std::size_t k = 0;
        std::vector<std::uint32_t> signalling = c.sip_frames();
        signalling.insert(signalling.end(), c.relay_frames().begin(), c.relay_frames().end());
        for (std::uint32_t s : signalling) {
            // Every other SIP (or relay) message one byte longer (UDP), the rest as long as
            // they were (what TCP segments take): both paths of replace_payload and of write.
            const auto [p, n] = c.udp_payload(s);
            std::string body(reinterpret_cast<const char*>(p), n);
            if (k++ % 2) body += "X";
            else if (!body.empty()) body.back() = 'X';
            try {
                c.replace_payload(s, reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
            } catch (const std::invalid_argument&) {  // a longer TCP payload: refused
            }
        }
        for (const TcpSegment& seg : c.sip_tcp_segments()) {  // SIP over TCP, as pcap.py redacts it
            std::string body(reinterpret_cast<const char*>(seg.payload), seg.len);
            body.front() = 'X';
            try {
                c.replace_payload(seg.frame, reinterpret_cast<const std::uint8_t*>(body.data()), body.size());
            } catch (const std::invalid_argument&) {  // replaced already (it starts a SIP message)
            }
        }
        bool keep = true;  // fragmented SIP redacted, RTP in fragments left out, as pcap.py does
        for (const UdpFragment& frag : c.udp_fragments()) {
            if ((keep = !keep)) {
                c.remove_fragment(frag.frame);
                continue;
            }
            std::string data(reinterpret_cast<const char*>(frag.data), frag.len);
            data.back() = 'X';
            c.replace_payload(frag.frame, reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
        }
        c.remove_tcp_port(40000);  // RTP over TCP, as pcap.py leaves it out
        c.remove_udp_port(4569);   // IAX2, likewise
        c.redact_text(true, true);  // last, as pcap.py does
        if (c.write(out) > c.size() + c.flows().size() * StreamFilter::kMinSlots) __builtin_trap();
    } catch (const std::invalid_argument&) {
    }
    std::remove(out.c_str());
    return 0;
}
