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

}  // namespace pcifilter
