// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/rfc4733.hpp"

#include "pcifilter/byte_order.hpp"

namespace pcifilter {

bool parse_telephone_event(const std::uint8_t* p, std::size_t len, TelephoneEvent* out) noexcept {
    if (len < 4) return false;
    // RFC 4733 §2.3: event (8) | E (1) | R (1) | volume (6) | duration (16)
    out->code = p[0];
    out->end = (p[1] & 0x80) != 0;
    out->volume = p[1] & 0x3F;
    out->duration = be16(p + 2);
    return true;
}

std::size_t parse_telephone_events(const std::uint8_t* p, std::size_t len, TelephoneEvent* out) noexcept {
    std::size_t n = 0;
    for (std::size_t at = 0; n < kMaxPackedEvents && at + 4 <= len; at += 4) {
        TelephoneEvent e;
        parse_telephone_event(p + at, 4, &e);
        if (n > 0) {
            const TelephoneEvent& before = out[n - 1];
            const bool complete = before.end || (before.duration == 0xFFFF && before.code == e.code);
            if (!complete || e.duration == 0) break;
        }
        out[n++] = e;
    }
    return n;
}

std::uint32_t telephone_events_span(const std::uint8_t* p, std::size_t len) noexcept {
    TelephoneEvent e[kMaxPackedEvents];
    const std::size_t n = parse_telephone_events(p, len, e);
    std::uint32_t span = 0;
    for (std::size_t i = 0; i < n; ++i) span += e[i].duration;
    return span;
}

char telephone_event_digit(std::uint8_t code) noexcept {
    static const char kDigits[] = "0123456789*#ABCD";
    return code < 16 ? kDigits[code] : '\0';
}

TelephoneEventTracker::Packet TelephoneEventTracker::on_packet(std::uint32_t ts, const TelephoneEvent& e,
                                                               std::uint32_t unit) noexcept {
    const std::uint32_t duration = e.duration * unit;
    if (active_) {
        // Signed distance on the 32-bit timestamp circle: wrap-safe.
        const auto since_segment = static_cast<std::int32_t>(ts - segment_ts_);
        const auto since_start = static_cast<std::int32_t>(ts - start_ts_);
        if (ts == segment_ts_ && e.code == code_) {
            if (ended_) return Packet::EndRepeat;
            if (duration >= last_duration_) last_duration_ = duration;
            ended_ = e.end;
            return Packet::Update;
        }
        // §2.5.1.3: a long event goes on in a new segment, timestamped where the previous
        // one's duration ended, once that duration filled the 16-bit field (0xFFFF; its last
        // updates may be lost: 1600 units of slack). The same key pressed again after a
        // press whose end packets were all lost is a new press, not a segment: taken for
        // one, "11" in a card number came out as "1".
        if (e.code == code_ && !ended_ && since_segment > 0 &&
            last_duration_ >= (0xFFFFu - 1600u) * unit &&
            static_cast<std::uint32_t>(since_segment) <= last_duration_ + 1600u) {
            done_segments_ += static_cast<std::uint32_t>(since_segment);
            segment_ts_ = ts;
            last_duration_ = duration;
            ended_ = e.end;
            return Packet::Continuation;
        }
        if (since_start < 0 && std::uint32_t(-static_cast<std::int64_t>(since_start)) <= reorder_window_)
            return Packet::Stale;
    }
    active_ = true;
    ended_ = e.end;
    code_ = e.code;
    volume_ = e.volume;
    start_ts_ = segment_ts_ = ts;
    last_duration_ = duration;
    done_segments_ = 0;
    return Packet::NewEvent;
}

std::size_t TelephoneEventTracker::on_payload(std::uint32_t timestamp, const std::uint8_t* payload, std::size_t len,
                                              PacketEvent (&out)[kMaxPackedEvents], std::uint32_t unit) noexcept {
    TelephoneEvent e[kMaxPackedEvents];
    const std::size_t n = parse_telephone_events(payload, len, e);
    std::uint32_t at[kMaxPackedEvents];
    for (std::size_t i = 0; i < n; ++i) at[i] = i == 0 ? timestamp : at[i - 1] + e[i - 1].duration * unit;
    // A sender repeats a packed packet with the last event's updates: the events before the
    // one under way are over (taken for new again, a long one beyond the reorder window
    // would be reported twice).
    std::size_t first = 0;
    for (std::size_t j = n; active_ && j-- > 1;)
        if (at[j] == start_ts_ || at[j] == segment_ts_) {
            first = j;
            break;
        }
    for (std::size_t i = 0; i < n; ++i) {
        PacketEvent& o = out[i];
        o.event = e[i];
        o.timestamp = at[i];
        o.kind = i < first ? Packet::Stale : on_packet(at[i], e[i], unit);
        o.start_timestamp = start_ts_;
        o.duration = duration();
    }
    return n;
}

}  // namespace pcifilter
