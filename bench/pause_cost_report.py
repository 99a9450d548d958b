# SPDX-License-Identifier: Apache-2.0
"""What a stream whose timestamps jump between packets costs the stream filter, through its
Python API (`RtpStreamFilter.process`, one call for all packets), against the same packets
20 ms apart, measured in the same run (best of three). Each 20 ms PCMU packet of the
benchmark speech is followed by a pause: half `max_gap_ms` or just under it. A pause is
fed to the detector as silence; once the scrubber has settled on it, the rest is taken in
at once (`Scrubber::skip_silence`).

    .venv/bin/python -m pcifilter.corpus --minutes 1 --out build/corpus
    .venv/bin/python bench/pause_cost_report.py build/corpus/speech-60s-seed0.raw
"""

from __future__ import annotations

import struct
import sys
import time

import numpy as np

from pcifilter import RtpStreamFilter, ulaw_encode


def packets(speech: np.ndarray, step: int, count: int) -> list[bytes]:
    codes = ulaw_encode(speech[: 160 * count]).tobytes()
    return [
        struct.pack("!BBHII", 0x80, 0, k & 0xFFFF, (k * step) & 0xFFFFFFFF, 7)
        + codes[160 * k : 160 * (k + 1)]
        for k in range(count)
    ]


def best_us(stream: list[bytes], max_gap_ms: float) -> float:
    best = float("inf")
    for _ in range(3):
        f = RtpStreamFilter(max_gap_ms=max_gap_ms)
        f.filtering = True
        t0 = time.perf_counter()
        f.process(stream)
        f.flush()
        best = min(best, time.perf_counter() - t0)
    return best / len(stream) * 1e6


def main() -> None:
    speech = np.fromfile(sys.argv[1], dtype=np.int16)
    count = len(speech) // 160
    plain = best_us(packets(speech, 160, count), 2000)
    print(f"packets 20 ms apart: {plain:.2f} us a packet ({count} packets)")
    for max_gap_ms in (2000, 60000):
        gap = 8 * max_gap_ms
        for name, step in (("half max_gap", gap // 2), ("just under max_gap", gap - 80)):
            n = count if max_gap_ms == 2000 else count // 10
            us = best_us(packets(speech, step, n), max_gap_ms)
            print(
                f"max_gap_ms={max_gap_ms}, timestamps jumping {step / 8000:.2f} s ({name}): "
                f"{us:.2f} us a packet, {us / plain:.1f}x"
            )


if __name__ == "__main__":
    main()
