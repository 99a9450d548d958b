# SPDX-License-Identifier: Apache-2.0
"""Opus RTP streams (RFC 7587): keypresses coded in SILK, hybrid and CELT at 10-60 ms frames
are found and removed; what the filter puts out is a valid Opus stream (an independent libopus
decoder takes every packet) in which neither spandsp nor the tone projections find any trace of
a keypress; packets away from keypresses pass bit-exact; RFC 4733 events at 48 kHz (and at
8 kHz, as some endpoints declare them), loss with concealment and in-band FEC, and malformed
packets are handled."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from leak import background, window_db
from opuslib import Decoder, rtp_stream, upsample6, write_ogg_opus

import pcifilter as pf
from pcifilter import _core, spandsp
from pcifilter import signals as sg
from pcifilter.rtp import RtpPacket
from pcifilter.wavio import read_wav

CARD = "4111111111111111"
PT = 111
TS0 = 90000


def _call(
    digits: str = CARD, level: float = -10.0, rate: int = 48000, seed: int = 1
) -> tuple[npt.NDArray[np.int16], list[tuple[int, int]]]:
    rng = np.random.default_rng(seed)
    x, spans = sg.keyed_sequence(digits, 80, 90, level, lead_ms=300, sample_rate=rate)
    x = np.concatenate([x, np.zeros(rate // 2)])
    return sg.to_int16(x + sg.white_noise(len(x), -50, rng)), spans


def _stream(
    pcm: npt.NDArray[np.int16], mode: str, frame_ms: int, bitrate: int = 24000, fec: bool = False
) -> list[bytes]:
    return rtp_stream(pcm, mode, frame_ms, bitrate, PT, ts0=TS0, seq0=7, ssrc=0x51, fec=fec)


def _listen(packets: list[bytes], rate: int = 8000) -> npt.NDArray[np.int16]:
    """The stream as a receiver hears it: every Opus packet decoded in timestamp order, at
    its place on the timeline; a gap is recovered from the next packet's in-band FEC (libopus
    conceals what FEC does not cover). Raises if any packet does not decode."""
    dec = Decoder(rate)
    div = 48000 // rate
    out: list[npt.NDArray[np.int16]] = []
    at = 0
    for raw in packets:
        p = RtpPacket.parse(raw)
        if p.payload_type != PT:
            continue
        t = ((p.timestamp - TS0) & 0xFFFFFFFF) // div
        if t > at:
            out.append(dec.decode(p.payload, t - at, fec=True))
            at = t
        y = dec.decode(p.payload, 120 * rate // 1000)
        out.append(y)
        at += len(y)
    return np.concatenate(out)


def _assert_no_trace(y: npt.NDArray[np.int16], spans: list[tuple[int, int]], digits: str) -> None:
    """spandsp (lenient) hears no digit, and in every 10 ms from each tone's onset to 10 ms
    past its end (Opus delays by a few ms) the output's projection on the tone's frequencies
    is 40 dB below the tone's own."""
    assert spandsp.spandsp_digits(y, lenient=True) == ("", 0)
    x = y.astype(np.float64)
    for (s48, e48), d in zip(spans, digits, strict=True):
        s, e = s48 // 6, e48 // 6
        for w in range(s, e + 80, 80):  # the keypresses were keyed at -10 dBm0
            assert window_db(x, w, d, -10.0) <= -40.0, (d, w - s)


@pytest.mark.parametrize(("frame_ms", "lookahead_ms"), [(2.5, 100.0), (2.5, 200.0), (5, 200.0)])
def test_short_frames_under_a_long_look_ahead_lose_no_packet(
    frame_ms: float, lookahead_ms: float
) -> None:
    """CELT's 2.5 and 5 ms frames: the packets the look-ahead holds are many more. The filter
    held 32 at most, filled before any was ready, and dropped 95 % of the stream after."""
    pcm, spans = _call()
    raw = rtp_stream(pcm, "celt", frame_ms, 64000, PT, ts0=TS0, seq0=7, ssrc=0x51)
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1, lookahead_ms=lookahead_ms)
    out = [q for p in raw for q in f.process(p)] + f.flush()
    assert len(out) == len(raw) and f.stats["late"] == 0
    assert pf.digits_of(f.take_events()) == CARD
    _assert_no_trace(_listen(out), spans, CARD)


@pytest.mark.parametrize(
    ("frame_ms", "lookahead_ms"), [(10, 40.0), (20, 40.0), (40, 40.0), (60, 40.0), (20, 160.0)]
)
@pytest.mark.parametrize("mode", ["silk", "hybrid", "celt"])
def test_keypresses_in_opus_are_found_and_removed(
    mode: str, frame_ms: int, lookahead_ms: float
) -> None:
    pcm, spans = _call()
    raw = _stream(pcm, mode, frame_ms)
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1, lookahead_ms=lookahead_ms)
    out = f.process(raw) + f.flush()
    assert pf.digits_of(f.take_events()) == CARD
    assert spandsp.spandsp_digits(_listen(raw))[0] == CARD  # the input carries them
    assert len(out) == len(raw)
    assert [RtpPacket.parse(p).timestamp for p in out] == [
        RtpPacket.parse(p).timestamp for p in raw
    ]
    _assert_no_trace(_listen(out), spans, CARD)
    # Packets well away from every keypress pass bit-exact; the rest were re-encoded.
    n = 48 * frame_ms
    away = 0
    for a, b in zip(raw, out, strict=True):
        t = RtpPacket.parse(a).timestamp - TS0
        if all(t + n < s - 48 * 100 or t > e + 48 * 100 for s, e in spans):
            assert a == b
            away += 1
    assert away >= 600 // frame_ms - 4  # the lead-in and the tail, 100 ms from any keypress
    assert 0 < f.stats["reencoded"] < len(raw) - away + 1


def _masked_as(
    raw: list[bytes], masked: list[tuple[int, int]], check: bool = True, **options: float | str
) -> npt.NDArray[np.float64]:
    """`raw` through a filter that finds nothing itself (no window reaches its 0 dBm0 mask
    level) and masks exactly `masked` (RFC 7587 timestamps and durations, as `take_masked`
    gave them for another run), each asked for one look-ahead before its packet arrives;
    decoded. Checks that it masked the same packets, but for a stream's first 140 and last
    20 ms: masked when they start on sound or end loud (the start guard, 120 ms; the edge
    guards, 15 ms), they may be here and not in the other run, whose decoded audio differs a
    little in level there (no keypress is in either). With `check` False, not checked (a new
    timeline after a pause has a start guard of its own: the measure then counts what the
    two runs masked differently as the keypress's, over-counting, never under)."""
    f = pf.RtpStreamFilter(
        opus_pt=PT, telephone_event_pt=-1, mask_min_level_dbm0=0.0, min_level_dbm0=0.0, **options
    )
    ahead = f.delay * 6  # the look-ahead on the 48 kHz RTP clock
    out, todo = [], list(masked)
    for packet in raw:
        out += f.process(packet)
        ts = RtpPacket.parse(packet).timestamp
        while todo and todo[0][0] - ts < ahead:
            assert f.mask(*todo.pop(0))
    out += f.flush()
    stamps = [RtpPacket.parse(p).timestamp for p in raw]
    inner = [
        t
        for t in stamps
        if (t - stamps[0]) & 0xFFFFFFFF >= 48 * 140 and (stamps[-1] - t) & 0xFFFFFFFF >= 960
    ]

    def packets(spans: list[tuple[int, int]]) -> set[int]:  # those masked, 20 ms from the edges
        return {t for t in inner if any(0 <= (t - a) & 0xFFFFFFFF < d for a, d in spans)}

    assert not check or packets(f.take_masked()) == packets(masked)
    return _listen(out).astype(np.float64)


