// SPDX-License-Identifier: Apache-2.0
// RFC 4733 telephone-events: parse the payload and recognise each keypress exactly once.
//
// A keypress arrives as many packets: updates with growing cumulative duration, all with the
// event's start timestamp (§2.5.1.3); an end packet sent three times (§2.5.1.4), with the
// same or with new sequence numbers depending on the sender; a long event split into
// segments at the 16-bit duration limit, each new segment starting at the previous
// timestamp plus its duration, without a marker (§2.5.1.3). Some senders omit the marker of
// the first packet. One packet may carry several events back to back (§2.5.1.5), the RTP
// timestamp being the first one's start. TelephoneEventTracker classifies every event of
// every packet so that a keypress is reported once, and copes with timestamp wrap and
// late, reordered packets.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pcifilter {

struct TelephoneEvent {
    std::uint8_t code = 0;      // 0-9, 10 '*', 11 '#', 12-15 'A'-'D', 16 flash, others
    bool end = false;
    std::uint8_t volume = 0;    // -dBm0, 0-63
    std::uint16_t duration = 0; // in clock units, cumulative within the segment
};

// Parses the first 4 bytes of a telephone-event payload; false if shorter.
bool parse_telephone_event(const std::uint8_t* payload, std::size_t len, TelephoneEvent* out) noexcept;

// The most events read from one packet. RFC 4733 §2.5.1.5 packs events only while the last
// one is not held back long; a keypress lasts 40 ms or more.
inline constexpr std::size_t kMaxPackedEvents = 8;

// Parses the events a telephone-event payload packs (§2.5.1.5: consecutive, contiguous,
// each a 4-byte block) into `out`, at most kMaxPackedEvents; returns how many (0: shorter
// than 4 bytes). A block is read only after a complete event (end bit set, or a segment that
// filled the 16-bit duration) and only with a duration of its own: bytes some senders
// append (zeros) are not a keypress of digit 0.
std::size_t parse_telephone_events(const std::uint8_t* payload, std::size_t len, TelephoneEvent* out) noexcept;

// The time a payload's events span together, in duration units; 0 if it holds none.
std::uint32_t telephone_events_span(const std::uint8_t* payload, std::size_t len) noexcept;

// '0'-'9', '*', '#', 'A'-'D' for DTMF codes 0-15; 0 for others.
char telephone_event_digit(std::uint8_t code) noexcept;

class TelephoneEventTracker {
public:
    enum class Packet : std::uint8_t {
        NewEvent,      // first packet seen of a new keypress: report it
        Update,        // a later packet of the current keypress
        EndRepeat,     // a retransmitted end packet
        Continuation,  // the next segment of a long keypress
        Stale,         // older than the current keypress (late or reordered): ignore
    };

    // `reorder_window`: how far behind the current keypress (clock units) a packet is taken
    // for late; further back is a timestamp discontinuity and starts a new keypress.
    explicit TelephoneEventTracker(std::uint32_t reorder_window = 8000) noexcept
        : reorder_window_(reorder_window) {}

    // `unit`: RTP clock units per duration unit (6: durations at 8 kHz in a 48 kHz stream).
    Packet on_packet(std::uint32_t timestamp, const TelephoneEvent& e, std::uint32_t unit = 1) noexcept;

    // One event of a packet, as the tracker took it.
    struct PacketEvent {
        TelephoneEvent event;
        std::uint32_t timestamp = 0;  // where it starts (RTP clock)
        Packet kind = Packet::Stale;
        std::uint32_t start_timestamp = 0;  // its keypress's first segment (not for Stale)
        std::uint64_t duration = 0;         // its keypress's duration so far, in clock units
    };
    // Classifies every event a packet carries (§2.5.1.5), in order; returns how many (0: a
    // payload shorter than 4 bytes). Events a packet packs before the keypress under way
    // are that packet's repeats of finished ones: stale, however long ago they began.
    std::size_t on_payload(std::uint32_t timestamp, const std::uint8_t* payload, std::size_t len,
                           PacketEvent (&out)[kMaxPackedEvents], std::uint32_t unit = 1) noexcept;
    void reset() noexcept { active_ = false; }
    // The keypress under way goes on with its timestamps `delta` clock units further on (its
    // sender's clock, once placed on another).
    void shift(std::uint32_t delta) noexcept {
        start_ts_ += delta;
        segment_ts_ += delta;
    }

    // The keypress the last packet belonged to.
    std::uint8_t code() const noexcept { return code_; }
    std::uint32_t start_timestamp() const noexcept { return start_ts_; }
    std::uint64_t duration() const noexcept { return done_segments_ + last_duration_; }
    bool ended() const noexcept { return ended_; }
    std::uint8_t volume() const noexcept { return volume_; }

private:
    std::uint32_t reorder_window_;
    bool active_ = false;
    bool ended_ = false;
    std::uint8_t code_ = 0;
    std::uint8_t volume_ = 0;
    std::uint32_t start_ts_ = 0;    // first segment's timestamp
    std::uint32_t segment_ts_ = 0;  // current segment's timestamp
    std::uint32_t last_duration_ = 0;  // in clock units, as all durations here
    std::uint64_t done_segments_ = 0;  // duration of the completed segments
};

}  // namespace pcifilter
