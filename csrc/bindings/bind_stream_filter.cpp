// SPDX-License-Identifier: Apache-2.0
#include <chrono>

#include "py_stream_filter.hpp"

namespace pcifilter::py_bindings {

namespace {

// For `pcifilter bench`: the C++ filter's own cost per packet, no Python per packet.
double time_stream_filter(const std::vector<py::bytes>& batch, int rounds) {
    if (rounds < 1) throw py::value_error("rounds must be at least 1");
    std::vector<std::pair<const std::uint8_t*, std::size_t>> packets;
    for (const py::bytes& b : batch)
        packets.emplace_back(reinterpret_cast<const std::uint8_t*>(PyBytes_AS_STRING(b.ptr())),
                             static_cast<std::size_t>(PyBytes_GET_SIZE(b.ptr())));
    if (packets.empty()) throw py::value_error("no packets");
    py::gil_scoped_release release;
    double best = 1e300;
    std::uint8_t out[StreamFilter::kMaxPacket];
    std::size_t n = 0;
    for (int r = 0; r < rounds; ++r) {
        StreamFilter f{StreamFilterParams{}};
        const auto t0 = std::chrono::steady_clock::now();
        for (const auto& [data, len] : packets) {
            f.push(data, len);
            while (f.pop(out, &n)) {
            }
        }
        f.flush();
        while (f.pop(out, &n)) {
        }
        best = std::min(best, std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
    }
    return best / static_cast<double>(packets.size());
}

}  // namespace

void bind_stream_filter(py::module_& m) {
    m.def("time_stream_filter", &time_stream_filter, py::arg("packets"), py::arg("rounds") = 5,
          "Best time in ns per packet of a fresh C++ StreamFilter (defaults: PCMU 0, "
          "telephone-event 101, filtering on) over the packets, timed in C++ with the GIL "
          "released: the filter's own cost, for `pcifilter bench`.");
    py::class_<PyStreamFilter>(m, "StreamFilter",
                               "One direction of a call's RTP: G.711 or Opus scrubbed, RFC 4733 "
                               "events captured and taken out while filtering is on.")
        .def(py::init<const ScrubberParams&, int, int, int, int, const std::string&, int, int, bool>(),
             py::arg("config"), py::arg("telephone_event_pt") = 101, py::arg("pcmu_pt") = 0,
             py::arg("pcma_pt") = 8, py::arg("cn_pt") = 13, py::arg("telephone_events") = "drop",
             py::arg("opus_pt") = -1, py::arg("opus_bitrate") = 16000,
             py::arg("pass_unknown_payloads") = false)
        .def("process", &PyStreamFilter::process, py::arg("packets"),
             "Packets in (one bytes-like packet or an iterable of them); the packets that became "
             "ready, in order.")
        .def("flush", &PyStreamFilter::flush, "End of stream: every packet still held.")
        .def("take_events", &PyStreamFilter::take_events)
        .def_property_readonly("stats", &PyStreamFilter::stats)
        .def_property("filtering", &PyStreamFilter::filtering, &PyStreamFilter::set_filtering)
        .def_property_readonly("delay", &PyStreamFilter::delay, "look-ahead delay in samples");
}

}  // namespace pcifilter::py_bindings