def keyed_streams(
    coding: str, frame_ms: int, bg: str, bitrate: int, seed: int
) -> tuple[list[tuple[str, float]], list[tuple[int, int]], list[list[bytes]]]:
    """`opus_leak_sweep`'s keypresses (digit, level), their spans (8 kHz), and the two Opus
    streams of background and keypresses, keyed and keyed inverted: 24 keypresses of
    40-200 ms at any onset, -3 to -30 dBm0 over silence and line noise, -3 to -15 dBm0 over
    speech and music at -20 dBm0, drawn from the stream's name."""
    rng = np.random.default_rng(zlib.crc32(f"{coding} {frame_ms} {bg} {seed}".encode()))
    quiet = bg in ("silence", "line_noise")
    levels = (-3.0, -10.0, -15.0, -20.0, -25.0, -30.0) if quiet else (-3.0, -10.0, -15.0)
    keys = [(sg.DIGITS[i % 16], levels[i % len(levels)]) for i in range(24)]
    n = 8000 * len(keys) // 2 + 4000
    tones = np.zeros(n)
    spans, at = [], 2000
    for digit, level in keys:
        at += int(rng.integers(0, 800))
        spans.append(sg.key_into(tones, rng, digit, float(rng.uniform(40, 200)), level, at))
        at = spans[-1][1] + 1600
    back = background(bg, n, rng)
    raws = [
        rtp_stream(
            upsample6(sg.to_int16(back + sign * tones)),
            coding,
            frame_ms,
            bitrate,
            PT,
            ts0=TS0,
            seq0=7,
            ssrc=0x51,
        )
        for sign in (1.0, -1.0)
    ]
    return keys, spans, raws


def opus_leak_sweep(
    coding: str,
    frame_ms: int,
    bg: str,
    bitrate: int = 24000,
    seed: int = 0,
    **options: float | str,
) -> tuple[list[tuple[str, float, int, float]], bool]:
    """The core's leak criterion on the decoded output of a filtered Opus stream: 24
    keypresses of 40-200 ms at any onset, -3 to -30 dBm0 over silence and line noise, -3 to
    -15 dBm0 over speech and music at -20 dBm0. Returns the keypresses with a 10 ms window,
    from the onset to 10 ms past the end, where the tone's part of a filtered output's
    projection on one of its frequencies is not 40 dB under the tone's own: (digit, level, the
    window's offset in samples, dB); and whether spandsp (lenient) heard nothing in the
    outputs.

    The tone's part: the stream is filtered with the keypresses keyed, and again keyed
    inverted; each output is set against the other stream masked exactly where the filter
    masked this one (`_masked_as`). Same masks, same packets re-encoded, the same background:
    what turns over with the keypresses is theirs. (Setting the two filtered streams against
    each other, as this did before, counted as the tones' whatever of the background differed
    where the two masked differently: a re-encoded packet carries a little of the audio before
    its mask, and a mask that began a packet earlier in one run carried less; and it halved
    a leak of one run only, 6 dB too low.)"""
    keys, spans, raws = keyed_streams(coding, frame_ms, bg, bitrate, seed)
    tone_parts, heard = [], False
    for own, other in ((0, 1), (1, 0)):
        f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1, **options)
        y = _listen(f.process(raws[own]) + f.flush()).astype(np.float64)
        heard |= spandsp.spandsp_digits(y.astype(np.int16), lenient=True) != ("", 0)
        tone_parts.append((y - _masked_as(raws[other], f.take_masked(), **options)) / 2)
    leaks = []
    for (digit, level), (s, e) in zip(keys, spans, strict=True):
        worst = max(
            (window_db(part, w, digit, level), w - s)
            for part in tone_parts
            for w in range(s, e + 80, 80)
        )
        if worst[0] > -40.0:
            leaks.append((digit, level, worst[1], worst[0]))
    return leaks, not heard


@pytest.mark.parametrize(
    ("mode", "frame_ms"), [("silk", 20), ("hybrid", 10), ("hybrid", 20), ("celt", 10), ("celt", 20)]
)
@pytest.mark.parametrize("bg", ["silence", "line_noise", "speech", "music"])
def test_leak_sweep_through_opus(mode: str, frame_ms: int, bg: str) -> None:
    """`opus_leak_sweep` at 24 kbit/s: no trace of any keypress (quieter keypresses under
    louder speech are the core's known gap, tests/test_scrub.py)."""
    leaks, unheard = opus_leak_sweep(mode, frame_ms, bg)
    assert unheard
    assert leaks == []


