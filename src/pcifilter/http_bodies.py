# SPDX-License-Identifier: Apache-2.0
"""HTTP/1.x bodies in a capture, read as their application reads them: de-chunked and
decompressed, so that card numbers and SRTP keys in them can be found.

A card number an agent types into a CRM's web form goes out in clear (found in the raw
stream); the page or JSON the server sends back with it is usually gzip'd, and a body sent
in chunks (Transfer-Encoding: chunked, what most servers do for generated content) can have
a chunk-size line in the middle of a number. Here each message of a reassembled TCP stream
is cut by its framing (RFC 9112 §6: chunked, Content-Length, or to the end of what was
captured), its body put together and its codings undone (RFC 9110 §8.4: Content-Encoding's
list, and Transfer-Encoding's codings other than chunked, last applied first undone; gzip,
x-gzip, deflate, br, zstd; at most MAX_DECODED bytes of it), and swept with the capture's
C++ maskers. Where something is found, an uncompressed body gets X's where it was found (the
chunks' framing kept); a coded one has all its bytes replaced by X's (it cannot be coded
again to the same length), which leaves that body unreadable and the message's framing as it
was. So has a coded body that is not read whole: a coding not known here (compress, ...),
one that fails to decode, one whose text goes past MAX_DECODED or the stream's budget. An
application may read what is not read here: it is not let through unread.

Read here by hand rather than with h11 or http.client: those parse a live connection from
its first byte, in order, and stop at the first thing they do not expect; a capture's stream
may begin in the middle of a body, lose a segment or end anywhere, and must be changed in
place, byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import brotli  # type: ignore[import-untyped]
import zstandard

# A body whose text is this long or longer is not read but replaced whole (a decompression
# bomb cannot make the scrub take memory beyond it).
MAX_DECODED = 16 << 20
# All a stream's bodies together are decoded to at most this much, plus DECODED_PER_BYTE
# bytes for each of the stream's own (text compresses 3-10 times; deflate at most about
# 1000): past it, a compressed body is not read but replaced whole, as one that holds a card
# number is. Without it, a capture of gzip bombs took about 2.6 microseconds a byte to scrub,
# 250 times a plain one (1.7 MB of 16 MiB bombs: 4.4 s).
DECODED_BUDGET = 4 * MAX_DECODED
DECODED_PER_BYTE = 32
MAX_HEADERS = 65536
# A body of more gzip members or zstd frames than this, one after another, is not read (each
# costs a copy of what follows it: thousands of empty ones would cost time quadratic in the
# body's length).
MAX_MEMBERS = 16

# An HTTP/1.x message's first line: a request (its method named, its target bounded: "[A-Z]+
# [^ ]+" from every place of a long run of capitals takes time quadratic in it) or a status.
START = re.compile(
    rb"(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) [^ \r\n]{1,8192} HTTP/1\.[01]\r\n"
    rb"|HTTP/1\.[01] \d{3}[ \r]"
)
_HEADER = re.compile(
    rb"(?im)^(content-length|transfer-encoding|content-encoding|content-type|grpc-encoding)"
    rb"[ \t]*:[ \t]*([^\r\n]*)"
)
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r\n")

# A sweep: bytes in; the same bytes with what it found replaced by X's (same length), and how
# many it found (pcifilter._core.mask_card_numbers, mask_srtp_keys).
Sweep = Callable[[bytes], tuple[bytes, int]]


class UnreadableError(Exception):
    """A body whose codings are not undone here whole: unknown, failing, or past a limit.
    `decoded`: how many bytes were decoded before it failed (spent from the budget all the
    same: a body refused at its limit is work done)."""

    def __init__(self, decoded: int = 0) -> None:
        super().__init__()
        self.decoded = decoded


def codings(headers: dict[bytes, bytes]) -> list[bytes]:
    """The codings applied to a message's body, in the order they were applied: its
    Content-Encoding list, then its Transfer-Encoding list but chunked (RFC 9112 §6.1: the
    framing, undone by _chunks). Identity is none."""
    names = [
        name.strip().lower()
        for field in (b"content-encoding", b"transfer-encoding")
        for name in headers.get(field, b"").split(b",")
    ]
    return [name for name in names if name not in (b"", b"identity", b"chunked")]


def _inflate(data: bytes, wbits: int, limit: int) -> bytes:
    """zlib's formats, members one after another (a gzip body may hold several, RFC 1952
    §2.2) read in turn as gzip readers do."""
    out = b""
    for _ in range(MAX_MEMBERS):
        reader = zlib.decompressobj(wbits=wbits)
        out += reader.decompress(data, limit - len(out))
        if not reader.eof or len(out) >= limit:
            raise UnreadableError(len(out))  # cut short, or more than `limit`
        data = reader.unused_data
        if not data:
            return out
    raise UnreadableError(len(out))  # more members than MAX_MEMBERS


def _unzstd(data: bytes, limit: int) -> bytes:
    """zstd frames one after another (RFC 8878). Read first through a stream reader, which
    makes at most `limit` bytes (a decompression object has no such bound), then again to
    learn that the frames ended (the stream reader does not tell)."""
    bounded = zstandard.ZstdDecompressor().stream_reader(data, read_across_frames=True)
    if (read := len(bounded.read(limit))) >= limit:
        raise UnreadableError(read)
    out = b""
    for _ in range(MAX_MEMBERS):
        reader = zstandard.ZstdDecompressor().decompressobj()
        out += reader.decompress(data)
        if not reader.eof:
            raise UnreadableError(read)
        data = reader.unused_data
        if not data:
            return out
    raise UnreadableError(read)


def _undo(data: bytes, coding: bytes, limit: int) -> bytes:
    """`data` with one coding undone. Raises UnreadableError for a coding not known here, data
    that fails to decode or is cut short (a capture ending in a body: another reader may get
    more of it than this one; for zstd and br, much more), text of `limit` bytes or more."""
    try:
        if coding in (b"gzip", b"x-gzip"):
            return _inflate(data, 31, limit)
        if coding == b"deflate":  # RFC 9110 §8.4.1.2: zlib format (some servers send it raw)
            try:
                return _inflate(data, 47, limit)
            except zlib.error:
                return _inflate(data, -15, limit)
        if coding == b"zstd":
            return _unzstd(data, limit)
        if coding == b"br":  # RFC 7932
            reader = brotli.Decompressor()
            text = bytes(reader.process(data, output_buffer_limit=limit))
            if len(text) >= limit or not reader.is_finished():
                raise UnreadableError(len(text))
            return text
    except (zlib.error, brotli.error, zstandard.ZstdError) as error:
        raise UnreadableError from error
    raise UnreadableError  # a coding not known here (compress, ...)


class Budget:
    """How many decoded bytes a stream's bodies (or messages) may still take: DECODED_BUDGET
    plus DECODED_PER_BYTE for each byte of the stream. A capture's streams share one, given
    all their bytes: with one each, a capture of many connections, a bomb in each (a body of
    16 KB that decodes to just under MAX_DECODED), decoded and swept 64 MiB for every
    connection: 345 times a plain capture's time (bench/coded_bombs_report.py)."""

    def __init__(self, stream_length: int) -> None:
        self.left = DECODED_BUDGET + DECODED_PER_BYTE * stream_length

    def limit(self) -> int:
        """At most how many bytes the next body may be decoded to (0: none left)."""
        return max(0, min(MAX_DECODED, self.left))

    def spend(self, decoded: bytes) -> bytes:
        self.left -= len(decoded)
        return decoded


