// SPDX-License-Identifier: Apache-2.0
// Instructions per 20 ms frame, counted by valgrind's callgrind: the same count for the same
// binary and input whatever else the machine is doing (this VM's timings vary by ±30 %).
// One path per run; divide the path function's inclusive count by the frames.
//
//   g++ -O3 -g -std=c++17 -Icsrc -I/usr/include/opus bench/frame_instructions.cpp csrc/pcifilter/*.cpp -lspandsp -lopus -lpcap -o build/frame_instructions
//   for path in detect scrub stream spandsp; do
//     valgrind --tool=callgrind --callgrind-out-file=build/cg.$path build/frame_instructions build/corpus/speech-60s-seed0.raw $path
//     callgrind_annotate --inclusive=yes build/cg.$path | grep -E 'Scrubber::(analyse|process)\(|StreamFilter::(push|pop)\(|dtmf_rx \['
//   done
#include <spandsp.h>

#include <cstdio>
#include <cstring>
#include <vector>

#include "bench_common.hpp"
#include "pcifilter/g711.hpp"
#include "pcifilter/scrubber.hpp"
#include "pcifilter/stream_filter.hpp"

using namespace pcifilter;

int main(int argc, char** argv) {
    const std::vector<std::int16_t> x = bench::speech_from_args(argc, argv, 2, " detect|scrub|stream|spandsp");
    if (x.empty()) return 2;
    const std::string path = argv[2];
    const std::size_t frames = x.size() / 160;
    std::vector<std::int16_t> y(160);
    if (path == "detect" || path == "scrub") {
        Scrubber s{ScrubberParams{}};
        for (std::size_t i = 0; i < frames; ++i) {
            if (path == "scrub") s.process(&x[160 * i], y.data(), 160);
            else s.analyse(&x[160 * i], 160);
            s.events().clear();
            s.spans().clear();
        }
    } else if (path == "stream") {
        // Packets are made before the filter runs: only push/pop are the stream's cost.
        const bench::Packets packets = bench::pcmu_packets(x);
        StreamFilter f{StreamFilterParams{}};
        bench::run_through(f, packets);
    } else if (path == "spandsp") {
        dtmf_rx_state_t* s = dtmf_rx_init(nullptr, nullptr, nullptr);
        for (std::size_t i = 0; i < frames; ++i) dtmf_rx(s, &x[160 * i], 160);
        dtmf_rx_free(s);
    } else {
        return 2;
    }
    std::printf("%zu frames\n", frames);
    return 0;
}
