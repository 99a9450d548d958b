# SPDX-License-Identifier: Apache-2.0
"""RTP stream filtering: keypresses leave neither as audio nor as telephone-events, every
other packet comes out in order with contiguous sequence numbers, and odd streams (loss,
duplicates, reordering, SSRC change, wraps, DTX, any ptime, malformed packets) neither crash
nor leak. Output audio is checked with spandsp."""

from __future__ import annotations

import array
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pcifilter as pf
from pcifilter import corpus, spandsp
from pcifilter import signals as sg
from pcifilter.rtp import RtpPacket

CARD = "4111111111111111"


def _call(seed: int = 1) -> tuple[np.ndarray, list[tuple[int, int]]]:
    rng = np.random.default_rng(seed)
    x, spans = sg.keyed_sequence(CARD, 80, 90, -12, lead_ms=300)
    return sg.to_int16(x + sg.white_noise(len(x), -50, rng)), spans


def _packets(
    pcm: np.ndarray,
    ptime_ms: int = 20,
    alaw: bool = False,
    seq: int = 1000,
    ts: int = 5000,
    ssrc: int = 0x1234,
) -> list[RtpPacket]:
    n = 8 * ptime_ms
    enc = pf.alaw_encode if alaw else pf.ulaw_encode
    return [
        RtpPacket(
            8 if alaw else 0,
            i == 0,
            (seq + i // n) & 0xFFFF,
            (ts + i) & 0xFFFFFFFF,
            ssrc,
            payload=enc(pcm[i : i + n]).tobytes(),
        )
        for i in range(0, len(pcm) - n + 1, n)
    ]


def _te_packets(spans: list[tuple[int, int]], digits: str, seq_of, ts0: int, ssrc: int) -> list:
    """RFC 4733 packets for each keypress: updates every 20 ms and a triple end (sipp style)."""
    codes = {d: i for i, d in enumerate("0123456789*#ABCD")}
    out = []
    for (s, e), d in zip(spans, digits, strict=True):
        for k, at in enumerate(range(s, e, 160)):
            payload = bytes([codes[d], 10]) + (at - s).to_bytes(2, "big")
            out.append(
                (at, RtpPacket(101, k == 0, 0, (ts0 + s) & 0xFFFFFFFF, ssrc, payload=payload))
            )
        end = bytes([codes[d], 0x80 | 10]) + (e - s).to_bytes(2, "big")
        out += [(e, RtpPacket(101, False, 0, (ts0 + s) & 0xFFFFFFFF, ssrc, payload=end))] * 3
    return out


def _interleave(audio: list[RtpPacket], te: list, ts0: int) -> list[bytes]:
    """Audio and telephone-event packets in send order, with one running sequence."""
    timeline = [((p.timestamp - ts0) & 0xFFFFFFFF, 0, p) for p in audio]
    timeline += [(at, 1, p) for at, p in te]
    timeline.sort(key=lambda x: (x[0], x[1]))
    out, seq = [], audio[0].sequence_number
    for _, _, p in timeline:
        q = RtpPacket(
            p.payload_type, p.marker, seq & 0xFFFF, p.timestamp, p.ssrc, payload=p.payload
        )
        out.append(q.serialize())
        seq += 1
    return out


def _reassemble(packets: list[bytes], ts0: int, n: int, alaw: bool = False) -> np.ndarray:
    y = np.zeros(n, np.int16)
    dec = pf.alaw_decode if alaw else pf.ulaw_decode
    for raw in packets:
        p = RtpPacket.parse(raw)
        if p.payload_type in (0, 8):
            at = (p.timestamp - ts0) & 0xFFFFFFFF
            y[at : at + len(p.payload)] = dec(p.payload)[: max(0, n - at)]
    return y


def _paused(packets: list[RtpPacket], ts0: int, cut: int, jump: int) -> list[bytes]:
    """The packets with those from RTP time `cut` on (after ts0) sent `jump` clock units
    later, the sequence numbers running on: a sender that paused (DTX), or timestamps that
    jump ahead."""
    return [
        RtpPacket(
            p.payload_type,
            p.marker,
            p.sequence_number,
            (p.timestamp + (jump if (p.timestamp - ts0) & 0xFFFFFFFF >= cut else 0)) & 0xFFFFFFFF,
            p.ssrc,
            payload=p.payload,
        ).serialize()
        for p in packets
    ]


def _worst_over_a_pause(
    pcm: np.ndarray, cut: int, jump: int, span: tuple[int, int], digit: str, level: float
) -> float:
    """`pcm` in 20 ms packets paused at `cut` for `jump` (`_paused`), through a filter given
    them at once and through one advanced live: the worst 10 ms of the keypress at `span`,
    in dB re its tone, over the two outputs as they are heard (the pause left out)."""
    from leak import worst_window_db

    raw = _paused(_packets(pcm), 5000, cut, jump)
    whole = pf.RtpStreamFilter()
    worst = -300.0
    for out in (whole.process(raw) + whole.flush(), _live(pf.RtpStreamFilter(), raw, 160)[0]):
        y = _reassemble(out, 5000, len(pcm) + jump)
        heard = np.concatenate([y[:cut], y[cut + jump :]])
        worst = max(worst, worst_window_db(heard, *span, digit, level))
    return worst


def _wobbled(packets: list[RtpPacket], rng: np.random.Generator, wobble: int) -> list[bytes]:
    """The packets with every timestamp but the first off by up to `wobble` samples either
    way (drawn from `rng` in packet order): a sender whose timestamps stray from the
    sampling clock."""
    return [
        RtpPacket(
            p.payload_type,
            p.marker,
            p.sequence_number,
            p.timestamp + (int(rng.integers(-wobble, wobble + 1)) if i else 0),
            p.ssrc,
            payload=p.payload,
        ).serialize()
        for i, p in enumerate(packets)
    ]


def _seq_contiguous(packets: list[bytes]) -> bool:
    seqs = [RtpPacket.parse(p).sequence_number for p in packets]
    return all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(seqs))


def _assert_no_digit(y: np.ndarray) -> None:
    digits, hits = spandsp.spandsp_digits(y, lenient=True)
    assert digits == "" and hits == 0


@pytest.mark.parametrize(
    ("alaw", "lookahead_ms"), [(False, 40.0), (True, 40.0), (False, 160.0), (False, 200.0)]
)
@pytest.mark.parametrize("ptime", [5, 10, 20, 30, 40, 60])
def test_inband_keypresses_are_masked_and_everything_else_passes(
    ptime: int, alaw: bool, lookahead_ms: float
) -> None:
    pcm, spans = _call()
    audio = _packets(pcm, ptime, alaw)
    f = pf.RtpStreamFilter(lookahead_ms=lookahead_ms)
    out = f.process([p.serialize() for p in audio]) + f.flush()
    assert len(out) == len(audio) and _seq_contiguous(out)
    assert [RtpPacket.parse(p).timestamp for p in out] == [p.timestamp for p in audio]
    n = len(audio) * 8 * ptime
    y = _reassemble(out, 5000, n, alaw)
    _assert_no_digit(y)
    assert spandsp.spandsp_digits(pcm[:n])[0] == CARD
    for a, b in zip(audio, out, strict=True):  # unmasked packets are bit-exact
        if not any(
            s - 800 < (a.timestamp - 5000) + 8 * ptime and (a.timestamp - 5000) < e + 800
            for s, e in spans
        ):
            assert a.serialize() == b
    assert pf.digits_of(f.take_events()) == CARD


def test_rfc4733_events_are_taken_out_and_reported_once() -> None:
    pcm, spans = _call()
    audio = _packets(pcm, 20, seq=65500)  # the sequence wraps on the way
    raw = _interleave(audio, _te_packets(spans, CARD, None, 5000, 0x1234), 5000)
    f = pf.RtpStreamFilter()
    out = f.process(raw) + f.flush()
    assert all(RtpPacket.parse(p).payload_type != 101 for p in out)
    assert len(out) == len(audio) and _seq_contiguous(out)
    events = f.take_events()
    assert pf.digits_of(events) == CARD  # once each: in-band duplicates suppressed
    assert {e.name for e in events} == {"rfc4733"}
    assert f.stats["telephone_events_dropped"] == len(raw) - len(audio)
    _assert_no_digit(_reassemble(out, 5000, len(pcm)))


def test_filtering_off_forwards_everything_untouched() -> None:
    pcm, spans = _call()
    audio = _packets(pcm)
    raw = _interleave(audio, _te_packets(spans, CARD, None, 5000, 0x1234), 5000)
    f = pf.RtpStreamFilter()
    f.filtering = False
    out = f.process(raw) + f.flush()
    assert out == raw
    assert pf.digits_of(f.take_events()) == CARD  # captured all the same


def test_switching_on_and_off_mid_call_loses_nothing() -> None:
    pcm, spans = _call()
    audio = _packets(pcm)
    raw = _interleave(audio, _te_packets(spans, CARD, None, 5000, 0x1234), 5000)
    f = pf.RtpStreamFilter()
    out: list[bytes] = []
    for i, p in enumerate(raw):
        if i % 37 == 0:
            f.filtering = not f.filtering
        out += f.process(p)
    out += f.flush()
    assert _seq_contiguous(out)
    assert sum(RtpPacket.parse(p).payload_type == 0 for p in out) == len(audio)


@pytest.mark.parametrize("after_ms", [0, 10, 20, 30])
def test_switching_on_just_after_a_keypress_lets_none_of_it_out(after_ms: int) -> None:
    """A keypress that ended a moment before filtering was switched on is still in the
    look-ahead then: the detector found it while masking was off, and that mask is kept
    aside and applied when filtering comes on, to the audio not gone out yet (its tail came
    out at the tone's level after the switch before)."""
    from leak import worst_window_db

    rng = np.random.default_rng(3)
    x, spans = sg.keyed_sequence("5", 100, 100, -12, lead_ms=300)
    pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
    s, e = spans[0]
    packets = [p.serialize() for p in _packets(pcm)]
    on = (e + 8 * after_ms) // 160 + 1
    f = pf.RtpStreamFilter()
    f.filtering = False
    before = f.process(packets[:on])
    f.filtering = False  # said again: the masks kept aside stay
    f.filtering = True
    after = f.process(packets[on:]) + f.flush()
    assert len(before) + len(after) == len(packets)
    y = _reassemble(after, 5000, len(pcm)).astype(np.float64)  # what went out after the switch
    assert worst_window_db(y, s, e, "5", -12) <= -40.0


