// SPDX-License-Identifier: Apache-2.0
// The stream filter under parameters the Python layer does not give (it keeps the
// defaults): a long gap filled at once (max_gap_samples), many packets held for reordering
// then fed at once (reorder_window_samples). Either put out far more audio in one go than
// the output ring holds (2 s at 8 kHz) before a packet waiting in the look-ahead was marked
// ready: its masked output, and the record of where output was masked, were overwritten by
// later audio, and a keypress in it passed as sent. (The Python tests run the defaults:
// tests/test_stream_filter.py.)
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

#include "check.hpp"
#include "pcifilter/g711.hpp"
#include "pcifilter/stream_filter.hpp"

using namespace pcifilter;

namespace {

constexpr int kRate = 8000;
constexpr int kPacket = 160;  // 20 ms of PCMU

std::vector<std::uint8_t> packet(std::uint16_t seq, std::uint32_t ts, const std::int16_t* pcm,
                                 std::uint32_t ssrc = 0x1234) {
    std::vector<std::uint8_t> p(12 + kPacket);
    p[0] = 0x80;
    p[1] = 0;  // PCMU
    p[2] = static_cast<std::uint8_t>(seq >> 8);
    p[3] = static_cast<std::uint8_t>(seq);
    for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<std::uint8_t>(ts >> (24 - 8 * i));
    for (int i = 0; i < 4; ++i) p[8 + i] = static_cast<std::uint8_t>(ssrc >> (24 - 8 * i));
    encode_ulaw(pcm, p.data() + 12, kPacket);
    return p;
}

// The power at `hz` of n samples (Goertzel), for a keypress's two tones.
double power_at(const std::int16_t* x, int n, double hz) {
    const double w = 2.0 * M_PI * hz / kRate, c = 2.0 * std::cos(w);
    double s1 = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
        const double s0 = x[i] + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return s1 * s1 + s2 * s2 - c * s1 * s2;
}

double tones(const std::int16_t* x) { return power_at(x, kPacket, 770) + power_at(x, kPacket, 1336); }

// A stream of 20 ms packets: quiet noise, then a 200 ms keypress ('5', -10 dBm0 a tone) in
// the packets `keypress_end` ends; after it `after` more packets of speech-like sound (a
// 300 Hz tone) starting `gap` samples later, sequence numbers going on. Returns the worst
// tone power left in an output packet that carried the keypress, against the input's (dB).
double worst_left(const StreamFilterParams& params, int before, int gap, int after,
                  std::vector<int> order = {}) {
    StreamFilter f(params);
    std::vector<std::vector<std::uint8_t>> in;
    std::map<std::uint32_t, double> keypress;  // timestamp: its tones' power in the input
    std::uint32_t x = 1;
    const double amplitude = 32768.0 * std::pow(10.0, (-10.0 - 3.14) / 20.0);
    std::vector<std::int16_t> pcm(kPacket);
    for (int k = 0; k < before + after; ++k) {
        const std::uint32_t ts = static_cast<std::uint32_t>(k * kPacket + (k >= before ? gap : 0));
        for (int i = 0; i < kPacket; ++i) {
            x = x * 1664525u + 1013904223u;
            double v = static_cast<double>(static_cast<int>(x >> 24) - 128) / 4.0;  // noise
            const double t = static_cast<double>(ts + static_cast<std::uint32_t>(i)) / kRate;
            if (k >= before - 10 && k < before)
                v += amplitude * (std::sin(2 * M_PI * 770 * t) + std::sin(2 * M_PI * 1336 * t));
            if (k >= before) v += 3000.0 * std::sin(2 * M_PI * 300 * t);
            pcm[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(v);
        }
        in.push_back(packet(static_cast<std::uint16_t>(k), ts, pcm.data()));
        std::vector<std::int16_t> y(kPacket);
        decode_ulaw(in.back().data() + 12, y.data(), kPacket);
        if (k >= before - 10 && k < before) keypress[ts] = tones(y.data());
    }
    if (order.empty())
        for (int k = 0; k < before + after; ++k) order.push_back(k);
    std::vector<std::uint8_t> out(StreamFilter::kMaxPacket);
    std::size_t len = 0;
    double worst = -300.0;
    int seen = 0;
    auto take = [&] {
        while (f.pop(out.data(), &len)) {
            std::uint32_t ts = 0;
            for (int i = 0; i < 4; ++i) ts = (ts << 8) | out[static_cast<std::size_t>(4 + i)];
            const auto it = keypress.find(ts);
            if (it == keypress.end() || len != 12 + kPacket) continue;
            std::vector<std::int16_t> y(kPacket);
            decode_ulaw(out.data() + 12, y.data(), kPacket);
            worst = std::max(worst, 10.0 * std::log10(tones(y.data()) / it->second + 1e-30));
            ++seen;
        }
    };
    for (int k : order) {
        f.push(in[static_cast<std::size_t>(k)].data(), in[static_cast<std::size_t>(k)].size());
        take();
    }
    f.flush();
    take();
    CHECK(seen == 10);
    return worst;
}

// A 40 ms keypress ('5', -10 dBm0 a tone) over quiet noise, `before_ms` of it in the last
// packet from source 0x1234, the rest from source 0x5678 (its own timestamps): the
// keypresses reported, and the SSRC of the last.
std::pair<int, std::uint32_t> split_keypress(int before_ms) {
    StreamFilter f{StreamFilterParams{}};
    const double amplitude = 32768.0 * std::pow(10.0, (-10.0 - 3.14) / 20.0);
    const int start = 50 * kPacket - 8 * before_ms, end = start + 320;
    std::uint32_t x = 1;
    std::vector<std::int16_t> pcm(kPacket);
    std::vector<std::uint8_t> out(StreamFilter::kMaxPacket);
    std::size_t len = 0;
    for (int k = 0; k < 100; ++k) {
        for (int i = 0; i < kPacket; ++i) {
            x = x * 1664525u + 1013904223u;
            double v = static_cast<double>(static_cast<int>(x >> 24) - 128) / 4.0;
            const int n = k * kPacket + i;
            const double t = static_cast<double>(n) / kRate;
            if (n >= start && n < end)
                v += amplitude * (std::sin(2 * M_PI * 770 * t) + std::sin(2 * M_PI * 1336 * t));
            pcm[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(v);
        }
        const bool second = k >= 50;
        const auto p = packet(static_cast<std::uint16_t>(k), static_cast<std::uint32_t>((second ? 777 : 0) + k * kPacket),
                              pcm.data(), second ? 0x5678 : 0x1234);
        f.push(p.data(), p.size());
        while (f.pop(out.data(), &len)) {
        }
    }
    f.flush();
    int n = 0;
    std::uint32_t ssrc = 0;
    for (const StreamEvent& e : f.events())
        if (e.kind == EventKind::Dtmf) {
            ++n;
            ssrc = e.ssrc;
        }
    return {n, ssrc};
}

}  // namespace

int main() {
    // A new source in a keypress of 40 ms: each part may be under the 40 ms the detector
    // needs; it hears the parts in turn, as a receiver does, and reports one keypress: on
    // the new source, unless the part before is a keypress by itself (35 ms, over the
    // detector's 31 ms limit). Before, none at 10, 20 or 30 ms.
    for (const int before_ms : {5, 10, 15, 20, 25, 30, 35}) {
        const auto [n, ssrc] = split_keypress(before_ms);
        CHECK(n == 1);
        CHECK(ssrc == (before_ms < 35 ? 0x5678u : 0x1234u));
    }
    StreamFilterParams defaults;
    // The defaults: a gap of 1 s, and none.
    CHECK(worst_left(defaults, 50, 0, 50) < -40.0);
    CHECK(worst_left(defaults, 50, kRate, 50) < -40.0);
    // A gap of 4 s, filled at once (max_gap_samples 10 s): 32,000 samples of output, the
    // ring holds 16,384. Before, the keypress's last packets in the look-ahead passed as
    // sent (0 dB).
    StreamFilterParams long_gaps;
    long_gaps.max_gap_samples = 10 * kRate;
    CHECK(worst_left(long_gaps, 50, 4 * kRate, 50) < -40.0);
    // A jitter buffer's worth held for reordering (5 s): packet 39 (the one before the
    // keypress) comes last, so those after it wait, then are fed at once with it (160
    // packets, 25,600 samples). Before, the keypress's packets read the output and marks of
    // the sound after it.
    StreamFilterParams reorder;
    reorder.reorder_window_samples = 5 * kRate;
    reorder.max_gap_samples = 10 * kRate;  // (packets further ahead than this restart)
    std::vector<int> order;
    for (int k = 0; k < 200; ++k)
        if (k != 39) order.push_back(k);
    order.push_back(39);
    CHECK(worst_left(reorder, 50, 0, 150, order) < -40.0);
    return CHECK_DONE();
}
