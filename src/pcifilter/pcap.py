# SPDX-License-Identifier: Apache-2.0
"""Scrub captures: every RTP stream in a pcap/pcapng file goes through an RtpStreamFilter.

Reading and writing are dpkt's (classic pcap and pcapng; Ethernet, Linux SLL/SLL2, raw
IPv4/IPv6; UDP). Streams are found from SDP in SIP packets of the capture (m=audio port,
c= address, rtpmap for telephone-event and opus/48000), else by payload type on UDP ports
given with `rtp_ports`, else by heuristics (RTP v2 with a G.711 or telephone-event payload
type, one SSRC, at least 3 packets). Each stream (direction and SSRC) keeps its frames' capture
times; telephone-event frames (or, with telephone_events="replace", their payloads turned into
masking audio) and duplicates are removed, G.711 payloads are masked and Opus packets with
masked audio re-encoded, sequence numbers stay contiguous, and UDP/IP lengths and checksums
are made valid. Everything else is written as it was.
"""

from __future__ import annotations

import json
import re
import socket
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import dpkt  # type: ignore[import-untyped]  # no stubs published
import numpy as np

from pcifilter.api import event_record
from pcifilter.rtp import RtpPacket
from pcifilter.stream import RtpStreamFilter

_LINK_ETHERNET, _LINK_SLL, _LINK_SLL2 = 1, 113, 276
_LINK_RAW = (12, 101, 14)
_LINK_IPV4, _LINK_IPV6 = 228, 229
_SIP_START = re.compile(rb"^(INVITE|ACK|BYE|CANCEL|OPTIONS|UPDATE|PRACK|SIP/2\.0) ")


@dataclass
class _Frame:
    ts: float
    raw: bytes
    ip: Any = None  # dpkt IP/IP6 object, when UDP
    udp: Any = None
    sip: bool = False  # a SIP message: its SDP tells where RTP goes
    key: tuple[Any, ...] | None = None  # stream key when RTP
    rtp: RtpPacket | None = None


@dataclass
class StreamReport:
    """What happened to one RTP stream (no digits unless asked for)."""

    src: str
    dst: str
    ssrc: int
    packets_in: int
    packets_out: int
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class PcapResult:
    frames_in: int
    frames_out: int
    streams: list[StreamReport]


_LINKS = (_LINK_ETHERNET, _LINK_SLL, _LINK_SLL2, *_LINK_RAW, _LINK_IPV4, _LINK_IPV6)


def _decode_link(link: int, buf: bytes) -> Any:
    if link == _LINK_ETHERNET:
        return dpkt.ethernet.Ethernet(buf).data
    if link == _LINK_SLL:
        return dpkt.sll.SLL(buf).data
    if link == _LINK_SLL2:
        return dpkt.sll2.SLL2(buf).data
    if link in (*_LINK_RAW, _LINK_IPV4, _LINK_IPV6):
        if not buf:
            return None
        return dpkt.ip.IP(buf) if buf[0] >> 4 == 4 else dpkt.ip6.IP6(buf)
    raise ValueError(f"unsupported link type {link}")


def _addr(ip: Any, raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET if isinstance(ip, dpkt.ip.IP) else socket.AF_INET6, raw)


def _sdp_streams(payload: bytes) -> list[tuple[str | None, int, int | None, int | None]]:
    """(address, port, telephone-event PT, Opus PT) of each m=audio in a SIP message's SDP.
    Read line by line (not with pcifilter.sdp): a capture's SIP bodies may be cut short."""
    text = payload.decode("latin-1", "replace")
    out: list[tuple[str | None, int, int | None, int | None]] = []
    session_addr = None
    media: tuple[str | None, int] | None = None
    te_pt: int | None = None
    opus_pt: int | None = None
    for line in text.replace("\r", "").split("\n"):
        if line.startswith("c=") and len(line.split()) >= 3:
            addr = line.split()[2].split("/")[0]
            if media is None:
                session_addr = addr
            else:
                media = (addr, media[1])
        elif line.startswith("m="):
            if media is not None:
                out.append((media[0], media[1], te_pt, opus_pt))
            parts = line[2:].split()
            media = (
                (session_addr, int(parts[1]))
                if parts[0] == "audio" and len(parts) > 1 and parts[1].isdigit()
                else None
            )
            te_pt = opus_pt = None
        elif line.startswith("a=rtpmap:"):
            pt, _, name = line[len("a=rtpmap:") :].partition(" ")
            if not pt.isdigit():
                continue
            if "telephone-event" in name.lower():
                te_pt = int(pt)
            elif name.lower().startswith("opus/48000"):
                opus_pt = int(pt)
    if media is not None:
        out.append((media[0], media[1], te_pt, opus_pt))
    return out


