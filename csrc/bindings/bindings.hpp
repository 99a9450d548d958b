// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "pcifilter/scrubber.hpp"

namespace pcifilter::py_bindings {

namespace py = pybind11;

// A ToneEvent as Python sees it: times at the stream's rate plus the tone's name.
struct PyToneEvent {
    ToneEvent event;
    int sample_rate = 8000;
    std::string name;
    bool on_rtp = false;  // from a stream filter: where it is on the RTP stream
    std::uint32_t ssrc = 0, timestamp = 0, duration = 0;
    // A keypress that came through pickle: its digit stayed behind (event.digit is 0).
    bool withheld = false;
};

PyToneEvent to_py_event(const ToneEvent& e, const ScrubberParams& params);
using PyEvents = std::vector<PyToneEvent>;
using PySpans = std::vector<std::pair<std::int64_t, std::int64_t>>;
PyEvents to_py_events(const std::vector<ToneEvent>& events, const ScrubberParams& params);
PyEvents to_py_events(const std::vector<StreamEvent>& events, const ScrubberParams& params);

// Whether `a` holds T in native byte order. By equivalence, not identity: an array that
// came through pickle (multiprocessing, joblib) has its own dtype object, equal to numpy's
// int16 but not the same object, and must be accepted like any other.
template <typename T>
bool holds(const py::handle& a) {
    return py::isinstance<py::array_t<T>>(a);
}

// Checks a 1-D int16 array and returns it as C-contiguous.
py::array_t<std::int16_t, py::array::c_style> as_pcm(const py::array& pcm, const char* what,
                                                     bool allow_empty);

// Checks a 2-D (streams x samples) int16 array and returns it as C-contiguous.
py::array_t<std::int16_t, py::array::c_style> as_pcm_2d(const py::array& pcm);

// The caller's output array for `in`'s samples: `out` when given (int16, C-contiguous,
// writeable, `in`'s shape, sharing no memory with it), else a new one. A server that hands
// the same array to every call allocates nothing per frame.
py::array_t<std::int16_t> output_for(const py::array& in, const py::object& out);

void bind_g711(py::module_& m);
void bind_events(py::module_& m);
void bind_detectors(py::module_& m);
void bind_scrubber(py::module_& m);
void bind_rtp(py::module_& m);
void bind_stream_filter(py::module_& m);
void bind_bench(py::module_& m);
void bind_capture(py::module_& m);

}  // namespace pcifilter::py_bindings
