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
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_pcap import A, B, _frame, _ip, _tcp_frame, _write_pcap

from pcifilter._core import Capture

SEGMENTS, SIZE = 8000, 1400


def _text(rnd: random.Random) -> bytes:
    return bytes(rnd.choice(b"abcdefXYZ0123456789   --::") for _ in range(SIZE))


def _best(path: Path, sweep: Callable[[Capture], object]) -> tuple[float, object]:
    """Seconds of `sweep` over a fresh read of the capture at `path` (best of 5), and what
    it returned."""
    best, found = float("inf"), None
    for _ in range(5):
        capture = Capture(str(path))
        t0 = time.perf_counter()
        found = sweep(capture)
        best = min(best, time.perf_counter() - t0)
    return best, found


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
    mb = SEGMENTS * SIZE / 1e6
    print("| layout | ms (best of 5) | MB/s | card numbers found |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.pcap"
        for name, frames in layouts.items():
            _write_pcap(path, frames)
            best, found = _best(path, Capture.mask_card_numbers)
            print(f"| {name} | {best * 1e3:.1f} | {mb / best:.0f} | {found} |")
        print("\n| sweep (one TCP connection) | ms (best of 5) | MB/s |\n|---|---|---|")
        _write_pcap(path, layouts["one TCP connection"])
        sweeps: dict[str, Callable[[Capture], object]] = {
            "redact_h245_user_input": Capture.redact_h245_user_input,
            "redact_pbx_digits": Capture.redact_pbx_digits,
            "redact_srtp_keys": Capture.redact_srtp_keys,
            # all four as pcifilter.pcap runs them, in one pass (redact_text)
            "all four in one pass": lambda c: c.redact_text(True, True),
        }
        for name, sweep in sweeps.items():
            best, _ = _best(path, sweep)
            print(f"| {name} | {best * 1e3:.1f} | {mb / best:.0f} |")
        # the same over binary data (TLS-like, random bytes): where a WebSocket client's
        # frames are looked for in every stream that starts no handshake
        binary = [rnd.randbytes(SIZE) for _ in range(SEGMENTS)]
        _write_pcap(
            path,
            [
                _tcp_frame(A, B, t, 1000 + SIZE * i, port=40000, dport=443)
                for i, t in enumerate(binary)
            ],
        )
        best, _ = _best(path, sweeps["all four in one pass"])
        print(f"| all four in one pass, random bytes | {best * 1e3:.1f} | {mb / best:.0f} |")


if __name__ == "__main__":
    main()
