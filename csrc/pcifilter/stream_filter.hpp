// SPDX-License-Identifier: Apache-2.0
// One direction of a call's RTP: G.711 or Opus audio scrubbed with the look-ahead masker,
// RFC 4733 telephone-events captured and never forwarded while filtering is on.
//
// Packets come out in order, `delay` later than they went in (the look-ahead, the same
// whether filtering is on or off, so switching never adds a gap, a click or a lost packet).
// G.711: a payload is re-encoded only where masked; every other code passes bit-exact.
// Opus: a packet that carries any masked sample is replaced by one that decodes to the masking
// signal over its whole duration (see reencode; reencoded_after_mask for the packets after
// it); every other passes bit-exact.
// Dropped packets are taken out of the sequence: later sequence numbers are renumbered to
// stay contiguous; timestamps stay on the sampling clock.
// Timeline: RTP timestamps unwrapped to 64 bits, in samples of the decoded audio (G.711: the
// RTP clock; Opus: 48 kHz over 6 or 3). Audio arriving ahead of a gap is held (in timestamp
// order) until the gap is filled or the reorder window is exceeded; a gap (loss, DTX) then
// feeds the detector silence (Opus: libopus's concealment and FEC) and outputs nothing; a
// duplicate or a packet that comes after its slot was filled is dropped and counted (its
// audio never leaves: no leak). A new SSRC flushes the old stream and starts afresh, as does
// a jump of the timestamps back (the newest packet by sequence number) or far on; while
// filtering, the cut is masked on both sides (restart()), and so is a lost packet
// (conceal_until()), a pause that begins on sound, and a stream's start and end on sound
// (guard_pause(), feed_held(): a keypress under speech may be cut there).
// Both families (G.711 types beside Opus, decoded at 8000 Hz): an answer that lists both
// lets the sender switch between them at any packet. Each timeline runs one family, that of
// its first audio packet (before any, the last one run; Opus at first); the newest packet
// (by sequence number) of the other family ends it and starts a new one on its clock, the
// cut guarded as a restart's (a keypress across the switch is masked on both sides); an
// older one is late (dropped, counted). Masks hang over Opus's 10 ms longer in both.
// Malformed packets are counted by reason, never thrown; payload types the filter does not
// know are dropped while filtering is on (they could carry a keypress).
// Switching filtering on also removes telephone-events still held in the look-ahead queue
// (a keypress a moment before the payment session started is not forwarded either), and
// masks what the detector found while it was off in audio not gone out yet.
// While filtering is on, every RFC 4733 keypress is also masked in the audio, from a whole
// look-ahead before its start to its end: a gateway that lets the first tens of
// milliseconds of a tone through in-band before it switches to telephone-events (too short
// for any detector to confirm) leaks nothing either.
// TelephoneEventAction::Replace sends, instead of dropping them, audio packets of the
// masking signal in the telephone-events' place (same sequence numbers, the stream's audio
// payload type, timestamps of the time each event packet newly covers): for receivers
// that expect continuous audio. Event packets that cover no new time (the repeated end
// packets) are still dropped and renumbered. It suits senders that send telephone-events
// instead of audio (the usual practice, RFC 4733 §2.2); a stream found sending audio for
// the same time as well falls back to dropping.
// No allocation per packet: output slots and the Opus codec are allocated once.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "pcifilter/opus_codec.hpp"
#include "pcifilter/rfc4733.hpp"
#include "pcifilter/rtp.hpp"
#include "pcifilter/scrubber.hpp"

