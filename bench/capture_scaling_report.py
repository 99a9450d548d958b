# SPDX-License-Identifier: Apache-2.0
"""How long `scrub_pcap` takes on captures that grow: each case built at n and 4n frames,
timed, and the ratio given (linear work gives about 4, quadratic 16). The cases are what
a long capture or a hostile one holds: one SIP-over-TCP connection of n messages (in
order, and its segments in reverse order), n overlapping fragments of one datagram that
never completes, n telephone-event packets under SSRCs of their own beside a stream, and
one SIP message each with a long run of blanks in a "Signal=" line or a WebSocket
connection with n crafted two-byte frames before its first SIP frame (n KB of them); an HTTP
connection of n replies (gzip, br, zstd in turn), one reply of n one-byte chunks and one of
n gzip members (bodies read decoded); a compressed WebSocket with n/10 runs after lost
segments (frames looked for in each); an h2c connection caught mid-way of 20n small frames
and one of n header blocks (20n and n frames looked for and read); one direction of n
SYNs without data, each with a run of data after it (each run's start looked up among
them).

    .venv/bin/python bench/capture_scaling_report.py [N]    # N: 5000 by default
"""

from __future__ import annotations

import gzip
import random
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import brotli  # type: ignore[import-untyped]
import dpkt
import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_pcap import A, B, _cut, _frame, _ip, _segments, _tcp_frame, _write_pcap

from pcifilter.pcap import scrub_pcap
from pcifilter.rtp import RtpPacket

OPTIONS = b"OPTIONS sip:pay@10.0.0.2 SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"


def tcp_in_order(n: int) -> list[bytes]:
    return [_tcp_frame(A, B, OPTIONS, 1000 + len(OPTIONS) * k) for k in range(n)]


def tcp_reversed(n: int) -> list[bytes]:
    return tcp_in_order(n)[::-1]


def fragments(n: int) -> list[bytes]:
    frames = []
    for k in range(n):
        ip = dpkt.ip.IP(
            src=socket.inet_aton(A), dst=socket.inet_aton(B), p=17, id=7, data=b"x" * 64
        )
        ip.mf, ip.offset = 1, 1 + k % 1000
        ip.len = 20 + 64
        frames.append(_frame("ethernet", dpkt.ip.IP(bytes(ip))))
    return frames


