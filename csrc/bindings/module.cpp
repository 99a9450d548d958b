// SPDX-License-Identifier: Apache-2.0
#include "bindings.hpp"

#include <string>
#include <vector>

namespace pcifilter::py_bindings {

py::array_t<std::int16_t, py::array::c_style> as_pcm(const py::array& pcm, const char* what,
                                                     bool allow_empty) {
    if (!py::isinstance<py::array>(pcm))
        throw py::value_error(std::string(what) + " must be a numpy array of int16");
    if (!holds<std::int16_t>(pcm))
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
    if (!py::isinstance<py::array>(pcm) || !holds<std::int16_t>(pcm) ||
        pcm.ndim() != 2)
        throw py::value_error("pcm must be a 2-D int16 array (streams x samples)");
    if (pcm.shape(0) == 0 || pcm.shape(1) == 0) throw py::value_error("pcm is empty");
    return py::array_t<std::int16_t, py::array::c_style>::ensure(pcm);
}

py::array_t<std::int16_t> output_for(const py::array& in, const py::object& out) {
    const std::vector<py::ssize_t> shape(in.shape(), in.shape() + in.ndim());
    if (out.is_none()) return py::array_t<std::int16_t>(shape);
    if (!py::isinstance<py::array>(out)) throw py::value_error("out must be a numpy array of int16");
    auto a = py::reinterpret_borrow<py::array>(out);
    if (!holds<std::int16_t>(a))
        throw py::value_error("out must have dtype int16, not " + std::string(py::str(a.dtype())));
    const std::vector<py::ssize_t> out_shape(a.shape(), a.shape() + a.ndim());
    if (out_shape != shape)
        throw py::value_error("out must have the input's shape " + std::string(py::str(py::cast(shape))) +
                              ", not " + std::string(py::str(py::cast(out_shape))));
    if (!(a.flags() & py::array::c_style)) throw py::value_error("out must be C-contiguous");
    if (!a.writeable()) throw py::value_error("out must be writeable");
    // The output is the input delayed: written in place it would overwrite samples not yet read.
    const auto* o = static_cast<const char*>(a.data());
    const auto* i = static_cast<const char*>(in.data());
    if (a.nbytes() > 0 && in.nbytes() > 0 && o < i + in.nbytes() && i < o + a.nbytes())
        throw py::value_error("out must not share memory with the input");
    return py::reinterpret_borrow<py::array_t<std::int16_t>>(a);
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
