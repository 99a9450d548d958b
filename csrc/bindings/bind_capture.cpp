// SPDX-License-Identifier: Apache-2.0
#include <memory>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "pcifilter/capture.hpp"
#include "pcifilter/redaction.hpp"
#include "py_stream_filter.hpp"

namespace pcifilter::py_bindings {

namespace {
// Capture.scrub of one flow or of several through one filter: (packets in, packets out).
template <typename Flows>
std::pair<std::uint64_t, std::uint64_t> scrub_flows(Capture& c, const Flows& flows, PyStreamFilter& filter) {
    py::gil_scoped_release release;
    const FlowScrubResult r = filter.with_filter([&](StreamFilter& f) { return c.scrub(flows, f); });
    return {r.packets_in, r.packets_out};
}
// `data` through one of the capture's maskers: the bytes masked, and how many it found.
template <std::size_t (*Mask)(std::uint8_t*, std::size_t) noexcept>
std::pair<py::bytes, std::size_t> masked(const py::bytes& data) {
    std::string v(data);
    const std::size_t n = Mask(reinterpret_cast<std::uint8_t*>(v.data()), v.size());
    return {py::bytes(v), n};
}

}  // namespace

void bind_capture(py::module_& m) {
    const auto address = [](const CaptureFlow& f, const std::array<std::uint8_t, 16>& a) {
        return py::bytes(reinterpret_cast<const char*>(a.data()), f.family == 4 ? 4 : 16);
    };
    py::class_<CaptureFlow>(m, "CaptureFlow", "One RTP flow of a capture: addresses, ports, SSRC.")
        .def_readonly("family", &CaptureFlow::family, "4 or 6")
        .def_property_readonly("src", [address](const CaptureFlow& f) { return address(f, f.src); })
        .def_readonly("sport", &CaptureFlow::sport)
        .def_property_readonly("dst", [address](const CaptureFlow& f) { return address(f, f.dst); })
        .def_readonly("dport", &CaptureFlow::dport)
        .def_readonly("ssrc", &CaptureFlow::ssrc)
        .def_property_readonly(
            "payload_types",
            [](const CaptureFlow& f) {
                return std::vector<std::uint32_t>(f.payload_types.begin(), f.payload_types.end());
            },
            "frames of each payload type (128 counts)")
        .def_readonly("event_like", &CaptureFlow::event_like,
                      "frames whose payload reads as an RFC 4733 DTMF event packet continuing the one "
                      "before (4 bytes, event 0-15, the same timestamp), whatever the payload type")
        .def_property_readonly(
            "first_frame", [](const CaptureFlow& f) { return f.frames.empty() ? 0u : f.frames.front(); },
            "index of its first frame in the capture")
        .def_property_readonly(
            "last_frame", [](const CaptureFlow& f) { return f.frames.empty() ? 0u : f.frames.back(); },
            "index of its last frame in the capture")
        .def_readonly("frames", &CaptureFlow::frames, "its frames' indices in the capture, in capture order")
        .def("__len__", [](const CaptureFlow& f) { return f.frames.size(); });
    m.def(
        "udp_checksum",
        [](py::bytes src, py::bytes dst, py::bytes datagram) {
            const std::string_view s(src), d(dst), u(datagram);
            if (s.size() != d.size() || (s.size() != 4 && s.size() != 16))
                throw py::value_error("src and dst must both be 4 (IPv4) or 16 (IPv6) bytes");
            if (u.size() < 8 || u.size() > 0xFFFF)
                throw py::value_error("a UDP datagram is 8 to 65535 bytes");
            const auto bytes = [](std::string_view v) { return reinterpret_cast<const std::uint8_t*>(v.data()); };
            return udp_checksum(bytes(s), bytes(d), s.size(), bytes(u), u.size());
        },
        py::arg("src"), py::arg("dst"), py::arg("datagram"),
        "RFC 768 checksum of a whole UDP datagram (its own checksum field counted as zero) with "
        "the pseudo-header of its addresses; a computed 0 is returned as 0xFFFF.");
    m.def("mask_card_numbers", &masked<mask_card_numbers_in>, py::arg("data"),
          "`data` with each payment card number in it (13-19 digits in groups with single spaces "
          "or dashes or none, e-mail's soft line breaks among them, a card scheme's "
          "prefix, the Luhn check; written in base64, hex or UTF-16 too) replaced by 'X', and "
          "how many there were.");
    m.def("mask_srtp_keys", &masked<mask_srtp_keys_in>, py::arg("data"),
          "`data` with each SRTP key of SDP text in it (a=crypto inline keys, a=key-mgmt data, "
          "wherever they are) replaced by 'X', and how many there were.");
    py::class_<Capture>(m, "Capture",
                        "A pcap/pcapng capture read into memory (libpcap): UDP datagrams located, SIP "
                        "messages marked, RTP grouped into flows; flows scrubbed and the capture "
                        "written back in its own format.")
        .def(py::init([](const std::string& path) {
                 py::gil_scoped_release release;
                 return std::make_unique<Capture>(path);
             }),
             py::arg("path"))
        .def_property_readonly("linktype", &Capture::linktype)
        .def_property_readonly("pcapng", &Capture::pcapng)
        .def_property_readonly("udp_frames", &Capture::udp_frames)
        .def_property_readonly("sip_over_sctp", &Capture::sip_over_sctp,
                               "Frames of SIP over SCTP: their keypresses and keys are not read, so "
                               "they are not written.")
        .def_property_readonly("too_deep", &Capture::too_deep,
                               "Frames whose packet lies inside more than two tunnels: what they hold "
                               "cannot be scrubbed, so they are not written.")
        .def("__len__", &Capture::size)
        .def(
            "sip_messages",
            [](const Capture& c) {
                std::vector<std::pair<std::uint32_t, py::bytes>> out;
                for (std::uint32_t i : c.sip_frames()) {
                    const auto [p, n] = c.udp_payload(i);
                    out.emplace_back(i, py::bytes(reinterpret_cast<const char*>(p), n));
                }
                return out;
            },
            "(frame index, payload) of each UDP datagram or TCP segment that starts a SIP "
            "message, or UDP datagram that starts a HEP packet (Homer's encapsulation: HEP3, or "
            "versions 1 and 2 holding SIP), in capture order.")
        .def(
            "relay_messages",
            [](const Capture& c) {
                std::vector<std::pair<std::uint32_t, py::bytes>> out;
                for (std::uint32_t i : c.relay_frames()) {
                    const auto [p, n] = c.udp_payload(i);
                    out.emplace_back(i, py::bytes(reinterpret_cast<const char*>(p), n));
                }
                return out;
            },
            "(frame index, payload) of each UDP datagram, not RTP, that may hold a media relay's "
            "control message or DTMF log (rtpengine's ng protocol: a cookie, a space, a bencoded "
            "or JSON dictionary; or JSON naming \"DTMF\"), in capture order.")
        .def(
            "sip_tcp_segments",
            [](const Capture& c) {
                std::vector<std::tuple<std::uint32_t, std::uint32_t, std::uint32_t, py::bytes, bool>> out;
                for (const TcpSegment& s : c.sip_tcp_segments())
                    out.emplace_back(s.frame, s.connection, s.seq,
                                     py::bytes(reinterpret_cast<const char*>(s.payload), s.len), s.websocket);
                return out;
            },
            "(frame index, connection number, sequence number, payload, websocket) of every "
            "payload-carrying segment of each TCP connection (one direction) that carries SIP, in "
            "capture order; websocket: the segment starts a WebSocket handshake naming the 'sip' "
            "subprotocol or a data frame holding SIP (RFC 7118), or is the server's 101 after a "
            "client's GET /ari/events (Asterisk's ARI events).")
        .def(
            "udp_fragments",
            [](const Capture& c) {
                using Row = std::tuple<std::uint32_t, int, py::bytes, py::bytes, std::uint32_t, std::uint32_t,
                                       bool, py::bytes, int>;
                std::vector<Row> out;
                for (const UdpFragment& u : c.udp_fragments()) {
                    const std::size_t alen = u.family == 4 ? 4 : 16;
                    out.emplace_back(u.frame, u.family, py::bytes(reinterpret_cast<const char*>(u.src.data()), alen),
                                     py::bytes(reinterpret_cast<const char*>(u.dst.data()), alen), u.id, u.offset,
                                     u.more, py::bytes(reinterpret_cast<const char*>(u.data), u.len), u.protocol);
                }
                return out;
            },
            "(frame index, family, source, destination, identification, offset, more fragments, "
            "data, protocol) of every fragment of a fragmented UDP datagram (protocol 17) or "
            "tunnel packet (4, 41, 47: IP in IP, GRE), in capture order; the data of the "
            "fragment at offset 0 begins with the UDP (or GRE, or inner IP) header.")
        .def(
            "udp_payload",
            [](const Capture& c, std::size_t frame) {
                if (frame >= c.size()) throw py::index_error("no such frame");
                const auto [p, n] = c.udp_payload(frame);
                return py::bytes(reinterpret_cast<const char*>(p), n);
            },
            py::arg("frame"),
            "The UDP payload of a frame as captured (a flow's RTP packet, say); b'' for a frame "
            "with none.")
        .def(
            "replace_payload",
            [](Capture& c, std::size_t frame, const py::bytes& payload) {
                const std::string_view v = payload;
                c.replace_payload(frame, reinterpret_cast<const std::uint8_t*>(v.data()), v.size());
            },
            py::arg("frame"), py::arg("payload"),
            "A new UDP payload for a frame outside the scrubbed flows (lengths and checksums are "
            "made valid when written), or a TCP segment's new payload of the same length, or a "
            "UDP fragment's new data of the same length (written as given).")
        .def("mask_card_numbers", &Capture::mask_card_numbers, py::call_guard<py::gil_scoped_release>(),
             "Card numbers in clear anywhere but the audio (13-19 digits in groups, a card "
             "scheme's prefix, the Luhn check; in UDP datagrams that are not RTP, and in TCP "
             "connections, each direction's segments joined in sequence order; as written) "
             "replaced by 'X' in place; returns how many.")
        .def("redact_h245_user_input", &Capture::redact_h245_user_input, py::call_guard<py::gil_scoped_release>(),
             "H.323's keypresses (H.245 UserInputIndication: alphanumeric, signal, "
             "extendedAlphanumeric; on its own TCP connection or tunnelled in H.225.0) replaced "
             "by 'X' in place; returns how many messages.")
        .def("redact_pbx_digits", &Capture::redact_pbx_digits, py::call_guard<py::gil_scoped_release>(),
             "A PBX event channel's keypress values (AMI, ESL, ARI forms) in every TCP "
             "connection's streams replaced by 'X' in place (connections caught mid-stream); "
             "returns how many.")
        .def("redact_srtp_keys", &Capture::redact_srtp_keys, py::call_guard<py::gil_scoped_release>(),
             "SRTP keys of SDP text (a=crypto inline keys, a=key-mgmt data) in every non-RTP UDP "
             "datagram and TCP connection's streams replaced by 'X' in place; returns how many.")
        .def(
            "redact_text",
            [](Capture& c, bool dtmf, bool cards) {
                py::gil_scoped_release release;
                const Capture::TextRedactions r = c.redact_text(dtmf, cards);
                return std::make_tuple(r.h245, r.pbx_digits, r.srtp_keys, r.card_numbers);
            },
            py::arg("dtmf"), py::arg("cards"),
            "The four sweeps above in one pass, in the order H.245 and the PBX forms (when "
            "dtmf), SRTP keys, card numbers (when cards): (H.245 messages, PBX keypress values, "
            "SRTP keys, card numbers) found.")
        .def("leave_out", &Capture::leave_out, py::arg("flow"),
             "Leaves a flow's frames out of the output (the flow counts as scrubbed); returns how "
             "many frames.")
        .def("remove_fragment", &Capture::remove_fragment, py::arg("frame"),
             "Leaves a UDP fragment (a frame listed by udp_fragments) out of the output.")
        .def("remove_tcp_port", &Capture::remove_tcp_port, py::arg("port"),
             "Leaves out every TCP segment with a payload from or to the port (RTP over TCP), "
             "but those replaced already; returns how many.")
        .def("remove_udp_port", &Capture::remove_udp_port, py::arg("port"),
             "Leaves out every whole UDP datagram from or to the port (IAX2: calls the capture "
             "cannot scrub), but those replaced already; returns how many.")
        .def(
            "flows", [](const Capture& c) { return c.flows(); },
            "RTP flows (one direction of one SSRC), in order of their first frame.")
        .def(
            "scrub", &scrub_flows<std::size_t>, py::arg("flow"), py::arg("filter"),
            "Runs the flow's frames through the filter (then flushes it); returns (packets in, "
            "packets out).")
        .def(
            "scrub", &scrub_flows<std::vector<std::size_t>>, py::arg("flows"), py::arg("filter"),
            "Runs several flows of one path through one filter, their frames in capture order "
            "(telephone-events under an SSRC of their own beside the audio's); returns (packets "
            "in, packets out).")
        .def(
            "write",
            [](const Capture& c, const std::string& path) {
                py::gil_scoped_release release;
                return c.write(path);
            },
            py::arg("path"), "Writes the capture, scrubbed flows replaced; returns the frames written.");
}

}  // namespace pcifilter::py_bindings
