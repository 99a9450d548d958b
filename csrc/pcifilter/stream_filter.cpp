// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/stream_filter.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <iterator>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

#include "pcifilter/byte_order.hpp"
#include "pcifilter/dtmf_detector.hpp"
#include "pcifilter/edges.hpp"
#include "pcifilter/g711.hpp"
#include "pcifilter/levels.hpp"
#include "pcifilter/opus_packet.hpp"

namespace pcifilter {
namespace {

std::uint16_t sequence_of(const std::uint8_t* packet) noexcept { return be16(packet + 2); }
void set_sequence(std::uint8_t* packet, std::uint16_t seq) noexcept { put_be16(packet + 2, seq); }

constexpr std::size_t kRing = 1 << 14;  // scrubber output by timeline index: 2 s at 8 kHz
constexpr std::size_t kRingMask = kRing - 1;
// How much output may go out between two mark_ready() calls: a packet's audio is read from
// the ring (with 10 ms before it, priming the encoder) once out, so half the ring
// plus a feed (at most 1,920 samples) and a packet's length stay within it.
constexpr std::int64_t kMarkEvery = static_cast<std::int64_t>(kRing / 2);

// An Opus packet of `samples` (a multiple of 2.5 ms, at most 120 ms, at `rate`) whose frames
// are all empty (RFC 6716 §3.2.1: a receiver conceals them): code 3, CBR, 2.5 ms CELT frames.
// The replacement of last resort, should the encoder fail: it carries nothing.
std::size_t write_empty_opus(int samples, int rate, std::uint8_t* out) noexcept {
    out[0] = (16 << 3) | 3;
    out[1] = static_cast<std::uint8_t>(samples / (rate / 400));
    return 2;
}

}  // namespace

bool StreamFilterParams::opus() const noexcept {
    return std::find(payload_types.begin(), payload_types.end(), PayloadKind::Opus) != payload_types.end();
}

bool StreamFilterParams::g711() const noexcept {
    return std::any_of(payload_types.begin(), payload_types.end(),
                       [](PayloadKind k) { return k == PayloadKind::Pcmu || k == PayloadKind::Pcma; });
}

std::uint32_t StreamFilterParams::event_duration_unit(std::uint8_t pt, bool opus_clock) const noexcept {
    // telephone-event/8000 is read at 8 kHz units on either clock (beside G.711 it is the
    // usual one); telephone-event/48000 beside G.711 (a filter of both families: no sender's
    // clock) keeps unit 1: durations six times too long, masked longer, never shorter.
    const PayloadKind k = payload_types[pt & 0x7F];
    if (k == PayloadKind::TelephoneEvent) return 1;
    if (k == PayloadKind::TelephoneEvent8000) return opus_clock ? 48000 / 8000 : 1;
    return 0;
}

StreamFilterParams::StreamFilterParams() {
    payload_types.fill(PayloadKind::Other);
    payload_types[0] = PayloadKind::Pcmu;  // RFC 3551 static payload types
    payload_types[8] = PayloadKind::Pcma;
    payload_types[13] = PayloadKind::ComfortNoise;
    payload_types[101] = PayloadKind::TelephoneEvent;  // the usual dynamic choice
}

std::array<PayloadKind, 128> payload_type_map(const PayloadTypeNumbers& n) {
    const bool opus = n.opus >= 0;
    if (!opus && n.telephone_event_8000 >= 0)
        throw std::invalid_argument("telephone_event_8000_pt is for Opus streams; in G.711 ones it is telephone_event_pt");
    if (!opus && n.g711_beside_opus) throw std::invalid_argument("G.711 beside Opus needs an Opus payload type");
    const bool g711 = !opus || n.g711_beside_opus;
    std::vector<std::pair<int, PayloadKind>> given = {
        {g711 ? n.pcmu : -1, PayloadKind::Pcmu},
        {g711 ? n.pcma : -1, PayloadKind::Pcma},
        {n.cn, PayloadKind::ComfortNoise},
        {n.telephone_event, PayloadKind::TelephoneEvent},
        {n.telephone_event_8000, PayloadKind::TelephoneEvent8000},
        {n.opus, PayloadKind::Opus},
    };
    for (const auto& [pt, kind] : n.more) {
        const bool taken = kind == PayloadKind::Pcmu || kind == PayloadKind::Pcma ? g711
                           : kind == PayloadKind::Opus || kind == PayloadKind::TelephoneEvent8000 ? opus
                                                                                                  : kind != PayloadKind::Other;
        if (!taken) throw std::invalid_argument("a further payload type of a kind this stream does not carry");
        given.emplace_back(pt, kind);
    }
    std::array<PayloadKind, 128> map{};
    map.fill(PayloadKind::Other);
    for (const auto& [pt, kind] : given) {
        if (pt < -1 || pt > 127) throw std::invalid_argument("payload types must be within [0, 127] (or -1: none)");
        if (pt < 0) continue;
        if (map[static_cast<std::size_t>(pt)] != PayloadKind::Other)
            throw std::invalid_argument("payload type " + std::to_string(pt) + " given twice");
        map[static_cast<std::size_t>(pt)] = kind;
    }
    return map;
}

void StreamFilterParams::validate() const {
    if (opus()) {
        // Both families share the scrubber, and G.711 runs at 8000 Hz.
        if (g711() && scrub.sample_rate != 8000)
            throw std::invalid_argument("G.711 beside Opus needs Opus decoded at 8000 Hz");
        if (scrub.sample_rate != 8000 && scrub.sample_rate != 16000)
            throw std::invalid_argument("Opus streams are decoded at 8000 or 16000 Hz");
        if (opus_bitrate < 6000 || opus_bitrate > 128000)
            throw std::invalid_argument("opus_bitrate must be within [6000, 128000]");
    } else if (scrub.sample_rate != 8000) {
        throw std::invalid_argument("G.711 streams run at 8000 Hz");
    }
    scrub.validate();
    if (scrub.lookahead_ms > 500.0) throw std::invalid_argument("lookahead_ms too long for a stream");
    if (max_gap_samples < 160 || max_gap_samples > 8000 * 60)
        throw std::invalid_argument("max_gap_samples must be within [160, 480000]");
    // Audio held further ahead than max_gap_samples restarts the stream: a longer window
    // would never be reached.
    if (reorder_window_samples > max_gap_samples)
        throw std::invalid_argument("reorder_window_samples must not exceed max_gap_samples");
}

std::uint32_t samples_of_ms(double ms, int rate, const char* name) {
    if (!(ms >= 0.0 && ms <= 60000.0)) throw std::invalid_argument(std::string(name) + " must be within [0, 60000] ms");
    return static_cast<std::uint32_t>(std::nearbyint(ms * rate / 1000.0));
}

namespace {
// Opus carries a keypress's energy on past its end (a frame's overlap, the decoder's ringing):
// with the core's hang-over alone, 2 of 1920 keypresses at 24 kbit/s kept a trace at their
// end, none with 10 ms more (bench/opus_leak_report.py). It costs no delay, and about one
// re-encoded packet in ten more on plain speech.
constexpr double kOpusTailMs = 10.0;

ScrubberParams scrubber_params(const StreamFilterParams& p) {
    ScrubberParams s = p.scrub;
    s.guard_edges = false;  // the filter guards a stream's edges, pauses and restarts itself
    if (p.opus()) s.hangover_ms = std::min(s.hangover_ms + kOpusTailMs, 200.0);
    return s;
}
}  // namespace

StreamFilter::StreamFilter(const StreamFilterParams& params)
    : params_((params.validate(), params)), scrubber_(scrubber_params(params)) {
    if (params_.opus()) {
        opus_ = std::make_unique<OpusCodec>(params_.scrub.sample_rate, params_.opus_bitrate);
        opus_mode_ = true;
        clock_div_ = 48000 / params_.scrub.sample_rate;
    }
    // Packets wait here until the look-ahead has passed their last sample, and a reorder
    // window's worth more: as many as that holds of the shortest packets (Opus's 2.5 ms),
    // and room for comfort noise and telephone-events between them. With a fixed 32, a
    // stream of 2.5 or 5 ms packets under 100-200 ms of look-ahead filled it before any
    // packet was ready, and nearly every packet after was dropped.
    const double rate = params_.scrub.sample_rate;
    const double held = scrubber_.delay() + static_cast<double>(params_.reorder_window_samples);
    // It starts small and grows by doubling when more are held at once (grow_slots): a
    // stream of 20 ms packets holds four or five, and 42 slots of 1,500 bytes were most
    // of a G.711 filter's memory.
    max_slots_ = std::max<std::size_t>(kMinSlots, static_cast<std::size_t>(std::ceil(held / (rate / 400))) + 16);
    n_slots_ = std::min(max_slots_, kFirstSlots);
    slots_.resize(n_slots_);
    out_ring_.assign(kRing, 0);
    pcm_.resize(kMaxPcm);
    zeros_.assign(kSilenceChunk + 240, 0);  // feed_until's longest: to a 5 ms piece's end at 48 kHz
    tmp_.resize(std::max<std::size_t>(kMaxPcm, static_cast<std::size_t>(scrubber_.delay()) + 1024));
    events_.reserve(16);
    masked_.reserve(kMaxMaskedSpans);
    // Until audio arrives, replacement audio takes the lowest PCMU type, else PCMA, else Opus
    // (Opus first in a filter of both: it starts on Opus).
    const auto& types = params_.payload_types;
    const PayloadKind first = opus_mode_ ? PayloadKind::Opus : PayloadKind::Pcmu;
    for (PayloadKind k : {first, PayloadKind::Pcmu, PayloadKind::Pcma, PayloadKind::Opus}) {
        const auto at = std::find(types.begin(), types.end(), k);
        if (at != types.end()) {
            audio_pt_ = static_cast<int>(at - types.begin());
            break;
        }
    }
}

void StreamFilter::set_filtering(bool on) noexcept {
    if (on && !filtering_) {
        // Take the telephone-events still held out of the queue, renumbering what follows.
        std::size_t kept = 0;
        std::uint16_t removed = 0;
        for (std::size_t i = 0; i < count_; ++i) {
            Slot& s = slot_at(i);
            if (s.telephone_event) {
                if (!s.own_sequence) ++removed;
                ++stats_.telephone_events_dropped;
                continue;
            }
            if (removed != 0 && !s.own_sequence)
                set_sequence(s.bytes.data(), static_cast<std::uint16_t>(sequence_of(s.bytes.data()) - removed));
            if (kept != i) std::swap(slot_at(kept), s);
            ++kept;
        }
        count_ = kept;
        seq_offset_ = static_cast<std::uint16_t>(seq_offset_ + removed);
        mask_set_aside();
    }
    filtering_ = on;
    scrubber_.set_masking(on);  // the masks kept aside reach the audio still to come out of it
}

void StreamFilter::mask_set_aside() noexcept {
    // Audio the scrubber put out while masking was off, in packets not yet gone: where the
    // detector asked for masks meanwhile (a keypress that ended a moment before filtering
    // began), it is masked now, as what is still in the look-ahead will be.
    std::int64_t first = out_until_;  // the first sample of a packet not made ready yet
    for (std::size_t i = 0; i < count_; ++i) {
        const Slot& s = slot_at(i);
        if (s.audio && !s.ready) first = std::min(first, s.t);
    }
    for (int i = 0; i < scrubber_.set_aside_count(); ++i) {
        const auto [start, end] = scrubber_.set_aside_mask(i);
        for (std::int64_t a = std::max(start, first), b = std::min(end, out_until_); a < b;) {
            const auto n = static_cast<std::size_t>(std::min<std::int64_t>(b - a, 1024));
            scrubber_.masking_signal(tmp_.data(), n);
            copy_to_ring(a, tmp_.data(), n);
            mark_masked(a, n, true);
            if (!opus_mode_) report_masked(a, static_cast<std::int64_t>(n));
            a += static_cast<std::int64_t>(n);
        }
    }
}

void StreamFilter::start_stream(std::uint32_t ssrc, std::uint32_t timestamp, bool cut) noexcept {
    have_stream_ = true;
    ++timeline_;
    ssrc_ = ssrc;
    base_ts_ = timestamp;
    last_rtp_ = 0;
    fed_ = 0;
    out_until_ = -scrubber_.delay();
    if (cut)
        scrubber_.next_timeline();  // its detectors go on (end_timeline)
    else
        scrubber_.reset();
    scrubber_.set_masking(filtering_);
    last_rfc4733_start_ = last_rfc4733_end_ = -1;
    losses_.fill(Loss{});
    last_inband_digit_ = 0;
    replaced_until_ = 0;
    replacing_ = true;
    seq_seen_ = false;
    audio_seen_ = false;
    paused_ = false;
    pause_guard_ms_ = 0;
    after_pause_ = false;
    passed_next_ = 0;
    side_seen_ = false;
    masked_granules_.fill(0);
    last_reencoded_end_ = last_masked_end_ = -1;
    after_run_ = false;
    last_fed_seq_ = -1;
    clock_div_ = opus_mode_ ? 48000 / params_.scrub.sample_rate : 1;
    if (opus_) {
        opus_->reset_decoder();
        opus_->reset_encoder();
    }
}

void StreamFilter::restart(std::uint32_t ssrc, std::uint32_t timestamp, bool new_source, bool cut,
                           int family) noexcept {
    // The stream goes on from another source or on another timeline: a keypress under way
    // may be cut in two, each part too short for the detector to find (under 40 ms), and
    // together a keypress for whoever hears them in turn. So, while filtering, the audio
    // still held before the cut and the first 40 ms after it are masked whatever is found
    // there (tests/test_stream_filter.py: cut anywhere in a keypress, nothing of it is left).
    // Not after a pause the media clock saw (`cut` false): the parts of a keypress lie apart
    // in time then, and a pause's own guards hold at each end, as at a shorter pause.
    const bool guarded = filtering_ && cut;
    if (guarded) guard_end();
    const int pause_guard = pause_guard_ms_;  // the pause's guard goes on to the new timeline
    const std::int64_t cut_at = fed_;
    const std::size_t reported = events_.size();
    end_timeline(cut);
    // A keypress the cut splits is one to the detector, which goes on hearing the audio
    // after the cut (Scrubber::cut): reported once, at the cut on the old timeline when
    // the part before makes a keypress already or its tone had gone (an edge's estimate),
    // else on the new one. A part after the cut that the detector finds afresh, with the
    // digit reported at the cut, is not taken for another keypress (take_inband_events).
    carried_digit_ = 0;
    for (std::size_t i = events_.size(); cut && i-- > reported;) {
        const ToneEvent& e = events_[i];
        if (e.kind != EventKind::Dtmf || e.rfc4733) continue;
        if (e.end + ms(kCarryMs) >= cut_at) carried_digit_ = e.digit;
        break;
    }
    if (new_source) seq_offset_ = 0;  // a new source numbers its own packets
    if (family >= 0) set_family(family == 1);  // after the old timeline is out, on its own
    start_stream(ssrc, timestamp, cut);
    if (guarded) {
        scrubber_.mask(0, ms(kCutGuardMs));
    } else {
        pause_guard_ms_ = pause_guard;
        // No stream's start: the pause's guards hold (feed_held). But for one that began on
        // sound: a keypress it cut may go on after it, and the detector starts afresh.
        after_pause_ = pause_guard < kCutGuardMs;
    }
}

void StreamFilter::guard_end() noexcept {
    feed_held(INT64_MAX);  // its ramp out past the last sample, on the silence flush() pushes through
    scrubber_.mask(fed_ - ms(kCutGuardMs), fed_ + scrubber_.ramp());
}

std::int64_t StreamFilter::to_timeline(std::int64_t rtp) const noexcept {
    // RTP clock units to timeline samples, rounding down (also for negative values). G.711
    // runs the timeline on the RTP clock: no 64-bit division on every packet.
    if (clock_div_ == 1) return rtp;
    return rtp >= 0 ? rtp / clock_div_ : -((-rtp + clock_div_ - 1) / clock_div_);
}

bool StreamFilter::grow_slots() noexcept {
    // Twice the slots, up to max_slots_, the ones in use moved to the front in queue order: a
    // few allocations in a stream's life, then none once it holds what its packets need.
    if (n_slots_ >= max_slots_) return false;
    const std::size_t n = std::min(max_slots_, 2 * n_slots_);
    try {
        std::vector<Slot> bigger(n);
        for (std::size_t i = 0; i < count_; ++i) bigger[i] = slot_at(i);
        slots_.swap(bigger);
    } catch (const std::bad_alloc&) {
        return false;  // the packet is dropped and counted, as when the queue is full
    }
    head_ = 0;
    n_slots_ = n;
    return true;
}

StreamFilter::Slot* StreamFilter::enqueue(const std::uint8_t* data, std::size_t len, bool renumber) noexcept {
    if (count_ == n_slots_ && !grow_slots()) return nullptr;
    Slot& s = slot_at(count_);
    ++count_;
    std::memcpy(s.bytes.data(), data, len);
    s.len = len;
    s.timeline = timeline_;
    s.audio = false;
    s.telephone_event = false;
    s.replacement = false;
    s.undecodable = false;
    s.own_sequence = false;
    s.fed = true;
    s.ready = true;
    // Sequence numbers stay contiguous across the packets taken out.
    if (renumber) set_sequence(s.bytes.data(), static_cast<std::uint16_t>(sequence_of(data) - seq_offset_));
    return &s;
}

void StreamFilter::take_inband_events() noexcept {
    // The scrubber's new events, except in-band detections of a keypress already reported
    // from RFC 4733.
    auto& found = scrubber_.events();
    const std::size_t first = events_.size();
    for (const ToneEvent& e : found) {  // placed on the RTP stream as take_masked() is
        StreamEvent& placed = events_.emplace_back();
        static_cast<ToneEvent&>(placed) = e;
        placed.ssrc = ssrc_;
        placed.timestamp = rtp_at(e.start);
        placed.duration = static_cast<std::uint32_t>((e.end - e.start) * clock_div_);
    }
    found.clear();
    const std::int64_t slack = params_.scrub.sample_rate / 20;  // one keypress: within 50 ms
    for (std::size_t i = first; i < events_.size();) {
        const ToneEvent& e = events_[i];
        bool dup = e.kind == EventKind::Dtmf && last_rfc4733_start_ >= 0 && e.end + slack >= last_rfc4733_start_ &&
                   e.start - slack <= std::max(last_rfc4733_end_, last_rfc4733_start_ + 2 * slack);
        if (e.kind == EventKind::Dtmf) {
            if (carried_digit_ != 0) {  // the first after a cut
                dup = dup || (e.digit == carried_digit_ && e.start <= ms(kCarryMs));
                carried_digit_ = 0;
            }
            dup = dup || bridged(e);  // the part after a loss
            last_inband_digit_ = e.digit;
            last_inband_end_ = e.end;
        }
        if (dup) {
            events_.erase(events_.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            if (e.kind == EventKind::Dtmf) ++stats_.keypresses_inband;
            ++i;
        }
    }
    if (events_.size() > kMaxEvents) {
        stats_.events_dropped += events_.size() - kMaxEvents;
        events_.resize(kMaxEvents);
    }
}

bool StreamFilter::bridged(const ToneEvent& e) const noexcept {
    // `e` goes on the last keypress reported: same digit, and nothing between the two but
    // a loss (their edges within kBridgeEdgeMs of it; in Opus the part before it carried on
    // into it, the part after it within kBridgeOpusMs after it).
    if (e.digit != last_inband_digit_ || e.start < last_inband_end_) return false;
    const std::int64_t before = opus_mode_ ? -ms(kOpusCarriedMs) : ms(kBridgeEdgeMs);
    const std::int64_t after = ms(opus_mode_ ? kBridgeOpusMs : kBridgeEdgeMs);
    for (const Loss& l : losses_)
        if (l.to > l.from && last_inband_end_ + before >= l.from && last_inband_end_ <= l.to &&
            e.start - after <= l.to && e.start >= l.from)
            return true;
    return false;
}

void StreamFilter::mark_masked(std::int64_t t, std::size_t n, bool masked) noexcept {
    // Granules of output that hold masked samples. Output [t, t+n) just made: a granule is
    // cleared when the output reaches its start (what the ring held there before is gone),
    // then set for each run the masker masked.
    const std::int64_t b = t + static_cast<std::int64_t>(n);
    std::int64_t a = std::max<std::int64_t>(t, 0);
    if (!masked) a = (a + kGranule - 1) / kGranule * kGranule;  // granules starting in it
    for_granules(a, b, [&](std::size_t word, std::uint64_t bits) {
        if (masked) masked_granules_[word] |= bits;
        else masked_granules_[word] &= ~bits;
        return false;
    });
}

void StreamFilter::mark_runs(std::int64_t t, std::size_t n) noexcept {
    mark_masked(t, n, false);
    const Masker& m = scrubber_.masker();
    for (int r = 0; r < m.run_count(); ++r)
        mark_masked(m.run(r).start, static_cast<std::size_t>(m.run(r).end - m.run(r).start), true);
}

bool StreamFilter::maybe_masked(std::int64_t t, std::size_t n) const noexcept {
    return for_granules(std::max<std::int64_t>(t, 0), t + static_cast<std::int64_t>(n),
                        [&](std::size_t word, std::uint64_t bits) { return (masked_granules_[word] & bits) != 0; });
}

void StreamFilter::feed(const std::int16_t* pcm, std::size_t n) noexcept {
    while (n > 0) {
        const std::size_t k = std::min<std::size_t>(n, 1024);
        scrubber_.process(pcm, tmp_.data(), k);
        copy_to_ring(out_until_, tmp_.data(), k);
        mark_runs(out_until_, k);
        out_until_ += static_cast<std::int64_t>(k);
        fed_ += static_cast<std::int64_t>(k);
        collect_spans();
        take_inband_events();
        pcm += k;
        n -= k;
    }
}

void StreamFilter::collect_spans() noexcept {
    // G.711: the output is masked where the masker masked. Opus: over the whole packets
    // re-encoded as the masking signal, reported from mark_ready instead.
    if (!opus_mode_) {
        for (const MaskSpan& sp : scrubber_.spans()) {
            const std::int64_t start = std::max<std::int64_t>(sp.start, 0);
            if (sp.end > start) report_masked(start, sp.end - start);
        }
    }
    scrubber_.spans().clear();
}

void StreamFilter::report_masked(std::int64_t t, std::int64_t n) noexcept {
    const MaskedSpan m{rtp_at(t), static_cast<std::uint32_t>(n * clock_div_)};
    if (masked_.size() < kMaxMaskedSpans) {
        masked_.push_back(m);
    } else {  // not drained: the last span stretches (wrap-safe) to cover this one too
        MaskedSpan& last = masked_.back();
        last.duration = m.timestamp - last.timestamp + m.duration;
    }
}

void StreamFilter::close_masked_run() noexcept {
    if (masked_run_end_ > masked_run_start_) report_masked(masked_run_start_, masked_run_end_ - masked_run_start_);
    masked_run_start_ = masked_run_end_ = 0;
}

bool StreamFilter::mask(std::uint32_t timestamp, std::uint32_t duration) noexcept {
    if (!have_stream_) return false;  // no clock yet (the scrubber masks only while filtering)
    // Rounded outward to whole samples of the timeline.
    const std::int64_t rtp = unwrap(timestamp);
    return scrubber_.mask(to_timeline(rtp), -to_timeline(-(rtp + static_cast<std::int64_t>(duration))));
}

void StreamFilter::feed_until(std::int64_t t) noexcept {
    std::int64_t marked = out_until_;
    const std::int64_t pause = fed_;  // where the audio before it ends
    while (fed_ < t) {
        // To a 5 ms piece's end (kSilenceChunk is whole pieces at any rate): where
        // skip_silence() can begin.
        const auto k = static_cast<std::int64_t>(kSilenceChunk + scrubber_.piece_left());
        feed(zeros_.data(), static_cast<std::size_t>(std::min<std::int64_t>(t - fed_, k)));
        if (out_until_ - marked >= kMarkEvery) {  // before the output ring wraps (feed_held)
            mark_ready();
            marked = out_until_;
        }
        // A long pause: once the scrubber has settled on its silence (a keypress before it
        // found and masked, the look-ahead gone out), the rest is taken in at once. A sender
        // whose timestamps jump a second from packet to packet cost 30 times a packet's usual
        // time, 744 times for 30 s jumps (max_gap_ms=60000); now 12 times for either
        // (bench/RESULTS.md, "Twenty-fourth session"), and so when an RFC 4733 event of
        // 8.2 s, begun and never ended, masks over each pause ("Twenty-fifth session").
        if (t - fed_ < ms(kSkipAfterMs)) continue;
        // The packets before the pause are made ready as soon as their output is, skipped or
        // not, and the skip waits for that (their audio may be silence the scrubber has
        // settled on already): an Opus packet masked whole takes its masking signal from the
        // generators that masks over the pause take theirs from, in the same order either way.
        mark_ready();
        marked = out_until_;
        if (params_.skip_settled_silence && out_until_ >= pause) {
            std::array<std::int16_t, Scrubber::kSkipTail> tail;
            const std::size_t k = scrubber_.skip_silence(static_cast<std::size_t>(t - fed_), tail.data());
            if (k == 0) continue;
            skipped_samples_ += k;
            // The pause's output is no packet's (a mask reaching over it made the masking
            // signal there, kept by none): zeros, then the tail made as feeding makes it.
            const std::size_t made = scrubber_.skip_tail();
            zero_ring(out_until_, k - made);
            copy_to_ring(out_until_ + static_cast<std::int64_t>(k - made), tail.data(), made);
            mark_masked(out_until_, k, false);
            out_until_ += static_cast<std::int64_t>(k);
            fed_ += static_cast<std::int64_t>(k);
            marked = out_until_;
        }
    }
}

void StreamFilter::zero_ring(std::int64_t t, std::size_t n) noexcept {
    // copy_to_ring() of n zeros, of which only the last kRing stay.
    if (n > kRing) {
        t += static_cast<std::int64_t>(n - kRing);
        n = kRing;
    }
    while (n > 0) {
        const std::size_t k = std::min(n, zeros_.size());
        copy_to_ring(t, zeros_.data(), k);
        n -= k;
        t += static_cast<std::int64_t>(k);
    }
}

void StreamFilter::copy_to_ring(std::int64_t t, const std::int16_t* y, std::size_t n) noexcept {
    if (t < 0) {  // the delay line's pre-roll has no place on the timeline
        const auto skip = static_cast<std::size_t>(std::min<std::int64_t>(-t, static_cast<std::int64_t>(n)));
        y += skip;
        n -= skip;
        t += static_cast<std::int64_t>(skip);
    }
    while (n > 0) {
        const std::size_t at = static_cast<std::size_t>(t) & kRingMask;
        const std::size_t k = std::min(n, kRing - at);
        std::memcpy(out_ring_.data() + at, y, k * sizeof(std::int16_t));
        y += k;
        n -= k;
        t += static_cast<std::int64_t>(k);
    }
}

void StreamFilter::copy_from_ring(std::int64_t t, std::size_t n, std::int16_t* y) const noexcept {
    while (n > 0) {
        const std::size_t at = static_cast<std::size_t>(t) & kRingMask;
        const std::size_t k = std::min(n, kRing - at);
        std::memcpy(y, out_ring_.data() + at, k * sizeof(std::int16_t));
        y += k;
        n -= k;
        t += static_cast<std::int64_t>(k);
    }
}

void StreamFilter::mark_ready() noexcept {
    for (std::size_t i = 0; i < count_; ++i) {
        Slot& s = slot_at(i);
        if (s.ready || !s.audio) continue;
        if (out_until_ < s.t + static_cast<std::int64_t>(s.payload_samples)) break;
        // Audio the masker did not touch (nearly every packet) passes as it is; elsewhere
        // one decode and one compare find what changed, and only that is re-encoded.
        s.ready = true;
        const std::size_t n = s.payload_samples;
        if (s.codec == PayloadKind::Opus) {
            const bool masked = maybe_masked(s.t, n);
            const std::int64_t end = s.t + static_cast<std::int64_t>(n);
            if (!masked || s.t != masked_run_end_) close_masked_run();
            if (masked) {
                if (masked_run_end_ == masked_run_start_) masked_run_start_ = s.t;
                masked_run_end_ = end;
            }
            if (s.replacement || s.undecodable || masked) {
                reencode(s, masked);
                last_masked_end_ = end;
                after_run_ = true;
            } else {
                if (reencoded_after_mask(s)) reencode(s, false);
                after_run_ = false;
            }
            continue;
        }
        if (!maybe_masked(s.t, n)) continue;
        const bool alaw = s.codec == PayloadKind::Pcma;
        std::uint8_t* codes = s.bytes.data() + s.payload_offset;
        std::int16_t* y = tmp_.data();
        std::int16_t* x = pcm_.data();
        copy_from_ring(s.t, n, y);
        if (alaw) decode_alaw(codes, x, n);
        else decode_ulaw(codes, x, n);
        if (std::memcmp(x, y, n * sizeof(std::int16_t)) == 0) continue;
        for (std::size_t k = 0; k < n;) {  // the changed samples come in runs: one call each
            if (x[k] == y[k]) {
                ++k;
                continue;
            }
            std::size_t e = k + 1;
            while (e < n && x[e] != y[e]) ++e;
            if (alaw) encode_alaw(y + k, codes + k, e - k);
            else encode_ulaw(y + k, codes + k, e - k);
            k = e;
        }
    }
}

bool StreamFilter::reencoded_after_mask(const Slot& s) const noexcept {
    // An Opus packet can carry audio from before it: in-band FEC (LBRR) holds the previous
    // 20 ms frame, and Opus 1.5's deep redundancy (DRED, in the padding) up to a second.
    // After a re-encoded (masked) packet, the next packets could so bring back what was
    // masked: the one right after is re-encoded, and for a second any that has padding.
    // A CELT-only packet has no LBRR: without padding it carries nothing from before it,
    // but the first one after a run is re-encoded all the same (from its own audio): after
    // packets of silence the receiver's CELT decoder predicts the band energies of the next
    // original packet from silence, and the speech after every mask came out muted for
    // ~80 ms (35 dB under the input in its first packet); re-encoded by the encoder that
    // made the run, it brings them back up (bench/RESULTS.md). So also when packets after
    // the run were lost: the receiver concealed them from the run's silence.
    if (last_masked_end_ < 0 || s.t < last_masked_end_) return false;
    const std::int64_t rate = params_.scrub.sample_rate;
    if (s.t - last_masked_end_ >= rate) return false;
    if (after_run_) return true;
    OpusPacketInfo info;
    if (!parse_opus_packet(s.bytes.data() + s.payload_offset, s.payload_bytes, &info)) return true;
    if (info.padding > 0) return true;
    return s.t - last_masked_end_ < rate / 50 && info.mode != OpusMode::Celt;
}

void StreamFilter::reencode(Slot& s, bool masked) noexcept {
    // The packet's samples as the masker left them (`masked`: the masking signal alone, see
    // below), encoded into one packet of the same duration; a run of consecutive re-encoded
    // packets shares the encoder's state.
    // In a SILK or hybrid stream the voice encoder (SILK) makes them. In a CELT stream they
    // are CELT-only, from an encoder primed with the 10 ms the receiver heard just before
    // the run: its decoder then goes into the run and back out of it with band energies and
    // filter states that follow the audio (the original packets' inter-frame prediction
    // builds on them). SILK packets there made the decoder restart from a reset state (up
    // to 6.3 dB too loud after a mask), an unprimed CELT encoder 9-11 dB; primed, the worst
    // boundary was 1.5 dB (with masks ending and starting inside packets), and the CELT
    // encoder costs a third of the voice encoder (bench/RESULTS.md).
    const auto n = static_cast<int>(s.payload_samples);
    std::int16_t* y = tmp_.data();
    // A packet that carries masked audio goes out masked whole, as the masking signal alone.
    // The coded audio ahead of a keypress already carries some of it (hybrid 10 ms at
    // 16 kbit/s: in the 10 ms that end 5 ms before the onset, a median 34-40 dB under the
    // tone, up to 18 dB), and the part of a packet left unmasked before a mask carried that
    // into the mask's first milliseconds (bench/RESULTS.md, "Opus streams"). It costs no
    // delay: the packet waits for its last sample anyway. No ramps: a voice encoder that
    // starts afresh on a millisecond of audio before silence makes a burst tens of
    // milliseconds long of it (as loud as the speech around); on silence alone it makes
    // silence, and the decoder goes into and out of the run without a click
    // (tests/test_opus_quality.py).
    if (masked) scrubber_.masking_signal(y, s.payload_samples);
    else copy_from_ring(s.t, s.payload_samples, y);
    // After a gap the encoder starts afresh, but not for a packet after a masked run with
    // lost packets between: the receiver's decoder concealed them from the run's masking
    // signal, and the encoder that made the run follows it best (started afresh and primed
    // with the sender's audio, some CELT masks came back 12-23 dB too quiet for 60 ms; so,
    // within 4 dB: bench/RESULTS.md).
    if (s.t != last_reencoded_end_ && !after_run_) {
        opus_->reset_encoder(celt_stream_);
        const std::int64_t prime = params_.scrub.sample_rate / 100;  // 10 ms
        if (celt_stream_ && s.t >= prime) {
            copy_from_ring(s.t - prime, static_cast<std::size_t>(prime), pcm_.data());
            opus_->prime_celt(pcm_.data(), static_cast<int>(prime));
        }
    }
    std::uint8_t* payload = s.bytes.data() + s.payload_offset;
    // A receiver's SILK decoder that changes bandwidth starts afresh (pitch and LPC
    // histories cleared). So the packets of a run are at the stream's SILK bandwidth (that of
    // the packet replaced; kept for replacements of telephone-events, which have none) and
    // the sender's packets after the run decode on from them; but the first one, where the
    // run follows the sender's packets, is at another: the decoder drops what those carried
    // (a keypress's coded onset, ahead of the tone: in the first 10 ms of a mask, decoded on
    // from the packet before it, up to -33 dB re the tone).
    if (!celt_stream_) {
        if (s.len > s.payload_offset) stream_silk_bandwidth_ = opus_toc_silk_bandwidth_hz(payload[0]);
        const bool into_run = masked && !after_run_;
        opus_->set_voice_bandwidth(into_run ? (stream_silk_bandwidth_ == 4000 ? 8000 : 4000) : stream_silk_bandwidth_);
    }
    const int room = static_cast<int>(kMaxPacket - s.payload_offset);
    int bytes = opus_->encode(y, n, payload, room, celt_stream_);
    if (bytes <= 0) bytes = static_cast<int>(write_empty_opus(n, params_.scrub.sample_rate, payload));
    s.bytes[0] &= 0xDF;  // the original's RTP padding went with its payload
    s.len = s.payload_offset + static_cast<std::size_t>(bytes);
    last_reencoded_end_ = s.t + n;
    ++stats_.reencoded;
}

int StreamFilter::audio_family(PayloadKind kind, const std::uint8_t* payload, std::size_t bytes) const noexcept {
    if (bytes == 0) return -1;
    if (kind == PayloadKind::Pcmu || kind == PayloadKind::Pcma) return 0;
    if (kind != PayloadKind::Opus) return -1;
    // On an Opus timeline the packet is parsed where it is taken (push): once, not twice.
    return opus_mode_ || opus_->packet_samples(payload, bytes) > 0 ? 1 : -1;
}

int StreamFilter::tail_ms() const noexcept { return opus_mode_ ? static_cast<int>(kOpusTailMs) : 0; }

std::int64_t StreamFilter::unwrap(std::uint32_t timestamp) const noexcept {
    // RTP clock position since the stream's first timestamp, wrap-safe: signed distance from
    // the last audio timestamp.
    const std::uint32_t last_ts = base_ts_ + static_cast<std::uint32_t>(last_rtp_);
    return last_rtp_ + static_cast<std::int32_t>(timestamp - last_ts);
}

void StreamFilter::push_side_event(const std::uint8_t* data, std::size_t len, const RtpHeader& h) noexcept {
    // Telephone-events under an SSRC of their own beside the audio's (some senders keep
    // out-of-band DTMF apart so: rtpengine issue 1569). They are the audio's keypresses, not
    // a new source: taken for one, every switch between the two restarted the timeline (its
    // guards masking 40 ms of audio each time) and reported each keypress again.
    if (!side_seen_ || h.ssrc != side_ssrc_) {
        side_seen_ = true;
        side_ssrc_ = h.ssrc;
        tracker_.reset();
        // Numbered on in the audio's sequence (one sender numbering all its packets), or in
        // a sequence of its own: then taking its packets out leaves the audio's as they are.
        const auto d = static_cast<std::int16_t>(h.sequence - max_seq_);
        side_same_sequence_ = seq_seen_ && d > 0 && d <= 8;
        // On the audio's clock base (within the longest gap), or on one of its own: then
        // placed by arrival, the event having begun its duration before the newest audio
        // (earlier rather than later: masks from events begin a look-ahead before anyway).
        side_ts_offset_ = 0;
        const std::int64_t off = unwrap(h.timestamp) - last_rtp_;
        const auto gap = static_cast<std::int64_t>(params_.max_gap_samples) * clock_div_;
        if (off > gap || off < -gap) {
            const std::uint32_t duration = telephone_events_span(data + h.payload_offset, h.payload_length) *
                                           event_unit(h.payload_type);
            side_ts_offset_ = base_ts_ + static_cast<std::uint32_t>(last_rtp_) - duration - h.timestamp;
        }
    }
    ++stats_.side_events;
    if (side_same_sequence_ && static_cast<std::int16_t>(h.sequence - max_seq_) > 0) max_seq_ = h.sequence;
    push_event(data, len, h, h.timestamp + side_ts_offset_, side_same_sequence_);
}

void StreamFilter::push_event(const std::uint8_t* data, std::size_t len, const RtpHeader& h,
                              std::uint32_t timestamp, bool audio_sequence) noexcept {
    // A telephone-event packet; `timestamp` on the audio's clock base; `audio_sequence`:
    // numbered in the audio's sequence (taking it out renumbers the packets after it).
    const std::uint32_t unit = event_unit(h.payload_type);
    TelephoneEventTracker::PacketEvent packed[kMaxPackedEvents];
    const std::size_t n = tracker_.on_payload(timestamp, data + h.payload_offset, h.payload_length, packed, unit);
    bool current = false;  // a packet of a keypress under way (not stale, not malformed)
    for (std::size_t i = 0; i < n; ++i) {
        const TelephoneEventTracker::PacketEvent& p = packed[i];
        if (p.kind == TelephoneEventTracker::Packet::Stale) continue;
        // The span of the packet's current events (contiguous: the first one's start to
        // the last one's end).
        const std::int64_t start = to_timeline(unwrap(p.start_timestamp));
        const std::int64_t end = start + static_cast<std::int64_t>(p.duration) / clock_div_;
        if (!current) last_rfc4733_start_ = start;
        last_rfc4733_end_ = end;
        current = true;
        if (p.kind == TelephoneEventTracker::Packet::NewEvent && telephone_event_digit(p.event.code) != 0) {
            StreamEvent ev;
            ev.ssrc = ssrc_;
            ev.timestamp = p.timestamp;
            ev.duration = p.event.duration * unit;
            ev.kind = EventKind::Dtmf;
            ev.digit = telephone_event_digit(p.event.code);
            ev.start = to_timeline(unwrap(p.timestamp));
            ev.end = ev.start + static_cast<std::int64_t>(p.event.duration * unit) / clock_div_;
            ev.level_dbm0 = -float(p.event.volume);
            ev.rfc4733 = true;
            if (events_.size() < kMaxEvents) events_.push_back(ev);
            else ++stats_.events_dropped;
            ++stats_.keypresses_rfc4733;
        }
    }
    if (!filtering_) {
        if (Slot* s = enqueue(data, len, audio_sequence)) {
            s->telephone_event = true;
            s->own_sequence = !audio_sequence;
        }
        return;
    }
    if (current) {
        // Mask the keypress in the audio too, from a whole look-ahead before its start.
        scrubber_.mask(last_rfc4733_start_ - scrubber_.delay(), last_rfc4733_end_ + scrubber_.hangover());
        // Replacement audio takes the event packet's place in the sequence: not for events
        // numbered apart from the audio (dropped then, as in "drop").
        if (params_.telephone_events == TelephoneEventAction::Replace && audio_sequence && replace_event(data, h))
            return;
    }
    if (audio_sequence) ++seq_offset_;  // never forwarded: taken out of the sequence
    ++stats_.telephone_events_dropped;
}

void StreamFilter::push(const std::uint8_t* data, std::size_t len) noexcept {
    ++stats_.packets_in;
    if (len > kMaxPacket) {
        stats_.malformed.count(RtpDrop::TooLong);
        return;
    }
    RtpHeader h;
    const RtpDrop r = parse_rtp(data, len, &h);
    if (r != RtpDrop::None) {
        stats_.malformed.count(r);
        return;
    }
    const PayloadKind kind = params_.payload_types[h.payload_type];
    // Audio of a family (a filter of both: of the one the timeline does not run; see the
    // header): 1 Opus, 0 G.711, -1 none (not audio, no payload, no Opus packet).
    const int family = audio_family(kind, data + h.payload_offset, h.payload_length);
    if (!have_stream_) {
        tracker_.reset();
        if (family >= 0) set_family(family == 1);
        start_stream(h.ssrc, h.timestamp);
    } else if (h.ssrc != ssrc_ && audio_seen_ && event_unit(h.payload_type) > 0) {
        push_side_event(data, len, h);
        return;
    } else if (h.ssrc != ssrc_) {
        ++stats_.ssrc_changes;
        // A new source whose telephone-events came before its audio (taken for a side
        // stream of the old one until now): the keypress under way goes on, on its own
        // clock again, not reported twice.
        const bool events_first = side_seen_ && h.ssrc == side_ssrc_;
        const std::uint32_t back = 0u - side_ts_offset_;
        restart(h.ssrc, h.timestamp, true, true, family);
        if (events_first) tracker_.shift(back);
        else tracker_.reset();
    }
    // A packet newer (RFC 3550 sequence order) than every one before it: when such a packet
    // is dropped, the packets after it can be renumbered to keep the output contiguous;
    // dropping an older one (a copy, a reordered packet whose place was filled) cannot.
    const bool newest = !seq_seen_ || static_cast<std::int16_t>(h.sequence - max_seq_) > 0;
    if (newest) {
        max_seq_ = h.sequence;
        seq_seen_ = true;
    }
    if (family >= 0 && (family == 1) != opus_mode_) {
        // The sender switched between G.711 and Opus (a filter of both families): a new
        // timeline on the new codec's clock, the cut guarded (a keypress across it may be
        // too short on either side for the detector). A packet of the family left behind
        // that comes after the switch (reordered) has no place on the new one: late.
        if (!newest) {
            ++stats_.late;
            return;
        }
        ++stats_.codec_switches;
        restart(h.ssrc, h.timestamp, false, true, family);
        --stats_.packets_in;  // counted again by the call below
        return push(data, len);
    }
    const std::int64_t rtp = unwrap(h.timestamp);
    const std::int64_t t = to_timeline(rtp);

    if (event_unit(h.payload_type) > 0) {
        push_event(data, len, h, h.timestamp, true);
        return;
    }
    const bool g711 = kind == PayloadKind::Pcmu || kind == PayloadKind::Pcma;
    if (g711 && h.payload_length == 0) {
        // No audio at all: an RTP keepalive (pjsip's empty-RTP keep-alive, some softphones).
        // Nothing to scrub: it passes in order, as comfort noise does. Taken for audio, it
        // held the place of the packet with its timestamp, dropped as its copy. (An empty
        // Opus payload is no Opus packet, RFC 6716 §3.4: dropped below as one.)
        ++stats_.empty_payloads;
    } else if (g711 || kind == PayloadKind::Opus) {
        const auto drop = [&](std::uint64_t& counter) {
            ++counter;
            if (newest) ++seq_offset_;  // nothing after it was numbered yet: keep contiguous
        };
        std::size_t n = h.payload_length;
        if (kind == PayloadKind::Opus) {
            const int samples = opus_->packet_samples(data + h.payload_offset, h.payload_length);
            if (samples <= 0) {  // not a packet libopus takes (RFC 6716 §3.4): never forwarded
                drop(stats_.bad_payloads);
                return;
            }
            n = static_cast<std::size_t>(samples);
            celt_stream_ = opus_toc_mode(data[h.payload_offset]) == OpusMode::Celt;
        }
        for (std::size_t i = 0; i < count_; ++i) {
            const Slot& q = slot_at(i);
            // Packets of an earlier timeline (a source or timestamps that changed a packet
            // or two in) still wait to go out: their times are not this one's. Compared, the
            // first packets after the change were dropped as copies of them.
            if (q.timeline != timeline_) continue;
            if (q.audio && q.t == t) {  // a copy of a packet still queued
                drop(stats_.duplicates);
                return;
            }
            if (q.replacement && t < q.t + static_cast<std::int64_t>(q.payload_samples) &&
                t + static_cast<std::int64_t>(n) > q.t) {
                // Audio for time that replacement audio holds: the sender sends both, so
                // its telephone-events are dropped from now on.
                replacing_ = false;
                drop(stats_.late);
                return;
            }
        }
        if (newest && fed_ - t > static_cast<std::int64_t>(params_.reorder_window_samples)) {
            // The newest packet by sequence number, its timestamp well behind audio already
            // fed: the sender's timestamps went back (a media server that switched sources
            // and kept the SSRC). Not late: a new timeline, or all that follows would be.
            ++stats_.timestamp_resets;
            restart(h.ssrc, h.timestamp, false);
            --stats_.packets_in;  // counted again by the call below
            return push(data, len);
        }
        // The newest packet by sequence number a few samples early, overlapping the end of the
        // audio fed (a sender whose timestamps wobble): fed right after that audio (feed_held),
        // not dropped: dropping it lost its audio and split a keypress for the detector.
        const bool overlaps_end = newest && t + static_cast<std::int64_t>(n) > fed_;
        if (t < fed_ && !overlaps_end) {  // its place on the timeline is filled already
            if (t < replaced_until_ && t + static_cast<std::int64_t>(n) > last_rfc4733_start_)
                replacing_ = false;  // as above, the replacement already fed
            drop(stats_.late);
            return;
        }
        // Measured from the audio held too: a packet held after a pause (for the reorder
        // window) puts the timeline there. From what was fed, a pause within a packet or two
        // of max_gap_samples restarted the timeline at the packet after it, and the speech
        // after the pause lost 140 ms to the guards of a cut and a stream's start on sound
        // (tests/test_stream_filter.py).
        const auto max_gap = static_cast<std::int64_t>(params_.max_gap_samples);
        // (held_end(), a loop over the slots, only when the gap from fed_ is that long)
        if (t - fed_ > max_gap && t - std::max(fed_, held_end()) > max_gap) {
            // A jump this long (a hold, a timestamp reset): finish and restart the timeline.
            // After a pause that advance() saw (the sender's silence suppression, a hold),
            // G.711 without the cut's guards: they masked the first 40 ms of every talkspurt
            // after a silence of over 2 s. Not Opus: its decoder starts afresh on the new
            // timeline, and the last 20 ms of a keypress after the pause decoded too distorted
            // for the detector, past a stream start's guard (-6.7 dB left, hybrid 10 ms).
            restart(h.ssrc, h.timestamp, false, opus_mode_ || !paused_);
            --stats_.packets_in;  // counted again by the call below
            return push(data, len);
        }
        Slot* s = enqueue(data, len);
        if (s == nullptr) {
            drop(stats_.late);  // queue full (the caller is not popping, or packets under 2.5 ms): dropped, never leaked
            return;
        }
        audio_pt_ = h.payload_type;
        audio_seen_ = true;
        ++stats_.audio_packets;
        hold_audio(*s, kind, h.payload_offset, h.payload_length, n, t, rtp);
        return;
    } else if (kind == PayloadKind::Other && filtering_ && !params_.pass_unknown_payloads) {
        // A payload the filter cannot scrub (an unnegotiated codec, RED redundancy, ...)
        // could carry a keypress: while filtering is on it is not forwarded.
        ++stats_.unknown_dropped;
        if (newest) ++seq_offset_;
        return;
    }
    // Comfort noise (and, when allowed, anything else) passes in order. Its sequence number
    // is remembered: the audio after it skips that number, and is no loss (conceal_until).
    if (Slot* s = enqueue(data, len)) {
        passed_seqs_[passed_next_ % passed_seqs_.size()] = sequence_of(s->bytes.data());
        ++passed_next_;
        // Comfort noise describes a spectrum the receiver shapes its noise with (RFC 3389:
        // a level, then reflection coefficients). A sender whose VAD takes a keypress for
        // background, or computes the noise from frames a keypress ends in, sends the
        // keypress's spectrum: FFmpeg's encoder and decoder of it give noise in which a
        // detector hears the digit (tests/test_stream_filter.py). While filtering, only the
        // level passes (white noise at the same level, as RFC 3389 allows), and padding goes.
        if (kind == PayloadKind::ComfortNoise && filtering_ && h.payload_length > 1) {
            s->len = h.payload_offset + 1;
            s->bytes[0] = static_cast<std::uint8_t>(s->bytes[0] & ~0x20u);  // no padding now
            ++stats_.comfort_noise_flattened;
        }
    }
}

void StreamFilter::hold_audio(Slot& s, PayloadKind codec, std::size_t payload_offset,
                              std::size_t payload_bytes, std::size_t samples, std::int64_t t,
                              std::int64_t rtp) noexcept {
    // An audio slot just enqueued: held until its turn on the timeline comes, then fed.
    s.audio = true;
    s.fed = false;
    s.ready = false;
    s.codec = codec;
    s.payload_offset = payload_offset;
    s.payload_bytes = payload_bytes;
    s.payload_samples = samples;
    s.t = t;
    last_rtp_ = std::max(last_rtp_, rtp);
    sort_held();
    feed_held(INT64_MIN);
}

void StreamFilter::sort_held() noexcept {
    // Keep held audio in timestamp order: a packet that overtook the last one waits behind
    // it. Sequence numbers stay in output order: a reordered packet brings its own lower
    // number along; replacement audio, numbered when its event packet arrived, takes the
    // lower number of the packet it moves ahead of.
    for (std::size_t i = count_ - 1; i > 0; --i) {
        Slot& cur = slot_at(i);
        Slot& prev = slot_at(i - 1);
        if (!prev.audio || prev.fed || prev.t < cur.t) break;
        std::swap(prev, cur);
        if (static_cast<std::int16_t>(sequence_of(cur.bytes.data()) - sequence_of(prev.bytes.data())) < 0) {
            std::swap(prev.bytes[2], cur.bytes[2]);
            std::swap(prev.bytes[3], cur.bytes[3]);
        }
    }
}

bool StreamFilter::replace_event(const std::uint8_t* data, const RtpHeader& h) noexcept {
    // Audio of the masking signal for the time this event packet newly covers; false: none
    // (nothing new, no audio payload type, or the sender sends audio as well).
    if (!replacing_ || audio_pt_ < 0) return false;
    std::int64_t start = std::max({replaced_until_, last_rfc4733_start_, fed_});
    std::int64_t end = last_rfc4733_end_;
    for (std::size_t i = 0; i < count_; ++i) {  // never over audio held (in timestamp order)
        const Slot& q = slot_at(i);
        if (!q.audio || q.fed || q.t + static_cast<std::int64_t>(q.payload_samples) <= start) continue;
        if (q.t <= start) {
            start = q.t + static_cast<std::int64_t>(q.payload_samples);
            continue;
        }
        end = std::min(end, q.t);
        break;
    }
    const std::size_t header = 12 + 4 * static_cast<std::size_t>(h.csrc_count);
    const PayloadKind codec = params_.payload_types[static_cast<std::size_t>(audio_pt_)];
    // A filter of both families whose timeline has no audio of its family yet (the last
    // audio was the other's): no payload type to replace with on this clock; dropped.
    if ((codec == PayloadKind::Opus) != opus_mode_) return false;
    if (codec == PayloadKind::Opus) {  // whole 2.5 ms units, at most 120 ms: an Opus duration
        const std::int64_t unit = params_.scrub.sample_rate / 400;
        end = start + std::min<std::int64_t>((end - start) / unit * unit, 48 * unit);
    } else {
        end = std::min<std::int64_t>(end, start + static_cast<std::int64_t>(kMaxPacket - header));
    }
    if (end <= start || start - fed_ > static_cast<std::int64_t>(params_.max_gap_samples)) return false;
    Slot* s = enqueue(data, header);  // the event packet's header, sequence renumbered
    if (s == nullptr) return false;
    const auto n = static_cast<std::size_t>(end - start);
    const std::uint32_t ts = rtp_at(start);
    s->bytes[0] &= 0xCF;  // no padding, no extension
    s->bytes[1] = static_cast<std::uint8_t>(audio_pt_);  // no marker
    for (int b = 0; b < 4; ++b) s->bytes[8 + b] = static_cast<std::uint8_t>(ssrc_ >> (24 - 8 * b));  // the audio's
    for (int b = 0; b < 4; ++b) s->bytes[4 + b] = static_cast<std::uint8_t>(ts >> (24 - 8 * b));
    // G.711: idle codes, masked anyway; Opus: encoded from the masked output when ready.
    const std::size_t bytes = codec == PayloadKind::Opus ? 0 : n;
    std::memset(s->bytes.data() + header, codec == PayloadKind::Pcma ? 0xD5 : 0xFF, bytes);
    s->len = header + bytes;
    s->replacement = true;
    replaced_until_ = end;
    ++stats_.telephone_events_replaced;
    hold_audio(*s, codec, header, bytes, n, start, start * clock_div_);
    return true;
}

std::int64_t StreamFilter::held_end() const noexcept {
    std::int64_t end = INT64_MIN;
    for (std::size_t i = 0; i < count_; ++i) {
        const Slot& q = slot_at(i);
        if (q.audio && !q.fed) end = std::max(end, q.t + static_cast<std::int64_t>(q.payload_samples));
    }
    return end;
}

bool StreamFilter::lost_before(const Slot& next) const noexcept {
    // A packet lost before `next` (the sequence numbers skip), not silence the sender left
    // out (DTX: the numbers of the comfort-noise packets sent meanwhile skipped).
    if (last_fed_seq_ < 0) return false;
    const auto skipped = static_cast<std::uint16_t>(sequence_of(next.bytes.data()) - last_fed_seq_ - 1);
    if (skipped == 0) return false;
    std::uint16_t passed = 0;
    for (std::size_t i = 0; i < std::min<std::size_t>(passed_next_, passed_seqs_.size()); ++i)
        passed += static_cast<std::uint16_t>(passed_seqs_[i] - last_fed_seq_ - 1) < skipped;
    return skipped > passed;
}

void StreamFilter::conceal_until(const Slot& next, bool lost) noexcept {
    // Audio missing before `next` (loss or DTX). Opus: libopus conceals it, and recovers the
    // last frame from `next`'s in-band FEC where it has some, when the gap is whole 2.5 ms
    // units up to 120 ms (libopus's limits); anything else, and G.711, is silence to the
    // detector. Nothing is output for the gap.
    const std::int64_t gap = next.t - fed_;
    // A pause (DTX) that falls in a keypress's first milliseconds, as a stream's end (before
    // the gap is fed: the audio before it is still in the look-ahead then).
    if (filtering_ && !lost && !paused_) guard_pause(true);
    const std::int64_t unit = params_.scrub.sample_rate / 400;
    if (opus_ && next.codec == PayloadKind::Opus && !next.replacement && gap % unit == 0 &&
        gap <= 48 * unit) {
        opus_->decode(next.bytes.data() + next.payload_offset, next.payload_bytes, pcm_.data(),
                      static_cast<int>(gap), true);
        stats_.concealed_samples += static_cast<std::uint64_t>(gap);
        feed(pcm_.data(), static_cast<std::size_t>(gap));
    } else {
        feed_until(next.t);
    }
}

void StreamFilter::feed_held(std::int64_t force_before) noexcept {
    // Feed held audio in timestamp order. Before a gap, wait while the audio held beyond it
    // is within the reorder window (the missing packet may still come); then, or when
    // forced, the gap becomes silence.
    std::int64_t marked = out_until_;
    for (;;) {
        Slot* next = nullptr;
        std::int64_t held = 0;
        for (std::size_t i = 0; i < count_; ++i) {
            Slot& q = slot_at(i);
            if (!q.audio || q.fed) continue;
            if (next == nullptr) next = &q;
            held += static_cast<std::int64_t>(q.payload_samples);
        }
        if (next == nullptr) break;
        if (next->t > fed_) {
            // A gap shorter than any packet (2.5 ms, Opus's shortest; timestamps that wobble)
            // is no packet still to come: filled at once.
            const bool short_gap = next->t - fed_ < params_.scrub.sample_rate / 400;  // 2.5 ms
            const bool force = next->t <= force_before;
            if (!force && !short_gap && held <= static_cast<std::int64_t>(params_.reorder_window_samples)) break;
        }
        // A lost packet can cut a keypress into parts too short for the detector: its first
        // 5 ms before the gap, or its last few after it, came through whole at the tone's
        // level. So, while filtering, the 15 ms before and after a loss are masked whatever is
        // in them, and the 40 ms after it if a mask held at its start
        // (tests/test_stream_filter.py). The 15 ms before, before the gap is fed: a gap
        // longer than the look-ahead put them out first (a burst of 5 lost packets left a
        // keypress's first 4 ms). After a pause that advance() filled, from the audio's end,
        // and the 15 ms after even when no gap is left to fill.
        const bool missing = lost_before(*next);  // (filtering or not: losses_, for events)
        const bool lost = filtering_ && missing;
        // Audio after a pause: a gap of 2.5 ms or more the sender left out (DTX), or one
        // advance() filled.
        const bool resumed =
            filtering_ && !lost && fed_ > 0 && (next->t - fed_ >= params_.scrub.sample_rate / 400 || paused_);
        bool long_guard = false;  // after the loss: a mask held before it, or Opus (below)
        if (lost) {
            const std::int64_t before = (paused_ ? audio_end_ : fed_) - 1;
            // In an Opus stream every loss is guarded after it as one where a mask held: the
            // decoder comes out of its concealment far quieter than the sender's audio (CELT
            // predicts each band's energy from the frame before: a keypress at -25 dBm0 a
            // tone decoded at -72 dBm0 in the first packet after a loss that followed a
            // pause in speech), too quiet for the detector or any test of its level; under
            // speech 5 of 400 CELT 10 ms streams with 1-3 packets lost in a keypress kept a
            // trace after the loss that the same keypresses did not keep with none (up to
            // -7 dB). Cost: 25 ms more masked after each loss.
            long_guard = opus_mode_ || (before >= 0 && scrubber_.masks(before));
            // Before it, in Opus, 10 ms more: the packet before a keypress's onset carries
            // its first ms in the codec's overlap (-34 dB left when the guard began at the
            // onset's packet).
            scrubber_.mask(before + 1 - ms(kEdgeGuardMs + tail_ms()), before + 1 + scrubber_.ramp());
        }
        if (next->t > fed_) {
            ++stats_.gaps;
            if (missing && next->t - fed_ <= ms(kBridgeLossMs)) {
                losses_[losses_next_] = Loss{fed_, next->t};
                losses_next_ = (losses_next_ + 1) % losses_.size();
            }
            conceal_until(*next, lost);
        }
        // A packet overlapping one fed before it (hostile or broken timestamps) goes on the
        // timeline where its audio actually goes, so that its output is its own scrubbed audio.
        next->t = std::max(next->t, fed_);
        const std::uint8_t* payload = next->bytes.data() + next->payload_offset;
        const std::size_t n = next->payload_samples;
        if (next->codec == PayloadKind::Pcma) {
            decode_alaw(payload, pcm_.data(), n);
        } else if (next->codec == PayloadKind::Pcmu) {
            decode_ulaw(payload, pcm_.data(), n);
        } else if (next->replacement) {  // Opus in a telephone-event's place: masked anyway
            std::fill(pcm_.begin(), pcm_.begin() + static_cast<std::ptrdiff_t>(n), std::int16_t{0});
        } else if (!opus_->decode(payload, next->payload_bytes, pcm_.data(), static_cast<int>(n), false)) {
            ++stats_.bad_payloads;  // decoded as silence; the packet itself is re-encoded
            next->undecodable = true;
        }
        next->fed = true;
        paused_ = false;
        last_fed_seq_ = sequence_of(next->bytes.data());
        // After a loss: 15 ms, or 40 ms when a mask held before it; in an Opus stream 10 ms
        // more, as its masks hang over: the codec carries a keypress on past its end (a
        // 60 ms keypress whose first 40 ms were lost left -12 dB in the packet after the one
        // the guard masked, SILK and CELT).
        if (lost) {
            const int after = (long_guard ? kCutGuardMs : kEdgeGuardMs) + tail_ms();
            scrubber_.mask(next->t - scrubber_.ramp(), next->t + ms(after));
        }
        // A stream that starts, or resumes after a pause, in a keypress's last 15 ms or less:
        // too little for the detector (it finds 15 ms and more), a tone for a listener. While
        // filtering, its first 15 ms are masked when they start like one
        // (tests/test_stream_filter.py); after a pause from a ramp's length into the silence.
        // An Opus stream's first packet, when it starts loud: a decoder that starts on a
        // stream cut from a longer one (hybrid 10 ms) decodes a keypress's end distorted past
        // that test (once per stream).
        // In an Opus stream these guards hang over as its masks do (kOpusTailMs): the codec
        // carries a keypress on past its end (a 1 s pause cut a keypress under speech 39 ms
        // before its end: the packet after the 40 ms guard kept -6 dB of it, CELT 10 ms).
        if (filtering_ && (fed_ == 0 || resumed)) {
            if (fed_ == 0 && guard_start_) scrubber_.mask(0, ms(kCutGuardMs + tail_ms()));
            const int rate = params_.scrub.sample_rate;
            int after = pause_guard_ms_;  // see guard_pause()
            if (keypress_at_edge(pcm_.data(), n, rate, false) ||
                (opus_mode_ && fed_ == 0 && loud_at_edge(pcm_.data(), n, rate, false)))
                after = std::max(after, kEdgeGuardMs);
            // A stream that starts on sound may start in a keypress under speech, whose
            // tones the test above does not find among the speech's, and whose end the
            // detector, starting afresh, does not find either (of 400 streams that started
            // 1-40 ms, to the packet before, from a keypress's end under speech, 28 let it
            // out, up to +8.7 dB; 6 with 40 ms masked): its first 120 ms, a keypress's usual
            // length, are masked. Once per stream (bench/discontinuity_report.py --under-speech).
            // An Opus stream's first packet does not show its level: a decoder that starts
            // afresh inside a stream decodes its first frames far quieter (CELT predicts each
            // band's energy from the frame before; SILK ramps up): of 400 Opus streams that
            // started 1-40 ms from a keypress's end under speech, 28 (CELT 10 ms) and 11
            // (CELT 20 ms) let it out, up to -3.7 dB, with 15 ms masked. Loud anywhere in it
            // is taken for sound there (bench/discontinuity_report.py --opus-under-speech).
            if (fed_ == 0 && !after_pause_ &&
                (sound_at(pcm_.data(), std::min<std::size_t>(n, static_cast<std::size_t>(ms(10)))) ||
                 (opus_mode_ && loud_anywhere(pcm_.data(), n, rate))))
                after = std::max(after, kEdgeOnSoundMs);
            if (after > 0) scrubber_.mask(fed_ == 0 ? 0 : fed_ - scrubber_.ramp(), fed_ + ms(after + tail_ms()));
        }
        if (resumed || fed_ == 0) pause_guard_ms_ = 0;
        feed(pcm_.data(), next->payload_samples);
        // The packets whose audio is out are marked (masked, re-encoded) before the output
        // ring wraps: a long gap filled at once or many packets held for reordering put out
        // more than it holds in one call (a keypress held in the look-ahead passed as sent:
        // csrc/tests/test_stream_filter.cpp).
        if (out_until_ - marked >= kMarkEvery) {
            mark_ready();
            marked = out_until_;
        }
    }
    mark_ready();
}

bool StreamFilter::pop(std::uint8_t* out, std::size_t* len) noexcept {
    if (count_ == 0 || !slots_[head_].ready) return false;
    const Slot& s = slots_[head_];
    std::memcpy(out, s.bytes.data(), s.len);
    *len = s.len;
    head_ = head_ + 1 == n_slots_ ? 0 : head_ + 1;
    --count_;
    ++stats_.packets_out;
    return true;
}

void StreamFilter::guard_pause(bool pause) noexcept {
    // A stream that ends, or pauses, in a keypress's first few ms (the detector finds 15 ms
    // and more): while filtering, its last 15 ms are masked when the sound it ends with (its
    // last 10 ms, still in the look-ahead) is one. In an Opus stream the codec's onset
    // transient can hide a keypress's first ms from that test (a CELT or hybrid 10 ms packet
    // that ends 4 ms into one decodes to a burst of mixed frequencies): there a loud end is
    // enough (DTX pauses follow quiet; a stream's end costs one packet, once).
    // After a pause (`pause`), a keypress's last 1-3 samples are too short to tell by their
    // frequencies (-31 to -36 dB left in a random sweep of pauses), and in Opus the first
    // packet after it, decoded from a state that concealed the pause from the keypress, and
    // re-encoded from that, carried -26 to -35 dB of it: the first 15 ms after a pause are
    // masked whatever they are when a mask held where it began (pause_guard_ms_; feed_held).
    // A pause that begins on sound (its last 10 ms at -27 dBm0 or more: a keypress of -25
    // dBm0 a tone and up, or speech; a sender's VAD pauses after quiet, its hang-over) is
    // guarded as a cut is, 40 ms on either side: a keypress under speech cut by a pause had
    // parts too short for the detector (a random sweep of 400 keypresses of -25 to -5 dBm0
    // a tone under speech at -20 dBm0, each cut by a pause of 1 s or 2.1 s, left 9 and 13
    // with a trace, 4 with no pause; now 1 and 0, with the start guard after a pause over
    // 2 s that began on sound, restart()). Natural pauses (an energy VAD's, 179 of them) cost
    // nothing more (bench/discontinuity_report.py --under-speech).
    if (!filtering_ || fed_ <= 0) return;
    const std::size_t n = scrubber_.recent_input(pcm_.data(), static_cast<std::size_t>(ms(10)));
    const bool sound = sound_at(pcm_.data(), n);
    // After such a pause an Opus stream's first frames decode quieter and distorted, from a
    // decoder that concealed the pause (CELT predicts each band's energy from the frame
    // before): the detector may miss a keypress's remnant of 40 ms and more there (a 49 ms
    // remnant under speech was let out at -2.8 dB past a 50 ms guard). It is guarded as a
    // stream's start on sound is.
    if (pause)
        pause_guard_ms_ = sound ? (opus_mode_ ? kEdgeOnSoundMs : kCutGuardMs) : scrubber_.masks(fed_ - 1) ? kEdgeGuardMs : 0;
    const int rate = params_.scrub.sample_rate;
    if (sound)  // a stream's end, as its start, once: a keypress's usual length
        scrubber_.mask(fed_ - ms(pause ? kCutGuardMs : kEdgeOnSoundMs), fed_ + scrubber_.ramp());
    else if (keypress_at_edge(pcm_.data(), n, rate, true) || (opus_mode_ && loud_at_edge(pcm_.data(), n, rate, true)) ||
             onset_at_end(pcm_.data(), n, rate))
        scrubber_.mask(fed_ - ms(kEdgeGuardMs), fed_ + scrubber_.ramp());
}

void StreamFilter::advance(std::uint32_t timestamp) noexcept {
    if (!have_stream_ || !audio_seen_) return;
    const std::int64_t target = to_timeline(unwrap(timestamp));
    if (target <= fed_) return;  // the audio is ahead of the clock: nothing to do
    feed_held(target);
    if (!paused_) audio_end_ = fed_;
    std::int64_t until = std::min(target, audio_end_ + scrubber_.delay());
    for (std::size_t i = 0; i < count_; ++i) {  // never over audio held for later
        const Slot& q = slot_at(i);
        if (q.audio && !q.fed) until = std::min(until, q.t);
    }
    if (until > fed_) {
        if (!paused_) guard_pause(true);
        paused_ = true;
        feed_until(until);
    }
    mark_ready();
}

void StreamFilter::flush() noexcept { end_timeline(false); }

void StreamFilter::end_timeline(bool cut) noexcept {
    if (!have_stream_) return;
    if (guard_end_ && filtering_) guard_end();
    feed_held(INT64_MAX);
    if (!paused_) guard_pause(false);
    // Push silence through the look-ahead: the last samples get their decisions and output.
    // At a cut the detector hears the next timeline's audio instead (Scrubber::cut).
    const std::size_t d = static_cast<std::size_t>(scrubber_.delay());
    if (cut)
        scrubber_.cut(tmp_.data());
    else
        scrubber_.flush(tmp_.data());
    copy_to_ring(out_until_, tmp_.data(), d);
    mark_runs(out_until_, d);
    out_until_ += static_cast<std::int64_t>(d);
    collect_spans();
    take_inband_events();
    mark_ready();
    close_masked_run();
    have_stream_ = false;  // the next packet starts a stream afresh (start_stream)
}

namespace {

using Counter = std::uint64_t StreamFilterStats::*;
constexpr std::pair<const char*, Counter> kCounters[] = {
    {"packets_in", &StreamFilterStats::packets_in},
    {"packets_out", &StreamFilterStats::packets_out},
    {"audio_packets", &StreamFilterStats::audio_packets},
    {"telephone_events_dropped", &StreamFilterStats::telephone_events_dropped},
    {"telephone_events_replaced", &StreamFilterStats::telephone_events_replaced},
    {"duplicates", &StreamFilterStats::duplicates},
    {"late", &StreamFilterStats::late},
    {"gaps", &StreamFilterStats::gaps},
    {"ssrc_changes", &StreamFilterStats::ssrc_changes},
    {"timestamp_resets", &StreamFilterStats::timestamp_resets},
    {"keypresses_rfc4733", &StreamFilterStats::keypresses_rfc4733},
    {"keypresses_inband", &StreamFilterStats::keypresses_inband},
    {"bad_payloads", &StreamFilterStats::bad_payloads},
    {"reencoded", &StreamFilterStats::reencoded},
    {"concealed_samples", &StreamFilterStats::concealed_samples},
    {"unknown_dropped", &StreamFilterStats::unknown_dropped},
    {"side_events", &StreamFilterStats::side_events},
    {"events_dropped", &StreamFilterStats::events_dropped},
    {"empty_payloads", &StreamFilterStats::empty_payloads},
    {"comfort_noise_flattened", &StreamFilterStats::comfort_noise_flattened},
    {"codec_switches", &StreamFilterStats::codec_switches},
};
constexpr std::size_t kPlain = std::size(kCounters);
constexpr std::size_t kReasons = static_cast<std::size_t>(RtpDrop::Count) - 1;  // None left out

// "malformed_" + each reason's name, made once: read-only, shared by every stream.
const std::array<std::string, kReasons>& malformed_names() {
    static const std::array<std::string, kReasons> names = [] {
        std::array<std::string, kReasons> n;
        for (std::size_t r = 0; r < kReasons; ++r)
            n[r] = std::string("malformed_") + rtp_drop_name(static_cast<RtpDrop>(r + 1));
        return n;
    }();
    return names;
}

}  // namespace

std::size_t stream_stat_count() noexcept { return kPlain + kReasons; }

const char* stream_stat_name(std::size_t i) noexcept {
    if (i < kPlain) return kCounters[i].first;
    if (i < kPlain + kReasons) return malformed_names()[i - kPlain].c_str();
    return nullptr;
}

std::uint64_t stream_stat_value(const StreamFilterStats& s, std::size_t i) noexcept {
    if (i < kPlain) return s.*kCounters[i].second;
    if (i < kPlain + kReasons) return s.malformed.by_reason[i - kPlain + 1];
    return 0;
}

}  // namespace pcifilter
