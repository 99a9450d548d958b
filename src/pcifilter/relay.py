# SPDX-License-Identifier: Apache-2.0
"""Keypresses and SRTP keys in a media relay's control messages and DTMF logs (for captures).

rtpengine, the media relay Kamailio and OpenSIPS drive (and whose protocol pcifilter's node
is to speak), is controlled with its "ng" protocol: each message a cookie, a space and a
dictionary, bencoded or JSON, over UDP, WebSocket or HTTP, or one after another over TCP.
Offers and answers carry the call's whole SDP, SRTP keys included (a=crypto inline keys,
a=key-mgmt data, in the request's SDP and in the one the relay answers with); a "play DTMF"
request carries a keypress ("code" or "digit"), a DTMF notification ("notify": "onDTMF")
and the relay's DTMF log (JSON with "type": "DTMF", sent to its dtmf-log-dest over UDP or
to syslog) one each ("event"). A capture taken beside the relay holds all of them: each is
found here and replaced by 'X', same length. A bencoded integer becomes a string of X's of
the same length where one fits ("i7e" -> "1:X"), so that the message still decodes; a JSON
number becomes X's, which no longer parses as JSON (as a SIP body's "Signal=X" no longer is
a keypress). The SDP in an offer or answer is returned too: it tells which ports carry the
call's RTP, and whether it is SRTP."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator

from pcifilter.sdp import srtp_key_spans

# Keys whose values are keypresses: "code"/"digit" (play DTMF; the DTMF-security=DTMF
# replacement digit) and "event" (onDTMF notifications, the DTMF log). Masking a value that
# is no keypress costs nothing; leaving one costs a card number.
_DTMF_KEYS = frozenset({b"code", b"digit", b"event"})
# An ng message: a cookie (printable, no space), one space, a dictionary: bencode's "d" and
# a key's length, or JSON's "{" and a key, its end or blank (a line of text such as
# "Subject: details" is none; an ng message always holds "command" or "result"). The
# capture's own test is the same (csrc/pcifilter/signalling.cpp).
_NG = re.compile(rb'[!-~]{1,256} (?=d[0-9]|\{[" \t\r\n}])')
_BENCODE_INT = re.compile(rb"i(-?[0-9]{1,64})e")
_BENCODE_LEN = re.compile(rb"([0-9]{1,9}):")
_MAX_DEPTH = 32  # rtpengine's messages nest 3 deep; a hostile one is read as text

# JSON, read as text (the standard parser gives no positions): a keypress key's value, a
# string (up to 256 characters: an unterminated one is masked as far as that) or a number;
# and SRTP keys in an SDP held as a JSON string, where line breaks are "\r\n" escapes and
# "/" may be "\/" (read anywhere, "a=" or not: a message read as text may start mid-line).
_JSON_DTMF = re.compile(
    rb'"(?:code|digit|event)"[ \t\r\n]*:[ \t\r\n]*'
    rb'(?:"((?:[^"\\]|\\.){0,256})|(-?[0-9][0-9.eE+-]{0,63}))'
)
_JSON_INLINE = re.compile(rb"(?i)inline:((?:[^|;\s\"\\]|\\/)+)")
_JSON_KEY_MGMT = re.compile(rb'(?i)key-mgmt:[ \t]*(?:[^ \t"\\]|\\/)+[ \t]+((?:[^"\\\r\n]|\\/)+)')
# A bencoded message that is not whole (cut by the capture's snap length, or hostile), read
# as text: a keypress key and its value's start (an integer's "e" may be cut off).
_LOOSE_BENCODE_DTMF = re.compile(rb"(?:4:code|5:digit|5:event)(?:i(-?[0-9]+)|([0-9]+):)")


class _NotBencodeError(ValueError):
    pass


def _bencoded(
    data: bytes, at: int, key: bytes, depth: int, out: list[tuple[bytes, int, int, bool]]
) -> int:
    """Reads the bencoded value at `at` (a dictionary's value under `key`, or an item of a
    list under it), noting each string (its content's span) and integer (its whole span,
    "i...e") with the key it stands under; returns where the value ends. Keys in any order
    (rtpengine does not sort them, against the bencode rules).

    Hand-written: bencode packages decode to Python objects and say nothing of where each
    value lies, which redacting in place needs."""
    if depth > _MAX_DEPTH:
        raise _NotBencodeError("nested too deep")
    kind = data[at : at + 1]
    if kind == b"i":
        m = _BENCODE_INT.match(data, at)
        if m is None:
            raise _NotBencodeError("bad integer")
        out.append((key, at, m.end(), True))
        return m.end()
    if kind.isdigit():
        m = _BENCODE_LEN.match(data, at)
        if m is None or m.end() + int(m.group(1)) > len(data):
            raise _NotBencodeError("bad string")
        out.append((key, m.end(), m.end() + int(m.group(1)), False))
        return m.end() + int(m.group(1))
    if kind not in (b"d", b"l"):
        raise _NotBencodeError("not a value")
    at += 1
    while data[at : at + 1] != b"e":
        if at >= len(data):
            raise _NotBencodeError("cut short")
        item_key = key
        if kind == b"d":
            m = _BENCODE_LEN.match(data, at)
            if m is None or m.end() + int(m.group(1)) > len(data):
                raise _NotBencodeError("bad key")
            at = m.end() + int(m.group(1))
            item_key = data[m.end() : at]
        at = _bencoded(data, at, item_key, depth + 1, out)
    return at + 1


def _masked_int(length: int) -> bytes:
    """`length` bytes that replace a bencoded integer: a string of X's when one fits
    (k digits "i...e" -> "k:" and k X's for k < 10), so that the message still decodes."""
    for n in range(length):
        if len(str(n)) + 1 + n == length:
            return str(n).encode() + b":" + b"X" * n
    return b"i" + b"X" * (length - 2) + b"e"


# What a message holds: keypress values (span, replacement), SRTP key spans, its SDPs.
_Found = tuple[list[tuple[int, int, bytes]], list[tuple[int, int]], list[bytes]]


def _latin1(data: bytes) -> Callable[[], str]:
    """`data` as text, one character per byte (so the JSON parser's offsets are the bytes'),
    decoded once when first asked for: a connection's JSON messages are read from one text
    (decoded again for each, a long connection took time quadratic in its messages)."""
    return functools.cache(lambda: data.decode("latin-1"))


def _ng_message(data: bytes, at: int, text: Callable[[], str]) -> tuple[_Found, int]:
    """The ng message whose cookie starts at `at` (its dictionary bencoded or JSON): what it
    holds (offsets in `data`, `text` being it decoded), and where it ends. Raises
    ValueError (or RecursionError: JSON nested past the parser's depth) when it is not
    whole."""
    cookie = _NG.match(data, at)
    if cookie is None:
        raise _NotBencodeError("no message starts here")
    start = cookie.end()
    dtmf: list[tuple[int, int, bytes]] = []
    keys: list[tuple[int, int]] = []
    sdps: list[bytes] = []
    if data[start : start + 1] == b"{":
        value, end = json.JSONDecoder().raw_decode(text(), start)
        json_dtmf, json_keys = _json_spans(data[start:end])
        dtmf += [(a + start, b + start, r) for a, b, r in json_dtmf]
        keys += [(a + start, b + start) for a, b in json_keys]
        sdps += [sdp.encode("latin-1", "replace") for sdp in _json_sdps(value)]
        return (dtmf, keys, sdps), end
    values: list[tuple[bytes, int, int, bool]] = []
    end = _bencoded(data, start, b"", 0, values)
    for key, a, b, integer in values:
        if key in _DTMF_KEYS:
            dtmf.append((a, b, _masked_int(b - a) if integer else b"X" * (b - a)))
        elif key == b"sdp" and not integer:
            sdps.append(data[a:b])
            keys += [(a + x, a + y) for x, y in srtp_key_spans(data[a:b])]
    return (dtmf, keys, sdps), end


def _as_text(data: bytes) -> _Found:
    """A message, or what is left of a stream of them, that does not read whole: keypress
    keys and SRTP keys looked for as text, bencoded and JSON forms alike."""
    json_dtmf, json_keys = _json_spans(data)
    return list(_loose_bencode_dtmf(data)) + json_dtmf, srtp_key_spans(data) + json_keys, []


def _loose_bencode_dtmf(payload: bytes) -> Iterator[tuple[int, int, bytes]]:
    for m in _LOOSE_BENCODE_DTMF.finditer(payload):
        if m.group(1) is not None:
            yield m.start(1), m.end(1), b"X" * len(m.group(1))
        else:
            n = int(m.group(2)) if len(m.group(2)) <= 18 else len(payload)  # past the end
            end = min(m.end() + n, len(payload))
            yield m.end(), end, b"X" * (end - m.end())


def _json_spans(payload: bytes) -> tuple[list[tuple[int, int, bytes]], list[tuple[int, int]]]:
    dtmf = []
    for m in _JSON_DTMF.finditer(payload):
        group = 1 if m.group(1) is not None else 2
        dtmf.append((m.start(group), m.end(group), b"X" * (m.end(group) - m.start(group))))
    keys = [m.span(1) for m in _JSON_INLINE.finditer(payload)]
    keys += [m.span(1) for m in _JSON_KEY_MGMT.finditer(payload)]
    return dtmf, keys


def _json_sdps(value: object) -> list[str]:
    """The "sdp" strings anywhere in a parsed JSON ng message (for its streams)."""
    out: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            out += [v for k, v in item.items() if k == "sdp" and isinstance(v, str)]
            stack += list(item.values())
        elif isinstance(item, list):
            stack += item
    return out


def may_be_relay_message(payload: bytes) -> bool:
    """Whether a datagram (not RTP) may be a media relay's control message or DTMF log: the
    capture's own test (csrc/pcifilter/signalling.cpp), for datagrams it reassembles here,
    but for a media gateway's messages, which the C++ test takes in too and pcifilter.pcap
    adds with pcifilter.gateway.starts_gateway_control."""
    return starts_ng_message(payload) or b'"DTMF"' in payload


def starts_ng_message(data: bytes) -> bool:
    """Whether `data` starts an ng message (a cookie, a space, a dictionary): a TCP segment
    that does is read as part of an ng connection (rtpengine's listen-tcp-ng)."""
    return _NG.match(data) is not None


def _redacted(data: bytes, found: _Found, redact_dtmf: bool) -> tuple[bytes, bool, bool]:
    dtmf, keys, _ = found
    out = bytearray(data)
    if redact_dtmf:
        for a, b, masked in dtmf:
            out[a:b] = masked
    for a, b in keys:
        out[a:b] = b"X" * (b - a)
    had_dtmf = redact_dtmf and any(data[a:b] != masked for a, b, masked in dtmf)
    had_keys = any(data[a:b] != b"X" * (b - a) for a, b in keys)
    return bytes(out), had_dtmf, had_keys


def redact_relay_message(
    payload: bytes, redact_dtmf: bool = True
) -> tuple[bytes, bool, bool, list[bytes]]:
    """A UDP datagram that may be a media relay's control message or DTMF log (see the
    module's docstring), with its keypresses (unless not `redact_dtmf`) and SRTP keys
    replaced by 'X' (same length). Returns it, whether keypresses and keys were in it, and
    the SDPs it holds (for their streams). A datagram that is neither is returned as it is."""
    found: _Found
    if starts_ng_message(payload):
        try:
            found, end = _ng_message(payload, 0, _latin1(payload))
            if payload[end:].strip():
                raise _NotBencodeError("more after the dictionary")
        except (ValueError, RecursionError):  # cut short, hostile, or not ng: read as text
            found = _as_text(payload)
    else:  # a DTMF log: JSON, maybe inside a syslog line
        found = _as_text(payload)
    redacted, had_dtmf, had_keys = _redacted(payload, found, redact_dtmf)
    return redacted, had_dtmf, had_keys, found[2]


def redact_relay_stream(
    stream: bytes, redact_dtmf: bool = True
) -> tuple[bytes, list[tuple[int, bytes]], int, int]:
    """A run of an ng connection over TCP (rtpengine's listen-tcp-ng: messages one after
    another, each a cookie, a space and a dictionary, as over UDP), each message redacted
    as a datagram is; from where the stream stops reading as messages (a segment lost, a
    message cut off, a connection caught mid-message), the rest is read as text. Returns the
    stream redacted (same length), the SDPs with the offset of their message's end, and how
    many messages held keypresses and keys."""
    out = bytearray(stream)
    sdps: list[tuple[int, bytes]] = []
    dtmf = keys = 0
    at = 0
    text = _latin1(stream)
    while at < len(stream):
        try:
            found, end = _ng_message(stream, at, text)
            found = _shifted(found, -at)  # (offsets in the message, as _redacted takes them)
        except (ValueError, RecursionError):
            found, end = _as_text(stream[at:]), len(stream)
        piece, had_dtmf, had_keys = _redacted(stream[at:end], found, redact_dtmf)
        out[at:end] = piece
        sdps += [(end, sdp) for sdp in found[2]]
        dtmf += had_dtmf
        keys += had_keys
        at = end
        while at < len(stream) and stream[at : at + 1].isspace():
            at += 1
    return bytes(out), sdps, dtmf, keys


def _shifted(found: _Found, by: int) -> _Found:
    dtmf, keys, sdps = found
    return [(a + by, b + by, r) for a, b, r in dtmf], [(a + by, b + by) for a, b in keys], sdps


# Syslog over TCP (RFC 6587: "<PRI>..." or its length, a space and it): where the relay's
# DTMF log may be forwarded. The capture's own test is the same (csrc/pcifilter/signalling.cpp).
_SYSLOG = re.compile(rb"(?:[0-9]{1,10} )?<[0-9]{1,3}>")
_OCTET_COUNT = re.compile(rb"([0-9]{1,10}) (?=<[0-9]{1,3}>)")


def starts_syslog(data: bytes) -> bool:
    return _SYSLOG.match(data) is not None


def redact_syslog_stream(stream: bytes, redact_dtmf: bool = True) -> tuple[bytes, int]:
    """A run of syslog over TCP with, in each message that names "DTMF" (the relay's DTMF
    log), the keypress values and SRTP keys replaced by 'X' (same length), and how many
    messages held a keypress; other messages (other programs' logs) are left as they are."""
    out = bytearray(stream)
    found = 0
    at = 0
    while at < len(stream):
        counted = _OCTET_COUNT.match(stream, at)  # RFC 6587 §3.4.1, else one a line (§3.4.2)
        if counted is not None:
            end = min(counted.end() + int(counted.group(1)), len(stream))
        else:
            end = stream.find(b"\n", at)
            end = len(stream) if end < 0 else end + 1
        if b'"DTMF"' in stream[at:end]:
            line, had_dtmf, _ = _redacted(stream[at:end], _as_text(stream[at:end]), redact_dtmf)
            out[at:end] = line
            found += had_dtmf
        at = end
    return bytes(out), found
