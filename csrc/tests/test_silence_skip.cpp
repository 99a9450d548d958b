// SPDX-License-Identifier: Apache-2.0
// A pause in a stream's timestamps is fed to the scrubber as silence; once the scrubber has
// settled on it, StreamFilter takes the rest in at once (Scrubber::skip_silence). That must
// change nothing: random streams of speech-like sound, keypresses (in-band, some right
// before or after a pause, and as RFC 4733 events), tones, pauses from none to seconds,
// lost packets, filtering switched on and off, masks asked for and the media clock advanced,
// through G.711 and Opus filters (8 and 16 kHz) in every masking mode, with the look-ahead
// at 0, 40 and 200 ms and with tone detection, each run twice: skipping and feeding every
// sample (skip_settled_silence false). Every packet out, byte for byte, every event, masked
// span and counter must be the same, and the skipping run must have skipped (else the
// comparison proves nothing). Masks asked for, and RFC 4733 events that never end, reach
// over some pauses: the skip goes through them.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "check.hpp"
#include "pcifilter/g711.hpp"
#include "pcifilter/opus_codec.hpp"
#include "pcifilter/stream_filter.hpp"

using namespace pcifilter;

namespace {

struct Config {
    const char* name;
    bool opus;
    int rate;  // the scrubber's (Opus: the decode rate)
    MaskMode mode;
    double lookahead_ms;
    bool tones;
};

// What the caller does to the filter, in order.
struct Op {
    enum Kind { Push, Advance, Filtering, Mask } kind;
    std::vector<std::uint8_t> bytes;
    std::uint32_t a = 0, b = 0;
};

std::vector<std::uint8_t> rtp(std::uint8_t pt, bool marker, std::uint16_t seq, std::uint32_t ts) {
    std::vector<std::uint8_t> p(12);
    p[0] = 0x80;
    p[1] = static_cast<std::uint8_t>(pt | (marker ? 0x80 : 0));
    p[2] = static_cast<std::uint8_t>(seq >> 8);
    p[3] = static_cast<std::uint8_t>(seq);
    for (int i = 0; i < 4; ++i) p[4 + i] = static_cast<std::uint8_t>(ts >> (24 - 8 * i));
    p[11] = 0x2A;
    return p;
}

// One packet of `pcm`: Opus (CELT only, or as the encoder likes) or PCMU.
std::vector<std::uint8_t> audio_packet(const Config& c, OpusCodec* enc,
                                       std::vector<std::int16_t>& pcm, bool marker,
                                       std::uint16_t seq, std::uint32_t ts, bool celt) {
    std::vector<std::uint8_t> p = rtp(c.opus ? 111 : 0, marker, seq, ts);
    const int n = static_cast<int>(pcm.size());
    if (c.opus) {
        std::uint8_t out[400];
        const int bytes = enc->encode(pcm.data(), n, out, sizeof out, celt);
        if (bytes > 0) p.insert(p.end(), out, out + bytes);
    } else {
        p.resize(12 + pcm.size());
        encode_ulaw(pcm.data(), p.data() + 12, pcm.size());
    }
    return p;
}

// A stream of 20 ms packets: talkspurts of speech-like sound, noise or silence, keypresses
// in them, and pauses between them of every length up to just under max_gap_ms.
std::vector<Op> make_stream(const Config& c, std::uint32_t seed, int max_gap_ms) {
    std::mt19937 rng(seed);
    const auto uniform = [&](double lo, double hi) {
        return std::uniform_real_distribution<double>(lo, hi)(rng);
    };
    const auto chance = [&](double p) { return uniform(0, 1) < p; };
    const int n = c.rate / 50;                            // samples a packet
    const std::uint32_t clock = c.opus ? 48000u : 8000u;  // RTP clock
    const std::uint32_t per_sample = clock / static_cast<std::uint32_t>(c.rate);
    std::unique_ptr<OpusCodec> enc;
    if (c.opus) enc = std::make_unique<OpusCodec>(c.rate, 16000);
    const bool celt = seed % 2 == 1;  // an Opus stream of CELT packets only (re-encoded so too)
    const double rows[4] = {697, 770, 852, 941}, cols[4] = {1209, 1336, 1477, 1633};
    std::vector<Op> ops;
    std::vector<std::int16_t> pcm(static_cast<std::size_t>(n));
    std::uint16_t seq = static_cast<std::uint16_t>(rng());
    std::uint32_t ts = rng();
    std::uint64_t t = 0;  // samples into the stream (its timeline)
    for (int spurt = 0; spurt < 14; ++spurt) {
        // Mostly short talkspurts; some of 2-4 s (comfort noise's background forgets a pause
        // after 1-2 s: a mask then takes its level from blocks placed after the pause).
        // Every stream starts so: 2.5 s of speech-like sound and 0.5 s of silence (no guard at
        // the pause), a pause of 1.5 s, a keypress right after it (a CELT stream's encoder is
        // primed from the output before the packet it re-encodes: here the pause's, where
        // the output ring last held the speech).
        const bool scripted = spurt < 2;
        int packets =
            chance(0.2) ? 100 + static_cast<int>(rng() % 100) : 3 + static_cast<int>(rng() % 12);
        int kind = static_cast<int>(rng() % 4);  // 0 silence, 1 noise, 2 speech-like, 3 tone
        if (scripted) packets = spurt == 0 ? 150 : packets, kind = 2;
        const double f0 = uniform(90, 260), level = uniform(200, 6000);
        const double tone_hz = c.tones ? (chance(0.5) ? 1100.0 : 1000.7) : 440.0;  // 1000.7: "beep"
        // A keypress in this spurt: where (samples into it), how long, how loud; some end
        // with the spurt (right before the pause) or start with it (right after one).
        const bool key = chance(0.6) || spurt == 1;
        const int where = spurt == 1 ? 0 : static_cast<int>(rng() % 3);
        const std::uint64_t len = static_cast<std::uint64_t>(uniform(0.04, 0.2) * c.rate);
        const std::uint64_t spurt_len =
            static_cast<std::uint64_t>(packets) * static_cast<std::uint64_t>(n);
        const std::uint64_t key_at = where == 0   ? 0
                                     : where == 1 ? (spurt_len > len ? spurt_len - len : 0)
                                                  : rng() % spurt_len;
        const int digit = static_cast<int>(rng() % 16);
        const double amp = 32768.0 * std::pow(10.0, (uniform(-25, -5) - 3.14) / 20.0);
        const bool as_event = key && chance(0.3);
        for (int k = 0; k < packets; ++k) {
            for (int i = 0; i < n; ++i) {
                const std::uint64_t s = static_cast<std::uint64_t>(k * n + i);
                const double time = double(t + static_cast<std::uint64_t>(i)) / c.rate;
                double v = 0;
                if ((kind == 1 || kind == 2) && spurt != 0) v = uniform(-1, 1) * level * 0.1;
                if (kind == 2 &&
                    !(spurt == 0 && s >= spurt_len - static_cast<std::uint64_t>(c.rate / 2)))
                    for (int h = 1; h <= 12; ++h)
                        v += level / h * std::sin(2 * M_PI * f0 * h * time + h);
                if (kind == 3) v = level * std::sin(2 * M_PI * tone_hz * time);
                if (key && s >= key_at && s < key_at + len)
                    v += amp * (std::sin(2 * M_PI * rows[digit / 4] * time) +
                                std::sin(2 * M_PI * cols[digit % 4] * time));
                pcm[static_cast<std::size_t>(i)] =
                    static_cast<std::int16_t>(std::lround(std::clamp(v, -32768.0, 32767.0)));
            }
            const std::uint32_t pts = ts + static_cast<std::uint32_t>(t) * per_sample;
            if (!chance(0.04))  // else lost
                ops.push_back({Op::Push, audio_packet(c, enc.get(), pcm, k == 0, seq, pts, celt)});
            ++seq;
            if (as_event && k * n >= static_cast<int>(key_at) &&
                static_cast<std::uint64_t>(k * n) < key_at + len + n) {
                // RFC 4733: the event's start timestamp, cumulative duration, end sent three times
                const std::uint32_t start =
                    ts +
                    static_cast<std::uint32_t>(t - static_cast<std::uint64_t>(k * n) + key_at) *
                        per_sample;
                const bool end = static_cast<std::uint64_t>((k + 1) * n) >= key_at + len;
                const std::uint32_t dur = static_cast<std::uint32_t>(
                    std::min<std::uint64_t>(static_cast<std::uint64_t>((k + 1) * n) - key_at, len) *
                    per_sample);
                for (int copy = 0; copy < (end ? 3 : 1); ++copy) {
                    std::vector<std::uint8_t> e = rtp(101, false, seq++, start);
                    e.push_back(static_cast<std::uint8_t>(digit));
                    e.push_back(static_cast<std::uint8_t>((end ? 0x80 : 0) | 10));
                    e.push_back(static_cast<std::uint8_t>(dur >> 8));
                    e.push_back(static_cast<std::uint8_t>(dur));
                    ops.push_back({Op::Push, e});
                }
            }
            t += static_cast<std::uint64_t>(n);
            if (chance(0.05)) ops.push_back({Op::Filtering, {}, chance(0.8) ? 1u : 0u});
            if (chance(0.03))
                ops.push_back({Op::Mask,
                               {},
                               ts + static_cast<std::uint32_t>(t) * per_sample +
                                   static_cast<std::uint32_t>(rng() % 400) * per_sample,
                               static_cast<std::uint32_t>(rng() % 2000) * per_sample});
        }
        // The pause: none, a few ms, a few hundred, or up to just under max_gap_ms.
        const int pick = static_cast<int>(rng() % 4);
        const double ms = scripted    ? 1500
                          : pick == 0 ? 0
                          : pick == 1 ? uniform(2.5, 40)
                          : pick == 2 ? uniform(80, 400)
                                      : uniform(400, max_gap_ms - 30);
        const auto gap = static_cast<std::uint64_t>(ms * c.rate / 1000) / 20 * 20;  // 2.5 ms units
        // Masks that reach into or over the pause: asked for (from the last packet on, up to
        // past the pause's end), or an RFC 4733 event begun in the last packet and never
        // ended, as long as its duration field holds (8.2 s at 8 kHz, 1.4 s at 48 kHz).
        if (chance(0.3))
            ops.push_back({Op::Mask,
                           {},
                           ts + static_cast<std::uint32_t>(t - static_cast<std::uint64_t>(n) +
                                                           rng() % (gap + 1)) *
                                    per_sample,
                           static_cast<std::uint32_t>(rng() % (gap + 2 * n + 1)) * per_sample});
        if (chance(0.2)) {
            std::vector<std::uint8_t> e = rtp(
                101, true, seq++,
                ts + static_cast<std::uint32_t>(t - static_cast<std::uint64_t>(n)) * per_sample);
            const std::uint32_t dur =
                chance(0.5) ? 0xFFFFu : static_cast<std::uint32_t>(rng() % 0x10000u);
            e.push_back(static_cast<std::uint8_t>(rng() % 16));
            e.push_back(10);
            e.push_back(static_cast<std::uint8_t>(dur >> 8));
            e.push_back(static_cast<std::uint8_t>(dur));
            ops.push_back({Op::Push, e});
        }
        if (gap > 0 && chance(0.4))  // a relay's timer runs on through the pause
            ops.push_back(
                {Op::Advance, {}, ts + static_cast<std::uint32_t>(t + gap / 2) * per_sample});
        t += gap;
    }
    return ops;
}

std::string run(const Config& c, const std::vector<Op>& ops, int max_gap_ms, bool skip,
                std::uint64_t* skipped) {
    StreamFilterParams p;
    if (c.opus) {
        p.payload_types[0] = p.payload_types[8] = PayloadKind::Other;
        p.payload_types[111] = PayloadKind::Opus;
    }
    p.payload_types[101] = PayloadKind::TelephoneEvent;
    p.telephone_events = TelephoneEventAction::Replace;
    p.scrub.sample_rate = c.rate;
    p.scrub.lookahead_ms = c.lookahead_ms;
    p.scrub.masker.mode = c.mode;
    if (c.tones) {
        p.scrub.tones = default_tones();
        // 1000.7 Hz turns no whole number of times in any period of sub-blocks: the bank runs
        // its phase recurrence, which a skip steps through.
        p.scrub.tones.push_back(ToneSpec{"beep", 1000.7, 0, 100, -40, 0.02, 30});
        p.scrub.mask_tones = true;
    }
    p.max_gap_samples =
        static_cast<std::uint32_t>(max_gap_ms * c.rate / 1000 * (c.opus ? 48000 / c.rate : 1));
    p.skip_settled_silence = skip;
    StreamFilter f(p);
    f.set_filtering(true);
    std::string log;
    const auto put = [&](const void* d, std::size_t n) {
        log.append(static_cast<const char*>(d), n);
    };
    std::uint8_t out[StreamFilter::kMaxPacket];
    std::size_t len = 0;
    const auto drain = [&] {
        while (f.pop(out, &len)) {
            put(&len, sizeof len);
            put(out, len);
        }
        for (const ToneEvent& e : f.events()) {
            put(&e.kind, sizeof e.kind);
            put(&e.digit, 1);
            put(&e.tone_index, sizeof e.tone_index);
            put(&e.start, sizeof e.start);
            put(&e.end, sizeof e.end);
            put(&e.level_dbm0, sizeof e.level_dbm0);
            put(&e.twist_db, sizeof e.twist_db);
        }
        f.events().clear();
        for (const auto& m : f.masked_spans()) {
            put(&m.timestamp, sizeof m.timestamp);
            put(&m.duration, sizeof m.duration);
        }
        f.masked_spans().clear();
    };
    for (const Op& op : ops) {
        switch (op.kind) {
            case Op::Push:
                f.push(op.bytes.data(), op.bytes.size());
                break;
            case Op::Advance:
                f.advance(op.a);
                break;
            case Op::Filtering:
                f.set_filtering(op.a != 0);
                break;
            case Op::Mask: {
                const bool whole = f.mask(op.a, op.b);
                put(&whole, 1);
                break;
            }
        }
        drain();
    }
    f.flush();
    drain();
    for (std::size_t i = 0; i < stream_stat_count(); ++i) {
        const std::uint64_t v = stream_stat_value(f.stats(), i);
        put(&v, sizeof v);
    }
    const ScrubberStats& s = f.scrubber_stats();
    for (const std::uint64_t v : {s.samples, s.keypresses, s.tones, s.masked_samples, s.late_masks})
        put(&v, sizeof v);
    *skipped += f.skipped_samples();
    return log;
}

// A mask over a whole pause does not hold the skip up: in every mode the pause is taken in
// at once all the same, after its first 100-250 ms, with the same output. The masks: an
// RFC 4733 event 8.2 s long begun at the packet before the pause and never ended (a hostile
// sender's), or one asked for (mask()) from the pause into the talkspurt after it; there,
// in a CELT stream with no look-ahead, the packet after the pause is re-encoded from an
// encoder primed with the pause's last output, the masking tone.
void check_a_mask_over_a_pause_is_skipped() {
    const Config configs[] = {
        {"PCMU, silence", false, 8000, MaskMode::Silence, 40, false},
        {"PCMU, noise", false, 8000, MaskMode::Noise, 40, false},
        {"PCMU, tone", false, 8000, MaskMode::Tone, 40, false},
        {"Opus 8 kHz CELT, tone, no look-ahead", true, 8000, MaskMode::Tone, 0, false},
    };
    for (const Config& c : configs) {
        for (const bool event : {true, false}) {
            const int n = c.rate / 50;
            const std::uint32_t per_sample =
                c.opus ? 48000u / static_cast<std::uint32_t>(c.rate) : 1u;
            const std::uint32_t pause = static_cast<std::uint32_t>(c.rate) * 39 / 20;  // 1.95 s
            std::unique_ptr<OpusCodec> enc;
            if (c.opus) enc = std::make_unique<OpusCodec>(c.rate, 16000);
            std::vector<Op> ops;
            std::uint16_t seq = 0;
            std::vector<std::int16_t> pcm(static_cast<std::size_t>(n));
            const auto push = [&](std::uint32_t t, bool sound = true) {
                for (int i = 0; i < n; ++i) {
                    const double time = double(t + static_cast<std::uint32_t>(i)) / c.rate;
                    double v = 0;
                    for (int h = 1; sound && h <= 8; ++h)
                        v += 3000.0 / h * std::sin(2 * M_PI * 140 * h * time + h);
                    pcm[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(std::lround(v));
                }
                ops.push_back({Op::Push, audio_packet(c, enc.get(), pcm, false, seq++,
                                                      t * per_sample, true)});
            };
            std::uint32_t t = 0;
            // The last 100 ms before the pause silent (for mask()): no guard masks the packet
            // before it, so the one after it starts a run of masked packets afresh.
            const std::uint32_t sound_until = static_cast<std::uint32_t>(c.rate) -
                                              (event ? 0u : static_cast<std::uint32_t>(5 * n));
            for (; t < static_cast<std::uint32_t>(c.rate); t += static_cast<std::uint32_t>(n))
                push(t, t < sound_until);
            if (event) {
                std::vector<std::uint8_t> e =
                    rtp(101, true, seq++, (t - static_cast<std::uint32_t>(n)) * per_sample);
                e.insert(e.end(), {5, 10, 0xFF, 0xFF});
                ops.push_back({Op::Push, e});
            } else {
                ops.push_back({Op::Mask,
                               {},
                               (t + 400) * per_sample,
                               (pause - 400 + 3 * static_cast<std::uint32_t>(n)) * per_sample});
            }
            t += pause;
            for (int k = 0; k < 25; ++k, t += static_cast<std::uint32_t>(n)) push(t);
            std::uint64_t skipped = 0, fed_skipped = 0;
            const bool same =
                run(c, ops, 2000, true, &skipped) == run(c, ops, 2000, false, &fed_skipped);
            std::printf("a pause under a mask (%s, %s): %llu of %u samples skipped, %s\n", c.name,
                        event ? "RFC 4733 event" : "mask()",
                        static_cast<unsigned long long>(skipped), pause,
                        same ? "the same output" : "OUTPUT DIFFERS");
            CHECK(same);
            CHECK(skipped >= pause - pause / 6);
        }
    }
}

}  // namespace

int main() {
    check_a_mask_over_a_pause_is_skipped();
    const Config configs[] = {
        {"PCMU, silence", false, 8000, MaskMode::Silence, 40, false},
        {"PCMU, noise", false, 8000, MaskMode::Noise, 40, false},
        {"PCMU, tone, tones detected", false, 8000, MaskMode::Tone, 40, true},
        {"PCMU, no look-ahead", false, 8000, MaskMode::Silence, 0, false},
        {"PCMU, 200 ms look-ahead, noise", false, 8000, MaskMode::Noise, 200, true},
        {"Opus 8 kHz, silence", true, 8000, MaskMode::Silence, 40, false},
        {"Opus 8 kHz, noise, tones detected", true, 8000, MaskMode::Noise, 40, true},
        {"Opus 8 kHz, no look-ahead", true, 8000, MaskMode::Silence, 0, false},
        {"Opus 16 kHz, tone", true, 16000, MaskMode::Tone, 40, false},
        {"Opus 8 kHz, tone, no look-ahead", true, 8000, MaskMode::Tone, 0, false},
        {"Opus 16 kHz, 200 ms look-ahead, noise", true, 16000, MaskMode::Noise, 200, true},
    };
    for (const Config& c : configs) {
        std::uint64_t skipped = 0, reference_skipped = 0;
        int differ = 0;
        for (std::uint32_t seed = 1; seed <= 6; ++seed) {
            const int max_gap_ms = seed % 3 == 0 ? 10000 : 2000;
            const std::vector<Op> ops =
                make_stream(c, seed * 7919u + static_cast<std::uint32_t>(c.rate), max_gap_ms);
            const std::string fast = run(c, ops, max_gap_ms, true, &skipped);
            const std::string fed = run(c, ops, max_gap_ms, false, &reference_skipped);
            if (fast != fed) ++differ;
        }
        std::printf("%-40s %d of 6 streams differ; %llu samples skipped\n", c.name, differ,
                    static_cast<unsigned long long>(skipped));
        CHECK(differ == 0);
        CHECK(skipped > 0);
        CHECK(reference_skipped == 0);
    }
    return CHECK_DONE();
}
