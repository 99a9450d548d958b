# SPDX-License-Identifier: Apache-2.0
"""How often a keypress that packets lost inside it cut is reported once, twice or not at
all by a stream filter (the capture path: a keypress reported twice puts a digit too many in
a card number, one not reported leaves one out; masking is another matter, tested apart).

Keypresses of 200 ms (random digit, -25 to -5 dBm0 a tone, twist -4 to +2 dB, over line
noise at -50 dBm0) and one burst of 1 to 3 packets lost at each packet position inside each
(both parts of the keypress at least one packet long), in PCMU streams of 10, 20 and 30 ms
packets and Opus streams (SILK 20 ms, hybrid 10 and 20 ms, CELT 10 and 20 ms, 24 kbit/s);
bursts of up to 60 ms. Then pairs of keypresses of one digit (100 ms each, 40 to 60 ms
apart) with one packet lost at each position in them: how often a pair is reported as one.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/loss_split_report.py [SEEDS] [FIRST]

(default 4 seeds from 0)
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from opuslib import rtp_stream, upsample6
from test_stream_filter import _packets as pcmu_packets

import pcifilter as pf
from pcifilter import signals as sg

STREAMS = (
    ("pcmu", 10),
    ("pcmu", 20),
    ("pcmu", 30),
    ("silk", 20),
    ("hybrid", 10),
    ("hybrid", 20),
    ("celt", 10),
    ("celt", 20),
)


def _packets(pcm: np.ndarray, codec: str, ptime: int) -> list[bytes]:
    if codec != "pcmu":
        return rtp_stream(upsample6(pcm), codec, ptime, 24000, ssrc=5)
    return [p.serialize() for p in pcmu_packets(pcm, ptime, ts=1000, ssrc=5)]


def _reported(packets: list[bytes], codec: str, lost: range) -> str:
    f = pf.RtpStreamFilter(opus_pt=111) if codec != "pcmu" else pf.RtpStreamFilter()
    f.process([p for i, p in enumerate(packets) if i not in lost])
    f.flush()
    return pf.digits_of(f.take_events())


def _call(
    rng: np.random.Generator, digits: str, tone_ms: int, pause_ms: int
) -> tuple[np.ndarray, list[tuple[int, int]]]:
    level = float(rng.uniform(-25, -5))
    twist = float(rng.uniform(-4, 2))
    x = np.zeros(8 * (320 + len(digits) * (tone_ms + pause_ms)) + 4000)
    at = 8 * int(rng.integers(300, 320))
    spans = []
    for d in digits:
        spans.append(sg.key_into(x, rng, d, tone_ms, level, at, twist))
        at = spans[-1][1] + 8 * pause_ms
    return sg.to_int16(x + sg.white_noise(len(x), -50, rng)), spans


def keyed(
    seed: int, copies: int, tone_ms: int, pause_ms: int, codec: str, ptime: int
) -> tuple[str, list[bytes], list[tuple[int, int]]]:
    """The seed's digit keyed `copies` times (its level and twist drawn from the seed), as
    packets of `codec`, and where each keypress lies (samples at 8 kHz)."""
    digit = "0123456789"[seed % 10]
    pcm, spans = _call(np.random.default_rng(seed), digit * copies, tone_ms, pause_ms)
    return digit, _packets(pcm, codec, ptime), spans


def tally(seen: Counter[str], got: str, digit: str) -> None:
    """A keypress reported once, twice or more, or not at all."""
    seen["once" if got == digit else "none" if not got else "twice+"] += 1


def seeds_from_argv() -> range:
    """[SEEDS] [FIRST] from the command line (4 seeds from 0)."""
    n_seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    first = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    return range(first, first + n_seeds)


def main() -> None:
    seeds = seeds_from_argv()
    print("| stream | packets lost | reported once | twice | not at all | cases |")
    print("|---|---|---|---|---|---|")
    for codec, ptime in STREAMS:
        n = 8 * ptime
        for burst in range(1, 60 // ptime + 1):
            seen: Counter[str] = Counter()
            for seed in seeds:
                digit, packets, ((s, e),) = keyed(seed, 1, 200, 100, codec, ptime)
                for at in range(s // n + 1, e // n - burst):
                    tally(seen, _reported(packets, codec, range(at, at + burst)), digit)
            total = sum(seen.values())
            print(
                f"| {codec} {ptime} ms | {burst} ({burst * ptime} ms) | {seen['once']} "
                f"| {seen['twice+']} | {seen['none']} | {total} |"
            )
    print()
    print("| stream | pause (ms) | pairs reported as one | cases |")
    print("|---|---|---|---|")
    for codec, ptime in STREAMS:
        n = 8 * ptime
        for pause in (40, 60):
            merged = total = 0
            for seed in seeds:
                digit, packets, spans = keyed(100 + seed, 2, 100, pause, codec, ptime)
                for at in range(spans[0][0] // n, spans[1][1] // n + 1):
                    got = _reported(packets, codec, range(at, at + 1))
                    merged += got == digit
                    total += 1
            print(f"| {codec} {ptime} ms | {pause} | {merged} | {total} |")


if __name__ == "__main__":
    main()
