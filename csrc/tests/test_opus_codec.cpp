// SPDX-License-Identifier: Apache-2.0
// OpusCodec against libopus itself: its decode (float decode, soft clip and conversion done
// by OpusCodec) gives exactly what opus_decode() gives, for every mode, both rates, clipping,
// concealment and FEC; and CELT silence packets stand in for the encoder only where the
// encoder's input and the 2.5 ms before it were digital silence.
#include <opus.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "check.hpp"
#include "pcifilter/opus_codec.hpp"

using pcifilter::OpusCodec;

namespace {

using Packet = std::vector<std::uint8_t>;

// 48 kHz test audio, 20 ms frames: a voice-like harmonic series that comes and goes, noise,
// and a stretch driven far past full scale (the decoder's output then needs soft clipping).
std::vector<std::int16_t> test_audio(int frames) {
    std::vector<std::int16_t> x(static_cast<std::size_t>(frames) * 960);
    std::uint32_t seed = 1;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double t = static_cast<double>(i) / 48000.0;
        double v = 0;
        for (int h = 1; h <= 12; ++h) v += std::sin(2 * M_PI * 140.0 * h * t + h) / h;
        v *= 6000.0 * (0.5 + 0.5 * std::sin(2 * M_PI * 3.0 * t));
        seed = seed * 1664525u + 1013904223u;
        v += static_cast<double>(static_cast<std::int32_t>(seed >> 16) - 32768) / 40.0;
        if (i / 960 % 25 == 12) v *= 8.0;  // overload: clipped at the input
        x[i] = static_cast<std::int16_t>(std::fmax(-32768.0, std::fmin(32767.0, v)));
    }
    return x;
}

std::vector<Packet> encode(const std::vector<std::int16_t>& x, int application, int bitrate, bool fec) {
    int err = 0;
    OpusEncoder* enc = opus_encoder_create(48000, 1, application, &err);
    opus_encoder_ctl(enc, OPUS_SET_BITRATE(bitrate));
    if (fec) {
        opus_encoder_ctl(enc, OPUS_SET_INBAND_FEC(1));
        opus_encoder_ctl(enc, OPUS_SET_PACKET_LOSS_PERC(20));
    }
    std::vector<Packet> out;
    for (std::size_t i = 0; i + 960 <= x.size(); i += 960) {
        Packet p(1500);
        const int n = opus_encode(enc, &x[i], 960, p.data(), 1500);
        CHECK(n > 0);
        p.resize(static_cast<std::size_t>(n > 0 ? n : 0));
        out.push_back(p);
    }
    opus_encoder_destroy(enc);
    return out;
}

// Every packet through OpusCodec and through a plain decoder, the same way: every 7th
// packet lost and concealed, every 11th recovered from the next packet's FEC first.
void decode_matches_libopus(const std::vector<Packet>& packets, int rate) {
    OpusCodec codec(rate, 24000);
    int err = 0;
    OpusDecoder* ref = opus_decoder_create(rate, 1, &err);
    const int n = rate / 50;
    std::vector<std::int16_t> a(static_cast<std::size_t>(n)), b(static_cast<std::size_t>(n));
    int differing = 0;
    for (std::size_t i = 0; i < packets.size(); ++i) {
        const Packet& p = packets[i];
        if (i % 7 == 3) {
            CHECK(codec.conceal(a.data(), n));
            CHECK(opus_decode(ref, nullptr, 0, b.data(), n, 0) == n);
        } else {
            if (i % 11 == 5 && i + 1 < packets.size()) {  // this packet's audio from the next one's FEC
                const Packet& q = packets[i + 1];
                CHECK(codec.decode(q.data(), q.size(), a.data(), n, true));
                CHECK(opus_decode(ref, q.data(), static_cast<opus_int32>(q.size()), b.data(), n, 1) == n);
                differing += a != b;
            }
            CHECK(codec.decode(p.data(), p.size(), a.data(), n, false));
            CHECK(opus_decode(ref, p.data(), static_cast<opus_int32>(p.size()), b.data(), n, 0) == n);
        }
        differing += a != b;
    }
    CHECK(differing == 0);
    // A packet libopus refuses: false, and silence.
    const std::uint8_t bad[] = {0xFF, 0xFF};  // code 3 with 63 frames of nothing
    a.assign(a.size(), 1);
    CHECK(!codec.decode(bad, sizeof bad, a.data(), n, false));
    CHECK(a == std::vector<std::int16_t>(a.size(), 0));
    opus_decoder_destroy(ref);
}

