// SPDX-License-Identifier: Apache-2.0
// Config (every tunable of a stream, flat), ToneSpec, and detection-only entry points.
#include <mutex>

#include "bindings.hpp"

namespace pcifilter::py_bindings {
namespace {

// A streaming detector: events only, no audio out, no delay.
class PyDetector {
public:
    explicit PyDetector(const ScrubberParams& p) : scrubber_(p) {}
    PyEvents process(const py::array& pcm) {
        auto in = as_pcm(pcm, "pcm", true);
        std::vector<ToneEvent> events;
        {
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(mutex_);
            scrubber_.analyse(in.data(), static_cast<std::size_t>(in.size()));
            events.swap(scrubber_.events());
            scrubber_.events().reserve(4);
        }
        return to_py_events(events, scrubber_.params());
    }
    PyEvents flush() {
        std::vector<ToneEvent> events;
        {
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(mutex_);
            scrubber_.finish_analysis();
            events.swap(scrubber_.events());
            scrubber_.reset();
        }
        return to_py_events(events, scrubber_.params());
    }
    const ScrubberParams& params() const { return scrubber_.params(); }

private:
    Scrubber scrubber_;
    std::mutex mutex_;
};

std::vector<ToneEvent> detect_one(const ScrubberParams& p, const std::int16_t* x, std::size_t n) {
    Scrubber s(p);
    s.analyse(x, n);
    s.finish_analysis();
    return std::move(s.events());
}

}  // namespace

void bind_detectors(py::module_& m) {
    py::class_<ToneSpec>(m, "ToneSpec", "A single- or dual-frequency tone to detect.")
        .def(py::init([](std::string name, double freq1_hz, double freq2_hz, double min_duration_ms,
                         double min_level_dbm0, double tolerance, double max_dropout_ms) {
                 return ToneSpec{std::move(name), freq1_hz, freq2_hz, min_duration_ms,
                                 min_level_dbm0, tolerance, max_dropout_ms};
             }),
             py::arg("name"), py::arg("freq1_hz"), py::arg("freq2_hz") = 0.0,
             py::arg("min_duration_ms") = 100.0, py::arg("min_level_dbm0") = -40.0,
             py::arg("tolerance") = 0.02, py::arg("max_dropout_ms") = 30.0)
        .def_readonly("name", &ToneSpec::name)
        .def_readonly("freq1_hz", &ToneSpec::freq1_hz)
        .def_readonly("freq2_hz", &ToneSpec::freq2_hz)
        .def_readonly("min_duration_ms", &ToneSpec::min_duration_ms)
        .def_readonly("min_level_dbm0", &ToneSpec::min_level_dbm0)
        .def_readonly("tolerance", &ToneSpec::tolerance)
        .def_readonly("max_dropout_ms", &ToneSpec::max_dropout_ms)
        .def("__repr__", [](const ToneSpec& t) {
            return "ToneSpec(name='" + t.name + "', freq1_hz=" + std::to_string(t.freq1_hz) +
                   ", freq2_hz=" + std::to_string(t.freq2_hz) + ")";
        });
    m.def("default_tones", &default_tones, "Fax CNG (1100 Hz) and CED/ANS (2100 Hz).");

    using P = ScrubberParams;
    py::class_<P>(m, "Config", "Every tunable of one stream. Checked when a stream is built.")
        .def(py::init<>())
        .def_readwrite("sample_rate", &P::sample_rate)
        .def_readwrite("lookahead_ms", &P::lookahead_ms)
        .def_readwrite("lead_ms", &P::lead_ms)
        .def_readwrite("hangover_ms", &P::hangover_ms)
        .def_readwrite("mask_tones", &P::mask_tones)
        .def_readwrite("guard_edges", &P::guard_edges)
        .def_readwrite("tones", &P::tones)
        .def_property("mode",
                      [](const P& p) {
                          switch (p.masker.mode) {
                              case MaskMode::Noise: return "noise";
                              case MaskMode::Tone: return "tone";
                              default: return "silence";
                          }
                      },
                      [](P& p, const std::string& v) {
                          if (v == "silence") p.masker.mode = MaskMode::Silence;
                          else if (v == "noise") p.masker.mode = MaskMode::Noise;
                          else if (v == "tone") p.masker.mode = MaskMode::Tone;
                          else throw py::value_error("mode must be 'silence', 'noise' or 'tone', not '" + v + "'");
                      })
#define PCIFILTER_FIELD(name, path) \
    .def_property(#name, [](const P& p) { return p.path; }, [](P& p, decltype(p.path) v) { p.path = v; })
        PCIFILTER_FIELD(tone_hz, masker.tone_hz)
        PCIFILTER_FIELD(tone_dbm0, masker.tone_dbm0)
        PCIFILTER_FIELD(noise_max_dbm0, masker.noise_max_dbm0)
        PCIFILTER_FIELD(ramp_ms, masker.ramp_ms)
        PCIFILTER_FIELD(min_level_dbm0, dtmf.min_level_dbm0)
        PCIFILTER_FIELD(max_twist_db, dtmf.max_twist_db)
        PCIFILTER_FIELD(max_reverse_twist_db, dtmf.max_reverse_twist_db)
        PCIFILTER_FIELD(max_freq_error, dtmf.max_freq_error)
        PCIFILTER_FIELD(min_duration_ms, dtmf.min_duration_ms)
        PCIFILTER_FIELD(max_dropout_ms, dtmf.max_dropout_ms)
        PCIFILTER_FIELD(min_energy_ratio, dtmf.min_energy_ratio)
        PCIFILTER_FIELD(max_harmonic_db, dtmf.max_harmonic_db)
        PCIFILTER_FIELD(mask_min_level_dbm0, dtmf.mask_min_level_dbm0)
        PCIFILTER_FIELD(mask_min_energy_ratio, dtmf.mask_min_energy_ratio)
        PCIFILTER_FIELD(mask_weak_energy_ratio, dtmf.mask_weak_energy_ratio)
#undef PCIFILTER_FIELD
        .def("validate", [](const P& p) { p.validate(); });

    py::class_<PyDetector>(m, "Detector", "Streaming detection of keypresses and tones (no audio out).")
        .def(py::init<const ScrubberParams&>(), py::arg("config"))
        .def("process", &PyDetector::process, py::arg("pcm"),
             "Feed int16 samples of any length; returns the events completed so far.")
        .def("flush", &PyDetector::flush, "End the stream: returns the last events and resets.")
        .def_property_readonly("sample_rate", [](const PyDetector& d) { return d.params().sample_rate; });

    m.def("detect_array", [](const py::array& pcm, const ScrubberParams& p) {
        auto in = as_pcm(pcm, "pcm", false);
        p.validate();
        std::vector<ToneEvent> events;
        {
            py::gil_scoped_release release;
            events = detect_one(p, in.data(), static_cast<std::size_t>(in.size()));
        }
        return to_py_events(events, p);
    }, py::arg("pcm"), py::arg("config"));

    m.def("detect_many", [](const py::array& pcm, const ScrubberParams& p) {
        auto in = as_pcm_2d(pcm);
        p.validate();
        const auto rows = static_cast<std::size_t>(in.shape(0)), cols = static_cast<std::size_t>(in.shape(1));
        std::vector<std::vector<ToneEvent>> all(rows);
        {
            py::gil_scoped_release release;
            for (std::size_t r = 0; r < rows; ++r) all[r] = detect_one(p, in.data() + r * cols, cols);
        }
        std::vector<PyEvents> out;
        for (const auto& ev : all) out.push_back(to_py_events(ev, p));
        return out;
    }, py::arg("pcm"), py::arg("config"));
}

}  // namespace pcifilter::py_bindings
