// SPDX-License-Identifier: Apache-2.0
// The heap one stream filter holds (G.711 and Opus), then the per-packet cost of the C++
// stream filter alone (no Python): 20 ms PCMU packets of 60 s of
// audio, filtering on, best of 7; then the same speech with a keypress every 2 s sent as
// RFC 4733 events (an update every 20 ms, the end packet three times, as a gateway sends
// them: the events dropped, the sequence renumbered, the audio under them masked), and sent
// in-band as well (80 ms at -10 dBm0 per tone: found, masked and re-encoded); then a sender
// whose timestamps jump just under max_gap_ms from packet to packet, without and with an
// RFC 4733 event of 8.2 s begun at each packet (its mask reaching over the pause); then a
// filter of both families (G.711 beside Opus): the PCMU stream alone through it, and a
// sender switching between PCMU and Opus every second and every packet (each switch a new
// timeline), against the same packets' cost unswitched (each family through its own filter).
//
//   .venv/bin/python -m pcifilter.corpus --minutes 1 --out build/corpus
//   g++ -O3 -std=c++17 -Icsrc -I/usr/include/opus bench/stream_filter_bench.cpp csrc/pcifilter/*.cpp -lopus -lpcap -o build/sfbench
//   build/sfbench build/corpus/speech-60s-seed0.raw
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <vector>

#include "pcifilter/g711.hpp"
#include "bench_common.hpp"
#include "pcifilter/opus_codec.hpp"
#include "pcifilter/stream_filter.hpp"

using namespace pcifilter;

namespace {

// The speech with a keypress every 2 s in-band, as 20 ms PCMU packets with the RFC 4733
// packets of each keypress among them (one running sequence).
bench::Packets keyed_packets(std::vector<std::int16_t> x, bool inband, std::size_t* audio) {
    const double rows[4] = {697, 770, 852, 941}, cols[4] = {1209, 1336, 1477, 1633};
    const double a = 32768 * std::pow(10.0, (-10.0 - 3.14) / 20.0);
    constexpr std::size_t kEvery = 16000, kOn = 640, kAt = 4000;  // 2 s, 80 ms
    for (std::size_t k = 0, at = kAt; inband && at + kOn < x.size(); at += kEvery, ++k)
        for (std::size_t i = 0; i < kOn; ++i) {
            const double v = x[at + i] + a * std::sin(2 * M_PI * rows[k % 4] * double(i) / 8000) +
                             a * std::sin(2 * M_PI * cols[(k / 4) % 4] * double(i) / 8000);
            x[at + i] = static_cast<std::int16_t>(std::clamp(std::round(v), -32768.0, 32767.0));
        }
    bench::Packets out;
    std::uint16_t seq = 0;
    *audio = 0;
    for (std::size_t i = 0; i + 160 <= x.size(); i += 160) {
        std::vector<std::uint8_t> p(12 + 160, 0);
        bench::rtp_header(p.data(), 0, seq++, static_cast<std::uint32_t>(i));
        encode_ulaw(&x[i], p.data() + 12, 160);
        out.push_back(p);
        ++*audio;
        const std::size_t into = (i + 160 + kEvery - kAt) % kEvery;  // samples into a keypress
        if (i + 160 < kAt || into == 0 || into > kOn) continue;
        const std::size_t start = i + 160 - into;
        const bool end = into == kOn;
        for (int copy = 0; copy < (end ? 3 : 1); ++copy) {
            std::vector<std::uint8_t> e(12 + 4, 0);
            bench::rtp_header(e.data(), 101, seq++, static_cast<std::uint32_t>(start));
            e[1] |= into == 160 ? 0x80 : 0;  // marker on the first packet
            e[12] = static_cast<std::uint8_t>((start / kEvery) % 16);
            e[13] = static_cast<std::uint8_t>((end ? 0x80 : 0) | 10);
            e[14] = static_cast<std::uint8_t>(into >> 8), e[15] = static_cast<std::uint8_t>(into & 0xFF);
            out.push_back(e);
        }
    }
    return out;
}

// The speech as 20 ms packets of one SSRC, PCMU and Opus (16 kbit/s, PT 111) in turns of
// `turn` packets, each family's timestamps on its own clock (`only` 0 or 1: every packet
// PCMU or Opus, no switch).
bench::Packets switching_packets(const std::vector<std::int16_t>& x, std::size_t turn, int only = -1) {
    OpusCodec enc(8000, 16000);
    bench::Packets out;
    for (std::size_t i = 0; i + 160 <= x.size(); i += 160) {
        const std::size_t k = i / 160;
        const bool opus = only >= 0 ? only == 1 : (k / turn) % 2 == 1;
        std::vector<std::uint8_t> p(12 + 400, 0);
        bench::rtp_header(p.data(), opus ? 111 : 0, static_cast<std::uint16_t>(k),
                          static_cast<std::uint32_t>(opus ? 6 * i : i));
        if (opus) {
            const int n = enc.encode(&x[i], 160, p.data() + 12, 400);
            p.resize(12 + static_cast<std::size_t>(std::max(n, 0)));
        } else {
            encode_ulaw(&x[i], p.data() + 12, 160);
            p.resize(12 + 160);
        }
        out.push_back(p);
    }
    return out;
}

double best_ns(const bench::Packets& packets, StreamFilterParams params) {
    double best = 1e30;
    for (int rep = 0; rep < 7; ++rep) {
        StreamFilter f{params};
        const auto t0 = std::chrono::steady_clock::now();
        bench::run_through(f, packets);
        best = std::min(best, std::chrono::duration<double, std::nano>(
                                  std::chrono::steady_clock::now() - t0).count());
    }
    return best;
}

}  // namespace