namespace pcifilter {

// TelephoneEvent8000: telephone-events whose SDP clock is 8000 Hz in an Opus stream, whose
// RTP clock is 48000 Hz (RFC 7587 has them at 48000, TelephoneEvent there, but some endpoints
// answer Opus with telephone-event/8000): their durations are read in 8 kHz units (in a G.711
// stream the two are the same).
enum class PayloadKind : std::uint8_t { Other = 0, Pcmu, Pcma, ComfortNoise, TelephoneEvent, Opus, TelephoneEvent8000 };
// The payload types a stream's SDP gives each kind (-1: none). An Opus stream (opus >= 0)
// maps no G.711 type unless `g711_beside_opus`: an answer that lists both families lets
// its sender switch between them with no new offer (RFC 3264 §5.1), and such a filter
// follows it (see StreamFilter).
struct PayloadTypeNumbers {
    int pcmu = 0, pcma = 8, cn = 13, telephone_event = 101;
    int opus = -1, telephone_event_8000 = -1;  // both for Opus streams only
    bool g711_beside_opus = false;
    // Further types of a kind: an SDP may list a codec under two numbers (Opus with two
    // fmtp lines, a second telephone-event), and its sender may use either.
    std::vector<std::pair<int, PayloadKind>> more;
};
// The map of a StreamFilterParams from those numbers, for every binding alike: a number
// outside [0, 127] and -1, one given to two kinds (a packet of it would be read as the
// wrong kind: audio taken for comfort noise passes unfiltered), or telephone_event_8000 in
// a G.711 stream is std::invalid_argument (and so is g711_beside_opus with no Opus type, and
// in `more` a kind the filter would not take as a number of its own, or Other).
std::array<PayloadKind, 128> payload_type_map(const PayloadTypeNumbers& n);
// What becomes of telephone-event packets while filtering is on.
enum class TelephoneEventAction : std::uint8_t { Drop = 0, Replace = 1 };

struct StreamFilterParams {
    // Payload-type map (RFC 3551 static types by default; dynamic ones from SDP).
    std::array<PayloadKind, 128> payload_types{};
    ScrubberParams scrub;  // sample_rate: 8000 for G.711; 8000 or 16000 (the decode rate) for Opus
    std::uint32_t max_gap_samples = 8000 * 2;  // longer gaps restart the timeline
    // Audio that arrives ahead of a gap is held until the gap is filled or this much audio
    // is held beyond it (then the gap is taken for lost): reordering within it loses nothing.
    std::uint32_t reorder_window_samples = 160;
    TelephoneEventAction telephone_events = TelephoneEventAction::Drop;
    // Opus (RFC 7587): an Opus stream's RTP clock is 48000 Hz (its telephone-events' too);
    // it is decoded at scrub.sample_rate (8000 or 16000) and masked packets are re-encoded
    // at this bitrate. A map with G.711 types beside Opus (both families) needs 8000.
    int opus_bitrate = 16000;
    // Payload types the filter does not know (not audio it decodes, comfort noise or
    // telephone-event) are dropped while filtering is on, as they could carry a keypress;
    // true lets them pass.
    bool pass_unknown_payloads = false;
    // A pause fed to the detector as silence is taken in at once once it has settled on it
    // (Scrubber::skip_silence; the same output and events). false feeds every sample: the
    // reference the tests and benchmarks hold that against.
    bool skip_settled_silence = true;
    bool opus() const noexcept;
    bool g711() const noexcept;  // maps PCMU or PCMA (with opus(): both families)
    // RTP clock units per duration unit of a telephone-event payload type (0: not one), on
    // the Opus clock (`opus_clock`; a filter of both families: while it runs Opus) or G.711's.
    std::uint32_t event_duration_unit(std::uint8_t pt, bool opus_clock) const noexcept;
    StreamFilterParams();
    void validate() const;
};

// `ms` of audio as samples at `rate` (rounded half to even, as Python's round), for
// reorder_window_samples and max_gap_samples as the bindings take them in ms (Python's
// RtpStreamFilter, the C ABI's pcifilter_config): std::invalid_argument naming `name`
// outside [0, 60000].
std::uint32_t samples_of_ms(double ms, int rate, const char* name);

struct StreamFilterStats {
    std::uint64_t packets_in = 0, packets_out = 0;
    std::uint64_t audio_packets = 0, telephone_events_dropped = 0, telephone_events_replaced = 0;
    std::uint64_t duplicates = 0, late = 0, gaps = 0, ssrc_changes = 0;
    std::uint64_t timestamp_resets = 0;  // timestamps gone back (same SSRC): a new timeline
    std::uint64_t keypresses_rfc4733 = 0, keypresses_inband = 0;
    // Opus: packets libopus refused (dropped, or re-encoded when only decoding failed),
    // packets re-encoded, missing audio concealed or recovered from in-band FEC (samples at
    // the decode rate).
    std::uint64_t bad_payloads = 0, reencoded = 0, concealed_samples = 0;
    std::uint64_t unknown_dropped = 0;  // unknown payload types not forwarded while filtering
    std::uint64_t side_events = 0;      // telephone-event packets under an SSRC of their own
    std::uint64_t empty_payloads = 0;   // G.711 packets with no payload (keepalives): passed
    // Comfort-noise packets (RFC 3389) passed with their noise level only, their spectrum
    // (reflection coefficients) taken out while filtering: see handle_packet.
    std::uint64_t comfort_noise_flattened = 0;
    std::uint64_t events_dropped = 0;   // keypresses and tones not kept: kMaxEvents undrained
    std::uint64_t codec_switches = 0;   // between G.711 and Opus (a filter of both families)
    RtpDropCounters malformed;
};

// The counters of StreamFilterStats by name, the same for every binding (Python's `stats`
// keys, the C API's pcifilter_stream_stat): i from 0 to stream_stat_count() - 1, malformed
// packets by reason last ("malformed_too_short", ...).
std::size_t stream_stat_count() noexcept;
const char* stream_stat_name(std::size_t i) noexcept;  // nullptr past the last
std::uint64_t stream_stat_value(const StreamFilterStats& s, std::size_t i) noexcept;

class StreamFilter {
public:
    static constexpr std::size_t kMaxPacket = 1500;
    static constexpr std::size_t kMinSlots = 32;  // packets held at once, at the least
    static constexpr std::size_t kFirstSlots = 8;  // the queue's size at first (grow_slots)
    static constexpr std::size_t kMaxPcm = 1920;  // an Opus packet's longest audio: 120 ms at 16 kHz
    // Events kept until taken (events().clear()): a caller that never takes them (or a sender
    // of a new event in every packet, eight packed in each) must not grow the filter without
    // bound; past this, new ones are counted in stats().events_dropped.
    static constexpr std::size_t kMaxEvents = 1024;

