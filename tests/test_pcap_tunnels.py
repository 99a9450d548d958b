# SPDX-License-Identifier: Apache-2.0
"""Captures of calls inside tunnels, as a mirror port (GRE, ERSPAN) or a cloud's traffic
mirroring (VXLAN, Geneve) records them, or behind a provider's link layers (MPLS, an
Ethernet pseudowire, PPPoE): the calls are found and scrubbed inside, exactly as
they are without the tunnel, and every layer's lengths and checksums stay valid (Opus packets
re-encoded to another size move them). Before, such frames were other traffic, written as
they were, keypresses on."""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
from pathlib import Path

import dpkt
import numpy as np
import pytest
from test_pcap import SDP, A, B, _capture, _frame, _ip, _read, _write_timed

import pcifilter as pf
from pcifilter import signals as sg
from pcifilter import spandsp
from pcifilter.pcap import scrub_pcap
from pcifilter.rtp import RtpPacket

OUTER_SRC, OUTER_DST = "10.9.9.1", "10.9.9.2"  # inside the capture file only: nothing is sent
KINDS = [
    "vxlan",
    "vxlan6",
    "geneve",
    "gre",
    "gre6",
    "gre-ethernet",
    "erspan2",
    "erspan3",
    "ipip",
    "gre+vxlan",
    "mpls",
    "mpls-pw",
    "pppoe",
    "vxlan8472",
    "vxlan-gpe",
    "gtp",
]


def _mpls(*labels: int) -> bytes:
    """An MPLS label stack (RFC 3032), the last entry the bottom of the stack, TTL 64."""
    return b"".join(
        ((label << 12) | (int(k == len(labels) - 1) << 8) | 64).to_bytes(4, "big")
        for k, label in enumerate(labels)
    )


