// SPDX-License-Identifier: Apache-2.0
// The Python StreamFilter: a C++ StreamFilter behind a mutex (calls release the GIL).
#pragma once

#include <algorithm>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pybind11/typing.h>

#include "bindings.hpp"
#include "pcifilter/stream_filter.hpp"

namespace pcifilter::py_bindings {

class PyStreamFilter {
public:
    PyStreamFilter(const ScrubberParams& scrub, int te_pt, int pcmu_pt, int pcma_pt, int cn_pt,
                   const std::string& telephone_events, int opus_pt, int opus_bitrate,
                   bool pass_unknown_payloads, int te_8000_pt, std::optional<double> reorder_window_ms = {},
                   std::optional<double> max_gap_ms = {}, bool g711_beside_opus = false,
                   const std::vector<std::pair<int, std::string>>& more = {})
        : params_(make_params(scrub, te_pt, pcmu_pt, pcma_pt, cn_pt, telephone_events, opus_pt, opus_bitrate,
                              te_8000_pt, reorder_window_ms, max_gap_ms, g711_beside_opus, more)),
          f_((params_.pass_unknown_payloads = pass_unknown_payloads, params_)) {}

    // One packet (bytes-like) or an iterable of them. The packets are read in place: each is
    // held (bytes as they are; bytearray, memoryview, ... copied into bytes once) while the
    // GIL is released. What comes out is gathered in one buffer per call (no allocation per
    // packet) and turned into bytes objects once the GIL is back. CPython calls, not
    // pybind11 casters: this is the per-packet path.
    py::typing::List<py::bytes> process(const py::object& packets) {
        std::vector<py::object> held;
        const auto hold = [&](PyObject* item) {
            if (PyBytes_CheckExact(item)) {
                held.push_back(py::reinterpret_borrow<py::object>(item));
                return;
            }
            PyObject* b = PyBytes_FromObject(item);  // a buffer or bytes-like; TypeError else
            if (b == nullptr) throw py::error_already_set();
            held.push_back(py::reinterpret_steal<py::object>(b));
        };
        if (is_one_packet(packets.ptr())) {
            hold(packets.ptr());
        } else {
            const py::object seq = py::reinterpret_steal<py::object>(
                PySequence_Fast(packets.ptr(), "packets must be bytes or an iterable of bytes"));
            if (!seq) throw py::error_already_set();
            const Py_ssize_t n = PySequence_Fast_GET_SIZE(seq.ptr());
            PyObject** items = PySequence_Fast_ITEMS(seq.ptr());
            held.reserve(static_cast<std::size_t>(n));
            for (Py_ssize_t i = 0; i < n; ++i) hold(items[i]);
        }
        std::vector<std::pair<const std::uint8_t*, std::size_t>> in;
        in.reserve(held.size());
        for (const py::object& b : held)
            in.emplace_back(reinterpret_cast<const std::uint8_t*>(PyBytes_AS_STRING(b.ptr())),
                            static_cast<std::size_t>(PyBytes_GET_SIZE(b.ptr())));
        Output out;
        {
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(mutex_);
            out.reserve(in.size());
            for (const auto& [data, len] : in) {
                f_.push(data, len);
                drain(out);
            }
        }
        return out.to_list();
    }
    // Whether `o` is one packet rather than a batch: bytes-like, or any object whose buffer
    // is a flat run of bytes (a numpy uint8 array, array.array('B'), an mmap's slice). Before,
    // such a buffer was iterated as a batch: a packet in a numpy array went in as 172 packets
    // of one byte, each dropped as too short. A buffer of any other shape or item size is
    // neither (a 2-D array of packets, int16 samples): a TypeError. A buffer of Python objects
    // (a numpy array of bytes objects) and objects with no buffer to give are batches.
    static bool is_one_packet(PyObject* o) {
        if (PyBytes_Check(o) || PyByteArray_Check(o) || PyMemoryView_Check(o)) return true;
        if (!PyObject_CheckBuffer(o)) return false;
        Py_buffer view;
        if (PyObject_GetBuffer(o, &view, PyBUF_RECORDS_RO) != 0) {
            PyErr_Clear();
            return false;
        }
        const bool flat = view.ndim <= 1 && view.itemsize == 1;
        const bool objects = view.format != nullptr && std::string_view(view.format) == "O";
        PyBuffer_Release(&view);
        if (objects) return false;
        if (!flat)
            throw py::type_error("a packet must be bytes-like: a buffer of bytes, one dimension "
                                 "(not a buffer of another shape or item size)");
        return true;
    }