    explicit StreamFilter(const StreamFilterParams& params);

    // One packet in. Ready packets are then taken with pop().
    void push(const std::uint8_t* data, std::size_t len) noexcept;
    // Next ready packet into `out` (kMaxPacket bytes); false when none is ready.
    bool pop(std::uint8_t* out, std::size_t* len) noexcept;
    // End of stream: everything still held becomes ready.
    void flush() noexcept;
    // The stream's media clock has reached RTP timestamp `timestamp`: everything that plays
    // before it has been sent. For a live relay, called on a timer with its jitter allowance
    // subtracted, so that the audio the look-ahead holds comes out when the sender pauses
    // (DTX, comfort noise, hold, a mute) rather than when it sends again. Audio still held
    // before it is fed (a gap before it taken for lost), then silence after the last audio,
    // as far as `timestamp` and no further than the look-ahead needs to put all of it out;
    // a packet that comes later for time fed so is late (dropped, counted). Ready packets
    // are then taken with pop(). While filtering, a pause that falls in a keypress's first
    // milliseconds is guarded as the end of a stream is. A filter of both families takes it
    // on the clock of the family the last audio packet had.
    void advance(std::uint32_t timestamp) noexcept;

    void set_filtering(bool on) noexcept;
    bool filtering() const noexcept { return filtering_; }
    // For a stream known to be one part of a longer one (a capture's flow that another SSRC
    // continues on the same path, or that continues one): while filtering, its first (`start`)
    // or last (`end`) 40 ms are masked whatever is in them, as a restart masks a cut.
    void guard_ends(bool start, bool end) noexcept {
        guard_start_ = start;
        guard_end_ = end;
    }
    int delay_samples() const noexcept { return scrubber_.delay(); }
    // The RTP clock of the timeline under way (of the family of the last audio packet
    // pushed; before the first, of an Opus stream's or a G.711 one's): what advance() and
    // mask() take, and events' timestamps are on (a filter of both families switches it).
    int clock_rate() const noexcept { return opus_mode_ ? 48000 : 8000; }
    const StreamFilterStats& stats() const noexcept { return stats_; }
    const ScrubberStats& scrubber_stats() const noexcept { return scrubber_.stats(); }
    // Samples of pauses taken in at once (skip_settled_silence), over the filter's life.
    std::uint64_t skipped_samples() const noexcept { return skipped_samples_; }
    const StreamFilterParams& params() const noexcept { return params_; }
    // Keypresses (in-band and RFC 4733, each reported once), times in samples on the
    // stream's timeline and on the RTP stream; drained by the caller.
    std::vector<StreamEvent>& events() noexcept { return events_; }