def test_loss_duplicates_reordering_ssrc_change_and_timestamp_wrap() -> None:
    pcm, _ = _call()
    first = _packets(pcm[:16000], ts=2**32 - 4000)  # timestamps wrap inside the first half
    second = _packets(pcm[16000:], ts=77, ssrc=0x9999, seq=3)
    raw = [p.serialize() for p in first + second]
    del raw[10]  # loss
    raw.insert(20, raw[19])  # duplicate
    raw[30], raw[31] = raw[31], raw[30]  # reordering within the window: nothing lost
    raw[40], raw[43] = raw[43], raw[40]  # beyond it: the late packet is dropped, never leaked
    f = pf.RtpStreamFilter()
    out = f.process(raw) + f.flush()
    s = f.stats
    assert s["duplicates"] == 1 and s["late"] == 1 and s["gaps"] >= 1 and s["ssrc_changes"] == 1
    assert len(out) == len(raw) - 2
    ts = [RtpPacket.parse(p).timestamp for p in out if RtpPacket.parse(p).ssrc == 0x1234]
    assert ts == sorted(ts, key=lambda x: (x - (2**32 - 4000)) & 0xFFFFFFFF)
    y1 = _reassemble([p for p in out if RtpPacket.parse(p).ssrc == 0x1234], 2**32 - 4000, 16000)
    y2 = _reassemble([p for p in out if RtpPacket.parse(p).ssrc == 0x9999], 77, len(pcm) - 16000)
    _assert_no_digit(np.concatenate([y1, y2]))


@pytest.mark.parametrize("cut_at", [0.15, 0.25, 0.5, 0.75, 0.95])
@pytest.mark.parametrize("how", ["ssrc", "timestamps back", "timestamps on"])
def test_a_keypress_cut_by_a_new_source_or_timeline_leaves_nothing(cut_at: float, how: str) -> None:
    """A media server that switches sources mid-keypress: a new SSRC, or the same SSRC with
    its timestamps gone back (or on by more than max_gap), from one packet to the next. Each
    part of the keypress may be too short for the detector (under 40 ms), together they are
    one for whoever hears them in turn: while filtering, the audio held before the cut and
    the first 40 ms after it are masked. Nothing of any keypress is left (every 10 ms at least
    40 dB under the tone), and no audio is lost."""
    from leak import worst_window_db

    pcm, spans = _call()
    k = 7  # a keypress in the middle
    s, e = spans[k]
    cut = (s + int((e - s) * cut_at)) // 80 * 80  # 10 ms packets: any 10 ms in the keypress
    first = _packets(pcm[:cut], 10)
    ts2, ssrc2 = {"ssrc": (77, 0x9999), "timestamps back": (5, 0x1234)}.get(how, (10**8, 0x1234))
    second = _packets(pcm[cut:], 10, ts=ts2, ssrc=ssrc2, seq=1000 + len(first))
    f = pf.RtpStreamFilter()
    out = f.process([p.serialize() for p in first + second]) + f.flush()
    assert len(out) == len(first) + len(second)
    stats = f.stats
    assert stats["ssrc_changes"] + stats["timestamp_resets"] == (how != "timestamps on")
    y = np.concatenate(
        [
            _reassemble(out[: len(first)], 5000, cut),
            _reassemble(out[len(first) :], ts2, len(pcm) - cut),
        ]
    ).astype(np.float64)
    worst = worst_window_db(y, s, e, CARD[k], -12)
    assert worst <= -40.0
    _assert_no_digit(y.astype(np.int16))
    # The keypress cut is reported once, never twice nor not at all.
    assert pf.digits_of(f.take_events()) == CARD