def _inet_sum(data: bytes) -> int:
    """RFC 1071 checksum of `data` (0 when a checksum inside it is right)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _gre(
    proto: int, body: bytes, checksum: bool = False, key: bool = False, seq: bool = False
) -> bytes:
    flags = (0x8000 if checksum else 0) | (0x2000 if key else 0) | (0x1000 if seq else 0)
    head = struct.pack("!HH", flags, proto)
    head += b"\0\0\0\0" if checksum else b""
    head += struct.pack("!I", 0x2A) if key else b""
    head += struct.pack("!I", 7) if seq else b""
    gre = bytearray(head + body)
    if checksum:
        gre[4:6] = _inet_sum(bytes(gre)).to_bytes(2, "big")
    return bytes(gre)


def _outer(proto: int, payload: bytes) -> bytes:
    """An Ethernet frame of an IPv4 packet from OUTER_SRC to OUTER_DST (checksum by dpkt)."""
    ip = dpkt.ip.IP(
        src=socket.inet_aton(OUTER_SRC), dst=socket.inet_aton(OUTER_DST), p=proto, data=payload
    )
    ip.len = 20 + len(payload)
    return _frame("ethernet", dpkt.ip.IP(bytes(ip)))


def _wrap(frame: bytes, kind: str) -> bytes:
    """An Ethernet frame of the capture, mirrored into a tunnel of `kind`."""
    inner_ip = frame[14:]
    if kind in ("vxlan", "vxlan6"):
        vxlan = b"\x08\0\0\0" + (42).to_bytes(3, "big") + b"\0" + frame
        return _frame("ethernet", _ip(OUTER_SRC, OUTER_DST, 49152, 4789, vxlan, kind == "vxlan6"))
    if kind == "vxlan8472":  # Linux's default port (flannel's)
        vxlan = b"\x08\0\0\0" + (42).to_bytes(3, "big") + b"\0" + frame
        return _frame("ethernet", _ip(OUTER_SRC, OUTER_DST, 49152, 8472, vxlan, False))
    if kind == "vxlan-gpe":  # the P flag, next protocol 1: IPv4
        gpe = b"\x0c\0\0\x01" + (42).to_bytes(3, "big") + b"\0" + inner_ip
        return _frame("ethernet", _ip(OUTER_SRC, OUTER_DST, 49152, 4790, gpe, False))
    if kind == "gtp":  # a G-PDU with a sequence number and a PDU session container
        ext = b"\x01\x10\x09\x00"  # 4 bytes, then no more extension headers
        body = struct.pack("!HBB", 0x1234, 0, 0x85) + ext + inner_ip
        gtp = struct.pack("!BBHI", 0x36, 0xFF, len(body), 0xABCDEF) + body
        return _frame("ethernet", _ip(OUTER_SRC, OUTER_DST, 2152, 2152, gtp, False))
    if kind == "geneve":  # 8 bytes of options, then an Ethernet frame
        geneve = b"\x02\0\x65\x58" + (42).to_bytes(3, "big") + b"\0" + bytes(8) + frame
        return _frame("ethernet", _ip(OUTER_SRC, OUTER_DST, 49152, 6081, geneve, False))
    if kind == "gre":  # checksum and key
        return _outer(47, _gre(0x0800, inner_ip, checksum=True, key=True))
    if kind == "gre6":  # over IPv6, with a checksum
        gre = _gre(0x0800, inner_ip, checksum=True)
        src, dst = (socket.inet_pton(socket.AF_INET6, a) for a in ("fd00::91", "fd00::92"))
        ip6 = dpkt.ip6.IP6(src=src, dst=dst, nxt=47, hlim=64, plen=len(gre), data=gre)
        return _frame("ethernet", dpkt.ip6.IP6(bytes(ip6)))
    if kind == "gre-ethernet":  # transparent Ethernet bridging
        return _outer(47, _gre(0x6558, frame))
    if kind == "erspan2":  # Ver 1, session 5
        return _outer(47, _gre(0x88BE, struct.pack("!HHI", 0x1005, 0, 0) + frame, seq=True))
    if kind == "erspan3":  # Ver 2, FT 0 (Ethernet), O set: an 8-byte platform sub-header
        erspan = struct.pack("!HHIHBB", 0x2005, 0, 12345, 0, 0, 0x01) + bytes(8)
        return _outer(47, _gre(0x22EB, erspan + frame, seq=True))
    if kind == "ipip":
        return _outer(4, inner_ip)
    if kind == "gre+vxlan":  # two tunnels deep
        return _outer(47, _gre(0x0800, _wrap(frame, "vxlan")[14:], checksum=True))
    if kind == "mpls":  # a provider's core: a VLAN tag, then two labels
        return frame[:12] + b"\x81\0\0\x2a\x88\x47" + _mpls(16, 17) + inner_ip
    if kind == "mpls-pw":  # an Ethernet pseudowire with its control word (RFC 4448)
        return frame[:12] + b"\x88\x47" + _mpls(18) + bytes(4) + frame
    if kind == "pppoe":  # a PPPoE session (RFC 2516): its length counts the PPP protocol
        head = b"\x11\x00\x12\x34" + (len(inner_ip) + 2).to_bytes(2, "big") + b"\x00\x21"
        return frame[:12] + b"\x88\x64" + head + inner_ip
    if kind == "ipip+gre+vxlan":  # three
        return _outer(4, _wrap(frame, "gre+vxlan")[14:])
    raise AssertionError(kind)


def _unwrap(frame: bytes, kind: str) -> bytes:
    """The inner IP packet of a tunnelled frame, every outer layer's lengths and checksums
    checked on the way in."""
    if kind == "mpls":
        assert frame[12:18] == b"\x81\0\0\x2a\x88\x47" and frame[18:26] == _mpls(16, 17)
        return frame[26:]
    if kind == "mpls-pw":
        assert frame[12:14] == b"\x88\x47" and frame[14:22] == _mpls(18) + bytes(4)
        return frame[22 + 14 :]
    if kind == "pppoe":
        assert frame[12:14] == b"\x88\x64" and frame[20:22] == b"\x00\x21"
        assert int.from_bytes(frame[18:20], "big") == len(frame) - 20
        return frame[22:]
    ip = frame[14:]
    if kind in ("vxlan6", "gre6"):
        outer6 = dpkt.ip6.IP6(ip)
        assert outer6.plen == len(ip) - 40
        body = ip[40:]
        if kind == "gre6":
            assert _inet_sum(body) == 0
            return body[8:]
        udp = outer6.data
        assert udp.ulen == len(body)
        fresh = dpkt.udp.UDP(sport=udp.sport, dport=udp.dport, ulen=udp.ulen, data=udp.data)
        pkt = dpkt.ip6.IP6(
            src=outer6.src, dst=outer6.dst, nxt=17, hlim=64, plen=len(body), data=fresh
        )
        assert dpkt.ip6.IP6(bytes(pkt)).data.sum == udp.sum
        return body[16 + 14 :]
    assert ip[0] == 0x45 and _inet_sum(ip[:20]) == 0
    total = int.from_bytes(ip[2:4], "big")
    assert total == len(ip)
    body = ip[20:]
    if kind in ("vxlan", "geneve", "vxlan8472", "vxlan-gpe", "gtp"):
        outer = dpkt.ip.IP(ip)
        udp = outer.data
        assert udp.ulen == len(body)
        fresh = dpkt.udp.UDP(sport=udp.sport, dport=udp.dport, ulen=udp.ulen, data=udp.data)
        pkt = dpkt.ip.IP(src=outer.src, dst=outer.dst, p=17, data=fresh)
        pkt.len = total
        assert dpkt.ip.IP(bytes(pkt)).data.sum == udp.sum
        if kind == "gtp":  # its length: what follows its first 8 bytes
            assert int.from_bytes(body[8 + 2 : 8 + 4], "big") == len(body) - 16
            return body[8 + 16 :]
        if kind == "vxlan-gpe":
            return body[16:]
        skip = 8 + 8 + (8 if kind == "geneve" else 0)  # UDP, VXLAN or Geneve, its options
        return body[skip + 14 :]
    if kind == "ipip":
        return body
    if kind == "ipip+gre+vxlan":
        return _unwrap(b"\0" * 14 + body, "gre+vxlan")
    flags = int.from_bytes(body[0:2], "big")
    if flags & 0x8000:
        assert _inet_sum(body) == 0
    head = 4 + 4 * bin(flags & 0xB000).count("1")
    if kind == "gre":
        return body[head:]
    if kind == "gre+vxlan":
        return _unwrap(b"\0" * 14 + body[head:], "vxlan")
    extra = {"gre-ethernet": 0, "erspan2": 8, "erspan3": 20}[kind]
    return body[head + extra + 14 :]


def _tunnelled(src: Path, dst: Path, kind: str) -> None:
    with src.open("rb") as f:
        frames = [(ts, bytes(b)) for ts, b in dpkt.pcap.Reader(f)]
    _write_timed(dst, [(ts, _wrap(fr, kind)) for ts, fr in frames])


def _opus_capture(path: Path) -> None:
    """An Opus call (SDP, RTP with in-band keypresses): its masked packets are re-encoded,
    to sizes other than the originals'."""
    from opuslib import rtp_stream

    sdp = SDP.replace("0 96", "111").replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:111 opus/48000/2")
    frames = [
        _frame("ethernet", _ip(src, dst, 5060, 5060, f"{head}\r\n\r\n{body}".encode(), False))
        for src, dst, head, body in [
            (A, B, "INVITE sip:b@x SIP/2.0", sdp.format(a=A, port=42000)),
            (B, A, "SIP/2.0 200 OK", sdp.format(a=B, port=52000)),
        ]
    ]
    x, _ = sg.keyed_sequence("2580", 80, 90, -10, lead_ms=300, sample_rate=48000)
    rng = np.random.default_rng(5)
    pcm = sg.to_int16(x + sg.white_noise(len(x), -45, rng))
    frames += [
        _frame("ethernet", _ip(A, B, 42000, 52000, p, False))
        for p in rtp_stream(pcm, "hybrid", 20, 24000, ssrc=0xC, seq0=500)
    ]
    _write_timed(path, [(1000.0 + i / 50, fr) for i, fr in enumerate(frames)])