    py::typing::List<py::bytes> flush() {
        Output out;
        {
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(mutex_);
            f_.flush();
            drain(out);
        }
        return out.to_list();
    }
    py::typing::List<py::bytes> advance(std::uint32_t timestamp) {
        Output out;
        {
            py::gil_scoped_release release;
            std::lock_guard<std::mutex> lock(mutex_);
            f_.advance(timestamp);
            drain(out);
        }
        return out.to_list();
    }
    PyEvents take_events() {
        std::lock_guard<std::mutex> lock(mutex_);
        PyEvents ev = to_py_events(f_.events(), params_.scrub);
        f_.events().clear();
        return ev;
    }
    std::map<std::string, std::uint64_t> stats() {
        std::lock_guard<std::mutex> lock(mutex_);
        const StreamFilterStats& s = f_.stats();
        std::map<std::string, std::uint64_t> d;
        for (std::size_t k = 0; k < stream_stat_count(); ++k) d[stream_stat_name(k)] = stream_stat_value(s, k);
        return d;
    }
    bool mask(std::uint32_t timestamp, std::uint32_t duration) {
        std::lock_guard<std::mutex> lock(mutex_);
        return f_.mask(timestamp, duration);
    }
    std::vector<std::pair<std::uint32_t, std::uint32_t>> take_masked() {
        std::lock_guard<std::mutex> lock(mutex_);
        std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
        out.reserve(f_.masked_spans().size());
        for (const StreamFilter::MaskedSpan& m : f_.masked_spans()) out.emplace_back(m.timestamp, m.duration);
        f_.masked_spans().clear();
        return out;
    }
    void set_filtering(bool on) {
        std::lock_guard<std::mutex> lock(mutex_);
        f_.set_filtering(on);
    }
    bool filtering() const { return f_.filtering(); }
    void guard_ends(bool start, bool end) {
        std::lock_guard<std::mutex> lock(mutex_);
        f_.guard_ends(start, end);
    }
    // The filter itself, for C++ work done under the same lock (capture scrubbing).
    template <class Fn>
    auto with_filter(Fn&& fn) {
        std::lock_guard<std::mutex> lock(mutex_);
        return fn(f_);
    }
    int delay() const { return f_.delay_samples(); }
    int clock_rate() {
        std::lock_guard<std::mutex> lock(mutex_);
        return f_.clock_rate();
    }

private:
    static StreamFilterParams make_params(const ScrubberParams& scrub, int te, int pcmu, int pcma, int cn,
                                          const std::string& telephone_events, int opus, int opus_bitrate,
                                          int te_8000, std::optional<double> reorder_window_ms,
                                          std::optional<double> max_gap_ms, bool g711_beside_opus,
                                          const std::vector<std::pair<int, std::string>>& more) {
        StreamFilterParams p;
        // None: the default; at the decode rate. Out of range: ValueError (here or validate()).
        if (max_gap_ms) p.max_gap_samples = samples_of_ms(*max_gap_ms, scrub.sample_rate, "max_gap_ms");
        if (reorder_window_ms)
            p.reorder_window_samples = samples_of_ms(*reorder_window_ms, scrub.sample_rate, "reorder_window_ms");
        if (telephone_events == "drop") p.telephone_events = TelephoneEventAction::Drop;
        else if (telephone_events == "replace") p.telephone_events = TelephoneEventAction::Replace;
        else throw py::value_error("telephone_events must be 'drop' or 'replace'");
        PayloadTypeNumbers numbers{pcmu, pcma, cn, te, opus, te_8000, g711_beside_opus, {}};
        // Further types of a kind, by the name of its argument (RtpStreamFilter's lists).
        static const std::pair<const char*, PayloadKind> kinds[] = {
            {"pcmu", PayloadKind::Pcmu},
            {"pcma", PayloadKind::Pcma},
            {"cn", PayloadKind::ComfortNoise},
            {"telephone_event", PayloadKind::TelephoneEvent},
            {"telephone_event_8000", PayloadKind::TelephoneEvent8000},
            {"opus", PayloadKind::Opus},
        };
        for (const auto& [pt, name] : more) {
            const auto* k = std::find_if(std::begin(kinds), std::end(kinds), [&](const auto& e) { return name == e.first; });
            if (k == std::end(kinds)) throw py::value_error("no payload type kind '" + name + "'");
            numbers.more.emplace_back(pt, k->second);
        }
        p.payload_types = payload_type_map(numbers);  // ValueError
        p.opus_bitrate = opus_bitrate;
        p.scrub = scrub;
        p.validate();
        return p;
    }
    // Packets out, back to back in one buffer.
    struct Output {
        std::vector<std::uint8_t> bytes;
        std::vector<std::size_t> ends;
        void reserve(std::size_t packets) {
            ends.reserve(packets + 8);
            bytes.reserve((packets + 8) * 200);  // a 20 ms G.711 packet is 172 bytes
        }
        py::typing::List<py::bytes> to_list() const {
            PyObject* l = PyList_New(static_cast<Py_ssize_t>(ends.size()));
            if (l == nullptr) throw py::error_already_set();
            auto list = py::reinterpret_steal<py::typing::List<py::bytes>>(l);
            std::size_t start = 0;
            for (std::size_t i = 0; i < ends.size(); ++i) {
                PyObject* b = PyBytes_FromStringAndSize(reinterpret_cast<const char*>(bytes.data() + start),
                                                        static_cast<Py_ssize_t>(ends[i] - start));
                if (b == nullptr) throw py::error_already_set();
                PyList_SET_ITEM(l, static_cast<Py_ssize_t>(i), b);  // steals the reference
                start = ends[i];
            }
            return list;
        }
    };
    void drain(Output& out) {
        std::uint8_t buf[StreamFilter::kMaxPacket];
        std::size_t n = 0;
        while (f_.pop(buf, &n)) {
            out.bytes.insert(out.bytes.end(), buf, buf + n);
            out.ends.push_back(out.bytes.size());
        }
    }

    StreamFilterParams params_;
    StreamFilter f_;
    std::mutex mutex_;
};


}  // namespace pcifilter::py_bindings
