# SPDX-License-Identifier: Apache-2.0
"""A call's RTP through the filter, set up from its SDP offer and answer (RFC 3264).

Packets sent to an endpoint carry the payload types of that endpoint's SDP: the offerer's
packets (to the answerer) are read with the answer's map, and the other way round. The call
runs G.711 or Opus, as the answer's first audio codec says; an answer that lists both
families lets each sender switch between them with no new offer (RFC 3264 §5.1), and its
filters follow (G.711 beside Opus, see RtpStreamFilter; not with Opus decoded at 16 kHz,
where the family after the first is dropped while filtering, as `unscrubbed_codecs` says).
The stream is the first audio stream the answer accepted (port not 0).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Any, TypedDict

from pcifilter._core import ToneEvent
from pcifilter.sdp import AudioMedia, Codec, SessionDescription
from pcifilter.stream import RtpStreamFilter

DIRECTIONS = ("offerer", "answerer")  # who sent the packets


class _PayloadTypes(TypedDict, total=False):
    """A filter's payload types, as RtpStreamFilter takes them: each kind's, every number
    the SDP gives it (none: not negotiated)."""

    opus_pt: list[int]
    telephone_event_pt: list[int]
    telephone_event_8000_pt: list[int]
    pcmu_pt: list[int]
    pcma_pt: list[int]
    cn_pt: list[int]


def _payload_types_for(receiver: AudioMedia, opus: bool, g711: bool) -> _PayloadTypes:
    """The payload types of a filter for packets sent to `receiver` (read with its SDP's
    map), as RtpStreamFilter takes them: of Opus, of G.711, or of both."""

    def pt(kind: str, rate: int = 8000) -> list[int]:  # every number it has (or none)
        return receiver.payload_types_of(kind, rate)

    if opus:  # RFC 7587: Opus, and the telephone-events beside it, at 48 kHz (or 8 kHz)
        types: _PayloadTypes = {
            "opus_pt": pt("opus", 48000),
            "telephone_event_pt": pt("telephone-event", 48000),
            "telephone_event_8000_pt": pt("telephone-event", 8000),
        }
        if g711:  # both families: G.711 (and its comfort noise) beside Opus
            types["pcmu_pt"], types["pcma_pt"], types["cn_pt"] = pt("pcmu"), pt("pcma"), pt("cn")
        return types
    return {
        "telephone_event_pt": pt("telephone-event"),
        "pcmu_pt": pt("pcmu"),
        "pcma_pt": pt("pcma"),
        "cn_pt": pt("cn"),
    }


# The codecs a filter scrubs, at the clock rates their RTP payload formats fix (RFC 3551,
# RFC 7587: "opus/48000/2" whatever the audio's bandwidth).
_RATES = {"pcmu": 8000, "pcma": 8000, "opus": 48000}


def _scrubbed(codec: Codec | None, opus: bool, g711: bool) -> bool:
    """Whether a filter of the family chosen (Opus or G.711, or either when both are true)
    takes `codec`'s packets: the audio codec itself, RFC 4733 telephone-events at the clock
    rates its filter reads them at, and (G.711) RFC 3389 comfort noise."""
    if codec is None:
        return False
    kind, rate = codec.kind, codec.clock_rate
    if kind in _RATES:
        return _RATES[kind] == rate and (opus if kind == "opus" else g711)
    if kind == "telephone-event":
        return rate == 8000 or (opus and rate == 48000)
    return kind == "cn" and g711 and rate == 8000


_FAMILIES = {"g711": {"pcmu", "pcma"}, "opus": {"opus"}}


def keep_scrubbed_codecs(
    description: SessionDescription,
    families: Iterable[str] = ("g711", "opus"),
    one_family: bool = False,
) -> list[Codec]:
    """The hook for the SDP a node sends on a payment session's legs (5 and 6): take out of
    every m=audio line the codecs no filter scrubs (G.722, G.729, RED, Opus at another clock
    rate, ...), so that the call cannot settle on one whose audio would be dropped while
    filtering. Returns what was taken out (codec names, for a log line: no card data).

    Kept: PCMU/8000, PCMA/8000, opus/48000 (with its fmtp), telephone-event/8000 (and /48000
    beside Opus), CN/8000 beside G.711. `families` narrows that: ("g711",) keeps G.711 only
    (a 20 ms G.711 packet costs the filter 40-65 times less than an Opus one, `pcifilter
    bench`; the media servers on either side transcode), ("opus",) Opus only.
    `one_family`: each stream keeps only the family of its first codec kept (for an answer:
    a sender may send in any format the answer lists, with no new offer; RtpSession's
    filters follow a switch between the families, masking 40-130 ms on each side of it while
    filtering, but with Opus decoded at 16 kHz they run the family listed first and drop
    the other's packets while filtering). A stream (port not 0) left with no codec of
    those is a ValueError naming what it offered, and nothing is changed."""
    wanted = set(families)
    if not wanted or not wanted <= set(_FAMILIES):
        raise ValueError(f"families must be some of {sorted(_FAMILIES)}, not {sorted(wanted)}")
    allowed = set().union(*(_FAMILIES[f] for f in wanted))
    keep = {}  # checked for every stream before any is changed
    for i, media in enumerate(description.audio):
        if media.port == 0:  # a stream already rejected or disabled carries no media
            continue
        codecs = [c for c in map(media.codecs.get, media.payload_types) if c is not None]
        audio = {c.kind for c in codecs if _RATES.get(c.kind) == c.clock_rate} & allowed
        if not audio:
            names = ", ".join(f"{c.name}/{c.clock_rate}" for c in codecs)
            which = " or ".join("G.711" if f == "g711" else "Opus" for f in sorted(wanted))
            raise ValueError(
                f"m=audio line {i + 1} offers no {which} codec (offered: {names or 'none'})"
            )
        if one_family:  # the family of the first codec kept
            first = next(
                c.kind for c in codecs if c.kind in audio and _RATES[c.kind] == c.clock_rate
            )
            audio = {first} if first == "opus" else audio & _FAMILIES["g711"]
        keep[i] = partial(_scrubbed, opus="opus" in audio, g711=bool(audio & _FAMILIES["g711"]))
    return [c for i, k in keep.items() for c in description.audio[i].keep_payload_types(k)]


def _scrubbed_audio(answer: AudioMedia) -> list[str]:
    """The answer's audio codecs a filter scrubs ('pcmu', 'pcma' or 'opus'), in its order:
    the first says which family the call starts on. One at another clock rate ("opus/16000")
    is no such codec: its packets would go through a filter of the other family and be
    dropped whole."""
    found = [
        c.kind
        for c in map(answer.codecs.get, answer.payload_types)
        if c is not None and _RATES.get(c.kind) == c.clock_rate
    ]
    if found:
        return list(dict.fromkeys(found))
    names = ", ".join(sorted({f"{c.name}/{c.clock_rate}" for c in answer.codecs.values()}))
    raise ValueError(f"no G.711 or Opus codec negotiated (answered: {names or 'none'})")


class RtpSession:
    """Both directions of one call's audio stream (the first the answer accepted; `index`
    among the m=audio lines), each with its own filter."""

    def __init__(
        self,
        offer: str | bytes | SessionDescription,
        answer: str | bytes | SessionDescription,
        **options: Any,
    ) -> None:
        self._options = options
        self._payload_types: dict[str, _PayloadTypes] = {}
        self._filters: dict[str, RtpStreamFilter] = {}
        self._negotiate(offer, answer)

    def _negotiate(
        self, offer: str | bytes | SessionDescription, answer: str | bytes | SessionDescription
    ) -> dict[str, list[bytes]]:
        """Checks an offer and answer and takes them: a filter for each direction whose
        payload types changed (or that had none), the one it replaces flushed and its
        packets returned. Raises ValueError, changing nothing, when they cannot be taken."""
        offer = offer if isinstance(offer, SessionDescription) else SessionDescription.parse(offer)
        answer = (
            answer if isinstance(answer, SessionDescription) else SessionDescription.parse(answer)
        )
        # The first audio stream the answer accepted (a port of 0 rejects one, RFC 3264 §6):
        # a "best-effort SRTP" offer lists the stream twice and the answer takes one.
        accepted = [i for i, m in enumerate(answer.audio) if m.port != 0]
        if not accepted:
            raise ValueError("the answer accepted no audio stream (every m=audio port is 0)")
        index = accepted[0]
        if index >= len(offer.audio):
            raise ValueError("the answer has more m=audio lines than the offer")
        offered, answered = offer.audio[index], answer.audio[index]
        chosen = _scrubbed_audio(answered)
        if offered.payload_type_of(chosen[0], _RATES[chosen[0]]) is None:
            # the answerer's packets are read with the offer's payload types (RFC 3264 §6.1)
            raise ValueError(f"the answer chose {chosen[0].upper()}, which the offer did not list")
        # A codec listed after it that the offer did not list is one neither side sends.
        chosen = [k for k in chosen if offered.payload_type_of(k, _RATES[k]) is not None]
        # Both families when the answer lists both, but for Opus decoded at 16 kHz (G.711
        # runs at 8 kHz on the filter's one scrubber): then the first family only.
        families = {"opus" if k == "opus" else "g711" for k in chosen}
        both = len(families) == 2 and self._options.get("decode_rate", 8000) == 8000
        opus = chosen[0] == "opus" or both
        g711 = chosen[0] != "opus" or both
        receivers = {"offerer": answered, "answerer": offered}  # who reads each sender's
        filtering = self.filtering if self._filters else True
        flushed: dict[str, list[bytes]] = {sender: [] for sender in DIRECTIONS}
        for sender, receiver in receivers.items():
            types = _payload_types_for(receiver, opus, g711)
            if self._payload_types.get(sender) == types:
                continue  # the same types: the filter goes on as it was
            if sender in self._filters:
                flushed[sender] = self._filters[sender].flush()
            self._filters[sender] = RtpStreamFilter(**types, **self._options)
            self._filters[sender].filtering = filtering
            self._payload_types[sender] = types
        self.offer, self.answer, self.index = offer, answer, index
        # What each sender may send (the receiver's SDP lists it) that its filter drops
        # while filtering: a log line's worth, no card data.
        self.unscrubbed_codecs: dict[str, list[Codec]] = {
            sender: [
                c
                for c in map(receiver.codecs.get, receiver.payload_types)
                if c is not None and not _scrubbed(c, opus, g711)
            ]
            for sender, receiver in receivers.items()
        }
        return flushed

    def renegotiate(
        self, offer: str | bytes | SessionDescription, answer: str | bytes | SessionDescription
    ) -> dict[str, list[bytes]]:
        """A new offer and answer in the same call (a re-INVITE: hold and resume, a
        transfer, a change of codec). A direction whose payload types are the same keeps
        its filter: the audio its look-ahead holds, a keypress under way, filtering on or
        off. One whose types changed (another payload type number, G.711 to Opus) has its
        filter flushed and replaced by one for the new types, filtering as before: returns
        the flushed packets of each sender, to send before any that come after. An offer and
        answer the filters cannot take are a ValueError that changes nothing."""
        return self._negotiate(offer, answer)

    def _filter(self, sender: str) -> RtpStreamFilter:
        if sender not in self._filters:
            raise ValueError(f"sender must be one of {DIRECTIONS}, not {sender!r}")
        return self._filters[sender]

    def process(self, packets: bytes | Iterable[bytes], sender: str) -> list[bytes]:
        """Packets from `sender` ('offerer' or 'answerer') in; the ready packets out."""
        return self._filter(sender).process(packets)

    def advance(self, timestamp: int, sender: str) -> list[bytes]:
        """The `sender`'s media clock reached RTP `timestamp` (see RtpStreamFilter.advance)."""
        return self._filter(sender).advance(timestamp)

    def clock_rate(self, sender: str) -> int:
        """The RTP clock of the `sender`'s stream under way, which `advance` takes (see
        RtpStreamFilter.clock_rate: an answer listing G.711 and Opus lets it switch)."""
        return self._filter(sender).clock_rate

    def flush(self, sender: str) -> list[bytes]:
        """End of the `sender`'s stream."""
        return self._filter(sender).flush()

    @property
    def filtering(self) -> bool:
        """Whether a payment session is on (both directions)."""
        return all(f.filtering for f in self._filters.values())

    @filtering.setter
    def filtering(self, on: bool) -> None:
        for f in self._filters.values():
            f.filtering = on

    def stats(self, sender: str) -> dict[str, int]:
        """The packet counters of the `sender`'s filter (RtpStreamFilter.stats)."""
        return self._filter(sender).stats

    def take_events(self, sender: str) -> list[ToneEvent]:
        """Keypresses found in `sender`'s stream since the last call."""
        return self._filter(sender).take_events()

    def __repr__(self) -> str:
        return f"RtpSession(filtering={self.filtering})"