// Heap bytes one filter holds (glibc's count of bytes in use, over 100 filters): its packet
// slots, output ring and buffers, and for Opus libopus's decoder and encoders; with
// `packets`, once each filter has had them all (its packet queue grown to what they need).
std::size_t bytes_per_filter(const StreamFilterParams& params, const bench::Packets* packets = nullptr) {
    std::vector<std::unique_ptr<StreamFilter>> filters;
    filters.reserve(100);
    const std::size_t before = mallinfo2().uordblks;
    for (int i = 0; i < 100; ++i) {
        filters.push_back(std::make_unique<StreamFilter>(params));
        if (packets != nullptr) bench::run_through(*filters.back(), *packets);
    }
    return (mallinfo2().uordblks - before) / 100;
}

int main(int argc, char** argv) {
    const std::vector<std::int16_t> x = bench::speech_from_args(argc, argv);
    if (x.empty()) return 2;
    PayloadTypeNumbers opus;
    opus.pcmu = opus.pcma = opus.cn = -1;
    opus.opus = 111;
    StreamFilterParams opus_params;
    opus_params.payload_types = payload_type_map(opus);
    const bench::Packets packets = bench::pcmu_packets(x);
    std::printf("memory: %zu bytes per G.711 stream filter, %zu per Opus one (sizeof %zu); %zu per G.711 "
                "filter after a 20 ms PCMU stream\n",
                bytes_per_filter(StreamFilterParams{}), bytes_per_filter(opus_params), sizeof(StreamFilter),
                bytes_per_filter(StreamFilterParams{}, &packets));
    std::printf("stream filter: %.0f ns per 20 ms PCMU packet (C++ only, %zu packets)\n",
                best_ns(packets, StreamFilterParams{}) / double(packets.size()), packets.size());
    StreamFilterParams params;
    params.payload_types[101] = PayloadKind::TelephoneEvent;
    for (const bool inband : {false, true}) {
        std::size_t audio = 0;
        const bench::Packets keyed = keyed_packets(x, inband, &audio);
        const double ns = best_ns(keyed, params);
        std::printf("  with a keypress every 2 s, %s: %.0f ns per audio packet "
                    "(%zu audio and %zu RFC 4733 packets; %.0f ns per packet in)\n",
                    inband ? "in-band and RFC 4733" : "RFC 4733 only", ns / double(audio), audio,
                    keyed.size() - audio, ns / double(keyed.size()));
    }
    // A sender whose timestamps jump just under max_gap_samples from packet to packet: each
    // gap is a pause fed to the scrubber as silence (the same packets' audio, 20 ms each).
    // With skip_settled_silence off, every sample of it goes through the detector: the
    // reference.
    const double plain = best_ns(packets, StreamFilterParams{});
    for (const std::uint32_t max_gap_ms : {2000u, 60000u}) {
        StreamFilterParams jumpy;
        jumpy.max_gap_samples = 8 * max_gap_ms;
        bench::Packets jumps = packets;
        const std::size_t step = jumpy.max_gap_samples - 80;
        for (std::size_t i = 0; i < jumps.size(); ++i)
            bench::rtp_header(jumps[i].data(), 0, static_cast<std::uint16_t>(i), static_cast<std::uint32_t>(i * step));
        if (max_gap_ms > 2000u) jumps.resize(jumps.size() / 10);  // a tenth: 0.3 of the first run's audio
        const double ns = best_ns(jumps, jumpy);
        jumpy.skip_settled_silence = false;
        const double fed = best_ns(jumps, jumpy);
        const double per = plain / double(packets.size());
        std::printf("  timestamps jumping %.2f s between packets (max_gap_ms=%u): %.0f ns per packet, %.1fx "
                    "packets 20 ms apart (every sample fed: %.0f ns, %.1fx)\n",
                    double(step) / 8000, max_gap_ms, ns / double(jumps.size()), ns / double(jumps.size()) / per,
                    fed / double(jumps.size()), fed / double(jumps.size()) / per);
    }
    // The same jumps with RFC 4733 packets among them, each of an event as long as its
    // duration field holds (65535 samples, 8.2 s) that began at the audio packet before: the
    // mask each asks for reaches over the pauses after it.
    for (const std::uint32_t max_gap_ms : {2000u, 60000u}) {
        StreamFilterParams jumpy;
        jumpy.max_gap_samples = 8 * max_gap_ms;
        jumpy.payload_types[101] = PayloadKind::TelephoneEvent;
        const std::size_t step = jumpy.max_gap_samples - 80;
        bench::Packets jumps;
        std::uint16_t seq = 0;
        const std::size_t count = max_gap_ms > 2000u ? packets.size() / 10 : packets.size();
        for (std::size_t i = 0; i < count; ++i) {
            bench::Packets::value_type p = packets[i];
            bench::rtp_header(p.data(), 0, seq++, static_cast<std::uint32_t>(i * step));
            jumps.push_back(p);
            std::vector<std::uint8_t> e(12 + 4, 0);
            bench::rtp_header(e.data(), 101, seq++, static_cast<std::uint32_t>(i * step));
            e[1] |= 0x80;
            e[12] = static_cast<std::uint8_t>(i % 16);
            e[13] = 10;
            e[14] = e[15] = 0xFF;
            jumps.push_back(e);
        }
        const double ns = best_ns(jumps, jumpy);
        const double per = plain / double(packets.size());
        std::printf("  ... with an RFC 4733 event of 8.2 s begun at each (max_gap_ms=%u): %.0f ns per audio packet, "
                    "%.1fx\n",
                    max_gap_ms, ns / double(count), ns / double(count) / per);
    }
    // Both families. Unswitched: each packet through a filter of its own family alone (the
    // PCMU ones through a G.711 filter, the Opus ones through an Opus filter), per packet.
    PayloadTypeNumbers both_numbers = opus;
    both_numbers.pcmu = 0;
    both_numbers.pcma = 8;
    both_numbers.g711_beside_opus = true;
    StreamFilterParams both;
    both.payload_types = payload_type_map(both_numbers);
    const double pcmu_ns = best_ns(packets, StreamFilterParams{}) / double(packets.size());
    const double both_ns = best_ns(packets, both) / double(packets.size());
    std::printf("  both families, PCMU only: %.0f ns per packet, %.2fx a G.711 filter's\n", both_ns, both_ns / pcmu_ns);
    const bench::Packets opus_all = switching_packets(x, 1, 1);
    const double opus_ns = best_ns(opus_all, opus_params) / double(opus_all.size());
    for (const std::size_t turn : {std::size_t{50}, std::size_t{1}}) {
        const bench::Packets mixed = switching_packets(x, turn);
        std::size_t n_opus = 0;
        for (const auto& p : mixed) n_opus += (p[1] & 0x7F) == 111;
        const double unswitched = (pcmu_ns * double(mixed.size() - n_opus) + opus_ns * double(n_opus)) / double(mixed.size());
        const double ns = best_ns(mixed, both) / double(mixed.size());
        StreamFilter f{both};
        bench::run_through(f, mixed);
        std::printf("  switching between PCMU and Opus every %zu packet%s: %.0f ns per packet, %.2fx unswitched "
                    "(%.0f ns: PCMU %.0f, Opus %.0f; %llu of %zu Opus packets re-encoded)\n",
                    turn, turn == 1 ? "" : "s", ns, ns / unswitched, unswitched, pcmu_ns, opus_ns,
                    static_cast<unsigned long long>(f.stats().reencoded), n_opus);
    }
}
