// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/stream_filter.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "pcifilter/g711.hpp"

namespace pcifilter {
namespace {

constexpr std::size_t kRing = 1 << 14;  // scrubber output by timeline index: 2 s at 8 kHz
constexpr std::size_t kRingMask = kRing - 1;
constexpr std::int64_t kDedupeSlack = 400;  // 50 ms: in-band and RFC 4733 of one keypress

}  // namespace

StreamFilterParams::StreamFilterParams() {
    payload_types.fill(PayloadKind::Other);
    payload_types[0] = PayloadKind::Pcmu;  // RFC 3551 static payload types
    payload_types[8] = PayloadKind::Pcma;
    payload_types[13] = PayloadKind::ComfortNoise;
    payload_types[101] = PayloadKind::TelephoneEvent;  // the usual dynamic choice
}

void StreamFilterParams::validate() const {
    if (scrub.sample_rate != 8000) throw std::invalid_argument("G.711 streams run at 8000 Hz");
    scrub.validate();
    if (scrub.lookahead_ms > 500.0) throw std::invalid_argument("lookahead_ms too long for a stream");
    if (max_gap_samples < 160 || max_gap_samples > 8000 * 60)
        throw std::invalid_argument("max_gap_samples must be within [160, 480000]");
}

StreamFilter::StreamFilter(const StreamFilterParams& params)
    : params_((params.validate(), params)), scrubber_(params.scrub) {
    out_ring_.assign(kRing, 0);
    pcm_.resize(kMaxPacket);
    zeros_.assign(1024, 0);
    tmp_.resize(std::max<std::size_t>(kMaxPacket, static_cast<std::size_t>(scrubber_.delay()) + 1024));
    events_.reserve(16);
    for (int pt = 127; pt >= 0; --pt)  // until audio arrives: the lowest PCMU type, else PCMA
        if (params_.payload_types[static_cast<std::size_t>(pt)] == PayloadKind::Pcma) audio_pt_ = pt;
    for (int pt = 127; pt >= 0; --pt)
        if (params_.payload_types[static_cast<std::size_t>(pt)] == PayloadKind::Pcmu) audio_pt_ = pt;
}

void StreamFilter::set_filtering(bool on) noexcept {
    if (on && !filtering_) {
        // Take the telephone-events still held out of the queue, renumbering what follows.
        std::size_t kept = 0;
        std::uint16_t removed = 0;
        for (std::size_t i = 0; i < count_; ++i) {
            Slot& s = slots_[(head_ + i) % kSlots];
            if (s.telephone_event) {
                ++removed;
                ++stats_.telephone_events_dropped;
                continue;
            }
            if (removed != 0) {
                const auto seq = static_cast<std::uint16_t>((s.bytes[2] << 8 | s.bytes[3]) - removed);
                s.bytes[2] = static_cast<std::uint8_t>(seq >> 8);
                s.bytes[3] = static_cast<std::uint8_t>(seq);
            }
            if (kept != i) std::swap(slots_[(head_ + kept) % kSlots], s);
            ++kept;
        }
        count_ = kept;
        seq_offset_ = static_cast<std::uint16_t>(seq_offset_ + removed);
    }
    filtering_ = on;
    scrubber_.set_masking(on);
}

void StreamFilter::start_stream(std::uint32_t ssrc, std::uint32_t timestamp) noexcept {
    have_stream_ = true;
    ssrc_ = ssrc;
    base_ts_ = timestamp;
    last_t_ = 0;
    fed_ = 0;
    out_until_ = -scrubber_.delay();
    scrubber_.reset();
    scrubber_.set_masking(filtering_);
    last_rfc4733_start_ = last_rfc4733_end_ = -1;
    replaced_until_ = 0;
    replacing_ = true;
    seq_seen_ = false;
    masked_granules_.fill(~std::uint64_t{0});  // until written: compare everything
}

StreamFilter::Slot* StreamFilter::enqueue(const std::uint8_t* data, std::size_t len) noexcept {
    if (count_ == kSlots) return nullptr;
    Slot& s = slots_[(head_ + count_) % kSlots];
    ++count_;
    std::memcpy(s.bytes.data(), data, len);
    s.len = len;
    s.audio = false;
    s.telephone_event = false;
    s.replacement = false;
    s.fed = true;
    s.ready = true;
    // Sequence numbers stay contiguous across the telephone-event packets taken out.
    const auto seq = static_cast<std::uint16_t>((data[2] << 8 | data[3]) - seq_offset_);
    s.bytes[2] = static_cast<std::uint8_t>(seq >> 8);
    s.bytes[3] = static_cast<std::uint8_t>(seq);
    return &s;
}

void StreamFilter::take_inband_events() noexcept {
    // The scrubber's new events, except in-band detections of a keypress already reported
    // from RFC 4733.
    auto& found = scrubber_.events();
    const std::size_t first = events_.size();
    events_.insert(events_.end(), found.begin(), found.end());
    found.clear();
    for (std::size_t i = first; i < events_.size();) {
        const ToneEvent& e = events_[i];
        const bool dup = e.kind == EventKind::Dtmf && last_rfc4733_start_ >= 0 &&
                         e.end + kDedupeSlack >= last_rfc4733_start_ &&
                         e.start - kDedupeSlack <= std::max(last_rfc4733_end_, last_rfc4733_start_ + 800);
        if (dup) {
            events_.erase(events_.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
            if (e.kind == EventKind::Dtmf) ++stats_.keypresses_inband;
            ++i;
        }
    }
}

void StreamFilter::mark_masked(std::int64_t t, std::size_t n, bool masked) noexcept {
    // Granules of output that may hold masked samples: set for any output chunk the masker
    // touched, cleared where an untouched chunk covers a granule whole (a stale bit from
    // the ring's previous turn, or a granule shared with a masked chunk, stays set: that
    // only costs a comparison).
    std::int64_t a = std::max<std::int64_t>(t, 0), b = t + static_cast<std::int64_t>(n);
    if (b <= a) return;
    if (!masked) {
        a = (a + kGranule - 1) / kGranule * kGranule;
        b = b / kGranule * kGranule;
    }
    for (std::int64_t g = a / kGranule; g * kGranule < b; ++g) {
        const auto i = static_cast<std::size_t>(g) % kGranules;
        if (masked) masked_granules_[i / 64] |= std::uint64_t{1} << (i % 64);
        else masked_granules_[i / 64] &= ~(std::uint64_t{1} << (i % 64));
    }
}

bool StreamFilter::maybe_masked(std::int64_t t, std::size_t n) const noexcept {
    const std::int64_t b = t + static_cast<std::int64_t>(n);
    for (std::int64_t g = std::max<std::int64_t>(t, 0) / kGranule; g * kGranule < b; ++g) {
        const auto i = static_cast<std::size_t>(g) % kGranules;
        if ((masked_granules_[i / 64] >> (i % 64)) & 1) return true;
    }
    return false;
}

void StreamFilter::feed(const std::int16_t* pcm, std::size_t n) noexcept {
    while (n > 0) {
        const std::size_t k = std::min<std::size_t>(n, 1024);
        const std::uint64_t masked_before = scrubber_.stats().masked_samples;
        scrubber_.process(pcm, tmp_.data(), k);
        copy_to_ring(out_until_, tmp_.data(), k);
        mark_masked(out_until_, k, scrubber_.stats().masked_samples != masked_before);
        out_until_ += static_cast<std::int64_t>(k);
        fed_ += static_cast<std::int64_t>(k);
        scrubber_.spans().clear();
        take_inband_events();
        pcm += k;
        n -= k;
    }
}

void StreamFilter::feed_until(std::int64_t t) noexcept {
    while (fed_ < t) feed(zeros_.data(), static_cast<std::size_t>(std::min<std::int64_t>(t - fed_, 1024)));
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
        Slot& s = slots_[(head_ + i) % kSlots];
        if (s.ready || !s.audio) continue;
        if (out_until_ < s.t + static_cast<std::int64_t>(s.payload_samples)) break;
        // Audio the masker did not touch (nearly every packet) passes as it is; elsewhere
        // one decode and one compare find what changed, and only that is re-encoded.
        s.ready = true;
        const std::size_t n = s.payload_samples;
        if (!maybe_masked(s.t, n)) continue;
        std::uint8_t* codes = s.bytes.data() + s.payload_offset;
        std::int16_t* y = tmp_.data();
        std::int16_t* x = pcm_.data();
        copy_from_ring(s.t, n, y);
        if (s.alaw) decode_alaw(codes, x, n);
        else decode_ulaw(codes, x, n);
        if (std::memcmp(x, y, n * sizeof(std::int16_t)) != 0) {
            for (std::size_t k = 0; k < n; ++k)
                if (x[k] != y[k]) codes[k] = s.alaw ? linear_to_alaw(y[k]) : linear_to_ulaw(y[k]);
        }
    }
}

std::int64_t StreamFilter::unwrap(std::uint32_t timestamp) const noexcept {
    // Timeline position, wrap-safe: signed distance from the last audio timestamp.
    const std::uint32_t last_ts = base_ts_ + static_cast<std::uint32_t>(last_t_);
    return last_t_ + static_cast<std::int32_t>(timestamp - last_ts);
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
    if (!have_stream_ || h.ssrc != ssrc_) {
        if (have_stream_) {
            ++stats_.ssrc_changes;
            flush();
            seq_offset_ = 0;  // a new source numbers its own packets
        }
        tracker_.reset();
        start_stream(h.ssrc, h.timestamp);
    }
    // A packet newer (RFC 3550 sequence order) than every one before it: when such a packet
    // is dropped, the packets after it can be renumbered to keep the output contiguous;
    // dropping an older one (a copy, a reordered packet whose place was filled) cannot.
    const bool newest = !seq_seen_ || static_cast<std::int16_t>(h.sequence - max_seq_) > 0;
    if (newest) {
        max_seq_ = h.sequence;
        seq_seen_ = true;
    }
    const std::int64_t t = unwrap(h.timestamp);
    const PayloadKind kind = params_.payload_types[h.payload_type];

    if (kind == PayloadKind::TelephoneEvent) {
        TelephoneEvent e;
        bool current = false;  // a packet of the keypress under way (not stale, not malformed)
        if (parse_telephone_event(data + h.payload_offset, h.payload_length, &e)) {
            const auto k = tracker_.on_packet(h.timestamp, e);
            current = k != TelephoneEventTracker::Packet::Stale;
            if (current) {
                last_rfc4733_start_ = unwrap(tracker_.start_timestamp());
                last_rfc4733_end_ = last_rfc4733_start_ + static_cast<std::int64_t>(tracker_.duration());
            }
            if (k == TelephoneEventTracker::Packet::NewEvent && telephone_event_digit(e.code) != 0) {
                ToneEvent ev;
                ev.kind = EventKind::Dtmf;
                ev.digit = telephone_event_digit(e.code);
                ev.start = t;
                ev.end = t + e.duration;
                ev.level_dbm0 = -float(e.volume);
                ev.rfc4733 = true;
                events_.push_back(ev);
                ++stats_.keypresses_rfc4733;
            }
        }
        if (!filtering_) {
            if (Slot* s = enqueue(data, len)) s->telephone_event = true;
            return;
        }
        if (current) {
            // Mask the keypress in the audio too, from a whole look-ahead before its start.
            scrubber_.mask(last_rfc4733_start_ - scrubber_.delay(), last_rfc4733_end_);
            if (params_.telephone_events == TelephoneEventAction::Replace && replace_event(data, h))
                return;
        }
        ++seq_offset_;  // never forwarded: taken out of the sequence
        ++stats_.telephone_events_dropped;
        return;
    }
    if (kind == PayloadKind::Pcmu || kind == PayloadKind::Pcma) {
        const std::size_t n = h.payload_length;
        const auto drop = [&](std::uint64_t& counter) {
            ++counter;
            if (newest) ++seq_offset_;  // nothing after it was numbered yet: keep contiguous
        };
        for (std::size_t i = 0; i < count_; ++i) {
            const Slot& q = slots_[(head_ + i) % kSlots];
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
        if (t < fed_) {  // its place on the timeline is filled already (as silence or audio)
            if (t < replaced_until_ && t + static_cast<std::int64_t>(n) > last_rfc4733_start_)
                replacing_ = false;  // as above, the replacement already fed
            drop(stats_.late);
            return;
        }
        if (t - fed_ > static_cast<std::int64_t>(params_.max_gap_samples)) {
            // A jump this long (a hold, a timestamp reset): finish and restart the timeline.
            flush();
            start_stream(h.ssrc, h.timestamp);
            --stats_.packets_in;  // counted again by the call below
            return push(data, len);
        }
        Slot* s = enqueue(data, len);
        if (s == nullptr) {
            drop(stats_.late);  // queue full: the caller is not popping; dropped, never leaked
            return;
        }
        s->audio = true;
        s->fed = false;
        s->ready = false;
        s->alaw = kind == PayloadKind::Pcma;
        s->payload_offset = h.payload_offset;
        s->payload_samples = n;
        s->t = t;
        last_t_ = std::max(last_t_, t);
        audio_pt_ = h.payload_type;
        ++stats_.audio_packets;
        sort_held();
        feed_held(false);
        return;
    }
    enqueue(data, len);  // comfort noise and anything else pass in order
}

void StreamFilter::sort_held() noexcept {
    // Keep held audio in timestamp order: a packet that overtook the last one waits behind
    // it. Sequence numbers stay in output order: a reordered packet brings its own lower
    // number along; replacement audio, numbered when its event packet arrived, takes the
    // lower number of the packet it moves ahead of.
    for (std::size_t i = count_ - 1; i > 0; --i) {
        Slot& cur = slots_[(head_ + i) % kSlots];
        Slot& prev = slots_[(head_ + i - 1) % kSlots];
        if (!prev.audio || prev.fed || prev.t < cur.t) break;
        std::swap(prev, cur);
        const auto seq = [](const Slot& s) { return static_cast<std::uint16_t>(s.bytes[2] << 8 | s.bytes[3]); };
        if (static_cast<std::int16_t>(seq(cur) - seq(prev)) < 0) {
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
        const Slot& q = slots_[(head_ + i) % kSlots];
        if (!q.audio || q.fed || q.t + static_cast<std::int64_t>(q.payload_samples) <= start) continue;
        if (q.t <= start) {
            start = q.t + static_cast<std::int64_t>(q.payload_samples);
            continue;
        }
        end = std::min(end, q.t);
        break;
    }
    const std::size_t header = 12 + 4 * static_cast<std::size_t>(h.csrc_count);
    end = std::min<std::int64_t>(end, start + static_cast<std::int64_t>(kMaxPacket - header));
    if (end <= start || start - fed_ > static_cast<std::int64_t>(params_.max_gap_samples)) return false;
    Slot* s = enqueue(data, header);  // the event packet's header, sequence renumbered
    if (s == nullptr) return false;
    const auto n = static_cast<std::size_t>(end - start);
    const bool alaw = params_.payload_types[static_cast<std::size_t>(audio_pt_)] == PayloadKind::Pcma;
    const std::uint32_t ts = base_ts_ + static_cast<std::uint32_t>(start);
    s->bytes[0] &= 0xCF;  // no padding, no extension
    s->bytes[1] = static_cast<std::uint8_t>(audio_pt_);  // no marker
    for (int b = 0; b < 4; ++b) s->bytes[4 + b] = static_cast<std::uint8_t>(ts >> (24 - 8 * b));
    std::memset(s->bytes.data() + header, alaw ? 0xD5 : 0xFF, n);  // G.711 idle; masked anyway
    s->len = header + n;
    s->audio = true;
    s->replacement = true;
    s->fed = false;
    s->ready = false;
    s->alaw = alaw;
    s->payload_offset = header;
    s->payload_samples = n;
    s->t = start;
    replaced_until_ = end;
    last_t_ = std::max(last_t_, start);
    ++stats_.telephone_events_replaced;
    sort_held();
    feed_held(false);
    return true;
}

void StreamFilter::feed_held(bool force) noexcept {
    // Feed held audio in timestamp order. Before a gap, wait while the audio held beyond it
    // is within the reorder window (the missing packet may still come); then, or when
    // forced, the gap becomes silence.
    for (;;) {
        Slot* next = nullptr;
        std::int64_t held = 0;
        for (std::size_t i = 0; i < count_; ++i) {
            Slot& q = slots_[(head_ + i) % kSlots];
            if (!q.audio || q.fed) continue;
            if (next == nullptr) next = &q;
            held += static_cast<std::int64_t>(q.payload_samples);
        }
        if (next == nullptr) break;
        if (next->t > fed_) {
            if (!force && held <= static_cast<std::int64_t>(params_.reorder_window_samples)) break;
            ++stats_.gaps;
            feed_until(next->t);
        }
        // A packet overlapping one fed before it (hostile or broken timestamps) goes on the
        // timeline where its audio actually goes, so that its output is its own scrubbed audio.
        next->t = std::max(next->t, fed_);
        const std::uint8_t* codes = next->bytes.data() + next->payload_offset;
        if (next->alaw) decode_alaw(codes, pcm_.data(), next->payload_samples);
        else decode_ulaw(codes, pcm_.data(), next->payload_samples);
        next->fed = true;
        feed(pcm_.data(), next->payload_samples);
    }
    mark_ready();
}

bool StreamFilter::pop(std::uint8_t* out, std::size_t* len) noexcept {
    if (count_ == 0 || !slots_[head_].ready) return false;
    const Slot& s = slots_[head_];
    std::memcpy(out, s.bytes.data(), s.len);
    *len = s.len;
    head_ = (head_ + 1) % kSlots;
    --count_;
    ++stats_.packets_out;
    return true;
}

void StreamFilter::flush() noexcept {
    if (!have_stream_) return;
    feed_held(true);
    // Push silence through the look-ahead: the last samples get their decisions and output.
    const std::size_t d = static_cast<std::size_t>(scrubber_.delay());
    scrubber_.flush(tmp_.data());
    copy_to_ring(out_until_, tmp_.data(), d);
    mark_masked(out_until_, d, true);
    out_until_ += static_cast<std::int64_t>(d);
    take_inband_events();
    mark_ready();
    have_stream_ = false;  // the next packet starts a stream afresh (start_stream)
}

}  // namespace pcifilter
