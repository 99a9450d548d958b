// SPDX-License-Identifier: Apache-2.0
#include "bindings.hpp"
#include "pcifilter/g711.hpp"

namespace pcifilter::py_bindings {
namespace {

// One G.711 conversion over a whole array, with the GIL released.
template <typename In, typename Out>
py::array_t<Out> convert(const py::array_t<In, py::array::c_style>& in,
                         void (*f)(const In*, Out*, std::size_t) noexcept) {
    py::array_t<Out> out(in.size());
    const In* src = in.data();
    Out* dst = out.mutable_data();
    const auto n = static_cast<std::size_t>(in.size());
    {
        py::gil_scoped_release release;
        f(src, dst, n);
    }
    return out;
}

py::array_t<std::uint8_t> encode(const py::array& pcm,
                                 void (*f)(const std::int16_t*, std::uint8_t*, std::size_t) noexcept) {
    return convert<std::int16_t, std::uint8_t>(as_pcm(pcm, "pcm", true), f);
}

py::array_t<std::int16_t> decode(const py::buffer& codes,
                                 void (*f)(const std::uint8_t*, std::int16_t*, std::size_t) noexcept) {
    py::array arr = py::array::ensure(codes);
    if (!arr || !holds<std::uint8_t>(arr) || arr.ndim() != 1)
        throw py::value_error("codes must be a 1-D uint8 array or bytes");
    return convert<std::uint8_t, std::int16_t>(py::array_t<std::uint8_t, py::array::c_style>::ensure(arr), f);
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
