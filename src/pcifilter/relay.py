# SPDX-License-Identifier: Apache-2.0
"""Keypresses and SRTP keys in a media relay's control messages and DTMF logs (for captures).

rtpengine, the media relay Kamailio and OpenSIPS drive (and whose protocol pcifilter's node
is to speak), is controlled with its "ng" protocol: each message a cookie, a space and a
dictionary, bencoded or JSON. Offers and answers carry the call's whole SDP, SRTP keys
included (a=crypto inline keys, a=key-mgmt data, in the request's SDP and in the one the
relay answers with); a "play DTMF" request carries a keypress ("code" or "digit"), a DTMF
notification ("notify": "onDTMF") and the relay's DTMF log (JSON with "type": "DTMF", sent
to its dtmf-log-dest over UDP or to syslog) one each ("event"). A capture taken beside the
relay holds all of them: each is found here and replaced by 'X', same length. A bencoded
integer becomes a string of X's of the same length where one fits ("i7e" -> "1:X"), so that
the message still decodes; a JSON number becomes X's, which no longer parses as JSON (as a
SIP body's "Signal=X" no longer is a keypress). The SDP in an offer or answer is returned
too: it tells which ports carry the call's RTP, and whether it is SRTP."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from pcifilter.sdp import srtp_key_spans

# Keys whose values are keypresses: "code"/"digit" (play DTMF; the DTMF-security=DTMF
# replacement digit) and "event" (onDTMF notifications, the DTMF log). Masking a value that
# is no keypress costs nothing; leaving one costs a card number.
_DTMF_KEYS = frozenset({b"code", b"digit", b"event"})
# An ng message: a cookie (printable, no space), one space, a dictionary.
_NG = re.compile(rb"[!-~]{1,256} (?=[d{])")
_BENCODE_INT = re.compile(rb"i(-?[0-9]{1,64})e")
_BENCODE_LEN = re.compile(rb"([0-9]{1,9}):")
_MAX_DEPTH = 32  # rtpengine's messages nest 3 deep; a hostile one is read as text

# JSON, read as text (the standard parser gives no positions): a keypress key's value, a
# string (up to 256 characters: an unterminated one is masked as far as that) or a number;
# and SRTP keys in an SDP held as a JSON string, where line breaks are "\r\n" escapes and
# "/" may be "\/".
_JSON_DTMF = re.compile(
    rb'"(?:code|digit|event)"[ \t\r\n]*:[ \t\r\n]*'
    rb'(?:"((?:[^"\\]|\\.){0,256})|(-?[0-9][0-9.eE+-]{0,63}))'
)
_JSON_INLINE = re.compile(rb"(?i)inline:((?:[^|;\s\"\\]|\\/)+)")
_JSON_KEY_MGMT = re.compile(rb'(?i)a=key-mgmt:[ \t]*(?:[^ \t"\\]|\\/)+[ \t]+((?:[^"\\]|\\/)+)')
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


def _bencode_spans(
    payload: bytes, at: int
) -> tuple[list[tuple[int, int, bytes]], list[tuple[int, int]], list[bytes]]:
    """Keypresses (span, replacement), SRTP key spans and the SDPs of a bencoded ng
    message whose dictionary starts at `at`."""
    values: list[tuple[bytes, int, int, bool]] = []
    end = _bencoded(payload, at, b"", 0, values)
    if payload[end:].strip():
        raise _NotBencodeError("more after the dictionary")
    dtmf: list[tuple[int, int, bytes]] = []
    keys: list[tuple[int, int]] = []
    sdps: list[bytes] = []
    for key, a, b, integer in values:
        if key in _DTMF_KEYS:
            dtmf.append((a, b, _masked_int(b - a) if integer else b"X" * (b - a)))
        elif key == b"sdp" and not integer:
            sdps.append(payload[a:b])
            keys += [(a + x, a + y) for x, y in srtp_key_spans(payload[a:b])]
    return dtmf, keys, sdps


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


def _json_sdps(text: bytes) -> list[bytes]:
    """The "sdp" strings of a JSON ng message (for its streams), if it parses."""
    try:
        found = json.loads(text)
    except ValueError:
        return []
    out: list[bytes] = []
    stack = [found]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            out += [
                v.encode("utf-8", "replace")
                for k, v in value.items()
                if k == "sdp" and isinstance(v, str)
            ]
            stack += list(value.values())
        elif isinstance(value, list):
            stack += value
    return out


def may_be_relay_message(payload: bytes) -> bool:
    """Whether a datagram (not RTP) may be a media relay's control message or DTMF log: the
    capture's own test (csrc/pcifilter/capture.cpp), for datagrams it reassembles here."""
    return _NG.match(payload) is not None or b'"DTMF"' in payload


def redact_relay_message(
    payload: bytes, redact_dtmf: bool = True
) -> tuple[bytes, bool, bool, list[bytes]]:
    """A UDP datagram that may be a media relay's control message or DTMF log (see the
    module's docstring), with its keypresses (unless not `redact_dtmf`) and SRTP keys
    replaced by 'X' (same length). Returns it, whether keypresses and keys were in it, and
    the SDPs it holds (for their streams). A datagram that is neither is returned as it is."""
    ng = _NG.match(payload)
    sdps: list[bytes] = []
    if ng is not None and payload[ng.end() : ng.end() + 1] == b"d":
        try:
            dtmf, keys, sdps = _bencode_spans(payload, ng.end())
        except (_NotBencodeError, ValueError):  # cut short, or not bencode: read as text
            dtmf = list(_loose_bencode_dtmf(payload))
            keys = list(srtp_key_spans(payload))
            json_dtmf, json_keys = _json_spans(payload)
            dtmf, keys = dtmf + json_dtmf, keys + json_keys
    else:
        dtmf, keys = _json_spans(payload)
        keys += srtp_key_spans(payload)  # an SDP in a syslog line, not escaped
        if ng is not None:
            sdps = _json_sdps(payload[ng.end() :])
    out = bytearray(payload)
    if redact_dtmf:
        for a, b, masked in dtmf:
            out[a:b] = masked
    for a, b in keys:
        out[a:b] = b"X" * (b - a)
    redacted = bytes(out)
    had_dtmf = redact_dtmf and any(payload[a:b] != masked for a, b, masked in dtmf)
    had_keys = any(payload[a:b] != b"X" * (b - a) for a, b in keys)
    return redacted, had_dtmf, had_keys, sdps
