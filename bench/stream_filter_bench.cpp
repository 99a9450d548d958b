// SPDX-License-Identifier: Apache-2.0
// Per-packet cost of the C++ stream filter alone (no Python): 20 ms PCMU packets of 60 s of
// audio, filtering on, best of 7.
//
//   .venv/bin/python -m pcifilter.corpus --minutes 1 --out build/corpus
//   g++ -O3 -std=c++17 -Icsrc -I/usr/include/opus bench/stream_filter_bench.cpp csrc/pcifilter/*.cpp -lopus -lpcap -o build/sfbench
//   build/sfbench build/corpus/speech-60s-seed0.raw
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "pcifilter/g711.hpp"
#include "bench_common.hpp"
#include "pcifilter/stream_filter.hpp"

using namespace pcifilter;

int main(int argc, char** argv) {
    const std::vector<std::int16_t> x = bench::speech_from_args(argc, argv);
    if (x.empty()) return 2;
    const bench::Packets packets = bench::pcmu_packets(x);
    double best = 1e30;
    for (int rep = 0; rep < 7; ++rep) {
        StreamFilter f{StreamFilterParams{}};
        const auto t0 = std::chrono::steady_clock::now();
        bench::run_through(f, packets);
        best = std::min(best, std::chrono::duration<double, std::nano>(
                                  std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("stream filter: %.0f ns per 20 ms PCMU packet (C++ only, %zu packets)\n",
                best / double(packets.size()), packets.size());
}