bool clips(const std::vector<Packet>& packets) {
    // Whether the decoded audio goes past full scale anywhere (so soft clipping was tested).
    int err = 0;
    OpusDecoder* d = opus_decoder_create(48000, 1, &err);
    std::vector<float> y(960);
    bool over = false;
    for (const Packet& p : packets) {
        const int n = opus_decode_float(d, p.data(), static_cast<opus_int32>(p.size()), y.data(), 960, 0);
        for (int i = 0; i < n; ++i) over = over || std::fabs(y[static_cast<std::size_t>(i)]) > 1.0f;
    }
    opus_decoder_destroy(d);
    return over;
}

void celt_silence_packets() {
    const int rate = 8000, n = 160;
    OpusCodec codec(rate, 24000);
    std::vector<std::int16_t> speech(n), zeros(n, 0), tail(n);
    for (int i = 0; i < n; ++i) speech[i] = static_cast<std::int16_t>(8000 * std::sin(0.3 * i) + 3000 * std::sin(0.11 * i));
    // The speech then masked from sample 100 on: its last 2.5 ms are silent.
    tail = speech;
    std::fill(tail.begin() + 100, tail.end(), std::int16_t{0});
    std::uint8_t out[5][1500];
    int len[5];
    codec.reset_encoder(true);
    len[0] = codec.encode(speech.data(), n, out[0], 1500, true);
    len[1] = codec.encode(tail.data(), n, out[1], 1500, true);
    len[2] = codec.encode(zeros.data(), n, out[2], 1500, true);  // silence after a silent tail
    len[3] = codec.encode(zeros.data(), n, out[3], 1500, true);
    len[4] = codec.encode(speech.data(), n, out[4], 1500, true);  // the encoder catches up
    for (int k = 0; k < 5; ++k) CHECK(len[k] > 0);
    // The silence packets are one and the same CELT-only packet, tiny (TOC + silence flag).
    CHECK(len[2] == len[3] && std::memcmp(out[2], out[3], static_cast<std::size_t>(len[2])) == 0);
    CHECK(len[2] <= 8);
    CHECK((out[2][0] >> 3) >= 16);  // configs 16-31: CELT-only
    // A receiver decodes the five into valid audio; the two silent packets into silence.
    int err = 0;
    OpusDecoder* d = opus_decoder_create(rate, 1, &err);
    std::vector<std::int16_t> y(n);
    for (int k = 0; k < 5; ++k) {
        CHECK(opus_decode(d, out[k], len[k], y.data(), n, 0) == n);
        if (k == 3) CHECK(y == zeros);
        if (k == 4) {
            double e = 0;
            for (std::int16_t v : y) e += double(v) * v;
            CHECK(e > 1e6 * n);  // the speech after the silence is there, not lost
        }
    }
    opus_decoder_destroy(d);
    // Silence right after audio that did not end silent is the encoder's to code: it is
    // not the silence packet.
    std::uint8_t p[1500];
    codec.reset_encoder(true);
    CHECK(codec.encode(speech.data(), n, p, 1500, true) > 0);
    const int m = codec.encode(zeros.data(), n, p, 1500, true);
    CHECK(m > 0 && !(m == len[2] && std::memcmp(p, out[2], static_cast<std::size_t>(m)) == 0));
    // Nor with the voice encoder.
    codec.reset_encoder(false);
    const int v = codec.encode(zeros.data(), n, p, 1500, false);
    CHECK(v > 0 && (p[0] >> 3) < 12);  // SILK-only
}

}  // namespace

int main() {
    const std::vector<std::int16_t> x = test_audio(150);
    for (int app : {OPUS_APPLICATION_VOIP, OPUS_APPLICATION_AUDIO, OPUS_APPLICATION_RESTRICTED_LOWDELAY})
        for (int bitrate : {12000, 32000, 64000}) {
            const std::vector<Packet> packets = encode(x, app, bitrate, app == OPUS_APPLICATION_VOIP);
            CHECK(clips(packets) || bitrate < 32000);
            for (int rate : {8000, 16000}) decode_matches_libopus(packets, rate);
        }
    celt_silence_packets();
    return CHECK_DONE();
}
