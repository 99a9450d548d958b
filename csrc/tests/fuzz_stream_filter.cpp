// SPDX-License-Identifier: Apache-2.0
// Mutation fuzzing of RTP parsing and the stream filter (run under ASan/UBSan by CTest).
//
//   fuzz_stream_filter [inputs] [seed]     default 1000000 inputs: the CI budget
//   fuzz_stream_filter 50000000 7          the longer run documented in bench/RESULTS.md
//
// Seeds are real packets (sipp's g711a.pcap and dtmf_2833_1.pcap) and generated PCMU and
// telephone-event packets; each input is a seed with 1-4 mutations (bit flips, byte writes,
// truncation, random extension, splicing). Invariants checked on every output packet: it
// parses, it is no longer than a slot, and no telephone-event leaves while filtering is on,
// with telephone-events dropped and replaced, on Opus streams, and with a 200 ms look-ahead
// (masks carried back; filters in turn); masks asked for at any time and of any length; the
// media clock advanced (a relay's timer) near the stream's clock and anywhere. Each filter
// has a twin that feeds every sample of a pause (skip_settled_silence off) and must put out
// the same bytes and events; one filter in five is fed its packets in sequence, unmutated,
// with pauses, so that pauses settle and are skipped (the count is printed).
// The coverage-guided build (clang -fsanitize=fuzzer, `fuzz_stream_filter_libfuzzer`, run by
// ./dev.sh test when clang is installed) uses LLVMFuzzerTestOneInput instead of main.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "pcifilter/g711.hpp"
#include "pcifilter/opus_codec.hpp"
#include "pcifilter/rtp.hpp"
#include "pcifilter/stream_filter.hpp"

using namespace pcifilter;

namespace {

std::vector<std::vector<std::uint8_t>> seeds() {
    std::vector<std::vector<std::uint8_t>> s;
    // sipp's g711a.pcap first packet header, and dtmf_2833_1.pcap first packet.
    std::vector<std::uint8_t> pcma = {0x80, 0x88, 0xe6, 0xfd, 0x00, 0x00, 0x00, 0xf0, 0xde, 0xe0, 0xee, 0x8f};
    pcma.resize(12 + 240, 0xd5);
    s.push_back(pcma);
    s.push_back({0x80, 0xe5, 0x1f, 0x30, 0x00, 0x00, 0x33, 0xe0, 0x0e, 0x05, 0x38, 0x4e, 0x01, 0x0a, 0x00, 0x00});
    // PCMU with a DTMF tone, with a one-byte extension and a CSRC.
    std::vector<std::uint8_t> pcmu = {0x91, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x00, 0x12, 0x34,
                                      0x56, 0x78, 0x00, 0x00, 0x00, 0x09, 0xbe, 0xde, 0x00, 0x01,
                                      0x10, 0xaa, 0x00, 0x00};
    for (int i = 0; i < 160; ++i) {
        const double v = 8000 * (std::sin(2 * M_PI * 697 * i / 8000.0) + std::sin(2 * M_PI * 1209 * i / 8000.0));
        pcmu.push_back(linear_to_ulaw(static_cast<std::int16_t>(v)));
    }
    s.push_back(pcmu);
    // Opus (PT 111): 20 ms of the same tone, encoded by libopus.
    std::vector<std::int16_t> tone(160);
    for (int i = 0; i < 160; ++i)
        tone[static_cast<std::size_t>(i)] = static_cast<std::int16_t>(
            8000 * (std::sin(2 * M_PI * 770 * i / 8000.0) + std::sin(2 * M_PI * 1336 * i / 8000.0)));
    OpusCodec codec(8000, 16000);
    std::vector<std::uint8_t> opus = {0x80, 0x6f, 0x00, 0x01, 0x00, 0x00, 0x03, 0xc0, 0x0a, 0x0b, 0x0c, 0x0d};
    opus.resize(12 + 400);
    const int n = codec.encode(tone.data(), 160, opus.data() + 12, 400);
    opus.resize(12 + static_cast<std::size_t>(n > 0 ? n : 0));
    s.push_back(opus);
    return s;
}

enum class Kind { Drop, Replace, Opus, LongLookahead, Both };

StreamFilterParams params_for(Kind kind) {
    StreamFilterParams p;
    p.telephone_events = kind == Kind::Replace ? TelephoneEventAction::Replace : TelephoneEventAction::Drop;
    if (kind == Kind::Opus) {  // G.711 or Opus: the Opus filter maps no G.711 type
        p.payload_types[0] = p.payload_types[8] = PayloadKind::Other;
        p.payload_types[111] = PayloadKind::Opus;
        p.payload_types[100] = PayloadKind::TelephoneEvent8000;  // durations at 8 kHz
    }
    if (kind == Kind::Both) {  // G.711 beside Opus: the sender switches at any packet
        p.payload_types[111] = PayloadKind::Opus;
        p.payload_types[100] = PayloadKind::TelephoneEvent8000;
    }
    if (kind == Kind::LongLookahead) p.scrub.lookahead_ms = 200.0;
    return p;
}

StreamFilterParams feeding_every_sample(StreamFilterParams p) {
    p.skip_settled_silence = false;
    return p;
}

// A filter, and its twin that feeds every sample of a pause to the scrubber
// (skip_settled_silence off): given the same calls, both must put out the same bytes.
struct Harness {
    explicit Harness(Kind k) : kind(k), filter(params_for(k)), twin(feeding_every_sample(params_for(k))) {
        if (k == Kind::Replace) {  // a capture's flow on a switching path
            filter.guard_ends(true, true);
            twin.guard_ends(true, true);
        }
    }
    Kind kind;
    StreamFilter filter, twin;
    std::uint8_t out[StreamFilter::kMaxPacket], twin_out[StreamFilter::kMaxPacket];
    std::uint64_t outputs = 0;

