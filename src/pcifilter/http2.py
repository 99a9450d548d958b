# SPDX-License-Identifier: Apache-2.0
"""HTTP/2 in clear (h2c, RFC 9113) in a capture's TCP streams: its header blocks decoded
(HPACK, RFC 7541, whose Huffman code hides every digit) and its streams' data joined, so
that card numbers and SRTP keys in them can be found. Services inside a contact centre's
network speak it so: gRPC between a CRM's services, a payment gateway's internal API.

A connection is read from its start: the client's preface, the server's first SETTINGS
frame (a capture that begins later lacks the header compression's dynamic table and where
frames begin, and is left to the C++ sweeps). Each direction is cut into frames (RFC 9113
§4.1); a header block (HEADERS or PUSH_PROMISE and its CONTINUATIONs, padding and priority
left out) is decoded with hpack and swept as "name: value" lines: one that holds something,
or that cannot be decoded (then neither can the blocks after it, which share its dynamic
table), has its fragments replaced whole by X's (it cannot be coded again to the same
length). Each stream's DATA payloads are joined as its application reads them: a gRPC
stream (content-type application/grpc) message by message (gRPC's own framing, from its
"gRPC over HTTP2" document: a flag and a 4-byte length before each, the stream's
grpc-encoding when the flag says compressed),
others decoded by content-encoding (pcifilter.http_bodies); plain text found is masked
where it is, across frames, and a compressed body or message that holds something or
cannot be read whole is replaced whole.

Read here by hand rather than with h2: that library runs a live connection's state machine
and stops at the first frame it does not expect; a capture's stream may end anywhere and
its bytes must be changed in place. The header blocks are decoded with hpack, the library
h2 uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import hpack

from pcifilter import http_bodies

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_DATA, _HEADERS, _PUSH_PROMISE, _CONTINUATION, _SETTINGS = 0, 1, 5, 9, 4
_END_HEADERS, _PADDED, _PRIORITY = 0x4, 0x8, 0x20


def starts_http2(data: bytes) -> bool:
    """A client's preface, or a SETTINGS frame on stream 0 (a server's first frame; an ACK
    too), whose length is a whole number of settings."""
    if data.startswith(b"PRI * HTTP/2.0"):
        return True
    if len(data) < 9:
        return False
    length = int.from_bytes(data[:3], "big")
    return (
        data[3] == _SETTINGS and data[4] in (0, 1) and data[5:9] == b"\0\0\0\0" and length % 6 == 0
    )


@dataclass(repr=False)  # (its headers may hold a card number: no repr shows them)
class _Stream:
    data: list[tuple[int, int]] = field(default_factory=list)  # DATA payloads' spans
    headers: dict[bytes, bytes] = field(default_factory=dict)


def _fragment(stream: bytes, kind: int, flags: int, at: int, end: int) -> tuple[int, int]:
    """Where a frame's header block fragment or data lies in its payload [at, end): after a
    pad length byte (PADDED), a priority (HEADERS with PRIORITY) or a promised stream id
    (PUSH_PROMISE), before the padding."""
    pad = 0
    if flags & _PADDED and kind in (_DATA, _HEADERS, _PUSH_PROMISE) and at < end:
        pad, at = stream[at], at + 1
    if kind == _HEADERS and flags & _PRIORITY:
        at += 5
    elif kind == _PUSH_PROMISE:
        at += 4
    return min(at, end), max(min(at, end), end - pad)


def _sub_spans(spans: list[tuple[int, int]], a: int, b: int) -> list[tuple[int, int]]:
    """The parts of `spans` (a body's pieces in the stream) that hold its bytes [a, b)."""
    out, k = [], 0
    for s, e in spans:
        lo, hi = max(s, s + a - k), min(e, s + b - k)
        if lo < hi:
            out.append((lo, hi))
        k += e - s
    return out


class _Redactor:
    """What one direction's reading keeps: the stream out, the sweeps and what they found,
    the decoding budget, how many were replaced unread."""

    def __init__(self, stream: bytes, sweeps: Sequence[http_bodies.Sweep]) -> None:
        self.out = bytearray(stream)
        self.sweeps = sweeps
        self.found = [0] * len(sweeps)
        self.budget = http_bodies.Budget(len(stream))
        self.unread = 0

    def sweep(self, text: bytes) -> int:
        """How many the sweeps find in `text` (counted)."""
        return http_bodies.swept(text, self.sweeps, self.found)[1]

    def body(self, body: bytes, spans: list[tuple[int, int]], codings: list[bytes]) -> None:
        """A body or gRPC message at `spans` (http_bodies.redact_body)."""
        self.unread += http_bodies.redact_body(
            self.out, spans, body, codings, self.sweeps, self.budget, self.found
        )

    def grpc(self, body: bytes, state: _Stream) -> None:
        """A gRPC stream's messages: a compressed flag and a 4-byte length before each, the
        compressed ones coded with the stream's grpc-encoding (one flagged compressed with
        none named cannot be read)."""
        coding = state.headers.get(b"grpc-encoding", b"identity").strip().lower()
        at = 0
        while at + 5 <= len(body):
            compressed, size = body[at], int.from_bytes(body[at + 1 : at + 5], "big")
            a, b = at + 5, min(at + 5 + size, len(body))
            codings = [] if not compressed else [b"unknown" if coding == b"identity" else coding]
            self.body(body[a:b], _sub_spans(state.data, a, b), codings)
            at = a + size


def redact_http2_stream(
    stream: bytes, sweeps: Sequence[http_bodies.Sweep]
) -> tuple[bytearray, list[int], int]:
    """One direction of an h2c connection, from its start (see the module's text). Returns
    the stream with what was found masked (same length), how many each sweep found, and how
    many header blocks, bodies and gRPC messages were replaced unread."""
    r = _Redactor(stream, sweeps)
    decoder = hpack.Decoder()
    decoder.max_header_list_size = http_bodies.MAX_HEADERS
    broken = False  # a header block could not be decoded: the dynamic table is unknown
    streams: dict[int, _Stream] = {}
    block: list[tuple[int, int]] = []  # the header block being put together
    block_stream = 0

    def end_block() -> None:
        nonlocal broken
        fields: list[tuple[bytes, bytes]] = []
        if not broken:
            try:
                raw = b"".join(stream[a:b] for a, b in block)
                fields = [(bytes(k), bytes(v)) for k, v in decoder.decode(raw, raw=True)]
            except Exception:  # hpack raises several kinds on bytes it cannot decode
                broken = True
        if broken:
            r.unread += any(a < b for a, b in block)
            http_bodies.x_out(r.out, block)
        elif r.sweep(b"\r\n".join(k + b": " + v for k, v in fields)):
            http_bodies.x_out(r.out, block)
        streams.setdefault(block_stream, _Stream()).headers.update(
            (k.lower(), v) for k, v in fields
        )
        block.clear()

    at, n = (len(PREFACE) if stream.startswith(PREFACE) else 0), len(stream)
    while at + 9 <= n:
        length = int.from_bytes(stream[at : at + 3], "big")
        kind, flags = stream[at + 3], stream[at + 4]
        sid = int.from_bytes(stream[at + 5 : at + 9], "big") & 0x7FFFFFFF
        end = min(at + 9 + length, n)
        a, b = _fragment(stream, kind, flags, at + 9, end)
        if kind == _DATA:
            streams.setdefault(sid, _Stream()).data.append((a, b))
        elif kind in (_HEADERS, _PUSH_PROMISE) or (kind == _CONTINUATION and block):
            if kind != _CONTINUATION:
                block_stream = sid
            block.append((a, b))
            if flags & _END_HEADERS or end == n:
                end_block()
        at += 9 + length
    if block:
        end_block()
    for state in streams.values():
        body = b"".join(stream[a:b] for a, b in state.data)
        if not body:
            continue
        if state.headers.get(b"content-type", b"").lower().startswith(b"application/grpc"):
            r.grpc(body, state)
            continue
        r.body(body, state.data, http_bodies.codings(state.headers))
    return r.out, r.found, r.unread
