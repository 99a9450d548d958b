# SPDX-License-Identifier: Apache-2.0
"""Opus quality around masks, the figures behind tests/test_opus_quality.py: packets
re-encoded, PESQ (P.862 nb) of the decoded output against the decoded input away from them,
the highest peak of the output over the input around a mask boundary, the loudest the output
is inside the masked packets (from 20 ms into a run), and how loud the 60 ms after a mask come
out against the input, also when the packet right after each masked run is lost (the 60 ms
after that packet); on 20 s of espeak-ng speech and of recorded speech.

    .venv/bin/python bench/opus_quality_report.py

`--masked-share RAW`: how much of plain speech (8 kHz int16, e.g. the 60 s benchmark speech:
`.venv/bin/python -m pcifilter.corpus --minutes 1 --out build/corpus`) goes out masked, in
G.711 (the masker's own spans) and through Opus at 24 kbit/s (the packets those spans
touch, masked whole), and how many packets are re-encoded.

    .venv/bin/python bench/opus_quality_report.py --masked-share build/corpus/speech-60s-seed0.raw

`--after-profile`: the output's level against the input's in each 20 ms of the 160 ms after a
mask (median over the masks followed by 200 ms unmasked, and the lowest), and PESQ over all
but the masked spans (the transitions in).

    .venv/bin/python bench/opus_quality_report.py --after-profile
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import numpy as np
from opuslib import rtp_stream, upsample6
from pesq import pesq
from test_opus_quality import (
    SOURCES,
    away_from,
    boundary_peak_db,
    filtered,
    inside_masks_dbm0,
    level_after_masks_and_a_loss_db,
    level_after_masks_db,
    runs_of,
    through,
)
from test_stream_filter import _packets

import pcifilter as pf


def masked_share(path: str) -> None:
    pcm = np.fromfile(path, np.int16)
    g = pf.RtpStreamFilter()
    g.process([p.serialize() for p in _packets(pcm)])
    g.flush()
    share = sum(d for _, d in g.take_masked()) / len(pcm)
    print("| stream | masked | packets re-encoded |")
    print("|---|---|---|")
    print(f"| G.711, 20 ms | {100 * share:.1f} % | |")
    for mode in ("silk", "hybrid", "celt"):
        for frame_ms in (10, 20):
            raw = rtp_stream(upsample6(pcm), mode, frame_ms, 24000, 111)
            f = pf.RtpStreamFilter(opus_pt=111, telephone_event_pt=-1)
            f.process(raw)
            f.flush()
            share = sum(d for _, d in f.take_masked()) / 6 / len(pcm)
            print(
                f"| {mode} {frame_ms} ms | {100 * share:.1f} % "
                f"| {f.stats['reencoded']} of {len(raw)} |"
            )


def after_profile() -> None:
    print(
        "| speech | mode | 20 ms bins after a mask: median (dB) | lowest (dB) | PESQ, masks out |"
    )
    print("|---|---|---|---|---|")
    for source in SOURCES:
        for mode in ("silk", "hybrid", "celt"):
            yi, yo, _, spans = filtered(mode, source)
            rows = []
            for i, (_, end) in enumerate(spans):
                if (i + 1 < len(spans) and spans[i + 1][0] < end + 1600) or end + 1600 > len(yi):
                    continue
                bins = [slice(end + k * 160, end + (k + 1) * 160) for k in range(8)]
                rows.append(
                    [
                        10 * np.log10((np.sum(yo[b] ** 2) + 1) / (np.sum(yi[b] ** 2) + 1))
                        for b in bins
                    ]
                )
            keep = np.ones(len(yi), bool)
            for s, e in spans:
                keep[max(0, s - 160) : e] = False
            med = " ".join(f"{v:+.1f}" for v in np.median(rows, 0))
            low = " ".join(f"{v:+.1f}" for v in np.min(rows, 0))
            score = pesq(8000, yi[keep], yo[keep], "nb")
            print(f"| {source} | {mode} | {med} | {low} | {score:.2f} |")


def main() -> None:
    if sys.argv[1:2] == ["--masked-share"]:
        masked_share(sys.argv[2])
        return
    if sys.argv[1:2] == ["--after-profile"]:
        after_profile()
        return
    print(
        "| speech | mode | packets re-encoded | PESQ away from them "
        "| peak at a mask boundary vs input | inside masks, loudest (dBm0) "
        "| 60 ms after a mask vs input, median (lowest) | ... after a mask and a lost packet |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for source in SOURCES:
        for mode in ("silk", "hybrid", "celt"):
            yi, yo, changed = through(mode, source)
            keep = away_from(changed, len(yi))
            runs = runs_of(changed)
            worst = max(boundary_peak_db(yi, yo, a, b) for a, b in runs)
            score = pesq(8000, yi[keep], yo[keep], "nb")
            after = level_after_masks_db(mode, source)
            lossy = level_after_masks_and_a_loss_db(mode, source)
            print(
                f"| {source} | {mode} | {len(changed)} of {len(yi) // 160} ({len(runs)} runs) "
                f"| {score:.2f} | {worst:+.1f} dB | {max(inside_masks_dbm0(mode, source)):.1f} "
                f"| {np.median(after):+.1f} dB ({min(after):+.1f}) "
                f"| {np.median(lossy):+.1f} dB ({min(lossy):+.1f}) |"
            )


if __name__ == "__main__":
    main()
