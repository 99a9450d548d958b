# SPDX-License-Identifier: Apache-2.0
"""A filter of both families (G.711 types beside Opus): an SDP answer that lists both lets
its sender switch between them at any packet with no new offer (RFC 3264 §5.1). The filter
follows each switch on a new timeline, the cut guarded; judged on what a receiver hears,
every packet decoded with the codec its payload type names."""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leak import window_db
from opuslib import Decoder, Encoder, upsample6

import pcifilter as pf
from pcifilter import _core, spandsp
from pcifilter import signals as sg
from pcifilter.rtp import RtpPacket

CARD = "4111111111111111"
OPUS, TE48, TE8 = 111, 101, 126
LAWS = {"pcmu": (0, pf.ulaw_encode, pf.ulaw_decode), "pcma": (8, pf.alaw_encode, pf.alaw_decode)}
SSRC = 0x5151


def _keyed(digits: str, seed: int, level: float = -10.0) -> tuple[npt.NDArray[np.int16], list]:
    rng = np.random.default_rng(seed)
    x, spans = sg.keyed_sequence(digits, 80, 90, level, lead_ms=300)
    x = np.concatenate([x, np.zeros(4000)])
    return sg.to_int16(x + sg.white_noise(len(x), -50, rng)), spans


def _call(
    pcm: npt.NDArray[np.int16], switches: list[int], mode: str = "celt", law: str = "pcmu"
) -> list[bytes]:
    """8 kHz audio as 20 ms packets of one SSRC, G.711 first, the family switching at each
    packet index in `switches`. Each family's timestamps run on its own clock from a base of
    its own (a sender's codecs keep their own timestamps); each Opus stretch from a fresh
    encoder, fed the audio upsampled to 48 kHz."""
    pt, encode, _ = LAWS[law]
    wide = upsample6(pcm)
    out: list[bytes] = []
    enc = None
    for i in range(len(pcm) // 160):
        opus = sum(s <= i for s in switches) % 2 == 1
        if not opus:
            enc = None
            payload, ts, kind = bytes(encode(pcm[i * 160 : (i + 1) * 160])), 5000 + i * 160, pt
        else:
            enc = enc or Encoder(mode, 24000)
            payload, ts, kind = enc.encode(wide[i * 960 : (i + 1) * 960]), 7777 + i * 960, OPUS
        out.append(
            RtpPacket(kind, i == 0, 1000 + i, ts & 0xFFFFFFFF, SSRC, payload=payload).serialize()
        )
    return out


def _hear(packets: list[bytes]) -> npt.NDArray[np.int16]:
    """What a receiver plays: each packet's 20 ms in order, G.711 decoded as its payload type
    says, each stretch of Opus by a decoder started afresh (at 8 kHz)."""
    decoders = {0: pf.ulaw_decode, 8: pf.alaw_decode}
    heard, dec = [], None
    for raw in packets:
        p = RtpPacket.parse(raw)
        if p.payload_type == OPUS:
            dec = dec or Decoder(8000)
            heard.append(dec.decode(p.payload, 160))
        else:
            dec = None
            heard.append(decoders[p.payload_type](np.frombuffer(p.payload, np.uint8)))
    return np.concatenate(heard)


def _filter(**options: object) -> pf.RtpStreamFilter:
    return pf.RtpStreamFilter(opus_pt=OPUS, pcmu_pt=0, pcma_pt=8, telephone_event_pt=-1, **options)


def _worst_db(y: npt.NDArray[np.int16], spans: list, digits: str) -> float:
    x = y.astype(np.float64)
    return max(
        window_db(x, w, d, -10.0)
        for (s, e), d in zip(spans, digits, strict=True)
        for w in range(s, e + 80, 80)
    )


@pytest.mark.parametrize("law", ["pcmu", "pcma"])
@pytest.mark.parametrize("mode", ["silk", "hybrid", "celt"])
def test_a_switch_anywhere_leaves_nothing_of_any_keypress(mode: str, law: str) -> None:
    """Switches at random packets, in keypresses too (a keypress cut by one has parts too
    short for the detector on either side: the cut's guards mask them): nothing of any
    keypress is heard, no packet is lost, each keeps its family, sequence numbers stay
    contiguous and timestamps as sent."""
    pcm, spans = _keyed(CARD, seed=3)
    rng = np.random.default_rng(len(mode) + len(law))
    for _ in range(3):
        switches = sorted(rng.choice(np.arange(10, len(pcm) // 160 - 10), 5, replace=False))
        raw = _call(pcm, list(switches), mode, law)
        assert spandsp.spandsp_digits(_hear(raw), lenient=True)[1] >= 14  # the input has them
        f = _filter()
        out = f.process(raw) + f.flush()
        assert f.stats["codec_switches"] == 5 and f.stats["late"] == 0
        assert len(out) == len(raw)
        sent, got = ([RtpPacket.parse(p) for p in ps] for ps in (raw, out))
        assert [(p.payload_type, p.timestamp, p.ssrc) for p in got] == [
            (p.payload_type, p.timestamp, p.ssrc) for p in sent
        ]
        assert all(
            (b.sequence_number - a.sequence_number) & 0xFFFF == 1
            for a, b in itertools.pairwise(got)
        )
        y = _hear(out)
        assert spandsp.spandsp_digits(y, lenient=True) == ("", 0)
        assert _worst_db(y, spans, CARD) <= -40.0, switches


@pytest.mark.parametrize("law", ["pcmu", "pcma"])
@pytest.mark.parametrize("mode", ["silk", "hybrid", "celt"])
def test_a_keypress_a_switch_cuts_is_reported_once(mode: str, law: str) -> None:
    """A switch in a keypress, or in the 40 ms pause between two of one digit (a cut: each
    part on a timeline of its own): a keypress is reported once (by its part before the
    switch when that one is found: before, by each part found), two keypresses twice."""
    rng = np.random.default_rng(len(mode))
    for gap_ms, digits in ((None, "5"), (40, "55")):
        x, spans = sg.keyed_sequence(digits, 100, gap_ms or 100, -20, lead_ms=307)
        x = np.concatenate([x, np.zeros(4000)])
        pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
        for at in range(spans[0][0] // 160 + 1, spans[-1][1] // 160 + 1):
            for switches in ([at], [3, at]):  # from G.711 to Opus, from Opus to G.711
                f = _filter()
                f.process(_call(pcm, switches, mode, law))
                f.flush()
                assert pf.digits_of(f.take_events()) == digits, (digits, at, switches)


@pytest.mark.parametrize("mode", ["silk", "celt"])
def test_keypresses_between_switches_are_each_found_once(mode: str) -> None:
    """Switches in the pauses between keypresses: every keypress found once, in order, on
    whichever family carried it."""
    pcm, spans = _keyed("1234567890", seed=4)
    # packets that start and end in a pause (170 ms from one keypress to the next)
    switches = [(s + 700) // 160 for s, _ in spans[1::2]]
    raw = _call(pcm, switches, mode)
    f = _filter()
    out = f.process(raw) + f.flush()
    assert f.stats["codec_switches"] == len(switches)
    assert pf.digits_of(f.take_events()) == "1234567890"
    assert spandsp.spandsp_digits(_hear(out), lenient=True) == ("", 0)


def test_packets_away_from_keypresses_and_switches_pass_bit_exact() -> None:
    """Both families pass as they came where nothing is masked; with filtering off, every
    packet does (a switch costs no packet, no re-encoding)."""
    rng = np.random.default_rng(9)
    pcm = sg.to_int16(sg.white_noise(8000 * 3, -30, rng))
    switches = [30, 70, 110]
    raw = _call(pcm, switches, "silk")
    f = _filter()
    f.filtering = False
    assert f.process(raw) + f.flush() == raw
    f = _filter()
    out = f.process(raw) + f.flush()
    away = [
        i
        for i in range(len(raw))
        if all(abs(i - s) > 10 for s in switches) and 10 < i < len(raw) - 10
    ]
    assert len(away) > 60
    assert all(out[i] == raw[i] for i in away)


def test_telephone_events_beside_each_family() -> None:
    """RFC 4733 beside G.711 (telephone-event/8000) and beside Opus (telephone-event/48000):
    each keypress reported once, with its duration on the clock of the family it came with;
    the event packets never forwarded, sequence numbers renumbered."""
    rng = np.random.default_rng(6)
    pcm = sg.to_int16(sg.white_noise(8000 * 3, -45, rng))
    raw = [RtpPacket.parse(p) for p in _call(pcm, [75], "silk")]  # Opus from 1.5 s
    # one keypress in each family: 100 ms from packet 25 (G.711) and from packet 100 (Opus)
    out_of_order: list[tuple[float, RtpPacket]] = [(i, p) for i, p in enumerate(raw)]
    for first, pt, unit in ((25, TE8, 160), (100, TE48, 960)):
        start = raw[first].timestamp
        for k in range(5):
            end = k == 4
            ev = bytes([5, 0x80 * end | 10]) + ((k + 1) * unit).to_bytes(2, "big")
            for copy in range(3 if end else 1):
                packet = RtpPacket(pt, k == 0, 0, start, SSRC, payload=ev)
                out_of_order.append((first + k + 0.5 + copy / 10, packet))
    out_of_order.sort(key=lambda x: x[0])
    stream = [
        RtpPacket(
            p.payload_type, p.marker, (1000 + i) & 0xFFFF, p.timestamp, p.ssrc, payload=p.payload
        ).serialize()
        for i, (_, p) in enumerate(out_of_order)
    ]
    f = pf.RtpStreamFilter(
        opus_pt=OPUS, pcmu_pt=0, telephone_event_pt=TE48, telephone_event_8000_pt=TE8
    )
    out = f.process(stream) + f.flush()
    assert len(out) == len(raw) and f.stats["telephone_events_dropped"] == len(stream) - len(raw)
    assert {RtpPacket.parse(p).payload_type for p in out} == {0, OPUS}
    seqs = [RtpPacket.parse(p).sequence_number for p in out]
    assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(seqs))
    events = f.take_events()
    assert pf.digits_of(events) == "55" and {e.name for e in events} == {"rfc4733"}
    assert [e.end_ms - e.start_ms for e in events] == [20.0, 20.0]  # the first packet's 20 ms


def test_a_packet_of_the_family_left_behind_is_late() -> None:
    """Reordered across a switch: the last G.711 packet comes after the first Opus one. It
    has no place on the new timeline: dropped as late (never forwarded), no second switch."""
    rng = np.random.default_rng(2)
    pcm = sg.to_int16(sg.white_noise(8000, -30, rng))
    raw = _call(pcm, [25], "silk")
    raw[24], raw[25] = raw[25], raw[24]
    f = _filter()
    out = f.process(raw) + f.flush()
    assert f.stats["codec_switches"] == 1 and f.stats["late"] == 1
    assert len(out) == len(raw) - 1 and raw[25] not in out


def test_the_clock_follows_the_family_for_a_relay_s_advance() -> None:
    """`clock_rate` is the RTP clock of the family of the last audio packet (what advance()
    takes): a relay that keeps the media clock reads it after each packet, and advancing on
    it to the end of the packet just pushed changes nothing in either family (advanced on
    the other family's clock, the G.711 packets after it went back in time: a timestamp
    reset, a new timeline whose cut is masked)."""
    rng = np.random.default_rng(3)
    pcm = sg.to_int16(sg.white_noise(16000, -30, rng))
    raw = _call(pcm, [30, 60], "celt")
    assert _filter().clock_rate == 48000  # before any packet: Opus's
    assert pf.RtpStreamFilter().clock_rate == 8000
    for wrong in (False, True):
        f = _filter()
        out, rates = [], []
        for i, p in enumerate(raw):
            out += f.process(p)
            rates.append(f.clock_rate)
            if i in (20, 45, 80):  # the relay's timer: the media clock at the packet's end
                rate = (56000 - f.clock_rate) if wrong else f.clock_rate
                out += f.advance((RtpPacket.parse(p).timestamp + rate // 50) & 0xFFFFFFFF)
        out += f.flush()
        assert rates == [48000 if 30 <= i < 60 else 8000 for i in range(len(raw))]
        assert len(out) == len(raw) and f.stats["codec_switches"] == 2
        assert f.stats["timestamp_resets"] == (2 if wrong else 0)


def test_both_families_need_opus_decoded_at_8_khz() -> None:
    with pytest.raises(ValueError, match=r"G\.711 beside Opus"):
        pf.RtpStreamFilter(opus_pt=OPUS, pcmu_pt=0, decode_rate=16000)
    # Opus alone (no G.711 type given) maps none: a PCMU packet is of an unknown type.
    f = pf.RtpStreamFilter(opus_pt=OPUS, decode_rate=16000)
    pcmu = RtpPacket(0, False, 1, 160, SSRC, payload=bytes([0xFF]) * 160).serialize()
    assert f.process([pcmu]) + f.flush() == [] and f.stats["unknown_dropped"] == 1


def test_each_switch_is_guarded_as_a_cut() -> None:
    """While filtering, the 40 ms before a switch and after it are masked whatever is there
    (a keypress under speech cut by the switch may be found on neither side, its parts too
    short), and only while filtering: quiet noise, no keypress, nothing else masked."""
    rng = np.random.default_rng(8)
    pcm = sg.to_int16(sg.white_noise(8000 * 3, -45, rng))
    switches = [30, 70, 110]
    raw = _call(pcm, switches, "silk")
    f = _filter()
    f.process(raw)
    f.flush()
    masked = f.take_masked()
    for k, to_opus in zip(switches, (True, False, True), strict=True):
        old, new = (RtpPacket.parse(raw[i]).timestamp for i in (k - 1, k))
        old_end, old_unit = (old + 160, 8) if to_opus else (old + 960, 48)
        new_unit = 48 if to_opus else 8
        assert any(t <= old_end - 40 * old_unit and t + d >= old_end for t, d in masked), k
        assert any(t <= new and t + d >= new + 40 * new_unit for t, d in masked), k
    assert len(masked) <= 2 * len(switches) + 1  # (and the stream's start)
    off = _filter()
    off.filtering = False
    off.process(raw)
    off.flush()
    assert off.take_masked() == []


# Keypresses under speech that a switch cut and let out with the cut's guards off (a random
# sweep of 200, 23 let out; none with them, and 3 of the same 200 with no switch at all:
# the core's quiet-keypress gap): digit, ms, dBm0 a tone, where in the speech corpus, the
# switch (samples into the keypress), the Opus mode, and whether the call starts on Opus.
_CUT_UNDER_SPEECH = [
    ("*", 61, -19.0, 1978029, 480, "silk", False),
    ("5", 47, -13.0, 3887044, 320, "hybrid", True),
    ("9", 63, -6.5, 1208155, 480, "silk", True),
    ("0", 71, -16.1, 2851960, 480, "celt", True),
    ("9", 92, -20.6, 1451718, 640, "silk", True),
    ("7", 64, -23.9, 4605043, 480, "hybrid", False),
    ("4", 41, -18.6, 1237692, 320, "silk", False),
]


@pytest.mark.parametrize(
    ("digit", "duration_ms", "level", "at", "cut", "mode", "opus_first"), _CUT_UNDER_SPEECH
)
def test_a_switch_in_a_keypress_under_speech_leaves_nothing_of_it(
    digit: str, duration_ms: int, level: float, at: int, cut: int, mode: str, opus_first: bool
) -> None:
    """A keypress under speech (-20 dBm0) cut by a switch: each part may be too short for
    the detector, and the speech hides its tones from the edge guards' test; the cut's
    guards (40 ms before, 120 ms after on sound) leave nothing of it
    (bench/RESULTS.md, "Twenty-sixth session")."""
    from leak import _corpus, worst_window_db

    x, spans = sg.keyed_sequence(digit, duration_ms, 100, level, lead_ms=600)
    x = np.concatenate([x, np.zeros(3200)])
    speech, active = _corpus("speech")
    pcm = sg.to_int16(x + speech[at : at + len(x)] * sg.dbm0_to_amplitude(-20.0) / active)
    s, e = spans[0]
    assert (s + cut) % 160 == 0
    switch = (s + cut) // 160
    f = _filter()
    raw = _call(pcm, [0, switch] if opus_first else [switch], mode)
    y = _hear(f.process(raw) + f.flush())
    assert f.stats["codec_switches"] == 1  # (the first packet sets the family: no switch)
    assert (
        worst_window_db(np.concatenate([y, np.zeros(160, np.int16)]), s, e + 80, digit, level)
        <= -40.0
    )


_KEYED = _keyed("4179", seed=12)[0]


@settings(max_examples=40, deadline=None)
@given(
    switches=st.lists(st.integers(1, 72), unique=True, max_size=8),
    toggles=st.lists(st.integers(0, 73), unique=True, max_size=3),
    chunks=st.lists(st.integers(1, 25), min_size=1, max_size=12),
    mode=st.sampled_from(["silk", "celt"]),
)
def test_any_switches_and_toggles_lose_no_packet_however_the_packets_are_batched(
    switches: list[int], toggles: list[int], chunks: list[int], mode: str
) -> None:
    """Switches anywhere, filtering switched off and on anywhere: no packet lost, each in its
    own codec, sequence numbers contiguous, a switch counted for each change of family, the
    same packets out whether given one at a time, in batches or all at once; with filtering
    on throughout, no digit heard."""
    raw = _call(_KEYED, sorted(switches), mode)
    assert len(raw) == 74

    def run(cuts: list[int]) -> tuple[list[bytes], int]:
        f = _filter()
        out: list[bytes] = []
        at = 0
        for end in sorted({*cuts, *toggles, len(raw)}):
            out += f.process(raw[at:end])
            if end in toggles:
                f.filtering = not f.filtering
            at = end
        return out + f.flush(), f.stats["codec_switches"]

    whole, switched = run([])
    batched, _ = run(list(itertools.accumulate(chunks)))
    assert batched == whole
    assert len(whole) == len(raw)
    families = [RtpPacket.parse(p).payload_type == OPUS for p in raw]
    assert switched == sum(a != b for a, b in itertools.pairwise(families))
    sent, got = ([RtpPacket.parse(p) for p in ps] for ps in (raw, whole))
    assert [(p.payload_type, p.timestamp) for p in got] == [
        (p.payload_type, p.timestamp) for p in sent
    ]
    assert all(
        (b.sequence_number - a.sequence_number) & 0xFFFF == 1 for a, b in itertools.pairwise(got)
    )
    if not toggles:
        assert spandsp.spandsp_digits(_hear(whole), lenient=True) == ("", 0)


def under_two_numbers(packets: list[bytes], second: dict[int, int] | None = None) -> list[bytes]:
    """Every other packet under its codec's second number (PCMU 96, Opus 109 by default)."""
    second = second or {0: 96, OPUS: 109}
    out = []
    for i, p in enumerate(map(RtpPacket.parse, packets)):
        pt = second[p.payload_type] if i % 2 else p.payload_type
        out.append(
            RtpPacket(pt, p.marker, p.sequence_number, p.timestamp, p.ssrc, payload=p.payload)
        )
    return [p.serialize() for p in out]


def test_a_codec_listed_under_two_numbers_is_taken_under_both() -> None:
    """An SDP may list a codec under two payload types (Opus with two fmtp lines, PCMU
    static and dynamic, two telephone-event types) and the sender may use either: each
    argument takes every number. Given one, the other's packets were of an unknown type,
    dropped while filtering, and `unscrubbed_codecs` did not name them."""
    pcm, spans = _keyed("4179", seed=13)
    stream = under_two_numbers(_call(pcm, [20, 45], "celt"))
    raw = [RtpPacket.parse(p) for p in stream]
    one = pf.RtpStreamFilter(opus_pt=OPUS, pcmu_pt=0, telephone_event_pt=-1)
    assert len(one.process(stream) + one.flush()) < len(stream) // 2 + 2
    f = pf.RtpStreamFilter(opus_pt=[OPUS, 109], pcmu_pt=(0, 96), telephone_event_pt=[])
    out = f.process(stream) + f.flush()
    assert len(out) == len(stream) and f.stats["unknown_dropped"] == 0
    assert [RtpPacket.parse(p).payload_type for p in out] == [p.payload_type for p in raw]
    assert pf.digits_of(f.take_events()) == "4179"
    heard = [
        RtpPacket(
            0 if p.payload_type == 96 else OPUS if p.payload_type == 109 else p.payload_type,
            False,
            p.sequence_number,
            p.timestamp,
            p.ssrc,
            payload=p.payload,
        ).serialize()
        for p in map(RtpPacket.parse, out)
    ]
    assert spandsp.spandsp_digits(_hear(heard), lenient=True) == ("", 0)
    assert _worst_db(_hear(heard), spans, "4179") <= -40.0
    with pytest.raises(ValueError, match="given twice"):
        pf.RtpStreamFilter(opus_pt=[OPUS, 101])  # 101: the default telephone-event type
    with pytest.raises(ValueError, match="telephone_event_8000_pt is for Opus"):
        pf.RtpStreamFilter(telephone_event_8000_pt=[96, 97])
    # one number or several, as ints or numpy integers; anything else a TypeError
    assert pf.RtpStreamFilter(opus_pt=np.int64(OPUS), pcmu_pt=np.array([0, 96])).delay == f.delay
    with pytest.raises(TypeError):
        pf.RtpStreamFilter(opus_pt=[111.0])
    with pytest.raises(ValueError, match="no payload type kind"):
        _core.StreamFilter(pf.api.make_config(8000), more_payload_types=[(96, "g722")])


def test_an_answer_listing_a_codec_twice_gets_a_filter_for_both() -> None:
    """RtpSession: an answer with Opus under two numbers; the offerer's packets under
    either are scrubbed, none dropped."""
    from test_session import OPUS_ANSWER, OPUS_OFFER

    offer = OPUS_OFFER.replace("RTP/AVP 111 0 101", "RTP/AVP 111 109 0 101") + (
        "a=rtpmap:109 opus/48000/2\r\na=fmtp:109 stereo=1\r\n"
    )
    answer = OPUS_ANSWER.replace("RTP/AVP 109 100", "RTP/AVP 111 109 100").replace(
        "a=rtpmap:109 opus/48000/2\r\n",
        "a=rtpmap:111 opus/48000/2\r\na=rtpmap:109 opus/48000/2\r\n",
    )
    s = pf.RtpSession(offer, answer)
    assert s.unscrubbed_codecs["offerer"] == []  # (the answerer's PCMU: the answer has none)
    pcm, _ = _keyed("58", seed=14)
    raw = [RtpPacket.parse(p) for p in _call(pcm, [0], "silk")]  # Opus throughout
    stream = [
        RtpPacket(
            109 if i % 3 == 0 else OPUS,
            p.marker,
            p.sequence_number,
            p.timestamp,
            p.ssrc,
            payload=p.payload,
        ).serialize()
        for i, p in enumerate(raw)
    ]
    out = s.process(stream, "offerer") + s.flush("offerer")
    assert len(out) == len(stream) and s.stats("offerer")["unknown_dropped"] == 0
    assert pf.digits_of(s.take_events("offerer")) == "58"


def test_telephone_events_replaced_in_each_family() -> None:
    """telephone_events="replace" with a gateway that sends events instead of audio, once in
    the G.711 part and once in the Opus part: the replacements are audio of the family the
    timeline runs (its payload type, its clock), the stream left with no gap and every Opus
    packet valid."""
    rng = np.random.default_rng(6)
    pcm = sg.to_int16(sg.white_noise(8000 * 3, -45, rng))
    raw = [RtpPacket.parse(p) for p in _call(pcm, [75], "silk")]
    sent: list[RtpPacket] = []
    for i, p in enumerate(raw):
        if not (25 <= i < 30 or 100 <= i < 105):
            sent.append(p)
            continue
        first, pt, unit = (25, TE8, 160) if i < 30 else (100, TE48, 960)
        k = i - first
        ev = bytes([5, 0x80 * (k == 4) | 10]) + ((k + 1) * unit).to_bytes(2, "big")
        sent += [RtpPacket(pt, k == 0, 0, raw[first].timestamp, SSRC, payload=ev)] * (
            3 if k == 4 else 1
        )
    stream = [
        RtpPacket(
            p.payload_type, p.marker, 1000 + i, p.timestamp, p.ssrc, payload=p.payload
        ).serialize()
        for i, p in enumerate(sent)
    ]
    f = pf.RtpStreamFilter(
        opus_pt=OPUS,
        pcmu_pt=0,
        telephone_event_pt=TE48,
        telephone_event_8000_pt=TE8,
        telephone_events="replace",
    )
    out = [RtpPacket.parse(p) for p in f.process(stream) + f.flush()]
    assert f.stats["telephone_events_replaced"] == 10 and f.stats["codec_switches"] == 1
    assert [(p.payload_type, p.timestamp) for p in out] == [
        (p.payload_type, p.timestamp) for p in raw
    ]
    assert all(
        (b.sequence_number - a.sequence_number) & 0xFFFF == 1 for a, b in itertools.pairwise(out)
    )
    for p in out:
        if p.payload_type == OPUS:
            _core.parse_opus_packet(p.payload)  # raises on a packet that is no Opus packet
    assert pf.digits_of(f.take_events()) == "55"