@pytest.mark.parametrize("masking", ["noise", "tone"])
@pytest.mark.parametrize(("mode", "frame_ms"), [("hybrid", 20), ("celt", 20)])
def test_other_masking_signals_through_opus(mode: str, frame_ms: int, masking: str) -> None:
    """Comfort noise and the flat tone in place of silence: the sweep's keypresses leave no
    trace (the masking signal is the same in both runs set against each other, so what is
    left is the tones'; the comfort noise at its cap, -70 dBm0: at the level of the decoded
    background it would differ between the two runs by what the codec made of it), and in
    tone mode the masked packets carry the 400 Hz tone at its level."""
    options: dict[str, float | str] = {"mode": masking}
    if masking == "noise":
        options["noise_max_dbm0"] = -70.0
    assert opus_leak_sweep(mode, frame_ms, "line_noise", **options) == ([], True)
    if masking == "tone":
        pcm, _ = _call("5")
        f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1, mode="tone")
        y = _listen(f.process(_stream(pcm, mode, frame_ms)) + f.flush()).astype(np.float64)
        ((t, d),) = f.take_masked()
        inside = y[(t - TS0) // 6 + 160 : (t + d - TS0) // 6]  # from 20 ms into the run
        tone = sg.tone([400.0], [-24.0], len(inside))  # the masker's default flat tone
        level = sg.power_to_dbm0(float(np.mean(inside**2)))
        assert abs(level - sg.power_to_dbm0(float(np.mean(tone**2)))) < 3.0
        spectrum = np.abs(np.fft.rfft(inside * np.hanning(len(inside))))
        assert abs(np.argmax(spectrum) * 8000 / len(inside) - 400.0) < 20.0


@pytest.mark.parametrize("seed", [1, 3])
def test_opus_masks_hang_over_a_keypress_s_coded_tail(seed: int) -> None:
    """CELT carries a keypress's energy on past its end: with the core's hang-over alone,
    one keypress in each of these sweeps (speech, CELT 20 ms, 24 kbit/s) kept a trace at its
    end; an Opus stream's masks hang over 10 ms longer (bench/opus_leak_report.py)."""
    assert opus_leak_sweep("celt", 20, "speech", 24000, seed) == ([], True)


@pytest.mark.parametrize(
    ("frame_ms", "bg", "bitrate", "seed"),
    [
        (10, "music", 16000, 0),
        (10, "music", 16000, 2),
        (10, "speech", 24000, 0),
        (20, "speech", 24000, 2),
    ],
)
def test_opus_masks_cover_a_keypress_s_pre_echo(
    frame_ms: int, bg: str, bitrate: int, seed: int
) -> None:
    """The coded audio ahead of a keypress already carries some of it (hybrid 10 ms at 16
    kbit/s, up to 18 dB under the tone in the 10 ms that end 5 ms before the onset,
    bench/opus_leak_report.py --pre-echo); when a mask started inside a packet, the part of
    the packet before it carried that into the mask: one to three keypresses in each of
    these sweeps kept a trace at their onset. A packet that carries masked audio now goes
    out masked whole."""
    assert opus_leak_sweep("hybrid", frame_ms, bg, bitrate, seed) == ([], True)


@pytest.mark.parametrize("mode", ["silk", "hybrid", "celt"])
def test_a_packet_that_carries_masked_audio_is_masked_whole(mode: str) -> None:
    """Keypresses over loud noise, in 20 ms packets: each mask starts and ends inside a
    packet, yet every re-encoded packet decodes to silence over its whole length (but for
    the decoder's way into and out of a run: its first 5 ms and what follows the run), and
    the packets before and after pass bit-exact."""
    rng = np.random.default_rng(7)
    x, spans = sg.keyed_sequence("59", 90, 300, -10.0, lead_ms=333, sample_rate=48000)
    x = np.concatenate([x, np.zeros(48000 // 2)])
    raw = _stream(sg.to_int16(x + sg.white_noise(len(x), -25, rng)), mode, 20)
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
    out = f.process(raw) + f.flush()
    # The keypresses begin and end inside packets (13 and 3 ms into one, 3 and 13 ms), and
    # so do the masker's spans; the output is masked over whole packets.
    assert [(s48 // 6 % 160, e48 // 6 % 160) for s48, e48 in spans] == [(104, 24), (24, 104)]
    runs = [((t - TS0) // 6, (t + d - TS0) // 6) for t, d in f.take_masked()]  # 8 kHz
    # The stream starts and ends in loud noise: its first 130 ms and last packet are masked
    # too (an Opus stream's start and end guards, see
    # test_an_opus_stream_that_starts_in_a_keypress_under_speech_leaves_nothing_of_it and
    # test_losses_and_pauses_in_opus_leave_nothing_of_a_keypress).
    assert len(runs) == 4 and runs[0] == (0, 1120)
    assert runs[3][1] == len(x) // 960 * 160  # whole 20 ms packets
    runs_start, runs_end, runs = runs[0][1], runs[3][0], runs[1:3]
    for (a, b), (s48, e48) in zip(runs, spans, strict=True):
        assert a % 160 == 0 and b % 160 == 0 and a < s48 // 6 and e48 // 6 < b
    y = _listen(out).astype(np.float64)
    for a, b in runs:  # the noise was -25 dBm0
        assert sg.power_to_dbm0(float(np.mean(y[a + 40 : b] ** 2))) < -60.0
    changed = [
        (RtpPacket.parse(p).timestamp - TS0) // 6 for p, q in zip(raw, out, strict=True) if p != q
    ]
    changed = [t for t in changed if runs_start < t < runs_end]  # the guards' packets aside
    for t in changed:  # re-encoded: the runs, and one packet after each (see reencoded_after_mask)
        assert any(a <= t <= b for a, b in runs)
    assert len(changed) <= sum((b - a) // 160 + 1 for a, b in runs)


@pytest.mark.parametrize("decode_rate", [8000, 16000])
def test_mask_asked_for_in_an_opus_stream(decode_rate: int) -> None:
    """`mask` on an Opus stream (RTP clock 48 kHz): the packets the span touches are
    re-encoded as silence whole and reported so; in this CELT stream the packet after each
    run is re-encoded from its own audio; the rest pass bit-exact."""
    rng = np.random.default_rng(5)
    pcm = sg.to_int16(sg.white_noise(48000, -25, rng))  # one second, no keypress
    pcm[:960] //= 1000  # a quiet first packet: no start guard (an Opus stream's, when loud)
    raw = _stream(pcm, "celt", 20)
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1, decode_rate=decode_rate)
    out = f.process(raw[:2])
    assert f.mask(TS0 + 9600, 4800)  # 200-300 ms: whole 20 ms packets
    assert f.mask(TS0 + 24001, 900)  # inside the packet at 500 ms, not on the decode clock
    out += f.process(raw[2:]) + f.flush()
    # ... and the stream's last packet: it ends loud (an Opus stream's end guard).
    assert f.take_masked() == [(TS0 + 9600, 4800), (TS0 + 24000, 960), (TS0 + 47040, 960)]
    changed = [RtpPacket.parse(p).timestamp - TS0 for p, q in zip(raw, out, strict=True) if p != q]
    assert changed == [*range(9600, 14400, 960), 14400, 24000, 24960, 47040]  # one after each
    y = _listen(out).astype(np.float64)
    assert sg.power_to_dbm0(float(np.mean(y[1600 + 80 : 2400] ** 2))) < -50.0


@pytest.mark.parametrize("dtx", ["send", "skip"])
@pytest.mark.parametrize("mode", ["silk", "hybrid", "celt"])
def test_dtx_silences_between_keypresses(mode: str, dtx: str) -> None:
    """A sender with DTX: the silences between keypresses go out as 1-byte frames, or not at
    all (a gap in the timestamps); each keypress then starts in the first packet after one.
    Every keypress is found and removed, the DTX frames away from them pass as they were (the
    one a mask's lead-in reaches is re-encoded), and every packet of the output decodes."""
    x, spans = sg.keyed_sequence("159#", 100, 800, -10.0, lead_ms=600, sample_rate=48000)
    raw = rtp_stream(sg.to_int16(x), mode, 20, 24000, PT, ts0=TS0, seq0=7, ssrc=0x51, dtx=dtx)
    sizes = [len(RtpPacket.parse(p).payload) for p in raw]
    if dtx == "send":
        assert sizes.count(1) >= 60  # the encoder did use DTX
    else:
        assert len(raw) < len(x) // 960 - 60 and min(sizes) > 2
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
    out = f.process(raw) + f.flush()
    assert pf.digits_of(f.take_events()) == "159#"
    assert len(out) == len(raw)
    assert [RtpPacket.parse(p).timestamp for p in out] == [
        RtpPacket.parse(p).timestamp for p in raw
    ]
    for a, b in zip(raw, out, strict=True):  # DTX frames away from the masks pass as they were
        p = RtpPacket.parse(a)
        t = p.timestamp - TS0
        if len(p.payload) == 1 and all(t + 960 < s - 4800 or t > e + 4800 for s, e in spans):
            assert a == b
    _assert_no_trace(_listen(out), spans, "159#")


@pytest.mark.parametrize("mode", ["silk", "hybrid", "celt"])
def test_stereo_stream_with_keypresses_in_one_channel(mode: str) -> None:
    """opus/48000/2 carrying stereo: keypresses in the right channel only (the left quiet
    noise). The filter decodes to mono (the keypress at half amplitude there) and replaces the
    packets they touch with mono ones, which a stereo decoder plays on both channels: neither
    channel of the output keeps a trace, and every packet decodes."""
    right, spans = sg.keyed_sequence("159", 80, 200, -10.0, lead_ms=300, sample_rate=48000)
    left = sg.white_noise(len(right), -50, np.random.default_rng(4))
    stereo = np.stack([sg.to_int16(left), sg.to_int16(right)], 1).reshape(-1)
    raw = rtp_stream(stereo, mode, 20, 32000, PT, ts0=TS0, ssrc=0x51, channels=2)
    assert all(_core.parse_opus_packet(RtpPacket.parse(p).payload)["stereo"] for p in raw)
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
    out = f.process(raw) + f.flush()
    assert pf.digits_of(f.take_events()) == "159"
    dec = Decoder(8000, channels=2)
    y = np.concatenate([dec.decode(RtpPacket.parse(p).payload, 160) for p in out]).reshape(-1, 2)
    for channel in (0, 1):
        _assert_no_trace(y[:, channel], spans, "159")


def test_output_decodes_with_an_independent_decoder_at_48_khz() -> None:
    pcm, _ = _call("159", rate=48000)
    raw = _stream(pcm, "hybrid", 20)
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1, mode="noise")
    y = _listen(f.process(raw) + f.flush(), rate=48000)  # raises on any bad packet
    assert len(y) >= len(pcm) - 48 * 20


@pytest.mark.parametrize("decode_rate", [8000, 16000])
def test_decode_rate_16k_finds_the_same(decode_rate: int) -> None:
    pcm, spans = _call("0*#D")
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1, decode_rate=decode_rate)
    out = f.process(_stream(pcm, "celt", 20)) + f.flush()
    assert pf.digits_of(f.take_events()) == "0*#D"
    _assert_no_trace(_listen(out), spans, "0*#D")


def _with_events(
    raw: list[bytes], spans: list[tuple[int, int]], digits: str, pt: int = 101, rate: int = 48000
) -> list[bytes]:
    """The stream with RFC 4733 packets (payload type `pt`) for each keypress in `spans`
    (48 kHz samples from TS0) beside its audio: one every 20 ms, the end three times, all
    with the keypress's start timestamp; durations counted at `rate`. Renumbered in order."""
    codes = {d: "0123456789*#ABCD".index(d) for d in digits}
    packets = [(RtpPacket.parse(p).timestamp - TS0, 0, RtpPacket.parse(p)) for p in raw]
    for (s, e), d in zip(spans, digits, strict=True):
        for at in range(s, e, 960):
            ev = bytes([codes[d], 10]) + ((at + 960 - s) * rate // 48000).to_bytes(2, "big")
            packets.append((at + 960, 1, RtpPacket(pt, at == s, 0, TS0 + s, 0x51, payload=ev)))
        end = bytes([codes[d], 0x80 | 10]) + ((e - s) * rate // 48000).to_bytes(2, "big")
        packets += [(e, 1, RtpPacket(pt, False, 0, TS0 + s, 0x51, payload=end))] * 3
    packets.sort(key=lambda x: (x[0], x[1]))
    return [
        RtpPacket(
            p.payload_type, p.marker, (100 + i) & 0xFFFF, p.timestamp, p.ssrc, payload=p.payload
        ).serialize()
        for i, (_, _, p) in enumerate(packets)
    ]


def test_rfc4733_at_48_khz_beside_opus() -> None:
    pcm, spans = _call("12")
    # Telephone-events (PT 101, 48 kHz clock, durations in 48 kHz units) beside the audio.
    stream = _with_events(_stream(pcm, "silk", 20), spans, "12")
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=101)
    out = f.process(stream) + f.flush()
    assert all(RtpPacket.parse(p).payload_type == PT for p in out)
    seqs = [RtpPacket.parse(p).sequence_number for p in out]
    assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(seqs))
    events = f.take_events()
    assert pf.digits_of(events) == "12" and {e.name for e in events} == {"rfc4733"}
    for ev, (s, _) in zip(events, spans, strict=True):  # 48 kHz units read as such
        assert ev.start_ms == s / 48 and ev.end_ms == s / 48 + 20  # the first packet's 960


@pytest.mark.parametrize("counted_at", [8000, 48000])
def test_rfc4733_declared_at_8_khz_beside_opus(counted_at: int) -> None:
    """Endpoints that answer Opus with telephone-event/8000 (RFC 7587 has 48000; Asterisk
    does, WebRTC offers both): timestamps on the stream's 48 kHz clock, durations read in
    8 kHz units. No tone in the audio here: the masks come from the events alone, and cover
    each keypress whole; a sender that counts at 48 kHz all the same gets them six times too
    long, never too short."""
    _, spans = _call("12")
    rng = np.random.default_rng(5)
    pcm = sg.to_int16(sg.white_noise(spans[-1][1] + 48000, -40, rng))
    stream = _with_events(_stream(pcm, "silk", 20), spans, "12", pt=96, rate=counted_at)
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=101, telephone_event_8000_pt=96)
    out = f.process(stream) + f.flush()
    assert {RtpPacket.parse(p).payload_type for p in out} == {PT}
    assert f.stats["telephone_events_dropped"] == len(stream) - len(out)
    events = f.take_events()
    assert pf.digits_of(events) == "12" and {e.name for e in events} == {"rfc4733"}
    first = 20 * counted_at // 8000  # the first packet's duration, read at 8 kHz (ms)
    for ev, (s, _) in zip(events, spans, strict=True):
        assert ev.start_ms == s / 48 and ev.end_ms == s / 48 + first
    masked = [(t - TS0, t - TS0 + d) for t, d in f.take_masked()]
    for s, e in spans:
        length = (e - s) * counted_at // 8000  # as read: 8 kHz units
        cover = [m for m in masked if m[0] <= s < m[1]]
        assert cover and cover[0][1] >= s + length, (s, e, masked)
    if counted_at == 8000:  # the keypress, its hang-over, to the end of a 20 ms packet
        assert sum(b - a for a, b in masked) < sum(e - s + 48 * 80 for s, e in spans)


@pytest.mark.parametrize("mode", ["silk", "celt"])
def test_a_keypress_cut_by_a_new_source_leaves_nothing(mode: str) -> None:
    """Opus streams too (tests/test_stream_filter.py has the G.711 cases): a new SSRC 10 ms
    before a keypress ends, each source's packets decoded by a decoder of its own (as a
    receiver starts one for a new source)."""
    pcm, spans = _call("58")
    raw = _stream(pcm, mode, 10)
    cut = (spans[0][1] - 480) // 480  # the packet holding the keypress's last 10 ms
    second = [RtpPacket.parse(p) for p in raw[cut:]]
    raw = raw[:cut] + [
        RtpPacket(
            p.payload_type,
            p.marker,
            p.sequence_number,
            p.timestamp + 12345,
            0x77,
            payload=p.payload,
        ).serialize()
        for p in second
    ]
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
    out = f.process(raw) + f.flush()
    assert len(out) == len(raw) and f.stats["ssrc_changes"] == 1
    parts = [[p for p in out if RtpPacket.parse(p).ssrc == ssrc] for ssrc in (0x51, 0x77)]
    y = np.concatenate([_decode_each(part) for part in parts])
    _assert_no_trace(y, spans, "58")


@pytest.mark.parametrize(
    ("mode", "frame_ms"), [("silk", 20), ("hybrid", 10), ("hybrid", 20), ("celt", 10), ("celt", 20)]
)
def test_a_keypress_a_new_source_splits_is_reported_once(mode: str, frame_ms: int) -> None:
    """Keypresses of 60 ms, a new source (its own timestamps, decoded afresh) at each packet
    boundary inside them: never reported twice, and not at all only now and then, where
    the fresh decoder's first milliseconds leave too little of the keypress (at most 1 in
    12 cut positions; measured 0 of 24 in 20 ms packets, 3 and 1 of 47 in hybrid and CELT
    10 ms). The detector hears the audio after the cut as a receiver does, the windows that
    fail about the cut not held against the keypress. Before, one whose parts were both too
    short to find alone was reported by neither: 3-4 of 24, 11 and 8 of 47."""
    n = 480 * frame_ms // 10
    seen = {0: 0, 1: 0, 2: 0}
    for seed, digit in enumerate("36901478"):
        rng = np.random.default_rng(seed)
        x, spans = sg.keyed_sequence(digit, 60, 90, -15, lead_ms=301 + 3 * seed, sample_rate=48000)
        x = np.concatenate([x, np.zeros(24000)])
        raw = _stream(sg.to_int16(x + sg.white_noise(len(x), -50, rng)), mode, frame_ms)
        ((s, e),) = spans
        for cut in range(s // n + 1, (e - 1) // n + 1):
            moved = [RtpPacket.parse(p) for p in raw[cut:]]
            for p in moved:
                p.ssrc, p.timestamp = 0x77, p.timestamp + 12345
            f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
            f.process(raw[:cut] + [p.serialize() for p in moved])
            f.flush()
            assert f.stats["ssrc_changes"] == 1
            got = pf.digits_of(f.take_events())
            assert got in ("", digit), (seed, cut * n - s)
            seen[len(got)] += 1
    assert seen[0] * 12 <= seen[0] + seen[1], seen


@pytest.mark.parametrize("after_ms", [0, 10, 20])
@pytest.mark.parametrize("mode", ["silk", "hybrid", "celt"])
def test_switching_on_just_after_a_keypress_lets_none_of_it_out(mode: str, after_ms: int) -> None:
    """Opus too (tests/test_stream_filter.py has G.711): filtering switched on just after a
    keypress ended. Before, the rest of it went out after the switch at its full level. Now,
    from 10 ms after the last packet that went out before the switch (a decoder plays a few ms
    of a packet into the next one), nothing of it; CELT carries some of the tone the packet
    before had into the first masked packets (its band energies are coded against the frame
    before): up to -28 dB over the next 15 ms, then nothing."""
    pcm, spans = _call("3")
    raw = _stream(pcm, mode, 20)
    s, e = spans[0]
    on = (e + 48 * after_ms) // 960 + 1
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
    f.filtering = False
    before = f.process(raw[:on])
    f.filtering = True
    out = before + f.process(raw[on:]) + f.flush()
    y = _listen(out).astype(np.float64)
    gone = (RtpPacket.parse(before[-1]).timestamp - TS0 + 960) // 6  # out before the switch
    for first, bound in ((gone + 80, -25.0 if mode == "celt" else -40.0), (gone + 200, -40.0)):
        windows = range(max(s // 6, first), e // 6 + 80, 40)
        assert len(windows) > 0
        assert max(window_db(y, w, "3", -10.0) for w in windows) <= bound, first - gone


def _decode_each(packets: list[bytes]) -> npt.NDArray[np.int16]:
    dec = Decoder(8000)
    return np.concatenate([dec.decode(RtpPacket.parse(p).payload, 80) for p in packets])


def test_loss_is_concealed_and_fec_never_brings_a_keypress_back() -> None:
    # In-band FEC carries each frame again in the next packet: after a masked run, the
    # next packet's copy of the last masked frame must not reach the receiver.
    pcm, spans = _call("8", level=-5.0)
    raw = _stream(pcm, "silk", 20, fec=True)
    lost = {10, 11, 30}
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
    out = f.process([p for i, p in enumerate(raw) if i not in lost]) + f.flush()
    assert f.stats["concealed_samples"] >= 3 * 160 and f.stats["gaps"] == 2
    assert pf.digits_of(f.take_events()) == "8"
    # A receiver that loses a packet recovers it from the next one's FEC: whichever it
    # loses, no trace of the keypress comes back.
    for drop in range(len(out)):
        _assert_no_trace(_listen([p for i, p in enumerate(out) if i != drop]), spans, "8")


def _runs(indices: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for i in indices:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def test_celt_packets_after_a_mask_pass_unless_they_have_padding() -> None:
    """A CELT-only packet carries nothing from before it (no in-band FEC): after a masked
    run only the first packet is re-encoded, from its own audio (so the receiver's decoder
    comes out of the run's silence with the band energies of the audio, see
    tests/test_opus_quality.py), and the rest pass bit-exact. With padding, where Opus 1.5
    carries deep redundancy, the packets of the second after a mask are re-encoded. No trace
    either way, whichever packet a receiver loses."""
    from opuslib import pad

    pcm, spans = _call("8", level=-5.0)
    raw = _stream(pcm, "celt", 20)
    changed: dict[bool, list[int]] = {}
    for padded in (False, True):
        packets = [_with_padding(p, pad) for p in raw] if padded else raw
        f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
        out = f.process(packets) + f.flush()
        assert pf.digits_of(f.take_events()) == "8"
        changed[padded] = [i for i, (a, b) in enumerate(zip(packets, out, strict=True)) if a != b]
        for drop in range(0, len(out), 7):
            _assert_no_trace(_listen([p for i, p in enumerate(out) if i != drop]), spans, "8")
    # The packets with masked audio, found independently: the same scrubber on the same
    # decode (libopus at 8 kHz, from the first packet) gives the same masked spans.
    spans8 = pf.scrub(_listen(raw)).spans
    masked = [
        k for k in range(len(raw)) if any(a < 160 * k + 160 and b > 160 * k for a, b in spans8)
    ]
    after = [last + 1 for _, last in _runs(masked)]
    assert masked and changed[False] == sorted(masked + after)  # and not one packet more
    for _, last in _runs(masked):  # padded: everything for a second after a mask re-encoded
        assert set(range(last + 1, min(last + 50, len(raw)))) <= set(changed[True])


def test_celt_masked_silence_goes_out_as_one_silence_packet() -> None:
    """In a CELT stream the packets masked whole (silence mode) go out as one CELT silence
    packet, made once, not re-encoded each time: a receiver decodes them to digital silence,
    and the stream around them as before (no trace, valid everywhere)."""
    pcm, spans = _call("85", level=-5.0)
    raw = _stream(pcm, "celt", 20)
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
    out = f.process(raw) + f.flush()
    assert pf.digits_of(f.take_events()) == "85"
    changed = [i for i, (a, b) in enumerate(zip(raw, out, strict=True)) if a != b]
    payloads = [RtpPacket.parse(out[i]).payload for i in changed]
    silence = max(set(payloads), key=payloads.count)
    inner = [i for i, p in zip(changed, payloads, strict=True) if p == silence]
    assert len(inner) >= 4  # two or more per keypress
    assert len(silence) <= 8 and silence[0] >> 3 >= 16  # tiny, CELT-only
    y = _listen(out)
    for i in inner:
        t = (RtpPacket.parse(out[i]).timestamp - TS0) // 6
        # The first 2.5 ms hold the tail of the packet before (CELT's overlap), at most
        # the masked audio's own low level; then digital silence.
        assert not y[t + 20 : t + 160].any() and np.abs(y[t : t + 20]).max() < 100
    _assert_no_trace(y, spans, "85")


def _with_padding(packet: bytes, pad: object) -> bytes:
    p = RtpPacket.parse(packet)
    return RtpPacket(
        p.payload_type,
        p.marker,
        p.sequence_number,
        p.timestamp,
        p.ssrc,
        payload=pad(p.payload, 8),  # type: ignore[operator]
    ).serialize()


def test_malformed_and_refused_opus_packets_never_pass() -> None:
    pcm, _ = _call("5")
    raw = _stream(pcm, "celt", 20)
    bad = RtpPacket(
        PT, False, 0, TS0, 0x51, payload=b"\xff\xff\xff"
    ).serialize()  # code 3, bad count
    empty = RtpPacket(PT, False, 0, TS0, 0x51, payload=b"").serialize()
    stream = [*raw[:20], bad, empty, *raw[20:]]
    stream = [
        RtpPacket.parse(p)
        .__class__(
            RtpPacket.parse(p).payload_type,
            False,
            i & 0xFFFF,
            RtpPacket.parse(p).timestamp,
            0x51,
            payload=RtpPacket.parse(p).payload,
        )
        .serialize()
        for i, p in enumerate(stream)
    ]
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
    out = f.process(stream) + f.flush()
    assert f.stats["bad_payloads"] == 2 and len(out) == len(raw)
    seqs = [RtpPacket.parse(p).sequence_number for p in out]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    _listen(out)


def test_a_filter_carries_g711_or_opus() -> None:
    # An Opus stream's filter maps no G.711 type (pcmu_pt=0 is the default): a PCMU packet
    # in it is of an unknown type, dropped while filtering.
    f = pf.RtpStreamFilter(opus_pt=PT)
    pcmu = RtpPacket(0, False, 1, 160, 0x51, payload=bytes([0xFF]) * 160).serialize()
    assert f.process([pcmu]) + f.flush() == [] and f.stats["unknown_dropped"] == 1
    with pytest.raises(ValueError, match="decode_rate"):
        pf.RtpStreamFilter(decode_rate=16000)
    with pytest.raises(ValueError, match="8000 or 16000"):
        pf.RtpStreamFilter(opus_pt=PT, decode_rate=48000)
    with pytest.raises(ValueError, match="telephone_event_8000_pt is for Opus"):
        pf.RtpStreamFilter(telephone_event_8000_pt=96)
    with pytest.raises(ValueError, match="given twice"):
        pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=101, telephone_event_8000_pt=101)


def _ffmpeg_decode(path: Path) -> tuple[npt.NDArray[np.int16], list[str]]:
    """FFmpeg's own Opus decoder (not libopus: an independent implementation, through PyAV),
    resampled to 8 kHz mono; with every message FFmpeg logged at warning level or worse."""
    import av
    import av.logging

    chunks = []
    with av.logging.Capture() as logs, av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.codec.name == "opus"  # the native decoder, not libopus
        resampler = av.AudioResampler(format="s16", layout="mono", rate=8000)
        for frame in container.decode(stream):
            chunks += [f.to_ndarray().ravel() for f in resampler.resample(frame)]
        chunks += [f.to_ndarray().ravel() for f in resampler.resample(None)]
    problems = [m for level, _, m in logs if level <= av.logging.WARNING]
    return np.concatenate(chunks).astype(np.int16), problems


@pytest.mark.parametrize(
    ("mode", "frame_ms"), [("silk", 20), ("hybrid", 20), ("celt", 20), ("celt", 10), ("silk", 60)]
)
def test_ffmpeg_decodes_the_output(tmp_path: Path, mode: str, frame_ms: int) -> None:
    """FFmpeg reads the filtered stream, re-encoded packets included, without a complaint,
    and hears no keypress in it; it hears every one in the unfiltered stream."""
    pcm, _ = _call("0852")
    raw = _stream(pcm, mode, frame_ms)
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
    out = [RtpPacket.parse(p).payload for p in f.process(raw) + f.flush()]
    assert f.stats["reencoded"] > 0
    samples = 48 * frame_ms
    for name, payloads, digits in (
        ("in", [RtpPacket.parse(p).payload for p in raw], "0852"),
        ("out", out, ""),
    ):
        ogg = tmp_path / f"{name}.opus"
        write_ogg_opus(str(ogg), payloads, [samples] * len(payloads))
        y, problems = _ffmpeg_decode(ogg)
        assert problems == [], problems
        assert abs(len(y) - len(payloads) * samples // 6) <= 2 * samples // 6
        assert spandsp.spandsp_digits(y, lenient=name == "out")[0] == digits


def test_opusdec_decodes_the_output(tmp_path: Path) -> None:
    # opus-tools' opusdec, a standard decoder outside our code, reads the filtered stream.
    if shutil.which("opusdec") is None:
        pytest.fail("opusdec missing: run ./dev.sh test, which installs opus-tools")
    pcm, _ = _call("0852")
    raw = _stream(pcm, "hybrid", 20)
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
    out = [RtpPacket.parse(p).payload for p in f.process(raw) + f.flush()]
    assert f.stats["reencoded"] > 0
    ogg, wav = tmp_path / "out.opus", tmp_path / "out.wav"
    write_ogg_opus(str(ogg), out, [960] * len(out))
    proc = subprocess.run(
        ["opusdec", "--rate", "8000", str(ogg), str(wav)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "error" not in proc.stderr.lower() and "corrupt" not in proc.stderr.lower()
    y = read_wav(wav).pcm
    assert abs(len(y) - len(out) * 160) <= 160
    assert spandsp.spandsp_digits(y, lenient=True) == ("", 0)


@pytest.mark.parametrize("mode", ["silk", "celt"])
def test_advance_puts_opus_audio_out_over_a_pause(mode: str) -> None:
    """An Opus sender that pauses (DTX) after its keypresses: advanced by a relay's timer, the
    filter puts out the packets the look-ahead holds within the look-ahead and the jitter
    allowance of the pause, the stream still decodes, and nothing of a keypress is heard."""
    from test_stream_filter import _live, _paused

    pcm, spans = _call("52")
    stream = [RtpPacket.parse(p) for p in _stream(pcm, mode, 20)]
    half = len(stream) // 2
    raw = _paused(stream, TS0, (stream[half].timestamp - TS0) & 0xFFFFFFFF, 48000)
    jitter = 960
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
    out, when = _live(f, raw, jitter, ts0=TS0, clock=48000)
    assert len(out) == len(raw) and f.stats["late"] == 0
    delay = 6 * f.delay  # decode-rate samples to 48 kHz RTP units
    for p, t in zip(out, when, strict=True):
        q = RtpPacket.parse(p)
        assert t <= (q.timestamp - TS0) + 960 + delay + jitter + 960
    y = _listen(out)
    cut = (stream[half].timestamp - TS0) // 6  # the pause, taken out: the call as heard
    _assert_no_trace(np.concatenate([y[:cut], y[cut + 8000 :]]), spans, "52")
    assert pf.digits_of(f.take_events()) == "52"


@pytest.mark.parametrize(("mode", "frame_ms"), [("silk", 20), ("hybrid", 10), ("celt", 10)])
def test_losses_and_pauses_in_opus_leave_nothing_of_a_keypress(mode: str, frame_ms: int) -> None:
    """A burst of lost packets that takes a keypress's first 40-60 ms, the rest arriving in
    one or two packets: the guard after the loss lasts the Opus tail longer (the packet after
    the one it masked carried the coded tone's end at -12 dB). A pause (DTX, 1 s) one packet
    into a keypress: the packet before it decodes to a burst of mixed frequencies, no
    keypress by its spectrum, so in Opus any loud end before a pause is masked (it was left
    at -10 dB); and a pause of 3 s, a new timeline (live: a pause's guards, not a cut's).
    Given at once and advanced live; the keypress as heard."""
    from leak import worst_window_db
    from test_stream_filter import _live, _paused

    frame = 48 * frame_ms
    for seed in range(2):
        rng = np.random.default_rng(seed)
        x, spans = sg.keyed_sequence("5", 60 + frame_ms, 100, -12, lead_ms=300, sample_rate=48000)
        x = np.concatenate([x, np.zeros(24000)])
        pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
        stream = [RtpPacket.parse(p) for p in _stream(pcm, mode, frame_ms)]
        s48, e48 = spans[0]
        first = s48 // frame
        lost = [
            p.serialize()
            for i, p in enumerate(stream)
            if not first - 1 <= i < first - 1 + 60 // frame_ms
        ]
        cut = (first + 1) * frame  # a pause after the keypress's first packet
        paused = _paused(stream, TS0, cut, 48000)
        long_pause = _paused(stream, TS0, cut, 144000)  # 3 s: over max_gap, a new timeline
        for raw, pause in ((lost, 0), (paused, 8000), (long_pause, 24000)):
            for live in (False, True):
                f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
                out = (
                    _live(f, raw, 960, ts0=TS0, clock=48000)[0]
                    if live
                    else f.process(raw) + f.flush()
                )
                y = _listen(out)
                c8 = cut // 6
                if pause:
                    y = np.concatenate([y[:c8], y[c8 + pause :]])
                heard = np.concatenate([y, np.zeros(800, np.int16)])
                worst = worst_window_db(heard, s48 // 6, e48 // 6 + 80, "5", -12)
                assert worst <= -40.0, (seed, pause, live, worst)


def _one_keypress(
    digit: str, ms: float, level: float, noise: float, seed: int, mode: str, frame_ms: int
) -> tuple[list[RtpPacket], tuple[int, int]]:
    """An Opus stream of one keypress at 300 ms over line noise, and its span (48 kHz)."""
    rng = np.random.default_rng(seed)
    x, spans = sg.keyed_sequence(digit, ms, 100, level, lead_ms=300, sample_rate=48000)
    x = np.concatenate([x, np.zeros(48000)])
    pcm = sg.to_int16(x + sg.white_noise(len(x), noise, rng))
    return [RtpPacket.parse(p) for p in _stream(pcm, mode, frame_ms)], spans[0]


def _heard_over_a_pause(out: list[bytes], cut48: int, pause48: int) -> npt.NDArray[np.int16]:
    """The filtered stream as a receiver hears it (`_listen`), the pause that `_paused` put at
    `cut48` for `pause48` (48 kHz units) left out, and 100 ms of silence after it."""
    y = _listen(out)
    cut, pause = cut48 // 6, pause48 // 6
    return np.concatenate([y[:cut], y[cut + pause :], np.zeros(800, np.int16)])


@pytest.mark.parametrize(("mode", "frame_ms"), [("silk", 20), ("hybrid", 10), ("celt", 10)])
def test_a_pause_right_after_a_keypress_leaves_nothing_of_it(mode: str, frame_ms: int) -> None:
    """A pause (the sequence running on) that begins in the packet after a keypress ends:
    the filter's decoder conceals the pause from the keypress, and the first packet after it,
    decoded from that state and re-encoded from what it decoded to, carried the keypress on
    at -26 to -35 dB (a random sweep of Opus streams with pauses). The first 15 ms after a
    pause are masked when a mask held where it began. Given at once and advanced live."""
    from leak import worst_window_db
    from test_stream_filter import _live, _paused

    frame = 48 * frame_ms
    for seed, pause in itertools.product(range(3), (4800, 48000)):
        stream, (s48, e48) = _one_keypress("0", 68, -11, -55, seed, mode, frame_ms)
        cut = -(-e48 // frame) * frame  # the packet boundary at or after the keypress's end
        raw = _paused(stream, TS0, cut, pause)
        for live in (False, True):
            f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
            out = (
                _live(f, raw, 960, ts0=TS0, clock=48000)[0] if live else f.process(raw) + f.flush()
            )
            heard = _heard_over_a_pause(out, cut, pause)
            worst = worst_window_db(heard, s48 // 6, e48 // 6 + 80, "0", -11)
            assert worst <= -40.0, (seed, pause, live, worst)


@pytest.mark.parametrize(("mode", "frame_ms"), [("silk", 20), ("hybrid", 10), ("celt", 10)])
def test_a_pause_of_over_2_s_anywhere_in_a_keypress_leaves_nothing_of_it(
    mode: str, frame_ms: int
) -> None:
    """A sender's silence of 3 s (over `max_gap_samples`: a new timeline) that cuts a 100 ms
    keypress anywhere, advanced live. G.711 then goes on without a source change's guards;
    Opus keeps them: its decoder starts afresh on the new timeline, and the keypress's last
    20 ms after the pause (hybrid 10 ms) decoded too distorted for the detector and came out
    at -6.7 dB when the guards were left out there too."""
    from leak import worst_window_db
    from test_stream_filter import _live, _paused

    frame, pause = 48 * frame_ms, 24000
    for seed in range(2):
        stream, (s48, e48) = _one_keypress("5", 100, -12, -50, seed, mode, frame_ms)
        for k in range(100 // frame_ms + 2):
            cut = (s48 // frame + k) * frame
            f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
            out = _live(f, _paused(stream, TS0, cut, 6 * pause), 960, ts0=TS0, clock=48000)[0]
            heard = _heard_over_a_pause(out, cut, 6 * pause)
            worst = worst_window_db(heard, s48 // 6, e48 // 6 + 80, "5", -12)
            assert worst <= -40.0, (seed, k, worst)


@pytest.mark.parametrize(("mode", "frame_ms"), [("hybrid", 10), ("celt", 10)])
def test_an_opus_stream_cut_in_a_keypress_leaves_nothing_of_it(mode: str, frame_ms: int) -> None:
    """A stream that ends one packet into a keypress, or starts one packet before its end
    (cut from a longer stream: a decoder that starts there): the packet decodes to a burst
    of mixed frequencies, no keypress by its spectrum, and was left at -8 to -10 dB. An Opus
    stream's first and last packet are masked when loud."""
    from leak import worst_window_db

    frame = 48 * frame_ms
    for seed in range(2):
        rng = np.random.default_rng(seed)
        x, spans = sg.keyed_sequence("5", 60, 100, -12, lead_ms=300, sample_rate=48000)
        x = np.concatenate([x, np.zeros(24000)])
        pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
        stream = _stream(pcm, mode, frame_ms)
        s48, e48 = spans[0]
        end_cut, start_cut = (s48 // frame + 1) * frame, (e48 // frame - 1) * frame
        head = [p for p in stream if RtpPacket.parse(p).timestamp - TS0 < end_cut]
        tail = [p for p in stream if RtpPacket.parse(p).timestamp - TS0 >= start_cut]
        for raw, (a, b) in ((head, (s48, end_cut)), (tail, (start_cut, e48))):
            f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
            y = np.concatenate([_listen(f.process(raw) + f.flush()), np.zeros(800, np.int16)])
            assert worst_window_db(y, a // 6, b // 6 + 80, "5", -12) <= -40.0, (seed, a == s48)


def _keyed_under(
    rng: np.random.Generator,
    digit: str,
    ms: float,
    level: float,
    mode: str,
    frame_ms: int,
    bg: str = "speech",
) -> tuple[list[list[bytes]], tuple[int, int]]:
    """A keypress 200 ms into `bg` at -20 dBm0 (its excerpt drawn with `rng`), as two Opus
    streams at 24 kbit/s, keyed and keyed inverted (the measure of `_keypress_left`), and its
    span (8 kHz)."""
    tones, spans = sg.keyed_sequence(digit, ms, 100, level, 200)
    tones = np.concatenate([tones, np.zeros(1600)])
    back = background(bg, len(tones), rng)
    raws = [
        rtp_stream(
            upsample6(sg.to_int16(back + sign * tones)),
            mode,
            frame_ms,
            24000,
            PT,
            ts0=TS0,
            seq0=7,
            ssrc=0x51,
        )
        for sign in (1.0, -1.0)
    ]
    return raws, spans[0]


def _under_speech(
    mode: str, frame_ms: int, seed: int
) -> tuple[list[list[bytes]], tuple[int, int], str, float]:
    """A random keypress (40-120 ms, -25 to -5 dBm0 a tone) under speech (`_keyed_under`);
    its streams, span, digit and level (bench/discontinuity_report.py --opus-under-speech
    draws them so)."""
    rng = np.random.default_rng(seed)
    digit = "0123456789*#"[rng.integers(12)]
    level = float(rng.uniform(-25, -5))
    raws, span = _keyed_under(rng, digit, int(rng.integers(40, 121)), level, mode, frame_ms)
    return raws, span, digit, level


def _keypress_left(
    raws: list[list[bytes]], a: int, e: int, digit: str, level: float, pause: tuple[int, int]
) -> float:
    """`opus_leak_sweep`'s measure over two streams (keyed, keyed inverted) filtered: the
    loudest 10 ms of the keypress's part from `a` to 10 ms past its end `e` (8 kHz), in dB re
    its tone, the `pause` (where, how long; 8 kHz) taken out."""
    worst = -300.0
    for own, other in ((0, 1), (1, 0)):
        f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
        y = _listen(f.process(raws[own]) + f.flush()).astype(np.float64)
        z = _masked_as(raws[other], f.take_masked(), check=False)
        part = (y[: min(len(y), len(z))] - z[: min(len(y), len(z))]) / 2
        at, n = pause
        part = np.concatenate([part[:at], part[at + n :], np.zeros(800)])
        worst = max([worst] + [window_db(part, w, digit, level) for w in range(a, e + 80, 80)])
    return worst


@pytest.mark.parametrize(("mode", "frame_ms"), [("celt", 10), ("celt", 20), ("silk", 20)])
def test_an_opus_stream_that_starts_in_a_keypress_under_speech_leaves_nothing_of_it(
    mode: str, frame_ms: int
) -> None:
    """A stream that starts 1-40 ms (from the packet boundary before) from a keypress's end
    under speech. The filter's decoder starts afresh there and decodes the first frames far
    quieter than they are (CELT predicts each band's energy from the frame before), so the
    start did not read as sound: 15 ms masked, not 120; of 400 such streams 28 (CELT 10 ms),
    11 (CELT 20 ms) and 2 (SILK 20 ms) let the keypress out, up to -3.7 dB re its tone. An
    Opus stream's first packet loud anywhere now counts as sound (the same sweep: none).
    Seeds 142 and 143 let it out before (CELT 10 ms: -18.0 and -26.1 dB; CELT 20 ms 142:
    -11.6 dB)."""
    for seed in range(136, 148):
        raws, (s, e), digit, level = _under_speech(mode, frame_ms, seed)
        rng = np.random.default_rng(1000 + seed)
        start = (6 * e - 48 * int(rng.integers(1, 41))) // (48 * frame_ms) * (48 * frame_ms)
        late = [[p for p in raw if RtpPacket.parse(p).timestamp - TS0 >= start] for raw in raws]
        worst = _keypress_left(late, max(s, start // 6), e, digit, level, (0, 0))
        assert worst <= -40.0, (seed, worst)


def test_an_opus_stream_paused_in_a_keypress_under_speech_leaves_nothing_of_it() -> None:
    """A 1 s pause (the sequence running on) that cuts a keypress under speech 36-49 ms before
    its end. After it the filter's decoder, having concealed the pause, decodes the first
    frames quieter and distorted (CELT predicts each band's energy from the frame before):
    the detector missed the remnant, and the 40 ms guarded after the pause let it out (-0.5
    to -4.7 dB re its tone, 5 of 471 such cuts), and the codec's tail past the guard. In
    an Opus stream a pause that begins on sound is now guarded as a stream's start on sound
    (120 ms), and every guard hangs over as its masks do. (Keypresses the filter does not
    find under speech with no pause, the core's known gap, are left out.)"""
    from test_stream_filter import _paused

    checked = 0
    for seed, (digit, ms, level) in itertools.product(
        range(12, 17), [("*", 59, -20.7), ("#", 59, -18.0)]
    ):
        raws, (s, e) = _keyed_under(np.random.default_rng(seed), digit, ms, level, "celt", 10)
        if _keypress_left(raws, s, e, digit, level, (0, 0)) > -40.0:
            continue
        parsed = [[RtpPacket.parse(p) for p in raw] for raw in raws]
        for left in (36, 38, 40):
            cut = (6 * e - 48 * left) // 480 * 480  # a CELT 10 ms packet's boundary
            paused = [_paused(ps, TS0, cut, 48000) for ps in parsed]
            worst = _keypress_left(paused, s, e, digit, level, (cut // 6, 8000))
            assert worst <= -40.0, (seed, left, worst)
            checked += 1
    assert checked >= 24


def test_an_opus_stream_that_loses_packets_in_a_keypress_under_speech_leaves_nothing_of_it() -> (
    None
):
    """30 ms lost at a keypress's onset or 10 ms into it, under speech (CELT 10 ms). The
    decoder comes out of its concealment far quieter than the sender's audio (CELT predicts
    each band's energy from the frame before: a keypress at -25 dBm0 a tone decoded at -72
    dBm0 in the first packet after a loss that followed a pause in speech), so the detector
    missed the remnant and the 25 ms guarded after the loss let it out (8 of these 16 cuts,
    up to -15 dB re its tone; 13 of 204 in a wider sweep). In an Opus stream every loss is
    now guarded after it as one where a mask held (40 ms and the Opus tail), and 10 ms more
    before it. (Keypresses the filter does not find under speech with no loss, the core's
    known gap, are left out.)"""
    checked = 0
    for seed, (digit, ms, level) in itertools.product(
        (0, 6, 11, 16), [("4", 53, -24.8), ("#", 54, -24.4)]
    ):
        raws, (s, e) = _keyed_under(np.random.default_rng(seed), digit, ms, level, "celt", 10)
        if _keypress_left(raws, s, e, digit, level, (0, 0)) > -40.0:
            continue
        for into in (0, 10):
            cut = 6 * s + 48 * into
            kept = [
                [p for p in raw if not 0 <= RtpPacket.parse(p).timestamp - TS0 - cut < 48 * 30]
                for raw in raws
            ]
            worst = _keypress_left(kept, s, e, digit, level, (0, 0))
            assert worst <= -40.0, (seed, into, worst)
            checked += 1
    assert checked >= 12


@pytest.mark.parametrize(("mode", "ptime"), [("silk", 20), ("hybrid", 10), ("celt", 20)])
def test_a_keypress_that_packets_lost_inside_it_split_is_reported_once(
    mode: str, ptime: int
) -> None:
    """40 ms of packets lost inside a keypress: the decoder conceals them, then comes back
    slowly (SILK's tones found up to 32 ms after the loss), and the detector heard two
    keypresses (SILK 20 ms: 60 of 140 over 20 seeds, bench/loss_split_report.py). Reported
    once now; two keypresses of one digit 80 ms apart stay two, whichever packet is lost."""
    n = 8 * ptime
    for seed, (digits, tone_ms, pause_ms) in enumerate((("7", 200, 100), ("77", 100, 80))):
        rng = np.random.default_rng(seed)
        x, spans = sg.keyed_sequence(digits, tone_ms, pause_ms, -15, lead_ms=306)
        x = np.concatenate([x, np.zeros(4000)])
        pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
        sent = rtp_stream(upsample6(pcm), mode, ptime, 24000, ssrc=5)
        lost = 40 // ptime if len(digits) == 1 else 1
        for at in range(spans[0][0] // n + 1, spans[-1][1] // n - lost):
            f = pf.RtpStreamFilter(opus_pt=111)
            f.process([p for i, p in enumerate(sent) if not at <= i < at + lost])
            f.flush()
            assert pf.digits_of(f.take_events()) == digits, (digits, at)
