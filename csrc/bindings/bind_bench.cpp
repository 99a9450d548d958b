// SPDX-License-Identifier: Apache-2.0
// Timing helpers for `pcifilter bench` and bench/: the C++ stream filter's own cost per packet
// (no Python per packet), and for Opus the reference it is judged against, a plain libopus
// decode of the same packets, timed in the same run.
#include <opus.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "pcifilter/correlator_bank.hpp"
#include "pcifilter/dtmf_detector.hpp"
#include "pcifilter/rtp.hpp"
#include "pcifilter/stream_filter.hpp"

namespace pcifilter::py_bindings {

namespace {

using Packets = std::vector<std::pair<const std::uint8_t*, std::size_t>>;

// The bytes objects' buffers, read in place (the caller keeps the list alive).
Packets as_packets(const std::vector<py::bytes>& batch) {
    Packets packets;
    for (const py::bytes& b : batch)
        packets.emplace_back(reinterpret_cast<const std::uint8_t*>(PyBytes_AS_STRING(b.ptr())),
                             static_cast<std::size_t>(PyBytes_GET_SIZE(b.ptr())));
    if (packets.empty()) throw py::value_error("no packets");
    return packets;
}

// Every packet through a fresh filter, what comes out taken; returns packets re-encoded.
std::uint64_t run_filter(const StreamFilterParams& params, const Packets& packets) {
    StreamFilter f(params);
    std::uint8_t out[StreamFilter::kMaxPacket];
    std::size_t n = 0;
    for (const auto& [data, len] : packets) {
        f.push(data, len);
        while (f.pop(out, &n)) {
        }
        f.events().clear();
    }
    f.flush();
    while (f.pop(out, &n)) {
    }
    return f.stats().reencoded;
}

// Best time in ns of each path, the paths taking turns round after round (a drift in the
// machine's speed reaches them alike).
std::vector<double> best_of_turns(const std::vector<std::function<void()>>& paths, int rounds) {
    std::vector<double> best(paths.size(), 1e300);
    for (int r = 0; r < rounds; ++r)
        for (std::size_t i = 0; i < paths.size(); ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            paths[i]();
            best[i] = std::min(best[i], std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
        }
    return best;
}

double time_stream_filter(const std::vector<py::bytes>& batch, int rounds) {
    if (rounds < 1) throw py::value_error("rounds must be at least 1");
    const Packets packets = as_packets(batch);
    py::gil_scoped_release release;
    const StreamFilterParams params;
    return best_of_turns({[&] { run_filter(params, packets); }}, rounds)[0] / static_cast<double>(packets.size());
}

// The RTP payload of each packet (12-byte header, no CSRC/extension: what opus_rtp_packets
// makes).
void decode_all(const Packets& packets, int rate, std::vector<std::int16_t>& pcm) {
    int err = 0;
    OpusDecoder* dec = opus_decoder_create(rate, 1, &err);
    if (dec == nullptr) throw std::runtime_error("libopus: cannot create a decoder");
    for (const auto& [data, len] : packets)
        static_cast<void>(opus_decode(dec, data + 12, static_cast<opus_int32>(len - 12), pcm.data(),
                                      static_cast<int>(pcm.size()), 0));
    opus_decoder_destroy(dec);
}

std::vector<py::bytes> opus_rtp_packets(const py::array& pcm_in, const std::string& application, int bitrate,
                          int payload_type) {
    const auto pcm = as_pcm(pcm_in, "pcm", false);
    int app = 0;
    if (application == "voip") app = OPUS_APPLICATION_VOIP;
    else if (application == "celt") app = OPUS_APPLICATION_RESTRICTED_LOWDELAY;
    else throw py::value_error("application must be 'voip' or 'celt'");
    if (bitrate < 6000 || bitrate > 510000) throw py::value_error("bitrate must be within [6000, 510000]");
    if (payload_type < 96 || payload_type > 127) throw py::value_error("payload_type must be within [96, 127]");
    int err = 0;
    OpusEncoder* enc = opus_encoder_create(48000, 1, app, &err);
    if (enc == nullptr) throw std::runtime_error("libopus: cannot create an encoder");
    opus_encoder_ctl(enc, OPUS_SET_BITRATE(bitrate));
    const std::int16_t* x = pcm.data();
    std::vector<py::bytes> out;
    std::int16_t frame[960];
    std::uint8_t p[12 + 1500] = {0x80};  // RTP version 2, no padding, extension or CSRC
    RtpHeader h;
    h.payload_type = static_cast<std::uint8_t>(payload_type);
    h.ssrc = 7;
    for (py::ssize_t i = 0; i + 160 <= pcm.size(); i += 160) {
        // 8 kHz repeated to 48 kHz (the codec does not care), as bench/opus_filter_bench.cpp.
        for (int k = 0; k < 960; ++k) frame[k] = x[i + k / 6];
        h.sequence = static_cast<std::uint16_t>(i / 160);
        h.timestamp = static_cast<std::uint32_t>(i * 6);
        rewrite_rtp_fixed_header(p, h);
        const int n = opus_encode(enc, frame, 960, p + 12, 1500);
        if (n <= 0) {
            opus_encoder_destroy(enc);
            throw std::runtime_error("libopus: encoding failed");
        }
        out.emplace_back(reinterpret_cast<const char*>(p), static_cast<std::size_t>(12 + n));
    }
    opus_encoder_destroy(enc);
    return out;
}

std::map<std::string, double> time_opus_filter(const std::vector<py::bytes>& batch, int rounds, int payload_type) {
    if (rounds < 1) throw py::value_error("rounds must be at least 1");
    if (payload_type < 96 || payload_type > 127) throw py::value_error("payload_type must be within [96, 127]");
    const Packets packets = as_packets(batch);
    for (const auto& [data, len] : packets)
        if (len < 13) throw py::value_error("packets must be RTP (12-byte header) with an Opus payload");
    StreamFilterParams params;
    params.payload_types.fill(PayloadKind::Other);
    params.payload_types[static_cast<std::size_t>(payload_type)] = PayloadKind::Opus;
    params.validate();
    std::uint64_t reencoded = 0;
    std::vector<double> best;
    {
        py::gil_scoped_release release;
        std::vector<std::int16_t> pcm(5760);
        best = best_of_turns({[&] { decode_all(packets, 48000, pcm); }, [&] { decode_all(packets, 8000, pcm); },
                              [&] { reencoded = run_filter(params, packets); }},
                             rounds);
    }
    const auto n = static_cast<double>(packets.size());
    return {{"decode_48k_ns", best[0] / n},
            {"decode_8k_ns", best[1] / n},
            {"filter_ns", best[2] / n},
            {"packets", n},
            {"reencoded", static_cast<double>(reencoded)}};
}

std::size_t opus_decode_packets(const std::vector<py::bytes>& batch, int sample_rate) {
    if (sample_rate != 8000 && sample_rate != 12000 && sample_rate != 16000 && sample_rate != 24000 &&
        sample_rate != 48000)
        throw py::value_error("sample_rate must be 8000, 12000, 16000, 24000 or 48000");
    const Packets packets = as_packets(batch);
    py::gil_scoped_release release;
    std::vector<std::int16_t> pcm(static_cast<std::size_t>(sample_rate / 1000 * 120));
    decode_all(packets, sample_rate, pcm);
    return packets.size();
}

// The DTMF correlator bank's fused pass (sums, rotation, window powers) over the audio, four
// 5 ms sub-blocks a call as the detector takes a 20 ms frame (block_windows4), once with the
// kernels of each instruction set this CPU runs, taking turns: ns per sub-block by set name.
// The detector uses the widest (`bank_isa()`).
std::map<std::string, double> time_correlator_kernels(const py::array& pcm_in, int rounds) {
    if (rounds < 1) throw py::value_error("rounds must be at least 1");
    const auto pcm = as_pcm(pcm_in, "pcm", false);
    const std::size_t calls = static_cast<std::size_t>(pcm.size()) / (4 * DtmfDetector::kSubBlock);
    if (calls < 1) throw py::value_error("pcm must hold at least 160 samples");
    const std::vector<double> freqs(DtmfDetector::kFreqs.begin(), DtmfDetector::kFreqs.end());
    std::vector<std::shared_ptr<const BankTables>> tables;
    for (BankIsa isa : kBankIsas)
        if (bank_isa_runs(isa))
            tables.push_back(
                std::make_shared<const BankTables>(freqs, DtmfDetector::kSubBlock, 8000.0, isa));
    const std::int16_t* x = pcm.data();
    std::vector<std::function<void()>> paths;
    for (const auto& t : tables)
        paths.emplace_back([&, t] {
            CorrelatorBank bank(t, false);
            SubBlock sub[2][4] = {};  // this call's four sub-blocks and the last call's
            WindowPeaks peaks[4];
            float q[4 * kBankMaxFreqs];
            for (std::size_t c = 0; c < calls; ++c) {
                const SubBlock* last = sub[(c + 1) % 2];
                bank.block_windows4(x + c * 4 * DtmfDetector::kSubBlock, last[2], last[3], sub[c % 2],
                                    peaks, q);
            }
        });
    std::vector<double> best;
    {
        py::gil_scoped_release release;
        best = best_of_turns(paths, rounds);
    }
    std::map<std::string, double> out;
    for (std::size_t i = 0; i < tables.size(); ++i)
        out[bank_isa_name(tables[i]->isa)] = best[i] / static_cast<double>(4 * calls);
    return out;
}

}  // namespace

void bind_bench(py::module_& m) {
    m.def("bank_isa", [] { return std::string(bank_isa_name(dtmf_bank_tables()->isa)); },
          "The instruction set of the DTMF correlator kernels in use: 'avx512vnni', "
          "'avx512vnni_ymm' (256-bit registers only: CPUs whose clock drops under 512-bit "
          "multiplies), 'avxvnni' (VEX form, no AVX-512), 'avx2' or 'portable'. Picked at run "
          "time: the environment variable PCIFILTER_ISA when set (narrowed to what this CPU "
          "runs), else cpu_bank_isa(); every set gives the same results. ValueError when "
          "PCIFILTER_ISA names no set.");
    m.def("bank_isas_run", [] {
        std::vector<std::string> names;
        for (BankIsa isa : kBankIsas)
            if (bank_isa_runs(isa)) names.emplace_back(bank_isa_name(isa));
        return names;
    }, "The instruction sets of the correlator kernels this CPU runs, narrowest first.");
    m.def("cpu_bank_isa", [] { return std::string(bank_isa_name(cpu_bank_isa())); },
          "The widest instruction set this CPU runs well, whatever PCIFILTER_ISA says.");
    m.def("time_correlator_kernels", &time_correlator_kernels, py::arg("pcm"),
          py::arg("rounds") = 5,
          "Best time in ns per 5 ms sub-block of the DTMF correlator bank's fused pass over 8 kHz "
          "int16 audio, four sub-blocks a call as the detector takes a 20 ms frame, with the "
          "kernels of each instruction set this CPU runs, taking turns (GIL released): a dict "
          "by set name.");
    m.def("time_stream_filter", &time_stream_filter, py::arg("packets"), py::arg("rounds") = 5,
          "Best time in ns per packet of a fresh C++ StreamFilter (defaults: PCMU 0, "
          "telephone-event 101, filtering on) over the packets, timed in C++ with the GIL "
          "released: the filter's own cost, for `pcifilter bench`.");
    m.def("opus_rtp_packets", &opus_rtp_packets, py::arg("pcm"), py::arg("application") = "celt",
          py::arg("bitrate") = 24000, py::arg("payload_type") = 111,
          "8 kHz int16 audio as 20 ms mono Opus RTP packets (libopus at 48 kHz, the samples "
          "repeated; 'celt': restricted low delay, CELT-only; 'voip': SILK/hybrid), SSRC 7: "
          "test streams for the benchmarks.");
    m.def("time_opus_filter", &time_opus_filter, py::arg("packets"), py::arg("rounds") = 5,
          py::arg("payload_type") = 111,
          "Best time in ns per packet of a plain libopus decode at 48 kHz, one at 8 kHz, and a "
          "fresh C++ StreamFilter (Opus at `payload_type`, filtering on) over the same RTP "
          "packets, taking turns, GIL released; with the packets re-encoded by the filter.");
    m.def("opus_decode_packets", &opus_decode_packets, py::arg("packets"), py::arg("sample_rate") = 48000,
          "Decodes the Opus RTP packets (12-byte headers) with a fresh libopus decoder, output "
          "dropped: the reference path of the Opus benchmarks. Returns the packet count.");
}

}  // namespace pcifilter::py_bindings
