# SPDX-License-Identifier: Apache-2.0
"""pytest-benchmark suites: one 60 s buffer of real speech per round, so per-frame cost is
mean / 3000. Compare groups in one run (the spandsp reference is measured alongside):

    .venv/bin/python -m pytest bench --benchmark-enable --benchmark-group-by=group
"""

from __future__ import annotations

import numpy as np
import pytest

import pcifilter as pf
from pcifilter import _core, spandsp
from pcifilter.benchmark import batch_ticks

FRAME = 160


@pytest.mark.benchmark(group="per-stream")
def test_detect(benchmark, speech_60s: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    cfg = pf.make_config()
    benchmark(_core.detect_array, speech_60s, cfg)


@pytest.mark.benchmark(group="per-stream")
def test_detect_and_mask(benchmark, speech_60s: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    cfg = pf.make_config()
    benchmark(_core.scrub_array, speech_60s, cfg)


@pytest.mark.benchmark(group="per-stream")
@pytest.mark.skipif(not spandsp.available(), reason="libspandsp not installed")
def test_spandsp_dtmf_rx_reference(benchmark, speech_60s: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    def run() -> None:
        rx = spandsp.DtmfRx()
        rx.process(speech_60s)

    benchmark(run)


@pytest.mark.benchmark(group="batch-64")
def test_batch_64_streams_frame_by_frame(benchmark, speech_60s: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    n_frames = 500
    ticks = batch_ticks(speech_60s, 64, n_frames)  # one contiguous (64, 160) array a call

    def run() -> None:
        bank = pf.ScrubberBank(64)
        out = np.empty((64, FRAME), np.int16)  # one output array for every tick
        for tick in ticks:
            bank.process(tick, out)

    benchmark(run)


@pytest.mark.benchmark(group="g711")
def test_ulaw_round_trip_60s(benchmark, speech_60s: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    benchmark(lambda: pf.ulaw_decode(pf.ulaw_encode(speech_60s)))
