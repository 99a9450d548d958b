// SPDX-License-Identifier: Apache-2.0
// What the C++ benchmark programs share: reading the speech corpus, making RTP packets and
// running them through a stream filter.
#pragma once

#include <cstdint>
#include <cstdio>
#include <vector>

#include "pcifilter/g711.hpp"
#include "pcifilter/stream_filter.hpp"

namespace pcifilter::bench {

// Up to a minute of 8 kHz int16 samples from a raw file (`python -m pcifilter.corpus`);
// empty if it cannot be read.
inline std::vector<std::int16_t> read_speech(const char* path) {
    std::vector<std::int16_t> x(8000 * 60);
    std::FILE* fp = std::fopen(path, "rb");
    if (fp == nullptr) return {};
    x.resize(std::fread(x.data(), 2, x.size(), fp));
    std::fclose(fp);
    return x;
}

// The speech file named first on the command line; empty, after a usage line, when fewer
// than `args` arguments came (`more` describes the others).
inline std::vector<std::int16_t> speech_from_args(int argc, char** argv, int args = 1,
                                                  const char* more = "") {
    if (argc < args + 1) {
        std::fprintf(stderr, "usage: %s SPEECH.raw (8 kHz int16)%s\n", argv[0], more);
        return {};
    }
    return read_speech(argv[1]);
}

// A 12-byte RTP header (version 2, SSRC 7) at `p`.
inline void rtp_header(std::uint8_t* p, std::uint8_t pt, std::uint16_t seq, std::uint32_t ts) {
    p[0] = 0x80, p[1] = pt, p[2] = seq >> 8, p[3] = seq & 0xFF;
    p[4] = ts >> 24, p[5] = (ts >> 16) & 0xFF, p[6] = (ts >> 8) & 0xFF, p[7] = ts & 0xFF;
    p[8] = p[9] = p[10] = 0, p[11] = 7;
}

using Packets = std::vector<std::vector<std::uint8_t>>;

// 20 ms PCMU packets (payload type 0, SSRC 7) of the speech, whole packets only.
inline Packets pcmu_packets(const std::vector<std::int16_t>& x) {
    Packets packets;
    for (std::size_t i = 0; i + 160 <= x.size(); i += 160) {
        std::vector<std::uint8_t> p(12 + 160, 0);
        rtp_header(p.data(), 0, static_cast<std::uint16_t>(i / 160), static_cast<std::uint32_t>(i));
        encode_ulaw(&x[i], p.data() + 12, 160);
        packets.push_back(p);
    }
    return packets;
}

// Every packet through the filter, what comes out taken and dropped, events drained.
inline void run_through(StreamFilter& f, const Packets& packets) {
    std::uint8_t out[StreamFilter::kMaxPacket];
    std::size_t n = 0;
    for (const auto& p : packets) {
        f.push(p.data(), p.size());
        while (f.pop(out, &n)) {
        }
        f.events().clear();
    }
}

}  // namespace pcifilter::bench
