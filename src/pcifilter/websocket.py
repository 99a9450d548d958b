# SPDX-License-Identifier: Apache-2.0
"""WebSocket frames in a capture's TCP streams (RFC 6455 §5.2): reading a frame's header,
a stream's messages, where frames begin in a run that starts inside one, and the
compressed messages (permessage-deflate, RFC 7692) read inflated and replaced whole when
they hold a card number or key or cannot be read whole. pcifilter.pcap uses these for
SIP, ng and ARI over WebSocket and for any WebSocket an HTTP connection upgrades to.

Read here by hand rather than with the websockets package: it parses a live connection
from its first byte, while a capture's stream may begin inside a frame, lose a segment or
end anywhere, and its bytes must be changed in place, frame for frame.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator, Sequence

import numpy as np

from pcifilter import http_bodies


def read_frame(stream: bytes | bytearray, at: int) -> tuple[int, int, int, bytes] | None:
    """The frame whose header starts at `at`: (its first byte, where its payload starts, the
    payload's length, the masking key or b""), or None when no header fits there."""
    if at + 2 > len(stream):
        return None
    length, data = stream[at + 1] & 0x7F, at + 2
    if length >= 126:
        ext = 2 if length == 126 else 8
        if data + ext > len(stream):
            return None
        length, data = int.from_bytes(stream[data : data + ext], "big"), data + ext
    key = b""
    if stream[at + 1] & 0x80:
        key, data = bytes(stream[data : data + 4]), data + 4
        if len(key) < 4:
            return None
    return stream[at], data, length, key


def unmasked(stream: bytes | bytearray, data: int, n: int, key: bytes) -> bytes:
    body = stream[data : data + n]
    if not key:
        return bytes(body)
    return bytes(b ^ key[i % 4] for i, b in enumerate(body))


def earliest_leading_to(stream: bytes | bytearray, to: int, window: int) -> int:
    """The earliest place up to `window` bytes before `to` from which frames, one after
    another, end exactly at `to` (`to` itself when none does). One pass back from `to`, each
    place's frame read once: following the frames from every place in turn took time
    quadratic in the window (17 s for 16 KB of crafted two-byte frames)."""
    lo = max(0, to - window)
    leads = bytearray(to - lo + 1)  # leads[p - lo]: frames from p end exactly at `to`
    leads[to - lo] = 1
    earliest = to
    for p in range(to - 1, lo - 1, -1):
        frame = read_frame(stream, p)
        if frame is None or frame[0] & 0x70 or frame[0] & 0x0F not in (0, 1, 2, 8, 9, 10):
            continue
        end = frame[1] + frame[2]
        if end <= to and leads[end - lo]:
            leads[p - lo] = 1
            earliest = p
    return earliest


def messages(
    stream: bytes | bytearray, at: int
) -> Iterator[tuple[bool, list[tuple[int, int, bytes]], int]]:
    """The data messages of a WebSocket stream whose frames begin at `at`: for each, whether
    it is compressed (RSV1 on its first frame), its frames (payload start, length captured,
    masking key or b"") and where the frame that ended it starts. Control frames are
    skipped; a message cut short by the stream's end comes as far as it goes."""
    frames: list[tuple[int, int, bytes]] = []
    compressed = False
    while at < len(stream):
        frame = read_frame(stream, at)
        if frame is None:
            break
        first_byte, data, length, key = frame
        opcode = first_byte & 0x0F
        if opcode in (1, 2):  # a new message
            if frames:
                yield compressed, frames, at
            frames, compressed = [], bool(first_byte & 0x40)
        if opcode in (0, 1, 2):
            frames.append((data, max(0, min(length, len(stream) - data)), key))
            if first_byte & 0x80:  # FIN: the message is whole
                yield compressed, frames, at
                frames = []
        at = data + length
    if frames:
        yield compressed, frames, at


# A WebSocket's opening handshake, whatever its subprotocol (a chat widget's, Verto's): the
# client's GET or the server's 101 with "Upgrade: websocket", its header block whole.
UPGRADE = re.compile(
    rb"(?is)\A(?:GET |HTTP/1\.1 101)(?:(?!\r\n\r\n).){0,8192}?\nupgrade:[ \t]*websocket"
    rb"(?:(?!\r\n\r\n).){0,8192}?\r\n\r\n"
)


def frame_chain_start(
    stream: bytes | bytearray, masked: bool, window: int = 1 << 14, min_frames: int = 3
) -> int | None:
    """Where the frames of a run of one direction of a WebSocket (`masked`: a client's)
    begin beyond doubt: of the places in its first `window` bytes from which at least
    `min_frames` frames follow one another to the run's end (the last one may be cut by
    it), the chain of the most frames, from the place where every other chain that joins it
    has joined it. (Random bytes before the frames, the rest of a frame begun before the run,
    hold headers that chain into the true frames in about 1 run in 100, and skip some of
    them in 1 to 3 in 3,000: taking the earliest place let those frames pass unread.) Each
    header as RFC 6455 §5.2 allows it (RSV2/RSV3 clear, RSV1 only on a data message's first
    frame, a known opcode, control frames whole and short, masked as the direction is) and
    in an order it allows (a continuation only inside a fragmented message, a new message
    only outside one); None when there is none. Each place's frame is read once for each of
    the two orders it may be in (inside a message or not)."""
    n = len(stream)
    # (place, inside a fragmented message): frames from it to the end, -1 when they do not
    # get there
    to_end: dict[tuple[int, bool], int] = {(n, False): 0, (n, True): 0}

    def frames_from(p: int, inside: bool) -> int:
        path = []
        while (p, inside) not in to_end:
            if not _PLAUSIBLE[inside][stream[p]]:  # (most places fail here: looked at first)
                to_end[(p, inside)] = -1
                break
            frame = read_frame(stream, p)
            if frame is None:  # a header cut by the run's end (or no room for one)
                ok = n - p < 14 and (n - p < 2 or bool(stream[p + 1] & 0x80) == masked)
                to_end[(p, inside)] = 1 if ok else -1
                break
            first, data, length, key = frame
            if bool(key) != masked or (first & 8 and length > 125):
                to_end[(p, inside)] = -1
                break
            if data + length >= n:  # the last frame: ends with the run, or cut by it
                to_end[(p, inside)] = 1
                break
            path.append((p, inside))
            if not first & 8:  # a data frame: inside a message until one with FIN
                inside = not first & 0x80
            p = data + length
        frames = to_end[(p, inside)]
        for place in reversed(path):
            frames = frames + 1 if frames >= 0 else -1
            to_end[place] = frames
        return frames

    # Most places fail on their first two bytes: those are looked at first, for all places
    # at once (in random bytes, 1 in 40 goes on; one by one, 13 times faster than reading
    # each place's header, bench/capture_scaling_report.py, RESULTS; at once, 1.5 times
    # faster again).
    head = np.frombuffer(stream, np.uint8, count=min(window + 1, n))
    may = _MAY_START_NP[head[: min(window, n)]]
    may[: len(head) - 1] &= (head[1:] & 0x80) == (0x80 if masked else 0)
    starts = []  # (frames to the end, place)
    for p in np.flatnonzero(may).tolist():
        frames = max(frames_from(p, False), frames_from(p, True))
        if frames >= min_frames:
            starts.append((frames, p))
    if not starts:
        return None
    # The chain of the most frames (the earliest of them), and the first of its places where
    # every other chain that joins it has joined it: a place before that is read one way by
    # one chain and another way by another, so frames are taken only from there on.
    _, best = max(starts, key=lambda s: (s[0], -s[1]))
    trunk: list[int] = []  # its places
    at = best
    while at < n and (frame := read_frame(stream, at)) is not None:
        trunk.append(at)
        at = frame[1] + frame[2]
    # Where each place's frames join the trunk (its index; -1: never). Remembered for every
    # place walked, so that each is walked once: chains that never join it (two chains of
    # crafted two-byte frames side by side) would otherwise be walked to the end from each
    # of their places, time quadratic in the run.
    on_trunk = {at: i for i, at in enumerate(trunk)}
    joins = dict(on_trunk)
    joined = 0
    for _, p in starts:
        path, at = [], p
        while at not in joins:
            frame = read_frame(stream, at) if at < n else None
            if frame is None:
                joins[at] = -1
                break
            path.append(at)
            at = frame[1] + frame[2]
        for q in path:
            joins[q] = joins[at]
        # It reads trunk frames otherwise (it starts inside one, or skips some) unless it
        # starts before the trunk and joins it at its start.
        j = joins[p]
        if p not in on_trunk and j >= 0 and (p > trunk[0] or j > 0):
            joined = max(joined, j)
    return trunk[joined]


def _plausible_header(first: int, inside: bool) -> bool:
    """A frame header's first byte as a sender writes it, inside a fragmented message or
    not."""
    opcode = first & 0x0F
    if first & 0x30 or opcode not in (0, 1, 2, 8, 9, 10):
        return False
    if opcode >= 8:
        return bool(first & 0x80) and not first & 0x40  # control frames: whole, no RSV1
    if (opcode == 0) != inside:  # a continuation inside a message, a new one outside
        return False
    return not (first & 0x40 and opcode == 0)  # RSV1 on a message's first frame only


# First bytes that may start a frame outside a fragmented message and inside one, and either.
_PLAUSIBLE = tuple(bytes(_plausible_header(b, i) for b in range(256)) for i in (False, True))
_MAY_START_NP = np.array([a or b for a, b in zip(*_PLAUSIBLE, strict=True)], dtype=bool)


# The frames a run of a connection caught after its handshake must show, one after another
# to its end, to be taken for a WebSocket's (the last one may be cut by the run's end).
CAUGHT_FRAMES = 4


def redact_caught(
    stream: bytearray,
    sweeps: Sequence[http_bodies.Sweep],
    budget: http_bodies.Budget | None = None,
) -> tuple[bytearray, list[int], int] | None:
    """A run of a TCP connection that shows no protocol pcifilter reads, the capture
    maybe caught after a WebSocket handshake negotiated permessage-deflate (a chat widget's
    or CRM's, its messages compressed: no digit shows in them): when its frames are found
    (frame_chain_start, one direction or the other: a client's masked, a server's not, at
    least CAUGHT_FRAMES of them) and one of its messages is compressed, it is redacted as a
    run after a loss is (redact_after_loss: the window of the messages before is not
    known), else None (the run is no such WebSocket, or holds no compressed message: its
    text is the C++ sweeps'). Random bytes (a TLS connection's) with a segment that starts
    like a compressed message's frame pass with 3 frames about 1 run in 1,000, with 4 one
    in 30,000 (bench/caught_websocket_report.py; such a segment starts about one segment
    in 10,000): their bytes are then replaced."""
    for client in (True, False):
        start = frame_chain_start(stream, masked=client, min_frames=CAUGHT_FRAMES)
        if start is not None and any(compressed for compressed, _, _ in messages(stream, start)):
            return redact_after_loss(stream, client, sweeps, start, budget)
    return None


def redact_after_loss(
    stream: bytearray,
    client: bool,
    sweeps: Sequence[http_bodies.Sweep],
    start: int | None = None,
    budget: http_bodies.Budget | None = None,
) -> tuple[bytearray, list[int], int]:
    """A run, after a segment the capture lost, of one direction of a WebSocket whose
    handshake negotiated permessage-deflate (an earlier run): its messages may be compressed
    and the compression context is gone. From where its frames are found
    (frame_chain_start) its compressed messages are read afresh, and replaced whole when
    that fails or they hold something (redact_compressed); the bytes before that
    (the rest of a frame begun before the loss: part of a compressed message, maybe) and the
    first message found (in about 1 run in 100 of random bytes before the frames, some of
    them read as a message that ends where the frames begin), or the whole run when no
    frames are found in its first 16 KiB, are replaced by X's. (The search costs about
    0.2 us a byte of those 16 KiB of random bytes, once a run; `start`: where it found
    them, when the caller looked already.)"""
    if start is None:
        start = frame_chain_start(stream, masked=client)
    if start is None:
        return bytearray(b"X" * len(stream)), [0] * len(sweeps), 1
    first = next(messages(stream, start), None)
    _, frames, _ = first if first else (False, [(start, 0, b"")], start)
    end = frames[-1][0] + frames[-1][1]
    out = bytearray(stream)
    out[:end] = b"X" * end
    out, found, unread = redact_compressed(out, end, sweeps, context=False, budget=budget)
    return out, found, unread + 1


def redact_compressed(
    stream: bytearray,
    at: int,
    sweeps: Sequence[http_bodies.Sweep],
    context: bool = True,
    budget: http_bodies.Budget | None = None,
) -> tuple[bytearray, list[int], int]:
    """The compressed messages (permessage-deflate, RFC 7692: RSV1 on a message's first
    frame) of a WebSocket stream whose frames begin at `at` (its handshake's end), each
    unmasked (a client's), inflated (the sender's window carried from message to message,
    as the extension's default "context takeover" has it; read afresh when that fails) and
    swept with `sweeps`. A message that holds something, or that cannot be inflated whole
    (its context lost with a segment the capture missed; more than MAX_DECODED, or past the
    stream's decoding budget, http_bodies.Budget: it may hold anything), is replaced whole by
    X's (masked again with its frames' keys); the others are left bit for bit.
    Their uncompressed messages are the C++ sweeps' (Capture.redact_text). Not `context`:
    the window before `at` is not known (a run after a segment the capture lost): each
    message is read afresh, and uncompressed ones are replaced too until a compressed one
    is read (before that, the frames may be bytes of the message the loss cut, read as
    frames). Returns the stream, how many each sweep found, and how many messages were
    replaced unread. `budget`: a capture's, shared, else the stream's own."""
    out = bytearray(stream)
    found = [0] * len(sweeps)
    window = zlib.decompressobj(wbits=-15)
    budget = budget or http_bodies.Budget(len(stream))  # as for HTTP bodies: past it, not read
    cut = not context  # a message before was inflated only in part: the window is unknown
    trusted = context  # frames read so far as they were sent
    unread = 0
    for compressed, frames, _ in messages(stream, at):
        places = [(d + i, k[i % 4] if k else 0) for d, n, k in frames for i in range(n)]
        if not compressed:
            if not trusted:
                for p, m in places:
                    out[p] = ord("X") ^ m
                unread += 1
            continue
        message = bytes(stream[p] ^ m for p, m in places) + b"\x00\x00\xff\xff"
        text = None
        limit = budget.limit()  # 0: none left, not read
        for fresh in ((True,) if cut else (False, True)) if limit else ():
            if fresh:
                window = zlib.decompressobj(wbits=-15)
            try:
                text = budget.spend(window.decompress(message, limit))
            except zlib.error:
                continue
            # Inflated only in part (MAX_DECODED, or the budget): not read whole, and the
            # window after it unknown (read afresh from the next message on)
            cut = bool(window.unconsumed_tail)
            text = None if cut else text
            break
        unread += text is None
        trusted |= text is not None
        if text is None or http_bodies.swept(text, sweeps, found)[1]:
            for p, m in places:
                out[p] = ord("X") ^ m
    return out, found, unread