@pytest.mark.parametrize("call", ["g711", "opus"])
@pytest.mark.parametrize("kind", KINDS)
def test_calls_inside_tunnels_are_scrubbed_as_without_them(
    tmp_path: Path, kind: str, call: str
) -> None:
    plain, tunnelled = tmp_path / "plain.pcap", tmp_path / "tunnelled.pcap"
    if call == "g711":
        _capture(plain)
    else:
        _opus_capture(plain)
    _tunnelled(plain, tunnelled, kind)
    r_plain = scrub_pcap(plain, tmp_path / "plain-out.pcap")
    r_tunnelled = scrub_pcap(tunnelled, tmp_path / "tunnelled-out.pcap")
    assert [(s.ssrc, s.packets_in, s.packets_out) for s in r_tunnelled.streams] == [
        (s.ssrc, s.packets_in, s.packets_out) for s in r_plain.streams
    ]
    assert r_tunnelled.streams and all(s.events or call == "opus" for s in r_tunnelled.streams[:1])
    _, want = _read(tmp_path / "plain-out.pcap")
    _, got = _read(tmp_path / "tunnelled-out.pcap")
    assert [_unwrap(fr, kind) for fr in got] == [fr[14:] for fr in want]
    if call == "opus":  # re-encoded packets of other sizes: the tunnels' lengths moved
        _, before = _read(plain)
        assert any(len(a) != len(b) for a, b in zip(before, want, strict=True))


