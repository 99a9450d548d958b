# SPDX-License-Identifier: Apache-2.0
"""The leak criterion through Opus by bitrate and filter setting: keypresses whose tone
survives anywhere in the decoded output (`tests/test_opus_stream.py::opus_leak_sweep`: 24
keypresses per stream, -3 to -30 dBm0 over silence and line noise, -3 to -15 dBm0 over speech
and music at -20 dBm0; each filtered stream set against the other keyed stream masked exactly
alike), over SILK 20 ms, hybrid 10/20 ms and CELT 10/20 ms streams and four seeds, at 16 and
24 kbit/s, for the stream filter's look-ahead and hang-over (as passed; an Opus stream's masks
hang over 10 ms more).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/opus_leak_report.py [SEEDS]

`--pre-echo`: how much of a keypress the codec puts ahead of it (no filter): the tones' part
of the decoded stream (keyed against keyed inverted) in the 10 ms windows that start 5, 10
and 15 ms before each onset (the decoded tone arrives ~6.5 ms after it), hybrid 10 ms at 16
and 24 kbit/s over speech and music, four seeds.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/opus_leak_report.py --pre-echo
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import numpy as np
from leak import window_db
from test_opus_stream import _listen, keyed_streams, opus_leak_sweep

CODINGS = (("silk", 20), ("hybrid", 10), ("hybrid", 20), ("celt", 10), ("celt", 20))
BACKGROUNDS = ("silence", "line_noise", "speech", "music")
# As passed to the filter (defaults: 40 ms look-ahead, 5 ms hang-over, to which an Opus
# stream's masks add 10 ms).
SETTINGS = (
    {"lookahead_ms": 40.0, "hangover_ms": 5.0},
    {"lookahead_ms": 50.0, "hangover_ms": 5.0},
    {"lookahead_ms": 60.0, "hangover_ms": 5.0},
)


def pre_echo() -> None:
    print("| kbit/s | background | window (ms before the onset) | median (dB re tone) | max |")
    print("|---|---|---|---|---|")
    for kbps in (16, 24):
        for bg in ("speech", "music"):
            found: dict[int, list[float]] = {40: [], 80: [], 120: []}
            for seed in range(4):
                keys, spans, raws = keyed_streams("hybrid", 10, bg, kbps * 1000, seed)
                y = [_listen(raw).astype(np.float64) for raw in raws]
                part = (y[0] - y[1]) / 2
                for (digit, level), (s, _) in zip(keys, spans, strict=True):
                    for before, db in found.items():
                        db.append(window_db(part, s - before, digit, level))
            for before, db in found.items():
                print(f"| {kbps} | {bg} | {before / 8:g} | {np.median(db):.1f} | {max(db):.1f} |")


def main() -> None:
    if sys.argv[1:] == ["--pre-echo"]:
        pre_echo()
        return
    seeds = range(int(sys.argv[1]) if len(sys.argv) > 1 else 4)
    print(
        "| look-ahead, hang-over | kbit/s | keypresses with a trace (of "
        f"{24 * len(CODINGS) * len(BACKGROUNDS) * len(seeds)}) | worst (dB re tone) "
        "| in the first 10 ms / later | streams spandsp heard a digit in |"
    )
    print("|---|---|---|---|---|---|")
    for options in SETTINGS:
        for kbps in (16, 24):
            leaks, heard = [], 0
            for mode, frame_ms in CODINGS:
                for bg in BACKGROUNDS:
                    for seed in seeds:
                        found, unheard = opus_leak_sweep(
                            mode, frame_ms, bg, kbps * 1000, seed, **options
                        )
                        leaks += found
                        heard += not unheard
            worst = max((db for *_, db in leaks), default=-200.0)
            onset = sum(off < 80 for _, _, off, _ in leaks)
            print(
                f"| {options['lookahead_ms']:g} ms, {options['hangover_ms']:g} ms | {kbps} | "
                f"{len(leaks)} | {worst:.1f} | {onset} / {len(leaks) - onset} | {heard} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