    // Masks the audio from RTP timestamp `timestamp` for `duration` RTP clock units, whether
    // or not a keypress is found there, as far as it has not gone out yet: a keypress known
    // from elsewhere (SIP INFO, the other leg's telephone-events), a prompt for card data
    // muted whole. Exact (rounded outward to whole samples of the timeline): no lead-in or
    // hang-over is added. Only while filtering is on and a stream has started; returns
    // whether all of it was still ahead of the output.
    bool mask(std::uint32_t timestamp, std::uint32_t duration) noexcept;
    // Where the output was masked, as RTP timestamp and duration (RTP clock units), for
    // spans whose output is complete (Opus: the packets re-encoded as the masking signal,
    // whole); drained by the caller. At most kMaxMaskedSpans are kept undrained: past that
    // the last one stretches over the rest (covering more, never less).
    struct MaskedSpan {
        std::uint32_t timestamp = 0;
        std::uint32_t duration = 0;
    };
    static constexpr std::size_t kMaxMaskedSpans = 256;
    std::vector<MaskedSpan>& masked_spans() noexcept { return masked_; }

private:
    struct Slot {
        std::array<std::uint8_t, kMaxPacket> bytes;
        std::size_t len = 0;
        bool audio = false;
        PayloadKind codec = PayloadKind::Other;  // of audio: Pcmu, Pcma or Opus
        bool telephone_event = false;
        bool own_sequence = false;  // numbered apart from the audio (side-stream events): never renumbered
        bool replacement = false;  // masking audio in place of telephone-events
        bool undecodable = false;  // Opus that libopus refused to decode: re-encoded
        bool fed = true;  // audio given to the scrubber (false: held for reordering)
        std::size_t payload_offset = 0, payload_bytes = 0, payload_samples = 0;
        std::int64_t t = 0;  // timeline index of the first sample (audio)
        std::uint32_t timeline = 0;  // timeline_ when queued: `t` counts on that timeline
        bool ready = false;
    };

