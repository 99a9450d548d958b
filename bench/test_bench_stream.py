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
from pcifilter import _core
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


def _switching(speech_60s: np.ndarray) -> list[bytes]:
    """The speech as 20 ms packets of one SSRC, PCMU and Opus (24 kbit/s, SILK/hybrid) in
    turns of a second, each family's timestamps on its own clock."""
    pcmu = [
        RtpPacket(0, False, i & 0xFFFF, 160 * i, 7, payload=pf.ulaw_encode(x).tobytes()).serialize()
        for i, x in enumerate(speech_60s.reshape(-1, 160))
    ]
    opus = _core.opus_rtp_packets(speech_60s, "voip", 24000, 111)
    return [(pcmu, opus)[(i // 50) % 2][i] for i in range(min(len(pcmu), len(opus)))]


@pytest.mark.benchmark(group="rtp-both-families")
def test_switching_between_pcmu_and_opus_every_second(benchmark, speech_60s: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """A filter of both families following a switch every second (each a new timeline, its
    cut guarded): compare with the same packets unswitched, below."""
    packets = _switching(speech_60s)

    def run() -> None:
        f = pf.RtpStreamFilter(opus_pt=111, pcmu_pt=0)
        f.process(packets)
        f.flush()

    benchmark(run)


@pytest.mark.benchmark(group="rtp-both-families")
def test_the_same_packets_unswitched(benchmark, speech_60s: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """The reference: the same packets, each family through a filter of its own, as one
    stream with no gap (renumbered and restamped: the gaps the other family left would be
    concealed or filled, which costs more than the switches do)."""
    packets = [RtpPacket.parse(p) for p in _switching(speech_60s)]

    def alone(pt: int, step: int) -> list[bytes]:
        ours = [p for p in packets if p.payload_type == pt]
        return [
            RtpPacket(pt, False, k, step * k, 7, payload=p.payload).serialize()
            for k, p in enumerate(ours)
        ]

    pcmu, opus = alone(0, 160), alone(111, 960)

    def run() -> None:
        g711, alone = pf.RtpStreamFilter(), pf.RtpStreamFilter(opus_pt=111)
        g711.process(pcmu)
        alone.process(opus)
        g711.flush()
        alone.flush()

    benchmark(run)