def decoded(body: bytes, codings: list[bytes], budget: Budget) -> bytes:
    """The body with its codings undone, last applied first, each within what the budget
    has left (and MAX_DECODED). Raises UnreadableError when that cannot be done whole."""
    for coding in reversed(codings):
        limit = budget.limit()
        if not limit:
            raise UnreadableError
        try:
            body = budget.spend(_undo(body, coding, limit))
        except UnreadableError as error:
            budget.left -= error.decoded
            raise
    return body


def _chunks(stream: bytes, at: int) -> tuple[list[tuple[int, int]], int, bool]:
    """A chunked body from `at`: the data's spans in `stream`, where the message ends (its
    last chunk, trailers and blank line; the stream's end when cut short; where a chunk size
    was looked for and not found: the next message is looked for from there), and whether
    the stream ends before its data does."""
    spans: list[tuple[int, int]] = []
    while True:
        size = _CHUNK_SIZE.match(stream, at)
        if size is None:
            return spans, min(at, len(stream)), at >= len(stream)
        n, at = int(size.group(1), 16), size.end()
        if n == 0:
            end = stream.find(b"\r\n\r\n", at - 2)  # the trailers (none: the CRLF after 0)
            return spans, len(stream) if end < 0 else end + 4, False
        spans.append((at, min(at + n, len(stream))))
        at += n + 2
        if at > len(stream):
            return spans, len(stream), True