    // `cut`: after end_timeline(true), the scrubber's detectors go on.
    void start_stream(std::uint32_t ssrc, std::uint32_t timestamp, bool cut = false) noexcept;
    // flush(); at a cut (`cut`), with the detector going on to hear the next timeline's audio
    // (Scrubber::cut) instead of silence.
    void end_timeline(bool cut) noexcept;
    void mask_set_aside() noexcept;  // see set_filtering()
    // How much longer an Opus stream's guards last (the codec carries a tone on past its
    // end; its masks hang over as long): 10 ms, 0 for G.711.
    int tail_ms() const noexcept;
    // end_timeline() and start_stream(), the cut guarded while filtering (see the definition); the
    // new timeline runs `family` (audio_family(); -1: the same as the old).
    void restart(std::uint32_t ssrc, std::uint32_t timestamp, bool new_source, bool cut = true,
                 int family = -1) noexcept;
    // Masks the audio still held, the last kCutGuardMs of it (all audio fed first).
    void guard_end() noexcept;
    std::int64_t unwrap(std::uint32_t timestamp) const noexcept;
    void feed_until(std::int64_t t) noexcept;
    void feed(const std::int16_t* pcm, std::size_t n) noexcept;
    void collect_spans() noexcept;
    void report_masked(std::int64_t t, std::int64_t n) noexcept;
    void close_masked_run() noexcept;
    // Feeds held audio; a gap before a packet that starts at or before `force_before` is
    // filled at once (taken for lost or left out), later ones wait for the reorder window.
    void feed_held(std::int64_t force_before) noexcept;
    // While filtering: masks the last 15 ms fed when they sound like a keypress's start
    // (`pause`: a pause, not the stream's end; see the definition).
    void guard_pause(bool pause) noexcept;
    bool lost_before(const Slot& next) const noexcept;
    // The timeline end of the audio held and not fed yet (INT64_MIN: none).
    std::int64_t held_end() const noexcept;
    void conceal_until(const Slot& next, bool lost) noexcept;
    void mark_ready() noexcept;
    void copy_to_ring(std::int64_t t, const std::int16_t* y, std::size_t n) noexcept;
    void zero_ring(std::int64_t t, std::size_t n) noexcept;
    // A pause fed as silence is taken in at once once the scrubber settles, when this much
    // or more of it is left (feed_until).
    static constexpr int kSkipAfterMs = 100;
    static constexpr std::size_t kSilenceChunk = 960;  // feed_until's
    void copy_from_ring(std::int64_t t, std::size_t n, std::int16_t* y) const noexcept;
    void mark_masked(std::int64_t t, std::size_t n, bool masked) noexcept;
    void mark_runs(std::int64_t t, std::size_t n) noexcept;
    bool maybe_masked(std::int64_t t, std::size_t n) const noexcept;
    Slot* enqueue(const std::uint8_t* data, std::size_t len, bool renumber = true) noexcept;
    void hold_audio(Slot& s, PayloadKind codec, std::size_t payload_offset, std::size_t payload_bytes,
                    std::size_t samples, std::int64_t t, std::int64_t rtp) noexcept;
    void sort_held() noexcept;
    bool replace_event(const std::uint8_t* data, const RtpHeader& h) noexcept;
    void push_side_event(const std::uint8_t* data, std::size_t len, const RtpHeader& h) noexcept;
    void push_event(const std::uint8_t* data, std::size_t len, const RtpHeader& h, std::uint32_t timestamp,
                    bool audio_sequence) noexcept;
    void take_inband_events() noexcept;
    // Opus: the packet's audio from the output ring, masked whole when `masked`, encoded.
    void reencode(Slot& s, bool masked) noexcept;
    bool reencoded_after_mask(const Slot& s) const noexcept;
    std::int64_t to_timeline(std::int64_t rtp) const noexcept;
    // The RTP timestamp of timeline sample `t` (to_timeline's inverse, modulo 2^32).
    std::uint32_t rtp_at(std::int64_t t) const noexcept { return base_ts_ + static_cast<std::uint32_t>(t * clock_div_); }
    // RTP clock units per duration unit of telephone-event payload type `pt` (0: not one),
    // for the family the timeline runs.
    std::uint32_t event_unit(std::uint8_t pt) const noexcept { return params_.event_duration_unit(pt, opus_mode_); }
    // 1: an Opus packet (on a G.711 timeline, one libopus takes: a refused one switches
    // nothing; on an Opus timeline push() drops it), 0: G.711 with a payload, -1: neither.
    int audio_family(PayloadKind kind, const std::uint8_t* payload, std::size_t bytes) const noexcept;
    // The family the next timeline runs (start_stream sets the clock from it): never while
    // one runs (its flush reads it).
    void set_family(bool opus) noexcept { opus_mode_ = opus; }