def test_a_linux_cooked_capture_of_an_mpls_interface_is_scrubbed(tmp_path: Path) -> None:
    """tcpdump -i any on a host whose interface carries MPLS: Linux cooked headers (SLL)
    whose protocol is MPLS, the labels, then IP. Before, not IP to the capture: written as
    it was; now the call is found and scrubbed as in Ethernet frames."""
    plain, cooked, out = tmp_path / "plain.pcap", tmp_path / "sll.pcap", tmp_path / "out.pcap"
    _capture(plain)
    with plain.open("rb") as f:
        frames = [(ts, bytes(b)) for ts, b in dpkt.pcap.Reader(f)]
    sll = b"\0\0\0\x01\0\x06" + b"\x02" * 6 + b"\0\0\x88\x47" + _mpls(16)
    with cooked.open("wb") as f:
        w = dpkt.pcap.Writer(f, snaplen=65535, linktype=113)
        for ts, fr in frames:
            w.writepkt(sll + fr[14:], ts=ts)
    r_plain = scrub_pcap(plain, tmp_path / "plain-out.pcap")
    r = scrub_pcap(cooked, out)
    assert [(s.ssrc, s.packets_in, s.packets_out) for s in r.streams] == [
        (s.ssrc, s.packets_in, s.packets_out) for s in r_plain.streams
    ]
    _, want = _read(tmp_path / "plain-out.pcap")
    _, got = _read(out)
    assert [fr[len(sll) :] for fr in got] == [fr[14:] for fr in want]
    assert all(fr.startswith(sll) for fr in got)


def test_tunnelled_keypresses_are_not_left_in(tmp_path: Path) -> None:
    """The independent check: spandsp hears the card number in the tunnelled call's audio
    before, and nothing after."""
    plain, tunnelled, out = tmp_path / "plain.pcap", tmp_path / "vxlan.pcap", tmp_path / "out.pcap"
    _capture(plain)
    _tunnelled(plain, tunnelled, "vxlan")
    scrub_pcap(tunnelled, out)
    assert spandsp.spandsp_digits(_caller_audio(tunnelled, "vxlan"), lenient=True)[1] == 16
    assert spandsp.spandsp_digits(_caller_audio(out, "vxlan"), lenient=True)[1] == 0


def _caller_audio(path: Path, kind: str) -> np.ndarray:
    """The caller's G.711 audio in a capture of `_capture`'s call inside tunnels of `kind`."""
    payloads = []
    for fr in _read(path)[1]:
        inner = dpkt.ip.IP(_unwrap(fr, kind))
        if isinstance(inner.data, dpkt.udp.UDP) and inner.data.sport == 40000:
            p = RtpPacket.parse(bytes(inner.data.data))
            if p.payload_type == 0:
                payloads.append(np.frombuffer(p.payload, np.uint8))
    return pf.ulaw_decode(np.concatenate(payloads))


def test_calls_more_tunnels_deep_than_are_read_are_left_out(tmp_path: Path) -> None:
    """A call three tunnels deep (IP in IP, GRE, VXLAN): more than the capture reads. Its
    frames were written as they were (other traffic to the scrub), keypresses on; now they
    are left out and counted, and the frames two tunnels deep beside them are scrubbed."""
    plain, mixed, out = tmp_path / "plain.pcap", tmp_path / "mixed.pcap", tmp_path / "out.pcap"
    _capture(plain)
    _tunnelled(plain, mixed, "ipip+gre+vxlan")
    frames = _read(mixed)[1]
    assert spandsp.spandsp_digits(_caller_audio(mixed, "ipip+gre+vxlan"), lenient=True)[1] == 16
    r = scrub_pcap(mixed, out)
    assert r.tunnelled_too_deep == len(frames) and r.frames_out == 0 and not r.streams
    _tunnelled(plain, mixed, "gre+vxlan")  # two deep: read
    r = scrub_pcap(mixed, out)
    as_plain = scrub_pcap(plain, tmp_path / "plain-out.pcap")
    assert r.tunnelled_too_deep == 0 and r.frames_out == as_plain.frames_out > 0
    assert spandsp.spandsp_digits(_caller_audio(out, "gre+vxlan"), lenient=True)[1] == 0