def _body(
    stream: bytes, at: int, body_at: int, headers: dict[bytes, bytes]
) -> tuple[list[tuple[int, int]], int, bool]:
    """The body of the message that starts at `at` (its headers end at `body_at`): its
    spans in `stream`, where the message ends (RFC 9112 §6.3), and whether the stream ends
    before the body does (a body read to the connection's end: when nothing follows it)."""
    status = stream[at + 9 : at + 12] if stream.startswith(b"HTTP/", at) else None
    if status is None and not (b"transfer-encoding" in headers or b"content-length" in headers):
        return [], body_at, False  # a request with neither has no body
    if status is not None and (status.startswith(b"1") or status in (b"204", b"304")):
        return [], body_at, False  # nor have these responses
    if status is not None and START.match(stream, body_at):
        # The next response right after the headers: this one answered a HEAD request,
        # whose response has no body whatever its Content-Length or Transfer-Encoding says
        # (RFC 9110 §9.3.2; the request is in the other direction's stream). Its framing
        # taken, the next response would be read as this one's body and its own body not
        # decoded.
        return [], body_at, False
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        return _chunks(stream, body_at)
    length = headers.get(b"content-length", b"").strip()
    if length.isdigit():
        end = min(len(stream), body_at + int(length))
        return [(body_at, end)], end, body_at + int(length) > len(stream)
    following = START.search(stream, body_at)  # a response read to the connection's end
    end = following.start() if following else len(stream)
    return [(body_at, end)], end, following is None


@dataclass(frozen=True)
class Message:
    """An HTTP/1.x message in a stream: from `at` to `end`, its body's data at `spans`
    (de-chunked), sent with `codings` (the order applied); `cut`: the stream ends before
    its body does. `grpc`: its body is gRPC-Web's (a browser's gRPC, through a proxy such
    as Envoy), b"binary" (application/grpc-web, +proto, +json) or b"text" (grpc-web-text:
    the same in base64), its messages compressed with `grpc_coding` when they say so."""

    at: int
    end: int
    spans: list[tuple[int, int]]
    codings: list[bytes]
    cut: bool
    grpc: bytes = b""
    grpc_coding: bytes = b"identity"

    def body(self, stream: bytes) -> bytes:
        return b"".join(stream[a:b] for a, b in self.spans)

    @property
    def coded(self) -> bool:
        """Whether its body may be coded: codings, or gRPC messages that may be compressed."""
        return bool(self.codings) or (bool(self.grpc) and self.grpc_coding != b"identity")


def messages(stream: bytes) -> Iterator[Message]:
    """The HTTP/1.x messages of a reassembled TCP run, from the first message start in it
    (each next one looked for from where the one before ends)."""
    start = START.search(stream)
    at = start.start() if start else len(stream)
    while at < len(stream):
        head_end = stream.find(b"\r\n\r\n", at, at + MAX_HEADERS)
        if head_end < 0:
            return
        headers: dict[bytes, bytes] = {}
        for name, value in _HEADER.findall(stream, at, head_end):
            name = name.lower()  # codings given on two lines: one list (RFC 9110 §5.3)
            joined = name in headers and name.endswith(b"-encoding")
            headers[name] = headers[name] + b"," + value if joined else value
        spans, end, cut = _body(stream, at, head_end + 4, headers)
        grpc = grpc_framing(headers.get(b"content-type", b""))
        coding = headers.get(b"grpc-encoding", b"").strip().lower() or b"identity"
        yield Message(at, end, spans, codings(headers), cut, grpc, coding)
        next_at = START.search(stream, max(end, at + 1))
        at = next_at.start() if next_at else len(stream)


def grpc_framing(content_type: bytes) -> bytes:
    """b"binary" for a body of gRPC messages (application/grpc, application/grpc-web, their
    +proto and +json), b"text" for grpc-web-text (the same in base64), else b""."""
    kind = content_type.strip().lower()
    if kind.startswith(b"application/grpc-web-text"):
        return b"text"
    return b"binary" if kind.startswith(b"application/grpc") else b""


