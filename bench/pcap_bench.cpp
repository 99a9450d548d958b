// SPDX-License-Identifier: Apache-2.0
// pcap scrubbing in C++ alone (no Python): read a capture, run every RTP flow through a
// default StreamFilter (PCMU, telephone-event 101), write it back; time of each phase and
// RTP packets per second, best of 7. Any capture works; bench/test_bench_pcap.py writes the
// one its benchmark and `pcifilter bench` use (16 streams, 48,000 RTP packets).
//
//   .venv/bin/python bench/test_bench_pcap.py build/calls.pcap
//   g++ -O3 -std=c++17 -Icsrc -I/usr/include/opus bench/pcap_bench.cpp csrc/pcifilter/*.cpp -lopus -lpcap -o build/pcapbench
//   build/pcapbench build/calls.pcap build/calls-out.pcap
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "pcifilter/capture.hpp"

using namespace pcifilter;
using clk = std::chrono::steady_clock;

static double ms(clk::time_point a, clk::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s IN.pcap OUT.pcap\n", argv[0]);
        return 2;
    }
    double best[4] = {1e30, 1e30, 1e30, 1e30};
    std::uint64_t packets = 0;
    for (int rep = 0; rep < 7; ++rep) {
        const auto t0 = clk::now();
        Capture c(argv[1]);
        const auto t1 = clk::now();
        packets = 0;
        for (std::size_t i = 0; i < c.flows().size(); ++i) {
            StreamFilterParams params;
            params.payload_types[101] = PayloadKind::TelephoneEvent;
            StreamFilter f(params);
            packets += c.scrub(i, f).packets_in;
        }
        const auto t2 = clk::now();
        c.write(argv[2]);
        const auto t3 = clk::now();
        const double phase[4] = {ms(t0, t1), ms(t1, t2), ms(t2, t3), ms(t0, t3)};
        for (int k = 0; k < 4; ++k) best[k] = std::min(best[k], phase[k]);
    }
    std::printf("read %.1f ms, scrub %.1f ms, write %.1f ms, total %.1f ms: %.0f RTP packets/s (%llu packets)\n",
                best[0], best[1], best[2], best[3], double(packets) / best[3] * 1e3,
                static_cast<unsigned long long>(packets));
}
