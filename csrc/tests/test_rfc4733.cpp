// SPDX-License-Identifier: Apache-2.0
// RFC 4733 tracking: one report per keypress through updates, triple ends (same or new
// sequence numbers), long-event segments, a missing marker, timestamp wrap and late packets.
#include <vector>

#include "check.hpp"
#include "pcifilter/rfc4733.hpp"

using namespace pcifilter;
using P = TelephoneEventTracker::Packet;

namespace {
TelephoneEvent ev(std::uint8_t code, std::uint16_t dur, bool end = false) {
    return TelephoneEvent{code, end, 10, dur};
}
}  // namespace

int main() {
    TelephoneEventTracker t;
    int reports = 0;
    const auto feed = [&](std::uint32_t ts, TelephoneEvent e) {
        const P p = t.on_packet(ts, e);
        reports += p == P::NewEvent;
        return p;
    };
    // sipp's dtmf_2833_1.pcap: ts 13280, durations 0..1920 then end 2240 three times.
    for (int d = 0; d <= 1920; d += 320) feed(13280, ev(1, static_cast<std::uint16_t>(d)));
    for (int i = 0; i < 3; ++i) feed(13280, ev(1, 2240, true));
    CHECK(reports == 1 && t.ended() && t.duration() == 2240);
    // The same key again: a new timestamp is a new press, marker or not.
    CHECK(feed(20000, ev(1, 160)) == P::NewEvent);
    CHECK(feed(20000, ev(1, 320, true)) == P::Update);
    CHECK(feed(20000, ev(1, 320, true)) == P::EndRepeat);
    // A late packet of the first press is stale.
    CHECK(feed(13280, ev(1, 2240, true)) == P::Stale);
    // Long event: 65535 units, then a new segment at ts + 65535 without marker.
    CHECK(feed(100000, ev(5, 65000)) == P::NewEvent);
    CHECK(feed(100000, ev(5, 65535)) == P::Update);
    CHECK(feed(100000 + 65535, ev(5, 1000)) == P::Continuation);
    CHECK(feed(100000 + 65535, ev(5, 2000, true)) == P::Update);
    CHECK(t.duration() == 65535u + 2000u && t.start_timestamp() == 100000u);
    // The same key again 170 ms on, the first press's end packets all lost: a new press
    // (a segment follows only a duration that filled the field).
    CHECK(feed(200000, ev(1, 480)) == P::NewEvent);
    CHECK(feed(200000 + 1360, ev(1, 160)) == P::NewEvent);
    CHECK(feed(200000 + 1360 + 1360, ev(1, 160)) == P::NewEvent);
    // A jump far back is a discontinuity, not a late packet: a new keypress.
    CHECK(feed(50000, ev(3, 160)) == P::NewEvent);
    t.reset();  // a new stream (SSRC) starts afresh
    // Timestamp wrap inside an event and between events.
    CHECK(feed(0xFFFFFF00u, ev(9, 320)) == P::NewEvent);
    CHECK(feed(0xFFFFFF00u, ev(9, 640, true)) == P::Update);
    CHECK(feed(0x00000100u, ev(9, 320)) == P::NewEvent);
    CHECK(feed(0xFFFFFF00u, ev(9, 640, true)) == P::Stale);
    CHECK(reports == 9);  // sipp, repeat, long, three presses, discontinuity, two around the wrap
    // Durations at 8 kHz in a 48 kHz stream (telephone-event/8000 beside Opus): unit 6.
    t.reset();
    CHECK(t.on_packet(48000, ev(4, 160), 6) == P::NewEvent);
    CHECK(t.on_packet(48000, ev(4, 640, true), 6) == P::Update && t.duration() == 3840);
    CHECK(t.on_packet(48000, ev(4, 640, true), 6) == P::EndRepeat);
    // Its long event: the next segment 65535 units of 8 kHz on, whichever clock the sender
    // counted that step in (48 kHz, or 8 kHz as the durations).
    for (const std::uint32_t step : {65535u * 6u, 65535u}) {
        t.reset();
        CHECK(t.on_packet(500000, ev(7, 65535), 6) == P::NewEvent);
        CHECK(t.on_packet(500000 + step, ev(7, 800), 6) == P::Continuation);
        CHECK(t.duration() == step + 4800u);
    }
    CHECK(telephone_event_digit(10) == '*' && telephone_event_digit(11) == '#' &&
          telephone_event_digit(15) == 'D' && telephone_event_digit(16) == '\0');
    TelephoneEvent e;
    const std::uint8_t payload[4] = {0x0b, 0x8a, 0x08, 0xc0};
    CHECK(parse_telephone_event(payload, 4, &e) && e.code == 11 && e.end && e.volume == 10 &&
          e.duration == 2240);
    CHECK(!parse_telephone_event(payload, 3, &e));

    // §2.5.1.5: events packed back to back in one packet, the timestamp the first one's
    // start; the sender repeats the packet with the last one's updates, then goes on with
    // the last alone, at its own start.
    t.reset();
    TelephoneEventTracker::PacketEvent out[kMaxPackedEvents];
    const std::uint8_t two[8] = {4, 0x8a, 0x01, 0x40, 2, 0x0a, 0x00, 0xa0};  // '4' 320 ended, '2' 160
    CHECK(t.on_payload(1000, two, 8, out) == 2);
    CHECK(out[0].kind == P::NewEvent && out[0].timestamp == 1000 && out[0].event.code == 4);
    CHECK(out[1].kind == P::NewEvent && out[1].timestamp == 1320 && out[1].event.code == 2);
    CHECK(t.on_payload(1000, two, 8, out) == 2 && out[0].kind == P::Stale && out[1].kind == P::Update);
    const std::uint8_t last[4] = {2, 0x8a, 0x01, 0x40};
    CHECK(t.on_payload(1320, last, 4, out) == 1 && out[0].kind == P::Update && t.ended());
    CHECK(t.on_payload(1320, last, 4, out) == 1 && out[0].kind == P::EndRepeat);
    // A first event longer than the reorder window is still the repeat's, not a new press.
    t.reset();
    const std::uint8_t long_first[8] = {7, 0x8a, 0xfa, 0x00, 9, 0x0a, 0x00, 0xa0};  // 64000 units
    CHECK(t.on_payload(5000, long_first, 8, out) == 2 && out[1].kind == P::NewEvent);
    CHECK(t.on_payload(5000, long_first, 8, out) == 2 && out[0].kind == P::Stale && out[1].kind == P::Update);
    // Blocks after an event still under way, and empty ones (zeros some senders append), are
    // not events: no keypress of digit 0.
    const std::uint8_t open_first[8] = {3, 0x0a, 0x00, 0xa0, 5, 0x0a, 0x00, 0xa0};
    const std::uint8_t zeros_after[8] = {3, 0x8a, 0x01, 0x40, 0, 0, 0, 0};
    TelephoneEvent blocks[kMaxPackedEvents];
    CHECK(parse_telephone_events(open_first, 8, blocks) == 1 && parse_telephone_events(zeros_after, 8, blocks) == 1);
    CHECK(parse_telephone_events(open_first, 3, blocks) == 0 && telephone_events_span(two, 8) == 480);
    // A segment that filled the field, packed with the next segment of the same event.
    const std::uint8_t segments[8] = {6, 0x0a, 0xff, 0xff, 6, 0x0a, 0x00, 0xa0};
    CHECK(parse_telephone_events(segments, 8, blocks) == 2);
    t.reset();
    CHECK(t.on_payload(9000, segments, 8, out) == 2 && out[0].kind == P::NewEvent &&
          out[1].kind == P::Continuation && t.duration() == 65535u + 160u);
    // At most kMaxPackedEvents are read.
    std::uint8_t many[4 * 12];
    for (int i = 0; i < 12; ++i) {
        many[4 * i] = static_cast<std::uint8_t>(i % 10);
        many[4 * i + 1] = 0x8a;
        many[4 * i + 2] = 0x01;
        many[4 * i + 3] = 0x40;
    }
    CHECK(parse_telephone_events(many, sizeof many, blocks) == kMaxPackedEvents);
    return CHECK_DONE();
}