def ends_in_coded_body(stream: bytes, parsed: Sequence[Message] | None = None) -> bool:
    """Whether a run of a connection ends inside a coded body: after a segment the capture
    lost, the next run's bytes before its first message start are the rest of that body,
    which cannot be decoded without its beginning (a reader that finds the next deflate
    block in them may still read its literals, a card number's digits among them).
    `parsed`: the run's messages, when read already."""
    last = None
    for message in messages(stream) if parsed is None else parsed:
        last = message
    return last is not None and last.cut and last.coded


def begins_in_coded_body(stream: bytes, parsed: Sequence[Message] | None = None) -> bool:
    """Whether the bytes before the first message start of a connection's first captured
    run (the capture began in a body, whose headers it lacks) may be the rest of a coded
    body, as after a segment the capture lost: when they do not read as text (compressed
    data fails UTF-8 within a few bytes; a NUL), or when the run's messages code their
    bodies. Text passes to the sweeps as it is; a binary body's rest (an image's) is
    replaced too, which costs nothing a scrub keeps. `parsed`: the run's messages, when
    read already."""
    first = START.search(stream)
    lead = stream[: first.start() if first else len(stream)]
    if not lead:
        return False
    if any(message.coded for message in (messages(stream) if parsed is None else parsed)):
        return True
    return not reads_as_text(lead, cut_end=first is None)


def reads_as_text(data: bytes, cut_end: bool = True) -> bool:
    """Whether bytes a capture cut out of something unknown read as text: UTF-8 (its first
    bytes may end a character the cut began in, and its last ones, when `cut_end`, begin
    one: up to 3 of each are let be) without a NUL. Compressed data fails within a few
    bytes."""
    if b"\x00" in data:
        return False
    start = next((i for i, b in enumerate(data[:3]) if b & 0xC0 != 0x80), len(data[:3]))
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data[start:], final=not cut_end)
    except UnicodeDecodeError:
        return False
    return True


def redact_http_stream(
    stream: bytes,
    sweeps: Sequence[Sweep],
    parsed: Sequence[Message] | None = None,
    budget: Budget | None = None,
) -> tuple[bytearray, list[int], int]:
    """The HTTP/1.x messages of a reassembled TCP run (from the first message start in it),
    each body read de-chunked and decoded and swept with `sweeps`. Returns the stream with
    what was found masked (same length), how many each sweep found in the bodies, and how
    many coded bodies were replaced unread (not readable whole). `parsed`: the run's
    messages, when read already; `budget`: what they may decode to (a capture's, its
    streams' together: pcifilter.pcap), else the stream's own."""
    out = bytearray(stream)
    found = [0] * len(sweeps)
    budget = budget or Budget(len(stream))
    unread = 0
    for m in messages(stream) if parsed is None else parsed:
        body = m.body(stream)
        if m.grpc:
            grpc = GrpcBody(m.grpc, m.grpc_coding)
            unread += redact_grpc_body(out, m.spans, body, m.codings, grpc, sweeps, budget, found)
        else:
            unread += redact_body(out, m.spans, body, m.codings, sweeps, budget, found)
    return out, found, unread


@dataclass(frozen=True)
class GrpcBody:
    """How a body of gRPC messages is sent: its framing (grpc_framing) and its messages'
    compression when they say so (grpc-encoding)."""

    framing: bytes
    coding: bytes


def redact_grpc_body(
    out: bytearray,
    spans: list[tuple[int, int]],
    body: bytes,
    codings: list[bytes],
    grpc: GrpcBody,
    sweeps: Sequence[Sweep],
    budget: Budget,
    found: list[int],
) -> int:
    """A body of gRPC messages (gRPC's over HTTP/2, gRPC-Web's over HTTP/1.1 or HTTP/2):
    its messages read as redact_grpc reads them, in place when the body is binary and not
    coded; a coded or base64 one (grpc-web-text, chunks of base64 one after another) read
    from its decoded copy and replaced whole when something is found in it or it cannot be
    read whole (it cannot be coded again to the same length). Returns how many were
    replaced unread."""
    if grpc.framing == b"binary" and not codings:
        return redact_grpc(out, spans, body, grpc.coding, sweeps, budget, found)
    try:
        data = decoded(body, codings, budget)
        if grpc.framing == b"text":
            data = _unbase64(data)
    except UnreadableError:
        x_out(out, spans)
        return int(any(a < b for a, b in spans))
    here = [0] * len(sweeps)
    unread = redact_grpc(bytearray(data), [(0, len(data))], data, grpc.coding, sweeps, budget, here)
    for i, n in enumerate(here):
        found[i] += n
    if unread or any(here):
        x_out(out, spans)
    return int(unread > 0)