def _read(f: BinaryIO) -> tuple[Any, int, bool]:
    magic = f.read(4)
    f.seek(0)
    if magic == b"\x0a\x0d\x0d\x0a":
        r = dpkt.pcapng.Reader(f)
        return r, r.datalink(), True
    r = dpkt.pcap.Reader(f)
    return r, r.datalink(), False


def _replaces(out: RtpPacket, event: RtpPacket) -> bool:
    """Whether `out` is the masking audio sent in place of telephone-event packet `event`
    (telephone_events="replace"): audio for time inside the event."""
    if out.payload_type == event.payload_type or len(event.payload) < 4:
        return False
    duration = int.from_bytes(event.payload[2:4], "big")
    return (out.timestamp - event.timestamp) % (1 << 32) < duration


def scrub_pcap(
    src: str | Path,
    dst: str | Path,
    rtp_ports: Iterable[int] = (),
    payload_types: Iterable[int] = (),
    telephone_event_pt: int = 101,
    reveal_digits: bool = False,
    **options: Any,
) -> PcapResult:
    """Scrub every RTP stream of `src` into `dst` (same format and link type)."""
    ports = set(rtp_ports)
    extra_pts = set(payload_types)
    with open(src, "rb") as f:
        reader, link, ng = _read(f)
        if link not in _LINKS:  # never write a capture we could not look into
            raise ValueError(f"{src}: unsupported link type {link}")
        frames: list[_Frame] = []
        for ts, buf in reader:
            fr = _Frame(ts, bytes(buf))
            try:
                ip = _decode_link(link, bytes(buf))
            except (dpkt.UnpackError, ValueError, IndexError):
                ip = None
            if isinstance(ip, (dpkt.ip.IP, dpkt.ip6.IP6)) and isinstance(ip.data, dpkt.udp.UDP):
                fr.ip, fr.udp = ip, ip.data
                fr.sip = bool(_SIP_START.match(bytes(ip.data.data)))
            frames.append(fr)
    # SDP first: which (address, port) carry RTP, and their telephone-event payload type.
    sdp_ports: dict[int, tuple[int | None, int | None]] = {
        port: (te, opus)
        for fr in frames
        if fr.sip
        for _, port, te, opus in _sdp_streams(bytes(fr.udp.data))
    }
    te_pts = {telephone_event_pt} | {te for te, _ in sdp_ports.values() if te is not None}
    opus_pts = {opus for _, opus in sdp_ports.values() if opus is not None}
    known_pts = {0, 8, 13} | te_pts | opus_pts | extra_pts
    flows: dict[tuple[Any, ...], list[_Frame]] = defaultdict(list)
    for fr in frames:
        if fr.udp is None or fr.sip:
            continue
        udp = fr.udp
        by_sdp = udp.dport in sdp_ports or udp.sport in sdp_ports
        by_option = udp.dport in ports or udp.sport in ports
        try:
            rtp = RtpPacket.parse(bytes(udp.data))
        except ValueError:
            continue
        if not (by_sdp or by_option or rtp.payload_type in known_pts):
            continue
        fr.rtp = rtp
        fr.key = (_addr(fr.ip, fr.ip.src), udp.sport, _addr(fr.ip, fr.ip.dst), udp.dport, rtp.ssrc)
        flows[fr.key].append(fr)
    # G.711 types seen on each path: a flow of telephone-events only (its own SSRC) gets
    # replacement audio ("replace") in the codec the path carries.
    path_audio: dict[tuple[Any, ...], set[int]] = defaultdict(set)
    for key, flow in flows.items():
        path_audio[key[:4]] |= {fr.rtp.payload_type for fr in flow if fr.rtp} & {0, 8}
    reports: list[StreamReport] = []
    keep: dict[int, bytes | None] = {}  # id(frame) -> new UDP payload, None: remove the frame
    for key, flow in flows.items():
        if len(flow) < 3 and not any(k in sdp_ports or k in ports for k in (key[1], key[3])):
            continue  # heuristics need a stream, not a stray datagram
        from_sdp = [sdp_ports[p] for p in (key[1], key[3]) if p in sdp_ports]
        te = next((t for t, _ in from_sdp if t is not None), telephone_event_pt)
        opus = next((o for _, o in from_sdp if o is not None), None)
        if opus is not None and any(fr.rtp and fr.rtp.payload_type == opus for fr in flow):
            filt = RtpStreamFilter(telephone_event_pt=te, opus_pt=opus, **options)
        else:
            pcmu = -1 if path_audio[key[:4]] == {8} else 0
            filt = RtpStreamFilter(telephone_event_pt=te, pcmu_pt=pcmu, **options)
        out = filt.process([bytes(fr.udp.data) for fr in flow]) + filt.flush()
        parsed = [RtpPacket.parse(p) for p in out]
        j = 0
        for fr in flow:
            assert fr.rtp is not None
            if j < len(parsed) and (
                (parsed[j].payload_type, parsed[j].timestamp)
                == (fr.rtp.payload_type, fr.rtp.timestamp)
                or (fr.rtp.payload_type == te and _replaces(parsed[j], fr.rtp))
            ):
                keep[id(fr)] = out[j]
                j += 1
            else:
                keep[id(fr)] = None
        reports.append(
            StreamReport(
                f"{key[0]}:{key[1]}",
                f"{key[2]}:{key[3]}",
                key[4],
                len(flow),
                len(out),
                [event_record(e, reveal_digits) for e in filt.take_events()],
            )
        )
    written = 0
    with open(dst, "wb") as g:
        writer = dpkt.pcapng.Writer(g, linktype=link) if ng else dpkt.pcap.Writer(g, linktype=link)
        for fr in frames:
            if id(fr) not in keep:
                writer.writepkt(fr.raw, ts=fr.ts)
                written += 1
                continue
            payload = keep[id(fr)]
            if payload is None:
                continue
            writer.writepkt(_rewrite(link, fr, payload), ts=fr.ts)
            written += 1
    return PcapResult(len(frames), written, reports)


