// SPDX-License-Identifier: Apache-2.0
#include "py_stream_filter.hpp"

namespace pcifilter::py_bindings {

void bind_stream_filter(py::module_& m) {
    py::class_<PyStreamFilter>(m, "StreamFilter",
                               "One direction of a call's RTP: G.711 or Opus scrubbed, RFC 4733 "
                               "events captured and taken out while filtering is on.")
        .def(py::init<const ScrubberParams&, int, int, int, int, const std::string&, int, int, bool, int,
                      std::optional<double>, std::optional<double>, bool,
                      const std::vector<std::pair<int, std::string>>&>(),
             py::arg("config"), py::arg("telephone_event_pt") = 101, py::arg("pcmu_pt") = 0,
             py::arg("pcma_pt") = 8, py::arg("cn_pt") = 13, py::arg("telephone_events") = "drop",
             py::arg("opus_pt") = -1, py::arg("opus_bitrate") = 16000,
             py::arg("pass_unknown_payloads") = false, py::arg("telephone_event_8000_pt") = -1,
             py::arg("reorder_window_ms") = py::none(), py::arg("max_gap_ms") = py::none(),
             py::arg("g711_beside_opus") = false,
             py::arg("more_payload_types") = std::vector<std::pair<int, std::string>>{})
        .def("process", &PyStreamFilter::process, py::arg("packets"),
             "Packets in (one bytes-like packet or an iterable of them); the packets that became "
             "ready, in order.")
        .def("flush", &PyStreamFilter::flush, "End of stream: every packet still held.")
        .def("advance", &PyStreamFilter::advance, py::arg("timestamp"),
             "The stream's media clock reached RTP `timestamp`: the packets that became ready.")
        .def("take_events", &PyStreamFilter::take_events)
        .def("mask", &PyStreamFilter::mask, py::arg("timestamp"), py::arg("duration"),
             "Masks the audio from RTP timestamp `timestamp` for `duration` RTP clock units, "
             "exactly, as far as it has not gone out yet (only while filtering, once a stream "
             "has started); whether all of it was still ahead of the output.")
        .def("take_masked", &PyStreamFilter::take_masked,
             "Where the output was masked since the last call: (RTP timestamp, duration) pairs.")
        .def_property_readonly("stats", &PyStreamFilter::stats)
        .def_property("filtering", &PyStreamFilter::filtering, &PyStreamFilter::set_filtering)
        .def("guard_ends", &PyStreamFilter::guard_ends, py::arg("start"), py::arg("end"),
             "For a stream that is one part of a longer one (a capture's flow that another SSRC "
             "continues on the same path, or that continues one): while filtering, its first "
             "(start) or last (end) 40 ms are masked whatever is in them.")
        .def_property_readonly("delay", &PyStreamFilter::delay, "look-ahead delay in samples")
        .def_property_readonly("clock_rate", &PyStreamFilter::clock_rate,
                               "RTP clock of the timeline under way (8000 or 48000)");
}

}  // namespace pcifilter::py_bindings
