# SPDX-License-Identifier: Apache-2.0
"""HTTP/2 in clear caught mid-way (pcifilter.http2.redact_caught): what reading TCP
connections for its frames costs where there are none, and what reading them costs where
there are.

1. How often a segment of random bytes (a TLS connection's insides, 1,400 bytes) starts
   as strict HTTP/2 frames (`http2.starts_frames`, as C++'s `starts_http2_frames`), so
   that its connection is read for frames: 9-byte headers drawn with numpy, those that
   pass the type, flags and reserved bit looked at whole.
2. Of runs of random bytes (12 segments of 1,400) one of whose segments starts with a
   strict frame header, how many show frames enough to be read as HTTP/2 (`CAUGHT_FRAMES`
   strict frames one after another, or 2 to the run's end).
3. Of a stream's data whose headers were not read, random bytes (50-3,000) and brotli of
   JSON-like text: how many are taken for gRPC messages (`http2._grpc_start`), which
   would read them as plain messages instead of replacing them.
4. `scrub_pcap` on 500 such connections (every one read for frames), and on the same
   without the planted header; and on a gRPC channel caught mid-way, per call; the
   channel read from its start and caught mid-way, without the capture around it.

    .venv/bin/python bench/caught_http2_report.py [HEADERS_MILLIONS] [RUNS]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

import brotli  # type: ignore[import-untyped]
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_http2 import _client, _grpc_headers, _grpc_message
from test_pcap import CARDS, A, B, _cut, _segments, _write_pcap

from pcifilter import _core, http2
from pcifilter.pcap import scrub_pcap

SWEEPS = [_core.mask_srtp_keys, _core.mask_card_numbers]


def segments_starting_frames(millions: int) -> int:
    rng, found = np.random.default_rng(3), 0
    for _ in range(millions):
        heads = rng.integers(0, 256, size=(1_000_000, 9), dtype=np.uint8)
        may = http2._TYPE_FLAGS_NP[heads[:, 3], heads[:, 4]] & (heads[:, 5] < 0x80)
        for head in heads[may]:
            segment = head.tobytes() + rng.integers(0, 256, 1391, dtype=np.uint8).tobytes()
            found += http2.starts_frames(segment)
    return found


def planted(rng: random.Random) -> bytes:
    """1,400 random bytes behind a strict HEADERS or DATA frame header on stream 1."""
    kind = rng.choice([0, 1])
    header = rng.randrange(1 << 14).to_bytes(3, "big") + bytes([kind, 0]) + b"\0\0\0\x01"
    return header + rng.randbytes(1391)


def taken(runs: int) -> int:
    rng, count = random.Random(11), 0
    for _ in range(runs):
        segments = [rng.randbytes(1400) for _ in range(12)]
        segments[rng.randrange(12)] = planted(rng)
        count += http2.redact_caught(b"".join(segments), SWEEPS) is not None
    return count


def taken_for_grpc(count: int) -> tuple[int, int]:
    rng = random.Random(1)
    random_data = sum(
        http2._grpc_start(rng.randbytes(rng.randint(50, 3000))) is not None for _ in range(count)
    )
    text = [
        "".join(rng.choice('abcdefghij {}:,"') for _ in range(rng.randint(100, 2000)))
        for _ in range(count // 4)
    ]
    coded = sum(http2._grpc_start(brotli.compress(t.encode())) is not None for t in text)
    return random_data, coded


def connections(rng: random.Random, n: int, plant: bool) -> list[bytes]:
    frames = []
    for c in range(n):
        payloads = [rng.randbytes(1400) for _ in range(12)]
        if plant:
            payloads[rng.randrange(12)] = planted(rng)
        frames += _segments(A, B, payloads, rng.randrange(2**32), (1024 + c, 443))
    return frames


def grpc_channel(calls: int) -> tuple[bytes, bytes]:
    """A client's channel: its first call, and `calls` calls after it, a card number in
    every tenth one's message."""
    c = _client()
    c.send_headers(1, _grpc_headers("/crm.Pay/Status"))
    c.send_data(1, _grpc_message(b"\x08\x01", False), end_stream=True)
    start = c.data_to_send()
    c.receive_data(b"\0\0\x04\x08\0\0\0\0\0" + (1 << 30).to_bytes(4, "big"))  # a server's grant
    for k in range(calls):
        sid = 3 + 2 * k
        c.send_headers(sid, _grpc_headers("/crm.Pay/Note"))
        note = CARDS[0].encode() if k % 10 == 0 else b"nothing to see here!"
        c.send_data(sid, _grpc_message(b"\x0a\x13" + note[:19], k % 2 == 1), end_stream=True)
    return start, c.data_to_send()


def timed(src: Path, dst: Path, frames: list[bytes]) -> tuple[float, int]:
    _write_pcap(src, frames)
    best, cards = float("inf"), 0
    for _ in range(3):
        t = time.perf_counter()
        cards = scrub_pcap(src, dst).card_numbers_masked
        best = min(best, time.perf_counter() - t)
    return best, cards


def main() -> None:
    millions = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20_000
    found = segments_starting_frames(millions)
    print(f"random 1,400-byte segments starting strict frames: {found} in {millions} million")
    print(f"random runs with a planted frame header taken for HTTP/2: {taken(runs)} in {runs}")
    random_data, coded = taken_for_grpc(runs)
    print(
        f"stream data taken for gRPC messages: random {random_data} in {runs},"
        f" brotli {coded} in {runs // 4}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.pcap", Path(tmp) / "out.pcap"
        for plant in (False, True):
            t, _ = timed(src, dst, connections(random.Random(5), 500, plant))
            print(f"scrub_pcap, 500 random connections, planted header {plant}: {t * 1e3:.0f} ms")
        start, channel = grpc_channel(2000)
        t, cards = timed(src, dst, _segments(A, B, _cut(channel, 1400), 1, (50800, 50051)))
        print(
            f"scrub_pcap, a gRPC channel caught mid-way, 2,000 calls ({len(channel)} bytes):"
            f" {t * 1e3:.0f} ms, {t / 2000 * 1e6:.0f} us a call, {cards} card numbers found"
        )
    for name, read, data in (
        ("redact_http2_stream, from its start", http2.redact_http2_stream, start + channel),
        ("redact_caught, mid-way", http2.redact_caught, channel),
    ):
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            read(data, SWEEPS)
            best = min(best, time.perf_counter() - t)
        print(f"{name}, 2,000 calls: {best * 1e3:.0f} ms, {best / 2000 * 1e6:.0f} us a call")


if __name__ == "__main__":
    main()
