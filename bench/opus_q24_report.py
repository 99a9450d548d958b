# SPDX-License-Identifier: Apache-2.0
"""How detection holds up through Opus as the bitrate drops: the share of 64 keypresses (all
sixteen digits, random onsets and phases) found exactly, per mode, frame size and bitrate,
for the nominal keypress and the Q.24 edge rows. Gateways code at 6-12 kbit/s too; the rows
must hold from 16 kbit/s (tests/test_opus_q24.py).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/opus_q24_report.py
    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/opus_q24_report.py --pause-sweep
    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/opus_q24_report.py --row-sweep
    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/opus_q24_report.py --twist-sweep
    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/opus_q24_report.py --twist-delivered

`--pause-sweep`: the 40 ms pause row through hybrid 10 ms frames at 16 kbit/s (once a strict
xfail) over 16 seeds, each pair of presses counted as found twice, merged into one, or with
one press lost. `--row-sweep`: the pause and the 10 ms dropout rows through SILK, hybrid and
CELT 10 ms frames at 16 kbit/s over 16 other seeds (100-115), pairs as the row wants them
(two presses, one), and the ones that are not. Both sweeps also say how clean the pairs
arrive: the pair fitted in each 10 ms, its energy over the rest's (`q24.delivered_snr_db`;
Q.24's noise row is 15 dB per tone, about 18 dB for the pair). `--twist-sweep`: the -8 dB
twist accept row and the -12.1 dB reject row at 16 kbit/s over 8 seeds (200-207), failures
per reverse-twist limit of the detector: whether any limit holds both through the codec.
`--twist-delivered`: the twist the codec delivers (both tones fitted by least squares over
each keypress, as received) for keypresses keyed at the four twist rows, 16 seeds (200-215)
of all sixteen digits, and the detector's decisions judged on that delivered twist: whether
the codec, not the detector, moves keypresses across the Q.24 gap.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from opuslib import round_trip
from q24 import delivered_snr_db, delivered_twist_trials, trial_signal

import pcifilter as pf
from pcifilter import signals as sg

ROWS = {
    "-10 dBm0": {},
    "-25 dBm0": {"level_dbm0": -25.0},
    "±1.5 %": {"freq_error": (0.015, -0.015)},
    "twist -8": {"twist_db": -8.0},
    "twist +4": {"twist_db": 4.0},
    "40 ms": {"duration_ms": 40.0},
}
TRIALS = 64


def _in_one_stream(parts: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """The parts one after another as int16, and each part's span in ms."""
    spans, at = [], 0
    for x in parts:
        spans.append((at / 8, (at + len(x)) / 8))
        at += len(x)
    return sg.to_int16(np.concatenate(parts)), spans


def _press_pairs(
    rng: np.random.Generator, gap_ms: float
) -> tuple[np.ndarray, list[tuple[float, float, str, float]]]:
    """Every digit pressed twice, 60 ms each, `gap_ms` apart, after a random 50-60 ms lead,
    as tests/test_opus_q24.py's pause and dropout rows: one stream, and each pair's span,
    digit and first onset in ms."""
    parts, onsets = [], []
    for d in sg.DIGITS:
        a = sg.dtmf(d, 60.0, -10.0, phases=(rng.uniform(0, 6.28), rng.uniform(0, 6.28)))
        b = sg.dtmf(d, 60.0, -10.0, phases=(rng.uniform(0, 6.28), rng.uniform(0, 6.28)))
        lead = int(rng.integers(400, 480))
        parts.append(
            np.concatenate([np.zeros(lead), a, np.zeros(int(gap_ms * 8)), b, np.zeros(800)])
        )
        onsets.append(lead / 8)
    pcm, spans = _in_one_stream(parts)
    return pcm, [(a, b, d, a + on) for (a, b), d, on in zip(spans, sg.DIGITS, onsets, strict=True)]