def _unbase64(text: bytes) -> bytes:
    """grpc-web-text's body: base64 chunks, each padded, one after another."""
    try:
        return b"".join(
            base64.b64decode(chunk, validate=True) for chunk in _BASE64_CHUNK.findall(text)
        )
    except (binascii.Error, ValueError) as error:
        raise UnreadableError from error


_BASE64_CHUNK = re.compile(rb"[^=]+={0,2}|=+")


def redact_body(
    out: bytearray,
    spans: list[tuple[int, int]],
    body: bytes,
    codings: list[bytes],
    sweeps: Sequence[Sweep],
    budget: Budget,
    found: list[int],
) -> bool:
    """One body, at `spans` in `out` (de-chunked: `body`; sent with `codings`), read decoded
    and swept (what each sweep finds added to `found`): what is found masked where it is in
    a plain body; a coded one that holds something (it cannot be coded again to the same
    length) or is not read whole (a coding not known, failing, past a limit) replaced
    whole. Returns whether it was replaced unread. (pcifilter.http2's bodies and gRPC
    messages too.)"""
    try:
        text: bytes | None = decoded(body, codings, budget)
    except UnreadableError:
        text = None
    masked, hits = swept(text or b"", sweeps, found)
    if codings and (hits or text is None):
        x_out(out, spans)
        return text is None and any(a < b for a, b in spans)
    if masked != text and not codings:  # each changed byte back where it was
        put_back(out, spans, masked)
    return False


def redact_grpc(
    out: bytearray,
    spans: list[tuple[int, int]],
    body: bytes,
    coding: bytes,
    sweeps: Sequence[Sweep],
    budget: Budget,
    found: list[int],
) -> int:
    """A body of gRPC messages at `spans` in `out` (gRPC's framing, from its "gRPC over
    HTTP2" and gRPC-Web documents: a flag byte, 0x01 compressed, 0x80 gRPC-Web's trailers,
    and a 4-byte length before each): each read as redact_body reads a body, the compressed
    ones coded with `coding` (the stream's grpc-encoding; identity, none named, cannot be
    read). Returns how many were replaced unread."""
    unread, at = 0, 0
    while at + 5 <= len(body):
        compressed, size = body[at] & 0x01, int.from_bytes(body[at + 1 : at + 5], "big")
        a, b = at + 5, min(at + 5 + size, len(body))
        codings = [] if not compressed else [b"unknown" if coding == b"identity" else coding]
        within = sub_spans(spans, a, b)
        unread += redact_body(out, within, body[a:b], codings, sweeps, budget, found)
        at = a + size
    return unread


def sub_spans(spans: list[tuple[int, int]], a: int, b: int) -> list[tuple[int, int]]:
    """The parts of `spans` (a body's pieces in the stream) that hold its bytes [a, b)."""
    out, k = [], 0
    for s, e in spans:
        lo, hi = max(s, s + a - k), min(e, s + b - k)
        if lo < hi:
            out.append((lo, hi))
        k += e - s
    return out


def swept(text: bytes, sweeps: Sequence[Sweep], found: list[int]) -> tuple[bytes, int]:
    """`text` through each of `sweeps` in turn (what each finds added to `found`): the text
    with what they found masked, and how many they found."""
    hits = 0
    for i, sweep in enumerate(sweeps):
        text, n = sweep(text)
        found[i] += n
        hits += n
    return text, hits


def x_out(out: bytearray, spans: list[tuple[int, int]]) -> None:
    """Each of `spans` in `out` replaced by X's."""
    for a, b in spans:
        out[a:b] = b"X" * (b - a)


def put_back(out: bytearray, spans: list[tuple[int, int]], text: bytes) -> None:
    """A body's text (de-chunked, changed in place) back into its spans in `out`."""
    k = 0
    for a, b in spans:
        out[a:b] = text[k : k + b - a]
        k += b - a
