# SPDX-License-Identifier: Apache-2.0
"""HTTP/1.x bodies in a capture, read as their application reads them: de-chunked and
decompressed, so that card numbers and SRTP keys in them can be found.

A card number an agent types into a CRM's web form goes out in clear (found in the raw
stream); the page or JSON the server sends back with it is usually gzip'd, and a body sent
in chunks (Transfer-Encoding: chunked, what most servers do for generated content) can have
a chunk-size line in the middle of a number. Here each message of a reassembled TCP stream
is cut by its framing (RFC 9112 §6: chunked, Content-Length, or to the end of what was
captured), its body put together and decoded (Content-Encoding gzip, x-gzip or deflate; at
most MAX_DECODED bytes of it), and swept with the capture's C++ maskers. Where something is
found, an uncompressed body gets X's where it was found (the chunks' framing kept); a
compressed one has all its bytes replaced by X's (it cannot be compressed again to the same
length), which leaves that body unreadable and the message's framing as it was.

Read here by hand rather than with h11 or http.client: those parse a live connection from
its first byte, in order, and stop at the first thing they do not expect; a capture's stream
may begin in the middle of a body, lose a segment or end anywhere, and must be changed in
place, byte for byte.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Sequence

# A body decoded to more than this is swept as far as this (a decompression bomb cannot
# make the scrub take memory beyond it).
MAX_DECODED = 16 << 20
# All a stream's bodies together are decoded to at most this much, plus DECODED_PER_BYTE
# bytes for each of the stream's own (text compresses 3-10 times; deflate at most about
# 1000): past it, a compressed body is not read but replaced whole, as one that holds a card
# number is. Without it, a capture of gzip bombs took about 2.6 microseconds a byte to scrub,
# 250 times a plain one (1.7 MB of 16 MiB bombs: 4.4 s).
DECODED_BUDGET = 4 * MAX_DECODED
DECODED_PER_BYTE = 32
MAX_HEADERS = 65536

# An HTTP/1.x message's first line: a request (its method named, its target bounded: "[A-Z]+
# [^ ]+" from every place of a long run of capitals takes time quadratic in it) or a status.
START = re.compile(
    rb"(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) [^ \r\n]{1,8192} HTTP/1\.[01]\r\n"
    rb"|HTTP/1\.[01] \d{3}[ \r]"
)
_HEADER = re.compile(
    rb"(?im)^(content-length|transfer-encoding|content-encoding)[ \t]*:[ \t]*([^\r\n]*)"
)
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r\n")

# A sweep: bytes in; the same bytes with what it found replaced by X's (same length), and how
# many it found (pcifilter._core.mask_card_numbers, mask_srtp_keys).
Sweep = Callable[[bytes], tuple[bytes, int]]


def _decoder(coding: bytes) -> Callable[[], zlib._Decompress] | None:
    """A fresh decompressor for a Content-Encoding, or None for one not read (identity
    included: nothing to decode; br, zstd: not read)."""
    name = coding.strip().lower()
    if name in (b"gzip", b"x-gzip"):
        return lambda: zlib.decompressobj(wbits=31)
    if name == b"deflate":  # RFC 9110 §8.4.1.2: zlib format (some servers send it raw)
        return lambda: zlib.decompressobj(wbits=47)
    return None


class Budget:
    """How many decoded bytes a stream's bodies (or messages) may still take: DECODED_BUDGET
    plus DECODED_PER_BYTE for each byte of the stream."""

    def __init__(self, stream_length: int) -> None:
        self.left = DECODED_BUDGET + DECODED_PER_BYTE * stream_length

    def limit(self) -> int:
        """At most how many bytes the next body may be decoded to (0: none left)."""
        return max(0, min(MAX_DECODED, self.left))

    def spend(self, decoded: bytes) -> bytes:
        self.left -= len(decoded)
        return decoded


def _decoded(body: bytes, coding: bytes, budget: Budget) -> bytes | None:
    """The body decompressed (at most MAX_DECODED bytes, and what the budget has left; as far
    as it goes when cut short), or None when it is not compressed or cannot be read."""
    make = _decoder(coding)
    if make is None:
        return None
    attempts = [make]
    if coding.strip().lower() == b"deflate":
        attempts.append(lambda: zlib.decompressobj(wbits=-15))  # raw deflate
    for attempt in attempts:
        try:
            out = attempt().decompress(body, budget.limit())
        except zlib.error:
            continue
        return budget.spend(out)
    return None


def _chunks(stream: bytes, at: int) -> tuple[list[tuple[int, int]], int]:
    """A chunked body from `at`: the data's spans in `stream`, and where the message ends
    (its last chunk, trailers and blank line; or the stream's end when cut short)."""
    spans: list[tuple[int, int]] = []
    while True:
        size = _CHUNK_SIZE.match(stream, at)
        if size is None:
            return spans, len(stream)
        n, at = int(size.group(1), 16), size.end()
        if n == 0:
            end = stream.find(b"\r\n\r\n", at - 2)  # the trailers (none: the CRLF after 0)
            return spans, len(stream) if end < 0 else end + 4
        spans.append((at, min(at + n, len(stream))))
        at += n + 2
        if at > len(stream):
            return spans, len(stream)


def _body(
    stream: bytes, at: int, body_at: int, headers: dict[bytes, bytes]
) -> tuple[list[tuple[int, int]], int]:
    """The body of the message that starts at `at` (its headers end at `body_at`): its
    spans in `stream` and where the message ends (RFC 9112 §6.3)."""
    status = stream[at + 9 : at + 12] if stream.startswith(b"HTTP/", at) else None
    if status is None and not (b"transfer-encoding" in headers or b"content-length" in headers):
        return [], body_at  # a request with neither has no body
    if status is not None and (status.startswith(b"1") or status in (b"204", b"304")):
        return [], body_at  # nor have these responses
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        return _chunks(stream, body_at)
    length = headers.get(b"content-length", b"").strip()
    if length.isdigit():
        end = min(len(stream), body_at + int(length))
        return [(body_at, end)], end
    following = START.search(stream, body_at)  # a response read to the connection's end
    end = following.start() if following else len(stream)
    return [(body_at, end)], end


def redact_http_stream(stream: bytes, sweeps: Sequence[Sweep]) -> tuple[bytearray, list[int]]:
    """The HTTP/1.x messages of a reassembled TCP run (from the first message start in it),
    each body read de-chunked and decoded and swept with `sweeps`. Returns the stream with
    what was found masked (same length) and how many each sweep found in the bodies."""
    out = bytearray(stream)
    found = [0] * len(sweeps)
    budget = Budget(len(stream))
    start = START.search(stream)
    at = start.start() if start else len(stream)
    while at < len(stream):
        head_end = stream.find(b"\r\n\r\n", at, at + MAX_HEADERS)
        if head_end < 0:
            break
        headers = {k.lower(): v for k, v in _HEADER.findall(stream, at, head_end)}
        spans, end = _body(stream, at, head_end + 4, headers)
        body = b"".join(stream[a:b] for a, b in spans)
        coding = headers.get(b"content-encoding", b"")
        compressed = bool(body) and _decoder(coding) is not None
        decoded = _decoded(body, coding, budget) if compressed and budget.limit() else None
        text = decoded if decoded is not None else body
        masked, hits = text, 0
        for i, sweep in enumerate(sweeps):
            masked, n = sweep(masked)
            found[i] += n
            hits += n
        if compressed and (hits or budget.limit() == 0):
            # holds something (it cannot be compressed again to the same length), or was
            # past the budget (or cut by it), not read whole: replaced whole
            for a, b in spans:
                out[a:b] = b"X" * (b - a)
        elif masked != text and decoded is None:  # each changed byte back where it was
            k = 0
            for a, b in spans:
                out[a:b] = masked[k : k + b - a]
                k += b - a
        next_at = START.search(stream, max(end, at + 1))
        at = next_at.start() if next_at else len(stream)
    return out, found