def rate(mode: str, frame_ms: int, bitrate: int, seed: int, **signal: object) -> float:
    rng = np.random.default_rng(seed)
    digits = [sg.DIGITS[i % 16] for i in range(TRIALS)]
    parts = [trial_signal(rng, d, **signal)[0] for d in digits]  # type: ignore[arg-type]
    pcm, spans = _in_one_stream(parts)
    events = pf.detect(round_trip(pcm, mode, frame_ms, bitrate))
    found = sum(
        [e.digit for e in events if a <= e.start_ms < b] == [d]
        for (a, b), d in zip(spans, digits, strict=True)
    )
    return found / TRIALS


def _pair_snr_db(y: np.ndarray, onset_ms: float, gap_ms: float, digit: str) -> float:
    """How clean a `_press_pairs` pair arrives: the lower `delivered_snr_db` of its two
    60 ms presses."""
    first = int(onset_ms * 8)
    second = first + 480 + int(gap_ms * 8)
    return min(delivered_snr_db(y, at, at + 480, digit) for at in (first, second))


def pause_sweep(mode: str = "hybrid", frame_ms: int = 10, bitrate: int = 16000) -> None:
    ok = merged = lost = other = 0
    missed_snr = []  # how clean the pairs not found twice arrived (the lower press's)
    for seed in range(16):
        pcm, pairs = _press_pairs(np.random.default_rng(seed), 40.0)
        y = round_trip(pcm, mode, frame_ms, bitrate)
        events = pf.detect(y)
        for a0, b0, d, onset in pairs:
            first_end, second = onset + 60, onset + 100
            es = [e for e in events if a0 <= e.start_ms < b0]
            if [e.digit for e in es] == [d, d]:
                ok += 1
                continue
            missed_snr.append(_pair_snr_db(y, onset, 40.0, d))
            if len(es) == 1 and es[0].digit == d:
                spans_both = es[0].start_ms < first_end - 20 and es[0].end_ms > second + 20
                merged += spans_both
                lost += not spans_both
            else:
                other += 1
    snrs = ", ".join(f"{v:.1f}" for v in missed_snr)
    print(
        f"{mode} {frame_ms} ms, {bitrate // 1000} kbit/s, 40 ms pause, 256 pairs: {ok} found "
        f"twice, {merged} merged, {lost} with one press lost, {other} otherwise; "
        f"those arrived at SNR [{snrs}] dB"
    )


def row_sweep() -> None:
    """Also how clean each pair arrives (`delivered_snr_db` over both presses, the lower):
    the median over the pairs, and each wrong pair's."""
    for mode in ("silk", "hybrid", "celt"):
        for gap_ms, presses in ((40.0, 2), (10.0, 1)):
            ok, wrong, snrs = 0, [], []
            for seed in range(100, 116):
                pcm, pairs = _press_pairs(np.random.default_rng(seed), gap_ms)
                y = round_trip(pcm, mode, 10, 16000)
                events = pf.detect(y)
                for a0, b0, d, onset in pairs:
                    snr = _pair_snr_db(y, onset, gap_ms, d)
                    snrs.append(snr)
                    got = [e.digit for e in events if a0 <= e.start_ms < b0]
                    if got == [d] * presses:
                        ok += 1
                    else:  # a test signal's digits, not card data
                        keys = "".join(g or "?" for g in got) or "nothing"
                        wrong.append(f"seed {seed} key {d}: {keys} at {snr:.1f} dB")
            row = "40 ms pause" if presses == 2 else "10 ms dropout"
            print(
                f"{mode} 10 ms, 16 kbit/s, {row}: {ok}/256 as the row wants (pairs arrive at "
                f"{np.median(snrs):.1f} dB SNR, median); {wrong}"
            )


