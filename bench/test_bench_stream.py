# SPDX-License-Identifier: Apache-2.0
"""Per-packet cost of the RTP stream filter (20 ms PCMU, filtering on), 60 s per round:
mean / 3000 packets. Issue 3's target is <= 400 ns per packet. Then a filter of both
families following a sender that switches between PCMU and Opus every second, against the
same packets unswitched (group "rtp-both-families": compare the means).

    .venv/bin/python -m pytest bench/test_bench_stream.py --benchmark-enable
"""

from __future__ import annotations

import numpy as np
import pytest

import pcifilter as pf
from pcifilter.benchmark import pcmu_packets, switching_packets


@pytest.mark.benchmark(group="rtp-stream")
def test_stream_filter_pcmu_20ms(benchmark, speech_60s: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    packets = pcmu_packets(speech_60s, ssrc=7)  # the packets of `pcifilter bench`'s RTP row

    def run() -> None:
        f = pf.RtpStreamFilter()
        f.process(packets)
        f.flush()

    benchmark(run)


@pytest.mark.benchmark(group="rtp-both-families")
def test_switching_between_pcmu_and_opus_every_second(benchmark, speech_60s: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """A filter of both families following a switch every second (each a new timeline, its
    cut guarded): compare with the same packets unswitched, below."""
    packets, _ = switching_packets(speech_60s)

    def run() -> None:
        f = pf.RtpStreamFilter(opus_pt=111, pcmu_pt=0)
        f.process(packets)
        f.flush()

    benchmark(run)


@pytest.mark.benchmark(group="rtp-both-families")
def test_the_same_packets_unswitched(benchmark, speech_60s: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """The reference: the same packets, each family through a filter of its own, as one
    stream with no gap (pcifilter.benchmark.switching_packets)."""
    _, unswitched = switching_packets(speech_60s)
    pcmu, opus = unswitched[0], unswitched[111]

    def run() -> None:
        g711, alone = pf.RtpStreamFilter(), pf.RtpStreamFilter(opus_pt=111)
        g711.process(pcmu)
        alone.process(opus)
        g711.flush()
        alone.flush()

    benchmark(run)
