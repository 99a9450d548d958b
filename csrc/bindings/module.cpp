// SPDX-License-Identifier: Apache-2.0
#include "bindings.hpp"

namespace pcifilter::py_bindings {

py::array_t<std::int16_t, py::array::c_style> as_pcm(const py::array& pcm, const char* what,
                                                     bool allow_empty) {
    if (!py::isinstance<py::array>(pcm))
        throw py::value_error(std::string(what) + " must be a numpy array of int16");
    if (!pcm.dtype().is(py::dtype::of<std::int16_t>()))
        throw py::value_error(std::string(what) + " must have dtype int16, not " +
                              std::string(py::str(pcm.dtype())));
    if (pcm.ndim() != 1)
        throw py::value_error(std::string(what) + " must be 1-D, not " + std::to_string(pcm.ndim()) + "-D");
    if (!allow_empty && pcm.size() == 0) throw py::value_error(std::string(what) + " is empty");
    if (pcm.size() > (std::int64_t{1} << 31))
        throw py::value_error(std::string(what) + " is too large (more than 2**31 samples)");
    return py::array_t<std::int16_t, py::array::c_style>::ensure(pcm);
}

py::array_t<std::int16_t, py::array::c_style> as_pcm_2d(const py::array& pcm) {
    if (!py::isinstance<py::array>(pcm) || !pcm.dtype().is(py::dtype::of<std::int16_t>()) ||
        pcm.ndim() != 2)
        throw py::value_error("pcm must be a 2-D int16 array (streams x samples)");
    if (pcm.shape(0) == 0 || pcm.shape(1) == 0) throw py::value_error("pcm is empty");
    return py::array_t<std::int16_t, py::array::c_style>::ensure(pcm);
}

}  // namespace pcifilter::py_bindings

PYBIND11_MODULE(_core, m) {
    namespace pb = pcifilter::py_bindings;
    m.doc() = "pcifilter C++ core: G.711, DTMF/tone detection and leak-free masking";
    m.attr("__version__") = PCIFILTER_VERSION;
    pb::bind_g711(m);
    pb::bind_events(m);
    pb::bind_detectors(m);
    pb::bind_scrubber(m);
    pb::bind_rtp(m);
    pb::bind_stream_filter(m);
    pb::bind_capture(m);
    pb::bind_bench(m);
}
