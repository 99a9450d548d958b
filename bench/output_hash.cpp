// SPDX-License-Identifier: Apache-2.0
// A hash of everything the core outputs for one input, to show that a change meant only for
// speed left the output bit-identical: build it before and after, compare the last line.
// The speech gets a keypress every 0.5 s (40-80 ms, -5 ... -29 dBm0 per tone, all 16 digits);
// it is scrubbed in 20 ms frames in each masking mode (audio, events, masked count), then
// sent as 20 ms PCMU packets through a stream filter (every packet out); that is the last
// line's hash. The line before hashes the same keyed speech at 16 and 48 kHz (linear
// interpolation), scrubbed in 20 ms frames (the decimator's path). Compare both.
//
//   g++ -O2 -std=c++17 -Icsrc -Ibench -I/usr/include/opus bench/output_hash.cpp csrc/pcifilter/*.cpp -lopus -lpcap -o build/output_hash
//   build/output_hash build/corpus/speech-60s-seed0.raw
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "bench_common.hpp"
#include "pcifilter/scrubber.hpp"
#include "pcifilter/stream_filter.hpp"

using namespace pcifilter;

namespace {

struct Fnv1a {
    std::uint64_t h = 1469598103934665603ull;
    void mix(const void* p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i) {
            h ^= static_cast<const unsigned char*>(p)[i];
            h *= 1099511628211ull;
        }
    }
};

void key_digits(std::vector<std::int16_t>& x) {
    const double rows[4] = {697, 770, 852, 941}, cols[4] = {1209, 1336, 1477, 1633};
    std::size_t k = 0;
    for (std::size_t at = 1000; at + 800 < x.size(); at += 4000, ++k) {
        const double a = 32768 * std::pow(10.0, (-3.14 - 5.0 - double(k % 25)) / 20.0);
        const int n = 320 + static_cast<int>(k % 5) * 80;
        for (int i = 0; i < n; ++i) {
            const double v = x[at + i] + a * std::sin(2 * M_PI * rows[k % 4] * i / 8000) +
                             a * std::sin(2 * M_PI * cols[(k / 4) % 4] * i / 8000 + 1);
            x[at + i] = static_cast<std::int16_t>(std::clamp(std::round(v), -32768.0, 32767.0));
        }
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::int16_t> x = bench::speech_from_args(argc, argv);
    if (x.empty()) return 2;
    key_digits(x);
    Fnv1a h;
    for (MaskMode mode : {MaskMode::Silence, MaskMode::Noise, MaskMode::Tone}) {
        ScrubberParams p;
        p.masker.mode = mode;
        Scrubber s(p);
        std::vector<std::int16_t> y(x.size());
        for (std::size_t i = 0; i < x.size(); i += 160)
            s.process(&x[i], &y[i], std::min<std::size_t>(160, x.size() - i));
        h.mix(y.data(), y.size() * sizeof(std::int16_t));
        for (const ToneEvent& e : s.events()) {
            h.mix(&e.start, sizeof e.start);
            h.mix(&e.end, sizeof e.end);
            h.mix(&e.digit, sizeof e.digit);
            h.mix(&e.level_dbm0, sizeof e.level_dbm0);
        }
        std::printf("mode %d: %zu events, %llu samples masked\n", static_cast<int>(mode), s.events().size(),
                    static_cast<unsigned long long>(s.stats().masked_samples));
    }
    Fnv1a wide;
    for (int rate : {16000, 48000}) {
        const std::size_t f = static_cast<std::size_t>(rate / 8000);
        std::vector<std::int16_t> w(x.size() * f);
        for (std::size_t i = 0; i < w.size(); ++i) {
            const std::size_t a = i / f, b = std::min(a + 1, x.size() - 1);
            const double t = double(i % f) / double(f);
            w[i] = static_cast<std::int16_t>(std::lround(x[a] + t * (x[b] - x[a])));
        }
        ScrubberParams p;
        p.sample_rate = rate;
        Scrubber s(p);
        std::vector<std::int16_t> y(w.size());
        for (std::size_t i = 0; i < w.size(); i += 160 * f)
            s.process(&w[i], &y[i], std::min<std::size_t>(160 * f, w.size() - i));
        wide.mix(y.data(), y.size() * sizeof(std::int16_t));
        for (const ToneEvent& e : s.events()) {
            wide.mix(&e.start, sizeof e.start);
            wide.mix(&e.end, sizeof e.end);
            wide.mix(&e.digit, sizeof e.digit);
        }
        std::printf("%d Hz: %zu events, %llu samples masked\n", rate, s.events().size(),
                    static_cast<unsigned long long>(s.stats().masked_samples));
    }
    std::printf("wideband hash %016llx\n", static_cast<unsigned long long>(wide.h));
    const bench::Packets packets = bench::pcmu_packets(x);
    StreamFilter f{StreamFilterParams{}};
    std::uint8_t out[StreamFilter::kMaxPacket];
    std::size_t len = 0;
    for (const auto& packet : packets) {
        f.push(packet.data(), packet.size());
        while (f.pop(out, &len)) h.mix(out, len);
    }
    std::printf("hash %016llx\n", static_cast<unsigned long long>(h.h));
    return 0;
}
