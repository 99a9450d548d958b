// SPDX-License-Identifier: Apache-2.0
// Scrubber (one stream), ScrubberBank (many streams, frame by frame) and whole-buffer scrubbing.
#include <map>
#include <memory>
#include <tuple>
#include <mutex>

#include "bindings.hpp"

namespace pcifilter::py_bindings {
namespace {

PySpans to_py_spans(const std::vector<MaskSpan>& spans) {
    PySpans out;
    for (const MaskSpan& s : spans) out.emplace_back(s.start, s.end);
    return out;
}

std::map<std::string, std::uint64_t> to_py_stats(const ScrubberStats& s) {
    std::map<std::string, std::uint64_t> d;
    d["samples"] = s.samples;
    d["keypresses"] = s.keypresses;
    d["tones"] = s.tones;
    d["masked_samples"] = s.masked_samples;
    d["late_masks"] = s.late_masks;
    return d;
}

struct Scrubbed {
    std::vector<ToneEvent> events;
    std::vector<MaskSpan> spans;
    ScrubberStats stats;
};

// Whole buffer: output time-aligned with the input (the look-ahead removed).
Scrubbed scrub_one(Scrubber& s, const std::int16_t* x, std::int16_t* y, std::size_t n,
                   std::vector<std::int16_t>& scratch) {
    const std::size_t d = static_cast<std::size_t>(s.delay());
    scratch.resize(d);
    // The first d outputs are pre-roll; the rest land at y[0 .. n-d), then the tail at the end.
    const std::size_t head = std::min(n, d);
    s.process(x, scratch.data(), head);
    if (n > d) s.process(x + d, y, n - d);
    std::vector<std::int16_t> tail(d);
    s.flush(tail.data());
    // Before flushing, outputs [0, n-d) are written; flush gives the rest.
    if (n > d) {
        std::copy(tail.begin(), tail.end(), y + (n - d));
    } else {
        // Short input: skip the part of the pre-roll that the flush still produced.
        std::copy(tail.begin() + static_cast<std::ptrdiff_t>(d - n), tail.end(), y);
    }
    Scrubbed r{std::move(s.events()), std::move(s.spans()), s.stats()};
    for (MaskSpan& sp : r.spans) sp.end = std::min<std::int64_t>(sp.end, static_cast<std::int64_t>(n));
    return r;
}

class PyScrubber {
public:
    explicit PyScrubber(const ScrubberParams& p) : s_(p) {}
    py::array_t<std::int16_t> process(const py::array& pcm, const py::object& into) {
        auto in = as_pcm(pcm, "pcm", true);
        auto out = output_for(in, into);
        const auto* src = in.data();
        auto* dst = out.mutable_data();
        {
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(mutex_);
            s_.process(src, dst, static_cast<std::size_t>(in.size()));
        }
        return out;
    }
    py::array_t<std::int16_t> flush() {
        py::array_t<std::int16_t> out(s_.delay());
        auto* dst = out.mutable_data();
        {
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(mutex_);
            s_.end_stream(dst);
        }
        return out;
    }
    PyEvents take_events() {
        std::vector<ToneEvent> ev;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            ev.swap(s_.events());
            s_.events().reserve(4);
        }
        return to_py_events(ev, s_.params());
    }
    PySpans take_spans() {
        std::vector<MaskSpan> sp;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            sp.swap(s_.spans());
            s_.spans().reserve(8);
        }
        return to_py_spans(sp);
    }
    void reset() {
        std::lock_guard<std::mutex> lock(mutex_);
        s_.reset();
    }
    Scrubber& raw() { return s_; }
    std::mutex& mutex() { return mutex_; }

private:
    Scrubber s_;
    std::mutex mutex_;
};

// Many independent streams processed frame by frame in one call.
class PyScrubberBank {
public:
    PyScrubberBank(std::size_t n, const ScrubberParams& p) {
        if (n == 0 || n > 100000) throw py::value_error("n_streams must be within [1, 100000]");
        p.validate();
        streams_.reserve(n);
        for (std::size_t i = 0; i < n; ++i) streams_.push_back(std::make_unique<Scrubber>(p));
    }
    py::array_t<std::int16_t> process(const py::array& frames, const py::object& into) {
        if (!py::isinstance<py::array>(frames) || !holds<std::int16_t>(frames) ||
            frames.ndim() != 2 || static_cast<std::size_t>(frames.shape(0)) != streams_.size())
            throw py::value_error("frames must be a 2-D int16 array of shape (n_streams, samples)");
        auto in = py::array_t<std::int16_t, py::array::c_style>::ensure(frames);
        const auto cols = static_cast<std::size_t>(in.shape(1));
        auto out = output_for(in, into);
        const auto* src = in.data();
        auto* dst = out.mutable_data();
        {
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(mutex_);
            for (std::size_t r = 0; r < streams_.size(); ++r)
                streams_[r]->process(src + r * cols, dst + r * cols, cols);
        }
        return out;
    }
    py::array_t<std::int16_t> flush(std::size_t i) {
        if (i >= streams_.size()) throw py::index_error("stream index out of range");
        py::array_t<std::int16_t> out(streams_[i]->delay());
        auto* dst = out.mutable_data();
        {
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(mutex_);
            streams_[i]->end_stream(dst);
        }
        return out;
    }
    std::vector<PyEvents> take_events() {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<PyEvents> out;
        for (auto& s : streams_) {
            out.push_back(to_py_events(s->events(), s->params()));
            s->events().clear();
            s->spans().clear();
        }
        return out;
    }
    std::size_t size() const { return streams_.size(); }
    int delay() const { return streams_.front()->delay(); }
    void set_masking(std::size_t i, bool on) {
        if (i >= streams_.size()) throw py::index_error("stream index out of range");
        std::lock_guard<std::mutex> lock(mutex_);
        streams_[i]->set_masking(on);
    }

private:
    std::vector<std::unique_ptr<Scrubber>> streams_;
    std::mutex mutex_;
};

}  // namespace

