# SPDX-License-Identifier: Apache-2.0
"""HTTP/2 in clear (h2c, RFC 9113) in a capture's TCP streams: its header blocks decoded
(HPACK, RFC 7541, whose Huffman code hides every digit) and its streams' data joined, so
that card numbers and SRTP keys in them can be found. Services inside a contact centre's
network speak it so: gRPC between a CRM's services, a payment gateway's internal API.

A connection is read from its start (the client's preface; a server's direction is read
as caught, pcifilter.pcap's choice, since a SETTINGS frame at a run's start may be a later
one), from its upgrade (an HTTP/1.1 request with `Upgrade: h2c`, the server's 101), or from
where its frames are found to begin (frame_chain_start) in a run the capture caught after
its start or after a segment it lost: gRPC channels live for hours, so a capture of a call
nearly always begins inside one. Each direction is cut into frames (RFC 9113 §4.1); a
header block (HEADERS or PUSH_PROMISE and its CONTINUATIONs, padding and priority left out)
is decoded (HPACK, against its dynamic table as far as the capture shows it: a field indexed
in entries added before the capture reads as unknown, literals always read) and each of its
strings swept: what is found is masked in the string's own bytes (in a Huffman-coded one,
the masked characters written as letters whose codes fill those bytes, as 'X' alone would
not), so that the block keeps its length and a reader's dynamic table its entries, with the
masked text in them; a block that cannot be decoded, or whose masked string does not fit,
has its fragments replaced whole by X's. Each stream's DATA payloads are joined as its
application reads them: a gRPC stream (content-type application/grpc) message by message
(gRPC's own framing, from its "gRPC over HTTP2" document: a flag and a 4-byte length before
each, the stream's grpc-encoding when the flag says compressed), others decoded by
content-encoding (pcifilter.http_bodies); plain text found is masked where it is, across
frames, and a compressed body or message that holds something or cannot be read whole is
replaced whole. A stream whose headers were not read whole (sent before the capture began,
or naming fields by entries it lacks) is read by what its data shows: gRPC from where its
messages are found to run to its end (_grpc_start; compressed ones read as gzip, gRPC's usual
coding; a message begun before them replaced unless it reads as text), text as text,
anything else replaced whole.

Read here by hand rather than with h2: that library runs a live connection's state machine
and stops at the first frame it does not expect; a capture's stream may end anywhere and
its bytes must be changed in place. Header blocks are decoded here too, with hpack's integer
and Huffman decoding: hpack's Decoder needs the whole dynamic table (it fails on a connection
caught mid-way), and logs every header it decodes at debug level (a card number in a path,
decoded, in an application's log).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from hpack.exceptions import HPACKDecodingError
from hpack.hpack import decode_integer
from hpack.huffman import HuffmanEncoder
from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
from hpack.huffman_table import decode_huffman
from hpack.table import HeaderTable

from pcifilter import http_bodies

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_DATA, _HEADERS, _PUSH_PROMISE, _CONTINUATION, _SETTINGS = 0, 1, 5, 9, 4
_END_HEADERS, _PADDED, _PRIORITY = 0x4, 0x8, 0x20

# A client's request or a server's 101 upgrading to h2c, its header block whole.
UPGRADE = re.compile(
    rb"(?is)\A(?:[A-Z]+ \S+ HTTP/1\.1\r\n|HTTP/1\.1 101)(?:(?!\r\n\r\n).){0,8192}?"
    rb"\nupgrade:[ \t]*h2c[ \t]*(?=\r\n)(?:(?!\r\n\r\n).){0,8192}?\r\n\r\n"
)

# The frame types RFC 9113 §6 defines: the flags each may carry (others "MUST be left
# unset"), the length it must have (None: any), and whether it is sent on stream 0 (True),
# on another (False) or on either (None).
_TYPES: dict[int, tuple[int, int | None, bool | None]] = {
    0: (0x09, None, False),  # DATA: END_STREAM, PADDED
    1: (0x2D, None, False),  # HEADERS: END_STREAM, END_HEADERS, PADDED, PRIORITY
    2: (0x00, 5, False),  # PRIORITY
    3: (0x00, 4, False),  # RST_STREAM
    4: (0x01, None, True),  # SETTINGS: ACK (a multiple of 6 bytes; an ACK none)
    5: (0x0C, None, False),  # PUSH_PROMISE: END_HEADERS, PADDED
    6: (0x01, 8, True),  # PING: ACK
    7: (0x00, None, True),  # GOAWAY (8 bytes or more)
    8: (0x00, 4, None),  # WINDOW_UPDATE
    9: (0x04, None, False),  # CONTINUATION: END_HEADERS
}
# A frame header's type and flags bytes as a sender writes them, for all places at once.
_TYPE_FLAGS_NP = np.zeros((256, 256), dtype=bool)
for _kind, (_flags, _, _) in _TYPES.items():
    _TYPE_FLAGS_NP[_kind, [f for f in range(256) if not f & ~_flags]] = True
# The protocol's default SETTINGS_MAX_FRAME_SIZE: the most a segment's first frame may be
# when it says a connection is HTTP/2, and a run's last frame when it runs past the run's
# end (other frames, followed by a strict header, may be longer: a receiver may allow it).
_DEFAULT_MAX_FRAME = 1 << 14
# The frames a run caught mid-way must show, one after another, to be read as HTTP/2: this
# many, or 2 that run to its end (the last one may be cut by it).
CAUGHT_FRAMES = 3


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


def strict_frame(data: bytes | bytearray, at: int, max_length: int = (1 << 24) - 1) -> int | None:
    """The length of the frame whose header starts at `at` when the header is as RFC 9113 §6
    has a sender write it (a type it defines, only that type's flags, the reserved bit clear,
    the stream and length the type needs), else None."""
    if at + 9 > len(data):
        return None
    length = int.from_bytes(data[at : at + 3], "big")
    kind, flags, sid = data[at + 3], data[at + 4], data[at + 5 : at + 9]
    rule = _TYPES.get(kind)
    if rule is None or flags & ~rule[0] or sid[0] & 0x80 or length > max_length:
        return None
    fixed, on_zero = rule[1], rule[2]
    if (fixed is not None and length != fixed) or (
        on_zero is not None and (sid == b"\0\0\0\0") != on_zero
    ):
        return None
    if kind == _SETTINGS and (length % 6 or (flags and length)):
        return None
    if (kind == 7 and length < 8) or (kind == _PUSH_PROMISE and length < 4):
        return None
    if kind == _HEADERS and flags & _PRIORITY and length < 5 + bool(flags & _PADDED):
        return None
    padded = flags & _PADDED and kind in (_DATA, _HEADERS, _PUSH_PROMISE)
    if padded and (length == 0 or (at + 9 < len(data) and data[at + 9] >= length)):
        return None
    return length


def starts_frames(data: bytes) -> bool:
    """A segment that starts with strict HTTP/2 frames (the first no longer than the default
    maximum), one after another to its end or past it: one of a connection the capture
    caught after its start, maybe (as C++'s starts_http2_frames)."""
    length = strict_frame(data, 0, _DEFAULT_MAX_FRAME)
    at = 0
    while length is not None:
        at += 9 + length
        if at + 9 > len(data):  # its end, or past it (the last header maybe cut by it)
            return True
        length = strict_frame(data, at)
    return False


def frame_chain_start(stream: bytes, window: int = 1 << 14) -> int | None:
    """Where the frames of a run of an HTTP/2 connection caught mid-way begin: of the
    places in its first `window` bytes from which CAUGHT_FRAMES strict frames follow one
    another (or 2 that run to its end, the last one no longer than the default maximum
    when the end cuts it), the one with the most frames, the earliest of those; None when
    there is none. (A place inside a frame's payload that happens to chain into the frames
    after it shows fewer frames than that frame's own start does.) Each place's frame is
    read once, whatever the chains that reach it: following each chain to its end took
    time quadratic in the run (a run of empty frames)."""
    n = len(stream)
    count = min(window, n - 8)
    if count <= 0:
        return None
    head = np.frombuffer(stream, np.uint8, count=min(n, count + 8))
    may = _TYPE_FLAGS_NP[head[3 : count + 3], head[4 : count + 4]]
    may &= (head[5 : count + 5] & 0x80) == 0

    def step(at: int) -> int | tuple[int, bool]:  # (frames it adds, whether at the end)
        length = strict_frame(stream, at) if at < n else None
        if length is not None and at + 9 + length > n and length > _DEFAULT_MAX_FRAME:
            length = None  # past the end, at a length random bytes give: no frame
        if length is None:  # the end (its last header maybe cut by it), or no frame
            return 0, n - at < 9
        return at + 9 + length

    return _best_chain(
        np.flatnonzero(may).tolist(),
        step,
        lambda frames, to_end: frames >= CAUGHT_FRAMES or (frames >= 2 and bool(to_end)),
    )


def _best_chain(
    places: list[int],
    step: Callable[[int], int | tuple[int, object]],
    accept: Callable[[int, object], bool],
) -> int | None:
    """Of `places`, the one from which the most units (frames, messages) follow one another,
    the earliest of those, of the chains `accept` takes (given their units and how they
    end); None when there is none. `step(at)`: where the unit at `at` ends, or how a chain
    ends there (the units it adds, and how). Each place is followed once, whatever the
    chains that reach it: following each chain to its end took time quadratic in the data
    (a run of empty frames or messages)."""
    chains: dict[int, tuple[int, object]] = {}  # place: (units from it, how they end)
    best: tuple[int, int] | None = None  # (units, -place)
    for p in places:
        path, at = [], p
        while at not in chains:
            following = step(at)
            if isinstance(following, tuple):
                chains[at] = following
                break
            path.append(at)
            at = following
        units, how = chains[at]
        for place in reversed(path):
            units += 1
            chains[place] = (units, how)
        units, how = chains[p]
        if accept(units, how):
            best = max(best or (units, -p), (units, -p))
    return None if best is None else -best[1]


class _UnreadableError(Exception):
    """A header block that cannot be decoded (its message says nothing of its bytes)."""


class DynamicTable:
    """HPACK's dynamic table (RFC 7541 §2.3) as far as the capture shows it: the fields it
    saw added, newest first; `older`: entries it did not see (added before the capture
    began, or by a block it could not decode) may lie beyond them, and read as unknown
    (None) rather than as an error. Such entries' sizes are not known either, so entries
    are evicted later here than the sender evicts them; a sender refers only to entries it
    still holds, the newest, which are the same."""

    _STATIC: tuple[tuple[bytes, bytes], ...] = HeaderTable.STATIC_TABLE
    _MOST = 2048  # entries kept at most (a 64 KiB table's worth)

    def __init__(self, older: bool) -> None:
        self.entries: deque[tuple[bytes | None, bytes | None]] = deque()
        self.size = 0
        self.maxsize = 4096 if not older else 1 << 16  # (SETTINGS_HEADER_TABLE_SIZE)
        self.older = older

    def forget(self) -> None:
        """After a block not decoded: what it added is not known."""
        self.entries.clear()
        self.size, self.older = 0, True

    def get(self, index: int) -> tuple[bytes | None, bytes | None]:
        if 0 < index <= len(self._STATIC):
            return self._STATIC[index - 1]
        k = index - len(self._STATIC) - 1
        if 0 <= k < len(self.entries):
            return self.entries[k]
        if index > 0 and self.older:
            return None, None
        raise _UnreadableError

    def add(self, name: bytes | None, value: bytes | None) -> None:
        self.entries.appendleft((name, value))
        self.size += _entry_size(name, value)
        self._evict()

    def resize(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._evict()

    def _evict(self) -> None:
        while self.entries and (self.size > self.maxsize or len(self.entries) > self._MOST):
            self.size -= _entry_size(*self.entries.pop())


def _entry_size(name: bytes | None, value: bytes | None) -> int:
    return 32 + len(name or b"") + len(value or b"")  # RFC 7541 §4.1


def _integer(raw: memoryview, at: int, prefix: int) -> tuple[int, int]:
    try:
        value, used = decode_integer(raw[at:], prefix)
    except HPACKDecodingError:
        raise _UnreadableError from None  # (its message shows the block's bytes)
    return value, at + used


def _string(raw: memoryview, at: int) -> tuple[bytes, int, int, bool]:
    """A string literal at `at`: its text, where its coded bytes begin and end, and whether
    they are Huffman-coded."""
    if at >= len(raw):
        raise _UnreadableError
    huffman = bool(raw[at] & 0x80)
    length, at = _integer(raw, at, 7)
    if at + length > len(raw):
        raise _UnreadableError
    coded = raw[at : at + length]
    try:
        return (decode_huffman(coded) if huffman else bytes(coded)), at, at + length, huffman
    except HPACKDecodingError:
        raise _UnreadableError from None


_HUFFMAN = HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH)
# Characters, none a digit, whose Huffman codes (RFC 7541 Appendix B) are 5 to 15 bits long
# (none is 9): what a masked character is written as in a Huffman-coded string. The longer
# ones only where the characters masked had long codes ('+' of base64: 11 bits).
_FILLERS = {5: b"a", 6: b"b", 7: b"j", 8: b"X", 10: b"?", 11: b"|", 12: b"#", 13: b"~"}
_FILLERS |= {14: b"^", 15: b"{"}
_LETTERS = (5, 6, 7, 8)


def _filled(text: bytes, masked: bytes, size: int) -> bytes | None:
    """`masked` (`text` with what a sweep found replaced) as it can be Huffman-coded in
    `size` bytes, what `text` took: the characters the sweep changed written as characters
    of 5 to 15 bits ('a', 'b', 'j', 'X', then punctuation; 'X' alone takes more bits than
    the digits it replaces) whose codes fill those bytes, the last padded with fewer than 8
    bits as RFC 7541 §5.2 requires; None when no such choice fits. Which are chosen depends
    on the lengths alone (of the code kept and of the bytes), never on what was masked."""
    if len(masked) != len(text):
        return None
    changed = [i for i, (x, y) in enumerate(zip(text, masked, strict=True)) if x != y]
    kept = sum(REQUEST_CODES_LENGTH[c] for c in masked) - sum(
        REQUEST_CODES_LENGTH[masked[i]] for i in changed
    )
    need, most = 8 * (size - 1) + 1 - kept, 8 * size - kept  # the changed ones' bits
    for lengths in (_LETTERS, tuple(_FILLERS)):  # letters if they do
        out, left = bytearray(masked), need
        for n, i in enumerate(changed):
            want = left - 5 * (len(changed) - n - 1)  # (the least the ones after it take)
            if n < len(changed) - 1:  # the longest that leaves the rest room
                bits = max(b for b in lengths if b <= max(5, want))
            else:  # the last: the shortest that reaches what is needed
                bits = min((b for b in lengths if b >= want), default=0)
            if not bits:
                break
            out[i : i + 1] = _FILLERS[bits]
            left -= bits
        else:  # (codes of `need` to `most` bits in all take `size` bytes: the caller codes it)
            if need - left <= most:
                return bytes(out)
    return None


def decode_block(
    raw: bytes, table: DynamicTable, mask: Callable[[bytes], bytes] | None = None
) -> tuple[list[tuple[bytes | None, bytes | None]], bytes | None]:
    """A header block's fields (RFC 7541 §6), None for a name or value indexed in entries
    `table` does not know; `table` updated as the block adds to it. With `mask`, each string
    literal (a name or a value) passes through it, and one it changes is written back in
    its bytes (raw, or Huffman-coded with _filled) and goes into the fields and the table
    as masked: a reader's table keeps the sender's entries, the masked text in them.
    Returns the fields and the block as written back (None when a masked string did not
    fit its bytes). Raises _UnreadableError on a block that cannot be decoded, or whose
    fields add up to more than http_bodies.MAX_HEADERS."""
    # Each field adds 32 to the sum and a literal at least 8/30 of its coded bytes (codes
    # are 30 bits at most): a block this long is over the limit, whatever it holds.
    if len(raw) > 4 * http_bodies.MAX_HEADERS:
        raise _UnreadableError
    view, at, total = memoryview(raw), 0, 0
    fields: list[tuple[bytes | None, bytes | None]] = []
    out: bytearray | None = bytearray(raw)

    def literal() -> bytes:
        nonlocal at, out
        text, start, at, huffman = _string(view, at)
        masked = mask(text) if mask is not None else text
        if masked != text and huffman:
            masked = _filled(text, masked, at - start) or masked
            if len(coded := _HUFFMAN.encode(masked)) != at - start:  # (None from _filled)
                out = None  # (no room: masked as the sweep has it, the block replaced)
            elif out is not None:
                out[start:at] = coded
        elif masked != text and len(masked) != at - start:
            out = None
        elif masked != text and out is not None:
            out[start:at] = masked
        return masked

    while at < len(raw):
        first = raw[at]
        if first & 0x80:  # an indexed field
            index, at = _integer(view, at, 7)
            name, value = table.get(index)
        elif first & 0xE0 == 0x20:  # a dynamic table size update
            size, at = _integer(view, at, 5)
            table.resize(size)
            continue
        else:  # a literal: with incremental indexing, without, never indexed
            index, at = _integer(view, at, 6 if first & 0x40 else 4)
            name = table.get(index)[0] if index else literal()
            value = literal()
            if first & 0x40:
                table.add(name, value)
        total += _entry_size(name, value)
        if total > http_bodies.MAX_HEADERS:
            raise _UnreadableError
        fields.append((name, value))
    return fields, (bytes(out) if out is not None else None)


@dataclass(repr=False)  # (its headers may hold a card number: no repr shows them)
class _Stream:
    data: list[tuple[int, int]] = field(default_factory=list)  # DATA payloads' spans
    headers: dict[bytes, bytes] = field(default_factory=dict)
    # whether its first header block was read whole before its data (None: no block yet)
    known: bool | None = None


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


# gRPC's default largest message (grpc-core's and grpc-go's, received): the most the last
# message of a stream's data may say it is when the data's end cuts it.
_GRPC_MOST = 4 << 20
# The messages data must show, one after another, the last cut by its end, to be read as
# gRPC's (ending exactly at its end, one is enough).
_GRPC_CUT_MESSAGES = 4


def _grpc_start(body: bytes, window: int = 1 << 14) -> int | None:
    """Where a stream's data, its headers not read (a stream begun before the capture, or
    naming its fields by entries it lacks), reads as gRPC messages (a flag 0 or 1 and a
    4-byte length before each) one after another to its end: exactly to it, or
    _GRPC_CUT_MESSAGES or more, the last cut by it and no longer than _GRPC_MOST. Of the
    places in its first `window` bytes (a message begun before the capture ahead of them),
    the one with the most messages, the earliest of those; None when there is none. (Random
    bytes, compressed data without a magic number, start with a plain message's flag byte 1
    time in 256: read as one message cut by the end, they passed as they were in the first
    build of this reading.) Each place is followed once, whatever the chains that reach
    it."""
    n = len(body)
    if n < 5:
        return None
    head = np.frombuffer(body, np.uint8, count=min(n, window))

    def step(at: int) -> int | tuple[int, str]:  # (messages it adds, how they end)
        if at == n:
            return 0, "exact"
        if at + 5 > n:  # a header cut by the end
            return 0, "cut"
        size = int.from_bytes(body[at + 1 : at + 5], "big")
        if body[at] > 1 or (at + 5 + size > n and size > _GRPC_MOST):
            return 0, "not"
        if at + 5 + size > n:  # the last, cut by the end
            return 1, "cut"
        return at + 5 + size

    return _best_chain(
        np.flatnonzero(head <= 1).tolist(),
        step,
        lambda count, how: (
            (how == "exact" and count > 0) or (how == "cut" and count >= _GRPC_CUT_MESSAGES)
        ),
    )


class _Redactor:
    """What one direction's reading keeps: the stream out, the sweeps and what they found,
    the decoding budget, how many were replaced unread."""

    def __init__(
        self,
        stream: bytes,
        sweeps: Sequence[http_bodies.Sweep],
        budget: http_bodies.Budget | None,
    ) -> None:
        self.out = bytearray(stream)
        self.sweeps = sweeps
        self.found = [0] * len(sweeps)
        self.budget = budget or http_bodies.Budget(len(stream))
        self.unread = 0

    def mask(self, text: bytes) -> bytes:
        """`text` with what the sweeps find in it masked (counted)."""
        return http_bodies.swept(text, self.sweeps, self.found)[0]

    def replace(self, spans: list[tuple[int, int]]) -> None:
        """Bytes not read, replaced whole (counted)."""
        self.unread += any(a < b for a, b in spans)
        http_bodies.x_out(self.out, spans)

    def body(self, body: bytes, spans: list[tuple[int, int]], codings: list[bytes]) -> None:
        """A body or gRPC message at `spans` (http_bodies.redact_body)."""
        self.unread += http_bodies.redact_body(
            self.out, spans, body, codings, self.sweeps, self.budget, self.found
        )

    def grpc(
        self,
        body: bytes,
        spans: list[tuple[int, int]],
        codings: list[bytes],
        grpc: http_bodies.GrpcBody,
    ) -> None:
        """A body of gRPC messages at `spans` (http_bodies.redact_grpc_body)."""
        self.unread += http_bodies.redact_grpc_body(
            self.out, spans, body, codings, grpc, self.sweeps, self.budget, self.found
        )

    def stream(self, state: _Stream, body: bytes) -> None:
        """A stream's joined data: as its headers say when they were read whole, else as
        its data shows (see the module's text)."""
        coding = state.headers.get(b"grpc-encoding", b"identity").strip().lower()
        if state.known:
            framing = http_bodies.grpc_framing(state.headers.get(b"content-type", b""))
            codings = http_bodies.codings(state.headers)
            if framing:  # gRPC's, gRPC-Web's
                self.grpc(body, state.data, codings, http_bodies.GrpcBody(framing, coding))
            else:
                self.body(body, state.data, codings)
        elif (start := _grpc_start(body)) is not None:
            if start and not http_bodies.reads_as_text(body[:start]):  # a message's rest
                self.replace(http_bodies.sub_spans(state.data, 0, start))
            spans = http_bodies.sub_spans(state.data, start, len(body))
            guess = http_bodies.GrpcBody(b"binary", b"gzip" if coding == b"identity" else coding)
            self.grpc(body[start:], spans, [], guess)
        elif http_bodies.reads_as_text(body):
            self.body(body, state.data, [])
        else:
            self.replace(state.data)


def redact_http2_stream(
    stream: bytes,
    sweeps: Sequence[http_bodies.Sweep],
    budget: http_bodies.Budget | None = None,
) -> tuple[bytearray, list[int], int]:
    """One direction of an h2c connection, from its start (see the module's text). Returns
    the stream with what was found masked (same length), how many each sweep found, and how
    many header blocks, bodies, gRPC messages and other stretches were replaced unread.
    `budget`: what its bodies may decode to (a capture's, shared), else the stream's own."""
    at = len(PREFACE) if stream.startswith(PREFACE) else 0
    return _redact(stream, sweeps, at, False, budget)


def redact_upgraded(
    stream: bytes,
    sweeps: Sequence[http_bodies.Sweep],
    budget: http_bodies.Budget | None = None,
) -> tuple[bytearray, list[int], int] | None:
    """One direction of a connection upgraded from HTTP/1.1 (RFC 7540 §3.2, `Upgrade: h2c`:
    curl's and some proxies' way to h2c): the client's request read as HTTP/1.1, its preface
    and frames after it as from the start; the server's 101, its frames after it. None when
    the run is not such (the upgrade refused: no 101, or no preface after the request)."""
    upgrade = UPGRADE.match(stream)
    if upgrade is None:
        return None
    at = upgrade.end() if stream.startswith(b"HTTP/") else stream.find(PREFACE, upgrade.end())
    if at < 0:
        return None
    budget = budget or http_bodies.Budget(len(stream))
    head, found, unread = http_bodies.redact_http_stream(stream[:at], sweeps, budget=budget)
    frames, found_h2, unread_h2 = redact_http2_stream(stream[at:], sweeps, budget)
    return head + frames, [a + b for a, b in zip(found, found_h2, strict=True)], unread + unread_h2


def redact_caught(
    stream: bytes,
    sweeps: Sequence[http_bodies.Sweep],
    budget: http_bodies.Budget | None = None,
) -> tuple[bytearray, list[int], int] | None:
    """A run of an h2c connection caught after its start or after a segment the capture
    lost, read from where its frames are found to begin (frame_chain_start; None when they
    are not), its dynamic table's older entries unknown; the bytes before those frames (the
    rest of a frame begun before the run) replaced unless they read as text. Returns as
    redact_http2_stream does."""
    start = frame_chain_start(stream)
    return None if start is None else _redact(stream, sweeps, start, True, budget)


def _redact(
    stream: bytes,
    sweeps: Sequence[http_bodies.Sweep],
    at: int,
    caught: bool,
    budget: http_bodies.Budget | None,
) -> tuple[bytearray, list[int], int]:
    r = _Redactor(stream, sweeps, budget)
    if caught and at and not http_bodies.reads_as_text(stream[:at]):
        r.replace([(0, at)])
    table = DynamicTable(older=caught)
    streams: dict[int, _Stream] = {}
    block: list[tuple[int, int]] = []  # the header block being put together
    block_stream = 0

    def end_block() -> None:
        state = streams.setdefault(block_stream, _Stream())
        try:
            fields, masked = decode_block(b"".join(stream[a:b] for a, b in block), table, r.mask)
        except _UnreadableError:
            table.forget()
            r.replace(block)
            state.known = state.known or False
            block.clear()
            return
        if masked is None:  # (the reader's table then lacks what the block added)
            http_bodies.x_out(r.out, block)
        else:
            http_bodies.put_back(r.out, block, masked)
        if state.known is None:
            state.known = all(k is not None and v is not None for k, v in fields)
        state.headers.update((k.lower(), v) for k, v in fields if k is not None and v is not None)
        block.clear()

    n = len(stream)
    while at + 9 <= n:
        length = int.from_bytes(stream[at : at + 3], "big")
        kind, flags = stream[at + 3], stream[at + 4]
        sid = int.from_bytes(stream[at + 5 : at + 9], "big") & 0x7FFFFFFF
        end = min(at + 9 + length, n)
        a, b = _fragment(stream, kind, flags, at + 9, end)
        if kind == _DATA:
            state = streams.setdefault(sid, _Stream())
            state.data.append((a, b))
            state.known = state.known or False
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
        if body:
            r.stream(state, body)
    return r.out, r.found, r.unread