    void push(const std::uint8_t* data, std::size_t len) {
        filter.push(data, len);
        twin.push(data, len);
        drain();
    }
    void set_filtering(bool on) {
        filter.set_filtering(on);
        twin.set_filtering(on);
    }
    bool mask(std::uint32_t ts, std::uint32_t duration) {
        const bool whole = filter.mask(ts, duration);
        if (twin.mask(ts, duration) != whole) different();
        return whole;
    }
    void advance(std::uint32_t ts) {
        filter.advance(ts);
        twin.advance(ts);
        drain();
    }
    void clear_masked() {
        if (filter.masked_spans().size() != twin.masked_spans().size()) different();
        filter.masked_spans().clear();
        twin.masked_spans().clear();
    }
    void flush() {
        filter.flush();
        twin.flush();
        drain();
    }
    [[noreturn]] static void different() {
        std::fprintf(stderr, "fuzz: skipping a settled pause changed what the filter did\n");
        std::abort();
    }
    void drain() {
        std::size_t n = 0, twin_n = 0;
        while (filter.pop(out, &n)) {
            if (!twin.pop(twin_out, &twin_n) || twin_n != n || std::memcmp(out, twin_out, n) != 0) different();
            ++outputs;
            RtpHeader h;
            if (n > StreamFilter::kMaxPacket || parse_rtp(out, n, &h) != RtpDrop::None) {
                std::fprintf(stderr, "fuzz: an output packet does not parse (%zu bytes)\n", n);
                std::abort();
            }
            if (filter.filtering() && h.payload_type == 101) {
                std::fprintf(stderr, "fuzz: a telephone-event left while filtering was on\n");
                std::abort();
            }
        }
        if (twin.pop(twin_out, &twin_n) || filter.events().size() != twin.events().size()) different();
        filter.events().clear();
        twin.events().clear();
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The first byte steers: which filter (G.711 dropping or replacing telephone-events, Opus,
    // G.711 with a 200 ms look-ahead, both families), filtering on or off; the rest is the
    // packet. The filters live on: stream state is fuzzed too.
    static Harness* harnesses[5] = {new Harness(Kind::Drop), new Harness(Kind::Replace), new Harness(Kind::Opus),
                                    new Harness(Kind::LongLookahead), new Harness(Kind::Both)};
    if (size == 0) return 0;
    Harness* h = harnesses[(data[0] & 7) % 5];
    if ((data[0] & 0x80) != 0) h->set_filtering(!h->filter.filtering());
    if ((data[0] & 0x40) != 0 && size >= 9) {  // a mask asked for: any timestamp, any length
        std::uint32_t ts, duration;
        std::memcpy(&ts, data + 1, 4);
        std::memcpy(&duration, data + 5, 4);
        (void)h->mask(ts, duration);
        h->clear_masked();
    }
    if ((data[0] & 0x20) != 0 && size >= 5) {  // the media clock advanced: to any timestamp
        std::uint32_t ts;
        std::memcpy(&ts, data + 1, 4);
        h->advance(ts);
    }
    h->push(data + 1, size - 1);
    return 0;
}

#ifndef PCIFILTER_LIBFUZZER
int main(int argc, char** argv) {
    if (argc == 3 && std::strcmp(argv[1], "--write-seeds") == 0) {
        // The seed corpus of the coverage-guided run: each seed with each steering byte.
        int k = 0;
        for (const auto& seed : seeds())
            for (std::uint8_t steer : {0, 1, 2, 3, 4}) {
                const std::string path = std::string(argv[2]) + "/seed" + std::to_string(k++);
                std::FILE* f = std::fopen(path.c_str(), "wb");
                if (f == nullptr) return 1;
                std::fwrite(&steer, 1, 1, f);
                std::fwrite(seed.data(), 1, seed.size(), f);
                std::fclose(f);
            }
        return 0;
    }
    const long inputs = argc > 1 ? std::atol(argv[1]) : 1000000;
    std::mt19937_64 rng(argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1);
    const auto pool = seeds();
    long fresh = 0;  // in turn: G.711 dropping and replacing telephone-events, Opus, 200 ms, both
    const auto make = [&fresh] {
        const Kind kinds[5] = {Kind::Drop, Kind::Replace, Kind::Opus, Kind::LongLookahead, Kind::Both};
        return new Harness(kinds[fresh++ % 5]);
    };
    Harness* h = make();
    // One filter in six is fed steadily: its packets in sequence, none mutated, no mask
    // left open for hours: streams that live long enough for pauses to settle, so that the
    // twin's comparison meets skipped pauses (the others restart every few packets).
    bool steady = false;
    std::vector<std::uint8_t> buf;
    std::uint16_t seq = 0;
    std::uint32_t ts = 0;
    std::uint64_t outputs = 0, malformed = 0, skipped = 0;
    for (long i = 0; i < inputs; ++i) {
        if (i % 5000 == 0) {  // a fresh filter now and then; filtering toggles at random
            outputs += h->outputs;
            malformed += h->filter.stats().malformed.total();
            skipped += h->filter.skipped_samples();
            delete h;
            h = make();
            steady = (i / 5000) % 6 == 5;  // (6: each kind in turn is the steady one)
        }
        if (rng() % 97 == 0) h->set_filtering(!h->filter.filtering());
        if (rng() % 89 == 0) {  // a mask asked for: near the stream's clock, or anywhere
            const std::uint32_t at = rng() % 2 == 0 ? ts + static_cast<std::uint32_t>(rng() % 4000) - 2000
                                                    : static_cast<std::uint32_t>(rng());
            (void)h->mask(at, static_cast<std::uint32_t>(rng() % 3 == 0 && !steady ? rng() : rng() % 8000));
        }
        if (rng() % 7 == 0) h->clear_masked();  // drained now and then
        if (rng() % 5 == 0) {  // a relay's timer: the media clock near the stream's, or anywhere
            const std::uint32_t at = rng() % 4 != 0 ? ts - static_cast<std::uint32_t>(rng() % 4000)
                                                    : static_cast<std::uint32_t>(rng());
            h->advance(at);
        }
        buf = pool[rng() % pool.size()];
        // Keep most inputs in sequence, so the stream logic (not only parsing) is exercised.
        if (buf.size() >= 12 && (steady || rng() % 4 != 0)) {
            seq = static_cast<std::uint16_t>(seq + 1);
            // (both families: one clock for the two, as a hostile sender's, switching at will)
            const bool opus = h->kind == Kind::Opus || (h->kind == Kind::Both && (buf[1] & 0x7F) == 111);
            ts += opus ? 960 : 160;
            // Now and then a pause, up to just under max_gap_samples: fed as silence (the
            // twin feeds all of it; the filter skips it once settled).
            if (rng() % 40 == 0) ts += static_cast<std::uint32_t>(rng() % 15900) * (opus ? 6 : 1);
            buf[2] = static_cast<std::uint8_t>(seq >> 8), buf[3] = static_cast<std::uint8_t>(seq);
            buf[4] = static_cast<std::uint8_t>(ts >> 24), buf[5] = static_cast<std::uint8_t>(ts >> 16);
            buf[6] = static_cast<std::uint8_t>(ts >> 8), buf[7] = static_cast<std::uint8_t>(ts);
        }
        const int mutations = 1 + static_cast<int>(rng() % 4);
        for (int m = 0; m < mutations && !steady && rng() % 3 != 0; ++m) {
            switch (rng() % 5) {
                case 0:
                    if (!buf.empty()) buf[rng() % buf.size()] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
                    break;
                case 1:
                    if (!buf.empty()) buf[rng() % buf.size()] = static_cast<std::uint8_t>(rng());
                    break;
                case 2:
                    buf.resize(rng() % (buf.size() + 1));
                    break;
                case 3:
                    for (int k = static_cast<int>(rng() % 64); k > 0; --k) buf.push_back(static_cast<std::uint8_t>(rng()));
                    break;
                default: {
                    const auto& other = pool[rng() % pool.size()];
                    const std::size_t at = rng() % (buf.size() + 1), from = rng() % other.size();
                    buf.resize(at);
                    buf.insert(buf.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
                }
            }
        }
        if (buf.size() > 4000) buf.resize(4000);
        h->push(buf.data(), buf.size());
        RtpHeader hdr;
        (void)parse_rtp(buf.data(), buf.size(), &hdr);
    }
    h->flush();
    outputs += h->outputs;
    malformed += h->filter.stats().malformed.total();
    skipped += h->filter.skipped_samples();
    std::printf("fuzz: %ld inputs, %llu packets out, %llu malformed dropped, %llu samples of settled pauses "
                "skipped (the twin fed them): ok\n",
                inputs, static_cast<unsigned long long>(outputs), static_cast<unsigned long long>(malformed),
                static_cast<unsigned long long>(skipped));
    delete h;
    return 0;
}
#endif  // PCIFILTER_LIBFUZZER
