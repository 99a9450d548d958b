// SPDX-License-Identifier: Apache-2.0
#include <optional>
#include <string>
#include <vector>

#include <pybind11/typing.h>

#include "bindings.hpp"
#include "pcifilter/opus_packet.hpp"
#include "pcifilter/rfc4733.hpp"
#include "pcifilter/rtp.hpp"

namespace pcifilter::py_bindings {
namespace {

std::string message(RtpDrop r, std::size_t len) {
    switch (r) {
        case RtpDrop::TooShort:
            return "RTP packet too short: " + std::to_string(len) + " bytes, the fixed header needs 12";
        case RtpDrop::BadVersion: return "RTP version must be 2";
        case RtpDrop::Rtcp: return "RTCP packet (second byte 192-223), not RTP";
        case RtpDrop::CsrcOverrun: return "RTP CSRC list runs past the end of the packet";
        case RtpDrop::ExtensionOverrun: return "RTP header extension runs past the end of the packet";
        case RtpDrop::BadExtension: return "RTP header extension element runs past the extension";
        case RtpDrop::BadPadding: return "RTP padding length is 0 or larger than the payload";
        case RtpDrop::TooLong: return "RTP packet longer than 1500 bytes";
        default: return "RTP packet invalid";
    }
}

}  // namespace

void bind_rtp(py::module_& m) {
    m.def("parse_rtp", [](const py::bytes& packet) {
        const std::string_view v = packet;
        const auto* data = reinterpret_cast<const std::uint8_t*>(v.data());
        RtpHeader h;
        const RtpDrop r = parse_rtp(data, v.size(), &h);
        if (r != RtpDrop::None) throw py::value_error(message(r, v.size()));
        std::vector<std::pair<int, py::bytes>> elements;
        RtpExtensionElement el[64];
        const int n = rtp_extension_elements(data, h, el, 64);
        for (int i = 0; i < std::min(n, 64); ++i)
            elements.emplace_back(el[i].id, py::bytes(v.data() + el[i].offset, el[i].length));
        py::typing::Dict<py::str, py::object> d;
        d["payload_type"] = h.payload_type;
        d["marker"] = h.marker;
        d["sequence_number"] = h.sequence;
        d["timestamp"] = h.timestamp;
        d["ssrc"] = h.ssrc;
        d["csrc"] = std::vector<std::uint32_t>(h.csrc.begin(), h.csrc.begin() + h.csrc_count);
        d["extension_profile"] = h.extension ? py::object(py::int_(h.extension_profile)) : py::none();
        d["extension"] = py::bytes(v.data() + h.extension_offset, h.extension_length);
        d["extension_elements"] = elements;
        d["payload"] = py::bytes(v.data() + h.payload_offset, h.payload_length);
        d["padding_size"] = h.padding_length;
        return d;
    }, py::arg("packet"), "Parse and validate one RTP packet; ValueError says what is wrong.");
    py::class_<TelephoneEventTracker>(
        m, "TelephoneEventTracker",
        "RFC 4733 keypress recognition: every packet classified, each keypress reported once.")
        .def(py::init<std::uint32_t>(), py::arg("reorder_window") = 8000)
        .def("on_packet",
             [](TelephoneEventTracker& t, const py::bytes& payload, std::uint32_t timestamp, int clock_rate) {
                 const std::string_view v = payload;
                 TelephoneEventTracker::PacketEvent packed[kMaxPackedEvents];
                 const std::size_t n =
                     t.on_payload(timestamp, reinterpret_cast<const std::uint8_t*>(v.data()), v.size(), packed);
                 if (n == 0) throw py::value_error("telephone-event payload shorter than 4 bytes");
                 static const char* kNames[] = {"new", "update", "end_repeat", "continuation", "stale"};
                 std::vector<std::pair<std::string, std::optional<PyToneEvent>>> out;
                 for (std::size_t i = 0; i < n; ++i) {
                     const TelephoneEventTracker::PacketEvent& p = packed[i];
                     std::optional<PyToneEvent> report;
                     if (p.kind == TelephoneEventTracker::Packet::NewEvent) {
                         ToneEvent ev;
                         ev.kind = EventKind::Dtmf;
                         ev.digit = telephone_event_digit(p.event.code);
                         ev.start = p.start_timestamp;
                         ev.end = ev.start + static_cast<std::int64_t>(p.duration);
                         ev.level_dbm0 = -float(p.event.volume);
                         report = PyToneEvent{ev, clock_rate, "rfc4733"};
                     }
                     out.emplace_back(kNames[static_cast<int>(p.kind)], report);
                 }
                 return out;
             },
             py::arg("payload"), py::arg("timestamp"), py::arg("clock_rate") = 8000,
             "Classify each event of one telephone-event packet (RFC 4733 packs several back to "
             "back, section 2.5.1.5): a list of ('new'|'update'|'end_repeat'|'continuation'|"
             "'stale', the keypress if new), in order.")
        .def("reset", &TelephoneEventTracker::reset);

    m.def("parse_opus_packet", [](const py::bytes& packet) {
        const std::string_view v = packet;
        OpusPacketInfo info;
        if (!parse_opus_packet(reinterpret_cast<const std::uint8_t*>(v.data()), v.size(), &info))
            throw py::value_error("invalid Opus packet (RFC 6716 section 3.4)");
        static const char* kModes[] = {"silk", "hybrid", "celt"};
        py::typing::Dict<py::str, py::object> d;
        d["config"] = info.config;
        d["mode"] = kModes[static_cast<int>(info.mode)];
        d["bandwidth_hz"] = info.bandwidth_hz;
        d["stereo"] = info.stereo;
        d["code"] = info.code;
        d["samples_per_frame"] = info.samples_per_frame;
        d["padding"] = info.padding;
        std::vector<std::pair<std::size_t, int>> frames;
        for (int i = 0; i < info.frame_count; ++i)
            frames.emplace_back(info.frame_offset[static_cast<std::size_t>(i)],
                                info.frame_size[static_cast<std::size_t>(i)]);
        d["frames"] = frames;
        return d;
    }, py::arg("packet"), "The TOC and frame layout of an Opus packet (RFC 6716 section 3).");

    m.def("rtp_drop_reasons", [] {
        std::vector<std::string> names;
        for (int i = 1; i < static_cast<int>(RtpDrop::Count); ++i)
            names.emplace_back(rtp_drop_name(static_cast<RtpDrop>(i)));
        return names;
    }, "Names of the reasons a malformed packet is dropped (counters use them).");
}

}  // namespace pcifilter::py_bindings
