// SPDX-License-Identifier: Apache-2.0
#include "bindings.hpp"
#include "pcifilter/g711.hpp"

namespace pcifilter::py_bindings {
namespace {

using Encode = void (*)(const std::int16_t*, std::uint8_t*, std::size_t) noexcept;
using Decode = void (*)(const std::uint8_t*, std::int16_t*, std::size_t) noexcept;

py::array_t<std::uint8_t> encode(const py::array& pcm, Encode f) {
    auto in = as_pcm(pcm, "pcm", true);
    py::array_t<std::uint8_t> out(in.size());
    const auto* src = in.data();
    auto* dst = out.mutable_data();
    const auto n = static_cast<std::size_t>(in.size());
    {
        py::gil_scoped_release release;
        f(src, dst, n);
    }
    return out;
}

py::array_t<std::int16_t> decode(const py::buffer& codes, Decode f) {
    py::array arr = py::array::ensure(codes);
    if (!arr || !arr.dtype().is(py::dtype::of<std::uint8_t>()) || arr.ndim() != 1)
        throw py::value_error("codes must be a 1-D uint8 array or bytes");
    auto in = py::array_t<std::uint8_t, py::array::c_style>::ensure(arr);
    py::array_t<std::int16_t> out(in.size());
    const auto* src = in.data();
    auto* dst = out.mutable_data();
    const auto n = static_cast<std::size_t>(in.size());
    {
        py::gil_scoped_release release;
        f(src, dst, n);
    }
    return out;
}

py::array as_codes(const py::object& o) {
    if (py::isinstance<py::bytes>(o) || py::isinstance<py::bytearray>(o) ||
        py::isinstance<py::memoryview>(o)) {
        py::array a = py::array::ensure(py::module_::import("numpy").attr("frombuffer")(o, "uint8"));
        return a;
    }
    return py::array::ensure(o);
}

}  // namespace

void bind_g711(py::module_& m) {
    m.def("ulaw_encode", [](const py::array& pcm) { return encode(pcm, encode_ulaw); }, py::arg("pcm"),
          "Encode int16 PCM to G.711 µ-law codes (ITU-T G.191 reference behaviour).");
    m.def("alaw_encode", [](const py::array& pcm) { return encode(pcm, encode_alaw); }, py::arg("pcm"),
          "Encode int16 PCM to G.711 A-law codes (ITU-T G.191 reference behaviour).");
    m.def("ulaw_decode", [](const py::object& c) { return decode(as_codes(c), decode_ulaw); },
          py::arg("codes"), "Decode G.711 µ-law codes (uint8 array or bytes) to int16 PCM.");
    m.def("alaw_decode", [](const py::object& c) { return decode(as_codes(c), decode_alaw); },
          py::arg("codes"), "Decode G.711 A-law codes (uint8 array or bytes) to int16 PCM.");
    m.attr("ULAW_SILENCE") = kUlawSilence;
    m.attr("ALAW_SILENCE") = kAlawSilence;
}

}  // namespace pcifilter::py_bindings
