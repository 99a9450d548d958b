# SPDX-License-Identifier: Apache-2.0
"""What bodies sent coded cost `scrub_pcap`, against plain ones of the same size measured in
the same run: each case a capture scrubbed three times, the best time taken, given in ns a
byte of the capture and as a ratio to its plain reference. The coded cases are what a
hostile capture holds. SIP over UDP (datagrams of about 1.2 KB, 33 KB for the multipart
case): gzip'd bodies that decode to 1 MiB (a bomb, refused), bodies that decode to just
under the bound on what a body may decode to (read whole: the most any body costs), a
multipart body of 30 such parts, and HEP3 packets (Homer's encapsulation) whose
compressed message decodes to 16 MiB, or to as much text as its bound allows, holding a
keypress form in every few bytes (Homer logs of a relay's and a PBX's, rtpengine's ng
messages mirrored to Homer). HTTP: 40 connections, each one reply of 16 KB,
gzip'd to decode to just under MAX_DECODED (what one connection's budget allowed 4 of).

    .venv/bin/python bench/coded_bombs_report.py
"""

from __future__ import annotations

import gzip
import random
import sys
import tempfile
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_pcap import A, B, _coded_info, _cut, _frame, _hep3, _ip, _segments, _write_pcap

from pcifilter import http_bodies, sip_messages
from pcifilter.pcap import scrub_pcap

GZIP = "Content-Encoding: gzip\r\n"


def _at_the_bound() -> bytes:
    """A gzip'd body that decodes to just under what a body of its length may (1,000
    random bytes, then zeros)."""
    head = random.Random(3).randbytes(1000)
    zeros = 0
    while True:  # the most zeros that still read
        body = gzip.compress(head + b"\0" * (zeros + 1024), mtime=0)
        if len(head) + zeros + 1024 > sip_messages.decoded_limit(body):
            return gzip.compress(head + b"\0" * zeros, mtime=0)
        zeros += 1024


def _text_at_the_bound(unit: bytes) -> bytes:
    """`unit` repeated as often as a message compressed with zlib may decode to (its
    bound: 32 times its own length and 1 KiB)."""
    text = unit * 10_000
    lo, hi = 1, len(text)
    while lo < hi:  # the longest prefix within the bound
        mid = (lo + hi + 1) // 2
        if mid <= sip_messages.decoded_limit(zlib.compress(text[:mid])):
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


def _datagrams(message: bytes, n: int) -> list[bytes]:
    return [_frame("ethernet", _ip(A, B, 5060, 5060, message, False)) for _ in range(n)]


def _connections(body: bytes, coding: bytes) -> list[bytes]:
    reply = b"HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n%s" % (coding, len(body), body)
    return [f for k in range(40) for f in _segments(B, A, _cut(reply, 1400), 1, (80, 40000 + k))]


def http_cases() -> dict[str, list[bytes]]:
    bomb = gzip.compress(b"\0" * (http_bodies.MAX_DECODED - 4096), mtime=0)
    return {
        "HTTP, 40 connections, a plain reply each": _connections(b"x" * len(bomb), b""),
        "HTTP, 40 connections, a gzip'd reply each": _connections(
            bomb, b"Content-Encoding: gzip\r\n"
        ),
    }


def cases() -> dict[str, list[bytes]]:
    bomb = gzip.compress(b"\0" * (1 << 20), mtime=0)
    bound = _at_the_bound()
    part = b"--b\r\nContent-Type: application/sdp\r\nContent-Encoding: gzip\r\n\r\n%s\r\n"
    multipart = b"".join(part % bound for _ in range(30)) + b"--b--\r\n"
    info = b"INFO sip:pay@10.0.0.2 SIP/2.0\r\nCSeq: 2 INFO\r\n"
    multipart_info = (
        info + b"Content-Type: multipart/mixed;boundary=b\r\nContent-Length: %d\r\n\r\n%s"
    ) % (len(multipart), multipart)
    hep_message = info + b"Content-Length: 0\r\n\r\n" + b"\0" * (16 << 20)
    return {
        "plain SIP (a body of text)": _datagrams(
            _coded_info("application/sdp", "", b"v=0\r\n" * 230), 400
        ),
        "gzip'd bodies that decode to 1 MiB": _datagrams(
            _coded_info("application/sdp", GZIP, bomb), 400
        ),
        "gzip'd bodies that decode to the bound": _datagrams(
            _coded_info("application/sdp", GZIP, bound), 400
        ),
        "multipart, 30 gzip'd parts at the bound": _datagrams(multipart_info, 20),
        "HEP3, a compressed message of 16 MiB": _datagrams(_hep3(hep_message, compressed=True), 40),
        # Homer logs (protocol 100) read for a relay's and a PBX's keypress forms: the most
        # keypresses a message within its bound can hold
        "HEP3, compressed logs of JSON DTMF events at the bound": _datagrams(
            _hep3(_text_at_the_bound(b'{"type":"DTMF","digit":"1"} '), 100, compressed=True), 2000
        ),
        "HEP3, compressed logs of AMI 'Digit:' lines at the bound": _datagrams(
            _hep3(_text_at_the_bound(b"Digit: 1\r\n"), 100, compressed=True), 2000
        ),
        "HEP3, compressed ng 'play DTMF' messages at the bound": _datagrams(
            _hep3(_text_at_the_bound(b"5432_1 d7:command9:play DTMF4:code1:7e "), 0x3D, True), 2000
        ),
    }


def main() -> None:
    print("| case | capture (bytes) | ns a byte | ratio to plain |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.pcap", Path(tmp) / "out.pcap"
        for group in (cases(), http_cases()):
            plain = 0.0  # each group's first case
            for name, frames in group.items():
                _write_pcap(src, frames)
                size = src.stat().st_size
                best = float("inf")
                for _ in range(3):
                    t = time.perf_counter()
                    scrub_pcap(src, dst)
                    best = min(best, time.perf_counter() - t)
                per_byte = best / size * 1e9
                plain = plain or per_byte
                print(f"| {name} | {size} | {per_byte:.0f} | {per_byte / plain:.2f} |", flush=True)


if __name__ == "__main__":
    main()
