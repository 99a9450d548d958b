// SPDX-License-Identifier: Apache-2.0
// What the C++ benchmark programs share: reading the speech corpus and writing RTP headers.
#pragma once

#include <cstdint>
#include <cstdio>
#include <vector>

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

}  // namespace pcifilter::bench
