# SPDX-License-Identifier: Apache-2.0
"""Real-time text (RFC 4103: T.140 over RTP) in a capture: card numbers typed there masked.

A caller who types instead of speaking (real-time text, which accessibility rules now ask
services with voice to carry beside it) sends each keystroke as it is typed: a T.140 packet
holds a character or a few, most often with RFC 2198 redundancy (the "red" payload type),
each packet repeating the text of the one or two before it. No packet holds a card number,
so the capture's sweep over datagrams cannot find one (and skips RTP flows anyway). Here a
text stream is put back together as its receiver shows it: each packet's new text in
timestamp order (from a redundant copy when the packet itself was lost), erasures (T.140's
backspace, U+0008) applied; that text is swept for card numbers, and each character of one
found becomes 'X' in the packet that first carried it and in every redundant copy.

Hand-written: no Python library reads RFC 4103/2198 payloads (aiortc and pjsip handle
audio and video only).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pcifilter.http_bodies import Sweep
from pcifilter.rtp import RtpPacket

_BACKSPACE = 0x08
_RTPMAP = re.compile(r"(?i)^a=rtpmap:(\d+)\s+(t140|red)/1000")


def text_streams(sdp: str) -> dict[int, tuple[set[int], set[int]]]:
    """Each m=text line's port in an SDP body, with its T.140 and its "red" payload types
    (at 1000 Hz, RFC 4103 §3); read line by line, as a capture's bodies may be cut short."""
    out: dict[int, tuple[set[int], set[int]]] = {}
    port: int | None = None
    for line in sdp.replace("\r", "").split("\n"):
        if line.startswith("m="):
            parts = line[2:].split()
            text = len(parts) > 1 and parts[0] == "text" and parts[1].isdigit()
            port = int(parts[1]) if text and int(parts[1]) > 0 else None
            if port is not None:
                out.setdefault(port, (set(), set()))
        elif port is not None and (m := _RTPMAP.match(line)):
            pt, name = int(m.group(1)), m.group(2).lower()
            out[port][0 if name == "t140" else 1].add(pt)
    return out


def _blocks(
    packet: RtpPacket, at: int, t140: set[int], red: set[int]
) -> Iterable[tuple[int, int, int]]:
    """The text blocks of a packet whose payload starts at `at` in its datagram: (RTP
    timestamp of the text, where it starts in the datagram, its length); a RED packet's
    redundant blocks first (RFC 2198 §3), its primary last; an empty list for another
    payload type or a RED header that overruns the payload (read as holding no text)."""
    data = packet.payload
    if packet.payload_type in t140:
        return [(packet.timestamp, at, len(data))]
    if packet.payload_type not in red:
        return []
    headers: list[tuple[int, int]] = []  # (timestamp offset, length) of each redundant block
    i = 0
    while i < len(data) and data[i] & 0x80:
        if i + 4 > len(data):
            return []
        offset = (data[i + 1] << 6) | (data[i + 2] >> 2)  # 14 bits
        headers.append((offset, ((data[i + 2] & 3) << 8) | data[i + 3]))  # length: 10 bits
        i += 4
    if i >= len(data):
        return []
    i += 1  # the primary's one-byte header
    blocks = []
    for offset, length in headers:
        if i + length > len(data):
            return []
        blocks.append(((packet.timestamp - offset) % (1 << 32), at + i, length))
        i += length
    blocks.append((packet.timestamp, at + i, len(data) - i))
    return blocks


def mask_typed_cards(
    packets: list[tuple[int, bytes]], t140: set[int], red: set[int], sweep: Sweep
) -> tuple[dict[int, bytes], int]:
    """One text stream's packets (frame, datagram payload) in capture order: the new
    payloads of the frames where a card number typed in it was masked, and how many were."""
    # Every copy of each timestamp's text: (frame, where in its datagram, length).
    copies: dict[int, list[tuple[int, int, int]]] = {}
    order: list[int] = []  # the timestamps, in the order their text was first seen
    payloads = dict(packets)
    for frame, data in packets:
        try:
            packet = RtpPacket.parse(data)
        except ValueError:
            continue
        at = len(data) - packet.padding_size - len(packet.payload)
        for ts, start, length in _blocks(packet, at, t140, red):
            if length == 0:
                continue
            if ts not in copies:
                copies[ts] = []
                order.append(ts)
            copies[ts].append((frame, start, length))
    # The text as shown, and for each of its bytes every place it was sent.
    shown = bytearray()
    places: list[list[tuple[int, int]]] = []
    for ts in sorted(order, key=lambda t: ((t - order[0] + (1 << 31)) % (1 << 32)) - (1 << 31)):
        frame, start, length = copies[ts][0]
        for k in range(length):
            byte = payloads[frame][start + k]
            # every copy's byte at that place (a copy of another length too: masking its
            # byte there costs nothing, leaving a digit of a card in it would)
            where = [(f, s + k) for f, s, n in copies[ts] if k < n]
            if byte == _BACKSPACE:
                while shown and (shown[-1] & 0xC0) == 0x80:  # a UTF-8 character's tail
                    shown.pop()
                    places.pop()
                if shown:
                    shown.pop()
                    places.pop()
            else:
                shown.append(byte)
                places.append(where)
    masked, found = sweep(bytes(shown))
    changed: dict[int, bytearray] = {}
    for k, (before, after) in enumerate(zip(shown, masked, strict=True)):
        if before != after:
            for frame, pos in places[k]:
                changed.setdefault(frame, bytearray(payloads[frame]))[pos] = after
    return {frame: bytes(data) for frame, data in changed.items()}, found
