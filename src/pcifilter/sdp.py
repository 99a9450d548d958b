# SPDX-License-Identifier: Apache-2.0
"""The audio parts of SDP (RFC 8866) as typed objects, read and written with sdp-transform.

`SessionDescription.parse` checks what the filters rely on and raises ValueError with a
precise message otherwise; `serialize` writes the description back, with any change made to
its `audio` media (port, address, direction: what a node rewrites on the path 6 -> 7).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sdp_transform  # type: ignore[import-untyped]  # no stubs published

# RFC 3551 static payload types a media line may list without an rtpmap.
STATIC_AUDIO = {
    0: ("PCMU", 8000),
    3: ("GSM", 8000),
    4: ("G723", 8000),
    8: ("PCMA", 8000),
    9: ("G722", 8000),
    13: ("CN", 8000),
    18: ("G729", 8000),
}
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")

# SRTP keys in SDP text: SDES (RFC 4568) "a=crypto:<tag> <suite> inline:<key>[|...][;inline:...]"
# and MIKEY (RFC 4567) "a=key-mgmt:<protocol> <data>".
_SDES_KEY = re.compile(rb"(?i)inline:([^|;\s]+)")
_CRYPTO_LINE = re.compile(rb"(?im)^a=crypto:[^\r\n]*")
_KEY_MGMT = re.compile(rb"(?im)^a=key-mgmt:[ \t]*\S+[ \t]+([^\r\n]*[^ \t\r\n]|)[ \t]*\r?$")


def srtp_key_spans(text: bytes) -> list[tuple[int, int]]:
    """Where the SRTP keys lie in SDP text (a=crypto inline keys, a=key-mgmt data), for
    redaction; read as text, line by line, so an SDP cut short or inside other text works."""
    spans = [
        key.span(1)
        for line in _CRYPTO_LINE.finditer(text)
        for key in _SDES_KEY.finditer(text, line.start(), line.end())
    ]
    return spans + [m.span(1) for m in _KEY_MGMT.finditer(text)]


@dataclass(frozen=True)
class Codec:
    """One payload type of a media line."""

    payload_type: int
    name: str
    clock_rate: int
    channels: int = 1
    fmtp: str | None = None

    @property
    def kind(self) -> str:
        """'pcmu', 'pcma', 'cn', 'telephone-event', 'opus' or 'other'."""
        n = self.name.lower()
        if n in ("pcmu", "pcma", "cn", "telephone-event", "opus"):
            return n
        return "other"


@dataclass
class AudioMedia:
    """An m=audio line and its attributes. `serialize` writes `payload_types` as they are
    then (e.g. after `keep_payload_types`), with the attributes of those taken out gone."""

    port: int
    protocol: str
    payload_types: list[int]
    codecs: dict[int, Codec]
    address: str | None
    ptime: float | None = None  # ms; RFC 8866 allows a fraction (Opus 2.5)
    direction: str = "sendrecv"
    rtcp_port: int | None = None
    rtcp_mux: bool = False
    _raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def payload_type_of(self, kind: str, clock_rate: int = 8000) -> int | None:
        """The first payload type of a kind ('pcmu', 'telephone-event', ...) at a rate."""
        found = self.payload_types_of(kind, clock_rate)
        return found[0] if found else None

    def payload_types_of(self, kind: str, clock_rate: int = 8000) -> list[int]:
        """Every payload type of a kind at a rate, in the line's order (a codec may be
        listed under two numbers: Opus with two fmtp lines, say)."""
        return [
            pt
            for pt in self.payload_types
            if (c := self.codecs.get(pt)) is not None
            and c.kind == kind
            and c.clock_rate == clock_rate
        ]

    def keep_payload_types(self, keep: Callable[[Codec | None], bool]) -> list[Codec]:
        """Keep only the payload types whose codec `keep` accepts (None: a dynamic type with
        no rtpmap); returns the codecs taken out (a dynamic type with no rtpmap as 'unknown/0')."""
        removed = dict.fromkeys(pt for pt in self.payload_types if not keep(self.codecs.get(pt)))
        self.payload_types = [pt for pt in self.payload_types if pt not in removed]
        gone = [self.codecs.get(pt) or Codec(pt, "unknown", 0) for pt in removed]
        self.codecs = {pt: c for pt, c in self.codecs.items() if pt not in removed}
        return gone


def _address(part: dict[str, Any], where: str) -> str | None:
    """The c= address of the session or of a media line. sdp-transform reads a number where
    an address should be ("c=IN IP4 127.01") as a number: no address or host name is one."""
    conn = part.get("connection")
    if not isinstance(conn, dict) or "ip" not in conn:
        return None
    ip = conn["ip"]
    if not isinstance(ip, str) or not ip or any(c.isspace() for c in ip):
        raise ValueError(f"{where}: c= must give an IP address or host name, not {ip!r}")
    return ip


def _unwritable(raw: dict[str, Any]) -> str | None:
    """Where a parsed SDP cannot be written back (a line sdp-transform read only in part,
    e.g. "t=0" or "a=ptime:"), else None: found by writing each line of it on its own."""

    def fails(part: dict[str, Any]) -> bool:
        try:
            sdp_transform.write(part)
        except (TypeError, ValueError, KeyError, IndexError, AttributeError):
            return True
        return False

    if not fails(raw):
        return None
    for key, value in raw.items():
        if key != "media" and fails({key: value}):
            return f"its session-level {key!r} line"
    for i, m in enumerate(raw.get("media", [])):
        line = {k: m[k] for k in ("type", "port", "protocol", "payloads") if k in m}
        if fails({"media": [line]}):
            return f"media line {i + 1}"
        for key, value in m.items():
            if fails({"media": [line | {key: value}]}):
                return f"media line {i + 1}'s {key!r} attribute"
    return "a line"


def _media(m: dict[str, Any], session_addr: str | None, index: int) -> AudioMedia:
    where = f"m=audio line {index + 1}"
    port = m.get("port")
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"{where}: port must be 0-65535, not {port!r}")
    fmts = str(m.get("payloads", "")).split()
    if not fmts or not all(f.isdigit() and 0 <= int(f) <= 127 for f in fmts):
        raise ValueError(f"{where}: payload types must be numbers 0-127, not {m.get('payloads')!r}")
    pts = [int(f) for f in fmts]
    fmtp = {int(x["payload"]): str(x["config"]) for x in m.get("fmtp", []) if "payload" in x}
    codecs: dict[int, Codec] = {}
    for r in m.get("rtp", []):
        pt, rate = r.get("payload"), r.get("rate")
        if not isinstance(pt, int) or pt not in pts:
            raise ValueError(
                f"{where}: rtpmap for payload type {pt!r}, which the m= line does not list"
            )
        if not isinstance(rate, int) or rate <= 0:
            raise ValueError(f"{where}: rtpmap {pt} needs a clock rate")
        channels = int(r.get("encoding") or 1)
        codecs[pt] = Codec(pt, str(r.get("codec", "")), rate, channels, fmtp.get(pt))
    for pt in pts:
        if pt not in codecs and pt in STATIC_AUDIO:
            name, rate = STATIC_AUDIO[pt]
            codecs[pt] = Codec(pt, name, rate, 1, fmtp.get(pt))
    conn = _address(m, where)
    ptime = m.get("ptime")
    number = isinstance(ptime, int | float) and not isinstance(ptime, bool)
    if ptime is not None and not (number and ptime > 0):
        raise ValueError(f"{where}: a=ptime must be a number of milliseconds, not {ptime!r}")
    direction = str(m.get("direction", "sendrecv"))
    if direction not in DIRECTIONS:
        raise ValueError(f"{where}: direction must be one of {DIRECTIONS}, not {direction!r}")
    rtcp = m.get("rtcp", {}).get("port") if isinstance(m.get("rtcp"), dict) else None
    if rtcp is not None and (not isinstance(rtcp, int) or not 0 <= rtcp <= 65535):
        raise ValueError(f"{where}: a=rtcp port must be 0-65535, not {rtcp!r}")
    return AudioMedia(
        port,
        str(m.get("protocol", "")),
        pts,
        codecs,
        conn or session_addr,
        ptime,
        direction,
        rtcp,
        bool(m.get("rtcpMux")),
        m,
    )


# sdp-transform's lists of per-payload-type attributes (a=rtpmap, a=fmtp, a=rtcp-fb, and
# a=rtcp-fb's trr-int): their entries for a payload type no longer listed go with it.
_PER_PAYLOAD = ("rtp", "fmtp", "rtcpFb", "rtcpFbTrrInt")


def _write_payload_types(m: dict[str, Any], pts: list[int], where: str) -> None:
    """Set a raw media line's formats to `pts` (a subset of its own, in any order), taking
    out the attributes of the payload types dropped; "*" (every type) stays."""
    if [int(f) for f in str(m.get("payloads", "")).split()] == pts:
        return
    if not pts:
        raise ValueError(f"{where}: an m= line must list at least one payload type")
    m["payloads"] = " ".join(str(pt) for pt in pts)
    kept = set(pts)
    for key in _PER_PAYLOAD:
        if key in m:
            m[key] = [x for x in m[key] if x.get("payload") in kept or x.get("payload") == "*"]


@dataclass
class SessionDescription:
    """An SDP body; `audio` holds its audio media lines in order."""

    audio: list[AudioMedia]
    _raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, text: str | bytes) -> SessionDescription:
        """Parse and check an SDP body (text, or its UTF-8 bytes as a SIP message carries
        it); ValueError with a precise message when odd."""
        if isinstance(text, bytes | bytearray | memoryview):
            try:
                text = bytes(text).decode("utf-8")
            except UnicodeDecodeError as e:
                raise ValueError(
                    f"SDP must be UTF-8 text (RFC 8866): byte {e.start} is not"
                ) from None
        if not isinstance(text, str):
            raise ValueError(f"SDP must be text (str or UTF-8 bytes), not {type(text).__name__}")
        if not text.lstrip().startswith("v="):
            raise ValueError("SDP must start with a v= line")
        raw = sdp_transform.parse(text)
        if raw.get("version") != 0:
            raise ValueError(f"SDP version must be 0, not {raw.get('version')!r}")
        session_addr = _address(raw, "session")
        for i, m in enumerate(raw.get("media", [])):
            if not all(k in m for k in ("type", "port", "protocol")):
                # sdp-transform keeps such a line's attributes and drops the line itself:
                # read on, a later line would be taken for it (offer/answer pairs them by
                # position).
                raise ValueError(
                    f"media line {i + 1}: m= must read '<media> <port> <proto> <fmt> ...'"
                    " (a port count, '<port>/<n>', is not supported)"
                )
        audio = [
            _media(m, session_addr, i)
            for i, m in enumerate(m for m in raw.get("media", []) if m.get("type") == "audio")
        ]
        if not audio:
            raise ValueError("SDP has no m=audio line")
        where = _unwritable(raw)
        if where is not None:  # serialize() must be able to write back what parse() took
            raise ValueError(f"SDP: {where} is malformed")
        return cls(audio, raw)

    def serialize(self) -> str:
        """SDP text, with the changes made to `audio` applied."""
        raw = copy.deepcopy(self._raw)
        audio_raw = [m for m in raw["media"] if m.get("type") == "audio"]
        for i, (m, a) in enumerate(zip(audio_raw, self.audio, strict=True)):
            _write_payload_types(m, a.payload_types, f"m=audio line {i + 1}")
            m["port"] = a.port
            m["direction"] = a.direction
            if a.address is not None:
                m["connection"] = {"version": 6 if ":" in a.address else 4, "ip": a.address}
            if a.ptime is not None:
                m["ptime"] = a.ptime
        return str(sdp_transform.write(raw))
