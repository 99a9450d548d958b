# SPDX-License-Identifier: Apache-2.0
"""What the card-number sweep over a capture costs (`Capture.mask_card_numbers` alone,
best of 5): 8,000 segments or datagrams of 1,400 bytes of random letters, digits, spaces,
dashes and colons (11.2 MB, digit runs everywhere; a few pass for card numbers by chance),
as UDP datagrams, as the segments of one TCP connection (joined into one stream), and as
8,000 connections of one segment each; and the other sweeps over every TCP stream (H.245
user input, a PBX's keypress forms, SRTP keys, and all four in one pass as pcifilter.pcap
runs them) over the one-connection layout, and over random bytes (TLS-like) in it.

    .venv/bin/python bench/card_sweep_report.py
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_pcap import A, B, _frame, _ip, _tcp_frame, _write_pcap

from pcifilter._core import Capture

SEGMENTS, SIZE = 8000, 1400


def _text(rnd: random.Random) -> bytes:
    return bytes(rnd.choice(b"abcdefXYZ0123456789   --::") for _ in range(SIZE))


def main() -> None:
    rnd = random.Random(1)
    texts = [_text(rnd) for _ in range(SEGMENTS)]
    layouts = {
        "UDP datagrams": [_frame("ethernet", _ip(A, B, 40000, 9999, t, False)) for t in texts],
        "one TCP connection": [
            _tcp_frame(A, B, t, 1000 + SIZE * i, port=40000, dport=80) for i, t in enumerate(texts)
        ],
        "a TCP connection each": [
            _tcp_frame(A, B, t, 1000, port=1024 + i, dport=80) for i, t in enumerate(texts)
        ],
    }
    print("| layout | ms (best of 5) | MB/s | card numbers found |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.pcap"
        for name, frames in layouts.items():
            _write_pcap(path, frames)
            best, found = float("inf"), 0
            for _ in range(5):
                capture = Capture(str(path))
                t0 = time.perf_counter()
                found = capture.mask_card_numbers()
                best = min(best, time.perf_counter() - t0)
            mb = SEGMENTS * SIZE / 1e6
            print(f"| {name} | {best * 1e3:.1f} | {mb / best:.0f} | {found} |")
        print("\n| sweep (one TCP connection) | ms (best of 5) | MB/s |\n|---|---|---|")
        _write_pcap(path, layouts["one TCP connection"])
        for sweep in ("redact_h245_user_input", "redact_pbx_digits", "redact_srtp_keys"):
            best = float("inf")
            for _ in range(5):
                capture = Capture(str(path))
                t0 = time.perf_counter()
                getattr(capture, sweep)()
                best = min(best, time.perf_counter() - t0)
            print(f"| {sweep} | {best * 1e3:.1f} | {SEGMENTS * SIZE / 1e6 / best:.0f} |")
        # all four as pcifilter.pcap runs them, in one pass (redact_text)
        best = float("inf")
        for _ in range(5):
            capture = Capture(str(path))
            t0 = time.perf_counter()
            capture.redact_text(True, True)
            best = min(best, time.perf_counter() - t0)
        print(f"| all four in one pass | {best * 1e3:.1f} | {SEGMENTS * SIZE / 1e6 / best:.0f} |")
        # the same over binary data (TLS-like, random bytes): where a WebSocket client's
        # frames are looked for in every byte of a stream that starts no handshake
        binary = [rnd.randbytes(SIZE) for _ in range(SEGMENTS)]
        _write_pcap(
            path,
            [
                _tcp_frame(A, B, t, 1000 + SIZE * i, port=40000, dport=443)
                for i, t in enumerate(binary)
            ],
        )
        best = float("inf")
        for _ in range(5):
            capture = Capture(str(path))
            t0 = time.perf_counter()
            capture.redact_text(True, True)
            best = min(best, time.perf_counter() - t0)
        mbs = SEGMENTS * SIZE / 1e6 / best
        print(f"| all four in one pass, random bytes | {best * 1e3:.1f} | {mbs:.0f} |")


if __name__ == "__main__":
    main()
