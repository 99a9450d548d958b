# SPDX-License-Identifier: Apache-2.0
"""pcap scrubbing rate: RTP packets per second through `scrub_pcap` (read with libpcap, every
stream filtered in C++, written back), on one core. Issue 3's target is >= 500,000/s.

The capture is the one `pcifilter bench` writes (`pcifilter.benchmark.write_capture`): 16
streams of 60 s of 20 ms PCMU speech (48,000 RTP packets), interleaved as on the wire, on
Ethernet/IPv4/UDP. Beside it, in the same run, the C++ stream filters alone on the same
packets (`RtpStreamFilter.process`, one list per stream): the ratio shows what reading, flow
finding and writing add.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m pytest bench/test_bench_pcap.py --benchmark-enable \\
        --benchmark-columns=min,median,rounds
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import pcifilter as pf
from pcifilter.benchmark import capture_streams, write_capture
from pcifilter.pcap import scrub_pcap


@pytest.fixture(scope="module")
def capture(
    tmp_path_factory: pytest.TempPathFactory, speech_60s: np.ndarray
) -> tuple[Path, list[list[bytes]]]:
    path = tmp_path_factory.mktemp("pcap") / "calls.pcap"
    streams = capture_streams(speech_60s)
    write_capture(path, streams)
    return path, streams


@pytest.mark.benchmark(group="pcap")
def test_scrub_pcap(benchmark, capture, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, streams = capture
    result = benchmark(scrub_pcap, path, tmp_path / "out.pcap")
    packets = sum(len(p) for p in streams)
    assert sum(s.packets_in for s in result.streams) == packets
    benchmark.extra_info["rtp_packets"] = packets


@pytest.mark.benchmark(group="pcap")
def test_stream_filters_alone(benchmark, capture) -> None:  # type: ignore[no-untyped-def]
    _, streams = capture

    def run() -> None:
        for packets in streams:
            f = pf.RtpStreamFilter()
            f.process(packets)
            f.flush()

    benchmark(run)
    benchmark.extra_info["rtp_packets"] = sum(len(p) for p in streams)


if __name__ == "__main__":  # the capture alone, for bench/pcap_bench.cpp
    import sys

    from pcifilter.benchmark import test_audio as speech

    write_capture(Path(sys.argv[1]), capture_streams(speech(60.0)[0]))
