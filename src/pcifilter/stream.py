# SPDX-License-Identifier: Apache-2.0
"""RTP stream filtering: one `RtpStreamFilter` per direction of a call.

All packet work is one C++ call per batch (`process` takes a list of packets), with the GIL
released; see `csrc/pcifilter/stream_filter.hpp` for what happens to each packet.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any

from pcifilter import _core
from pcifilter._core import ToneEvent
from pcifilter.api import make_config

TELEPHONE_EVENT_ACTIONS = ("drop", "replace")

# A payload type argument: one number, or every number an SDP gives the kind (the first
# also the one replacement audio takes), -1 or an empty sequence for none.
PayloadTypes = int | Iterable[int]


def _first_and_more(kind: str, given: PayloadTypes) -> tuple[int, list[tuple[int, str]]]:
    """A payload type argument as the C++ filter takes it: the first number, and the rest
    as (number, kind) pairs."""
    if not isinstance(given, Iterable):  # one number (an int, a numpy integer)
        return operator.index(given), []
    numbers = [operator.index(pt) for pt in given]
    return (numbers[0] if numbers else -1), [(pt, kind) for pt in numbers[1:]]


class RtpStreamFilter:
    """G.711 or Opus RTP in, scrubbed RTP out (delayed by the look-ahead); RFC 4733
    telephone-events are captured and, while `filtering` is on, never forwarded and masked in
    the audio too.

    Opus (`opus_pt` set, RFC 7587): the stream is decoded at `decode_rate` (8000 or 16000 Hz)
    with packet-loss concealment and in-band FEC; a packet that carries any masked audio is
    replaced by one of the same duration, encoded (at `opus_bitrate`) from the masking signal
    over its whole duration (the codec carries a little of a keypress ahead of its onset);
    every other packet passes bit-exact. Masks hang over 10 ms longer than `hangover_ms` (the
    codec carries a keypress past its end). Its RTP clock, and its telephone-events', is
    48 kHz. Some endpoints declare the events beside Opus at 8000 Hz all the same (SDP
    `telephone-event/8000`; WebRTC offers both): `telephone_event_8000_pt` takes them, their
    timestamps on the stream's clock and their durations in 8 kHz units (a sender that counts
    them at 48 kHz all the same gets its keypresses masked six times too long, never too
    short).

    Both families: `pcmu_pt` and/or `pcma_pt` given beside `opus_pt` (decoded at 8000 Hz)
    make a filter for an answer that lists G.711 and Opus, whose sender may switch between
    them at any packet with no new offer (RFC 3264 §5.1). Each timeline runs the family of
    its first audio packet; a switch starts a new one on the new codec's clock, the cut
    masked while filtering as a restart is: 40 ms on each side, 120 ms after it when it
    starts on sound, as a stream's start (counted in `stats["codec_switches"]`); masks hang
    over Opus's 10 ms longer in G.711 too. Without them (None, the default) a G.711 filter
    takes the static types 0 and 8 and an Opus one no G.711 at all.

    Each payload type argument takes one number or a sequence of them: an SDP may list a
    codec under two numbers (Opus with two fmtp lines, two telephone-event types), and its
    sender may use either.

    Payload types the filter does not know (an unnegotiated codec, RED redundancy, ...) could
    carry a keypress: while filtering is on they are dropped (counted, later sequence numbers
    renumbered) unless `pass_unknown_payloads`.

    `telephone_events="drop"` (default) takes the event packets out and renumbers later
    sequence numbers to stay contiguous; `"replace"` sends audio packets of the masking
    signal in their place (for receivers that expect continuous audio; the repeated end
    packets, which cover no new time, are still dropped).

    `reorder_window_ms` (20 ms of audio by default): how much audio held beyond a gap makes
    the gap taken for lost; a packet that fills it before then is put in its place, one
    that comes later is dropped (counted as late). Larger values take more reordering
    (the output waits as long when a packet is missing). `max_gap_ms` (2 s at 8 kHz, 1 s
    at a 16 kHz decode rate): a longer jump in the timestamps restarts the stream instead
    of filling the gap; at least 20 ms and the reorder window, at most 480,000 samples at
    the decode rate (60 s at 8 kHz, 30 s at 16 kHz)."""

    def __init__(
        self,
        telephone_event_pt: PayloadTypes = 101,
        pcmu_pt: PayloadTypes | None = None,
        pcma_pt: PayloadTypes | None = None,
        cn_pt: PayloadTypes = 13,
        telephone_events: str = "drop",
        opus_pt: PayloadTypes = -1,
        opus_bitrate: int = 16000,
        decode_rate: int = 8000,
        pass_unknown_payloads: bool = False,
        telephone_event_8000_pt: PayloadTypes = -1,
        reorder_window_ms: float | None = None,
        max_gap_ms: float | None = None,
        **options: Any,
    ) -> None:
        if telephone_events not in TELEPHONE_EVENT_ACTIONS:
            raise ValueError(
                f"telephone_events must be one of {TELEPHONE_EVENT_ACTIONS}, "
                f"not {telephone_events!r}"
            )
        opus, more_opus = _first_and_more("opus", opus_pt)
        if opus < 0 and decode_rate != 8000:
            raise ValueError("decode_rate is for Opus streams; G.711 runs at 8000 Hz")
        both = opus >= 0 and (pcmu_pt is not None or pcma_pt is not None)
        # RFC 3551's static types for G.711 alone; beside Opus a type not given is none.
        static = opus < 0
        pcmu, more_pcmu = _first_and_more(
            "pcmu", (0 if static else -1) if pcmu_pt is None else pcmu_pt
        )
        pcma, more_pcma = _first_and_more(
            "pcma", (8 if static else -1) if pcma_pt is None else pcma_pt
        )
        te, more_te = _first_and_more("telephone_event", telephone_event_pt)
        te_8000, more_te_8000 = _first_and_more("telephone_event_8000", telephone_event_8000_pt)
        cn, more_cn = _first_and_more("cn", cn_pt)
        self._f = _core.StreamFilter(
            make_config(decode_rate, **options),
            te,
            pcmu,
            pcma,
            cn,
            telephone_events,
            opus,
            opus_bitrate,
            pass_unknown_payloads,
            te_8000,
            reorder_window_ms,  # at the decode rate, checked in C++ (samples_of_ms)
            max_gap_ms,
            both,  # G.711 beside Opus: checked in C++ (decode_rate 8000)
            more_opus + more_pcmu + more_pcma + more_te + more_te_8000 + more_cn,
        )

    @property
    def core(self) -> _core.StreamFilter:
        """The C++ filter underneath, for C++ callers that run packets through it without
        Python per packet (`_core.Capture.scrub`, as `pcifilter.pcap` does)."""
        return self._f

    @property
    def filtering(self) -> bool:
        """Whether keypresses are removed (a payment session is on)."""
        return bool(self._f.filtering)

    @filtering.setter
    def filtering(self, on: bool) -> None:
        self._f.filtering = bool(on)

    @property
    def delay(self) -> int:
        """Look-ahead in samples: packets come out this much later."""
        return int(self._f.delay)

    @property
    def clock_rate(self) -> int:
        """The RTP clock (Hz) of the stream under way: 8000 for G.711, 48000 for Opus; in a
        filter of both families, of the family of the last audio packet (before the first,
        Opus). The clock `advance`, `mask` and events' `rtp_timestamp` are on: a relay that
        keeps the media clock for `advance` reads it after each packet it pushes."""
        return int(self._f.clock_rate)

    @property
    def stats(self) -> dict[str, int]:
        """Packet counters, malformed packets by reason."""
        return dict(self._f.stats)

    def process(self, packets: bytes | Iterable[bytes]) -> list[bytes]:
        """One packet or a batch in; the packets that became ready, in order."""
        return self._f.process(packets)  # one packet or many: taken apart in C++

    def flush(self) -> list[bytes]:
        """End of stream: every packet still held."""
        return list(self._f.flush())

    def advance(self, timestamp: int) -> list[bytes]:
        """The stream's media clock has reached RTP `timestamp`: everything that plays before
        it has been sent; the packets that became ready. A live relay calls this on a timer
        (the media clock less its jitter allowance) so that the audio the look-ahead holds
        comes out when the sender pauses (DTX, comfort noise, hold) instead of when it sends
        again. Audio still missing before `timestamp` is taken for lost, silence is fed after
        the last audio (no further than the look-ahead needs), and a packet that comes later
        for that time is late (dropped, counted in `stats["late"]`). A filter of both
        families takes `timestamp` on the clock of the family its last audio packet had,
        `clock_rate` (on the other one, a G.711 timeline would be advanced six times too far:
        its next packets went back in time, a timestamp reset whose cut is masked)."""
        if not 0 <= timestamp <= 0xFFFFFFFF:
            raise ValueError(f"timestamp must be within [0, 2**32), not {timestamp}")
        return list(self._f.advance(timestamp))

    def take_events(self) -> list[ToneEvent]:
        """Keypresses (name 'dtmf' in-band, 'rfc4733' from telephone-events), each once."""
        return list(self._f.take_events())

    def mask(self, timestamp: int, duration: int) -> bool:
        """Masks the audio from RTP `timestamp` for `duration` RTP clock units, whether or
        not a keypress is found there: a keypress known from elsewhere (SIP INFO, the other
        leg's telephone-events), or a prompt for card data muted whole. Exactly that span
        (Opus: rounded outward to whole samples at `decode_rate`), as far as it has not gone
        out yet (the look-ahead: up to `delay` samples before the newest packet, or any time
        later); only while `filtering` is on and once the stream's first packet has come.
        Returns whether all of it was still ahead of the output."""
        if not (0 <= timestamp < 1 << 32 and 0 <= duration < 1 << 32):
            raise ValueError("timestamp and duration are 32-bit RTP clock values")
        return bool(self._f.mask(timestamp, duration))

    def take_masked(self) -> list[tuple[int, int]]:
        """Where the output was masked since the last call, for spans that have gone out
        whole: (RTP timestamp, duration in RTP clock units), in order; in an Opus stream the
        packets re-encoded as the masking signal, whole. Keypresses found
        in-band, telephone-events' audio, `mask` calls and false alarms alike; no digits."""
        return list(self._f.take_masked())

    def __repr__(self) -> str:
        return f"RtpStreamFilter(filtering={self.filtering}, delay={self.delay})"
