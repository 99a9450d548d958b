// SPDX-License-Identifier: Apache-2.0
// Per-packet cost of filtering an Opus stream that carries no keypress, against a plain
// libopus decode of the same packets at 48 kHz, side by side in one run (issue 4's target:
// ≤ 1.0×); and the cost of a stream whose keypresses are all masked (re-encoding). The paths
// take turns, nine rounds, best of each.
//
//   .venv/bin/python -m pcifilter.corpus --minutes 1 --out build/corpus
//   g++ -O3 -std=c++17 -Icsrc -I/usr/include/opus bench/opus_filter_bench.cpp csrc/pcifilter/*.cpp -lopus -lpcap -o build/opusbench
//   build/opusbench build/corpus/speech-60s-seed0.raw
//
// With a path after the speech (celt-filter, celt-decode48, voip-filter, voip-decode48) it runs
// that path once and nothing else, for counting instructions (timings vary, counts do not):
//   valgrind --tool=callgrind --callgrind-out-file=build/cg.celt-filter \
//       build/opusbench build/corpus/speech-60s-seed0.raw celt-filter
//   callgrind_annotate --inclusive=yes build/cg.celt-filter | grep -E 'StreamFilter::(push|pop)\(|opus_decode \['
#include <opus.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "pcifilter/stream_filter.hpp"

using namespace pcifilter;

