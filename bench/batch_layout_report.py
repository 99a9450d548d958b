# SPDX-License-Identifier: Apache-2.0
"""What a `ScrubberBank` of 64 streams costs a stream-frame (160 samples) driven one frame
per call from Python, by how the caller lays out each call's frames: a strided slice of one
(streams, samples) array (each call's frames copied into a contiguous array first), or one
contiguous (streams, 160) array a call (as a media server fills one per 20 ms tick), and
with that, its output written into one array the caller hands to every call (`out=`); and one
stream's whole buffer in one call, for reference. Best of 15 rounds, the paths taking turns
(a drift in the machine's speed reaches them all alike); ns per stream-frame.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/batch_layout_report.py [seconds] [streams]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np

from pcifilter import _core, corpus, make_config
from pcifilter.benchmark import FRAME, batch_ticks


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    streams = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    x = corpus.cached("speech", 600, seed=0)[: int(seconds * 8000)]
    n = len(x) // FRAME
    cfg = make_config()
    ticks = batch_ticks(x, streams, n)
    block = np.ascontiguousarray(ticks.transpose(1, 0, 2).reshape(streams, n * FRAME))
    assert all((ticks[f] == block[:, f * FRAME : (f + 1) * FRAME]).all() for f in range(n))

    def slices() -> None:
        bank = _core.ScrubberBank(streams, cfg)
        for f in range(n):
            bank.process(block[:, f * FRAME : (f + 1) * FRAME])

    def contiguous() -> None:
        bank = _core.ScrubberBank(streams, cfg)
        for tick in ticks:
            bank.process(tick)

    def into_one_array() -> None:
        bank = _core.ScrubberBank(streams, cfg)
        out = np.empty((streams, FRAME), np.int16)
        for tick in ticks:
            bank.process(tick, out)

    def single() -> None:
        _core.scrub_array(x[: n * FRAME], cfg)

    paths: dict[str, tuple[Callable[[], None], int]] = {
        "bank, strided slices": (slices, n * streams),
        "bank, one contiguous array a call": (contiguous, n * streams),
        "... and out= one array for all calls": (into_one_array, n * streams),
        "one stream, one call": (single, n),
    }
    best = dict.fromkeys(paths, float("inf"))
    for _ in range(15):
        for name, (fn, _count) in paths.items():
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
    for name, (_fn, count) in paths.items():
        print(f"{name:36s} {best[name] / count * 1e9:6.0f} ns a stream-frame")


if __name__ == "__main__":
    main()
