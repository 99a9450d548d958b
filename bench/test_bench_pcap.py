# SPDX-License-Identifier: Apache-2.0
"""pcap scrubbing rate: RTP packets per second through `scrub_pcap` (read with libpcap, every
stream filtered in C++, written back), on one core. Issue 3's target is >= 500,000/s.

The capture: 8 calls, each 60 s of 20 ms PCMU speech both ways (48,000 RTP packets) with its
SIP INVITE/200 OK, on Ethernet/IPv4/UDP with checksums. Beside it, in the same run, the C++
stream filters alone on the same packets (`RtpStreamFilter.process`, one list per stream):
the ratio shows what reading, flow finding and writing add.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m pytest bench/test_bench_pcap.py --benchmark-enable \\
        --benchmark-columns=min,median,rounds
"""

from __future__ import annotations

import socket
from pathlib import Path

import dpkt
import numpy as np
import pytest

import pcifilter as pf
from pcifilter.pcap import scrub_pcap
from pcifilter.rtp import RtpPacket

CALLS = 8
SDP = (
    "v=0\r\no=- 1 1 IN IP4 {a}\r\ns=-\r\nc=IN IP4 {a}\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
)


def _frame(src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    udp = dpkt.udp.UDP(sport=sport, dport=dport, data=payload, ulen=8 + len(payload))
    ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=17, data=udp)
    ip.len = 20 + len(udp)
    return bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, data=ip))


def write_capture(path: Path, speech: np.ndarray) -> dict[tuple[int, int], list[bytes]]:
    """The benchmark capture at `path`; returns each stream's RTP packets."""
    streams: dict[tuple[int, int], list[bytes]] = {}
    with path.open("wb") as f:
        w = dpkt.pcap.Writer(f)
        for c in range(CALLS):
            a, b = f"10.0.{c}.1", f"10.0.{c}.2"
            pa, pb = 40000 + 2 * c, 50000 + 2 * c
            invite = b"INVITE sip:x SIP/2.0\r\n\r\n" + SDP.format(a=a, port=pa).encode()
            ok = b"SIP/2.0 200 OK\r\n\r\n" + SDP.format(a=b, port=pb).encode()
            w.writepkt(_frame(a, b, 5060, 5060, invite), 1000.0 + c)
            w.writepkt(_frame(b, a, 5060, 5060, ok), 1000.1 + c)
        rows = []
        for c in range(CALLS):
            for d in range(2):
                x = np.roll(speech, 7919 * (2 * c + d))
                enc = pf.ulaw_encode(x).tobytes()
                pkts = [
                    RtpPacket(
                        0,
                        k == 0,
                        k & 0xFFFF,
                        160 * k,
                        100 * c + d,
                        payload=enc[160 * k : 160 * k + 160],
                    ).serialize()
                    for k in range(len(x) // 160)
                ]
                streams[(c, d)] = pkts
                a, b = f"10.0.{c}.1", f"10.0.{c}.2"
                pa, pb = 40000 + 2 * c, 50000 + 2 * c
                ends = (a, b, pa, pb) if d == 0 else (b, a, pb, pa)
                rows.append([(1010.0 + c + 0.02 * k, _frame(*ends, p)) for k, p in enumerate(pkts)])
        for ts, fr in sorted((r for row in rows for r in row), key=lambda r: r[0]):  # interleaved
            w.writepkt(fr, ts)
    return streams


@pytest.fixture(scope="module")
def capture(
    tmp_path_factory: pytest.TempPathFactory, speech_60s: np.ndarray
) -> tuple[Path, dict[tuple[int, int], list[bytes]]]:
    path = tmp_path_factory.mktemp("pcap") / "calls.pcap"
    return path, write_capture(path, speech_60s)


@pytest.mark.benchmark(group="pcap")
def test_scrub_pcap(benchmark, capture, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path, streams = capture
    result = benchmark(scrub_pcap, path, tmp_path / "out.pcap")
    packets = sum(len(p) for p in streams.values())
    assert sum(s.packets_in for s in result.streams) == packets
    benchmark.extra_info["rtp_packets"] = packets


@pytest.mark.benchmark(group="pcap")
def test_stream_filters_alone(benchmark, capture) -> None:  # type: ignore[no-untyped-def]
    _, streams = capture

    def run() -> None:
        for pkts in streams.values():
            f = pf.RtpStreamFilter()
            f.process(pkts)
            f.flush()

    benchmark(run)
    benchmark.extra_info["rtp_packets"] = sum(len(p) for p in streams.values())


if __name__ == "__main__":  # the capture alone, for bench/pcap_bench.cpp
    import sys

    from pcifilter import benchmark as _bench

    write_capture(Path(sys.argv[1]), _bench.test_audio(60.0)[0])