@pytest.mark.parametrize("how", ["ssrc", "timestamps back", "timestamps on"])
def test_a_short_keypress_a_cut_splits_is_reported_once(how: str) -> None:
    """Keypresses of 40 to 60 ms (Q.24 accepts 40) with a cut at every 5 ms inside them:
    each part may be under the 40 ms the detector needs (before, one of 40 ms was then
    reported by neither part, 5 of 7 cut positions; 50 ms: 3 of 9). The detector goes on
    hearing the audio after the cut, as whoever hears the stream does: reported once, on
    the old timeline when the part before was a keypress already (its edges there), else
    on the new one (its start there, the SSRC and timestamps of the source after the cut).
    Packets of 7 and 13 ms too, whose cuts fall inside the detector's 5 ms sub-blocks (a
    first version fed it silence to the sub-block's end: 4 of 42 such keypresses lost).
    Two keypresses of one digit 40 ms apart, cut anywhere, stay two."""
    rng = np.random.default_rng(12)
    ts2, ssrc2 = {"ssrc": (77, 0x9999), "timestamps back": (5, 0x1234)}.get(how, (10**8, 0x1234))
    for digits, tone_ms in (("7", 40), ("7", 45), ("D", 50), ("0", 60), ("44", 100)):
        # cuts every 10 ms, twice (every 5 ms); every 7 and every 13 ms
        for shift, ptime in ((0, 10), (40, 10), (0, 7), (0, 13)):
            x, spans = sg.keyed_sequence(digits, tone_ms, 40, -15, lead_ms=300 + shift // 8)
            x = np.concatenate([x, np.zeros(4000)])
            pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
            n = 8 * ptime
            for cut in range(spans[0][0] // n * n + n, spans[-1][1], n):
                first = _packets(pcm[:cut], ptime)
                second = _packets(pcm[cut:], ptime, ts=ts2, ssrc=ssrc2, seq=1000 + len(first))
                f = pf.RtpStreamFilter()
                f.process([p.serialize() for p in first + second])
                f.flush()
                events = f.take_events()
                assert pf.digits_of(events) == digits, (tone_ms, cut - spans[0][0])
                if len(digits) == 1:
                    (e,) = events
                    s, end = spans[0]
                    if e.rtp_timestamp != ts2:  # the old timeline
                        assert abs(e.start_ms - s / 8) <= 5 and cut - s >= 8 * 30
                        assert (e.ssrc, e.rtp_timestamp) == (0x1234, 5000 + round(e.start_ms * 8))
                    else:
                        assert (e.ssrc, e.start_ms) == (ssrc2, 0.0)
                        assert abs(e.end_ms - (end - cut) / 8) <= 5


def test_a_fax_tone_a_cut_splits_is_reported_once() -> None:
    """Configured tones hear across a cut too: fax CNG (1100 Hz, 500 ms) with a new source
    200 ms or 300 ms into it (before, neither part was long enough: not reported), or
    460 ms into it (reported on the old source, its end at the cut, and not again)."""
    rng = np.random.default_rng(5)
    x = np.zeros(16000)
    x[2400:6400] = sg.tone([1100], [-15], 4000)
    pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
    for into_ms, old_source in ((200, False), (300, False), (460, True), (600, True)):
        cut = 2400 + 8 * into_ms
        first = _packets(pcm[:cut], 10)
        second = _packets(pcm[cut:], 10, ts=77, ssrc=0x9999, seq=1000 + len(first))
        f = pf.RtpStreamFilter(tones="default")
        f.process([p.serialize() for p in first + second])
        f.flush()
        (e,) = f.take_events()
        assert e.kind == "tone" and e.name == "cng", into_ms
        assert e.ssrc == (0x1234 if old_source else 0x9999), into_ms


@pytest.mark.parametrize("filtering", [True, False])
@pytest.mark.parametrize("ptime_ms", [10, 20, 30])
def test_a_keypress_that_packets_lost_inside_it_split_is_reported_once(
    ptime_ms: int, filtering: bool
) -> None:
    """Up to 60 ms of packets lost inside a keypress (silence to the detector: from 30 ms on
    it heard two keypresses) are bridged: the keypress is reported once, as a receiver that
    conceals the loss hears it. Two keypresses of one digit 60 ms apart stay two, whichever
    packet of either (or of the pause) is lost, and a longer loss is not bridged."""
    rng = np.random.default_rng(ptime_ms)
    n = 8 * ptime_ms
    for digits, tone_ms, pause_ms in (("5", 240, 100), ("55", 100, 60)):
        x, spans = sg.keyed_sequence(digits, tone_ms, pause_ms, -15, lead_ms=303)
        x = np.concatenate([x, np.zeros(4000)])
        pcm = sg.to_int16(x + sg.white_noise(len(x), -45, rng))
        sent = _packets(pcm, ptime_ms)
        for lost in range(1, 60 // ptime_ms + 1):
            if digits == "55" and lost * ptime_ms > 20:  # one packet lost, anywhere in them
                break
            for at in range(spans[0][0] // n, spans[-1][1] // n - lost + 1):
                f = pf.RtpStreamFilter()
                f.filtering = filtering
                f.process([p.serialize() for i, p in enumerate(sent) if not at <= i < at + lost])
                f.flush()
                assert pf.digits_of(f.take_events()) == digits, (digits, lost, at)
    # 80 ms lost in a keypress of 240: more than is bridged, its two parts are two keypresses
    x, spans = sg.keyed_sequence("5", 240, 100, -15, lead_ms=303)
    sent = _packets(sg.to_int16(np.concatenate([x, np.zeros(4000)])), ptime_ms)
    lost_from = (spans[0][0] + 640) // n + 1
    f = pf.RtpStreamFilter()
    f.process([p.serialize() for i, p in enumerate(sent) if not 0 <= (i - lost_from) * n < 640])
    f.flush()
    assert pf.digits_of(f.take_events()) == "55"


@pytest.mark.parametrize("filtering", [True, False])
@pytest.mark.parametrize("how", ["two sources interleaved", "timestamps back two packets in"])
def test_a_source_that_changes_a_packet_or_two_in_loses_no_packet(
    how: str, filtering: bool
) -> None:
    """Each new timeline starts at 0 while the last one's first packets may still wait to go
    out (ready, in the queue): compared with theirs, the new packets' times were taken for
    copies, and dropped. Two sources sending to one port packet by packet (SIP forking with
    early media from two branches) lost every other packet, filtering or not; a stream whose
    timestamps went back two packets in lost its first packet after the change (and that gap
    was taken for a loss). Now every packet goes out, and with filtering off as it came."""
    pcm, _ = _call()
    a = _packets(pcm[:16000])
    if how == "two sources interleaved":
        b = _packets(pcm[:16000], ts=900_000, ssrc=0x9999, seq=30_000)
        raw = [p.serialize() for pair in zip(a, b, strict=True) for p in pair]
    else:
        raw = [p.serialize() for p in a[:2]]
        raw += [
            RtpPacket(0, False, 1002 + i, 500 + 160 * i, 0x1234, payload=p.payload).serialize()
            for i, p in enumerate(a[2:])
        ]
    f = pf.RtpStreamFilter()
    f.filtering = filtering
    out = [q for p in raw for q in f.process(p)] + f.flush()
    assert len(out) == len(raw)
    stats = f.stats
    assert stats["duplicates"] == 0 and stats["gaps"] == 0
    if not filtering:
        assert out == raw


@pytest.mark.parametrize("where", ["before", "after"])
def test_empty_keepalive_packets_pass_in_order_and_take_no_audio_s_place(where: str) -> None:
    """RTP packets with no payload (pjsip's empty-RTP keep-alive, some softphones) in the
    audio's payload type, numbered in its sequence: they hold no audio, so they pass in order
    as comfort noise does, counted. Taken for audio, one stamped with the next packet's
    timestamp held that packet's place and the packet was dropped as its copy: 20 ms of
    audio lost each time, and the gap taken for a loss."""
    pcm, _ = _call()
    audio = _packets(pcm)
    raw: list[bytes] = []
    for i, p in enumerate(audio):
        keepalive = RtpPacket(0, False, 0, p.timestamp, p.ssrc)
        pair = [keepalive, p] if where == "before" else [p, keepalive]
        raw += [q.serialize() for q in (pair if i % 10 == 5 else [p])]
    raw = [  # one sequence for all
        RtpPacket(0, q.marker, 1000 + i, q.timestamp, q.ssrc, payload=q.payload).serialize()
        for i, q in enumerate(RtpPacket.parse(b) for b in raw)
    ]
    f = pf.RtpStreamFilter()
    out = f.process(raw) + f.flush()
    assert len(out) == len(raw) and _seq_contiguous(out)
    stats = f.stats
    assert stats["empty_payloads"] == len(raw) - len(audio)
    assert stats["duplicates"] == stats["gaps"] == stats["late"] == 0
    assert [len(RtpPacket.parse(q).payload) == 0 for q in out] == [
        len(RtpPacket.parse(q).payload) == 0 for q in raw
    ]
    alone = pf.RtpStreamFilter()
    plain = alone.process([p.serialize() for p in audio]) + alone.flush()
    assert np.array_equal(_reassemble(out, 5000, len(pcm)), _reassemble(plain, 5000, len(pcm)))


@pytest.mark.parametrize("ptime", [10, 20])
@pytest.mark.parametrize("duration_ms", [40, 80])
def test_a_packet_lost_inside_a_keypress_leaves_nothing_of_it(ptime: int, duration_ms: int) -> None:
    """One packet lost anywhere in a keypress (the receiver conceals the gap): the parts on
    either side may be too short for the detector (5 ms before a lost packet came through
    whole at the tone's level), so while filtering the 15 ms on each side of a loss are
    masked, and 40 ms after it when a mask held at its start. Every 10 ms of the keypress
    stays 40 dB under the tone and spandsp hears nothing; losses cost about 30 ms masked
    each (bench/RESULTS.md)."""
    from leak import worst_window_db

    rng = np.random.default_rng(5)
    x, spans = sg.keyed_sequence("1397", duration_ms, 100, -12, lead_ms=315)
    pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
    packets = _packets(pcm, ptime)
    for k, (s, e) in enumerate(spans):
        for lost in range(s // (8 * ptime), (e - 1) // (8 * ptime) + 1):
            raw = [p.serialize() for i, p in enumerate(packets) if i != lost]
            f = pf.RtpStreamFilter()
            out = f.process(raw) + f.flush()
            assert len(out) == len(raw)
            y = _reassemble(out, 5000, len(pcm))
            worst = worst_window_db(y, s, e, "1397"[k], -12)
            assert worst <= -40.0, (k, lost * 8 * ptime - s)
            _assert_no_digit(y)


@pytest.mark.parametrize("burst", [3, 5, 8])
def test_a_burst_of_losses_longer_than_the_look_ahead_leaves_nothing(burst: int) -> None:
    """A burst of lost packets (30-160 ms, up to four times the look-ahead) starting
    anywhere in a keypress or just before it: the 15 ms before the gap are masked before
    the gap is fed, while they are still in the look-ahead (masked after it, a burst of 5
    packets of 10 ms left the keypress's first 4 ms at full level); and, live, after a gap
    a relay's timer filled (the 15 ms after a loss were guarded only where a gap was left
    to fill)."""
    from leak import worst_window_db

    rng = np.random.default_rng(burst)
    x, spans = sg.keyed_sequence("19", 60, 100, -12, lead_ms=315)
    pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
    for ptime in (10, 20):
        packets = _packets(pcm, ptime)
        n = 8 * ptime
        for k, (s, e) in enumerate(spans):
            for first in range(s // n - burst + 1, (e - 1) // n + 1):
                raw = [
                    p.serialize() for i, p in enumerate(packets) if not first <= i < first + burst
                ]
                f = pf.RtpStreamFilter()
                y = _reassemble(f.process(raw) + f.flush(), 5000, len(pcm))
                assert worst_window_db(y, s, e, "19"[k], -12) <= -40.0, (ptime, first * n - s)
                # Live, a relay's timer with no jitter allowance takes the gap for a pause
                # and fills it before the next packet comes: the loss is still guarded.
                y = _reassemble(_live(pf.RtpStreamFilter(), raw, 0)[0], 5000, len(pcm))
                assert worst_window_db(y, s, e, "19"[k], -12) <= -40.0, (ptime, first * n - s)


def test_only_a_lost_packet_is_guarded_and_only_while_filtering() -> None:
    """Around a loss (the sequence numbers skip) 15 ms are masked on each side; around
    silence the sender left out (DTX: timestamps skip, sequence numbers do not) nothing."""
    rng = np.random.default_rng(2)
    pcm = sg.to_int16(sg.white_noise(8000, -50, rng))  # quiet: no mask at the stream's start
    packets = _packets(pcm)
    lost = [p.serialize() for i, p in enumerate(packets) if i != 20]
    dtx = [
        RtpPacket(
            p.payload_type,
            p.marker,
            p.sequence_number - (i > 20),
            p.timestamp,
            p.ssrc,
            payload=p.payload,
        ).serialize()
        for i, p in enumerate(packets)
        if i != 20
    ]
    for raw, filtering, masked in ((lost, True, True), (dtx, True, False), (lost, False, False)):
        f = pf.RtpStreamFilter()
        f.filtering = filtering
        f.process(raw)
        f.flush()
        spans = f.take_masked()
        if masked:  # 15 ms on each side of the gap, each with its 1 ms ramp on the gap
            gap = 5000 + 20 * 160
            assert spans == [(gap - 120, 128), (gap + 160 - 8, 128)]
        else:
            assert spans == []


@pytest.mark.parametrize("tail_ms", [1, 3, 5, 8, 11, 14, 17, 25])
def test_a_stream_that_starts_in_a_keypress_leaves_nothing_of_it(tail_ms: int) -> None:
    """A stream (a new filter, a payment session that starts) whose first packet holds a
    keypress's last milliseconds: under 15 ms the detector cannot tell them, so while
    filtering a stream's first 15 ms are masked when they start like a keypress (one row and
    one column frequency holding most of the sound it starts with). A stream that starts on
    sound (noise, speech: a keypress under speech may be there,
    `test_a_stream_that_starts_or_ends_in_a_keypress_under_speech_leaves_nothing_of_it`) has its
    first 120 ms masked, and passes bit-exact after them; one that starts quietly passes
    bit-exact from its start."""
    from leak import worst_window_db

    rng = np.random.default_rng(tail_ms)
    x, spans = sg.keyed_sequence("9", 100, 100, -12, lead_ms=0)
    x = x[spans[0][1] - 8 * tail_ms :]
    pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
    f = pf.RtpStreamFilter()
    out = f.process([p.serialize() for p in _packets(pcm)]) + f.flush()
    y = _reassemble(out, 5000, len(pcm)).astype(np.float64)
    assert worst_window_db(y, 0, 8 * tail_ms, "9", -12) <= -40.0
    speech = corpus.cached("speech", 600, seed=7)[8000 * tail_ms : 8000 * (tail_ms + 1)]
    for start in (sg.to_int16(sg.white_noise(2400, -20, rng)), speech):
        packets = [p.serialize() for p in _packets(start)]
        f = pf.RtpStreamFilter()
        out = f.process(packets) + f.flush()
        on_sound = sg.power_to_dbm0(float(np.mean(start[:80].astype(np.float64) ** 2))) >= -27
        assert (out[0] != packets[0]) == on_sound
        if start is not speech:  # (speech has masks of its own later: candidate windows)
            # 120 ms and a ramp masked, then bit-exact (but for the last 40 ms, where the
            # stream ends on sound: a keypress's first part may be there)
            assert out[7:-3] == packets[7:-3]
    quiet = sg.to_int16(sg.white_noise(2400, -50, rng))
    packets = [p.serialize() for p in _packets(quiet)]
    f = pf.RtpStreamFilter()
    assert f.process(packets) + f.flush() == packets


@pytest.mark.parametrize("wobble", [1, 3, 8])
def test_timestamps_that_wobble_lose_nothing_and_leak_nothing(wobble: int) -> None:
    """A sender whose timestamps are a few samples off the sampling clock, either way: a
    packet that overlaps the end of the audio before it by a few samples was dropped as
    late (9 of 43 at ±1), losing its audio and splitting a keypress for the detector (one
    10 ms window at -10 dB). Now it follows that audio: every packet goes out, as soon as
    with steady timestamps, and nothing of any keypress is left for a receiver that plays
    each at its own timestamp."""
    from leak import worst_window_db

    rng = np.random.default_rng(3)
    x, spans = sg.keyed_sequence("2580", 60, 80, -12, lead_ms=303)
    pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
    raw = _wobbled(_packets(pcm), rng, wobble)
    # Out as soon as with steady timestamps: a gap of a few samples is no packet still to
    # come (held as one, it kept a packet back by 20 ms now and then).
    f, steady = pf.RtpStreamFilter(), pf.RtpStreamFilter()
    out: list[bytes] = []
    n_steady = 0
    for p, q in zip(raw, _packets(pcm), strict=True):
        out += f.process(p)
        n_steady += len(steady.process(q.serialize()))
        assert len(out) >= n_steady
    out += f.flush()
    assert len(out) == len(raw) and f.stats["late"] == 0
    y = _reassemble(out, 5000, len(pcm) + 100)  # the first packet is on time: none before it
    for k, (s, e) in enumerate(spans):
        assert worst_window_db(y, s, e, "2580"[k], -12) <= -40.0
    _assert_no_digit(y)


@pytest.mark.parametrize("head_ms", [1, 3, 6, 10, 20])
def test_a_stream_that_ends_in_a_keypress_leaves_nothing_of_it(head_ms: int) -> None:
    """A stream (a call) that ends a few ms into a keypress: under 7 ms the detector cannot
    tell it (1-6 ms came out at -19 ... -4 dB), so while filtering a stream's last 15 ms are
    masked when the sound it ends with is mostly one row and one column frequency."""
    from leak import worst_window_db

    rng = np.random.default_rng(head_ms)
    x, spans = sg.keyed_sequence("5", 100, 100, -12, lead_ms=300 - head_ms)
    s, _ = spans[0]
    pcm = sg.to_int16(x[: s + 8 * head_ms] + sg.white_noise(s + 8 * head_ms, -50, rng))
    assert len(pcm) % 160 == 0  # the keypress reaches the stream's last sample
    f = pf.RtpStreamFilter()
    out = f.process([p.serialize() for p in _packets(pcm)]) + f.flush()
    y = np.concatenate([_reassemble(out, 5000, len(pcm)), np.zeros(160, np.int16)])
    worst = worst_window_db(y, s, len(pcm), "5", -12)
    assert worst <= -40.0


def _live(
    f: pf.RtpStreamFilter, raw: list[bytes], jitter: int, ts0: int = 5000, clock: int = 8000
) -> tuple[list[bytes], list[int]]:
    """`raw` sent in real time to a filter that a relay's timer advances every 20 ms: a packet
    arrives when its audio is complete (its timestamp plus 20 ms), the timer advances the
    filter to the media clock less `jitter` (RTP units). What came out, and the media clock
    (RTP units after ts0) at which each packet came out."""
    step = clock // 50
    pending = sorted(raw, key=lambda p: (RtpPacket.parse(p).timestamp - ts0) & 0xFFFFFFFF)
    out: list[bytes] = []
    when: list[int] = []
    now = 0
    while pending:
        now += step
        while (
            pending and ((RtpPacket.parse(pending[0]).timestamp - ts0) & 0xFFFFFFFF) + step <= now
        ):
            got = f.process(pending.pop(0))
            out += got
            when += [now] * len(got)
        got = f.advance((ts0 + now - jitter) & 0xFFFFFFFF)
        out += got
        when += [now] * len(got)
    got = f.flush()
    return out + got, when + [now] * len(got)


def _talkspurts(seed: int = 3) -> tuple[list[bytes], np.ndarray, list[tuple[int, int]]]:
    """Three talkspurts of speech, a keypress in the second, each followed by a comfort-noise
    packet and a pause of 1-1.5 s in which the sender sends nothing (DTX; sequence numbers
    run on). Packets, the audio as sent, and the keypress's span."""
    rng = np.random.default_rng(seed)
    speech = corpus.cached("speech", 600, seed=7)
    pcm = np.zeros(8000 * 8, np.int16)
    raw: list[bytes] = []
    seq, at, spans = 1000, 0, []
    for k in range(3):
        n = 8000
        part = speech[8000 * (5 + k) : 8000 * (5 + k) + n].astype(np.float64) * 0.3
        if k == 1:
            s0, e0 = sg.key_into(part, rng, "7", 120, -10.0, 3000)
            spans.append((at + s0, at + e0))
        pcm[at : at + n] = sg.to_int16(part)
        for i in range(0, n, 160):
            raw.append(
                RtpPacket(
                    0,
                    i == 0,
                    seq & 0xFFFF,
                    5000 + at + i,
                    0x1234,
                    payload=pf.ulaw_encode(pcm[at + i : at + i + 160]).tobytes(),
                ).serialize()
            )
            seq += 1
        raw.append(
            RtpPacket(13, False, seq & 0xFFFF, 5000 + at + n, 0x1234, payload=b"\x40").serialize()
        )
        seq += 1
        at += n + int(rng.integers(8000, 12000)) // 160 * 160
    return raw, pcm[:at], spans


@pytest.mark.parametrize("jitter_ms", [0, 20, 60])
def test_advance_puts_held_audio_out_over_a_pause(jitter_ms: int) -> None:
    """A live relay's timer advances the filter: the audio the look-ahead holds at the end of
    a talkspurt, and the comfort-noise packet after it, come out within the look-ahead and
    the jitter allowance of the sender's pause, not a second later with the next talkspurt
    (as without advance). The packets are those of the filter given the whole stream at once."""
    raw, _, _ = _talkspurts()
    jitter = 8 * jitter_ms
    whole = pf.RtpStreamFilter()
    expected = whole.process(raw) + whole.flush()
    f = pf.RtpStreamFilter()
    out, when = _live(f, raw, jitter)
    assert out == expected and f.stats["late"] == 0
    for p, t in zip(out, when, strict=True):
        q = RtpPacket.parse(p)
        due = (q.timestamp - 5000) + len(q.payload) * (q.payload_type == 0) + f.delay + jitter
        assert t <= due + 160, (q.sequence_number, t - due)
    without = pf.RtpStreamFilter()
    _, held = _live(without, raw, 10**6)  # never advanced
    assert max(h - w for h, w in zip(held, when, strict=True)) >= 8000  # held over the pause
    # A talkspurt after a comfort-noise packet, whose sequence number its first packet skips,
    # is no loss: the audio comes out as from the same stream without the comfort noise
    # (before, the start of every talkspurt after one was masked as a loss's edge is).
    audio = [RtpPacket.parse(p) for p in raw if RtpPacket.parse(p).payload_type == 0]
    plain = pf.RtpStreamFilter()
    bare = (
        plain.process(
            [
                RtpPacket(0, p.marker, i, p.timestamp, p.ssrc, payload=p.payload).serialize()
                for i, p in enumerate(audio)
            ]
        )
        + plain.flush()
    )
    assert [RtpPacket.parse(p).payload for p in out if RtpPacket.parse(p).payload_type == 0] == [
        RtpPacket.parse(p).payload for p in bare
    ]


@pytest.mark.parametrize("pause", [8000, 24000])  # 1 s, and 3 s: over max_gap, a new timeline
@pytest.mark.parametrize("head_ms", [1, 3, 6, 10])
def test_a_pause_in_a_keypress_s_first_milliseconds_leaves_nothing_of_it(
    head_ms: int, pause: int
) -> None:
    """A sender that pauses (DTX) a few ms into a keypress and sends the rest after the pause:
    advanced over the pause, the filter has put out the audio before it long before the rest
    comes. Under 7 ms the detector cannot tell the part before the pause, so its last 15 ms
    are masked when they sound like a keypress, as at a stream's end."""
    from leak import worst_window_db

    rng = np.random.default_rng(head_ms)
    x, spans = sg.keyed_sequence("5", 100, 100, -12, lead_ms=300 - head_ms)
    s, e = spans[0]
    pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
    cut = s + 8 * head_ms
    assert cut % 160 == 0
    raw = _paused(_packets(pcm), 5000, cut, pause)  # sequence numbers running on
    f = pf.RtpStreamFilter()
    live, _ = _live(f, raw, 160)
    assert f.stats["late"] == 0
    whole = pf.RtpStreamFilter()  # not advanced: the pause found when the rest comes
    for out in (live, whole.process(raw) + whole.flush()):
        y = _reassemble(out, 5000, len(pcm) + pause)
        heard = np.concatenate([y[:cut], y[cut + pause :]])  # the keypress as it is heard
        assert worst_window_db(heard, s, e, "5", -12) <= -40.0


@pytest.mark.parametrize("tail_ms", [1, 3, 6, 10, 20, 50, 80])
@pytest.mark.parametrize("pause_ms", [100, 1000, 3000])
def test_a_pause_before_a_keypress_s_last_milliseconds_leaves_nothing_of_it(
    tail_ms: int, pause_ms: int
) -> None:
    """Timestamps that jump ahead with the sequence running on (DTX, or a source switched
    with its SSRC and numbers kept) in a keypress's last few ms: the part after the jump is
    too short for the detector (1-6 ms came out at up to -5 dB), so while filtering the audio
    after a pause is guarded as a stream's start is: its first 15 ms masked when they sound
    like a keypress. Given at once and advanced live."""
    rng = np.random.default_rng(tail_ms)
    x, spans = sg.keyed_sequence("5", 100, 100, -12, lead_ms=300 + tail_ms)
    s, e = spans[0]
    pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
    cut = e - 8 * tail_ms
    assert cut % 160 == 0
    assert _worst_over_a_pause(pcm, cut, 8 * pause_ms, (s, e), "5", -12) <= -40.0


@pytest.mark.parametrize("side", ["first", "last"])
@pytest.mark.parametrize("samples", [1, 2, 3, 5])
@pytest.mark.parametrize("pause_ms", [100, 1000, 3000])
def test_a_keypress_s_first_or_last_samples_at_a_pause_leave_nothing(
    side: str, samples: int, pause_ms: int
) -> None:
    """A pause (the sequence running on) a few samples into a keypress, or a few before its
    end: too few to tell by their frequencies, they came out at -22 to -36 dB (a random
    sweep of pauses and losses). Before a pause, a sound that starts in its last 1 ms at a
    keypress's level is masked (a voice does not pause on such an onset); after one, the
    first 15 ms are masked when the keypress's mask held where the pause began. Given at
    once and advanced live, pauses under and over `max_gap_samples`."""
    rng = np.random.default_rng(samples)
    lead = 300 + (samples if side == "last" else -samples) / 8
    x, spans = sg.keyed_sequence("5", 100, 100, -12, lead_ms=lead)
    s, e = spans[0]
    pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
    cut = s + samples if side == "first" else e - samples
    assert cut % 160 == 0
    assert _worst_over_a_pause(pcm, cut, 8 * pause_ms, (s, e), "5", -12) <= -40.0


def _under_speech(
    digit: str, duration_ms: int, level: float, at: int
) -> tuple[np.ndarray, tuple[int, int]]:
    """A keypress at `level` dBm0 a tone, 200 ms in, over the speech corpus from sample `at`
    at -20 dBm0: the sum (not yet rounded) and the keypress's span."""
    from leak import _corpus

    x, spans = sg.keyed_sequence(digit, duration_ms, 100, level, lead_ms=200)
    speech, active = _corpus("speech")
    return x + speech[at : at + len(x)] * sg.dbm0_to_amplitude(-20.0) / active, spans[0]


def _worst_through_a_filter(
    pcm: np.ndarray, span: tuple[int, int], digit: str, level: float
) -> float:
    """`pcm` in 20 ms packets through a filter given them at once: the worst 10 ms of the
    keypress at `span` (dB re its tone), past the stream's end counted as silence."""
    from leak import worst_window_db

    f = pf.RtpStreamFilter()
    y = _reassemble(f.process([p.serialize() for p in _packets(pcm)]) + f.flush(), 5000, len(pcm))
    return worst_window_db(np.concatenate([y, np.zeros(160, np.int16)]), *span, digit, level)


# Keypresses under speech that a pause cut and let out (a random sweep, before pauses that
# begin on sound were guarded as cuts): digit, ms, dBm0 a tone, where in the speech corpus,
# the cut (samples into the keypress).
_UNDER_SPEECH = [
    ("3", 76, -16.2, 669292, 160),
    ("9", 112, -22.7, 3501542, 800),
    ("1", 80, -19.3, 667345, 480),
    ("6", 52, -21.0, 364044, 320),
    ("4", 53, -15.9, 1212604, 320),
    ("1", 76, -12.4, 3171730, 480),
]


@pytest.mark.parametrize("pause_ms", [1000, 3000])
@pytest.mark.parametrize(("digit", "duration_ms", "level", "at", "cut"), _UNDER_SPEECH)
def test_a_keypress_under_speech_cut_by_a_pause_leaves_nothing(
    digit: str, duration_ms: int, level: float, at: int, cut: int, pause_ms: int
) -> None:
    """A pause that cuts a keypress under speech left parts too short for the detector there
    (up to +1.9 dB; 9 and 13 of 400 such keypresses kept a trace with a pause of 1 s and
    2.1 s advanced live, 4 with none). A pause that begins on sound is now guarded as a cut
    is, and the timeline after one over 2 s as a stream's start; a sender's VAD pauses after
    quiet (its hang-over), which keeps its talkspurts whole
    (`test_a_talkspurt_after_a_long_pause_keeps_its_start_when_advanced_live`)."""
    x, (s, e) = _under_speech(digit, duration_ms, level, at)
    pcm = sg.to_int16(x)
    assert _worst_over_a_pause(pcm, s + cut, 8 * pause_ms, (s, e), digit, level) <= -40.0


# Streams that started in a keypress under speech and let its end out (a random sweep,
# before a stream that starts on sound had its first 120 ms masked), and streams that ended
# in one and let its start out with 40 ms masked at a stream's end on sound (7 of 400 with no
# guard on sound): digit, ms, dBm0 a tone, where in the speech corpus, ms of the keypress
# inside the stream to its first (last) packet boundary.
_EDGES_UNDER_SPEECH = [
    ("start", "2", 84, -7.0, 2288871, 3),
    ("start", "1", 47, -23.2, 760994, 27),
    ("start", "8", 94, -24.5, 946443, 36),
    ("start", "3", 60, -24.8, 265480, 3),
    ("start", "9", 99, -22.8, 978316, 11),
    ("start", "0", 107, -21.0, 350296, 14),
    ("end", "3", 44, -24.9, 936228, 31),
    ("end", "8", 74, -24.2, 626342, 33),
    ("end", "8", 109, -23.0, 4399610, 38),
    ("end", "2", 77, -23.4, 972171, 28),
]


@pytest.mark.parametrize(
    ("edge", "digit", "duration_ms", "level", "at", "part"), _EDGES_UNDER_SPEECH
)
def test_a_stream_that_starts_or_ends_in_a_keypress_under_speech_leaves_nothing_of_it(
    edge: str, digit: str, duration_ms: int, level: float, at: int, part: int
) -> None:
    """A stream that starts in a keypress's end under speech, or ends in its start: the edge
    guards' test for a keypress (its tones at least 40 % of the sound) does not find its
    tones among the speech's, and the detector (starting afresh) does not find the part
    either: 28 and 7 of 400 such streams let it out (up to +8.7 dB). A stream that starts
    on sound (its first 10 ms at -27 dBm0 or more) now has its first 120 ms masked, and one
    that ends on sound its last, once each (a call leg set up or torn down while the caller
    keys and talks)."""
    x, (s, e) = _under_speech(digit, duration_ms, level, at)
    if edge == "start":
        start = (e - 8 * part) // 160 * 160  # the stream's first packet boundary
        pcm, span = x[start:], (0, e - start)
    else:
        end = (s + 8 * part + 159) // 160 * 160  # its last
        pcm, span = x[:end], (s, end)
    assert _worst_through_a_filter(sg.to_int16(pcm), span, digit, level) <= -40


def test_a_talkspurt_after_a_long_pause_keeps_its_start_when_advanced_live() -> None:
    """A sender's silence of over 2 s (`max_gap_samples`) starts a new timeline. Given at
    once, a G.711 filter cannot tell it from a source switched with its timestamps, and masks
    the 40 ms on each side while filtering. Advanced live, it has seen the pause: the
    talkspurt after it comes out as after a pause of 1.5 s (it lost its first 40 ms before).
    Opus keeps the guards (tests/test_opus_stream.py)."""
    speech = corpus.cached("speech", 600, seed=7)
    heard = []
    for pause in (12000, 24000):  # 1.5 s, 3 s
        raw, at, seq = [], 0, 1000
        for k in range(2):
            part = sg.to_int16(speech[8000 * (5 + k) : 8000 * (6 + k)].astype(np.float64) * 0.3)
            for i in range(0, 8000, 160):
                payload = pf.ulaw_encode(part[i : i + 160]).tobytes()
                raw.append(RtpPacket(0, i == 0, seq, 5000 + at + i, 0x1234, payload=payload))
                seq += 1
            at += 8000 + pause
        f = pf.RtpStreamFilter()
        out, _ = _live(f, [p.serialize() for p in raw], 160)
        assert len(out) == len(raw) and f.stats["late"] == 0
        heard.append([RtpPacket.parse(p).payload for p in out[50:]])
        whole = pf.RtpStreamFilter()
        given = whole.process([p.serialize() for p in raw]) + whole.flush()
        start = [RtpPacket.parse(p).payload for p in given[50:53]]
        assert (start == [p.payload for p in raw[50:53]]) == (pause < 16000)
    assert heard[0] == heard[1]


@pytest.mark.parametrize("pause", [15000, 15850, 15950])  # max_gap_samples is 16000
def test_a_pause_just_under_max_gap_is_a_pause(pause: int) -> None:
    """A pause under `max_gap_samples` is a pause however close to it: the packet after
    it is held for the reorder window, and the gap of the one after that was measured from
    the audio fed, before the held packet, so a pause within 40 ms of the limit restarted
    the timeline there: the speech after it lost 140 ms (a cut's guards and a stream's
    start on sound) where after any other pause it loses the 40 ms a pause that begins on
    sound is guarded by."""
    tone = (3000 * np.sin(2 * np.pi * 300 * np.arange(8000) / 8000)).astype(np.int16)
    before, after = _packets(tone[:4000]), _packets(tone[:4000], seq=1025, ts=5000 + 4000 + pause)
    raw = [p.serialize() for p in before + after]
    f = pf.RtpStreamFilter()
    f.filtering = True
    out = [RtpPacket.parse(p).payload for p in f.process(raw) + f.flush()]
    changed = [k for k, p in enumerate(before + after) if out[k] != p.payload]
    assert [k for k in changed if 20 <= k < 40] == [23, 24, 25, 26]
    assert f.stats["gaps"] == 1


def test_comfort_noise_and_other_payload_types_pass_in_order() -> None:
    pcm, _ = _call()
    audio = _packets(pcm[:8000])
    cn = RtpPacket(13, False, 0, audio[5].timestamp + 160, 0x1234, payload=b"\x40").serialize()
    raw = [p.serialize() for p in audio[:6]]
    raw.append(RtpPacket.parse(cn).serialize())
    raw += [
        RtpPacket(
            0, False, p.sequence_number + 1, p.timestamp + 1600, p.ssrc, payload=p.payload
        ).serialize()
        for p in audio[6:]
    ]
    f = pf.RtpStreamFilter()
    out = f.process(raw) + f.flush()
    assert [RtpPacket.parse(p).payload_type for p in out] == [0] * 6 + [13] + [0] * (len(audio) - 6)


def test_malformed_packets_are_counted_and_harmless() -> None:
    pcm, _ = _call()
    raw = [p.serialize() for p in _packets(pcm[:8000])]
    junk = [
        b"",
        b"\x80",
        b"\x00" * 12,
        bytes([0x80, 200]) + b"\x00" * 10,
        b"\x8f" + b"\x00" * 20,
        b"\x80" * 2000,
    ]
    f = pf.RtpStreamFilter()
    out = f.process(raw[:10] + junk + raw[10:]) + f.flush()
    assert len(out) == len(raw) and f.process([]) == []
    s = f.stats
    assert s["malformed_too_short"] == 2 and s["malformed_bad_version"] == 1
    assert (
        s["malformed_rtcp"] == 1
        and s["malformed_csrc_overrun"] == 1
        and s["malformed_too_long"] == 1
    )


@settings(max_examples=150, deadline=None)
@given(
    ops=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 255), st.integers(0, 60)), max_size=40)
)
def test_mutated_streams_never_crash_nor_forward_events(ops: list[tuple[int, int, int]]) -> None:
    pcm, spans = _call()
    audio = _packets(pcm[:12000])
    raw = [
        bytearray(p)
        for p in _interleave(audio, _te_packets(spans[:2], CARD[:2], None, 5000, 0x1234), 5000)
    ]
    for op, value, at in ops:
        i = at % len(raw)
        if op == 0 and raw[i]:
            raw[i][value % len(raw[i])] = value
        elif op == 1:
            del raw[i][value % (len(raw[i]) + 1) :]
        elif op == 2:
            raw.insert(i, bytearray(raw[i]))
        elif op == 3 and len(raw) > 1:
            del raw[i]
        elif op == 4:
            raw[i], raw[-1] = raw[-1], raw[i]
    f = pf.RtpStreamFilter()
    out = f.process([bytes(p) for p in raw]) + f.flush()
    for p in out:
        q = RtpPacket.parse(p)
        assert q.payload_type != 101


def test_switching_on_removes_held_telephone_events() -> None:
    # The caller presses a key a moment before the payment session starts: its
    # telephone-events, still held in the look-ahead, are not forwarded either.
    pcm, spans = _call()
    audio = _packets(pcm)
    raw = _interleave(audio, _te_packets(spans[:1], CARD[:1], None, 5000, 0x1234), 5000)
    first_te = next(i for i, p in enumerate(raw) if RtpPacket.parse(p).payload_type == 101)
    f = pf.RtpStreamFilter()
    f.filtering = False
    out = f.process(raw[: first_te + 2])  # the event's first packets go in while off
    f.filtering = True
    out += f.process(raw[first_te + 2 :]) + f.flush()
    assert all(RtpPacket.parse(p).payload_type != 101 for p in out)
    assert _seq_contiguous(out) and len(out) == len(audio)


def _gateway_stream(pcm: np.ndarray, spans: list[tuple[int, int]], onset_ms: int) -> list[bytes]:
    """A gateway that sends telephone-events *instead of* audio (RFC 4733 §2.2), but only
    after its own detector caught up: the first `onset_ms` of each tone still go out as
    audio; the events carry the tone's true start timestamp."""
    audio = _packets(pcm)
    keep = [
        p for p in audio if not any(s + 8 * onset_ms <= p.timestamp - 5000 < e for s, e in spans)
    ]
    return _interleave(keep, _te_packets(spans, CARD, None, 5000, 0x1234), 5000)


def _coverage(packets: list[bytes], n: int) -> np.ndarray:
    hits = np.zeros(n, np.int32)
    for raw in packets:
        p = RtpPacket.parse(raw)
        at = (p.timestamp - 5000) & 0xFFFFFFFF
        hits[at : at + len(p.payload)] += 1
    return hits


def test_telephone_events_replaced_by_masking_audio() -> None:
    pcm, spans = _call()
    raw = _gateway_stream(pcm, spans, onset_ms=20)
    f = pf.RtpStreamFilter(telephone_events="replace")
    out = f.process(raw) + f.flush()
    parsed = [RtpPacket.parse(p) for p in out]
    assert all(p.payload_type == 0 for p in parsed)  # no telephone-event; audio in its place
    assert _seq_contiguous(out)
    n = len(pcm) // 160 * 160
    # Every sample the gateway sent, as audio or as an event, comes out once as audio.
    sent = _coverage([p for p in raw if RtpPacket.parse(p).payload_type == 0], n)
    for st_, en in spans:
        sent[st_:en] = 1
    assert np.array_equal(_coverage(out, n), np.minimum(sent, 1))
    s = f.stats
    assert s["telephone_events_replaced"] > 0
    assert s["telephone_events_replaced"] + s["telephone_events_dropped"] == len(raw) - sum(
        RtpPacket.parse(p).payload_type == 0 for p in raw
    )
    assert pf.digits_of(f.take_events()) == CARD
    y = _reassemble(out, 5000, n)
    _assert_no_digit(y)
    for st_, en in spans:  # the keypress is silence, its in-band onset included
        assert not y[st_:en].any()
    # The audio the gateway sent outside the keypresses (and the masks' margins) is bit-exact.
    x = _reassemble([p for p in raw if RtpPacket.parse(p).payload_type == 0], 5000, n)
    outside = np.ones(n, bool)
    for st_, en in spans:
        outside[max(0, st_ - 400) : en + 400] = False
    assert np.array_equal(x[outside], y[outside])


@pytest.mark.parametrize("mode", ["drop", "replace"])
def test_rfc4733_keypress_onset_leaked_in_band_is_masked(mode: str) -> None:
    # 30 ms of each tone go out as audio before the gateway switches to events: too short
    # for any detector to confirm, masked because the events say a keypress started there.
    pcm, spans = _call()
    raw = _gateway_stream(pcm, spans, onset_ms=30)
    f = pf.RtpStreamFilter(telephone_events=mode)
    y = _reassemble(f.process(raw) + f.flush(), 5000, len(pcm))
    for st_, _ in spans:
        assert not y[st_ : st_ + 240].any()


def test_replace_with_a_sender_of_both_audio_and_events_matches_drop() -> None:
    # Audio always covers the events' time first: nothing to replace, everything as "drop".
    pcm, spans = _call()
    raw = _interleave(_packets(pcm), _te_packets(spans, CARD, None, 5000, 0x1234), 5000)
    outs = []
    for mode in ("drop", "replace"):
        f = pf.RtpStreamFilter(telephone_events=mode)
        outs.append(f.process(raw) + f.flush())
    assert outs[0] == outs[1]


def test_replace_falls_back_to_drop_when_audio_follows_its_events() -> None:
    # A sender whose audio for a keypress's time arrives after the events: the replaced
    # time's audio is dropped (never leaked, later packets renumbered), and later events
    # are dropped.
    pcm, spans = _call()
    te = [(at - 320, p) for at, p in _te_packets(spans, CARD, None, 5000, 0x1234)]
    raw = _interleave(_packets(pcm), te, 5000)
    f = pf.RtpStreamFilter(telephone_events="replace")
    out = f.process(raw) + f.flush()
    assert all(RtpPacket.parse(p).payload_type == 0 for p in out)
    s = f.stats
    assert 0 < s["telephone_events_replaced"] < len(CARD) and s["late"] > 0
    assert (_coverage(out, len(pcm) // 160 * 160) <= 1).all() and _seq_contiguous(out)
    _assert_no_digit(_reassemble(out, 5000, len(pcm)))


def test_a_key_pressed_again_after_lost_end_packets_is_a_new_press() -> None:
    """Every end packet of each keypress lost (or never sent): the next press of the same key
    170 ms on is a new keypress, not the next segment of a long one (RFC 4733 §2.5.1.3 cuts
    segments only at the 16-bit duration's end). Before, CARD's fifteen '1's came out as one."""
    pcm, spans = _call()
    te = [(at, p) for at, p in _te_packets(spans, CARD, None, 5000, 0x1234) if p.payload[1] < 0x80]
    f = pf.RtpStreamFilter()
    f.process(_interleave(_packets(pcm), te, 5000))
    f.flush()
    assert pf.digits_of(f.take_events()) == CARD


def _te_packed(spans: list[tuple[int, int]], digits: str, ts0: int, ssrc: int) -> list:
    """RFC 4733 packets from a sender that packs keypresses in pairs (§2.5.1.5): the first of
    each pair alone while it lasts (its duration running on to the second's start: packed
    events are contiguous), then both in every packet, under the first one's timestamp, the
    second keypress never in first place."""
    codes = {d: i for i, d in enumerate("0123456789*#ABCD")}

    def block(d: str, duration: int, end: bool) -> bytes:
        return bytes([codes[d], (0x80 if end else 0) | 10]) + duration.to_bytes(2, "big")

    out = []
    for k in range(0, len(digits), 2):
        (s, e), d = spans[k], digits[k]
        if k + 1 == len(digits):
            return out + _te_packets([(s, e)], d, None, ts0, ssrc)
        (s2, e2), d2 = spans[k + 1], digits[k + 1]
        ts = (ts0 + s) & 0xFFFFFFFF
        out += [
            (at, RtpPacket(101, at == s, 0, ts, ssrc, payload=block(d, at - s, False)))
            for at in range(s, s2, 160)
        ]
        first = block(d, s2 - s, True)
        out += [
            (at, RtpPacket(101, False, 0, ts, ssrc, payload=first + block(d2, at - s2, False)))
            for at in range(s2 + 160, e2, 160)
        ]
        out += [
            (e2, RtpPacket(101, False, 0, ts, ssrc, payload=first + block(d2, e2 - s2, True)))
        ] * 3
    return out


@pytest.mark.parametrize("mode", ["drop", "replace"])
def test_keypresses_packed_in_one_packet_are_each_reported(mode: str) -> None:
    """RFC 4733 §2.5.1.5 packs events back to back in one packet: each is a keypress,
    reported once, at its own start (the first event's duration on). Before, only the first
    event of a packet was read: every second digit of the card number was lost."""
    pcm, spans = _call()
    te = _te_packed(spans, CARD, 5000, 0x1234)
    raw = _interleave(_packets(pcm), te, 5000)
    f = pf.RtpStreamFilter(telephone_events=mode)
    out = f.process(raw) + f.flush()
    events = f.take_events()
    assert pf.digits_of(events) == CARD and {e.name for e in events} == {"rfc4733"}
    assert [round(e.start_ms) for e in events] == [round(s / 8) for s, _ in spans]
    assert all(RtpPacket.parse(p).payload_type != 101 for p in out) and _seq_contiguous(out)
    _assert_no_digit(_reassemble(out, 5000, len(pcm)))
    f = pf.RtpStreamFilter()
    f.filtering = False
    assert f.process(raw) + f.flush() == raw
    assert pf.digits_of(f.take_events()) == CARD


def test_events_not_taken_are_kept_up_to_a_bound() -> None:
    """A sender of eight new keypresses packed in every packet (or a caller that never takes
    the events) does not grow the filter without bound: 1,024 are kept until taken, the
    rest counted; taking them makes room again."""
    f = pf.RtpStreamFilter()
    block = b"".join(bytes([k % 16, 0x8A, 0x00, 0xA0]) for k in range(8))  # 8 ended, 20 ms
    packets = [
        RtpPacket(101, True, i, 1000 + 1280 * i, 0x1234, payload=block).serialize()
        for i in range(300)
    ]
    f.process(packets)
    assert f.stats["keypresses_rfc4733"] == 2400
    assert len(f.take_events()) == 1024 and f.stats["events_dropped"] == 2400 - 1024
    f.process([RtpPacket(101, True, 300, 1000 + 1280 * 300, 0x1234, payload=block).serialize()])
    assert len(f.take_events()) == 8


def _interleave_apart(audio: list[RtpPacket], te: list, ts0: int) -> list[bytes]:
    """Audio and telephone-event packets in send order, the events numbered in a sequence of
    their own (from 40000), the audio keeping its own."""
    timeline = [((p.timestamp - ts0) & 0xFFFFFFFF, 0, p) for p in audio]
    timeline += [(at, 1, p) for at, p in te]
    timeline.sort(key=lambda x: (x[0], x[1]))
    out, seq = [], 40000
    for _, is_event, p in timeline:
        if is_event:
            p = RtpPacket(p.payload_type, p.marker, seq, p.timestamp, p.ssrc, payload=p.payload)
            seq += 1
        out.append(p.serialize())
    return out


@pytest.mark.parametrize("mode", ["drop", "replace"])
def test_events_under_an_ssrc_of_their_own_in_the_audio_s_sequence(mode: str) -> None:
    """Some senders send telephone-events under an SSRC of their own beside the audio's
    (rtpengine issue 1569): not a new source. Taken for one, every switch restarted the
    timeline (80 keypresses reported for 16, audio masked at each switch); now the output is
    the one of events under the audio's SSRC, replacements under the audio's SSRC too."""
    pcm, spans = _call()
    outs = []
    for ssrc in (0x1234, 0x9999):
        raw = _interleave(_packets(pcm), _te_packets(spans, CARD, None, 5000, ssrc), 5000)
        f = pf.RtpStreamFilter(telephone_events=mode)
        outs.append(f.process(raw) + f.flush())
        assert pf.digits_of(f.take_events()) == CARD
        assert f.stats["ssrc_changes"] == 0
    assert outs[0] == outs[1]
    assert f.stats["side_events"] > 0
    assert {RtpPacket.parse(p).ssrc for p in outs[1]} == {0x1234}


@pytest.mark.parametrize("onset_ms", [0, 30])
def test_events_under_an_ssrc_sequence_and_clock_of_their_own(onset_ms: int) -> None:
    """Events under their own SSRC, numbered in their own sequence and on a clock base of
    their own, from a gateway that sends them instead of audio `onset_ms` into each keypress:
    each keypress reported once, the audio's sequence numbers left as they were (nothing of
    its sequence was taken out), and the keypresses' in-band onsets masked from the events,
    placed on the audio's timeline by their arrival."""
    pcm, spans = _call()
    audio = [
        p
        for p in _packets(pcm)
        if not any(s + 8 * onset_ms <= p.timestamp - 5000 < e for s, e in spans)
    ]
    te = [
        (at + 8 * onset_ms, p)
        for at, p in _te_packets(spans, CARD, None, 0x7000_0000, 0x9999)
        if at >= 0
    ]
    raw = _interleave_apart(audio, te, 5000)
    f = pf.RtpStreamFilter()
    out = f.process(raw) + f.flush()
    events = f.take_events()
    assert pf.digits_of(events) == CARD
    # reported under the audio's SSRC, on its clock base (the first event where it arrived,
    # its duration before the newest audio; the rest as they are to the first)
    assert {e.ssrc for e in events} == {0x1234}
    first = events[0].rtp_timestamp - 5000 - spans[0][0]
    assert -160 <= first <= 8 * onset_ms
    assert [e.rtp_timestamp - events[0].rtp_timestamp for e in events] == [
        s - spans[0][0] for s, _ in spans
    ]
    assert f.stats["ssrc_changes"] == 0 and f.stats["telephone_events_dropped"] == len(te)
    assert [RtpPacket.parse(p).sequence_number for p in out] == [p.sequence_number for p in audio]
    y = _reassemble(out, 5000, len(pcm))
    _assert_no_digit(y)
    for st_, _ in spans:
        assert not y[st_ : st_ + 8 * onset_ms].any()
    # Switched off and on with such events held: they are taken out, the audio not renumbered.
    f = pf.RtpStreamFilter()
    f.filtering = False
    held = f.process(raw[:40])
    f.filtering = True
    rest = f.process(raw[40:]) + f.flush()
    sent = [RtpPacket.parse(p) for p in held + rest]
    assert all(p.ssrc == 0x1234 for p in sent if p.payload_type == 0)
    seqs = [p.sequence_number for p in sent if p.payload_type == 0]
    assert seqs == [p.sequence_number for p in audio]


@pytest.mark.parametrize("mode", ["drop", "replace"])
def test_a_new_source_whose_events_come_before_its_audio_reports_its_keypress_once(
    mode: str,
) -> None:
    """A new source (its own SSRC, sequence and clock) that starts with a keypress, its first
    telephone-events before its first audio: taken for events beside the old source's audio
    until its audio comes, then the stream restarts on it, and the keypress under way goes
    on (it was reported twice: "55")."""
    rng = np.random.default_rng(1)
    x = sg.to_int16(sg.white_noise(8000, -50, rng))
    old = [p.serialize() for p in _packets(x[:4000], ssrc=0xA)]
    tb = 0x50000000
    events = [
        RtpPacket(p.payload_type, p.marker, 3000 + i, p.timestamp, p.ssrc, payload=p.payload)
        for i, (_, p) in enumerate(_te_packets([(0, 800)], "5", None, tb, 0xB))
    ]
    audio = [
        RtpPacket(
            0,
            False,
            4000 + i,
            tb + 160 * i,
            0xB,
            payload=pf.ulaw_encode(x[4000 + 160 * i : 4160 + 160 * i]).tobytes(),
        )
        for i in range(20)
    ]
    sent = old + [p.serialize() for p in events[:2] + audio[:3] + events[2:] + audio[3:]]
    f = pf.RtpStreamFilter(telephone_events=mode)
    f.process(sent)
    f.flush()
    assert pf.digits_of(f.take_events()) == "5"
    assert f.stats["ssrc_changes"] == 1 and f.stats["side_events"] == 2


def test_telephone_events_option_is_checked() -> None:
    with pytest.raises(ValueError, match="telephone_events"):
        pf.RtpStreamFilter(telephone_events="forward")


@settings(max_examples=40, deadline=None)
@given(
    jitter=st.lists(st.integers(-120, 120), min_size=150, max_size=150),
    swaps=st.lists(st.integers(0, 148), max_size=20),
)
def test_overlapping_and_reordered_timestamps_never_leak(
    jitter: list[int], swaps: list[int]
) -> None:
    # Broken or hostile senders: timestamps that make packets overlap, and reordering. Whatever
    # the timeline makes of them, every payload that leaves is scrubbed audio.
    x, _ = sg.keyed_sequence("1593", 100, 100, -10, lead_ms=200)
    pcm = sg.to_int16(np.concatenate([x, np.zeros(24000 - len(x))]))
    audio = _packets(pcm)[:150]
    raw = [
        RtpPacket(
            0, False, p.sequence_number, (p.timestamp + j) & 0xFFFFFFFF, p.ssrc, payload=p.payload
        ).serialize()
        for p, j in zip(audio, jitter, strict=True)
    ]
    for i in swaps:
        raw[i], raw[i + 1] = raw[i + 1], raw[i]
    f = pf.RtpStreamFilter()
    out = f.process(raw) + f.flush()
    heard = np.concatenate([pf.ulaw_decode(RtpPacket.parse(p).payload) for p in out])
    _assert_no_digit(heard)


def test_unknown_payload_types_are_dropped_while_filtering() -> None:
    # RED (RFC 2198) or an unnegotiated codec could carry a keypress the filter cannot scrub.
    pcm, _ = _call()
    audio = [p.serialize() for p in _packets(pcm[:8000])]
    red = RtpPacket(99, False, 0, 5000 + 800, 0x1234, payload=b"\x80" * 40).serialize()
    raw = [*audio[:5], red, *audio[5:]]
    raw = [
        RtpPacket(
            RtpPacket.parse(p).payload_type,
            False,
            1000 + i,
            RtpPacket.parse(p).timestamp,
            0x1234,
            payload=RtpPacket.parse(p).payload,
        ).serialize()
        for i, p in enumerate(raw)
    ]
    f = pf.RtpStreamFilter()
    out = f.process(raw) + f.flush()
    assert [RtpPacket.parse(p).payload_type for p in out] == [0] * len(audio)
    assert f.stats["unknown_dropped"] == 1 and _seq_contiguous(out)
    f = pf.RtpStreamFilter(pass_unknown_payloads=True)
    assert 99 in [RtpPacket.parse(p).payload_type for p in f.process(raw) + f.flush()]
    f = pf.RtpStreamFilter()
    f.filtering = False  # no payment session: everything passes
    assert f.process(raw) + f.flush() == raw


def test_process_takes_one_packet_or_any_iterable_of_bytes_like() -> None:
    pcm, _ = _call()
    raw = [p.serialize() for p in _packets(pcm[:8000])]

    def run(feed) -> list[bytes]:
        f = pf.RtpStreamFilter()
        out = []
        for chunk in feed:
            out += f.process(chunk)
        return out + f.flush()

    whole = run([raw])
    assert len(whole) == len(raw)
    assert run(raw) == whole  # one bytes packet per call
    assert run([[bytearray(p) for p in raw]]) == whole
    assert run([tuple(memoryview(p) for p in raw)]) == whole
    assert run([iter(raw)]) == whole  # a generator
    assert run([bytearray(p) for p in raw]) == whole
    # A flat buffer of bytes is one packet (before, a numpy uint8 array was iterated: each of
    # its bytes went in as a packet of its own, dropped as too short); an object array of
    # packets is a batch.
    assert run([np.frombuffer(p, np.uint8) for p in raw]) == whole
    assert run([array.array("B", p) for p in raw]) == whole
    assert run([[np.frombuffer(p, np.int8) for p in raw]]) == whole
    assert run([np.array(raw, dtype=object)]) == whole
    f = pf.RtpStreamFilter()
    for bad in (
        "text",
        [raw[0], "text"],
        7,
        [3],
        np.zeros(86, np.int16),
        np.zeros((2, 172), np.uint8),
    ):
        with pytest.raises(TypeError):
            f.process(bad)
    assert f.stats["packets_in"] == 0  # a batch with a bad packet is refused whole


def test_masked_spans_are_reported_on_the_rtp_clock() -> None:
    """`take_masked` says where the output was masked, as RTP timestamps and durations:
    one span over each keypress (from a little before it to a little after), drained by each
    call; nothing while filtering is off."""
    pcm, spans = _call()
    audio = [p.serialize() for p in _packets(pcm, ts=0xFFFFF000)]  # the clock wraps mid-call
    f = pf.RtpStreamFilter()
    out = f.process(audio) + f.flush()
    masked = f.take_masked()
    assert f.take_masked() == []
    assert len(masked) == len(spans)
    y = _reassemble(out, 0xFFFFF000, len(pcm))
    for (ts, duration), (s, e) in zip(masked, spans, strict=True):
        start = (ts - 0xFFFFF000) & 0xFFFFFFFF
        assert s - 240 <= start <= s and e <= start + duration <= e + 320  # lead-in, hang-over
        assert not y[start + 8 : start + duration - 8].any()  # idle inside the 1 ms ramps
    g = pf.RtpStreamFilter()
    g.filtering = False
    g.process(audio)
    g.flush()
    assert g.take_masked() == []


def test_mask_removes_exactly_the_span_asked_for() -> None:
    """`mask(timestamp, duration)` masks that span whether or not a keypress is there (a
    keypress known from elsewhere, a prompt muted whole), as long as it has not gone out:
    exactly it is idle in the output, everything else passes bit-exact. Too late, before the
    stream's first packet, or with filtering off: nothing is masked, and it says so."""
    rng = np.random.default_rng(3)
    pcm = sg.to_int16(sg.white_noise(8000, -55, rng))  # one second, nothing to mask
    audio = [p.serialize() for p in _packets(pcm, ts=1000)]
    f = pf.RtpStreamFilter()
    assert not f.mask(1000, 80)  # no stream yet
    out = f.process(audio[:5])
    assert f.mask(1000 + 1000, 1234) and f.mask(1000 + 6000, 50)  # ahead of the output
    assert not f.mask(1000 + 100, 400)  # partly gone out already: the rest is masked
    out += f.process(audio[5:]) + f.flush()
    y = _reassemble(out, 1000, len(pcm))
    asked = np.zeros(len(pcm), bool)
    asked[1000:2234] = asked[6000:6050] = True
    assert not y[1008:2226].any() and not y[6008:6042].any()  # idle inside the 1 ms ramps
    passed = ~asked
    passed[100:500] = False  # the late one: what had not gone out yet may be masked
    assert np.array_equal(y[passed], pf.ulaw_decode(pf.ulaw_encode(pcm))[passed])
    assert not np.array_equal(y[asked], pf.ulaw_decode(pf.ulaw_encode(pcm))[asked])
    assert f.take_masked()[-2:] == [(2000, 1234), (7000, 50)]
    g = pf.RtpStreamFilter()
    g.filtering = False
    g.process(audio[:3])
    assert not g.mask(1000 + 2000, 80)
    with pytest.raises(ValueError, match="32-bit"):
        f.mask(-1, 80)
    with pytest.raises(ValueError, match="32-bit"):
        f.mask(0, 1 << 32)


def test_masked_spans_left_undrained_stay_bounded() -> None:
    """300 masked spans and no `take_masked` call: the filter keeps 256 and stretches the
    last over the rest (it may say more was masked, never less)."""
    pcm = sg.to_int16(sg.white_noise(8000 * 13, -55, np.random.default_rng(4)))  # never masked
    audio = [p.serialize() for p in _packets(pcm, ts=0)]
    f = pf.RtpStreamFilter()
    f.process(audio[:1])
    asked = [(40 + 320 * k, 40) for k in range(300)]  # 5 ms every 40 ms
    for k, p in enumerate(audio):
        if k > 0:
            f.process(p)
        for ts, d in asked:
            if k * 160 <= ts < (k + 1) * 160:
                assert f.mask(ts, d)
    f.flush()
    masked = f.take_masked()
    assert len(masked) == 256
    assert masked[:255] == asked[:255]
    assert masked[255] == (asked[255][0], asked[-1][0] + 40 - asked[255][0])


def _comfort_noise(pcm: np.ndarray) -> list[bytes]:
    """RFC 3389 comfort-noise payloads of `pcm`, one per 80 ms, by FFmpeg's encoder (PyAV)."""
    import av  # test-only (PyAV)

    enc = av.CodecContext.create("comfortnoise", "w")
    enc.sample_rate, enc.format, enc.layout = 8000, "s16", "mono"
    enc.open()
    out = []
    for at in range(0, len(pcm) - 639, 640):
        frame = av.AudioFrame.from_ndarray(
            pcm[at : at + 640].reshape(1, -1), format="s16", layout="mono"
        )
        frame.sample_rate = 8000
        out += [bytes(p) for p in enc.encode(frame)]
    return out


def _render_comfort_noise(payloads: list[bytes]) -> np.ndarray:
    """What a receiver plays for comfort-noise payloads, 80 ms each: FFmpeg's decoder."""
    import av

    dec = av.CodecContext.create("comfortnoise", "r")
    dec.sample_rate, dec.layout = 8000, "mono"
    out = [f.to_ndarray().reshape(-1) for p in payloads for f in dec.decode(av.Packet(p))]
    return np.concatenate(out).astype(np.int16)


@pytest.mark.parametrize("digit", ["2", "8"])
def test_comfort_noise_keeps_its_level_not_a_keypress_s_spectrum(digit: str) -> None:
    """A sender whose VAD takes a keypress for background sends comfort noise that describes
    it: FFmpeg's RFC 3389 encoder, then its decoder, give noise in which our detector hears
    the digit (spandsp does not; it is the less sensitive). While filtering, comfort noise
    passes with its level only (white noise at the same level), counted; when filtering is
    off it passes as it was."""
    x, _ = sg.keyed_sequence(digit, 400, 100, -15, lead_ms=0)
    cn = _comfort_noise(sg.to_int16(x))
    assert [e.digit for e in pf.detect(_render_comfort_noise(cn * 2))] == [digit]  # the leak
    pcm, _ = _call()
    audio = _packets(pcm[:8000])
    raw = [p.serialize() for p in audio]
    last = audio[-1]
    for i, payload in enumerate(cn):  # then the comfort noise, one packet per 80 ms
        pkt = RtpPacket(
            13,
            False,
            last.sequence_number + 1 + i,
            last.timestamp + 160 + 640 * i,
            last.ssrc,
            payload=payload,
            padding_size=4 if i == 0 else 0,  # padding goes with the spectrum
        )
        raw.append(pkt.serialize())
    f = pf.RtpStreamFilter()
    out = [RtpPacket.parse(p) for p in f.process(raw) + f.flush()]
    sent = [p.payload for p in out if p.payload_type == 13]
    heard = _render_comfort_noise(sent * 2)
    assert pf.detect(heard) == [] and spandsp.spandsp_digits(heard, lenient=True) == ("", 0)
    assert len(sent) == len(cn) and f.stats["comfort_noise_flattened"] == len(cn)
    assert [p[:1] for p in sent] == [p[:1] for p in cn]  # the noise level
    assert all(p.padding_size == 0 for p in out)
    off = pf.RtpStreamFilter()
    off.filtering = False
    passed = off.process(raw) + off.flush()
    assert [
        RtpPacket.parse(p).payload for p in passed if RtpPacket.parse(p).payload_type == 13
    ] == cn
    assert off.stats["comfort_noise_flattened"] == 0


_LONG_GAP_CUT = 8000 + 1600  # the end of the keypress in _long_gap_call


def _long_gap_call() -> np.ndarray:
    """1 s of line noise, a 200 ms keypress ('5', -10 dBm0 a tone), 3 s of line noise."""
    rng = np.random.default_rng(4)
    keypress = sg.dtmf("5", 200, level_dbm0=-10)
    x = sg.white_noise(32000 + len(keypress), -50, rng)  # 3 s after it: 24,000 held
    x[8000:_LONG_GAP_CUT] += keypress
    return sg.to_int16(x)


@pytest.mark.parametrize("how", ["a long gap", "a long reorder window"])
def test_long_gaps_and_reorder_windows_leave_nothing_of_a_keypress(how: str) -> None:
    """`max_gap_ms` and `reorder_window_ms` past their defaults: a 200 ms keypress just
    before a 4 s pause (filled at once), or just after the packet that comes last of 3 s of
    packets held for it (a 5 s window). Either put out more audio at once than the filter's
    output ring holds while the keypress's last packets waited in the look-ahead: they
    passed as sent (0 dB; csrc/tests/test_stream_filter.cpp, the C++ twin, fails without
    the fix). With the reorder window, the late packet is put in its place, none dropped."""
    from leak import worst_window_db

    pcm = _long_gap_call()
    packets = _packets(pcm)
    cut = _LONG_GAP_CUT
    if how == "a long gap":
        f = pf.RtpStreamFilter(max_gap_ms=10_000)
        raw, jump = _paused(packets, 5000, cut, 4 * 8000), 4 * 8000
    else:
        f = pf.RtpStreamFilter(reorder_window_ms=5_000, max_gap_ms=10_000)
        late = 8000 // 160 - 1  # the packet before the keypress
        raw = [p.serialize() for k, p in enumerate(packets) if k != late]
        raw, jump = [*raw, packets[late].serialize()], 0
    out = f.process(raw) + f.flush()
    assert len(out) == len(packets) and f.stats["late"] == 0
    y = _reassemble(out, 5000, len(pcm) + jump)
    assert worst_window_db(y, 8000, cut, "5", -10) < -40


def test_reorder_window_and_max_gap_are_checked() -> None:
    for options in (
        {"max_gap_ms": 10},  # under 20 ms
        {"max_gap_ms": 60_001},
        {"reorder_window_ms": -1},
        {"reorder_window_ms": 3_000},  # longer than the default 2 s gap
    ):
        with pytest.raises(ValueError, match="must"):
            pf.RtpStreamFilter(**options)


def test_events_are_placed_on_the_rtp_stream() -> None:
    """Each event a stream filter reports says where it is on the RTP stream: the SSRC of
    the audio, the RTP timestamp of its first sample and its length in clock units, on the
    clock of take_masked() and mask() (its start_ms counts from its timeline's start, which
    a new source or a timestamp reset begins again). Across a change of source, a timestamp
    wrap and an Opus stream's 48 kHz clock; telephone-events keep their own timestamp and
    report their duration so far; events not from RTP have none."""
    from opuslib import rtp_stream, upsample6

    pcm, spans = _call()
    cut = spans[8][0] - 400  # in the pause before the ninth keypress: a new source from there
    first = _packets(pcm[:cut], 20, ts=2**32 - 3000)  # its timestamps wrap after 3000
    second = _packets(pcm[cut:], 20, ts=77, ssrc=0x9999, seq=1000 + len(first))
    f = pf.RtpStreamFilter()
    f.process([p.serialize() for p in first + second])
    f.flush()
    events = f.take_events()
    assert len(events) == len(CARD)
    for (s, e), ev in zip(spans, events, strict=True):
        ssrc, at = (0x1234, 2**32 - 3000 + s) if s < cut else (0x9999, 77 + s - cut)
        assert ev.ssrc == ssrc
        assert abs(((ev.rtp_timestamp - at + 2**31) & 0xFFFFFFFF) - 2**31) <= 40  # 5 ms
        assert abs(ev.rtp_duration - (e - s)) <= 80
        assert ev.rtp_duration == ev.end - ev.start
    # On the clock of take_masked(): the span masked for the keypress holds it.
    f = pf.RtpStreamFilter()
    f.process([p.serialize() for p in first[:40]])
    ev = f.take_events()[0]
    t, d = f.take_masked()[0]
    assert (ev.rtp_timestamp - t) & 0xFFFFFFFF <= d - ev.rtp_duration
    # Opus: 48 kHz clock units.
    x, ospans = sg.keyed_sequence("73", 100, 100, -10, lead_ms=300)
    raw = rtp_stream(upsample6(sg.to_int16(np.concatenate([x, np.zeros(4000)]))), "silk", 20, 24000)
    ts0 = RtpPacket.parse(raw[0]).timestamp
    f = pf.RtpStreamFilter(opus_pt=111)
    f.process(raw)
    f.flush()
    for (s, e), ev in zip(ospans, f.take_events(), strict=True):
        assert abs(ev.rtp_timestamp - (ts0 + 6 * s)) <= 6 * 80  # the codec's delay, 6.5 ms
        assert abs(ev.rtp_duration - 6 * (e - s)) <= 6 * 80
    # Telephone-events: the event's timestamp, its duration when reported (its first packet).
    audio = _packets(pcm, 20, ts=5000)
    f = pf.RtpStreamFilter(telephone_event_pt=101)
    f.process(_interleave(audio, _te_packets(spans[:2], CARD[:2], None, 5000, 0x1234), 5000))
    f.flush()
    rfc = [e for e in f.take_events() if e.name == "rfc4733"]
    assert [(e.ssrc, e.rtp_timestamp, e.rtp_duration) for e in rfc] == [
        (0x1234, 5000 + s, 0) for s, _ in spans[:2]
    ]
    assert all(e.ssrc is e.rtp_timestamp is e.rtp_duration is None for e in pf.detect(pcm))
