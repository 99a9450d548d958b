# SPDX-License-Identifier: Apache-2.0
"""Per-packet cost of the RTP stream filter (20 ms PCMU, filtering on), 60 s per round:
mean / 3000 packets. Issue 3's target is <= 400 ns per packet.

    .venv/bin/python -m pytest bench/test_bench_stream.py --benchmark-enable
"""

from __future__ import annotations

import numpy as np
import pytest

import pcifilter as pf
from pcifilter.rtp import RtpPacket


@pytest.mark.benchmark(group="rtp-stream")
def test_stream_filter_pcmu_20ms(benchmark, speech_60s: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    payloads = [
        pf.ulaw_encode(speech_60s[i : i + 160]).tobytes() for i in range(0, len(speech_60s), 160)
    ]
    packets = [
        RtpPacket(0, False, i & 0xFFFF, 160 * i, 7, payload=p).serialize()
        for i, p in enumerate(payloads)
    ]

    def run() -> None:
        f = pf.RtpStreamFilter()
        f.process(packets)
        f.flush()

    benchmark(run)