def twist_sweep() -> None:
    limits = (10.0, 10.2, 10.3, 10.4, 10.5, 10.6)
    for mode, frame_ms in (("celt", 10), ("celt", 20), ("celt", 60), ("hybrid", 10), ("silk", 10)):
        failures = {lim: [0, 0] for lim in limits}
        for seed in range(200, 208):
            for row, (twist, accept) in enumerate(((-8.0, True), (-12.1, False))):
                rng = np.random.default_rng(seed)
                parts = [
                    trial_signal(rng, d, twist_db=twist, level_dbm0=-10.0)[0] for d in sg.DIGITS
                ]
                pcm, spans = _in_one_stream(parts)
                y = round_trip(pcm, mode, frame_ms, 16000)
                for lim in limits:
                    events = pf.detect(y, max_reverse_twist_db=lim)
                    for d, (a, b) in zip(sg.DIGITS, spans, strict=True):
                        got = [e.digit for e in events if a <= e.start_ms < b]
                        failures[lim][row] += got != ([d] if accept else [])
        cells = ", ".join(f"{lim:g} dB: {a}/{r}" for lim, (a, r) in failures.items())
        print(
            f"{mode} {frame_ms} ms, 16 kbit/s, failures of 128 (accept -8 / reject -12.1): {cells}"
        )


TWIST_ROWS = (-8.0, -12.1, 4.0, 10.1)  # keyed: accept, reject, accept, reject


def _spread(values: list[float]) -> str:
    v = np.array(values)
    return f"{v.min():.1f} / {np.median(v):.1f} / {v.max():.1f}"


def twist_delivered() -> None:
    print(
        "| coding | keyed -8 dB: delivered min / median / max | keyed -12.1 dB: "
        "delivered min / median / max | keyed +4: delivered max; keyed +10.1: delivered min | "
        "delivered within [-8, +4]: found | delivered beyond -12 / +10: not found |"
    )
    print("|---|---|---|---|---|---|")
    for mode, frame_ms, kbps in (
        ("celt", 10, 16), ("celt", 20, 16), ("celt", 60, 16), ("hybrid", 10, 16),
        ("silk", 10, 16), ("celt", 10, 24),
    ):  # fmt: skip
        delivered: dict[float, list[float]] = {t: [] for t in TWIST_ROWS}
        inside = [0, 0]  # found, of
        beyond = [0, 0]  # not found, of
        for twist in TWIST_ROWS:
            for seed in range(200, 216):
                codec = functools.partial(
                    round_trip, mode=mode, frame_ms=frame_ms, bitrate=kbps * 1000
                )
                for d, tw, got in delivered_twist_trials(codec, twist, seed):
                    delivered[twist].append(tw)
                    if -8.0 <= tw <= 4.0:
                        inside[0] += got == [d]
                        inside[1] += 1
                    elif tw < -12.0 or tw > 10.0:
                        beyond[0] += got == []
                        beyond[1] += 1

        print(
            f"| {mode} {frame_ms} ms, {kbps} kbit/s | {_spread(delivered[-8.0])} | "
            f"{_spread(delivered[-12.1])} | "
            f"{max(delivered[4.0]):.1f} / {min(delivered[10.1]):.1f} | "
            f"{inside[0]} / {inside[1]} | {beyond[0]} / {beyond[1]} |"
        )


def main() -> None:
    if "--twist-delivered" in sys.argv[1:]:
        twist_delivered()
        return
    if "--twist-sweep" in sys.argv[1:]:
        twist_sweep()
        return
    if "--pause-sweep" in sys.argv[1:]:
        pause_sweep()
        return
    if "--row-sweep" in sys.argv[1:]:
        row_sweep()
        return
    print("| mode | frame | kbit/s | " + " | ".join(ROWS) + " |")
    print("|---|---|---|" + "---|" * len(ROWS))
    for mode in ("silk", "hybrid", "celt"):
        for frame_ms in (10, 20, 40, 60):
            for bitrate in (6000, 8000, 10000, 12000, 16000):
                cells = [
                    f"{100 * rate(mode, frame_ms, bitrate, seed, **sig):.0f}"
                    for seed, sig in enumerate(ROWS.values())
                ]
                print(f"| {mode} | {frame_ms} ms | {bitrate // 1000} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
