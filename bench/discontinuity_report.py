# SPDX-License-Identifier: Apache-2.0
"""Keypresses at discontinuities of a G.711 RTP stream (tests/test_stream_filter.py has the
same cases, fewer of them): the loudest 10 ms window of any keypress in the output (dB
relative to the tone; -300 is digital silence) and packets lost, for

- one packet lost anywhere in a keypress (40-120 ms, 10 and 20 ms packets, six seeds);
- bursts of 2-12 lost packets there (three seeds);
- a stream that starts in a keypress's last 1-20 ms, or ends in its first 1-20 ms;
- a sender that pauses (DTX) 1-20 ms into a keypress or before its last 1-20 ms, given at
  once or advanced (live);
- timestamps off by up to ±1, ±3, ±8 samples;
- filtering switched on 0-60 ms after a keypress ended (what goes out after the switch);
- the cost of hostile timestamps (every packet ~1.9 s on) against steady ones.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/discontinuity_report.py [--opus]

`--opus`: the same kinds of discontinuity in Opus streams instead (`opus_cases`).
`--opus-under-speech [N] [--losses]`: N (100) random keypresses under speech in Opus
streams, with no pause, cut by a pause of 1 s or 3 s, and in a stream that starts in their
end (`opus_under_speech`); with `--losses`, also 1-3 packets or 1 s lost where the pause was;
with `--music`, under music instead of speech.
`--under-speech [N]`: N (400) random keypresses (-25 to -5 dBm0 a tone, 40-120 ms) under
speech at -20 dBm0, each cut anywhere by a pause of 1 s, 2.1 s and 3 s (the sequence running
on), given at once and advanced live, against the same keypresses with no pause
(`under_speech`); streams that start or end in a keypress under speech; the core scrubber
given signals that do (`core_edges`); natural pauses' cost.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from leak import worst_window_db
from test_stream_filter import _packets, _paused, _reassemble, _wobbled

import pcifilter as pf
from pcifilter import signals as sg
from pcifilter.rtp import RtpPacket


def _filtered(packets: list[bytes]) -> list[bytes]:
    f = pf.RtpStreamFilter()
    return f.process(packets) + f.flush()


def bursts(sizes: tuple[int, ...], seeds: int) -> None:
    """Bursts of lost packets (10 and 20 ms) starting anywhere in a keypress or up to the
    burst's length before it (40-120 ms keypresses)."""
    for burst in sizes:
        cases, leaks, worst = 0, 0, -300.0
        for seed in range(seeds):
            rng = np.random.default_rng(seed)
            for duration in (40, 60, 80, 120):
                for ptime in (10, 20):
                    x, spans = sg.keyed_sequence("1397", duration, 100, -12, lead_ms=300 + 3 * seed)
                    pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
                    packets = _packets(pcm, ptime)
                    n = 8 * ptime
                    for k, (s, e) in enumerate(spans):
                        for first in range(s // n - burst + 1, (e + n - 1) // n):
                            raw = [
                                p.serialize()
                                for i, p in enumerate(packets)
                                if not first <= i < first + burst
                            ]
                            y = _reassemble(_filtered(raw), 5000, len(pcm))
                            w = worst_window_db(y, s, e, "1397"[k], -12)
                            cases += 1
                            leaks += w > -40
                            worst = max(worst, w)
        what = "one packet lost" if burst == 1 else f"a burst of {burst} lost packets"
        print(f"| {what} in a keypress | {cases} | {leaks} | {worst:.1f} |")


def edges() -> None:
    for at_end in (False, True):
        leaks, worst = 0, -300.0
        for ms in range(1, 21):
            for seed in range(4):
                rng = np.random.default_rng(seed)
                if at_end:  # the stream ends `ms` into a keypress, on a packet boundary
                    x, spans = sg.keyed_sequence("5", 100, 100, -12, lead_ms=300 - ms)
                    s, _ = spans[0]
                    x, (a, b) = x[: s + 8 * ms], (s, s + 8 * ms)
                else:  # the stream starts `ms` before a keypress ends
                    x, spans = sg.keyed_sequence("5", 100, 100, -12, lead_ms=0)
                    x, (a, b) = x[spans[0][1] - 8 * ms :], (0, 8 * ms)
                pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
                y = _reassemble(_filtered([p.serialize() for p in _packets(pcm)]), 5000, len(pcm))
                w = worst_window_db(np.concatenate([y, np.zeros(160)]), a, b, "5", -12)
                leaks += w > -40
                worst = max(worst, w)
        what = (
            "a stream that ends in a keypress's first"
            if at_end
            else "a stream that starts in a keypress's last"
        )
        print(f"| {what} 1-20 ms | 80 | {leaks} | {worst:.1f} |")


def pauses() -> None:
    """A sender that pauses (DTX, sequence numbers running on, 1 s) 1-20 ms into a keypress
    and sends its rest after the pause, or pauses before its last 1-20 ms (timestamps that
    jump ahead): the keypress as heard (the pause taken out), through
    a filter given the stream at once and through one a relay's timer advances (20 ms
    jitter allowance)."""
    from test_stream_filter import _live

    for live, into_end in ((False, False), (True, False), (False, True), (True, True)):
        leaks, worst = 0, -300.0
        for ms in range(1, 21):
            for seed in range(4):
                rng = np.random.default_rng(seed)
                lead = 300 + ms if into_end else 300 - ms
                x, spans = sg.keyed_sequence("5", 100, 100, -12, lead_ms=lead)
                s, e = spans[0]
                pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
                cut = e - 8 * ms if into_end else s + 8 * ms
                raw = _paused(_packets(pcm), 5000, cut, 8000)
                out = _live(pf.RtpStreamFilter(), raw, 160)[0] if live else _filtered(raw)
                y = _reassemble(out, 5000, len(pcm) + 8000)
                heard = np.concatenate([y[:cut], y[cut + 8000 :]])
                w = worst_window_db(heard, s, e, "5", -12)
                leaks += w > -40
                worst = max(worst, w)
        how = "advanced by a timer" if live else "given at once"
        where = "before its last" if into_end else "into a keypress,"
        print(f"| a 1 s pause {where} 1-20 ms, {how} | 80 | {leaks} | {worst:.1f} |")


def wobble() -> None:
    for jitter in (1, 3, 8):
        leaks, worst, lost = 0, -300.0, 0
        for seed in range(4):
            rng = np.random.default_rng(seed)
            x, spans = sg.keyed_sequence("2580", 60, 80, -12, lead_ms=300 + seed)
            pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
            raw = _wobbled(_packets(pcm), rng, jitter)
            out = _filtered(raw)
            lost += len(raw) - len(out)
            y = _reassemble(out, 5000, len(pcm) + 100)
            for k, (s, e) in enumerate(spans):
                w = worst_window_db(y, s, e, "2580"[k], -12)
                leaks += w > -40
                worst = max(worst, w)
        print(
            f"| timestamps ±{jitter} samples (packets lost: {lost}) | 16 | {leaks} | {worst:.1f} |"
        )


def switch_on() -> None:
    rng = np.random.default_rng(3)
    x, spans = sg.keyed_sequence("5", 100, 100, -12, lead_ms=300)
    pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
    s, e = spans[0]
    packets = [p.serialize() for p in _packets(pcm)]
    leaks, worst = 0, -300.0
    for after in range(0, 61, 10):
        on = (e + 8 * after) // 160 + 1
        f = pf.RtpStreamFilter()
        f.filtering = False
        f.process(packets[:on])
        f.filtering = True
        y = _reassemble(f.process(packets[on:]) + f.flush(), 5000, len(pcm))
        w = worst_window_db(y, s, e, "5", -12)
        leaks += w > -40
        worst = max(worst, w)
    print(f"| filtering switched on 0-60 ms after a keypress | 7 | {leaks} | {worst:.1f} |")


def hostile_cost() -> None:
    payload = bytes(160)
    for step, what in ((160, "steady timestamps"), (15200, "every packet ~1.9 s on")):
        packets = [
            RtpPacket(0, False, i & 0xFFFF, i * step, 1, payload=payload).serialize()
            for i in range(2000)
        ]
        best = min(_time(packets) for _ in range(3))
        print(f"cost, {what}: {best:.1f} µs a packet (2,000 packets, best of 3)")


def _time(packets: list[bytes]) -> float:
    t = time.perf_counter()
    _filtered(packets)
    return (time.perf_counter() - t) / len(packets) * 1e6


def opus_cases() -> None:
    """The same kinds of discontinuity in Opus streams (24 kbit/s; SILK 20 ms, hybrid and
    CELT 10 ms, CELT 20 ms; keypresses of 60 ms at -12 dBm0 over -50 dBm0 noise, two seeds),
    each given at once and advanced live (20 ms jitter allowance), the decoded output's
    windows from the onset to 10 ms past the end (the codec delays): bursts of 1-5 lost
    packets starting anywhere in a keypress or before it; a 1 s pause one to three packets
    into a keypress or before its last one to three; a stream that starts or ends so."""
    from test_opus_stream import PT, TS0, _listen, _stream
    from test_stream_filter import _live

    def through(raw: list[bytes], live: bool) -> list[bytes]:
        f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1)
        return _live(f, raw, 960, ts0=TS0, clock=48000)[0] if live else f.process(raw) + f.flush()

    def worst(out: list[bytes], a: int, b: int, cut: int = -1, pause: int = 0) -> float:
        y = _listen(out)
        if pause:
            y = np.concatenate([y[:cut], y[cut + pause :]])
        return worst_window_db(np.concatenate([y, np.zeros(800)]), a, b + 80, "5", -12)

    def keyed(seed: int, lead_ms: int) -> tuple[np.ndarray, int, int]:
        rng = np.random.default_rng(seed)
        x, spans = sg.keyed_sequence("5", 60, 100, -12, lead_ms=lead_ms, sample_rate=48000)
        x = np.concatenate([x, np.zeros(24000)])
        return sg.to_int16(x + sg.white_noise(len(x), -50, rng)), spans[0][0], spans[0][1]

    for mode, fms in (("silk", 20), ("hybrid", 10), ("celt", 10), ("celt", 20)):
        fr = 48 * fms
        rows: dict[str, list[float]] = {}
        for seed in range(2):
            pcm, s48, e48 = keyed(seed, 300)
            stream = _stream(pcm, mode, fms)
            for burst in range(1, 6):
                for first in range(s48 // fr - burst + 1, (e48 - 1) // fr + 1):
                    raw = [p for i, p in enumerate(stream) if not first <= i < first + burst]
                    for live in (False, True):
                        rows.setdefault("bursts of 1-5 lost packets", []).append(
                            worst(through(raw, live), s48 // 6, e48 // 6)
                        )
            parsed = [RtpPacket.parse(p) for p in stream]
            for k in range(1, 4):
                for into_end in (False, True):
                    cut = (e48 // fr - k) * fr if into_end else (s48 // fr + k) * fr
                    raw = _paused(parsed, TS0, cut, 48000)
                    for live in (False, True):
                        rows.setdefault("a 1 s pause in a keypress", []).append(
                            worst(through(raw, live), s48 // 6, e48 // 6, cut // 6, 8000)
                        )
                    end_cut = (s48 // fr + k) * fr  # a stream that ends k packets in
                    start_cut = (e48 // fr - k) * fr  # ... or starts k packets before the end
                    for live in (False, True):
                        head = [p for p in stream if RtpPacket.parse(p).timestamp - TS0 < end_cut]
                        rows.setdefault("a stream that ends in a keypress", []).append(
                            worst(through(head, live), s48 // 6, end_cut // 6)
                        )
                        tail = [
                            p for p in stream if RtpPacket.parse(p).timestamp - TS0 >= start_cut
                        ]
                        rows.setdefault("a stream that starts in a keypress", []).append(
                            worst(through(tail, live), start_cut // 6, e48 // 6)
                        )
        for what, ws in rows.items():
            traces = sum(w > -40 for w in ws)
            print(
                f"| Opus {mode} {fms} ms: {what} | {len(ws)} | {traces} | {max(ws):.1f} |",
                flush=True,
            )


def _random_keypress(
    rng: np.random.Generator, bg: str
) -> tuple[np.ndarray, tuple[int, int], str, float]:
    """A random keypress (any digit but A-D, 40-120 ms, -25 to -5 dBm0 a tone) 200 ms into
    `bg` at -20 dBm0 (leak.background): the sum, not yet rounded, its span, digit and level."""
    from leak import background

    digit = "0123456789*#"[rng.integers(12)]
    duration = int(rng.integers(40, 121))
    level = float(rng.uniform(-25, -5))
    x, spans = sg.keyed_sequence(digit, duration, 100, level, lead_ms=200)
    return x + background(bg, len(x), rng), spans[0], digit, level


def under_speech(n: int) -> None:
    """Keypresses under speech cut by a sender's pause: how many keep a 10 ms window above
    -40 dB in what is heard (the pause taken out), given at once and advanced live (20 ms
    jitter allowance), against the same keypresses with no pause."""
    from test_stream_filter import _live

    for pause in (8000, 16800, 24000):
        rng = np.random.default_rng(7)
        leaks = {"given at once": 0, "advanced live": 0, "no pause": 0}
        for _ in range(n):
            x, (s, e), digit, level = _random_keypress(rng, "speech")
            pcm = sg.to_int16(x)
            cut = int(s + rng.integers(0, e - s)) // 160 * 160
            raw = _paused(_packets(pcm), 5000, cut, pause)
            for how in leaks:
                if how == "no pause":
                    y = _reassemble(
                        _filtered([p.serialize() for p in _packets(pcm)]), 5000, len(pcm)
                    )
                else:
                    live = how == "advanced live"
                    out = _live(pf.RtpStreamFilter(), raw, 160)[0] if live else _filtered(raw)
                    y = _reassemble(out, 5000, len(pcm) + pause)
                    y = np.concatenate([y[:cut], y[cut + pause :]])
                leaks[how] += worst_window_db(y, s, e, digit, level) > -40
        for how, count in leaks.items():
            case = "the same keypresses" if how == "no pause" else f"a {pause / 8000:.1f} s pause"
            print(f"| under speech, {case}, {how} | {n} | {count} | |")


def edges_under_speech(n: int) -> None:
    """Streams that start in a keypress's last 1-40 ms (from the packet boundary before), or
    end in its first 1-40 ms (to the packet boundary after), under speech at -20 dBm0: how
    many let a 10 ms window of it out above -40 dB."""
    for at_end in (False, True):
        rng = np.random.default_rng(3)
        leaks, worst = 0, -300.0
        for _ in range(n):
            full, (s, e), digit, level = _random_keypress(rng, "speech")
            part = 8 * int(rng.integers(1, 41))
            if at_end:
                end = (s + part + 159) // 160 * 160
                pcm, (a, b) = sg.to_int16(full[:end]), (s, end)
            else:
                start = (e - part) // 160 * 160
                pcm, (a, b) = sg.to_int16(full[start:]), (0, e - start)
            y = _reassemble(_filtered([p.serialize() for p in _packets(pcm)]), 5000, len(pcm))
            w = worst_window_db(np.concatenate([y, np.zeros(160, np.int16)]), a, b, digit, level)
            leaks += w > -40
            worst = max(worst, w)
        edge = "ends in a keypress's first" if at_end else "starts in a keypress's last"
        print(f"| under speech, a stream that {edge} 1-40 ms | {n} | {leaks} | {worst:.1f} |")


def core_edges(n: int) -> None:
    """The core scrubber (`pf.scrub`: WAV files, batches, `StreamScrubber`) given a signal
    that starts in a keypress's last 1-40 ms or ends in its first, over silence, line noise
    and speech: how many let a 10 ms window of it out above -40 dB."""
    for bg in ("silence", "line_noise", "speech"):
        rng = np.random.default_rng(3)
        leaks = {"start": 0, "end": 0}
        for _ in range(n):
            full, (s, e), digit, level = _random_keypress(rng, bg)
            part = 8 * int(rng.integers(1, 41))
            for edge in leaks:
                if edge == "start":
                    pcm, span = sg.to_int16(full[e - part :]), (0, part)
                else:
                    pcm, span = sg.to_int16(full[: s + part]), (s, s + part)
                y = np.concatenate([pf.scrub(pcm).audio, np.zeros(160, np.int16)])
                leaks[edge] += worst_window_db(y, *span, digit, level) > -40
        for edge, count in leaks.items():
            where = (
                "starts in a keypress's last" if edge == "start" else "ends in a keypress's first"
            )
            print(f"| core, over {bg}, a signal that {where} 1-40 ms | {n} | {count} | |")


def natural_pauses() -> None:
    """What the pause guards cost where no keypress is: 2 minutes of espeak-ng speech sent
    as a sender with an energy VAD sends it (20 ms frames above the 35th percentile of
    energy, 60 ms of hang-over; a comfort-noise packet at each pause, the sequence running
    on): the output's changed codes in ms, given at once and advanced live; and the level of
    the 10 ms before each pause."""
    from test_stream_filter import _live

    from pcifilter import corpus

    x = corpus.cached("speech", 120, seed=11)
    frames = x[: len(x) // 160 * 160].reshape(-1, 160).astype(np.float64)
    energy = (frames**2).mean(axis=1)
    loud = energy > np.percentile(energy, 35)
    sent = loud.copy()
    for i in np.flatnonzero(loud):
        sent[i : i + 4] = True  # 60 ms of hang-over
    packets, seq, before = [], 0, []
    for i in np.flatnonzero(sent):
        payload = pf.ulaw_encode(x[160 * i : 160 * i + 160]).tobytes()
        packets.append(
            RtpPacket(0, i == 0 or not sent[i - 1], seq, 5000 + 160 * i, 9, payload=payload)
        )
        seq += 1
        if i + 1 < len(sent) and not sent[i + 1]:
            tail = frames[i, 80:]
            before.append(
                10 * np.log10(max((tail**2).mean() * 2, 1e-9) / sg.dbm0_to_amplitude(0) ** 2)
            )
            packets.append(RtpPacket(13, False, seq, 5000 + 160 * (i + 1), 9, payload=bytes([50])))
            seq += 1
    raw = [p.serialize() for p in packets]

    def changed_ms(out: list[bytes]) -> float:
        n = 0
        for p in map(RtpPacket.parse, out):
            if p.payload_type == 0:
                i = (p.timestamp - 5000) // 160
                n += int(
                    np.count_nonzero(
                        np.frombuffer(p.payload, np.uint8)
                        != pf.ulaw_encode(x[160 * i : 160 * i + 160])
                    )
                )
        return n / 8

    at_once = changed_ms(_filtered(raw))
    live = changed_ms(_live(pf.RtpStreamFilter(), raw, 160)[0])
    p50, p90, top = np.percentile(before, 50), np.percentile(before, 90), max(before)
    print(
        f"natural pauses: {len(before)}; changed {at_once:.0f} ms given at once, {live:.0f} ms "
        f"live; the 10 ms before a pause at {p50:.1f} / {p90:.1f} / {top:.1f} dBm0 (median, "
        "90th percentile, loudest)"
    )


def opus_under_speech(n: int, losses: bool = False, bg: str = "speech") -> None:
    """Opus streams at 24 kbit/s (SILK 20 ms, hybrid 20 and 10 ms, CELT 10 and 20 ms): n
    random keypresses under speech (as `under_speech`), each with no pause, cut anywhere by a
    pause of 1 s or 3 s (the sequence running on; given at once), and in a stream that starts
    1-40 ms (from the packet boundary before) from its end. Measured as the tests'
    `opus_leak_sweep` does: the stream keyed and keyed inverted, each output set against the
    other masked where it was, so that what turns over with the keypress is its own (speech
    through the codec is not); keypresses with a 10 ms window of it above -40 dB re the tone,
    from the onset to 10 ms past the end (the pause taken out). After a 3 s pause (a new
    timeline, its start guarded when on sound) the two runs may mask a packet differently:
    what differs then counts as the keypress's, over-counting, never under."""
    from test_opus_stream import TS0, _keyed_under, _keypress_left

    for mode, fms in (("silk", 20), ("hybrid", 20), ("hybrid", 10), ("celt", 10), ("celt", 20)):
        fr = 48 * fms
        rng = np.random.default_rng(11)
        lost = np.random.default_rng(12)  # apart: the same keypresses as without --losses
        rows: dict[str, list[float]] = {}
        for _ in range(n):
            digit = "0123456789*#"[rng.integers(12)]
            level = float(rng.uniform(-25, -5))
            duration = int(rng.integers(40, 121))
            raws, (s, e) = _keyed_under(rng, digit, duration, level, mode, fms, bg)
            # (streams, where the keypress is looked at from, the pause to take out)
            cases: dict[str, tuple[list[list[bytes]], int, tuple[int, int]]] = {
                "no pause": (raws, s, (0, 0))
            }
            cut = int(6 * s + rng.integers(0, 6 * (e - s))) // fr * fr
            for seconds in (1, 3):
                parsed = [[RtpPacket.parse(p) for p in raw] for raw in raws]
                paused = [_paused(ps, TS0, cut, 48000 * seconds) for ps in parsed]
                cases[f"a {seconds} s pause"] = (paused, s, (cut // 6, 8000 * seconds))
            start = (6 * e - 48 * int(rng.integers(1, 41))) // fr * fr
            late = [[p for p in raw if RtpPacket.parse(p).timestamp - TS0 >= start] for raw in raws]
            cases["a stream that starts 1-40 ms from its end"] = (late, max(s, start // 6), (0, 0))
            if losses:
                for name, gone in (
                    ("1-3 packets lost", 48 * fms * int(lost.integers(1, 4))),
                    ("1 s lost", 48000),
                ):
                    kept = [
                        [p for p in raw if not 0 <= RtpPacket.parse(p).timestamp - TS0 - cut < gone]
                        for raw in raws
                    ]
                    cases[f"{name} at the same place"] = (kept, s, (0, 0))
            for what, (streams, a, pause) in cases.items():
                rows.setdefault(what, []).append(_keypress_left(streams, a, e, digit, level, pause))
        for what, ws in rows.items():
            traces = sum(w > -40 for w in ws)
            print(
                f"| Opus {mode} {fms} ms under {bg}: {what} | {n} | {traces} | {max(ws):.1f} |",
                flush=True,
            )


def main() -> None:
    print("| case | cases | with a window above -40 dB | loudest window (dB) |")
    print("|---|---|---|---|")
    if "--opus-under-speech" in sys.argv:
        at = sys.argv.index("--opus-under-speech") + 1
        n = int(sys.argv[at]) if at < len(sys.argv) and sys.argv[at].isdigit() else 100
        bg = "music" if "--music" in sys.argv else "speech"
        opus_under_speech(n, "--losses" in sys.argv, bg)
        return
    if "--opus" in sys.argv:
        opus_cases()
        return
    if "--under-speech" in sys.argv:
        at = sys.argv.index("--under-speech") + 1
        under_speech(int(sys.argv[at]) if at < len(sys.argv) else 400)
        edges_under_speech(int(sys.argv[at]) if at < len(sys.argv) else 400)
        core_edges(int(sys.argv[at]) if at < len(sys.argv) else 400)
        natural_pauses()
        return
    bursts((1,), 6)
    bursts((2, 3, 5, 8, 12), 3)
    edges()
    pauses()
    wobble()
    switch_on()
    hostile_cost()


if __name__ == "__main__":
    main()
