// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>

namespace pcifilter {

enum class EventKind : std::uint8_t { Dtmf = 0, Tone = 1 };

// A detected keypress or tone. Sample indices count from the start of the stream at the
// detector's input rate; `end` is exclusive. `digit` is card data: it must only leave the
// process through an explicit API.
struct ToneEvent {
    EventKind kind = EventKind::Dtmf;
    char digit = 0;          // '0'-'9', '*', '#', 'A'-'D' for DTMF; 0 for tones
    int tone_index = -1;     // index into the ToneDetector's tone list for tones
    std::int64_t start = 0;  // first sample of the tone
    std::int64_t end = 0;    // one past its last sample
    float level_dbm0 = 0.0f;  // mean level per tone (dBm0)
    float twist_db = 0.0f;    // high-group minus low-group level (DTMF only)
    bool rfc4733 = false;     // from RTP telephone-events rather than the audio
};

// A keypress (or tone) a stream filter reports: where it is on the timeline (samples, as
// ToneEvent) and on the RTP stream, on the clock of StreamFilter::masked_spans() and
// mask(): the SSRC of the audio it was in, the RTP timestamp of its first sample and its
// length in clock units. A keypress from telephone-events has the event's own timestamp
// (events under an SSRC of their own: placed on the audio's clock base) and its duration
// when reported.
struct StreamEvent : ToneEvent {
    std::uint32_t ssrc = 0;
    std::uint32_t timestamp = 0;
    std::uint32_t duration = 0;
};

// A span of output replaced by the masking signal (input sample indices, end exclusive).
struct MaskSpan {
    std::int64_t start = 0;
    std::int64_t end = 0;
};

}  // namespace pcifilter