def _fragments(frame: bytes, size: int, ident: int) -> list[bytes]:
    """An Ethernet frame's IPv4 packet cut into IP fragments of `size` data bytes."""
    ip = dpkt.ip.IP(frame[14:])
    data = bytes(ip.data) if not isinstance(ip.data, bytes) else ip.data
    out = []
    for at in range(0, len(data), size):
        piece = dpkt.ip.IP(src=ip.src, dst=ip.dst, p=ip.p, id=ident, data=data[at : at + size])
        piece.mf, piece.offset = int(at + size < len(data)), at // 8  # dpkt: in 8-byte units
        piece.len = 20 + len(piece.data)
        out.append(frame[:14] + bytes(dpkt.ip.IP(bytes(piece))))
    return out


@pytest.mark.parametrize("kind", ["vxlan", "gre", "ipip", "gtp", "vxlan8472"])
def test_a_tunnel_s_packet_in_ip_fragments_is_left_out(tmp_path: Path, kind: str) -> None:
    """A tunnel's packet cut into IP fragments holds whatever the tunnel carried (here a
    call's RTP): it cannot be scrubbed in pieces, so it is left out and counted, as RTP in
    fragments is (kept as it was with `keep_fragments`)."""
    plain, tunnelled, out = tmp_path / "plain.pcap", tmp_path / "t.pcap", tmp_path / "out.pcap"
    _capture(plain)
    _, frames = _read(plain)
    rtp = [fr for fr in frames if dpkt.ethernet.Ethernet(fr).data.data.sport == 40000]
    wrapped = [_wrap(fr, kind) for fr in frames]
    cut = _fragments(_wrap(rtp[40], kind), 96, 0x777)
    assert len(cut) >= 2
    timed = enumerate(wrapped[:50] + cut + wrapped[50:])
    _write_timed(tunnelled, [(1000.0 + i / 100, fr) for i, fr in timed])
    r = scrub_pcap(tunnelled, out)
    assert r.fragments_unscrubbed == len(cut)
    _, written = _read(out)
    assert not any(fr in written for fr in cut)
    r = scrub_pcap(tunnelled, out, keep_fragments=True)
    _, written = _read(out)
    assert r.fragments_unscrubbed == len(cut) and all(fr in written for fr in cut)


@pytest.mark.peer
@pytest.mark.parametrize("kind", ["vxlan", "vxlan6", "gre", "erspan3"])
def test_wireshark_reads_every_layer_of_the_scrubbed_tunnels(tmp_path: Path, kind: str) -> None:
    """An independent reader: tshark finds every IP and UDP checksum of the output good, at
    every layer, and every RTP packet in place, after Opus packets were re-encoded to other
    sizes inside the tunnels."""
    if shutil.which("tshark") is None:
        pytest.fail("tshark missing: run ./dev.sh test, which installs it")
    plain, tunnelled, out = tmp_path / "plain.pcap", tmp_path / "t.pcap", tmp_path / "out.pcap"
    _opus_capture(plain)
    _tunnelled(plain, tunnelled, kind)
    scrub_pcap(tunnelled, out)
    _, written = _read(out)
    assert [len(fr) for fr in written] != [len(fr) for fr in _read(tunnelled)[1]]  # resized
    frames = len(written)

    def count(display_filter: str) -> int:
        args = ["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"]
        args += ["-d", "udp.port==52000,rtp", "-Y", display_filter]
        run = subprocess.run(
            ["tshark", "-r", str(out), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return len(run.stdout.splitlines())

    assert count("ip.checksum.status == 0 || udp.checksum.status == 0") == 0  # 0: bad
    assert count("ip.checksum.status == 1") == frames
    assert count("rtp") == frames - 2  # all but the two SIP messages
