# SPDX-License-Identifier: Apache-2.0
"""Talk-off through Opus: digits the detector reports on 20 minutes of speech and of music
(the corpora of tests/test_talkoff.py, first 20 minutes of each hour, and of the recorded
speech and music) after an Opus round trip at 16 kbit/s, per mode and frame size; and what
relaxing the harmonic test (the knob that was
weighed, before the probes' peak test, for the 10 ms rows at 16 kbit/s of
tests/test_opus_q24.py) would cost, raw and coded.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/opus_talkoff_report.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from opuslib import round_trip

import pcifilter as pf
from pcifilter import corpus

CONFIGS = (("raw", 0), ("silk", 20), ("hybrid", 10), ("hybrid", 20), ("celt", 10), ("celt", 20))
OPTIONS = ({}, {"max_harmonic_db": -8.0})


def main() -> None:
    print("| corpus | coding | digits, default detector | digits, max_harmonic_db = -8 |")
    print("|---|---|---|---|")
    sources = {
        "speech (20 min)": corpus.cached("speech", 3600, seed=0)[: 8000 * 1200],
        "music (20 min)": corpus.cached("music", 3600, seed=0)[: 8000 * 1200],
        "recorded speech (20 min)": corpus.recorded("speech")[: 8000 * 1200],
        "recorded music (18 min)": corpus.recorded("music"),
    }
    for kind, x in sources.items():
        for mode, frame_ms in CONFIGS:
            y = x if mode == "raw" else round_trip(x, mode, frame_ms, 16000)
            counts = [sum(e.kind == "dtmf" for e in pf.detect(y, **o)) for o in OPTIONS]
            coding = "none" if mode == "raw" else f"{mode} {frame_ms} ms, 16 kbit/s"
            print(f"| {kind} | {coding} | {counts[0]} | {counts[1]} |", flush=True)


if __name__ == "__main__":
    main()
