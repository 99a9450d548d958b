# SPDX-License-Identifier: Apache-2.0
"""Opus quality around masks, the figures behind tests/test_opus_quality.py: packets
re-encoded, PESQ (P.862 nb) of the decoded output against the decoded input away from them,
the highest peak of the output over the input around a mask boundary, and the loudest the
output is inside the masked packets (from 20 ms into a run); on 20 s of espeak-ng speech and
of recorded speech.

    .venv/bin/python bench/opus_quality_report.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from pesq import pesq
from test_opus_quality import (
    SOURCES,
    away_from,
    boundary_peak_db,
    inside_masks_dbm0,
    runs_of,
    through,
)


def main() -> None:
    print(
        "| speech | mode | packets re-encoded | PESQ away from them "
        "| peak at a mask boundary vs input | inside masks, loudest (dBm0) |"
    )
    print("|---|---|---|---|---|---|")
    for source in SOURCES:
        for mode in ("silk", "hybrid", "celt"):
            yi, yo, changed = through(mode, source)
            keep = away_from(changed, len(yi))
            runs = runs_of(changed)
            worst = max(boundary_peak_db(yi, yo, a, b) for a, b in runs)
            score = pesq(8000, yi[keep], yo[keep], "nb")
            print(
                f"| {source} | {mode} | {len(changed)} of {len(yi) // 160} ({len(runs)} runs) "
                f"| {score:.2f} | {worst:+.1f} dB | {max(inside_masks_dbm0(mode, source)):.1f} |"
            )


if __name__ == "__main__":
    main()