namespace {

using bench::Packets;

// 20 ms packets of 48 kHz audio (8 kHz speech, upsampled by repetition: the codec does not
// care), encoded by libopus in the given mode at 24 kbit/s, with RTP headers.
Packets encode(const std::vector<std::int16_t>& x8, int application) {
    int err = 0;
    OpusEncoder* enc = opus_encoder_create(48000, 1, application, &err);
    opus_encoder_ctl(enc, OPUS_SET_BITRATE(24000));
    Packets out;
    std::vector<std::int16_t> frame(960);
    for (std::size_t i = 0; i + 160 <= x8.size(); i += 160) {
        for (int k = 0; k < 960; ++k) frame[static_cast<std::size_t>(k)] = x8[i + static_cast<std::size_t>(k / 6)];
        std::vector<std::uint8_t> p(12 + 1500);
        bench::rtp_header(p.data(), 111, static_cast<std::uint16_t>(i / 160), static_cast<std::uint32_t>(i * 6));
        const int n = opus_encode(enc, frame.data(), 960, p.data() + 12, 1500);
        p.resize(12 + static_cast<std::size_t>(n));
        out.push_back(p);
    }
    opus_encoder_destroy(enc);
    return out;
}

double best_of(int reps, const std::function<void()>& f) {
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        best = std::min(best, std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::int16_t> x = bench::speech_from_args(argc, argv);
    if (x.empty()) return 2;
    // A keypress every 2 s (100 ms, -10 dBm0 per tone) for the masking case.
    std::vector<std::int16_t> keyed = x;
    for (std::size_t at = 8000; at + 800 < keyed.size(); at += 16000)
        for (std::size_t i = 0; i < 800; ++i) {
            const double v = 2300.0 * (std::sin(2 * M_PI * 852 * i / 8000.0) + std::sin(2 * M_PI * 1477 * i / 8000.0));
            keyed[at + i] = static_cast<std::int16_t>(std::clamp(keyed[at + i] * 0.1 + v, -32768.0, 32767.0));
        }
    if (argc > 2) {  // one path, once: see the top of the file
        const std::string path = argv[2];
        const bool celt = path.rfind("celt-", 0) == 0;
        const Packets packets =
            encode(x, celt ? OPUS_APPLICATION_RESTRICTED_LOWDELAY : OPUS_APPLICATION_VOIP);
        if (path == "celt-filter" || path == "voip-filter") {
            StreamFilterParams params;
            params.payload_types.fill(PayloadKind::Other);
            params.payload_types[111] = PayloadKind::Opus;
            StreamFilter f(params);
            bench::run_through(f, packets);
        } else if (path == "celt-decode48" || path == "voip-decode48") {
            int err = 0;
            OpusDecoder* dec = opus_decoder_create(48000, 1, &err);
            std::vector<std::int16_t> pcm(5760);
            for (const auto& p : packets)
                if (opus_decode(dec, p.data() + 12, static_cast<opus_int32>(p.size() - 12), pcm.data(), 5760, 0) < 0)
                    std::abort();
            opus_decoder_destroy(dec);
        } else {
            std::fprintf(stderr, "unknown path %s\n", path.c_str());
            return 2;
        }
        std::printf("%zu packets\n", packets.size());
        return 0;
    }
    std::printf("%-34s %12s %10s\n", "path (20 ms packets, 24 kbit/s)", "ns/packet", "x decode");
    for (auto [name, app] : {std::pair{"voip (SILK/hybrid)", OPUS_APPLICATION_VOIP},
                             std::pair{"restricted low delay (CELT)", OPUS_APPLICATION_RESTRICTED_LOWDELAY}}) {
        const Packets packets = encode(x, app), keyed_packets = encode(keyed, app);
        const double n = static_cast<double>(packets.size());
        std::vector<std::int16_t> pcm(5760);
        const auto decode_all = [&](int rate) {
            int err = 0;
            OpusDecoder* dec = opus_decoder_create(rate, 1, &err);
            for (const auto& p : packets)
                if (opus_decode(dec, p.data() + 12, static_cast<opus_int32>(p.size() - 12), pcm.data(), 5760, 0) < 0)
                    std::abort();  // the bench's own packets always decode
            opus_decoder_destroy(dec);
        };
        std::uint64_t reencoded[4] = {};
        const auto filter_all = [&](const Packets& in, int rate, std::uint64_t* count) {
            StreamFilterParams params;
            params.payload_types.fill(PayloadKind::Other);
            params.payload_types[111] = PayloadKind::Opus;
            params.scrub.sample_rate = rate;
            StreamFilter f(params);
            bench::run_through(f, in);
            *count = f.stats().reencoded;
        };
        // The paths take turns, round after round (this VM's speed drifts): best of 9 each.
        double best[6] = {1e30, 1e30, 1e30, 1e30, 1e30, 1e30};
        for (int round = 0; round < 9; ++round) {
            best[0] = std::min(best[0], best_of(1, [&] { decode_all(48000); }));
            best[5] = std::min(best[5], best_of(1, [&] { decode_all(8000); }));
            best[1] = std::min(best[1], best_of(1, [&] { filter_all(packets, 8000, &reencoded[0]); }));
            best[2] = std::min(best[2], best_of(1, [&] { filter_all(keyed_packets, 8000, &reencoded[1]); }));
            best[3] = std::min(best[3], best_of(1, [&] { filter_all(packets, 16000, &reencoded[2]); }));
            best[4] = std::min(best[4], best_of(1, [&] { filter_all(keyed_packets, 16000, &reencoded[3]); }));
        }
        const double decode = best[0];
        std::printf("%s\n", name);
        std::printf("  %-32s %12.0f %10.2f\n", "libopus decode at 48 kHz", decode / n, 1.0);
        std::printf("  %-32s %12.0f %10.2f\n", "(libopus decode at 8 kHz alone)", best[5] / n, best[5] / decode);
        for (int k = 0; k < 2; ++k) {
            const double plain = best[1 + 2 * k], masking = best[2 + 2 * k];
            std::printf("  filter, decode at %5d Hz        %12.0f %10.2f   (%llu of %zu packets re-encoded)\n",
                        k == 0 ? 8000 : 16000, plain / n, plain / decode,
                        static_cast<unsigned long long>(reencoded[2 * k]), packets.size());
            std::printf("  ... with a keypress every 2 s     %12.0f %10.2f   (%llu re-encoded)\n", masking / n,
                        masking / decode, static_cast<unsigned long long>(reencoded[2 * k + 1]));
        }
    }
}
