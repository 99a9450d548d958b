// SPDX-License-Identifier: Apache-2.0
// ns per 20 ms frame of the C++ scrubber (detect+mask, or detect alone) or of spandsp's
// dtmf_rx over the speech, `passes` times, timed in C++. Its use is to set two builds side by
// side, each run in its own process alternately, many rounds, reading the best, 10th
// percentile and median of each (this VM's timings drift between runs):
//
//   g++ -O3 -ffp-contract=off -std=c++17 -Icsrc -Ibench -I/usr/include/opus bench/scrub_timing.cpp \
//       csrc/pcifilter/*.cpp -lspandsp -lopus -lpcap -o build/scrub_timing     # once per build
//   head -c 960000 ~/.cache/pcifilter/speech-600s-seed0.raw > build/speech60.raw  # the bench's 60 s
//   for r in $(seq 60); do for b in A B; do build/scrub_timing.$b build/speech60.raw scrub 10; done; done
//
// `scrub_tones`: the scrubber with the default tones (fax CNG, CED) detected too.
// An optional fifth argument, 16000 or 48000, times the scrubber on that rate (the speech
// interpolated linearly; 20 ms frames of it), the decimator's path.
#include <spandsp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "pcifilter/scrubber.hpp"
#include "pcifilter/tone_detector.hpp"

using namespace pcifilter;

int main(int argc, char** argv) {
    const std::vector<std::int16_t> x = bench::speech_from_args(argc, argv, 3, " scrub|scrub_tones|detect|spandsp PASSES [RATE]");
    if (x.empty()) return 2;
    const std::string path = argv[2];
    const int passes = std::atoi(argv[3]);
    if (passes < 1 || (path != "scrub" && path != "scrub_tones" && path != "detect" && path != "spandsp"))
        return 2;
    const int rate = argc > 4 ? std::atoi(argv[4]) : 8000;
    if (rate != 8000 && rate != 16000 && rate != 48000) return 2;
    const std::size_t f = static_cast<std::size_t>(rate / 8000), frame = 160 * f;
    std::vector<std::int16_t> w(x.size() * f);
    for (std::size_t i = 0; i < w.size(); ++i) {
        const std::size_t a = i / f, b = std::min(a + 1, x.size() - 1);
        w[i] = static_cast<std::int16_t>(std::lround(x[a] + double(i % f) / double(f) * (x[b] - x[a])));
    }
    const std::size_t frames = x.size() / 160;
    std::vector<std::int16_t> y(frame);
    const auto t0 = std::chrono::steady_clock::now();
    for (int r = 0; r < passes; ++r) {
        if (path == "spandsp") {
            dtmf_rx_state_t* s = dtmf_rx_init(nullptr, nullptr, nullptr);
            for (std::size_t i = 0; i < frames; ++i) dtmf_rx(s, &x[160 * i], 160);
            dtmf_rx_free(s);
            continue;
        }
        ScrubberParams p;
        p.sample_rate = rate;
        if (path == "scrub_tones") p.tones = default_tones();  // fax CNG and CED as well
        Scrubber s{p};
        const bool scrub = path != "detect";
        for (std::size_t i = 0; i < frames; ++i) {
            if (scrub)
                s.process(&w[frame * i], y.data(), frame);
            else
                s.analyse(&w[frame * i], frame);
            s.events().clear();
            s.spans().clear();
        }
    }
    const double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s %.1f ns/frame%s\n", path.c_str(), ns / static_cast<double>(frames * passes),
                rate == 8000 ? "" : rate == 16000 ? " (16 kHz)" : " (48 kHz)");
    return 0;
}