void bind_scrubber(py::module_& m) {
    py::class_<PyScrubber>(m, "Scrubber",
                           "One stream's scrubber: int16 frames in, the same number of samples out, "
                           "delayed by `delay` samples, with every keypress masked.")
        .def(py::init<const ScrubberParams&>(), py::arg("config"))
        .def("process", &PyScrubber::process, py::arg("pcm"), py::arg("out") = py::none(),
             "Samples in, as many out (delayed); into `out` when given (no allocation), which "
             "is returned.")
        .def("flush", &PyScrubber::flush,
             "End the stream: returns the last `delay` samples; what comes next is a new stream.")
        .def("take_events", &PyScrubber::take_events, "Events completed since the last call.")
        .def("take_spans", &PyScrubber::take_spans,
             "Masked spans (start, end) in input samples completed since the last call.")
        .def("reset", &PyScrubber::reset)
        .def_property("masking", [](PyScrubber& s) { return s.raw().masking(); },
                      [](PyScrubber& s, bool on) {
                          std::lock_guard<std::mutex> lock(s.mutex());
                          s.raw().set_masking(on);
                      }, "Switch masking on or off; takes effect from the next sample.")
        .def_property_readonly("delay", [](PyScrubber& s) { return s.raw().delay(); })
        .def_property_readonly("state_bytes", [](PyScrubber& s) { return s.raw().state_bytes(); },
                               "Bytes of per-stream state, look-ahead included.")
        .def_property_readonly("sample_rate", [](PyScrubber& s) { return s.raw().sample_rate(); })
        .def_property_readonly("stats", [](PyScrubber& s) {
            std::lock_guard<std::mutex> lock(s.mutex());
            return to_py_stats(s.raw().stats());
        });

    py::class_<PyScrubberBank>(m, "ScrubberBank", "Many independent streams, one frame each per call.")
        .def(py::init<std::size_t, const ScrubberParams&>(), py::arg("n_streams"), py::arg("config"))
        .def("process", &PyScrubberBank::process, py::arg("frames"), py::arg("out") = py::none(),
             "Each stream's frame in (a row), as many samples out (delayed); into `out` when "
             "given (no allocation), which is returned.")
        .def("flush", &PyScrubberBank::flush, py::arg("stream"),
             "End one stream: its last `delay` samples; its slot then takes a new stream.")
        .def("take_events", &PyScrubberBank::take_events, "Per stream: events since the last call.")
        .def("set_masking", &PyScrubberBank::set_masking, py::arg("stream"), py::arg("on"))
        .def("__len__", &PyScrubberBank::size)
        .def_property_readonly("delay", &PyScrubberBank::delay);

    m.def("scrub_array", [](const py::array& pcm, const ScrubberParams& p) {
        auto in = as_pcm(pcm, "pcm", false);
        p.validate();
        py::array_t<std::int16_t> out(in.size());
        const auto* src = in.data();
        auto* dst = out.mutable_data();
        Scrubbed r;
        {
            py::gil_scoped_release release;
            Scrubber s(p);
            std::vector<std::int16_t> scratch;
            r = scrub_one(s, src, dst, static_cast<std::size_t>(in.size()), scratch);
        }
        return std::make_tuple(out, to_py_events(r.events, p), to_py_spans(r.spans), to_py_stats(r.stats));
    }, py::arg("pcm"), py::arg("config"));

    m.def("scrub_many", [](const py::array& pcm, const ScrubberParams& p) {
        auto in = as_pcm_2d(pcm);
        p.validate();
        const auto rows = static_cast<std::size_t>(in.shape(0)), cols = static_cast<std::size_t>(in.shape(1));
        py::array_t<std::int16_t> out({in.shape(0), in.shape(1)});
        const auto* src = in.data();
        auto* dst = out.mutable_data();
        std::vector<Scrubbed> all(rows);
        {
            py::gil_scoped_release release;
            std::vector<std::int16_t> scratch;
            for (std::size_t r = 0; r < rows; ++r) {
                Scrubber s(p);
                all[r] = scrub_one(s, src + r * cols, dst + r * cols, cols, scratch);
            }
        }
        std::vector<PyEvents> events;
        std::vector<PySpans> spans;
        for (const Scrubbed& r : all) {
            events.push_back(to_py_events(r.events, p));
            spans.push_back(to_py_spans(r.spans));
        }
        return std::make_tuple(out, events, spans);
    }, py::arg("pcm"), py::arg("config"));
}

}  // namespace pcifilter::py_bindings
