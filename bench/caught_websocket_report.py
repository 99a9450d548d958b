# SPDX-License-Identifier: Apache-2.0
"""A WebSocket the capture caught after its handshake (pcifilter.websocket.redact_caught):
what reading TCP connections for its compressed messages costs where there is none.

1. How often a segment of random bytes (a TLS connection's insides, 1,400 bytes) starts as
   a compressed message's frame, so that its connection is read for frames (the C++
   selection, counted as the connections `Capture.sip_tcp_segments` hands over).
2. Of runs of random bytes (12 segments of 1,400) one of whose segments does, how many
   show frames enough to be taken for a WebSocket, and replaced: with 3 frames to the
   run's end and with 4 (`CAUGHT_FRAMES`).
3. `scrub_pcap` on 500 such connections, each with such a segment (every one read for
   frames), and on the same without it.

    .venv/bin/python bench/caught_websocket_report.py [RUNS]    # RUNS: 30000 by default
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_pcap import A, B, _segments, _write_pcap, _ws_frame

from pcifilter import _core
from pcifilter import websocket as ws
from pcifilter.pcap import scrub_pcap


def planted(rng: random.Random, client: bool) -> bytes:
    """1,400 random bytes behind a compressed message's frame header that ends with them."""
    key = rng.randbytes(4) if client else b""
    return _ws_frame(rng.randbytes(1400 - 4 - len(key)), key, rsv1=True)


def connections(rng: random.Random, n: int, segments: int, plant: bool) -> list[bytes]:
    frames = []
    for c in range(n):
        payloads = [rng.randbytes(1400) for _ in range(segments)]
        if plant:
            payloads[rng.randrange(segments)] = planted(rng, c % 2 == 1)
        frames += _segments(A, B, payloads, rng.randrange(2**32), (1024 + c % 60000, 443))
    return frames


def selected(tmp: Path, n: int) -> int:
    _write_pcap(tmp / "sel.pcap", connections(random.Random(1), n, 1, False))
    segments = _core.Capture(str(tmp / "sel.pcap")).sip_tcp_segments()
    return len({connection for _, connection, *_ in segments})


def taken(runs: int, min_frames: int) -> int:
    rng = random.Random(11)
    count = 0
    for _ in range(runs):
        segments = [rng.randbytes(1400) for _ in range(12)]
        segments[rng.randrange(12)] = planted(rng, rng.random() < 0.5)
        run = b"".join(segments)
        for client in (True, False):
            start = ws.frame_chain_start(run, client, min_frames=min_frames)
            if start is not None and any(c for c, _, _ in ws.messages(run, start)):
                count += 1
                break
    return count


def scrub_time(tmp: Path, plant: bool) -> float:
    _write_pcap(tmp / "in.pcap", connections(random.Random(2), 500, 12, plant))
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        scrub_pcap(tmp / "in.pcap", tmp / "out.pcap")
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30000
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        n = 60000
        print(f"segments of random bytes selected: {selected(tmp, n)} of {n}")
        for k in (3, ws.CAUGHT_FRAMES):
            m = runs if k == ws.CAUGHT_FRAMES else runs // 5
            print(f"runs with such a segment taken, {k} frames: {taken(m, k)} of {m}")
        plain, read = scrub_time(tmp, False), scrub_time(tmp, True)
        print(f"scrub_pcap, 500 connections of 12 segments: {plain:.3f} s; each read: {read:.3f} s")


if __name__ == "__main__":
    main()