def side_events(n: int) -> list[bytes]:
    frames = []
    for k in range(n // 2):
        audio = RtpPacket(0, False, k, 160 * k, 5, payload=b"\xff" * 160).serialize()
        event = RtpPacket(101, False, k, 160 * k, 1000 + k, payload=bytes([5, 10, 0, 160]))
        frames += [
            _frame("ethernet", _ip(A, B, 40000, 50000, p, False))
            for p in (audio, event.serialize())
        ]
    return frames


def long_signal_line(n: int) -> list[bytes]:
    body = b"Signal=1" + b" " * (64 * n) + b"2\r\n"
    message = b"INFO sip:pay@10.0.0.2 SIP/2.0\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    return _segments(A, B, _cut(message, 1400), 1000, (5060, 5060))


def websocket_lead_in(n: int) -> list[bytes]:
    sip = OPTIONS
    stream = b"\x81\x00" * (n // 2) + b"\x00" + bytes([0x81, len(sip)]) + sip
    first = len(stream) - len(sip) - 2  # the segment that starts the SIP frame marks it
    return [
        _tcp_frame(A, B, stream[:first], 1000, port=5062, dport=8080),
        _tcp_frame(A, B, stream[first:], 1000 + first, port=5062, dport=8080),
    ]


def http_replies(n: int) -> list[bytes]:
    """n replies, gzip, br and zstd in turn."""
    text = b'{"status": "ok"}'
    messages = []
    for coding, body in [
        (b"gzip", gzip.compress(text, mtime=0)),
        (b"br", brotli.compress(text)),
        (b"zstd", zstandard.ZstdCompressor().compress(text)),
    ]:
        head = b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n"
        messages.append(head % (coding, len(body)) + body)
    at, frames = 1000, []
    for k in range(n):
        message = messages[k % 3]
        frames.append(_tcp_frame(B, A, message, at, port=80, dport=50600))
        at += len(message)
    return frames


def http_members(n: int) -> list[bytes]:
    """One gzip'd reply of n members, most of them empty (a body of more than MAX_MEMBERS
    is not read: without that bound, time quadratic in n)."""
    body = gzip.compress(b"", mtime=0) * n
    stream = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + body
    return _segments(B, A, _cut(stream, 1400), 1000, (80, 50602))


def http_chunks(n: int) -> list[bytes]:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    stream = head + b"1\r\nx\r\n" * n + b"0\r\n\r\n"
    return _segments(B, A, _cut(stream, 1400), 1000, (80, 50601))


def websocket_after_losses(n: int) -> list[bytes]:
    """A permessage-deflate WebSocket's server side, then n/10 segments of 1,400 random
    bytes, each after one the capture lost: n/10 runs whose frames are looked for."""
    accept = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
    )
    rng = random.Random(n)
    frames = [_tcp_frame(B, A, accept, 1000, port=8091, dport=50603)]
    for k in range(n // 10):
        junk = bytes(rng.getrandbits(8) for _ in range(1400))
        frames.append(
            _tcp_frame(B, A, junk, 1000 + len(accept) + 2800 * (k + 1), port=8091, dport=50603)
        )
    return frames


def syn_flood(n: int) -> list[bytes]:
    """One direction of a connection's four numbers: n SYNs without data, each followed by
    10 bytes of data, with a gap after each (n runs, each from a SYN of its own: looked
    up among n)."""
    frames = []
    for k in range(n):
        seq = 1000 + 100 * k
        syn = dpkt.tcp.TH_SYN | dpkt.tcp.TH_ACK
        frames.append(_tcp_frame(B, A, b"", seq, port=143, dport=50700, flags=syn))
        frames.append(_tcp_frame(B, A, b"* OK ready", seq + 1, port=143, dport=50700))
    return frames


def h2c_empty_frames(n: int) -> list[bytes]:
    """An h2c connection caught mid-way: 20n WINDOW_UPDATE frames (13 bytes each), a
    frame's start every 13 bytes of its first 16 KiB (chains looked for)."""
    stream = b"\0\0\x04\x08\0\0\0\0\0\0\0\0\x01" * (20 * n)
    return _segments(A, B, _cut(stream, 1391), 1000, (50700, 50051))


def h2c_header_blocks(n: int) -> list[bytes]:
    """An h2c connection caught mid-way: n HEADERS frames on streams of their own, each a
    literal field added to the dynamic table and two indexed in entries the capture lacks."""
    frames = b"".join(
        b"\0\0\x0c\x01\x05" + (2 * k + 1).to_bytes(4, "big") + b"\x40\x01a\x05hello\xbe\xbf\x82"
        for k in range(n)
    )
    return _segments(A, B, _cut(frames, 1386), 1000, (50701, 50051))


CASES: dict[str, Callable[[int], list[bytes]]] = {
    "SIP over TCP, n messages in order": tcp_in_order,
    "SIP over TCP, n segments in reverse order": tcp_reversed,
    "n overlapping fragments of one datagram": fragments,
    "n/2 telephone-events under SSRCs of their own": side_events,
    "a 'Signal=' line with 64n blanks": long_signal_line,
    "a WebSocket connection, n bytes of frames before its SIP": websocket_lead_in,
    "an HTTP connection, n gzip'd, br'd and zstd'd replies": http_replies,
    "an HTTP reply of n one-byte chunks": http_chunks,
    "an HTTP reply of n gzip members": http_members,
    "a compressed WebSocket, n/10 runs after lost segments": websocket_after_losses,
    "h2c caught mid-way, 20n small frames": h2c_empty_frames,
    "h2c caught mid-way, n header blocks": h2c_header_blocks,
    "n SYNs without data in one direction, a run after each": syn_flood,
}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    print(f"| case | n = {n} (s) | 4n (s) | ratio |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.pcap", Path(tmp) / "out.pcap"
        for name, build in CASES.items():
            times = []
            for size in (n, 4 * n):
                _write_pcap(src, build(size))
                t = time.perf_counter()
                scrub_pcap(src, dst)
                times.append(time.perf_counter() - t)
            print(
                f"| {name} | {times[0]:.2f} | {times[1]:.2f} | {times[1] / times[0]:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