def _rewrite(link: int, fr: _Frame, payload: bytes) -> bytes:
    """The frame with a new UDP payload (a re-encoded Opus packet may differ in length):
    UDP and IP lengths, the IPv4 header checksum and the UDP checksum made valid again."""
    udp, ip = fr.udp, fr.ip
    raw = bytes(fr.raw)
    old_ip = bytes(ip)
    start = raw.find(old_ip[:12])  # link header length
    if start < 0:
        raise ValueError("could not locate the IP header in the frame")
    grow = len(payload) - len(udp.data)
    had_sum = udp.sum != 0 or isinstance(ip, dpkt.ip6.IP6)
    udp.data = payload
    udp.ulen = 8 + len(payload)
    udp.sum = 0
    if isinstance(ip, dpkt.ip.IP):
        ip.len += grow
        ip.sum = 0  # dpkt computes the header checksum when it writes a zero one
    else:
        ip.plen += grow
    if had_sum:  # IPv4 may leave it 0 (none); IPv6 never does
        udp.sum = _udp_checksum(ip, udp)
    ip.data = udp
    return raw[:start] + bytes(ip) + raw[start + len(old_ip) :]


def _udp_checksum(ip: Any, udp: Any) -> int:
    """RFC 768 / RFC 8200 §8.1 checksum over the pseudo-header and the datagram."""
    body = bytes(udp)
    if isinstance(ip, dpkt.ip.IP):
        pseudo = ip.src + ip.dst + bytes([0, 17]) + len(body).to_bytes(2, "big")
    else:
        pseudo = ip.src + ip.dst + len(body).to_bytes(4, "big") + bytes([0, 0, 0, 17])
    data = pseudo + body[:6] + b"\x00\x00" + body[8:]
    if len(data) % 2:
        data += b"\x00"
    s = int(np.frombuffer(data, dtype=">u2").sum(dtype=np.uint64))  # 16-bit words, no carry yet
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    s = ~s & 0xFFFF
    return s or 0xFFFF


def events_jsonl(result: PcapResult) -> str:
    """JSON lines: one per event, with its stream."""
    lines = [
        json.dumps({"stream": f"{r.src}->{r.dst}", "ssrc": r.ssrc, **e})
        for r in result.streams
        for e in r.events
    ]
    return "\n".join(lines) + ("\n" if lines else "")
