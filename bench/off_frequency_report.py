# SPDX-License-Identifier: Apache-2.0
"""Keypresses with both tones off frequency: how many the detector finds and whether any of
the keypress survives scrubbing (the loudest 10 ms window of its tones in the output, dB
relative to the tone; -300 is digital silence), all 16 digits at -10 dBm0, 80 ms, over
line noise, for errors from 0 to ±5 %; and how many digits spandsp (lenient) hears in the
output.

    .venv/bin/python bench/off_frequency_report.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from leak import projection

import pcifilter as pf
from pcifilter import signals as sg
from pcifilter import spandsp

DIGITS = "0123456789*#ABCD"


def main() -> None:
    rng = np.random.default_rng(1)
    print("| both tones off by | found | loudest 10 ms left (dB) | digits spandsp hears after |")
    print("|---|---|---|---|")
    for err in (
        0.0,
        0.015,
        -0.015,
        0.02,
        -0.02,
        0.025,
        -0.025,
        0.03,
        -0.03,
        0.035,
        -0.035,
        0.05,
        -0.05,
    ):
        found, heard, worst = 0, 0, -300.0
        for d in DIGITS:
            phases = (rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi))
            t = sg.dtmf(d, 80, -10, 0, (err, err), phases=phases)
            x = sg.white_noise(8000, -50, rng)
            x[2000 : 2000 + len(t)] += t
            r = pf.scrub(sg.to_int16(x))
            y = r.audio.astype(np.float64)
            for f in (g * (1 + err) for g in sg.digit_freqs(d)):
                ref = projection(sg.tone([f], [-10], 80), f, 0)
                for w in range(2000, 2000 + len(t), 80):
                    left = max(projection(y[w : w + 80], f, w), 1e-30) / ref
                    worst = max(worst, 10 * np.log10(left))
            found += len(r.events)
            heard += len(spandsp.spandsp_digits(r.audio, lenient=True)[0])
        print(f"| {100 * err:+.1f} % | {found}/16 | {worst:.1f} | {heard} |")


if __name__ == "__main__":
    main()
