# SPDX-License-Identifier: Apache-2.0
"""The audio parts of SDP (RFC 8866) as typed objects, read and written with sdp-transform.

`SessionDescription.parse` checks what the filters rely on and raises ValueError with a
precise message otherwise; `serialize` writes the description back, with any change made to
its `audio` media (port, address, direction: what a node rewrites on the path 6 -> 7).
"""

from __future__ import annotations

import copy
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
    """An m=audio line and its attributes."""

    port: int
    protocol: str
    payload_types: list[int]
    codecs: dict[int, Codec]
    address: str | None
    ptime: int | None = None
    direction: str = "sendrecv"
    rtcp_port: int | None = None
    rtcp_mux: bool = False
    _raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def payload_type_of(self, kind: str, clock_rate: int = 8000) -> int | None:
        """The first payload type of a kind ('pcmu', 'telephone-event', ...) at a rate."""
        for pt in self.payload_types:
            c = self.codecs.get(pt)
            if c is not None and c.kind == kind and c.clock_rate == clock_rate:
                return pt
        return None


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
    conn = m.get("connection", {}).get("ip") if isinstance(m.get("connection"), dict) else None
    direction = str(m.get("direction", "sendrecv"))
    if direction not in DIRECTIONS:
        raise ValueError(f"{where}: direction must be one of {DIRECTIONS}, not {direction!r}")
    rtcp = m.get("rtcp", {}).get("port") if isinstance(m.get("rtcp"), dict) else None
    return AudioMedia(
        port,
        str(m.get("protocol", "")),
        pts,
        codecs,
        conn or session_addr,
        m.get("ptime"),
        direction,
        rtcp,
        bool(m.get("rtcpMux")),
        m,
    )


@dataclass
class SessionDescription:
    """An SDP body; `audio` holds its audio media lines in order."""

    audio: list[AudioMedia]
    _raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, text: str) -> SessionDescription:
        """Parse and check an SDP body; ValueError with a precise message when odd."""
        if not isinstance(text, str) or not text.lstrip().startswith("v="):
            raise ValueError("SDP must start with a v= line")
        raw = sdp_transform.parse(text)
        if raw.get("version") != 0:
            raise ValueError(f"SDP version must be 0, not {raw.get('version')!r}")
        session_addr = (
            raw.get("connection", {}).get("ip") if isinstance(raw.get("connection"), dict) else None
        )
        audio = [
            _media(m, session_addr, i)
            for i, m in enumerate(m for m in raw.get("media", []) if m.get("type") == "audio")
        ]
        if not audio:
            raise ValueError("SDP has no m=audio line")
        return cls(audio, raw)

    def serialize(self) -> str:
        """SDP text, with the changes made to `audio` applied."""
        raw = copy.deepcopy(self._raw)
        audio_raw = [m for m in raw["media"] if m.get("type") == "audio"]
        for m, a in zip(audio_raw, self.audio, strict=True):
            m["port"] = a.port
            m["direction"] = a.direction
            if a.address is not None:
                m["connection"] = {"version": 6 if ":" in a.address else 4, "ip": a.address}
            if a.ptime is not None:
                m["ptime"] = a.ptime
        return str(sdp_transform.write(raw))