    StreamFilterParams params_;
    Scrubber scrubber_;
    std::unique_ptr<OpusCodec> opus_;  // Opus streams only
    bool opus_mode_ = false;           // the timeline runs Opus (else G.711)
    std::int64_t clock_div_ = 1;       // RTP clock units per timeline sample
    std::int64_t last_reencoded_end_ = -1;  // timeline end of the last re-encoded packet
    std::int64_t last_masked_end_ = -1;     // ... of the last one re-encoded for masked audio
    bool after_run_ = false;  // no audio packet has gone out since that one
    int stream_silk_bandwidth_ = 8000;  // Hz, of the stream's last packet re-encoded (Opus)
    bool guard_start_ = false, guard_end_ = false;  // guard_ends()
    std::int32_t last_fed_seq_ = -1;  // sequence number of the last audio packet fed (-1: none)
    std::array<std::uint16_t, 8> passed_seqs_{};  // of the last comfort-noise (and other) packets passed
    std::size_t passed_next_ = 0;
    // While filtering, masked whatever is there: the detector finds 15 ms of a keypress and
    // more, so 15 ms on each side of a lost packet and at a stream's start (when it starts
    // like a keypress: kEdgeGuardMs, edges.hpp; 120 ms on sound, kEdgeOnSoundMs); 40 ms after
    // a cut that may fall in a keypress (a restart, or a loss while a mask holds).
    static constexpr int kCutGuardMs = 40;
    std::int64_t ms(int k) const noexcept { return std::int64_t{params_.scrub.sample_rate} * k / 1000; }
    bool celt_stream_ = false;  // the last Opus packet was CELT-only: replacements are too
    TelephoneEventTracker tracker_;
    bool filtering_ = true;
    bool have_stream_ = false;
    std::uint32_t ssrc_ = 0;
    std::uint32_t base_ts_ = 0;
    std::int64_t last_rtp_ = 0;    // unwrapped RTP timestamp of the last audio packet
    std::int64_t fed_ = 0;         // timeline samples given to the scrubber
    // Timelines started (start_stream): packets of an earlier one may still wait in the
    // queue, ready, their `t` counted on it.
    std::uint32_t timeline_ = 0;
    std::uint16_t seq_offset_ = 0; // packets taken out of the sequence so far
    std::vector<Slot> slots_;  // a ring from head_, count_ in use; grown by grow_slots()
    // The i-th slot from head_ (i < slots_.size(): one compare, no division per access).
    std::size_t slot_index(std::size_t i) const noexcept {
        const std::size_t k = head_ + i;
        return k < n_slots_ ? k : k - n_slots_;
    }
    std::size_t n_slots_ = 0;  // slots_.size(), kept (a vector's size divides by sizeof(Slot))
    std::size_t max_slots_ = 0;  // what the queue may grow to (see the constructor)
    bool grow_slots() noexcept;
    Slot& slot_at(std::size_t i) noexcept { return slots_[slot_index(i)]; }
    const Slot& slot_at(std::size_t i) const noexcept { return slots_[slot_index(i)]; }
    std::size_t head_ = 0, count_ = 0;
    std::vector<std::int16_t> out_ring_;  // scrubber output by timeline index
    std::int64_t out_until_ = 0;          // timeline samples output by the scrubber
    static constexpr std::int64_t kGranule = 16;
    static constexpr std::size_t kGranules = (1 << 14) / kGranule;  // over the output ring
    std::array<std::uint64_t, kGranules / 64> masked_granules_{};  // may hold masked output
    // Calls f(word, bits) for the granules that start before `b`, from the one holding `a`
    // (a >= 0) on: a word's worth at a time, not one granule at a time. Stops when f returns
    // true, and returns whether it did.
    template <typename F>
    static bool for_granules(std::int64_t a, std::int64_t b, F&& f) noexcept {
        const std::int64_t end = (b + kGranule - 1) / kGranule;
        for (std::int64_t g = a / kGranule; g < end;) {
            const auto i = static_cast<std::size_t>(g) % kGranules;
            const std::size_t bit = i % 64;
            const auto len = static_cast<std::size_t>(std::min<std::int64_t>(end - g, static_cast<std::int64_t>(64 - bit)));
            const std::uint64_t bits = (len == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << len) - 1) << bit;
            if (f(i / 64, bits)) return true;
            g += static_cast<std::int64_t>(len);
        }
        return false;
    }
    std::vector<std::int16_t> pcm_, zeros_, tmp_;
    std::vector<StreamEvent> events_;
    std::vector<MaskedSpan> masked_;
    // Opus: the run of packets re-encoded as the masking signal so far (timeline), reported
    // when a packet that is not masked follows, or at the end of the stream (flush, which a
    // new stream always follows).
    std::int64_t masked_run_start_ = 0, masked_run_end_ = 0;
    std::int64_t last_rfc4733_start_ = -1, last_rfc4733_end_ = -1;
    // A keypress under way at a cut (restart): its digit, reported from the part before;
    // the part after, found at the new timeline's start, is the same keypress (0: none).
    // Within kCarryMs of the cut on each side: the two parts of a keypress meet there
    // (within 1 ms before it, 8 ms after: an Opus decoder's start), two keypresses of one
    // digit lie 40 ms apart and more (Q.24's pause; 30 ms with edges 5 ms off).
    static constexpr int kCarryMs = 12;
    char carried_digit_ = 0;
    // A keypress that packets lost inside it split for the detector (the gap is silence to
    // it: from 30 ms on, two keypresses) is reported once. Kept for that: the last in-band
    // keypress reported on the timeline, and the last few losses of up to kBridgeLossMs
    // (timeline spans). A keypress of the same digit that starts right after such a loss,
    // the last one having ended right at it, goes on the last one: it is what a receiver
    // that conceals losses hears (G.711 Appendix I carries a tone on for up to 60 ms, as
    // libopus does). Right at it: within kBridgeEdgeMs (the detector puts both edges within
    // 3 ms of a G.711 loss); in Opus the part after the loss within kBridgeOpusMs after it
    // (the decoder comes back from its concealment slowly: SILK's tones found 6-32 ms after
    // the loss), the part before having gone on kOpusCarriedMs into it at least (libopus's
    // concealment carries a steady tone on: 4-24 ms; a keypress that ended before the loss
    // did not, and half as many pairs were taken for one). The price: two keypresses of one
    // digit whose pause such a loss hid nearly all of are reported as one
    // (bench/loss_split_report.py).
    static constexpr int kBridgeLossMs = 60;
    static constexpr int kBridgeEdgeMs = 6;
    static constexpr int kBridgeOpusMs = 35;
    static constexpr int kOpusCarriedMs = 2;
    struct Loss {
        std::int64_t from = 0, to = 0;
    };
    std::array<Loss, 4> losses_{};
    std::size_t losses_next_ = 0;
    char last_inband_digit_ = 0;
    std::int64_t last_inband_end_ = 0;
    bool bridged(const ToneEvent& e) const noexcept;
    int audio_pt_ = -1;              // payload type of replacement audio: the last audio seen
    std::int64_t replaced_until_ = 0;  // timeline end of the replacement audio sent
    std::uint64_t skipped_samples_ = 0;  // skipped_samples()
    bool replacing_ = true;            // false once the sender was found sending both
    bool seq_seen_ = false;
    std::uint16_t max_seq_ = 0;        // newest sequence number received
    bool audio_seen_ = false;          // audio came under ssrc_ (since the stream started)
    bool paused_ = false;              // advance() fed silence after the last audio ...
    int pause_guard_ms_ = 0;           // to mask after the last pause (see guard_pause)
    bool after_pause_ = false;         // this timeline began after a quiet pause: no start guard
    std::int64_t audio_end_ = 0;       // ... which ended there (timeline)
    // Telephone-events under an SSRC of their own beside the audio's (push_side_event).
    bool side_seen_ = false, side_same_sequence_ = false;
    std::uint32_t side_ssrc_ = 0, side_ts_offset_ = 0;
    StreamFilterStats stats_;
};

}  // namespace pcifilter
