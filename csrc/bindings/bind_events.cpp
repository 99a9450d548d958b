// SPDX-License-Identifier: Apache-2.0
#include <cstdio>
#include <optional>

#include "bindings.hpp"

namespace pcifilter::py_bindings {

PyToneEvent to_py_event(const ToneEvent& e, const ScrubberParams& params) {
    PyToneEvent p{e, params.sample_rate, e.rfc4733 ? "rfc4733" : "dtmf"};
    if (e.kind == EventKind::Tone && e.tone_index >= 0 &&
        static_cast<std::size_t>(e.tone_index) < params.tones.size())
        p.name = params.tones[static_cast<std::size_t>(e.tone_index)].name;
    return p;
}

PyEvents to_py_events(const std::vector<ToneEvent>& events, const ScrubberParams& params) {
    PyEvents out;
    out.reserve(events.size());
    for (const ToneEvent& e : events) out.push_back(to_py_event(e, params));
    return out;
}

PyEvents to_py_events(const std::vector<StreamEvent>& events, const ScrubberParams& params) {
    PyEvents out;
    out.reserve(events.size());
    for (const StreamEvent& e : events) {
        PyToneEvent& p = out.emplace_back(to_py_event(e, params));
        p.on_rtp = true;
        p.ssrc = e.ssrc, p.timestamp = e.timestamp, p.duration = e.duration;
    }
    return out;
}

namespace {

double ms(std::int64_t samples, int rate) { return double(samples) * 1000.0 / rate; }

std::string describe(const PyToneEvent& p) {
    // Never shows the digit: card data leaves only through `.digit`.
    char buf[200];
    std::snprintf(buf, sizeof buf, "ToneEvent(kind='%s', name='%s', start_ms=%.1f, end_ms=%.1f, level_dbm0=%.1f)",
                  p.event.kind == EventKind::Dtmf ? "dtmf" : "tone", p.name.c_str(),
                  ms(p.event.start, p.sample_rate), ms(p.event.end, p.sample_rate),
                  double(p.event.level_dbm0));
    return buf;
}

// What a pickle keeps of an event: everything but the digit. Card data leaves the capture
// path only through `.digit`; a pickle goes wherever its bytes go (a worker's pipe, a
// results cache on disk, a task queue), so a keypress crosses it with its digit withheld.
py::typing::Tuple<py::object, py::ellipsis> pickled(const PyToneEvent& p) {
    const ToneEvent& e = p.event;
    return py::make_tuple(1, e.kind == EventKind::Dtmf, e.tone_index, e.start, e.end, e.level_dbm0, e.twist_db,
                          e.rfc4733, p.sample_rate, p.name, p.on_rtp, p.ssrc, p.timestamp, p.duration);
}

PyToneEvent unpickled(const py::typing::Tuple<py::object, py::ellipsis>& t) {
    if (t.size() != 14 || !py::isinstance<py::int_>(t[0]) || t[0].cast<int>() != 1)
        throw py::value_error("not a pickled pcifilter ToneEvent (or one of another version)");
    PyToneEvent p;
    ToneEvent& e = p.event;
    try {
        const bool dtmf = t[1].cast<bool>();
        e.kind = dtmf ? EventKind::Dtmf : EventKind::Tone;
        e.tone_index = t[2].cast<int>();
        e.start = t[3].cast<std::int64_t>();
        e.end = t[4].cast<std::int64_t>();
        e.level_dbm0 = t[5].cast<float>();
        e.twist_db = t[6].cast<float>();
        e.rfc4733 = t[7].cast<bool>();
        p.sample_rate = t[8].cast<int>();
        p.name = t[9].cast<std::string>();
        p.on_rtp = t[10].cast<bool>();
        p.ssrc = t[11].cast<std::uint32_t>();
        p.timestamp = t[12].cast<std::uint32_t>();
        p.duration = t[13].cast<std::uint32_t>();
        p.withheld = dtmf;
    } catch (const py::cast_error&) {
        throw py::value_error("not a pickled pcifilter ToneEvent: a field has the wrong type");
    }
    if (p.sample_rate != 8000 && p.sample_rate != 16000 && p.sample_rate != 48000)
        throw py::value_error("not a pickled pcifilter ToneEvent: sample_rate");
    return p;
}

}  // namespace

void bind_events(py::module_& m) {
    py::class_<PyToneEvent>(m, "ToneEvent",
                            "A detected keypress or tone. `digit` is card data: it is never shown "
                            "by repr() or str().")
        .def_property_readonly("kind", [](const PyToneEvent& p) {
            return p.event.kind == EventKind::Dtmf ? "dtmf" : "tone";
        })
        .def_property_readonly("name", [](const PyToneEvent& p) { return p.name; },
                               "'dtmf' for keypresses, else the configured tone's name")
        .def_property_readonly("digit", [](const PyToneEvent& p) -> std::optional<std::string> {
            if (p.event.kind != EventKind::Dtmf || p.withheld) return std::nullopt;
            return std::string(1, p.event.digit);
        }, "The key pressed ('0'-'9', '*', '#', 'A'-'D'), or None for tones and for keypresses "
           "whose digit was withheld (digit_withheld). Card data.")
        .def_property_readonly("digit_withheld", [](const PyToneEvent& p) { return p.withheld; },
                               "True for a keypress that came through pickle (a worker process's "
                               "result, a cache): a pickle keeps everything but the digit.")
        .def_property_readonly("start", [](const PyToneEvent& p) { return p.event.start; },
                               "first sample of the tone (at sample_rate)")
        .def_property_readonly("end", [](const PyToneEvent& p) { return p.event.end; },
                               "one past the last sample of the tone (at sample_rate)")
        .def_property_readonly("sample_rate", [](const PyToneEvent& p) { return p.sample_rate; })
        .def_property_readonly("start_ms", [](const PyToneEvent& p) { return ms(p.event.start, p.sample_rate); })
        .def_property_readonly("end_ms", [](const PyToneEvent& p) { return ms(p.event.end, p.sample_rate); })
        .def_property_readonly("duration_ms", [](const PyToneEvent& p) {
            return ms(p.event.end - p.event.start, p.sample_rate);
        })
        .def_property_readonly("level_dbm0", [](const PyToneEvent& p) { return double(p.event.level_dbm0); },
                               "mean level per tone, dBm0")
        .def_property_readonly("twist_db", [](const PyToneEvent& p) { return double(p.event.twist_db); },
                               "high-group minus low-group level, dB (DTMF only)")
        .def_property_readonly("ssrc", [](const PyToneEvent& p) -> std::optional<std::uint32_t> {
            if (!p.on_rtp) return std::nullopt;
            return p.ssrc;
        }, "From an RTP stream filter: the SSRC of the audio it was in; else None.")
        .def_property_readonly("rtp_timestamp", [](const PyToneEvent& p) -> std::optional<std::uint32_t> {
            if (!p.on_rtp) return std::nullopt;
            return p.timestamp;
        }, "From an RTP stream filter: the RTP timestamp of its first sample, on the stream's "
           "clock (as take_masked() and mask()); from telephone-events, the event's own; else None.")
        .def_property_readonly("rtp_duration", [](const PyToneEvent& p) -> std::optional<std::uint32_t> {
            if (!p.on_rtp) return std::nullopt;
            return p.duration;
        }, "From an RTP stream filter: its length in RTP clock units (from telephone-events, "
           "the duration the event had when reported); else None.")
        .def(py::pickle(&pickled, &unpickled))
        // A copy stays in the process: it keeps the digit, as the event itself.
        .def("__copy__", [](const PyToneEvent& p) { return p; })
        .def("__deepcopy__", [](const PyToneEvent& p, const py::typing::Dict<py::object, py::object>&) { return p; }, py::arg("memo"))
        .def("__repr__", &describe)
        .def("__str__", &describe);
}

}  // namespace pcifilter::py_bindings
