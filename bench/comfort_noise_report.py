# SPDX-License-Identifier: Apache-2.0
"""Comfort noise (RFC 3389) that describes a keypress: a sender whose VAD takes a keypress
for background sends its spectrum. Each of the 16 digits, 400 ms at -5, -15 and -25 dBm0 a
tone, encoded by FFmpeg's comfort-noise encoder (80 ms a packet), rendered by FFmpeg's
decoder as a receiver plays it (twice over), and listened to by our detector and by spandsp
(lenient): as sent, and after an RtpStreamFilter (filtering: comfort noise passes with its
level only). Digits are counted, never shown.

    .venv/bin/python bench/comfort_noise_report.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_stream_filter import _comfort_noise, _render_comfort_noise

import pcifilter as pf
from pcifilter import signals as sg
from pcifilter import spandsp
from pcifilter.rtp import RtpPacket

DIGITS = "0123456789*#ABCD"


def _filtered(payloads: list[bytes]) -> list[bytes]:
    """The comfort-noise payloads after a filter, behind a second of G.711 silence."""
    silence = pf.ulaw_encode(np.zeros(160, np.int16)).tobytes()
    raw = [RtpPacket(0, k == 0, k, 160 * k, 1, payload=silence).serialize() for k in range(50)]
    raw += [
        RtpPacket(13, False, 50 + i, 8000 + 640 * i, 1, payload=p).serialize()
        for i, p in enumerate(payloads)
    ]
    f = pf.RtpStreamFilter()
    out = [RtpPacket.parse(p) for p in f.process(raw) + f.flush()]
    return [p.payload for p in out if p.payload_type == 13]


def main() -> None:
    print("| level a tone (dBm0) | digits ours hears, as sent | spandsp, as sent |", end="")
    print(" ours, after the filter | spandsp, after |")
    print("|---|---|---|---|---|")
    for level in (-5, -15, -25):
        counts = [0, 0, 0, 0]
        for digit in DIGITS:
            x, _ = sg.keyed_sequence(digit, 400, 100, level, lead_ms=0)
            sent = _comfort_noise(sg.to_int16(x))
            for k, payloads in enumerate((sent, _filtered(sent))):
                heard = _render_comfort_noise(payloads * 2)
                counts[2 * k] += any(e.digit == digit for e in pf.detect(heard))
                counts[2 * k + 1] += spandsp.spandsp_digits(heard, lenient=True)[1] > 0
        print(f"| {level} | " + " | ".join(f"{c} of 16" for c in counts) + " |")


if __name__ == "__main__":
    main()
