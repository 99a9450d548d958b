// SPDX-License-Identifier: Apache-2.0
// How often the search for a WebSocket client's frames (redaction.hpp:
// unmask_websocket_client, in a stream that starts no handshake) finds frames in random
// bytes, as a TLS connection's look: streams of 1,400 bytes (one segment), 16 KiB and
// 256 KiB, and how many frames were read in each. A find there is harmless (read unmasked
// with a wrong key, masked back); the counts say how often the sweeps read such bytes
// twice, and why the frames found are not taken as proof enough to replace anything.
//
//   g++ -O2 -std=c++17 -Icsrc bench/websocket_search_report.cpp csrc/pcifilter/redaction.cpp -o build/wssearch
//   build/wssearch
#include <cstdio>
#include <map>
#include <random>
#include <vector>

#include "pcifilter/redaction.hpp"

using namespace pcifilter;

int main() {
    std::mt19937_64 rng(3);
    std::printf("| stream | streams | frames read: streams |\n|---|---|---|\n");
    for (const std::size_t n : {std::size_t{1400}, std::size_t{16384}, std::size_t{262144}}) {
        const int trials = n < 10000 ? 200000 : n < 100000 ? 20000 : 2000;
        std::map<std::size_t, int> read;
        std::vector<std::uint8_t> s(n);
        WebSocketFrames frames;
        for (int t = 0; t < trials; ++t) {
            for (auto& c : s) c = static_cast<std::uint8_t>(rng());
            const std::size_t k = unmask_websocket_client(s, frames);
            ++read[k];
            unmask_websocket_client(s, frames, k);
        }
        std::printf("| %zu bytes | %d |", n, trials);
        for (const auto& [k, c] : read) std::printf(" %zu: %d,", k, c);
        std::printf(" |\n");
    }
}
