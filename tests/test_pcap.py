# SPDX-License-Identifier: Apache-2.0
"""pcap scrubbing: captures built with dpkt (SIP with SDP, RTP both ways, other traffic; pcap
and pcapng; Ethernet, Linux SLL and raw IPv6) and sipp's real captures. RTP keypresses leave
neither as audio nor as telephone-events; everything else is written as it was; sequence
numbers stay contiguous and UDP checksums valid."""

from __future__ import annotations

import base64
import functools
import gzip
import itertools
import json
import os
import quopri
import random
import shutil
import socket
import struct
import subprocess
import sys
import textwrap
import zlib
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import brotli  # type: ignore[import-untyped]
import dpkt
import numpy as np
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pcifilter as pf
from pcifilter import _core, http_bodies, spandsp
from pcifilter import signals as sg
from pcifilter import websocket as ws
from pcifilter.cli import main
from pcifilter.pcap import scrub_pcap
from pcifilter.rtp import RtpPacket

CARD = "4111111111111111"
A, B = "10.0.0.1", "10.0.0.2"  # addresses inside the capture file only: nothing is sent
SDP = (
    "v=0\r\no=- 1 1 IN IP4 {a}\r\ns=-\r\nc=IN IP4 {a}\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0 96\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:96 telephone-event/8000\r\n"
)


def _ip(src: str, dst: str, sport: int, dport: int, payload: bytes, v6: bool) -> dpkt.Packet:
    udp = dpkt.udp.UDP(sport=sport, dport=dport, data=payload)
    udp.ulen = 8 + len(payload)
    return _over_ip(src, dst, udp, 17, v6)


def _over_ip(src: str, dst: str, transport: dpkt.Packet, proto: int, v6: bool) -> dpkt.Packet:
    """A UDP datagram or TCP segment in IPv4, or IPv6 (fd00::<last byte of the v4 address>)."""
    if v6:
        return dpkt.ip6.IP6(
            src=socket.inet_pton(socket.AF_INET6, "fd00::" + src.split(".")[-1]),
            dst=socket.inet_pton(socket.AF_INET6, "fd00::" + dst.split(".")[-1]),
            nxt=proto,
            hlim=64,
            data=transport,
            plen=len(bytes(transport)),
        )
    ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=proto, data=transport)
    ip.len = 20 + len(bytes(transport))
    return ip


def _frame(link: str, ip: dpkt.Packet) -> bytes:
    if link == "ethernet":
        etype = (
            dpkt.ethernet.ETH_TYPE_IP6
            if isinstance(ip, dpkt.ip6.IP6)
            else dpkt.ethernet.ETH_TYPE_IP
        )
        return bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6, type=etype, data=ip))
    if link == "sll":
        return bytes(
            dpkt.sll.SLL(type=0, hrd=1, hlen=6, hdr=b"\x02" * 6 + b"\0\0", ethtype=0x0800, data=ip)
        )
    v6 = isinstance(ip, dpkt.ip6.IP6)
    if link == "vlan":  # Ethernet with an 802.1Q tag (VLAN 42)
        return (
            b"\x04" * 6
            + b"\x02" * 6
            + b"\x81\x00\x00\x2a"
            + (b"\x86\xdd" if v6 else b"\x08\x00")
            + bytes(ip)
        )
    if link == "sll2":  # protocol, reserved, ifindex, ARPHRD_ETHER, packet type, address
        proto = b"\x86\xdd" if v6 else b"\x08\x00"
        return (
            proto
            + b"\0\0"
            + b"\0\0\0\x02"
            + b"\0\x01"
            + b"\x04\x06"
            + b"\x02" * 6
            + b"\0\0"
            + bytes(ip)
        )
    if link == "null":  # BSD loopback: the address family in the capturing host's order
        return (30 if v6 else 2).to_bytes(4, "little") + bytes(ip)
    return bytes(ip)


LINKTYPES = {"ethernet": 1, "vlan": 1, "sll": 113, "sll2": 276, "null": 0, "raw": 101}


def _capture(path: Path, link: str = "ethernet", ng: bool = False, v6: bool = False) -> dict:
    rng = np.random.default_rng(3)
    x, spans = sg.keyed_sequence(CARD, 80, 90, -12, lead_ms=300)
    caller = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
    callee = sg.to_int16(sg.white_noise(len(x), -40, rng))
    frames: list[tuple[float, bytes]] = []
    t = 1000.0

    def add(src: str, dst: str, sp: int, dp: int, payload: bytes) -> None:
        nonlocal t
        frames.append((t, _frame(link, _ip(src, dst, sp, dp, payload, v6))))
        t += 0.001

    invite = (
        f"INVITE sip:pay@{B} SIP/2.0\r\nContent-Type: application/sdp\r\n\r\n"
        + SDP.format(a=A, port=40000)
    ).encode()
    ok = (
        "SIP/2.0 200 OK\r\nContent-Type: application/sdp\r\n\r\n" + SDP.format(a=B, port=50000)
    ).encode()
    add(A, B, 5060, 5060, invite)
    add(B, A, 5060, 5060, ok)
    add(A, "10.0.0.53", 33333, 53, b"\x12\x34 not rtp at all")
    seq_a = itertools.count(7)
    codes = {d: i for i, d in enumerate("0123456789*#")}
    for k in range(len(caller) // 160):
        ts = 1000 + 160 * k
        add(
            A,
            B,
            40000,
            50000,
            RtpPacket(
                0,
                k == 0,
                next(seq_a),
                ts,
                0xA,
                payload=pf.ulaw_encode(caller[160 * k : 160 * k + 160]).tobytes(),
            ).serialize(),
        )
        for (s, e), d in zip(spans, CARD, strict=True):
            if s <= 160 * k < e:  # RFC 4733 beside the tone, sent as PT 96 (from the SDP)
                end = 160 * (k + 1) >= e
                for _ in range(3 if end else 1):
                    ev = bytes([codes[d], (0x80 if end else 0) | 10]) + (
                        160 * k + 160 - s
                    ).to_bytes(2, "big")
                    add(
                        A,
                        B,
                        40000,
                        50000,
                        RtpPacket(
                            96, 160 * k == s, next(seq_a), 1000 + s, 0xA, payload=ev
                        ).serialize(),
                    )
        add(
            B,
            A,
            50000,
            40000,
            RtpPacket(
                0,
                k == 0,
                900 + k,
                7 + 160 * k,
                0xB,
                payload=pf.ulaw_encode(callee[160 * k : 160 * k + 160]).tobytes(),
            ).serialize(),
        )
    with path.open("wb") as f:
        w = (
            dpkt.pcapng.Writer(f, linktype=LINKTYPES[link])
            if ng
            else dpkt.pcap.Writer(f, linktype=LINKTYPES[link])
        )
        for ts, fr in frames:
            w.writepkt(fr, ts=ts)
    return {"caller": caller, "callee": callee, "frames": len(frames)}


def _read(path: Path) -> tuple[int, list[bytes]]:
    """The frames of a capture, read with dpkt (independent of libpcap, which scrubs)."""
    with path.open("rb") as f:
        ng = f.read(4) == b"\x0a\x0d\x0d\x0a"
        f.seek(0)
        reader = dpkt.pcapng.Reader(f) if ng else dpkt.pcap.Reader(f)
        return reader.datalink(), [bytes(b) for _, b in reader]


def _write_pcap(path: Path, frames: list[bytes]) -> None:
    """Ethernet frames into a classic pcap (dpkt), one a second from t = 1000 s."""
    _write_timed(path, [(1000.0 + i, fr) for i, fr in enumerate(frames)])


def _write_timed(path: Path, frames: list[tuple[float, bytes]]) -> None:
    """(capture time, Ethernet frame) pairs into a classic pcap (dpkt), in the order given."""
    with path.open("wb") as f:
        w = dpkt.pcap.Writer(f, snaplen=65535)
        for ts, fr in frames:
            w.writepkt(fr, ts=ts)


def _plain_rtp_frames(v6: bool = False) -> list[bytes]:
    """Five RTP packets 10.0.0.1:40000 -> 10.0.0.2:50000 (an SDP of the tests names the port
    SRTP), as Ethernet frames."""
    rtp = [RtpPacket(0, k == 0, k, 160 * k, 0x5A, payload=bytes(160)).serialize() for k in range(5)]
    return [_frame("ethernet", _ip(A, B, 40000, 50000, r, v6)) for r in rtp]


def _udp(link: int, frame: bytes) -> tuple[dpkt.Packet, dpkt.udp.UDP]:
    if link == 1:
        ip = dpkt.ethernet.Ethernet(frame).data  # 802.1Q tags too
    elif link == 113:
        ip = dpkt.sll.SLL(frame).data
    elif link == 276:
        ip = dpkt.sll2.SLL2(frame).data
    elif link == 0:
        ip = dpkt.loopback.Loopback(frame).data
    else:
        ip = dpkt.ip.IP(frame) if frame[0] >> 4 == 4 else dpkt.ip6.IP6(frame)
    return ip, ip.data


def _fresh_sum(ip: dpkt.Packet, fresh: dpkt.Packet, proto: int) -> int:
    """The checksum dpkt computes for `fresh` (a UDP datagram or TCP segment whose own sum is
    unset) between the addresses of `ip`."""
    n = len(bytes(fresh))
    if isinstance(ip, dpkt.ip.IP):
        pkt = dpkt.ip.IP(src=ip.src, dst=ip.dst, p=proto, data=fresh)
        pkt.len = 20 + n
        return int(dpkt.ip.IP(bytes(pkt)).data.sum)
    pkt6 = dpkt.ip6.IP6(src=ip.src, dst=ip.dst, nxt=proto, hlim=64, data=fresh, plen=n)
    return int(dpkt.ip6.IP6(bytes(pkt6)).data.sum)


@settings(max_examples=200, deadline=None)
@given(
    v6=st.booleans(),
    addrs=st.binary(min_size=32, max_size=32),
    ports=st.tuples(st.integers(0, 65535), st.integers(0, 65535)),
    data=st.binary(max_size=1500),
    stale=st.integers(0, 65535),
)
def test_udp_checksum_matches_dpkt(
    v6: bool, addrs: bytes, ports: tuple[int, int], data: bytes, stale: int
) -> None:
    """The C++ checksum pcifilter.pcap uses for reassembled SIP datagrams (one code with the
    capture writer's) against dpkt's, odd lengths included; the datagram's own checksum field
    is ignored."""
    k = 16 if v6 else 4
    src, dst = addrs[:k], addrs[16 : 16 + k]
    udp = dpkt.udp.UDP(sport=ports[0], dport=ports[1], ulen=8 + len(data), data=data)
    ip = (dpkt.ip6.IP6 if v6 else dpkt.ip.IP)(src=src, dst=dst)
    want = _fresh_sum(ip, udp, 17)
    datagram = bytearray(bytes(udp))
    datagram[6:8] = stale.to_bytes(2, "big")
    assert pf._core.udp_checksum(src, dst, bytes(datagram)) == want


def test_udp_checksum_refuses_what_is_no_datagram() -> None:
    with pytest.raises(ValueError, match=r"4 \(IPv4\) or 16"):
        pf._core.udp_checksum(b"\0" * 4, b"\0" * 16, b"\0" * 8)
    with pytest.raises(ValueError, match="8 to 65535"):
        pf._core.udp_checksum(b"\0" * 4, b"\0" * 4, b"\0" * 7)


def _checksum_ok(ip: dpkt.Packet, udp: dpkt.udp.UDP) -> bool:
    """Compare with the checksum dpkt computes for a fresh packet of the same datagram."""
    if udp.sum == 0 and isinstance(ip, dpkt.ip.IP):
        return True  # IPv4 without a checksum
    fresh = dpkt.udp.UDP(sport=udp.sport, dport=udp.dport, ulen=udp.ulen, data=udp.data)
    return _fresh_sum(ip, fresh, 17) == udp.sum


@pytest.mark.parametrize(
    ("link", "ng", "v6"),
    [
        ("ethernet", False, False),
        ("ethernet", True, False),
        ("sll", False, False),
        ("raw", False, True),
        ("raw", True, True),
        ("vlan", True, True),
        ("sll2", False, False),
        ("null", False, True),
    ],
)
def test_capture_is_scrubbed(tmp_path: Path, link: str, ng: bool, v6: bool) -> None:
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    info = _capture(src, link, ng, v6)
    r = scrub_pcap(src, dst)
    assert r.frames_in == info["frames"]
    lt, frames_in = _read(src)
    lt_out, frames_out = _read(dst)
    assert lt_out == lt == LINKTYPES[link]  # the same link type, as files number it
    streams: dict[int, list[RtpPacket]] = {}
    for fr in frames_out:
        ip, udp = _udp(lt, fr)
        if udp.dport in (5060, 53):
            assert fr in frames_in  # other traffic untouched
            continue
        assert _checksum_ok(ip, udp)
        p = RtpPacket.parse(bytes(udp.data))
        assert p.payload_type == 0  # no telephone-event left
        streams.setdefault(p.ssrc, []).append(p)
    for ssrc, packets in streams.items():
        seqs = [p.sequence_number for p in packets]
        assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(seqs)), ssrc
    caller = np.concatenate([pf.ulaw_decode(p.payload) for p in streams[0xA]])
    digits, hits = spandsp.spandsp_digits(caller, lenient=True)
    assert digits == "" and hits == 0
    assert spandsp.spandsp_digits(info["caller"])[0] == CARD
    callee_in = [
        RtpPacket.parse(bytes(_udp(lt, fr)[1].data))
        for fr in frames_in
        if _udp(lt, fr)[1].sport == 50000
    ]
    assert [p.payload for p in streams[0xB]] == [p.payload for p in callee_in]  # bit-exact
    keys = sum(len(s.events) for s in r.streams)
    assert keys == len(CARD) and all(e["digit"] == "*" for s in r.streams for e in s.events)


def test_unsupported_link_type_is_an_error_not_a_copy(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    with src.open("wb") as f:
        dpkt.pcap.Writer(f, linktype=105).writepkt(b"\x00" * 40, ts=1.0)  # IEEE 802.11
    with pytest.raises(ValueError, match="unsupported link type 105"):
        scrub_pcap(src, dst)
    assert not dst.exists()  # nothing written unscrubbed
    assert main(["scrub", str(src), str(dst)]) == 2


def test_cli_pcap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _capture(src)
    assert main(["scrub", str(src), str(dst), "--events", "-"]) == 0
    out = capsys.readouterr().out
    assert "2 RTP streams, 16 keypresses removed" in out and CARD not in out
    assert out.count('"digit": "*"') == 16
    # the summary names only what happened (no line of zeros); --report has every count
    assert "SIP over SCTP" not in out and "IAX2" not in out
    report = tmp_path / "report.json"
    assert main(["scrub", str(src), str(dst), "--report", str(report)]) == 0
    r = json.loads(report.read_text())
    assert (r["frames_in"], len(r["streams"]), r["iax2_datagrams"]) == (len(_read(src)[1]), 2, 0)
    assert sum(len(s["events"]) for s in r["streams"]) == 16 and CARD not in report.read_text()
    assert main(["scrub", str(src), str(dst), "--telephone-events", "replace"]) == 0
    _, frames = _read(dst)
    assert all(RtpPacket.parse(bytes(_udp(1, f)[1].data)).payload_type != 96 for f in frames[3:])


@pytest.mark.peer
def test_sipp_captures(tmp_path: Path) -> None:
    sipp = Path("/usr/share/sip-tester")
    r = scrub_pcap(sipp / "dtmf_2833_1.pcap", tmp_path / "te.pcap")
    assert r.frames_out == 0 and len(r.streams) == 1  # only telephone-events: all removed
    assert len(r.streams[0].events) == 1
    r = scrub_pcap(sipp / "g711a.pcap", tmp_path / "a.pcap", reveal_digits=True)
    _, a = _read(sipp / "g711a.pcap")
    _, b = _read(tmp_path / "a.pcap")
    assert r.frames_out == r.frames_in == len(a) == len(b)
    same = sum(x == y for x, y in zip(a, b, strict=True))
    assert same / len(a) > 0.9  # a voice recording: frames pass, bar any masked


@pytest.mark.parametrize("te_rate", [48000, 8000])
def test_opus_capture_is_scrubbed(tmp_path: Path, te_rate: int) -> None:
    """An Opus call with keypresses in-band and as telephone-events, declared at 48000 Hz
    (RFC 7587) or at 8000 (as some endpoints do): the events' durations are read at the
    declared rate."""
    from opuslib import Decoder, rtp_stream

    sdp = (
        "v=0\r\no=- 1 1 IN IP4 {a}\r\ns=-\r\nc=IN IP4 {a}\r\nt=0 0\r\n"
        "m=audio {port} RTP/AVP 111 101\r\na=rtpmap:111 opus/48000/2\r\n"
        f"a=rtpmap:101 telephone-event/{te_rate}\r\n"
    )
    x, spans = sg.keyed_sequence("2468", 80, 90, -10, lead_ms=300, sample_rate=48000)
    pcm = sg.to_int16(np.concatenate([x, np.zeros(24000)]))
    frames = [
        (
            1000.0,
            _frame(
                "ethernet",
                _ip(
                    A,
                    B,
                    5060,
                    5060,
                    ("INVITE sip:b@x SIP/2.0\r\n\r\n" + sdp.format(a=A, port=42000)).encode(),
                    False,
                ),
            ),
        ),
        (
            1000.1,
            _frame(
                "ethernet",
                _ip(
                    B,
                    A,
                    5060,
                    5060,
                    ("SIP/2.0 200 OK\r\n\r\n" + sdp.format(a=B, port=52000)).encode(),
                    False,
                ),
            ),
        ),
    ]
    rtp = [RtpPacket.parse(p) for p in rtp_stream(pcm, "hybrid", 20, 24000, ssrc=0xC)]
    for (s, _), d in zip(spans, "2468", strict=True):  # each keypress's first 20 ms, as an event
        payload = bytes([int(d), 10]) + (te_rate // 50).to_bytes(2, "big")
        rtp.append(RtpPacket(101, True, 0, s, 0xC, payload=payload))
    rtp.sort(key=lambda p: p.timestamp)  # stable: an event after the audio packet it starts in
    for i, p in enumerate(rtp):
        p = RtpPacket(p.payload_type, p.marker, 500 + i, p.timestamp, 0xC, payload=p.payload)
        sent = 1001 + p.timestamp / 48000
        frames.append((sent, _frame("ethernet", _ip(A, B, 42000, 52000, p.serialize(), False))))
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_timed(src, frames)
    r = scrub_pcap(src, dst)
    (stream,) = r.streams
    lengths = [(e["name"], e["end_ms"] - e["start_ms"]) for e in stream.events]
    assert lengths == [("rfc4733", 20)] * 4  # the first packet's, read at the declared rate
    lt, out = _read(dst)
    dec = Decoder(8000)
    audio, seqs = [], []
    for fr in out[2:]:
        ip, udp = _udp(lt, fr)
        assert _checksum_ok(ip, udp) and udp.ulen == 8 + len(udp.data) == ip.len - 20
        hdr = bytes(fr)[14:34]  # the IPv4 header's own checksum
        assert sum(int.from_bytes(hdr[i : i + 2], "big") for i in range(0, 20, 2)) % 0xFFFF == 0
        p = RtpPacket.parse(bytes(udp.data))
        seqs.append(p.sequence_number)
        audio.append(dec.decode(p.payload, 960))
    assert seqs == list(range(500, 500 + len(pcm) // 960))
    assert spandsp.spandsp_digits(np.concatenate(audio), lenient=True) == ("", 0)


def _one_call(tmp_path: Path, media: str, rtp: list[bytes]) -> tuple[Path, Path]:
    """A capture of one call, A to B: INVITE and 200 OK with an m=audio line of `media`
    (its formats and attribute lines), then `rtp` 20 ms apart; its path and the output's."""
    sdp = (
        "v=0\r\no=- 1 1 IN IP4 {a}\r\ns=-\r\nc=IN IP4 {a}\r\nt=0 0\r\n"
        f"m=audio {{port}} RTP/AVP {media}\r\n"
    )
    invite = "INVITE sip:b@x SIP/2.0\r\n\r\n" + sdp.format(a=A, port=42000)
    ok = "SIP/2.0 200 OK\r\n\r\n" + sdp.format(a=B, port=52000)
    frames = [
        (1000.0, _frame("ethernet", _ip(A, B, 5060, 5060, invite.encode(), False))),
        (1000.1, _frame("ethernet", _ip(B, A, 5060, 5060, ok.encode(), False))),
    ]
    for i, p in enumerate(rtp):
        frames.append((1001 + i / 50, _frame("ethernet", _ip(A, B, 42000, 52000, p, False))))
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_timed(src, frames)
    return src, dst


def test_a_call_that_switches_between_pcmu_and_opus_is_scrubbed_whole(tmp_path: Path) -> None:
    """An answer listing Opus and PCMU, a sender that switches between them mid-call: the
    flow goes through a filter of both families, every packet kept in its codec, nothing
    of any keypress heard (before, the PCMU packets were dropped as of an unknown type)."""
    from test_both_families import _call, _hear, _keyed

    pcm, spans = _keyed("36925", seed=11)
    rtp = _call(pcm, [40, 75], "silk")
    src, dst = _one_call(tmp_path, "111 0\r\na=rtpmap:111 opus/48000/2", rtp)
    r = scrub_pcap(src, dst, reveal_digits=True)
    (stream,) = r.streams
    assert (stream.packets_in, stream.packets_out) == (len(rtp), len(rtp))
    assert "".join(e["digit"] for e in stream.events) == "36925"
    # each keypress placed on the RTP stream, on the clock of the family that carried it
    for (s, e), ev in zip(spans, stream.events, strict=True):
        at, unit = (7777 + 6 * s, 6) if 40 <= s // 160 < 75 else (5000 + s, 1)
        assert abs(ev["rtp_timestamp"] - at) <= 80 * unit  # 10 ms (Opus: the codec's delay)
        assert abs(ev["rtp_duration"] - unit * (e - s)) <= 80 * unit
    lt, out = _read(dst)
    sent = [bytes(_udp(lt, fr)[1].data) for fr in out[2:]]
    assert [RtpPacket.parse(p).payload_type for p in sent] == [
        RtpPacket.parse(p).payload_type for p in rtp
    ]
    assert spandsp.spandsp_digits(_hear(sent), lenient=True) == ("", 0)


def test_events_replaced_in_a_call_of_both_families_go_to_their_frames(tmp_path: Path) -> None:
    """telephone_events="replace" in a capture whose sender switches from PCMU to Opus and
    sends events instead of audio in each part (telephone-event/8000 beside PCMU, two
    keypresses 60 ms apart, /48000 beside Opus): each replacement, audio of its part's codec,
    is written over the event frame it came from (its capture time), and no frame is lost.
    (Before, the search read a telephone-event/8000 duration at 48 kHz units in the G.711
    part too: the second keypress's replacements went to the first one's repeated end
    packets.)"""
    from test_both_families import SSRC, _call

    rng = np.random.default_rng(6)
    raw = [RtpPacket.parse(p) for p in _call(sg.to_int16(sg.white_noise(24000, -45, rng)), [75])]
    sent: list[RtpPacket] = []
    replaced: dict[int, tuple[int, int]] = {}  # frame index: (payload type, timestamp) out
    for i, p in enumerate(raw):
        if not (25 <= i < 30 or 33 <= i < 38 or 100 <= i < 105):
            sent.append(p)
            continue
        first = 25 if i < 30 else 33 if i < 38 else 100
        pt, unit = (101, 160) if i < 38 else (102, 960)
        k = i - first
        replaced[len(sent)] = (p.payload_type, p.timestamp)
        ev = bytes([5, 0x80 * (k == 4) | 10]) + ((k + 1) * unit).to_bytes(2, "big")
        event = RtpPacket(pt, k == 0, 0, raw[first].timestamp, SSRC, payload=ev)
        sent += [event] * (3 if k == 4 else 1)
    stream = [
        RtpPacket(p.payload_type, p.marker, 1000 + i, p.timestamp, p.ssrc, payload=p.payload)
        for i, p in enumerate(sent)
    ]
    media = (
        "111 0 101 102\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:101 telephone-event/8000"
        "\r\na=rtpmap:102 telephone-event/48000"
    )
    src, dst = _one_call(tmp_path, media, [p.serialize() for p in stream])
    r = scrub_pcap(src, dst, telephone_events="replace")
    (report,) = r.streams
    assert (report.packets_in, report.packets_out) == (len(stream), len(raw))
    with dst.open("rb") as f:
        out = list(dpkt.pcap.Reader(f))[2:]
    placed = {
        round((ts - 1001) * 50): RtpPacket.parse(bytes(_udp(1, frame)[1].data)) for ts, frame in out
    }
    assert len(placed) == len(raw)
    for at, (pt, timestamp) in replaced.items():
        assert (placed[at].payload_type, placed[at].timestamp) == (pt, timestamp), at


def test_opus_listed_under_two_numbers_is_scrubbed_under_both(tmp_path: Path) -> None:
    """An SDP that lists Opus twice (two fmtp lines), a sender using both numbers: every
    packet scrubbed and kept (before, those under the second number were dropped)."""
    from test_both_families import OPUS, _call, _hear, _keyed, under_two_numbers

    pcm, _ = _keyed("147", seed=15)
    rtp = under_two_numbers(_call(pcm, [0], "celt"), {OPUS: 109})
    media = (
        "111 109\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:109 opus/48000/2\r\na=fmtp:109 stereo=1"
    )
    src, dst = _one_call(tmp_path, media, rtp)
    r = scrub_pcap(src, dst, reveal_digits=True)
    (stream,) = r.streams
    assert (stream.packets_in, stream.packets_out) == (len(rtp), len(rtp))
    assert "".join(e["digit"] for e in stream.events) == "147"
    lt, out = _read(dst)
    sent = [RtpPacket.parse(bytes(_udp(lt, fr)[1].data)) for fr in out[2:]]
    heard = [
        RtpPacket(111, False, p.sequence_number, p.timestamp, p.ssrc, payload=p.payload).serialize()
        for p in sent
    ]
    assert spandsp.spandsp_digits(_hear(heard), lenient=True) == ("", 0)


def test_video_beside_audio_with_the_same_payload_type_passes_untouched(tmp_path: Path) -> None:
    """Dynamic payload types are numbered per media line: an SDP may give Opus 96 on its
    audio line and VP8 96 on its video line. The video flow, on a port the SDP gives video,
    was taken for audio by its payload type, went through an Opus filter and was dropped
    whole; now it is written as it was. G.711 on such a port is still scrubbed (its static
    payload types are audio wherever they are: a misdeclared port leaks nothing)."""
    from opuslib import Decoder, rtp_stream

    sdp = (
        "v=0\r\no=- 1 1 IN IP4 {a}\r\ns=-\r\nc=IN IP4 {a}\r\nt=0 0\r\n"
        "m=audio {port} RTP/AVP 96\r\na=rtpmap:96 opus/48000/2\r\n"
        "m=video {video} RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"
        "m=video {slides} RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\n"
    )
    frames = []
    for ts, (src, dst, head, port) in enumerate(
        [(A, B, "INVITE sip:b@x SIP/2.0", 42000), (B, A, "SIP/2.0 200 OK", 52000)]
    ):
        body = sdp.format(a=src, port=port, video=port + 2, slides=port + 4)
        sip = _ip(src, dst, 5060, 5060, f"{head}\r\n\r\n{body}".encode(), False)
        frames.append((1000.0 + ts, _frame("ethernet", sip)))
    x, _ = sg.keyed_sequence("2468", 80, 90, -10, lead_ms=300, sample_rate=48000)
    opus = rtp_stream(sg.to_int16(x), "hybrid", 20, 24000, pt=96, ssrc=0xC, seq0=500)
    frames += [
        (1002 + i / 50, _frame("ethernet", _ip(A, B, 42000, 52000, p, False)))
        for i, p in enumerate(opus)
    ]
    rng = np.random.default_rng(0)
    video = [
        RtpPacket(96, i % 5 == 4, 200 + i, 3000 * i, 0xD, payload=rng.bytes(900)).serialize()
        for i in range(len(opus))
    ]
    frames += [
        (1002.005 + i / 50, _frame("ethernet", _ip(A, B, 42002, 52002, p, False)))
        for i, p in enumerate(video)
    ]
    # A key frame larger than the path's MTU, in IP fragments: kept too (RTP in fragments
    # that may be audio is left out).
    big = RtpPacket(96, True, 200 + len(video), 0, 0xD, payload=rng.bytes(2400)).serialize()
    pieces, _ = _fragmented(A, B, big, False, 1200, 0x4242, (42002, 52002))
    frames += [(1001.5 + k / 1000, fr) for k, (_, fr) in enumerate(pieces)]
    # G.711 keypresses where the SDP gives video (the second video line): audio all the same.
    pcm = sg.to_int16(sg.keyed_sequence("1357", 80, 90, -10, lead_ms=300)[0])
    assert spandsp.spandsp_digits(pcm, lenient=True)[1] == 4
    g711 = [
        RtpPacket(0, False, 7 + i, 160 * i, 0xE, payload=pf.ulaw_encode(pcm[k : k + 160]).tobytes())
        for i, k in enumerate(range(0, len(pcm) - 159, 160))
    ]
    frames += [
        (1002.01 + i / 50, _frame("ethernet", _ip(B, A, 52004, 42004, p.serialize(), False)))
        for i, p in enumerate(g711)
    ]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_timed(src, sorted(frames, key=lambda t: t[0]))
    r = scrub_pcap(src, dst)
    assert sorted(s.ssrc for s in r.streams) == [0xC, 0xE] and r.fragments_unscrubbed == 0
    lt, out = _read(dst)
    assert all(fr in out for _, fr in pieces)
    datagrams = [_udp(lt, fr)[1] for fr in out if fr not in [fr for _, fr in pieces]]
    assert [bytes(u.data) for u in datagrams if u.sport == 42002] == video
    dec = Decoder(8000)
    heard = np.concatenate([dec.decode(bytes(u.data), 960) for u in datagrams if u.sport == 42000])
    assert spandsp.spandsp_digits(heard, lenient=True) == ("", 0)
    back = [RtpPacket.parse(bytes(u.data)) for u in datagrams if u.sport == 52004]
    assert len(back) == len(g711)
    y = np.concatenate([pf.ulaw_decode(np.frombuffer(p.payload, np.uint8)) for p in back])
    assert spandsp.spandsp_digits(y, lenient=True) == ("", 0)


@pytest.mark.parametrize("order", ["opus first", "pcmu first"])
def test_a_port_used_again_by_a_later_call_is_read_with_each_call_s_sdp(
    tmp_path: Path, order: str
) -> None:
    """A long capture from a media relay holds call after call on the same ports, each with
    its own SDP. Each flow is read with the SDP given for its port last before it began: an
    Opus call's packets went through the G.711 filter the later call's SDP asked for, and
    were all dropped."""
    from opuslib import Decoder, rtp_stream, upsample6

    opus_sdp = (
        SDP.replace("0 96", "111 96")
        .replace("a=rtpmap:0 PCMU/8000", "a=rtpmap:111 opus/48000/2")
        .replace("telephone-event/8000", "telephone-event/48000")
    )
    pcm = sg.to_int16(sg.keyed_sequence("2468", 80, 90, -10, lead_ms=300)[0])
    opus = rtp_stream(upsample6(pcm), "silk", 20, 24000, ssrc=0xC)
    g711 = [
        RtpPacket(0, i == 0, i, 160 * i, 0xE, payload=pf.ulaw_encode(pcm[k : k + 160]).tobytes())
        for i, k in enumerate(range(0, len(pcm) - 159, 160))
    ]
    calls = [(opus_sdp, opus), (SDP, [p.serialize() for p in g711])]
    if order == "pcmu first":
        calls.reverse()
    frames = []
    for n, (sdp, packets) in enumerate(calls):
        at = 1000.0 + 100 * n
        for ts, (src, dst, head, port) in enumerate(
            [(A, B, "INVITE sip:b@x SIP/2.0", 42000), (B, A, "SIP/2.0 200 OK", 52000)]
        ):
            sip = _ip(
                src,
                dst,
                5060,
                5060,
                f"{head}\r\n\r\n{sdp.format(a=src, port=port)}".encode(),
                False,
            )
            frames.append((at + ts / 100, _frame("ethernet", sip)))
        frames += [
            (at + 1 + i / 50, _frame("ethernet", _ip(A, B, 42000, 52000, p, False)))
            for i, p in enumerate(packets)
        ]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_timed(src, frames)
    r = scrub_pcap(src, dst)
    assert sorted((s.ssrc, s.packets_out, len(s.events)) for s in r.streams) == [
        (0xC, len(opus), 4),
        (0xE, len(g711), 4),
    ]
    lt, out = _read(dst)
    rtp = [
        RtpPacket.parse(bytes(_udp(lt, fr)[1].data)) for fr in out if _udp(lt, fr)[1].sport == 42000
    ]
    dec = Decoder(8000)
    heard = np.concatenate([dec.decode(p.payload, 960) for p in rtp if p.ssrc == 0xC])
    assert spandsp.spandsp_digits(heard, lenient=True) == ("", 0)
    y = np.concatenate(
        [pf.ulaw_decode(np.frombuffer(p.payload, np.uint8)) for p in rtp if p.ssrc == 0xE]
    )
    assert spandsp.spandsp_digits(y, lenient=True) == ("", 0)


@pytest.mark.parametrize(("lead_ms", "cut"), [(315, 34), (305, 37), (300, 35)])
def test_a_keypress_cut_by_an_ssrc_change_in_a_capture_leaves_nothing(
    tmp_path: Path, lead_ms: int, cut: int
) -> None:
    """A path whose SSRC changes in the middle of a keypress (a media server switching
    sources): each SSRC is a flow scrubbed by a filter of its own, and either part may be too
    short for the detector (here its first 5 ms, its last 5 ms, or halves); the flow that
    another continues has its last 40 ms masked, the one that continues another its first
    40 ms."""
    from leak import worst_window_db

    rng = np.random.default_rng(8)
    x, spans = sg.keyed_sequence("4712", 80, 100, -12, lead_ms=lead_ms)
    pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
    s, e = spans[2]
    assert s < cut * 160 < e
    rtp = [
        RtpPacket(
            0, k == 0, k, 160 * k, 0xA if k < cut else 0xB, payload=pf.ulaw_encode(chunk).tobytes()
        )
        for k, chunk in enumerate(pcm[: len(pcm) // 160 * 160].reshape(-1, 160))
    ]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(
        src, [_frame("ethernet", _ip(A, B, 40000, 50000, p.serialize(), False)) for p in rtp]
    )
    r = scrub_pcap(src, dst, rtp_ports=[50000])
    assert len(r.streams) == 2
    lt, frames = _read(dst)
    out = [RtpPacket.parse(bytes(_udp(lt, fr)[1].data)) for fr in frames]
    y = np.zeros(len(pcm))
    for p in out:
        y[p.timestamp : p.timestamp + 160] = pf.ulaw_decode(p.payload)
    assert worst_window_db(y, s, e, "1", -12) <= -40.0
    assert spandsp.spandsp_digits(y.astype(np.int16), lenient=True) == ("", 0)


@pytest.mark.parametrize("ng", [False, True])
def test_frames_keep_their_place_and_time(tmp_path: Path, ng: bool) -> None:
    """Each packet out goes back to its own frame: capture times (to the nanosecond) and order
    are kept through reordering; a duplicate is removed; the first IPv4 fragment of an RTP
    datagram whose other fragment was not captured is left out (its audio cannot be
    scrubbed), or kept as it was with keep_fragments."""
    x, _ = sg.keyed_sequence("5555", 80, 90, -10, lead_ms=200)
    pcm = sg.to_int16(x)
    sdp = SDP.format(a=A, port=40000)
    frames = [
        (
            _frame(
                "ethernet", _ip(A, B, 5060, 5060, f"INVITE x SIP/2.0\r\n\r\n{sdp}".encode(), False)
            )
        )
    ]
    rtp = [
        RtpPacket(
            0,
            k == 0,
            k,
            160 * k,
            0xA,
            payload=pf.ulaw_encode(pcm[160 * k : 160 * k + 160]).tobytes(),
        ).serialize()
        for k in range(len(pcm) // 160)
    ]
    rtp[20], rtp[21] = rtp[21], rtp[20]  # reordered on the way
    rtp.insert(31, rtp[30])  # and a duplicate
    frames += [_frame("ethernet", _ip(A, B, 40000, 50000, p, False)) for p in rtp]
    frag = _ip(A, B, 40000, 50000, rtp[5], False)
    frag.mf = 1  # the first fragment of a larger datagram: not read as UDP
    frames.insert(40, _frame("ethernet", frag))
    times = [1000 + 0.020 * i + 1.23456789e-7 for i in range(len(frames))]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    with src.open("wb") as f:
        w = dpkt.pcapng.Writer(f) if ng else dpkt.pcap.Writer(f, nano=True)
        for ts, fr in zip(times, frames, strict=True):
            w.writepkt(fr, ts=ts)
    r = scrub_pcap(src, dst, keep_fragments=True)
    assert (r.frames_in, r.frames_out, r.fragments_unscrubbed) == (len(frames), len(frames) - 1, 1)
    with dst.open("rb") as f:
        assert list(dpkt.pcapng.Reader(f) if ng else dpkt.pcap.Reader(f))[39][1] == frames[40]
    r = scrub_pcap(src, dst)
    assert (r.frames_in, r.frames_out, r.fragments_unscrubbed) == (len(frames), len(frames) - 2, 1)
    with dst.open("rb") as f:
        out = list(dpkt.pcapng.Reader(f) if ng else dpkt.pcap.Reader(f))
    # The duplicate's frame (the later one) is gone, and so is the fragment.
    kept_times = times[:32] + times[33:40] + times[41:]
    resolution = 1e-6 if ng else 1e-9  # dpkt writes pcapng in microseconds
    got = [float(t) for t, _ in out]
    assert all(abs(t - u) < resolution / 2 for t, u in zip(got, kept_times, strict=True))
    rtp_out = [RtpPacket.parse(bytes(_udp(1, b)[1].data)) for _, b in out[1:]]
    expect = [RtpPacket.parse(p) for p in rtp[:31] + rtp[32:]]
    assert [p.timestamp for p in rtp_out] == [p.timestamp for p in expect]  # order kept
    assert [p.sequence_number for p in rtp_out] == [p.sequence_number for p in expect]
    audio = np.concatenate(
        [pf.ulaw_decode(p.payload) for p in sorted(rtp_out, key=lambda p: p.timestamp)]
    )
    assert spandsp.spandsp_digits(audio, lenient=True) == ("", 0)
    assert len(r.streams[0].events) == 4


def test_truncated_capture_is_an_error_not_a_copy(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _capture(src)
    data = src.read_bytes()
    src.write_bytes(data[: len(data) - 50])  # the last record cut short
    with pytest.raises(ValueError, match="truncated"):
        scrub_pcap(src, dst)
    assert not dst.exists()
    src.write_bytes(b"not a capture at all")
    with pytest.raises(ValueError, match=r"in\.pcap"):
        scrub_pcap(src, dst)
    with pytest.raises(FileNotFoundError):
        scrub_pcap(tmp_path / "missing.pcap", dst)


@pytest.fixture(scope="module")
def small_capture(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("cap") / "in.pcap"
    _capture(path, "vlan", ng=False, v6=False)
    data = path.read_bytes()
    end = 24
    for _ in range(40):  # the file header and the first 40 records (SIP, RTP, DNS)
        end += 16 + int.from_bytes(data[end + 8 : end + 12], "little")
    return data[:end]


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.integers(24, 7000), st.integers(0, 255)), max_size=8))
def test_hostile_captures_are_refused_or_scrubbed(
    small_capture: bytes, tmp_path: Path, edits: list[tuple[int, int]]
) -> None:
    """Bytes changed anywhere past the file header (record lengths, link, IP and UDP headers,
    SIP bodies, RTP): a clean ValueError or a scrubbed capture dpkt can read, never a crash."""
    data = bytearray(small_capture)
    for at, value in edits:
        if at < len(data):
            data[at] = value
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    src.write_bytes(bytes(data))
    dst.unlink(missing_ok=True)
    try:
        r = scrub_pcap(src, dst)
    except ValueError:
        assert not dst.exists()
        return
    assert r.frames_out <= r.frames_in
    _, frames = _read(dst)
    assert len(frames) == r.frames_out
    if not edits:
        assert r.frames_in == 40 and len(r.streams) == 2


@pytest.mark.parametrize("args", [["--te-pt", "200"], ["--pt", "300"], ["--te-pt", "-1"]])
def test_payload_types_outside_rtp_s_range_are_an_error(
    tmp_path: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Was an IndexError out of the flow's payload-type counts (a traceback, not a message)."""
    src = tmp_path / "in.pcap"
    _write_pcap(src, _plain_rtp_frames())
    assert main(["scrub", str(src), str(tmp_path / "out.pcap"), *args]) != 0
    assert "payload types are within [0, 127]" in capsys.readouterr().err
    assert not (tmp_path / "out.pcap").exists()


def test_unwritable_output_is_an_error(tmp_path: Path) -> None:
    src = tmp_path / "in.pcap"
    _capture(src)
    with pytest.raises(RuntimeError, match="no-such-dir"):
        scrub_pcap(src, tmp_path / "no-such-dir" / "out.pcap")
    assert main(["scrub", str(src), str(tmp_path / "no-such-dir" / "out.pcap")]) == 2


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_failed_write_is_an_error(tmp_path: Path) -> None:
    src = tmp_path / "in.pcap"
    _capture(src)
    with pytest.raises(RuntimeError, match="No space left"):
        scrub_pcap(src, "/dev/full")  # every write fails: the error is reported
    assert Path("/dev/full").exists()  # and the device is left alone


INFO = (
    "INFO sip:pay@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1\r\nCSeq: {n} INFO\r\n"
    "Content-Type: {ctype}\r\nContent-Length: {length}\r\n\r\n{body}"
)


def _info(ctype: str, body: str, n: int = 2) -> bytes:
    return INFO.format(n=n, ctype=ctype, length=len(body), body=body).encode()


@pytest.mark.parametrize(
    ("ctype", "body", "redacted"),
    [
        ("application/dtmf-relay", "Signal=4\r\nDuration=160\r\n", "Signal=X\r\nDuration=160\r\n"),
        (
            "application/dtmf-relay",
            "signal = 11\r\nDuration=250\r\n",
            "signal = XX\r\nDuration=250\r\n",
        ),
        ("Application/DTMF", "#\r\n", "X\r\n"),
        ("audio/telephone-event", "\x05\x0a\x00\x50", "XXXX"),  # Cisco NOTIFY: 5, 80 ms
        ("application/dtmf-event", "d=5\r\n", "XXXXX"),
        (
            "application/kpml-response+xml",
            '<response version="1.0" code="200" text="OK" digits="4111" tag="card"/>',
            '<response version="1.0" code="200" text="OK" digits="XXXX" tag="card"/>',
        ),
        # other vendors' types, read by their name: the body replaced whole
        ("application/x-dtmf", "5\r\n", "XXX"),
        ("application/x-dtmf-relay", "Signal=5\r\n", "XXXXXXXXXX"),
        ("application/vnd.nortelnetworks.digits", "d=5\r\n", "XXXXX"),
    ],
)
def test_sip_dtmf_bodies_are_redacted(ctype: str, body: str, redacted: str) -> None:
    from pcifilter.sip_messages import sip_without_dtmf

    out = sip_without_dtmf(_info(ctype, body))
    assert out == _info(ctype, redacted)  # same length: Content-Length still right


_MULTIPART = (
    "--b1\r\nContent-Type: application/sdp\r\n\r\nv=0\r\n"
    "--b1\r\nContent-Type: application/dtmf\r\n\r\n5\r\n--b1--\r\n"
)


@pytest.mark.parametrize(
    ("message", "redacted"),
    [
        # no blank line before the body: all of it reads as headers
        (
            b"INFO sip:x SIP/2.0\r\nContent-Type: application/dtmf-relay\r\nSignal=7\r\n",
            b"INFO sip:x SIP/2.0\r\nContent-Type: application/dtmf-relay\r\nSignal=X\r\n",
        ),
        # the Content-Type missing or wrong: the body's form tells
        (
            _info("text/plain", "Signal=7\r\n"),
            _info("text/plain", "Signal=X\r\n"),
        ),
        # a type that names DTMF, garbled: the body replaced whole
        (
            _info("application/dtmf-rel", "Signal=7\r\n"),
            _info("application/dtmf-rel", "XXXXXXXXXX"),
        ),
        (
            b"INFO sip:x SIP/2.0\r\nCSeq: 2 INFO\r\n\r\nSignal=7\r\nDuration=160\r\n",
            b"INFO sip:x SIP/2.0\r\nCSeq: 2 INFO\r\n\r\nSignal=X\r\nDuration=160\r\n",
        ),
        (
            b"INFO sip:x SIP/2.0\r\nCSeq: 2 INFO\r\n\r\n#\r\n",
            b"INFO sip:x SIP/2.0\r\nCSeq: 2 INFO\r\n\r\nX\r\n",
        ),
        # a keypress as a header ("Signal: 7", as some gateways send it)
        (
            b"INFO sip:x SIP/2.0\r\nSignal: 7\r\nDuration: 160\r\nContent-Length: 0\r\n\r\n",
            b"INFO sip:x SIP/2.0\r\nSignal: X\r\nDuration: 160\r\nContent-Length: 0\r\n\r\n",
        ),
        # one part of a multipart body (RFC 6086 allows several bodies)
        (
            _info('multipart/mixed;boundary="b1"', _MULTIPART),
            _info('multipart/mixed;boundary="b1"', _MULTIPART.replace("\n5\r", "\nX\r")),
        ),
    ],
)
def test_sip_keypresses_out_of_their_usual_place_are_redacted(
    message: bytes, redacted: bytes
) -> None:
    """Each was left as it was: keypresses were looked for only in a body with a blank line
    before it, by its own Content-Type (found by mutating SIP INFO messages in a capture)."""
    from pcifilter.sip_messages import sip_without_dtmf

    assert sip_without_dtmf(message) == redacted


def test_other_sip_bodies_are_left_alone() -> None:
    from pcifilter.sip_messages import sip_without_dtmf

    assert sip_without_dtmf(_info("application/sdp", SDP.format(a=A, port=4000))) is None
    assert sip_without_dtmf(b"BYE sip:x SIP/2.0\r\nCSeq: 3 BYE\r\n\r\n") is None
    assert sip_without_dtmf(_info("application/dtmf-relay", "Duration=160\r\n")) is None
    # a multipart body whose delimiter never comes (scrub_pcap raised a ValueError on it)
    assert sip_without_dtmf(_info('multipart/mixed;boundary="b1"', "no delimiter\r\n")) is None


def test_capture_with_sip_info_dtmf_leaves_no_digit(tmp_path: Path) -> None:
    """Keypresses signalled in SIP INFO are card data too: the scrubbed capture holds none;
    every frame keeps a valid checksum; --keep-sip-dtmf writes them as they were."""
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    info = _capture(src)
    with src.open("rb") as f:
        frames = [(ts, bytes(buf)) for ts, buf in dpkt.pcap.Reader(f)]
    extra = [
        _frame(
            "ethernet",
            _ip(
                A,
                B,
                5060,
                5060,
                _info("application/dtmf-relay", f"Signal={d}\r\nDuration=160\r\n", 10 + i),
                False,
            ),
        )
        for i, d in enumerate(CARD[:8])
    ]
    _write_timed(src, frames[:3] + [(2000.0 + i, e) for i, e in enumerate(extra)] + frames[3:])
    r = scrub_pcap(src, dst)
    assert r.sip_dtmf_redacted == 8 and r.frames_out <= info["frames"] + 8
    _, out = _read(dst)
    sip = [(ip, udp) for ip, udp in (_udp(1, fr) for fr in out) if udp.dport == 5060]
    infos = [bytes(udp.data) for _, udp in sip if bytes(udp.data).startswith(b"INFO")]
    assert len(infos) == 8 and all(b"Signal=X\r\n" in m for m in infos)
    assert all(_checksum_ok(ip, udp) for ip, udp in sip)
    assert main(["scrub", str(src), str(dst), "--keep-sip-dtmf"]) == 0
    _, kept = _read(dst)
    assert sum(b"Signal=4\r\n" in fr for fr in kept) == 1


def _sipless_capture(path: Path, te_pt: int) -> tuple[np.ndarray, int]:
    """PCMU on ports no SDP names, RFC 4733 beside it as `te_pt`, one SSRC, and a UDP flow
    of something else whose bytes happen to parse as RTP."""
    rng = np.random.default_rng(9)
    x, spans = sg.keyed_sequence("2580", 80, 90, -12, lead_ms=300)
    pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
    frames, seq, t = [], itertools.count(100), 1000.0
    codes = {d: i for i, d in enumerate("0123456789*#")}
    for k in range(len(pcm) // 160):
        rtp = RtpPacket(
            0,
            k == 0,
            next(seq),
            160 * k,
            0x77,
            payload=pf.ulaw_encode(pcm[160 * k : 160 * k + 160]).tobytes(),
        )
        frames.append(_frame("ethernet", _ip(A, B, 31000, 32000, rtp.serialize(), False)))
        for (s, e), d in zip(spans, "2580", strict=True):
            if s <= 160 * k < e:
                ev = bytes([codes[d], 10]) + (160 * k + 160 - s).to_bytes(2, "big")
                te = RtpPacket(te_pt, 160 * k == s, next(seq), s, 0x77, payload=ev).serialize()
                frames.append(_frame("ethernet", _ip(A, B, 31000, 32000, te, False)))
    other = [
        bytes([0x80, int(rng.integers(0, 128))]) + bytes(6) + b"\x00\x00\x00\x05" + rng.bytes(30)
        for _ in range(40)
    ]  # v2-looking datagrams, a fixed "SSRC", scattered payload types
    frames += [_frame("ethernet", _ip(A, "10.0.0.9", 7000, 7001, o, False)) for o in other]
    with path.open("wb") as f:
        w = dpkt.pcap.Writer(f)
        for fr in frames:
            w.writepkt(fr, ts=t)
            t += 0.001
    return pcm, len(other)


@pytest.mark.parametrize("declared", [False, True])
def test_streams_without_sdp_are_found_and_taken_whole(tmp_path: Path, declared: bool) -> None:
    """No SIP in the capture: the PCMU stream is found by heuristics and scrubbed whole; its
    telephone-events (PT 96, not the default 101) leave with it, and are reported as
    keypresses when declared (--te-pt 96); the other RTP-like flow is not taken for audio:
    left out, or written as it was with --keep-unscrubbed-flows."""
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    pcm, n_other = _sipless_capture(src, 96)
    args = ["scrub", str(src), str(dst), "--events", str(tmp_path / "ev.jsonl")]
    assert main([*args, "--te-pt", "96"] if declared else args) == 0
    _, out = _read(dst)
    rtp = [
        RtpPacket.parse(bytes(_udp(1, fr)[1].data)) for fr in out if _udp(1, fr)[1].dport == 32000
    ]
    assert {p.payload_type for p in rtp} == {0}  # no telephone-event left, declared or not
    assert not any(_udp(1, fr)[1].dport == 7001 for fr in out)  # left out
    assert main([*args, "--keep-unscrubbed-flows"]) == 0
    kept = [bytes(_udp(1, fr)[1].data) for fr in _read(dst)[1] if _udp(1, fr)[1].dport == 7001]
    assert len(kept) == n_other  # untouched
    audio = np.concatenate([pf.ulaw_decode(p.payload) for p in rtp])
    assert spandsp.spandsp_digits(audio, lenient=True) == ("", 0)
    assert spandsp.spandsp_digits(pcm)[0] == "2580"
    events = (tmp_path / "ev.jsonl").read_text().splitlines()
    assert len(events) == 4  # in-band and RFC 4733 of each keypress, reported once


@pytest.mark.parametrize(("onset_ms", "te_pt"), [(10, 101), (30, 101), (10, 96), (30, 110)])
def test_events_under_their_own_ssrc_go_through_the_audio_s_filter(
    tmp_path: Path, onset_ms: int, te_pt: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """A gateway that sends each keypress's first `onset_ms` in-band and then
    telephone-events instead of audio, under an SSRC and a sequence of their own (rtpengine
    issue 1569). Before, the events were a stream of their own in the capture, scrubbed by a
    filter of their own, their keypresses reported under their SSRC (the audio's onsets
    masked only by the guards at the audio's pauses). Now they go through the audio's
    filter, as they do live: one stream, each keypress reported once, every onset masked
    (by the events too), the audio's sequence numbers as they were. With no SDP and no port
    given, events on a payload type no one named (96, 110) are known by their packets (RFC
    4733's form): before, their flow was other traffic, written as it was, keypresses on."""
    from leak import worst_window_db

    rng = np.random.default_rng(11)
    x, spans = sg.keyed_sequence("2580", 80, 120, -12, lead_ms=310)
    pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
    codes = {d: i for i, d in enumerate("0123456789*#")}
    frames, seq = [], itertools.count(300)
    for k in range(len(pcm) // 160):
        at = 160 * k
        key = next(
            ((s, e, d) for (s, e), d in zip(spans, "2580", strict=True) if s <= at < e), None
        )
        if key is None or at < key[0] + 8 * onset_ms - 80:  # audio until the events take over
            rtp = RtpPacket(
                0, k == 0, k, at, 0xA, payload=pf.ulaw_encode(pcm[at : at + 160]).tobytes()
            )
            frames.append(_frame("ethernet", _ip(A, B, 40000, 50000, rtp.serialize(), False)))
        if key is not None:
            s, e, d = key
            end = at + 160 >= e
            ev = bytes([codes[d], (0x80 if end else 0) | 10]) + (min(at + 160, e) - s).to_bytes(
                2, "big"
            )
            for _ in range(3 if end else 1):
                te = RtpPacket(te_pt, at == s, next(seq), s, 0xE, payload=ev).serialize()
                frames.append(_frame("ethernet", _ip(A, B, 40000, 50000, te, False)))
    # Another flow of 4-byte RTP-like payloads whose timestamps move on: not events, and not
    # audio: not taken for a stream (left out unless kept).
    decoy = [
        _frame(
            "ethernet",
            _ip(
                A,
                B,
                41000,
                51000,
                RtpPacket(120, False, k, 160 * k, 0xD, payload=b"\x05\x0a\x00\xa0").serialize(),
                False,
            ),
        )
        for k in range(20)
    ]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames + decoy)
    ports = [50000] if te_pt == 101 else []  # else neither SDP nor a port: found by its form
    r = scrub_pcap(src, dst, rtp_ports=ports, reveal_digits=True, keep_unscrubbed_flows=True)
    (stream,) = r.streams
    assert (stream.ssrc, stream.event_ssrcs) == (0xA, [0xE])
    assert [f.ssrc for f in r.unscrubbed_flows] == [0xD]
    port_args = [arg for p in ports for arg in ("--rtp-port", str(p))]
    assert main(["scrub", str(src), str(tmp_path / "cli.pcap"), *port_args]) == 0
    assert "ssrc 0x0000000a, telephone-events under ssrc 0x0000000e: " in capsys.readouterr().out
    assert "".join(e["digit"] for e in stream.events) == "2580"
    lt, out = _read(dst)
    assert out[-len(decoy) :] == decoy
    rtp = [RtpPacket.parse(bytes(_udp(lt, fr)[1].data)) for fr in out[: -len(decoy)]]
    assert {(p.payload_type, p.ssrc) for p in rtp} == {(0, 0xA)}
    assert [p.sequence_number for p in rtp] == [
        RtpPacket.parse(bytes(_udp(1, fr)[1].data)).sequence_number
        for fr in frames
        if _udp(1, fr)[1].data[1] & 0x7F == 0
    ]
    y = np.zeros(len(pcm))
    for p in rtp:
        y[p.timestamp : p.timestamp + 160] = pf.ulaw_decode(p.payload)
    for (s, e), d in zip(spans, "2580", strict=True):
        assert worst_window_db(y, s, e, d, -12) <= -40.0
    assert spandsp.spandsp_digits(y.astype(np.int16), lenient=True) == ("", 0)


KEY = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"  # 40 base64 characters (30 bytes)
SRTP_SDP = (
    "v=0\r\no=- 1 1 IN IP4 {a}\r\ns=-\r\nc=IN IP4 {a}\r\nt=0 0\r\n"
    "m=audio {port} RTP/SAVP 0 96\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:96 telephone-event/8000\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{key}|2^20|1:32\r\n"
    "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:{key};inline:{key}|2^20\r\n"
)


def test_srtp_keys_in_sdp_are_redacted() -> None:
    from pcifilter.sip_messages import sip_without_srtp_keys

    body = (
        SRTP_SDP.format(a=A, port=4000, key=KEY)
        + "a=key-mgmt:mikey AQAFgM0XflABAAAAAAAAAAAAAAsA\r\n"
    )
    out = sip_without_srtp_keys(_info("application/sdp", body))
    assert out is not None and len(out) == len(_info("application/sdp", body))
    assert KEY.encode() not in out and b"AQAFgM0X" not in out
    assert b"inline:" + b"X" * len(KEY) + b"|2^20|1:32\r\n" in out  # lifetime and MKI stay
    assert b"a=key-mgmt:mikey " + b"X" * 28 + b"\r\n" in out
    assert sip_without_srtp_keys(_info("application/sdp", SDP.format(a=A, port=4000))) is None


def _srtp_capture(path: Path) -> list[bytes]:
    """A call that negotiates SRTP (SDES keys in its SDP), its encrypted-looking packets both
    ways, and a plain RTP/AVP stream beside it on other ports; returns the SRTP datagrams."""
    rng = np.random.default_rng(5)
    frames, srtp = [], []
    invite = (
        f"INVITE sip:pay@{B} SIP/2.0\r\nContent-Type: application/sdp\r\n\r\n"
        + SRTP_SDP.format(a=A, port=40000, key=KEY)
    ).encode()
    ok = (
        "SIP/2.0 200 OK\r\nContent-Type: application/sdp\r\n\r\n"
        + SRTP_SDP.format(a=B, port=50000, key=KEY[::-1])
    ).encode()
    frames += [_frame("ethernet", _ip(A, B, 5060, 5060, m, False)) for m in (invite, ok)]
    pcm = sg.to_int16(sg.white_noise(8000, -30, rng))
    for k in range(50):
        for sp, dp, ssrc in ((40000, 50000, 0x5A), (50000, 40000, 0x5B)):
            packet = RtpPacket(0, k == 0, k, 160 * k, ssrc, payload=rng.bytes(170)).serialize()
            srtp.append(packet)
            frames.append(
                _frame(
                    "ethernet",
                    _ip(A if sp == 40000 else B, B if sp == 40000 else A, sp, dp, packet, False),
                )
            )
        plain = RtpPacket(
            0,
            k == 0,
            k,
            160 * k,
            0xC,
            payload=pf.ulaw_encode(pcm[160 * k : 160 * k + 160]).tobytes(),
        )
        frames.append(_frame("ethernet", _ip(A, B, 41000, 51000, plain.serialize(), False)))
    with path.open("wb") as f:
        w = dpkt.pcap.Writer(f)
        for i, fr in enumerate(frames):
            w.writepkt(fr, ts=1000.0 + 0.001 * i)
    return srtp


def test_srtp_streams_are_left_out_and_their_keys_redacted(tmp_path: Path) -> None:
    """SRTP's audio is encrypted, so it cannot be scrubbed; with its keys in the SDP the
    capture could decrypt it: the streams are left out (or kept with --keep-srtp), the keys
    are replaced by 'X' either way, and a plain stream beside them is scrubbed as usual."""
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    srtp = _srtp_capture(src)
    r = scrub_pcap(src, dst)
    assert r.srtp_keys_redacted == 2
    enc = [s for s in r.streams if s.encrypted]
    assert len(enc) == 2 and all(s.packets_in == 50 and s.packets_out == 0 for s in enc)
    assert [s.packets_out for s in r.streams if not s.encrypted] == [50]
    _, out = _read(dst)
    udp = [u for _, u in (_udp(1, fr) for fr in out)]
    assert not any(u.sport in (40000, 50000) for u in udp)  # no SRTP frame written
    assert sum(u.sport == 41000 for u in udp) == 50
    sip = [bytes(u.data) for u in udp if u.dport == 5060]
    assert len(sip) == 2 and not any(KEY.encode() in m or KEY[::-1].encode() in m for m in sip)
    assert all(_checksum_ok(ip, u) for ip, u in (_udp(1, fr) for fr in out) if u.dport == 5060)
    assert main(["scrub", str(src), str(dst), "--keep-srtp"]) == 0
    _, kept = _read(dst)
    kept_udp = [u for _, u in (_udp(1, fr) for fr in kept)]
    assert [bytes(u.data) for u in kept_udp if u.sport in (40000, 50000)] == srtp  # as they were
    assert not any(KEY.encode() in bytes(u.data) for u in kept_udp)


def _coded_info(ctype: str, coding: str, body: bytes) -> bytes:
    head = (
        f"INFO sip:pay@{B} SIP/2.0\r\nCSeq: 2 INFO\r\nContent-Type: {ctype}\r\n{coding}"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def _raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-15)
    return c.compress(data) + c.flush()


CODINGS = [
    ("Content-Encoding: gzip\r\n", functools.partial(gzip.compress, mtime=0)),
    ("e: deflate\r\n", zlib.compress),  # the compact form; zlib's format, as HTTP has it
    ("Content-Encoding: deflate\r\n", _raw_deflate),  # raw deflate, as some send it
    ("Content-Encoding: identity, gzip\r\n", functools.partial(gzip.compress, mtime=0)),
    (
        "Content-Encoding: gzip\r\nContent-Encoding: gzip\r\n",
        lambda b: gzip.compress(gzip.compress(b, mtime=0), mtime=0),
    ),
]


@pytest.mark.parametrize(("coding", "compress"), CODINGS)
def test_keypresses_and_keys_in_a_coded_sip_body_are_redacted(
    coding: str, compress: Callable[[bytes], bytes]
) -> None:
    """A body sent with a Content-Encoding (RFC 3261 §20.12: gzip) holds its keypresses and
    keys compressed, where no pattern finds them: they were written as they were. Such a body
    is read decoded and replaced whole (same length) when it holds one; one without stays."""
    from pcifilter.sip_messages import sip_without_dtmf, sip_without_srtp_keys

    for ctype, plain, redact in [
        ("application/dtmf-relay", b"Signal=4\r\nDuration=160\r\n", sip_without_dtmf),
        ("application/dtmf", b"4\r\n", sip_without_dtmf),
        ("text/plain", b"Signal=4\r\n", sip_without_dtmf),  # by its form, as when plain
        (
            "application/sdp",
            SRTP_SDP.format(a=A, port=4000, key=KEY).encode(),
            sip_without_srtp_keys,
        ),
    ]:
        body = compress(plain)
        message = _coded_info(ctype, coding, body)
        out = redact(message)
        assert out == message[: -len(body)] + b"X" * len(body), ctype
    sdp = compress(SDP.format(a=A, port=4000).encode())
    assert sip_without_dtmf(_coded_info("application/sdp", coding, sdp)) is None
    assert sip_without_srtp_keys(_coded_info("application/sdp", coding, sdp)) is None


def test_a_coded_sip_body_that_cannot_be_read_is_replaced_whole() -> None:
    """What it holds is unknown: an unknown coding, a corrupt stream, one that decodes to more
    than 1 MiB (a hostile capture's zip bomb: refused without decoding it all)."""
    from pcifilter.sip_messages import sip_without_dtmf, sip_without_srtp_keys

    bomb = gzip.compress(b"\0" * (64 << 20), mtime=0)
    for coding, body in [
        ("Content-Encoding: br\r\n", b"\x1b\x03\x00\xf8Signal=4"),
        ("Content-Encoding: gzip\r\n", gzip.compress(b"Signal=4\r\n", mtime=0)[:-6]),
        ("Content-Encoding: gzip\r\n", gzip.compress(b"v=0\r\n", mtime=0) + b"trailing"),
        ("Content-Encoding: gzip\r\n", bomb),
    ]:
        message = _coded_info("application/sdp", coding, body)
        for redact in (sip_without_dtmf, sip_without_srtp_keys):
            assert redact(message) == message[: -len(body)] + b"X" * len(body)


def test_coded_sip_bodies_and_hep_messages_are_decoded_within_a_bound() -> None:
    """A coded SIP body may decode to 32 times its length (and 1 KiB), a HEP packet's
    compressed message too: past that it is a bomb, replaced whole unread, with no more
    than the bound decoded. Before, a body was read to 1 MiB (a capture of 1 KB bombs took
    280 times as long to scrub as plain SIP, bench/coded_bombs_report.py) and a HEP message
    with no bound at all (a 16 KB datagram: 16 MiB decoded). Real text (an SDP, 1.6 times
    smaller gzip'd) is read as before. Memory, not time, is measured: tracemalloc's peak."""
    import tracemalloc

    from pcifilter.hep import redact_datagram
    from pcifilter.sip_messages import sip_without_dtmf, sip_without_srtp_keys

    sdp = SRTP_SDP.format(a=A, port=4000, key=KEY).encode()
    text = _coded_info("application/sdp", "Content-Encoding: gzip\r\n", gzip.compress(sdp))
    assert sip_without_srtp_keys(text) is not None  # read: its keys found in it
    assert sip_without_dtmf(text) is None
    zeros = gzip.compress(b"\0" * (768 << 10), mtime=0)  # (under 1 MiB)
    bomb = _coded_info("application/sdp", "Content-Encoding: gzip\r\n", zeros)
    hep = _hep3(_info("application/sdp", "v=0\r\n", 6) + b"\0" * (16 << 20), compressed=True)
    packed = len(hep) - hep.index(b"\x00\x10") - 4  # chunk 16's value
    for redact, message, expected in [
        (sip_without_dtmf, bomb, bomb[: -len(zeros)] + b"X" * len(zeros)),
        (sip_without_srtp_keys, bomb, bomb[: -len(zeros)] + b"X" * len(zeros)),
        (lambda m: redact_datagram(m, True)[0], hep, hep[:-packed] + b"X" * packed),
    ]:
        tracemalloc.start()
        try:
            out = redact(message)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert out == expected and peak < 4 * 32 * len(message) + (128 << 10)
    assert redact_datagram(hep, True)[3] == []  # no message read from it


def test_coded_sip_bodies_not_read_are_counted(tmp_path: Path) -> None:
    """A capture's SIP message whose coded body cannot be read (cut, a coding not known)
    has it replaced whole, and counts it with the capture's other coded bodies not read
    (`coded_unread`); before, it was counted nowhere. One that reads is not counted."""
    bodies = [
        ("Content-Encoding: gzip\r\n", gzip.compress(b"Signal=4\r\n", mtime=0)[:-6]),
        ("Content-Encoding: br\r\n", b"\x1b\x03\x00\xf8Signal=4"),
        ("Content-Encoding: gzip\r\n", gzip.compress(b"Signal=5\r\nDuration=160\r\n", mtime=0)),
    ]
    messages = [_coded_info("application/dtmf-relay", c, b) for c, b in bodies]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, [_frame("ethernet", _ip(A, B, 5060, 5060, m, False)) for m in messages])
    r = scrub_pcap(src, dst)
    assert r.coded_unread == 2 and r.sip_dtmf_redacted == 3
    for (_, body), out in zip(bodies, _read(dst)[1], strict=True):
        assert bytes(_udp(1, out)[1].data).endswith(b"X" * len(body))


def test_a_coded_part_of_a_multipart_sip_body_is_redacted() -> None:
    """A part sent base64 or quoted-printable (MIME's Content-Transfer-Encoding) or with a
    Content-Encoding of its own: replaced whole when it holds a keypress or a key; the line
    break before the next delimiter and the other parts stay."""
    from pcifilter.sip_messages import sip_without_dtmf, sip_without_srtp_keys

    srtp = SRTP_SDP.format(a=A, port=4000, key=KEY).encode()
    for headers, coded, redact in [
        (
            b"Content-Type: application/dtmf\r\nContent-Transfer-Encoding: base64",
            base64.b64encode(b"5\r\n"),
            sip_without_dtmf,
        ),
        (
            b"Content-Type: application/dtmf-relay\r\nContent-Transfer-Encoding: quoted-printable",
            b"Signal=3D5=0D=0ADuration=3D160",
            sip_without_dtmf,
        ),
        (
            b"Content-Type: application/dtmf\r\nContent-Encoding: gzip",
            gzip.compress(b"5", mtime=0),
            sip_without_dtmf,
        ),
        (
            b"Content-Type: application/sdp\r\nContent-Transfer-Encoding: base64",
            base64.b64encode(srtp),
            sip_without_srtp_keys,
        ),
    ]:
        body = (
            b"--b1\r\nContent-Type: application/isup\r\n\r\n\x01\x02\x03\r\n--b1\r\n"
            + headers
            + b"\r\n\r\n"
            + coded
            + b"\r\n--b1--\r\n"
        )
        message = _coded_info('multipart/mixed;boundary="b1"', "", body)
        assert redact(message) == message.replace(coded, b"X" * len(coded))
    plain = _coded_info(
        'multipart/mixed;boundary="b1"',
        "",
        b"--b1\r\nContent-Type: application/sdp\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(SDP.format(a=A, port=4000).encode())
        + b"\r\n--b1--\r\n",
    )
    assert sip_without_dtmf(plain) is None and sip_without_srtp_keys(plain) is None


@settings(max_examples=300, deadline=None)
@given(
    head=st.sampled_from(
        [
            b"Content-Encoding: gzip",
            b"e: deflate",
            b"Content-Encoding: x-gzip, base64",
            b"Content-Type: multipart/mixed;boundary=b\r\nContent-Encoding: gzip",
            b"Content-Type: multipart/mixed;boundary=b",
        ]
    ),
    inner=st.binary(max_size=80),
    gzipped=st.booleans(),
    as_part=st.booleans(),
    flips=st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255)), max_size=3),
)
def test_any_coded_sip_body_is_redacted_or_left_never_an_error(
    head: bytes, inner: bytes, gzipped: bool, as_part: bool, flips: list[tuple[int, int]]
) -> None:
    from pcifilter.pcap import _sdp_streams
    from pcifilter.sip_messages import readable, redact

    body = gzip.compress(inner, mtime=0) if gzipped else inner
    if as_part:
        body = (
            b"--b\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.b64encode(body)
            + b"\r\n--b--\r\n"
        )
    mutated = bytearray(body)
    for at, value in flips:
        if mutated:
            mutated[at % len(mutated)] = value
    message = b"INFO sip:x SIP/2.0\r\n" + head + b"\r\n\r\n" + bytes(mutated)
    for redact_dtmf in (True, False):
        out, _, _ = redact(message, redact_dtmf)
        assert len(out) == len(message)
    _sdp_streams(readable(message)[0].decode("latin-1", "replace"))


def test_a_capture_s_gzip_sip_keeps_no_keypress_and_its_sdp_is_read(tmp_path: Path) -> None:
    """The call of _capture with its INVITE and 200 OK sent with gzip bodies and eight SIP
    INFO keypresses gzip'd too: the INFOs' bodies are replaced, and the SDP is read as if sent
    plain (the same streams, with its telephone-event payload type)."""
    src, coded_src, dst = tmp_path / "in.pcap", tmp_path / "coded.pcap", tmp_path / "out.pcap"
    _capture(src)
    plain = scrub_pcap(src, dst)
    with src.open("rb") as f:
        frames = [(ts, bytes(buf)) for ts, buf in dpkt.pcap.Reader(f)]

    def gzipped(frame: bytes) -> bytes:
        ip = dpkt.ethernet.Ethernet(frame).data
        data = bytes(ip.data.data)
        if not data.startswith((b"INVITE", b"SIP/2.0")):
            return frame
        head, _, body = data.partition(b"\r\n\r\n")
        message = head + b"\r\nContent-Encoding: gzip\r\n\r\n" + gzip.compress(body, mtime=0)
        return _frame(
            "ethernet",
            _ip(*(socket.inet_ntoa(a) for a in (ip.src, ip.dst)), 5060, 5060, message, False),
        )

    infos = [
        _frame(
            "ethernet",
            _ip(
                A,
                B,
                5060,
                5060,
                _coded_info(
                    "application/dtmf-relay",
                    "Content-Encoding: gzip\r\n",
                    gzip.compress(f"Signal={d}\r\nDuration=160\r\n".encode(), mtime=0),
                ),
                False,
            ),
        )
        for d in CARD[:8]
    ]
    coded = [(ts, gzipped(fr)) for ts, fr in frames]
    _write_timed(coded_src, coded[:3] + [(2000.0 + i, e) for i, e in enumerate(infos)] + coded[3:])
    r = scrub_pcap(coded_src, dst)
    assert r.sip_dtmf_redacted == 8
    assert [(s.packets_in, s.packets_out, s.events) for s in r.streams] == [
        (s.packets_in, s.packets_out, s.events) for s in plain.streams
    ]
    _, out = _read(dst)
    bodies = [
        bytes(u.data).partition(b"\r\n\r\n")[2]
        for _, u in (_udp(1, fr) for fr in out)
        if bytes(u.data).startswith(b"INFO")
    ]
    assert len(bodies) == 8 and all(set(b) == {ord("X")} for b in bodies)


def _tcp_frame(
    src: str,
    dst: str,
    payload: bytes,
    seq: int,
    v6: bool = False,
    port: int = 5060,
    dport: int | None = None,
    flags: int = dpkt.tcp.TH_ACK | dpkt.tcp.TH_PUSH,
) -> bytes:
    tcp = dpkt.tcp.TCP(
        sport=port,
        dport=port if dport is None else dport,
        seq=seq,
        ack=1,
        flags=flags,
        data=payload,
    )
    ip = _over_ip(src, dst, tcp, 6, v6)
    again = dpkt.ip6.IP6(bytes(ip)) if v6 else dpkt.ip.IP(bytes(ip))  # checksums computed
    return _frame("ethernet", again)


def _cut(data: bytes, size: int) -> list[bytes]:
    """`data` in pieces of `size` bytes (the last one shorter)."""
    return [data[a : a + size] for a in range(0, len(data), size)]


def _segments(
    src: str, dst: str, payloads: list[bytes], seq: int, ports: tuple[int, int]
) -> list[bytes]:
    """Payloads sent one after another in TCP segments from sequence number `seq`."""
    offsets = itertools.accumulate((len(p) for p in payloads), initial=seq)
    return [
        _tcp_frame(src, dst, p, at, port=ports[0], dport=ports[1])
        for p, at in zip(payloads, offsets, strict=False)
    ]


def _tcp_checksum_ok(frame: bytes) -> bool:
    """The same for the TCP segment of an Ethernet frame."""
    ip = dpkt.ethernet.Ethernet(frame).data
    tcp = ip.data
    fresh = dpkt.tcp.TCP(
        sport=tcp.sport,
        dport=tcp.dport,
        seq=tcp.seq,
        ack=tcp.ack,
        flags=tcp.flags,
        win=tcp.win,
        data=tcp.data,
    )
    return _fresh_sum(ip, fresh, 6) == tcp.sum


@pytest.mark.parametrize("v6", [False, True])
def test_sip_over_tcp_is_redacted_too(tmp_path: Path, v6: bool) -> None:
    """SIP over TCP (a message in one segment): keypresses in INFO bodies and SRTP keys in SDP
    are replaced by 'X' as over UDP, the segment keeps its length (the stream's sequence
    numbers stay right) and gets a valid checksum; other TCP traffic is left alone."""
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    info = _info("application/dtmf-relay", "Signal=7\r\nDuration=160\r\n")
    sdp = SRTP_SDP.format(a=A, port=40000, key=KEY)
    invite = (
        f"INVITE sip:pay@{B} SIP/2.0\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(sdp)}\r\n\r\n{sdp}"
    ).encode()
    other = b"GET / HTTP/1.1\r\nHost: x\r\n\r\nSignal=7 inline:" + KEY.encode()
    frames = [
        _tcp_frame(A, B, invite, 1, v6),
        _tcp_frame(A, B, info, 1 + len(invite), v6),
        _tcp_frame(A, B, other, 9000, v6, port=8080),  # another connection, not SIP
    ]
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.sip_dtmf_redacted == 1 and r.srtp_keys_redacted == 1
    _, out = _read(dst)
    assert len(out) == 3 and [len(fr) for fr in out] == [len(fr) for fr in frames]
    assert b"Signal=X\r\n" in out[1] and b"Signal=7" not in out[1]
    assert KEY.encode() not in out[0] and b"inline:" + b"X" * len(KEY) in out[0]
    assert out[2] == frames[2]  # not SIP: untouched
    assert all(_tcp_checksum_ok(fr) for fr in out)


def test_sip_over_tcp_is_reassembled_before_redaction(tmp_path: Path) -> None:
    """Messages split over TCP segments, out of order and retransmitted: the keypress and
    the SRTP keys are found across segment boundaries; a connection whose first segment was
    not captured still has its keys redacted; the SDP read from the reassembled INVITE puts
    its SRTP stream out of the capture."""
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    sdp = SRTP_SDP.format(a=A, port=40000, key=KEY)
    invite = (
        f"INVITE sip:pay@{B} SIP/2.0\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(sdp)}\r\n\r\n{sdp}"
    ).encode()
    info = _info("application/dtmf-relay", "Signal=7\r\nDuration=160\r\n")
    stream = b"\r\n" + invite + info  # a CRLF keep-alive first
    key_at = stream.index(KEY.encode()) + 10  # cut inside the first key
    sig_at = stream.index(b"Signal=7") + 3  # and inside "Signal=7"
    cuts = [0, key_at, sig_at, len(stream)]
    seq0 = 2**32 - 50  # the sequence numbers wrap inside the stream
    segs = [((seq0 + a) % 2**32, stream[a:b]) for a, b in itertools.pairwise(cuts)]
    order = [segs[1], segs[0], segs[2], segs[1]]  # out of order, one retransmitted
    lost_start = (b"\r\n" + sdp.encode())[30:]  # its connection's earlier segments not captured
    frames = [_tcp_frame(A, B, p, seq) for seq, p in order]
    frames.append(_tcp_frame(B, A, lost_start, 777))
    frames.append(
        _tcp_frame(
            B, A, b"REGISTER sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n", 777 + len(lost_start)
        )
    )
    rtp = _plain_rtp_frames()
    frames += rtp
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.sip_dtmf_redacted == 1 and r.srtp_keys_redacted >= 2
    assert [s.encrypted for s in r.streams] == [True] and r.streams[0].packets_out == 0
    _, out = _read(dst)
    assert len(out) == len(frames) - len(rtp)  # the SRTP stream left out, no TCP frame lost
    assert [len(fr) for fr in out] == [len(fr) for fr in frames[: len(out)]]
    tcp_out = [dpkt.ethernet.Ethernet(fr).data.data for fr in out]
    by_seq = {t.seq: bytes(t.data) for t in tcp_out[:4]}
    rebuilt = b"".join(by_seq[seq] for seq, _ in segs)
    assert len(rebuilt) == len(stream)
    assert KEY.encode()[:10] not in rebuilt and KEY.encode()[10:] not in rebuilt
    assert b"Signal=X\r\n" in rebuilt and b"Signal=7" not in rebuilt
    assert bytes(tcp_out[0].data) == by_seq[segs[1][0]] == bytes(tcp_out[3].data)  # both copies
    assert KEY.encode() not in bytes(tcp_out[4].data) and b"inline:XXXX" in bytes(tcp_out[4].data)
    assert all(_tcp_checksum_ok(fr) for fr in out)


@pytest.mark.parametrize(
    ("tail", "secret"),
    [
        (b"Signal=5\r\nDuration=160\r\n", b"Signal=5"),  # application/dtmf-relay
        (b'<Response code="200" digits="4111"/>\r\n', b'digits="4111"'),  # KPML
        (b"5\r\n", b"\r\n5\r\n"),  # application/dtmf: a bare digit
    ],
)
def test_sip_over_tcp_caught_mid_message_keeps_no_keypress(
    tmp_path: Path, tail: bytes, secret: bytes
) -> None:
    """A long-lived SIP connection whose capture starts inside a message: the tail before
    the first captured message start has no headers to tell its body's type, so every body
    form of a keypress is looked for there; the messages after it are cut and redacted as
    usual, and a harmless tail is left as it was."""
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    info = _info("application/dtmf-relay", "Signal=9\r\nDuration=160\r\n")
    register = b"REGISTER sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n"
    harmless = b"Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    frames = [
        _tcp_frame(A, B, b"\r\n" + tail, 5000),
        _tcp_frame(A, B, info, 5002 + len(tail)),
        _tcp_frame(B, A, harmless + register, 9000),
    ]
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.sip_dtmf_redacted == 2
    _, out = _read(dst)
    assert [len(fr) for fr in out] == [len(fr) for fr in frames]
    assert secret not in out[0] and b"X" in out[0]
    assert b"Signal=X\r\n" in out[1] and b"Signal=9" not in out[1]
    assert out[2] == frames[2]
    assert all(_tcp_checksum_ok(fr) for fr in out)
    assert main(["scrub", str(src), str(dst), "--keep-sip-dtmf"]) == 0
    _, kept = _read(dst)
    assert kept == frames


def _fragmented(
    src: str,
    dst: str,
    payload: bytes,
    v6: bool,
    size: int,
    ident: int,
    ports: tuple[int, int] = (5060, 5060),
) -> tuple[list[tuple[int, bytes]], bytes]:
    """A UDP datagram (SIP's ports unless told, checksum by dpkt) cut into IP fragments of
    `size` data bytes (a multiple of 8): [(offset, Ethernet frame)], and the whole datagram."""
    whole = bytes(_ip(src, dst, *ports, payload, v6))
    udp = whole[40 if v6 else 20 :]
    frames = []
    for at in range(0, len(udp), size):
        chunk, more = udp[at : at + size], at + size < len(udp)
        if v6:
            ip6 = dpkt.ip6.IP6(whole)
            ip = (
                struct.pack("!IHBB", 0x60000000, 8 + len(chunk), 44, 64)
                + ip6.src
                + ip6.dst
                + struct.pack("!BBHI", 17, 0, (at // 8) << 3 | more, ident)
                + chunk
            )
            frames.append((at, b"\x04" * 6 + b"\x02" * 6 + b"\x86\xdd" + ip))
        else:
            ip4 = dpkt.ip.IP(
                src=socket.inet_aton(src),
                dst=socket.inet_aton(dst),
                p=17,
                id=ident,
                data=chunk,
            )
            ip4.mf, ip4.offset = int(more), at // 8  # dpkt: in 8-byte units
            ip4.len = 20 + len(chunk)
            frames.append((at, _frame("ethernet", dpkt.ip.IP(bytes(ip4)))))
    return frames, udp


def _reassembled(frames: list[bytes], v6: bool) -> bytes:
    """The UDP datagram back from its fragments, read from the frames' bytes."""
    parts = []
    for fr in frames:
        ip = fr[14:]
        if v6:
            offset, data = (struct.unpack("!H", ip[42:44])[0] >> 3) * 8, ip[48:]
        else:
            offset, data = (struct.unpack("!H", ip[6:8])[0] & 0x1FFF) * 8, ip[20:]
        parts.append((offset, data))
    return b"".join(d for _, d in sorted(parts))


@pytest.mark.parametrize("v6", [False, True])
def test_fragmented_sip_over_udp_is_reassembled_and_redacted(tmp_path: Path, v6: bool) -> None:
    """An INVITE whose SDP does not fit one packet arrives in IP fragments (out of order
    here), and so may an INFO: they are reassembled, the SDP is read (its SRTP stream left
    out), its keys and the keypress replaced by 'X' across fragment boundaries, every
    fragment keeps its length and the datagram's UDP checksum is made valid; an unrelated
    datagram reusing an identification later is not mixed in."""
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    sdp = SRTP_SDP.format(a=A, port=40000, key=KEY) + "a=x-filler:" + "f" * 900 + "\r\n"
    invite = (
        f"INVITE sip:pay@{B} SIP/2.0\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(sdp)}\r\n\r\n{sdp}"
    ).encode()
    info = _info("application/dtmf-relay", "Signal=7\r\nDuration=160\r\n")
    inv_frames, inv_udp = _fragmented(A, B, invite, v6, 512, 0x1234)
    cut = info.index(b"Signal=7") + 8 + 5  # "Signal=7" ends inside the first fragment's data
    info_frames, info_udp = _fragmented(A, B, info, v6, cut // 8 * 8, 0x1235)
    assert len(inv_frames) >= 3 and len(info_frames) >= 2
    # The same identification again later: another datagram (not SIP, not to be touched).
    other_frames, _ = _fragmented(A, B, b"not sip " * 200, v6, 512, 0x1234)
    rtp = _plain_rtp_frames(v6)
    frames = [fr for _, fr in reversed(inv_frames)] + [fr for _, fr in info_frames]
    frames += [fr for _, fr in other_frames] + rtp
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.sip_dtmf_redacted == 1 and r.srtp_keys_redacted == 1
    assert [s.encrypted for s in r.streams] == [True] and r.streams[0].packets_out == 0
    _, out = _read(dst)
    n_inv, n_info = len(inv_frames), len(info_frames)
    assert [len(fr) for fr in out] == [len(fr) for fr in frames[: len(out)]]
    assert len(out) == len(frames) - len(rtp)
    inv_out = _reassembled(out[:n_inv], v6)
    info_out = _reassembled(out[n_inv : n_inv + n_info], v6)
    assert len(inv_out) == len(inv_udp) and len(info_out) == len(info_udp)
    assert KEY.encode() not in inv_out and b"inline:" + b"X" * len(KEY) in inv_out
    assert b"Signal=X\r\n" in info_out and b"Signal=7" not in info_out
    assert out[n_inv + n_info :] == frames[n_inv + n_info : len(out)]  # the other datagram
    whole = _ip(A, B, 5060, 5060, b"", v6)
    for datagram in (inv_out, info_out):
        u = dpkt.udp.UDP(datagram)
        assert _checksum_ok(whole, u)
    assert main(["scrub", str(src), str(dst), "--keep-sip-dtmf"]) == 0
    _, kept = _read(dst)
    assert b"Signal=7" in _reassembled(kept[n_inv : n_inv + n_info], v6)
    assert KEY.encode() not in _reassembled(kept[:n_inv], v6)


def _is_fragment(frame: bytes, v6: bool) -> bool:
    ip = frame[14:]
    return ip[6] == 44 if v6 else struct.unpack("!H", ip[6:8])[0] & 0x3FFF != 0


@pytest.mark.parametrize("v6", [False, True])
def test_rtp_in_ip_fragments_is_left_out_not_leaked(tmp_path: Path, v6: bool) -> None:
    """RTP datagrams cut into IP fragments (a keypress's packets here) cannot go through the
    stream filter: they are left out, and so is a fragment of a datagram whose other
    fragments were not captured (what it holds cannot be examined); a fragmented datagram
    that is not RTP is written as it was. Listening to the output, with the fragments'
    audio put back in its place, an independent decoder hears no digit; with
    keep_fragments it hears the one that came in fragments."""
    x, spans = sg.keyed_sequence("58", 120, 300, -10, lead_ms=300)
    pcm = sg.to_int16(np.concatenate([x, np.zeros(2400)]))
    sdp = SDP.format(a=A, port=40000)
    frames = [
        _frame("ethernet", _ip(A, B, 5060, 5060, f"INVITE x SIP/2.0\r\n\r\n{sdp}".encode(), v6))
    ]
    first = range(spans[0][0] // 160 - 1, spans[0][1] // 160 + 2)  # the packets of the "5"
    for k in range(len(pcm) // 160):
        rtp = RtpPacket(
            0,
            k == 0,
            k,
            160 * k,
            0xA,
            payload=pf.ulaw_encode(pcm[160 * k : 160 * k + 160]).tobytes(),
        )
        if k in first:  # 172 bytes of UDP payload: fragments of 96 and 84 data bytes
            parts, _ = _fragmented(A, B, rtp.serialize(), v6, 96, 0x100 + k, (40000, 50000))
            frames += [fr for _, fr in parts]
        else:
            frames.append(_frame("ethernet", _ip(A, B, 40000, 50000, rtp.serialize(), v6)))
    lone, _ = _fragmented(A, B, bytes(range(200)) * 2, v6, 96, 0x999, (40000, 50000))
    frames.append(lone[1][1])  # its first fragment was never captured
    other, _ = _fragmented(A, B, b"not rtp " * 40, v6, 96, 0x777, (5353, 5353))
    frames += [fr for _, fr in other]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)

    def heard(out: list[bytes]) -> int:
        audio = np.zeros(len(pcm), np.int16)
        whole = [fr for fr in out if not _is_fragment(fr, v6)]
        pieces = [fr for fr in out if _is_fragment(fr, v6)]
        datagrams = [bytes(_udp(1, fr)[1]) for fr in whole[1:]]

        def ident(fr: bytes) -> bytes:  # IPv4's identification, or the Fragment header's
            return fr[14 + 44 : 14 + 48] if v6 else fr[18:20]

        datagrams += [
            _reassembled([fr for fr in pieces if ident(fr) == i], v6)
            for i in {ident(fr) for fr in pieces}
        ]
        for d in datagrams:
            if struct.unpack("!H", d[2:4])[0] != 50000 or len(d) != 8 + 172:
                continue
            p = RtpPacket.parse(d[8:])
            audio[p.timestamp : p.timestamp + 160] = pf.ulaw_decode(p.payload)
        return spandsp.spandsp_digits(audio, lenient=True)[1]

    n_first = 2 * len(first)
    r = scrub_pcap(src, dst, keep_fragments=True)
    assert r.fragments_unscrubbed == n_first + 1
    _, kept = _read(dst)
    assert heard(kept) == 1  # the "5" in fragments, unscrubbed; the "8" masked
    assert kept[-len(other) :] == [fr for _, fr in other]
    r = scrub_pcap(src, dst)
    assert r.fragments_unscrubbed == n_first + 1 and r.frames_out == len(frames) - n_first - 1
    _, out = _read(dst)
    assert heard(out) == 0
    assert [fr for fr in out if _is_fragment(fr, v6)] == [fr for _, fr in other]
    assert len(r.streams) == 1 and len(r.streams[0].events) == 1  # the "8"


def test_rtp_over_tcp_is_left_out(tmp_path: Path) -> None:
    """RTP over TCP (RFC 4571: each packet after a 2-byte length, in a byte stream) cannot
    have packets taken out: the segments of a stream the SDP declares TCP/RTP/AVP are left
    out, counted; other TCP is written as it was. An independent decoder hears the keypress
    in the input's stream and nothing in the output."""
    x, _ = sg.keyed_sequence("3", 120, 100, -10, lead_ms=200)
    pcm = sg.to_int16(x)
    sdp = SDP.format(a=A, port=40000).replace("RTP/AVP", "TCP/RTP/AVP")
    invite = f"INVITE x SIP/2.0\r\n\r\n{sdp}".encode()
    frames = [_frame("ethernet", _ip(A, B, 5060, 5060, invite, False))]
    stream = b""
    for k in range(len(pcm) // 160):
        codes = pf.ulaw_encode(pcm[160 * k : 160 * k + 160]).tobytes()
        rtp = RtpPacket(0, k == 0, k, 160 * k, 0xA, payload=codes).serialize()
        stream += struct.pack("!H", len(rtp)) + rtp
    # Segments that do not follow packet boundaries.
    segments = [
        _tcp_frame(A, B, stream[at : at + 500], 1000 + at, port=40000)
        for at in range(0, len(stream), 500)
    ]
    frames += segments
    web = _tcp_frame(A, B, b"GET / HTTP/1.1\r\n\r\n", 7, port=80)
    frames.append(web)
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)

    def heard(out: list[bytes]) -> int:
        data = b"".join(
            bytes(dpkt.ethernet.Ethernet(fr).data.data.data) for fr in out if fr in segments
        )
        audio, at = [], 0
        while at + 2 <= len(data):
            n = struct.unpack("!H", data[at : at + 2])[0]
            audio.append(pf.ulaw_decode(RtpPacket.parse(data[at + 2 : at + 2 + n]).payload))
            at += 2 + n
        return spandsp.spandsp_digits(
            np.concatenate(audio or [np.zeros(0, np.int16)]), lenient=True
        )[1]

    assert heard(frames) == 1
    r = scrub_pcap(src, dst)
    assert r.rtp_over_tcp_segments == len(segments)
    assert r.frames_out == len(frames) - len(segments)
    _, out = _read(dst)
    assert heard(out) == 0 and out[-1] == web


def _ws_frame(
    payload: bytes, key: bytes = b"", opcode: int = 1, fin: bool = True, rsv1: bool = False
) -> bytes:
    """One WebSocket frame (RFC 6455 §5.2), masked with `key` when given (a client's); RSV1
    marks a compressed message (permessage-deflate, RFC 7692)."""
    n = len(payload)
    head = bytes([(0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode])
    mask = 0x80 if key else 0
    if n < 126:
        head += bytes([mask | n])
    elif n < 1 << 16:
        head += bytes([mask | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([mask | 127]) + n.to_bytes(8, "big")
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload)) if key else payload
    return head + key + body


def _ws_messages(stream: bytes) -> list[bytes]:
    """The messages of a WebSocket byte stream (after any handshake), unmasked."""
    at = stream.index(b"\r\n\r\n") + 4 if stream.startswith((b"GET", b"HTTP")) else 0
    out, current = [], b""
    while at + 2 <= len(stream):
        n, data = stream[at + 1] & 0x7F, at + 2
        if n >= 126:
            size = 2 if n == 126 else 8
            n, data = int.from_bytes(stream[data : data + size], "big"), data + size
        key = stream[data : data + 4] if stream[at + 1] & 0x80 else b""
        data += len(key)
        body = stream[data : data + n]
        if key:
            body = bytes(b ^ key[i % 4] for i, b in enumerate(body))
        if stream[at] & 0x0F in (0, 1, 2):
            current += body
            if stream[at] & 0x80:
                out.append(current)
                current = b""
        at = data + n
    return out


_WS_HANDSHAKE = (
    b"GET / HTTP/1.1\r\nHost: b\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Protocol: sip\r\n\r\n"
)
_WS_ACCEPT = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: sip\r\n\r\n"
)


def _websocket_capture(path: Path) -> tuple[list[bytes], dict[str, bytes]]:
    """A call's SIP over WebSocket: the browser's frames masked, the server's not, the INFO
    in two frames with a ping between them, a frame across TCP segments, and a connection
    caught mid-frame; then the SRTP stream its SDP declares. The frames, and the messages."""
    sdp = SRTP_SDP.format(a=A, port=40000, key=KEY)
    texts = {
        "invite": (
            f"INVITE sip:pay@{B} SIP/2.0\r\nContent-Type: application/sdp\r\n"
            f"Content-Length: {len(sdp)}\r\n\r\n{sdp}"
        ).encode(),
        "info": _info("application/dtmf-relay", "Signal=7\r\nDuration=160\r\n"),
        "reply": _info("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", 3),
        "late": _info("application/dtmf", "9", 4),
        "later": _info("application/dtmf-relay", "Signal=8\r\n", 5),
    }
    cut = texts["info"].index(b"Signal") + 4
    client = (
        _ws_frame(texts["invite"], b"\x11\x22\x33\x44")
        + _ws_frame(texts["info"][:cut], b"\xa5\x5a\x0f\xf0", fin=False)
        + _ws_frame(b"", b"\x01\x02\x03\x04", opcode=9)
        + _ws_frame(texts["info"][cut:], b"\x9c\x13\x77\x2e", opcode=0)
    )
    seq, at = 1000 + len(_WS_HANDSHAKE), [0, 300, len(client) - 20, len(client)]
    frames = [
        _tcp_frame(A, B, _WS_HANDSHAKE, 1000, port=50123, dport=8080),
        _tcp_frame(B, A, _WS_ACCEPT, 9000, port=8080, dport=50123),
        *(
            _tcp_frame(A, B, client[a:b], seq + a, port=50123, dport=8080)
            for a, b in itertools.pairwise(at)
        ),
        _tcp_frame(B, A, _ws_frame(texts["reply"]), 9000 + len(_WS_ACCEPT), port=8080, dport=50123),
    ]
    # caught mid-frame: a masked frame's tail, then INFOs in frames of their own
    late = b"Signal=9\r\n" + _ws_frame(texts["late"], b"\x55\x66\x77\x88")
    later = _ws_frame(texts["later"], b"\x12\x34\x56\x78")
    deflate = zlib.compressobj(wbits=-15)  # raw DEFLATE, as permessage-deflate sends it
    texts["deflated"] = deflate.compress(texts["later"]) + deflate.flush(zlib.Z_SYNC_FLUSH)[:-4]
    later += _ws_frame(texts["deflated"], b"\x9a\xbc\xde\xf0", rsv1=True)
    frames.append(_tcp_frame(A, B, late, 5000, port=50999, dport=8080))
    frames.append(_tcp_frame(A, B, later, 5000 + len(late), port=50999, dport=8080))
    frames += _plain_rtp_frames()  # the SRTP stream the SDP declares
    _write_pcap(path, frames)
    return frames, texts


def test_sip_over_websocket_is_unmasked_redacted_and_masked_again(tmp_path: Path) -> None:
    """SIP over WebSocket (RFC 7118, what WebRTC clients such as JsSIP speak; JsSIP sends
    keypresses in SIP INFO): each keypress and SRTP key is redacted inside the frames, which
    are masked again with their keys; bytes of a masked frame whose header was not captured
    are replaced whole; the SDP read from the frames puts the SRTP stream out. Before, a
    WebSocket connection was no SIP to the scrubber: every keypress in it was written as it
    was."""
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    frames, texts = _websocket_capture(src)
    r = scrub_pcap(src, dst)
    assert r.sip_dtmf_redacted == 5 and r.srtp_keys_redacted == 1
    assert [s.encrypted for s in r.streams] == [True] and r.streams[0].packets_out == 0
    _, out = _read(dst)
    tcp = [fr for fr in out if isinstance(dpkt.ethernet.Ethernet(fr).data.data, dpkt.tcp.TCP)]
    assert [len(fr) for fr in tcp] == [len(fr) for fr in frames[:8]]
    assert all(_tcp_checksum_ok(fr) for fr in tcp)
    payloads = [bytes(dpkt.ethernet.Ethernet(fr).data.data.data) for fr in tcp]
    assert payloads[:2] == [_WS_HANDSHAKE, _WS_ACCEPT]
    assert _ws_messages(b"".join(payloads[2:5])) == [  # the ping left as it was
        texts["invite"].replace(KEY.encode(), b"X" * len(KEY)),
        texts["info"].replace(b"Signal=7", b"Signal=X"),
    ]
    assert _ws_messages(payloads[5]) == [texts["reply"].replace(b"Signal=5", b"Signal=X")]
    assert payloads[6][:10] == b"X" * 10  # masked with a key the capture does not hold
    assert _ws_messages(payloads[6][10:]) == [texts["late"].replace(b"\r\n\r\n9", b"\r\n\r\nX")]
    assert _ws_messages(payloads[7]) == [  # a compressed message cannot be read: replaced
        texts["later"].replace(b"Signal=8", b"Signal=X"),
        b"X" * len(texts["deflated"]),
    ]


@pytest.mark.peer
def test_wireshark_reads_the_scrubbed_websocket_sip(tmp_path: Path) -> None:
    """An independent reader: tshark follows the handshakes, unmasks the frames and reads
    the same SIP messages in the output, none of them with a keypress or the SRTP key any
    more (it reads both in the input), and every TCP checksum good."""
    if shutil.which("tshark") is None:
        pytest.fail("tshark missing: run ./dev.sh test, which installs it")
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _websocket_capture(src)
    scrub_pcap(src, dst)

    def frames(path: Path, display_filter: str, field: str = "frame.number") -> list[str]:
        args = ["-o", "tcp.check_checksum:TRUE", "-Y", display_filter, "-T", "fields", "-e"]
        run = subprocess.run(
            ["tshark", "-r", str(path), *args, field],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return run.stdout.splitlines()

    assert frames(dst, "tcp.checksum.status == 0") == []  # 0: bad
    assert frames(dst, "sip", "sip.Method") == frames(src, "sip", "sip.Method") != []
    for text, count in [("Signal=7", 1), ("Signal=5", 1), (KEY, 1)]:
        assert len(frames(src, f'sip contains "{text}"')) == count
        assert frames(dst, f'sip contains "{text}"') == []
    assert len(frames(dst, 'sip contains "Signal=X"')) == 2
    assert len(frames(dst, f'sip contains "inline:{"X" * len(KEY)}"')) == 1


@settings(max_examples=int(os.environ.get("WS_EXAMPLES", 60)), deadline=None)
@given(
    masked=st.booleans(),
    splits=st.lists(st.integers(1, 400), min_size=1, max_size=4),
    frames_per=st.lists(st.integers(1, 3), min_size=3, max_size=3),
    big=st.booleans(),
    cuts=st.lists(st.integers(1, 2000), max_size=5),
)
def test_sip_over_websocket_framed_any_way_keeps_no_keypress(
    masked: bool, splits: list[int], frames_per: list[int], big: bool, cuts: list[int]
) -> None:
    """However the messages are cut into frames (16- and 64-bit lengths too) and the stream
    into TCP segments, no keypress is left in the frames, unmasked, and nothing else of them
    changes."""
    import tempfile

    padding = "P" * (70000 if big else 0)  # a message over 65535 bytes: 64-bit length
    messages = [
        _info("application/dtmf-relay", f"Signal={d}\r\nX-Pad: {padding if i == 1 else ''}\r\n", i)
        for i, d in enumerate("738")
    ]
    stream = _WS_HANDSHAKE
    for k, (message, n) in enumerate(zip(messages, frames_per, strict=True)):
        at = [0, *sorted({min(s, len(message) - 1) for s in splits[: n - 1]}), len(message)]
        parts = [message[a:b] for a, b in itertools.pairwise(at) if b > a]
        for j, part in enumerate(parts):
            key = bytes([k + 1, j + 2, 3, 4]) if masked else b""
            stream += _ws_frame(part, key, opcode=0 if j else 1, fin=j == len(parts) - 1)
    at = {c * 41 % len(stream) for c in cuts} | set(range(1400, len(stream), 1400))  # MSS
    bounds = [0, *sorted(at - {0}), len(stream)]
    frames = [
        _tcp_frame(A, B, stream[a:b], 1 + a, port=50123, dport=8080)
        for a, b in itertools.pairwise(bounds)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.pcap", Path(tmp) / "out.pcap"
        _write_pcap(src, frames)
        assert scrub_pcap(src, dst).sip_dtmf_redacted == 3
        _, out = _read(dst)
    data = b"".join(bytes(dpkt.ethernet.Ethernet(fr).data.data.data) for fr in out)
    assert len(data) == len(stream)
    assert _ws_messages(data) == [
        m.replace(b"Signal=" + d.encode(), b"Signal=X")
        for m, d in zip(messages, b"738".decode(), strict=True)
    ]


def _hep3(message: bytes, protocol: int = 1, compressed: bool = False) -> bytes:
    """A HEP3 packet (Homer's encapsulation) of a message captured 10.0.0.1:5060 ->
    10.0.0.2:5060, as Kamailio's siptrace or heplify send it; its payload compressed with
    zlib when asked (chunk 16)."""

    def chunk(kind: int, value: bytes) -> bytes:
        return struct.pack("!HHH", 0, kind, 6 + len(value)) + value

    body = b"".join(
        [
            chunk(1, b"\x02"),  # IPv4
            chunk(2, b"\x11"),  # UDP
            chunk(3, socket.inet_aton(A)),
            chunk(4, socket.inet_aton(B)),
            chunk(7, (5060).to_bytes(2, "big")),
            chunk(8, (5060).to_bytes(2, "big")),
            chunk(9, (1000).to_bytes(4, "big")),
            chunk(10, (0).to_bytes(4, "big")),
            chunk(11, bytes([protocol])),
            chunk(12, (2001).to_bytes(4, "big")),
            chunk(16, zlib.compress(message)) if compressed else chunk(15, message),
        ]
    )
    return b"HEP3" + (6 + len(body)).to_bytes(2, "big") + body


def test_long_sip_lines_cannot_hang_the_scrub() -> None:
    """A "Signal=" or "a=key-mgmt:" line with a long run of blanks inside was read in time
    quadratic in its length (a lazy match backtracking over the blanks: 16 KB 1.9 s, a
    hostile capture's 1 MiB line hours). A hang detector run apart, not a speed target: the
    lines below take milliseconds now."""
    blanks = "b' ' * (1 << 20)"
    code = (
        "from pcifilter.sip_messages import sip_without_dtmf, sip_without_srtp_keys\n"
        f"head = b'INFO sip:x SIP/2.0\\r\\n\\r\\n'\n"
        f"m = sip_without_dtmf(head + b'Signal=1' + {blanks} + b'2\\r\\n')\n"
        "assert m is not None and m.count(b'X') == (1 << 20) + 2\n"
        f"k = sip_without_srtp_keys(head + b'a=key-mgmt:mikey A' + {blanks} + b'B\\r\\n')\n"
        "assert k is not None and k.count(b'X') == (1 << 20) + 2\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def _python_calls(run: Callable[[], object]) -> int:
    """Python and builtin function calls (and generator steps) made while `run` runs: a
    count of the Python-level work, the same on any machine."""
    calls = 0

    def count(frame: object, event: str, arg: object) -> None:
        nonlocal calls
        calls += event in ("call", "c_call")

    sys.setprofile(count)
    try:
        run()
    finally:
        sys.setprofile(None)
    return calls


def _long_connection(n: int) -> list[bytes]:
    """One SIP-over-TCP connection of n messages, one a segment, sent in reverse order."""
    message = b"OPTIONS sip:pay@10.0.0.2 SIP/2.0\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    return [_tcp_frame(A, B, message, 1000 + len(message) * k) for k in range(n)][::-1]


def _overlapping_fragments(n: int) -> list[bytes]:
    """n IPv4 fragments of one datagram that never completes, overlapping one another."""
    frames = []
    for k in range(n):
        ip4 = dpkt.ip.IP(
            src=socket.inet_aton(A), dst=socket.inet_aton(B), p=17, id=7, data=b"x" * 64
        )
        ip4.mf, ip4.offset = 1, 1 + k % 1000  # never offset 0: a hole stays
        ip4.len = 20 + 64
        frames.append(_frame("ethernet", dpkt.ip.IP(bytes(ip4))))
    return frames


@pytest.mark.parametrize("build", [_long_connection, _overlapping_fragments])
def test_a_capture_s_python_work_grows_linearly_with_it(
    tmp_path: Path, build: Callable[[int], list[bytes]]
) -> None:
    """A long-lived SIP-over-TCP connection (a trunk's thousands of messages), and a hostile
    capture's fragments of one datagram: each message's last segment was looked for over all
    the connection's segments, and each fragment set against all those before it, work
    quadratic in them (20,000: 16 s and 50 s; a day's trunk, hours). Counted in Python
    calls, not timed: four times the frames, about four times the calls."""
    counts = []
    for n in (500, 2000):
        src = tmp_path / f"in{n}.pcap"
        _write_pcap(src, build(n))
        counts.append(_python_calls(functools.partial(scrub_pcap, src, tmp_path / "out.pcap")))
    assert counts[1] < 6 * counts[0], counts


@pytest.fixture
def frame_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """pcifilter.websocket.read_frame counted: [headers read so far] (set [0] = 0 to start)."""
    from pcifilter import websocket

    count = [0]
    read = websocket.read_frame

    def counted(stream: bytes | bytearray, at: int) -> tuple[int, int, int, bytes] | None:
        count[0] += 1
        return read(stream, at)

    monkeypatch.setattr(websocket, "read_frame", counted)
    return count


def test_frames_before_a_websocket_sip_frame_are_found_in_one_pass(frame_reads: list[int]) -> None:
    """A connection caught after its handshake: the frames before the first that holds SIP
    are found by reading each place's frame header once. Following the frames from every
    place in turn read them a quadratic number of times: 16 KB of crafted two-byte frames,
    one byte off from leading to the SIP frame, took 17 s (64 KB: minutes), a hang of the
    scrub on a hostile capture. Counted, not timed."""
    from pcifilter import pcap

    sip = b"INFO sip:pay@10.0.0.2 SIP/2.0\r\nContent-Length: 0\r\n\r\n"
    for lead_in, first in [
        (b"\x81\x00" * 8000 + b"\x00", 16000 - 1),  # the frames from every other place overrun
        (b"\x89\x00" * 8000, 0),  # pings all the way from the start
        (bytes(range(256)) * 60, 15360),  # nothing leads to it
    ]:
        stream = lead_in + bytes([0x81, len(sip)]) + sip
        frame_reads[0] = 0
        assert pcap._websocket_start(stream, [len(lead_in)]) == (first, False)
        assert frame_reads[0] <= len(lead_in) + 2


def test_sip_in_hep_is_redacted_in_place(tmp_path: Path) -> None:
    """A capture of the HEP traffic to a Homer collector holds every SIP message again:
    keypresses and SRTP keys in it are redacted inside the HEP packets (same lengths, the
    UDP checksums made valid), the SDP in them is read (the SRTP stream left out), a
    compressed message that holds a keypress and audio (RTP) carried in HEP are replaced
    whole, RTCP passes. Before, HEP packets were no SIP to the scrubber."""
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    sdp = SRTP_SDP.format(a=A, port=40000, key=KEY)
    invite = f"INVITE sip:pay@{B} SIP/2.0\r\nContent-Type: application/sdp\r\n\r\n{sdp}".encode()
    info = _info("application/dtmf-relay", "Signal=7\r\nDuration=160\r\n")
    rtcp = struct.pack("!BBHI", 0x80, 201, 1, 0x5A)
    hep = [
        _hep3(invite),
        _hep3(info),
        _hep3(_info("application/dtmf-relay", "Signal=3\r\n", 5), compressed=True),
        _hep3(_plain_rtp_frames()[0][42:], protocol=4),  # an RTP packet, in HEP
        _hep3(rtcp, protocol=5),
        _hep3(_info("application/sdp", "v=0\r\n", 6), compressed=True),  # nothing in it
    ]
    frames = [_frame("ethernet", _ip("10.0.0.7", "10.0.0.9", 40123, 9060, h, False)) for h in hep]
    _write_pcap(src, frames + _plain_rtp_frames())
    r = scrub_pcap(src, dst)
    assert r.sip_dtmf_redacted == 2 and r.srtp_keys_redacted == 1
    assert [s.encrypted for s in r.streams] == [True] and r.streams[0].packets_out == 0
    _, out = _read(dst)
    assert [len(fr) for fr in out] == [len(fr) for fr in frames]
    sent = [_udp(1, fr) for fr in out]
    assert all(_checksum_ok(ip, udp) for ip, udp in sent)
    got = [bytes(udp.data) for _, udp in sent]
    assert got[0] == _hep3(invite.replace(KEY.encode(), b"X" * len(KEY)))
    assert got[1] == _hep3(info.replace(b"Signal=7", b"Signal=X"))
    packed = len(zlib.compress(_info("application/dtmf-relay", "Signal=3\r\n", 5)))
    assert got[2] == hep[2][:-packed] + b"X" * packed  # the compressed message, whole
    assert got[3].count(b"X") >= 172 and b"\xff" * 160 not in got[3]  # the audio is gone
    assert got[4:] == hep[4:]


def test_relay_gateway_and_pbx_messages_in_hep_are_redacted(tmp_path: Path) -> None:
    """HEP carries more than SIP: rtpengine mirrors its ng traffic to Homer
    (--homer-enable-ng, HEP protocol 0x3d: "play DTMF" codes in bencode or JSON), a Homer
    log (protocol 100) may hold a relay's DTMF log or a PBX's events, and an MGCP gateway's
    notifications may be captured so. Each is redacted as it is when sent bare (same
    length); sent compressed, a message that held a keypress is replaced whole. Before,
    all of them were read as SIP only, and every digit here passed (but SIP's own). Each is
    counted as what it is (before this session: all with SIP's); over TCP too (heplify)."""
    log = b'{"callid":"abc@h","source_tag":"t1","type":"DTMF","timestamp":1700000000,"event":7}'
    ng = b"5432_1 d7:command9:play DTMF7:call-id5:abc@h4:code1:7e"
    ng_json = b'5432_1 {"command":"play DTMF","call-id":"abc@h","code":"7"}'
    esl = b"Event-Name: DTMF\nDTMF-Digit: 7\nDTMF-Duration: 1600\n"
    ami = b"Event: DTMFEnd\r\nDigit: 7\r\nDurationMs: 200\r\n\r\n"
    ntfy = b"NTFY 2002 aaln/1@gw.example.net MGCP 1.0\r\nX: 1\r\nO: L/hd, D/7, D/#\r\n"
    # SIP whose text names "DTMF" in JSON (a header here): read as SIP, and its JSON too
    sip = _info("application/dtmf-relay", "Signal=7\r\n").replace(
        b"\r\n\r\n", b'\r\nX-Log: {"type":"DTMF","digit":"7"}\r\n\r\n', 1
    )
    messages = [  # (message, HEP protocol, what it must become)
        (ng, 0x3D, ng.replace(b"1:7e", b"1:Xe")),
        (ng_json, 0x3D, ng_json.replace(b'"7"', b'"X"')),
        (log, 100, log.replace(b":7}", b":X}")),
        (esl, 100, esl.replace(b": 7", b": X")),
        (ami, 100, ami.replace(b": 7", b": X")),
        (ntfy, 0x3D, ntfy.replace(b"D/7, D/#", b"D/X, D/X")),
        (sip, 1, sip.replace(b"Signal=7", b"Signal=X").replace(b'"7"', b'"X"')),
    ]
    hep = [_hep3(m, protocol=p) for m, p, _ in messages]
    hep += [_hep3(m, protocol=p, compressed=True) for m, p, _ in messages]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, [_frame("ethernet", _ip(A, B, 40123, 9060, h, False)) for h in hep])
    r = scrub_pcap(src, dst)
    got = [bytes(_udp(1, fr)[1].data) for fr in _read(dst)[1]]
    for (message, protocol, masked), plain, packed in zip(
        messages, got[: len(messages)], got[len(messages) :], strict=True
    ):
        assert masked != message and plain == _hep3(masked, protocol), message
        n = len(zlib.compress(message))
        assert packed == _hep3(message, protocol, compressed=True)[:-n] + b"X" * n
    counts = (r.sip_dtmf_redacted, r.relay_dtmf_redacted, r.pbx_dtmf_redacted)
    assert counts == (2, 6, 4) and r.gateway_dtmf_redacted == 2
    stream = b"".join(hep)  # the same packets one after another over TCP
    _write_pcap(src, _segments(A, B, _cut(stream, 700), 1, (40125, 9061)))
    r = scrub_pcap(src, dst)
    assert _directions_out(dst)[40125] == b"".join(got)
    counts = (r.sip_dtmf_redacted, r.relay_dtmf_redacted, r.pbx_dtmf_redacted)
    assert counts == (2, 6, 4) and r.gateway_dtmf_redacted == 2


def test_json_naming_dtmf_in_sip_is_redacted_over_udp_and_tcp_as_in_hep(tmp_path: Path) -> None:
    """SIP whose text names "DTMF" in JSON (a header a platform logs keypresses in) has its
    JSON's values read as a relay's are: so in HEP since the last session, and now in SIP
    sent bare over UDP and over TCP too, where the digit passed before."""
    sip = _info("application/dtmf-relay", "Signal=7\r\n").replace(
        b"\r\n\r\n", b'\r\nX-Log: {"type":"DTMF","digit":"7"}\r\n\r\n', 1
    )
    masked = sip.replace(b"Signal=7", b"Signal=X").replace(b'"7"', b'"X"')
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    udp = [_frame("ethernet", _ip(A, B, 5060, 5060, sip, False))]
    _write_pcap(src, udp + _segments(A, B, _cut(sip, 90), 4000, (5062, 5060)))
    r = scrub_pcap(src, dst)
    frames = _read(dst)[1]
    assert bytes(_udp(1, frames[0])[1].data) == masked
    tcp = b"".join(bytes(dpkt.ethernet.Ethernet(fr).data.data.data) for fr in frames[1:])
    assert tcp == masked
    assert r.sip_dtmf_redacted == 2


def test_audio_and_keys_in_compressed_hep_payloads_are_replaced(tmp_path: Path) -> None:
    """HEP's compressed payload chunk (16) is read as its plain one is: RTP carried in it
    (protocol 4, audio that may hold a keypress's tones) replaced whole, as it was only
    when sent plain; and one that holds an SRTP key in a form SIP's redaction does not read
    (a bare SDP, HEP's protocol 3) replaced whole and counted, as the capture's sweep finds
    such a key in clear but sees only zlib's bytes here. Before, both passed."""
    rtp = _plain_rtp_frames()[0][42:]
    sdp = SRTP_SDP.format(a=A, port=40000, key=KEY).encode()
    hep = [
        _hep3(rtp, protocol=4, compressed=True),
        _hep3(sdp, protocol=3, compressed=True),
        _hep3(sdp, protocol=3),  # plain: the capture's sweep finds its key
    ]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, [_frame("ethernet", _ip(A, B, 40123, 9060, h, False)) for h in hep])
    r = scrub_pcap(src, dst)
    got = [bytes(_udp(1, fr)[1].data) for fr in _read(dst)[1]]
    for sent, message in zip(hep[:2], (rtp, sdp), strict=True):
        packed = len(zlib.compress(message))
        assert got[hep.index(sent)] == sent[:-packed] + b"X" * packed
    assert KEY.encode() not in got[2] and got[2] == hep[2].replace(KEY.encode(), b"X" * len(KEY))
    assert r.srtp_keys_redacted >= 1


@pytest.mark.parametrize(("version", "v6"), [(1, False), (2, False), (2, True)])
def test_sip_in_hep_version_1_and_2_is_redacted(tmp_path: Path, version: int, v6: bool) -> None:
    """HEP versions 1 and 2 (Kamailio siptrace's default is 1): an 8-byte header, the
    addresses, in version 2 a 12-byte time header, then the message."""
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    size = 16 if v6 else 4  # address bytes
    # application/dtmf: found by its Content-Type only, in the message the header holds
    info = _info("application/dtmf", "7")
    # ports 3338 (0x0D0A): a CRLF CRLF in the binary header, before the message's own
    head = bytes([version, 8 + 2 * size, 10 if v6 else 2, 17]) + struct.pack("!HH", 3338, 3338)
    head += bytes(range(1, 1 + 2 * size))  # the two addresses
    if version == 2:
        head += struct.pack("<IIH2x", 1000, 0, 2001)  # seconds, microseconds, capture id
    frames = [_frame("ethernet", _ip(A, B, 40123, 9060, head + info, False))]
    _write_pcap(src, frames)
    assert scrub_pcap(src, dst).sip_dtmf_redacted == 1
    _, out = _read(dst)
    ip, udp = _udp(1, out[0])
    assert bytes(udp.data) == head + _info("application/dtmf", "X")
    assert _checksum_ok(ip, udp)


def _paused_capture(
    path: Path, pcm: np.ndarray, cut: int, pause: int, elapsed: float, opus_first: int = 0
) -> None:
    """`pcm` as 20 ms PCMU packets captured every 20 ms, from RTP time `cut` (a multiple of
    160) on `pause` clock units later in timestamp and `elapsed` seconds later in capture
    time: a sender's pause when the two agree, a jump of its timestamps when they do not.
    With `opus_first`, an SDP listing Opus and PCMU, that many Opus packets (of quiet noise,
    on a clock of their own) sent before the PCMU ones: a sender that switched codec."""
    media = "0 96" if not opus_first else "111 0 96\r\na=rtpmap:111 opus/48000/2"
    sdp = SDP.format(a=A, port=40000).replace("0 96", media, 1)
    frames = [
        (
            999.0,
            _frame(
                "ethernet", _ip(A, B, 5060, 5060, f"INVITE x SIP/2.0\r\n\r\n{sdp}".encode(), False)
            ),
        )
    ]
    from opuslib import Encoder

    enc, rng = Encoder("silk", 24000), np.random.default_rng(1)
    lead = [enc.encode(sg.to_int16(sg.white_noise(960, -50, rng))) for _ in range(opus_first)]
    for k, payload in enumerate(lead):
        rtp = RtpPacket(111, k == 0, k, 777 + 960 * k, 0xA, payload=payload)
        at = 1000.0 + 0.02 * (k - opus_first)
        frames.append((at, _frame("ethernet", _ip(A, B, 40000, 50000, rtp.serialize(), False))))
    for k in range(len(pcm) // 160):
        after = 160 * k >= cut
        rtp = RtpPacket(
            0,
            k == 0 or 160 * k == cut,  # a talkspurt's first packet
            opus_first + k,
            1000 + 160 * k + (pause if after else 0),
            0xA,
            payload=pf.ulaw_encode(pcm[160 * k : 160 * k + 160]).tobytes(),
        )
        at = 1000.0 + 0.02 * k + (elapsed if after else 0.0)
        frames.append((at, _frame("ethernet", _ip(A, B, 40000, 50000, rtp.serialize(), False))))
    _write_timed(path, frames)


def _capture_audio(path: Path, n: int, pause: int) -> np.ndarray:
    """The PCMU audio of a `_paused_capture`'s output on its RTP timeline (from 1000)."""
    y = np.zeros(n + pause, np.int16)
    _, out = _read(path)
    for fr in out[1:]:
        p = RtpPacket.parse(bytes(_udp(1, fr)[1].data))
        if p.payload_type != 0:  # (the Opus packets before)
            continue
        at = p.timestamp - 1000
        y[at : at + len(p.payload)] = pf.ulaw_decode(p.payload)
    return y


@pytest.mark.parametrize("opus_first", [0, 10])
@pytest.mark.parametrize(
    ("elapsed", "quiet_end", "kept"),
    [(3.0, True, True), (0.0, True, False), (60.0, True, False), (3.0, False, False)],
)
def test_a_talkspurt_after_a_long_pause_in_a_capture_keeps_its_start(
    tmp_path: Path, elapsed: float, quiet_end: bool, kept: bool, opus_first: int
) -> None:
    """A G.711 sender that stops sending for 3 s (silence suppression, Cisco's default VAD):
    its timestamps jump by over the filter's 2 s gap limit, which without a clock is taken
    for a cut, its first 40 ms masked. A capture's times show the pause: the talkspurt after
    it now passes bit-exact. A jump with no time passed (a splice), or with times that do
    not match it, is still guarded; so is a pause that begins on sound (no VAD's hang-over:
    a keypress may be cut). The same for a sender that switched from Opus to PCMU (a filter
    of both families; before, its G.711 pauses were all taken for cuts)."""
    rng = np.random.default_rng(5)
    pcm = sg.white_noise(16000, -20, rng)  # two 1 s talkspurts of noise, the first
    if quiet_end:
        pcm[7200:8000] = sg.white_noise(800, -50, rng)  # ending quietly (a VAD's hang-over)
    pcm = sg.to_int16(pcm)
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _paused_capture(src, pcm, 8000, 24000, elapsed, opus_first)
    scrub_pcap(src, dst)
    y = _capture_audio(dst, len(pcm), 24000)
    start = 8000 + 24000  # the second talkspurt, on the RTP timeline
    sent = pf.ulaw_decode(pf.ulaw_encode(pcm[8000:8800]))
    changed = int(np.count_nonzero(y[start : start + 800] != sent))
    if kept:
        assert changed == 0
    else:
        assert changed >= 300  # a cut's 40 ms guard


@pytest.mark.parametrize("opus_first", [0, 10])
@pytest.mark.parametrize("cut_ms", [0, 20, 40, 60, 80])
def test_a_keypress_cut_by_a_long_pause_in_a_capture_leaves_nothing(
    tmp_path: Path, cut_ms: int, opus_first: int
) -> None:
    """The pause that a capture's times show is a pause to the filter, with a pause's guards:
    a keypress cut anywhere by one of 3 s leaves nothing of it on either side (a G.711
    sender's, and one's that switched from Opus)."""
    from leak import worst_window_db

    x, spans = sg.keyed_sequence("5", 100, 100, -10, lead_ms=200)
    pcm = sg.to_int16(x + sg.white_noise(len(x), -55, np.random.default_rng(2)))
    cut = (spans[0][0] // 160 + cut_ms // 20) * 160
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _paused_capture(src, pcm, cut, 24000, 3.0, opus_first)
    scrub_pcap(src, dst)
    y = _capture_audio(dst, len(pcm), 24000)
    heard = np.concatenate([y[:cut], y[cut + 24000 :]])[: len(pcm)]
    assert worst_window_db(heard, *spans[0], "5", -10) <= -40


def test_sip_in_hep_over_tcp_is_redacted_in_place(tmp_path: Path) -> None:
    """HEP over TCP (heplify, captagent): HEP3 packets one after another in the stream, cut
    across segments anywhere; a connection caught inside a packet. Each packet's message is
    redacted in place, and the bytes of the one whose start was not captured are looked at
    as SIP with no headers to go by."""
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    sdp = SRTP_SDP.format(a=A, port=40000, key=KEY)
    invite = f"INVITE sip:pay@{B} SIP/2.0\r\nContent-Type: application/sdp\r\n\r\n{sdp}".encode()
    info = _info("application/dtmf-relay", "Signal=7\r\nDuration=160\r\n")
    packets = [_hep3(invite), _hep3(info), _hep3(_info("application/dtmf", "4", 5))]
    stream = b"".join(packets)
    cuts = [0, 25, len(packets[0]) + 40, len(stream) - 7, len(stream)]  # inside each packet
    frames = [
        _tcp_frame(A, B, stream[a:b], 1 + a, port=40123, dport=9061)
        for a, b in itertools.pairwise(cuts)
    ]
    # caught inside a packet (its first segment not captured), then a whole one
    tail = _hep3(_info("application/dtmf-relay", "Signal=9\r\n", 6))[60:]
    frames.append(_tcp_frame(A, B, tail, 500, port=40124, dport=9061))
    frames.append(_tcp_frame(A, B, _hep3(info), 500 + len(tail), port=40124, dport=9061))
    _write_pcap(src, frames + _plain_rtp_frames())
    r = scrub_pcap(src, dst)
    assert r.srtp_keys_redacted == 1 and r.sip_dtmf_redacted == 4
    assert [s.encrypted for s in r.streams] == [True]  # the SDP in HEP over TCP was read
    _, out = _read(dst)
    tcp = [fr for fr in out if isinstance(dpkt.ethernet.Ethernet(fr).data.data, dpkt.tcp.TCP)]
    assert [len(fr) for fr in tcp] == [len(fr) for fr in frames]
    assert all(_tcp_checksum_ok(fr) for fr in tcp)
    data = [bytes(dpkt.ethernet.Ethernet(fr).data.data.data) for fr in tcp]
    assert b"".join(data[:4]) == b"".join(
        [
            _hep3(invite.replace(KEY.encode(), b"X" * len(KEY))),
            _hep3(info.replace(b"Signal=7", b"Signal=X")),
            _hep3(_info("application/dtmf", "X", 5)),
        ]
    )
    assert data[4] == tail.replace(b"Signal=9", b"Signal=X")
    assert data[5] == _hep3(info.replace(b"Signal=7", b"Signal=X"))


def test_an_opus_call_with_no_sdp_is_left_out_then_scrubbed_when_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An Opus call whose SDP the capture does not hold (SIP over TLS): payload type 111 is
    no one's, so the flow is no stream. It was written as it was, in-band keypresses on;
    it is reported (the flow, its payload types, how to name it) and left out (written as
    it was only with keep_unscrubbed_flows), and with opus_pt (--opus-pt 111) it is
    scrubbed: an independent decoder hears no digit."""
    from opuslib import Decoder, rtp_stream

    x, _ = sg.keyed_sequence("2468", 80, 90, -10, lead_ms=300, sample_rate=48000)
    pcm = sg.to_int16(np.concatenate([x, np.zeros(24000)]))
    frames = [
        (1001 + p.timestamp / 48000, _frame("ethernet", _ip(A, B, 42000, 52000, raw, False)))
        for raw in rtp_stream(pcm, "hybrid", 20, 24000, ssrc=0xC)
        for p in [RtpPacket.parse(raw)]
    ]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_timed(src, frames)

    def heard(path: Path) -> tuple[str, int]:
        lt, out = _read(path)
        dec = Decoder(8000)
        audio = [
            dec.decode(RtpPacket.parse(bytes(_udp(lt, fr)[1].data)).payload, 960) for fr in out
        ]
        return spandsp.spandsp_digits(np.concatenate(audio or [np.zeros(0)]), lenient=True)

    r = scrub_pcap(src, dst, keep_unscrubbed_flows=True)
    assert r.streams == [] and heard(dst) == ("", 4)  # as it was: four digits heard
    r = scrub_pcap(src, dst)
    assert r.streams == [] and r.frames_out == 0 and heard(dst) == ("", 0)  # left out
    (flow,) = r.unscrubbed_flows
    assert (flow.src, flow.dst, flow.ssrc) == (f"{A}:42000", f"{B}:52000", 0xC)
    assert (flow.packets, flow.payload_types) == (len(frames), [111])
    assert main(["scrub", str(src), str(dst)]) == 0
    printed = capsys.readouterr().out
    assert "1 RTP-like flows not taken for audio, left out" in printed
    assert "payload types 111" in printed and _read(dst)[1] == []
    assert main(["scrub", str(src), str(dst), "--keep-unscrubbed-flows"]) == 0
    assert "written as they were" in capsys.readouterr().out and heard(dst) == ("", 4)
    r = scrub_pcap(src, dst, opus_pt=111, reveal_digits=True)
    assert r.unscrubbed_flows == [] and [e["digit"] for e in r.streams[0].events] == list("2468")
    assert heard(dst) == ("", 0)
    assert main(["scrub", str(src), str(dst), "--opus-pt", "111"]) == 0
    assert heard(dst) == ("", 0) and "not taken for audio" not in capsys.readouterr().out


def test_a_call_in_a_codec_no_one_named_is_left_out(tmp_path: Path) -> None:
    """A G.722 call (static payload type 9) whose SDP the capture does not hold: no filter
    scrubs G.722, and its audio would carry the keypresses in-band. Its flow is left out and
    listed, as is a flow of 2 packets never (too few to tell from other traffic); the
    other RTP-like flow of this capture, G.711 on port 40000, is scrubbed as usual."""
    rng = np.random.default_rng(3)
    g722 = [
        RtpPacket(9, i == 0, 10 + i, 160 * i, 0x22, payload=rng.bytes(160)).serialize()
        for i in range(50)
    ]
    pair = [
        RtpPacket(9, False, i, 160 * i, 0x33, payload=rng.bytes(160)).serialize() for i in (0, 1)
    ]
    frames = [_frame("ethernet", _ip(A, B, 46000, 56000, p, False)) for p in g722]
    frames += [_frame("ethernet", _ip(A, B, 46002, 56002, p, False)) for p in pair]
    frames += _plain_rtp_frames()
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    (flow,) = r.unscrubbed_flows
    assert (flow.ssrc, flow.packets, flow.payload_types) == (0x22, 50, [9])
    assert [s.ssrc for s in r.streams] and r.frames_out == len(frames) - len(g722)
    sports = [_udp(1, fr)[1].sport for fr in _read(dst)[1]]
    assert 46000 not in sports and sports.count(46002) == 2


def test_sip_over_sctp_is_left_out(tmp_path: Path) -> None:
    """SIP over SCTP (RFC 4168): its chunks are not read (nor rewritten under their
    CRC32c), so an INFO with a keypress or an SDP with a key in a DATA chunk would pass
    as it was. Such packets are left out and counted; SCTP that carries no SIP (Diameter,
    SIGTRAN) is written as it was."""

    def sctp(user_data: bytes, ppid: int) -> bytes:
        chunk = struct.pack("!BBHIHHI", 0, 3, 16 + len(user_data), 1, 0, 0, ppid) + user_data
        chunk += bytes(-len(chunk) % 4)
        packet = struct.pack("!HHII", 5060, 5060, 0x1234, 0) + chunk
        ip = dpkt.ip.IP(src=socket.inet_aton(A), dst=socket.inet_aton(B), p=132, data=packet)
        ip.len = 20 + len(packet)
        return _frame("ethernet", dpkt.ip.IP(bytes(ip)))

    info = _info("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", 1)
    diameter = b"\x01\x00\x00\x14" + bytes(16)
    frames = [sctp(info, 0), sctp(diameter, 46)]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.sip_over_sctp == 1 and _read(dst)[1] == frames[1:]


def test_tls_key_logs_in_a_pcapng_are_not_written(tmp_path: Path) -> None:
    """A pcapng may carry decryption secrets (a Decryption Secrets Block: TLS key logs,
    editcap --inject-secrets) with which Wireshark reads SIP over TLS, keypresses and SRTP
    keys included, that no scrubbing saw. The output holds its section, interface and
    packets only: the secrets are not written."""
    if shutil.which("editcap") is None:
        pytest.fail("editcap missing: run ./dev.sh test, which installs tshark")
    plain, src, dst = tmp_path / "plain.pcapng", tmp_path / "in.pcapng", tmp_path / "out.pcapng"
    _capture(plain, ng=True)
    keys = tmp_path / "keys.txt"
    keys.write_text(f"CLIENT_RANDOM {'00' * 32} {'11' * 48}\n")
    subprocess.run(
        ["editcap", "--inject-secrets", f"tls,{keys}", str(plain), str(src)],
        check=True,
        capture_output=True,
    )

    def block_types(path: Path) -> set[int]:
        data, at, found = path.read_bytes(), 0, set()
        while at + 8 <= len(data):
            kind, length = struct.unpack_from("<II", data, at)
            found.add(kind)
            at += length
        return found

    assert 10 in block_types(src)  # the Decryption Secrets Block
    scrub_pcap(src, dst)
    assert block_types(dst) == {0x0A0D0D0A, 1, 6}  # section, interface, packets


CARDS = ["4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005", "6011111111111117"]


def test_card_numbers_in_clear_outside_the_audio_are_masked(tmp_path: Path) -> None:
    """Card numbers in clear in what else a capture holds (a chat in SIP MESSAGE, an
    application's variable in an AMI event, a log line over TCP): masked wherever they are,
    written in groups or not, an expiry after one or not; numbers that are no card number
    (no scheme's prefix, the Luhn check failing, 20 digits or more) and the audio are left
    as they were; lengths and checksums stay valid."""
    kept = ["1234567890123456", "4915112345679", "40000000000000000000", "1796127823000"]
    message = (
        "MESSAGE sip:agent@b SIP/2.0\r\nCall-ID: 1234567890123456@a\r\n"
        "Content-Type: text/plain\r\n\r\n"
        f"my card is {CARDS[0]} exp 12 27, call me on +4915112345679\r\n"
    ).encode()
    ami = (
        f"Event: VarSet\r\nVariable: card\r\nValue: {CARDS[1]}\r\nUniqueid: {kept[2]}\r\n\r\n"
    ).encode()
    log = f'<30>app: {{"pan":"{CARDS[2]}","alt":"{CARDS[3]}","ts":{kept[3]}}}\n'.encode()
    frames = [
        _frame("ethernet", _ip(A, B, 5060, 5060, message, False)),
        _tcp_frame(A, B, ami, 1000, port=5038, dport=40001),
        _tcp_frame(A, B, log, 1000, port=40002, dport=514),
        *_plain_rtp_frames(),
    ]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.card_numbers_masked == 4
    _, out = _read(dst)
    assert [len(fr) for fr in out] == [len(fr) for fr in frames]
    text = b"".join(out[:3])
    for card in CARDS:
        digits = card.replace(" ", "").replace("-", "")
        assert card.encode() not in text and digits.encode() not in text
        assert (
            card.replace("0", "X").translate(str.maketrans("123456789", "X" * 9)).encode() in text
        )
    assert all(k.encode() in text for k in kept)
    ip, udp = _udp(1, out[0])
    assert _checksum_ok(ip, udp) and all(_tcp_checksum_ok(fr) for fr in out[1:3])
    r = scrub_pcap(src, dst, mask_card_numbers=False)
    _, unswept = _read(dst)
    assert r.card_numbers_masked == 0 and CARDS[0].encode() in b"".join(unswept)
    assert out[3:] == unswept[3:]  # the audio: the sweep leaves it to the stream filter


@settings(max_examples=200, deadline=None)
@given(
    body=st.lists(st.integers(0, 9), min_size=12, max_size=18),
    prefix=st.sampled_from(["4", "51", "55", "2221", "2720", "34", "37", "6011", "65", "35"]),
    sep=st.sampled_from(["", " ", "-", "+", "%20", "\u00a0"]),
    before=st.text("abc :=\"'", max_size=5),
    after=st.text("abc :=\"'", max_size=5),
    written_as=st.sampled_from(["utf-8", "utf-16-le", "utf-16-be", "base64", "hex"]),
)
def test_every_card_number_in_clear_is_masked(
    body: list[int], prefix: str, sep: str, before: str, after: str, written_as: str
) -> None:
    """Any number a scheme issues (its prefix, 13-19 digits, the Luhn check digit), in groups
    of four or none (spaces as typed, as a web form or URL encodes them, or no-break spaces
    as a page pasted from has them), in any text, in UTF-8 or UTF-16, or that text in base64
    or hex: masked."""
    from pcifilter._core import Capture

    digits = (prefix + "".join(map(str, body)))[:18]
    total = sum(
        (d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 == 0 else d
        for i, d in enumerate(int(c) for c in reversed(digits))
    )
    number = digits + str(-total % 10)
    written = sep.join(number[i : i + 4] for i in range(0, len(number), 4)) if sep else number
    text = f"{before}{written}{after}"
    payload = {
        "base64": lambda: base64.b64encode(f"card={text}".encode()),
        "hex": lambda: f"card={text}".encode().hex().encode(),
    }.get(written_as, lambda: text.encode(written_as))()
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.pcap"
        _write_pcap(path, [_frame("ethernet", _ip(A, B, 40000, 9999, payload, False))])
        capture = Capture(str(path))
        assert capture.mask_card_numbers() == 1
        capture.write(str(path))
        (out,) = _read(path)[1]
        shown = bytes(dpkt.ethernet.Ethernet(out).data.data.data)
        if written_as in ("base64", "hex"):  # what is left, decoded
            shown = (
                base64.b64decode(shown.replace(b"X", b"A"))
                if written_as == "base64"
                else bytes.fromhex(shown.replace(b"X", b"0").decode())
            )
        elif written_as != "utf-8":
            shown = shown.decode(written_as).encode()
        assert number.encode() not in shown.replace(sep.encode(), b"")


def test_a_card_number_typed_into_a_web_chat_over_websocket_is_masked(tmp_path: Path) -> None:
    """A web client (JsSIP) sends a chat as SIP MESSAGE over WebSocket: its frames are masked
    (RFC 6455), so the card number typed in it shows no digits to the capture's sweep. The
    message is unmasked (as for its keypresses), its card number masked, masked again."""
    chat = (
        f"MESSAGE sip:agent@b SIP/2.0\r\nContent-Type: text/plain\r\n\r\nit is {CARDS[0]}\r\n"
    ).encode()
    client = _WS_HANDSHAKE + _ws_frame(chat, b"\x11\x22\x33\x44")
    frames = [_tcp_frame(A, B, client, 1000, port=50123, dport=8080)]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.card_numbers_masked == 1
    (out,) = _read(dst)[1]
    (message,) = _ws_messages(bytes(dpkt.ethernet.Ethernet(out).data.data.data))
    assert message == chat.replace(CARDS[0].encode(), b"XXXX XXXX XXXX XXXX")
    assert _tcp_checksum_ok(out)


def test_what_a_web_client_sends_over_any_websocket_is_swept(tmp_path: Path) -> None:
    """A web client on a WebSocket of its own (ws://, no subprotocol the capture knows: a
    chat widget, FreeSWITCH's Verto): its frames are masked (RFC 6455), so the capture's
    sweeps saw no digit in them. The client's stream is read unmasked from its handshake
    on: a card number typed in the chat, a keypress sent as Verto's "dtmf" and an SDES key
    in the SDP it offers (JSON-escaped) are masked, and the frames masked again."""
    chat = f'{{"text":"my card is {CARDS[0]}"}}'.encode()
    verto = b'{"jsonrpc":"2.0","method":"verto.info","params":{"dtmf":"5"}}'
    offer = json.dumps(
        {"sdp": f"v=0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^20\r\n"}
    ).encode()
    handshake = _WS_HANDSHAKE.replace(b"Sec-WebSocket-Protocol: sip\r\n", b"")
    client = handshake + b"".join(
        _ws_frame(m, bytes([7 * i + 1, 2, 3, 4])) for i, m in enumerate((chat, verto, offer))
    )
    frames = _segments(A, B, _cut(client, 90), 1000, (50200, 8081))
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    out = _read(dst)[1]
    assert all(_tcp_checksum_ok(fr) for fr in out)
    stream = b"".join(bytes(dpkt.ethernet.Ethernet(fr).data.data.data) for fr in out)
    assert len(stream) == len(client) and stream.startswith(handshake)
    assert _ws_messages(stream) == [
        chat.replace(CARDS[0].encode(), b"XXXX XXXX XXXX XXXX"),
        verto.replace(b'"dtmf":"5"', b'"dtmf":"X"'),
        offer.replace(KEY.encode(), b"X" * len(KEY)),
    ]
    assert (r.card_numbers_masked, r.pbx_dtmf_redacted, r.srtp_keys_redacted) == (1, 1, 1)


def _client_stream_out(dst: Path) -> bytes:
    return b"".join(bytes(dpkt.ethernet.Ethernet(fr).data.data.data) for fr in _read(dst)[1])


def test_a_web_client_caught_after_its_handshake_is_swept_unmasked(tmp_path: Path) -> None:
    """A web client's connection whose handshake the capture missed (it began before the
    capture, or a segment was lost): its frames are masked, so the sweeps saw no digit in
    them, and anyone who reads the frames unmasks them. The frames are found where they run,
    one after another, to the stream's end (the rest of the frame before them, whose key was
    not captured, stays as it was when no key shows a card number in it: see the next
    test); what they carry is masked, the frames masked again."""
    chat = f'{{"text":"my card is {CARDS[1]}"}}'.encode()
    verto = b'{"jsonrpc":"2.0","method":"verto.info","params":{"dtmf":"5"}}'
    offer = json.dumps({"sdp": f"v=0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}\r\n"})
    rest = _ws_frame(b"lorem ipsum dolor sit amet, " * 15, b"\x09\x08\x07\x06")[150:]  # its last
    frames = [
        _ws_frame(m, bytes([5 * i + 3, 7, 11, 13]))
        for i, m in enumerate((chat, b"ping", verto, offer.encode()))
    ]
    frames[1] = _ws_frame(b"ping", b"\x01\x02\x03\x04", opcode=9)
    client = rest + b"".join(frames)
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, _segments(A, B, _cut(client, 100), 7000, (50300, 8081)))
    r = scrub_pcap(src, dst)
    stream = _client_stream_out(dst)
    assert len(stream) == len(client) and stream[: len(rest)] == rest
    assert _ws_messages(stream[len(rest) :]) == [
        chat.replace(CARDS[1].encode(), b"XXXX-XXXX-XXXX-XXXX"),
        verto.replace(b'"dtmf":"5"', b'"dtmf":"X"'),
        offer.encode().replace(KEY.encode(), b"X" * len(KEY)),
    ]
    assert (r.card_numbers_masked, r.pbx_dtmf_redacted, r.srtp_keys_redacted) == (1, 1, 1)


@pytest.mark.parametrize("cut", [6, 30, 60])
def test_the_rest_of_a_web_client_s_frame_before_its_frames_keeps_no_card(
    tmp_path: Path, cut: int
) -> None:
    """A web client caught inside a frame that carries a card number: the rest of that
    frame, its header and key not captured, was written as it was, masked. A 4-byte key
    repeated hides nothing: a reader trying each key byte against printable text reads the
    number. That rest is now read under each key that shows 13 card characters in a row,
    and replaced when one shows a card number; a rest of text without such a run stays."""
    chat = f'{{"text":"hello, my card is {CARDS[0]}, expiry 12/27, thanks"}}'.encode()
    key = b"\x5a\xc3\x17\x9e"
    rest = _ws_frame(chat, key)[cut:]
    after = [_ws_frame(m, bytes([i + 1, 2, 3, 4])) for i, m in enumerate((b"ok", b"bye", b"x"))]
    client = rest + b"".join(after)
    if cut < 33:  # the card's digits in the rest: read with the key, which a reader finds
        payload = bytes(b ^ key[(i + cut - 6) % 4] for i, b in enumerate(rest))
        assert CARDS[0].encode() in payload
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, _segments(A, B, _cut(client, 100), 7000, (50310, 8081)))
    r = scrub_pcap(src, dst)
    stream = _client_stream_out(dst)
    assert len(stream) == len(client) and stream[len(rest) :] == client[len(rest) :]
    if cut < 33:
        assert stream[: len(rest)] == b"X" * len(rest)
        assert r.card_numbers_masked == 1
    else:
        assert stream[: len(rest)] == rest and r.card_numbers_masked == 0


@pytest.mark.parametrize("handshake", [True, False])
def test_a_card_number_typed_a_keystroke_a_websocket_frame_is_masked(
    tmp_path: Path, handshake: bool
) -> None:
    """A web terminal or chat that sends each keystroke in a frame of its own (xterm.js over
    a WebSocket): the digits of a card number typed there are in 19 frames, a header and a
    key between each two, and no run of them showed 13 digits, unmasked or not. The frames'
    payloads are read joined, as the message they make."""
    head = _WS_HANDSHAKE.replace(b"Sec-WebSocket-Protocol: sip\r\n", b"") if handshake else b""
    typed = f"pay {CARDS[0]}\r".encode()
    keys = [bytes([i + 1, 2 * i + 1, 3, 4]) for i in range(len(typed))]
    client = head + b"".join(_ws_frame(typed[i : i + 1], keys[i]) for i in range(len(typed)))
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, [_tcp_frame(A, B, client, 1000, port=50400, dport=8082)])
    r = scrub_pcap(src, dst)
    stream = _client_stream_out(dst)
    assert len(stream) == len(client) and stream.startswith(head)
    got = b"".join(_ws_messages(stream[len(head) :]))
    assert got == typed.replace(CARDS[0].encode(), b"XXXX XXXX XXXX XXXX")
    assert r.card_numbers_masked == 1


def _http_capture(path: Path, request: bytes, response: bytes) -> list[bytes]:
    """A request from A and its response from B, each cut into segments of 200 bytes."""
    frames = []
    for payload, (src, dst, sport, dport) in (
        (request, (A, B, 50500, 8080)),
        (response, (B, A, 8080, 50500)),
    ):
        frames += _segments(src, dst, _cut(payload, 200), 3000, (sport, dport))
    _write_pcap(path, frames)
    return [request, response]


def _directions_out(dst: Path) -> dict[int, bytes]:
    """Each direction's payload bytes of a scrubbed capture, by source port."""
    out: dict[int, bytes] = defaultdict(bytes)
    for fr in _read(dst)[1]:
        tcp = dpkt.ethernet.Ethernet(fr).data.data
        out[tcp.sport] += bytes(tcp.data)
    return out


@pytest.mark.parametrize(
    ("coding", "compress"),
    [
        ("gzip", functools.partial(gzip.compress, mtime=0)),
        ("br", brotli.compress),
        ("zstd", lambda b: zstandard.ZstdCompressor().compress(b)),
    ],
)
def test_a_card_number_in_a_compressed_http_body_is_masked(
    tmp_path: Path, coding: str, compress: Callable[[bytes], bytes]
) -> None:
    """An agent's CRM over plain HTTP: the card number typed into its form goes out in clear
    (found in the raw stream as before), and the server's reply echoes it compressed (gzip;
    br and zstd, as browsers accept them), where no digit shows. The reply's body is read
    decompressed, and a body that holds a card number is replaced whole (it cannot be
    compressed again to the same length); the headers stay, and a compressed body with none
    is left as it was, bit for bit."""
    form = f"card={CARDS[0].replace(' ', '+')}&amount=10".encode()
    request = b"POST /pay HTTP/1.1\r\nHost: crm\r\nContent-Length: %d\r\n\r\n%s" % (
        len(form),
        form,
    )
    echoed = compress(json.dumps({"card": CARDS[0], "notes": "x" * 300}).encode())
    plain = compress(b'{"status": "ok", "order": 4111}')
    head = f"HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nContent-Length: %d\r\n\r\n"
    response = head.encode() % len(echoed) + echoed + head.encode() % len(plain) + plain
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _http_capture(src, request, response)
    r = scrub_pcap(src, dst)
    out = _directions_out(dst)
    typed = form.replace(b"4111+1111+1111+1111", b"XXXX+XXXX+XXXX+XXXX")
    assert out[50500] == request.replace(form, typed)
    first = response.index(echoed)
    assert out[8080][:first] == response[:first]  # the headers as they were
    assert out[8080][first : first + len(echoed)] == b"X" * len(echoed)
    assert out[8080][first + len(echoed) :] == response[first + len(echoed) :]  # the second
    assert r.card_numbers_masked == 2


def test_card_numbers_written_in_base64_or_hex_are_masked(tmp_path: Path) -> None:
    """A card number sent encoded: a JSON value in base64 (a token a web page builds), one
    in URL-safe base64 in a query string, and a log line that dumps a buffer in hex. No
    digit run showed in them; each is read decoded, and the characters that encode the
    number are replaced (what is left decodes to no card number)."""
    inner = json.dumps({"pan": CARDS[0], "exp": "12/27"}).encode()
    token = base64.b64encode(inner)
    query = base64.urlsafe_b64encode(b"n=" + CARDS[1].encode()).rstrip(b"=")
    body = json.dumps({"token": token.decode()}).encode()
    request = b"POST /pay?ref=%s HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (
        query,
        len(body),
        body,
    )
    dump = b"<14>pay: buffer " + inner.hex().encode() + b"\n"
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    frames = _segments(A, B, _cut(request, 200), 3000, (50500, 8080))
    frames.append(_frame("ethernet", _ip(A, B, 5140, 514, dump, False)))
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.card_numbers_masked == 3
    out = _directions_out(dst)[50500]
    sent_token = json.loads(out.partition(b"\r\n\r\n")[2])["token"].encode()
    assert len(sent_token) == len(token) and sent_token != token
    sent_query = out.split(b"ref=")[1].split(b" ")[0]
    assert len(sent_query) == len(query) and sent_query != query
    for got in (
        base64.b64decode(sent_token.replace(b"X", b"A")),
        base64.urlsafe_b64decode(sent_query.replace(b"X", b"A") + b"=="),
    ):
        digits = got.replace(b" ", b"").replace(b"-", b"")
        assert not any(c.replace(" ", "").replace("-", "").encode() in digits for c in CARDS)
    frames_out = [dpkt.ethernet.Ethernet(fr).data.data for fr in _read(dst)[1]]
    hexed = [bytes(u.data) for u in frames_out if isinstance(u, dpkt.udp.UDP)]
    assert len(hexed) == 1 and len(hexed[0]) == len(dump) and hexed[0] != dump
    shown = bytes.fromhex(hexed[0][16:-1].replace(b"X", b"0").decode())
    assert CARDS[0].encode() not in shown


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
def test_card_numbers_an_e_mail_s_soft_line_breaks_cut_are_masked(
    tmp_path: Path, line_end: bytes
) -> None:
    """Quoted-printable text (an e-mail over SMTP, a CRM's receipt) wraps its lines at 76
    characters with a soft line break ("=" and the line's end), wherever it falls: in a
    card number about one time in five. Each number, written plain, with spaces or dashes,
    at every place on the line (80 e-mails of each, one connection), is found and its
    digits replaced: what a mail reader shows (the text decoded) holds none of them.
    Before, a number a break cut passed."""
    mails = []
    for k in range(80):
        for card in CARDS[:3]:  # with spaces, with dashes, plain
            text = f"{'a' * k} {card} thanks, {'b' * 30}\n".encode()
            mails.append(quopri.encodestring(text).replace(b"\n", line_end))
    assert sum(b"=" + line_end in m[: m.find(b" thanks")] for m in mails) > 40  # cut ones
    stream = b"".join(mails)
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, _segments(A, B, _cut(stream, 1400), 4000, (50700, 25)))
    r = scrub_pcap(src, dst)
    out = _directions_out(dst)[50700]
    shown = quopri.decodestring(out.replace(b"\r\n", b"\n")).replace(b" ", b"").replace(b"-", b"")
    assert r.card_numbers_masked == len(mails) and len(out) == len(stream)
    assert not any(c.replace(" ", "").replace("-", "").encode() in shown for c in CARDS)


def _wrapped_mails(line_end: bytes) -> list[bytes]:
    """80 mails of each of three card numbers at every place on a line, wrapped at a space
    at 72 characters and the lines joined with `line_end` (some cut in the number)."""
    mails = []
    for k in range(80):
        for card in (CARDS[0], "4012 8888 8888 1881", "3782 822463 10005"):
            text = f"{'a' * k} my card is {card} thanks, {'b' * 30}"
            lines = textwrap.wrap(text, 72, break_on_hyphens=False)
            mails.append(line_end.join(line.encode() for line in lines) + b"\r\n")
    assert sum(line_end in m[: m.find(b" thanks")] for m in mails) > 20  # cut ones
    return mails


def test_card_numbers_a_flowed_e_mail_s_line_breaks_cut_are_masked(tmp_path: Path) -> None:
    """Plain text sent format=flowed (RFC 3676: Thunderbird's default) is wrapped at a
    space, which stays at the line's end: a card number written in groups is cut there
    when the wrap falls in it. Each number at every place on a 72-character line (80
    e-mails of each) is found; what a mail reader shows (the lines joined again) holds
    none of them. Before, a number a wrap cut passed."""
    mails = _wrapped_mails(b" \r\n")
    stream = b"".join(mails)
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, _segments(A, B, _cut(stream, 1400), 4000, (50701, 25)))
    r = scrub_pcap(src, dst)
    out = _directions_out(dst)[50701]
    shown = out.replace(b" \r\n", b" ").replace(b" ", b"")
    assert r.card_numbers_masked == len(mails) and len(out) == len(stream)
    numbers = (b"4111111111111111", b"4012888888881881", b"378282246310005")
    assert not any(number in shown for number in numbers)


def test_card_numbers_text_wrapped_hard_cut_are_masked(tmp_path: Path) -> None:
    """Plain text wrapped hard (a mail sent without format=flowed, a note's fixed-width
    lines) is wrapped at a space, and the space is dropped: a card number written in groups
    is cut by a bare line's end when the wrap falls in it. Each number at every place on
    a 72-character line (80 e-mails of each) is found; what a reader shows (the lines
    joined again) holds none of them. Before, a number a wrap cut passed. Numbers one a
    line (a list) are not joined into one: they pass as they were."""
    mails = _wrapped_mails(b"\r\n")
    listed = b"".join(b"%d\r\n" % n for n in (4111, 1111, 1111, 1111, 411111, 111111, 1111))
    stream = b"".join(mails) + listed
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, _segments(A, B, _cut(stream, 1400), 4000, (50702, 25)))
    r = scrub_pcap(src, dst)
    out = _directions_out(dst)[50702]
    shown = out[: -len(listed)].replace(b"\r\n", b" ").replace(b" ", b"")
    assert r.card_numbers_masked == len(mails) and len(out) == len(stream)
    numbers = (b"4111111111111111", b"4012888888881881", b"378282246310005")
    assert not any(number in shown for number in numbers)
    assert out.endswith(listed)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def _luhn_completed(body: str) -> str:
    """`body` with the check digit that makes it pass the Luhn check (ISO/IEC 7812-1)."""
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str(-total % 10)


@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from([("4", (4, 4, 4, 4)), ("51", (4, 4, 4, 4)), ("37", (4, 6, 5))]),
    digits=st.text("0123456789", min_size=14, max_size=14),
    lead=st.text("abc de", max_size=120),
    width=st.integers(40, 100),
    line_end=st.sampled_from(["\r\n", "\n"]),
)
def test_any_card_number_in_text_wrapped_hard_is_masked(
    scheme: tuple[str, tuple[int, ...]], digits: str, lead: str, width: int, line_end: str
) -> None:
    """A card number in its scheme's printed layout, anywhere in text wrapped hard at a
    space at any width from 40 characters: what a reader sees (the lines joined again)
    holds none of its digits in a row."""
    prefix, layout = scheme
    number = _luhn_completed((prefix + digits)[: sum(layout) - 1])
    groups, at = [], 0
    for n in layout:
        groups.append(number[at : at + n])
        at += n
    text = f"{lead} my card is {' '.join(groups)} thanks"
    wrapped = line_end.join(textwrap.wrap(text, width, break_on_hyphens=False)).encode()
    out, found = pf._core.mask_card_numbers(wrapped)
    assert found >= 1
    assert number.encode() not in out.replace(line_end.encode(), b"").replace(b" ", b"")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_card_numbers_in_utf16_text_are_masked(tmp_path: Path, encoding: str) -> None:
    """An application that speaks UTF-16 (SQL Server's TDS sends its queries so: a CRM
    storing what the agent typed), its text a 0 byte between each two characters: no run
    of digits showed. The number is read narrowed and its digits' bytes replaced, the rest
    of the text as it was."""
    sql = f"INSERT INTO notes (text) VALUES (N'card {CARDS[0]} exp 12/27')".encode(encoding)
    batch = b"\x01\x01" + (8 + len(sql)).to_bytes(2, "big") + b"\x00\x00\x01\x00" + sql
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, _segments(A, B, _cut(batch, 100), 4000, (50600, 1433)))
    r = scrub_pcap(src, dst)
    out = _directions_out(dst)[50600]
    assert r.card_numbers_masked == 1 and len(out) == len(batch)
    shown = out[8:].decode(encoding)
    assert shown == sql.decode(encoding).replace(CARDS[0], "XXXX XXXX XXXX XXXX")


def test_a_compressed_http_body_a_lost_segment_cuts_is_replaced_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A gzip'd reply the capture lost a segment of: its first part ends the run it is in
    (cut short: replaced whole), and the rest, after the lost segment, begins the next run
    with no headers to read. That rest cannot be inflated without its beginning, but a
    reader that finds the next deflate block in it may read its literals, a card number's
    digits among them: it is replaced whole too (before, written as it was). The reply
    after it, read from its own headers, passes as it was."""
    rows = random.Random(5)  # (seeded: random hex in a plain page can read as a card)
    page = b"".join(
        b"<tr><td>%d</td><td>%s</td></tr>" % (i, rows.randbytes(8).hex().encode())
        for i in range(60)
    )
    body = gzip.compress(page + f"<p>card {CARDS[0]}</p>".encode() + page, mtime=0)
    first = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(body)
    second = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nall done."
    response = first + body + second
    pieces = _cut(response, 200)
    lost = 3  # inside the body
    assert len(first) < 200 * lost and 200 * (lost + 1) < len(first) + len(body)
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    frames = _segments(B, A, pieces, 3000, (8080, 50500))
    _write_pcap(src, frames[:lost] + frames[lost + 1 :])
    r = scrub_pcap(src, dst)
    assert r.coded_unread == 2  # its first part (cut short) and the rest
    assert main(["scrub", str(src), str(tmp_path / "cli.pcap"), "--report", "-"]) == 0
    said = capsys.readouterr()
    assert "2 coded bodies and messages not readable whole" in said.err
    assert json.loads(said.out)["coded_unread"] == 2
    out = _directions_out(dst)[8080]
    kept = response[: 200 * lost] + response[200 * (lost + 1) :]
    body_kept = len(body) - 200  # of the body, what the capture holds
    assert len(out) == len(kept)
    assert out[: len(first)] == first and out.endswith(second)
    assert out[len(first) : len(first) + body_kept] == b"X" * body_kept


def _gzip_ending_in_client_frames() -> bytes:
    """b"all done." gzip'd with a time (0x6B0F85C0, the clock's in a CI run) from which its
    last 25 bytes read as a WebSocket client's frames: a masked one (FIN, RSV1) whole, then
    one the end cuts."""
    zipped = gzip.compress(b"all done.", mtime=0x6B0F85C0)
    first = ws.read_frame(zipped, 4)  # gzip's time field
    assert first and first[0] == 0xC0 and first[3]
    cut = ws.read_frame(zipped, first[1] + first[2])
    assert cut and cut[3] and cut[1] + cut[2] > len(zipped)
    return zipped


@pytest.mark.parametrize(
    "case", ["gzip", "br", "text", "text, gzip after", "text, gzip after, frames in it"]
)
def test_an_http_body_the_capture_begins_in(tmp_path: Path, case: str) -> None:
    """A capture that begins in a reply's body, its headers not captured: nothing says how
    the body was coded. Its rest is replaced whole, as after a lost segment, when it does
    not read as text (compressed data) or when the replies after it code theirs; the rest
    of a plain text body in a connection that codes none passes to the sweeps as it is
    (its card number masked where it is). Before, a gzip'd body's rest was written as it
    was. The reply after it is kept as it was, headers and body: also when its gzip'd
    body's last bytes read as a WebSocket client's frames (1 gzip time in 100 made them:
    the capture's last sweep then took the X's before for masked bytes, a card number
    under some key, and replaced the reply's headers too)."""
    rows = random.Random(6)
    page = b"".join(
        b"<tr><td>%d</td><td>%s</td></tr>" % (i, rows.randbytes(8).hex().encode())
        for i in range(60)
    )
    text = page + f"<p>card {CARDS[0]}</p>".encode() + page
    coded = case in ("gzip", "br")
    coding = {"gzip": functools.partial(gzip.compress, mtime=0), "br": brotli.compress}
    body = coding.get(case, bytes)(text)
    first = b"HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n" % (
        b"Content-Encoding: %s\r\n" % case.encode() if coded else b"",
        len(body),
    )
    after = gzip.compress(b"all done.", mtime=0) if "gzip after" in case else b"all done."
    after = _gzip_ending_in_client_frames() if "frames" in case else after
    second = b"HTTP/1.1 200 OK\r\n%sContent-Length: %d\r\n\r\n%s" % (
        b"Content-Encoding: gzip\r\n" if "gzip after" in case else b"",
        len(after),
        after,
    )
    pieces = [*_cut(first + body, 200), second]
    begins = 2  # the capture begins with the third segment, inside the body
    assert len(first) < 200 * begins < len(first) + len(body) - 200
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, _segments(B, A, pieces, 3000, (8080, 50500))[begins:])
    r = scrub_pcap(src, dst)
    out = _directions_out(dst)[8080]
    captured = b"".join(pieces[begins:])
    rest = len(captured) - len(second)
    assert len(out) == len(captured) and out.endswith(second)
    if case == "text":
        digits = captured.index(CARDS[0].encode())
        assert (
            out[:rest] == captured[:digits] + b"XXXX XXXX XXXX XXXX" + captured[digits + 19 : rest]
        )
        assert r.coded_unread == 0 and r.card_numbers_masked == 1
    else:
        assert out[:rest] == b"X" * rest
        assert r.coded_unread == 1


def test_replies_before_a_body_whose_end_reads_as_websocket_frames_pass(tmp_path: Path) -> None:
    """The last bytes of a compressed body can read as a WebSocket client's frames (1 gzip
    time in 100: a masked frame, then one the stream's end cuts). The capture's last sweep
    then reads what came before as the rest of a masked frame, under each key that shows
    13 card characters in a row: a 13-digit time in milliseconds in a JSON reply reads as
    a card number under some key, and the replies before were replaced whole. What shows an
    HTTP version in clear is no masked frame's: the connection passes as it was."""
    json_reply = b'{"status": "ok", "at": 1733100000000, "next": 1733100060000}'
    zipped = _gzip_ending_in_client_frames()
    replies = [
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        % (len(json_reply), json_reply),
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s"
        % (len(zipped), zipped),
    ]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, _segments(B, A, replies, 3000, (8080, 50500)))
    r = scrub_pcap(src, dst)
    assert _directions_out(dst)[8080] == b"".join(replies)
    assert r.card_numbers_masked == 0


@pytest.mark.parametrize("from_its_start", [True, False])
def test_text_before_a_binary_end_that_reads_as_websocket_frames(
    tmp_path: Path, from_its_start: bool
) -> None:
    """Text of no protocol read here (an IMAP server's), a 13-digit number in it, then a
    gzip'd literal whose last bytes read as a WebSocket client's frames: the capture's last
    sweep reads the text as the rest of a masked frame, and under some key the number reads
    as a card number. Captured from its SYN, the stream is known to begin where the capture
    does: no rest of a frame can be there (a client's stream begins with its handshake), and
    it passes as it was. Caught without its start, it is replaced whole (over-masking, in
    docs/limits.md: a masked rest cannot be told from text)."""
    zipped = _gzip_ending_in_client_frames()
    text = b"* OK IMAP4rev1 ready\r\n* 1 FETCH (UID 1733100000000 BODY[] {%d}\r\n" % len(zipped)
    stream = text + zipped
    syn = _tcp_frame(B, A, b"", 2999, port=143, dport=50700, flags=dpkt.tcp.TH_SYN | 0x10)
    frames = [syn] if from_its_start else []
    frames += _segments(B, A, [text, zipped], 3000, (143, 50700))
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    out = _directions_out(dst)[143]
    if from_its_start:
        assert out == stream and r.card_numbers_masked == 0
    else:
        frames_at = len(text) + 4  # (gzip's time field: zipped's frames begin there)
        assert out == b"X" * frames_at + zipped[4:]
        assert r.card_numbers_masked == 1


def test_a_card_number_across_two_chunks_of_an_http_body_is_masked(tmp_path: Path) -> None:
    """A body sent in chunks (Transfer-Encoding: chunked) puts a chunk-size line wherever
    the sender's buffer ended, in a card number too: the body is read de-chunked, and the
    digits found masked where they are, the chunks' framing kept. SRTP keys in a deflate'd
    body (an SDP in JSON) are found as well."""
    note = f"card {CARDS[1]} ok".encode()
    cut = note.index(b"5555-55") + 7
    chunked = b"%x\r\n%s\r\n%x;ext=1\r\n%s\r\n0\r\n\r\n" % (
        cut,
        note[:cut],
        len(note) - cut,
        note[cut:],
    )
    request = b"PUT /notes HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked
    sdp = zlib.compress(
        json.dumps({"sdp": f"v=0\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}\r\n"}).encode()
    )
    response = b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n\r\n" + sdp  # to the end
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _http_capture(src, request, response)
    r = scrub_pcap(src, dst)
    out = _directions_out(dst)
    masked = note.replace(CARDS[1].encode(), b"XXXX-XXXX-XXXX-XXXX")
    assert out[50500] == request.replace(note[:cut], masked[:cut]).replace(note[cut:], masked[cut:])
    assert out[8080] == response.replace(sdp, b"X" * len(sdp))
    assert (r.card_numbers_masked, r.srtp_keys_redacted) == (1, 1)


def test_hostile_http_bodies_cost_no_more_than_their_size(tmp_path: Path) -> None:
    """A body that decompresses a thousandfold (a gzip bomb) is read as far as
    MAX_DECODED and, not read whole, replaced whole; chunk-size lines that lie and headers
    never ended are read as far as the stream goes: the scrub ends, the bytes it cannot
    read left as they were."""
    bomb = gzip.compress(b"0" * (64 << 20), mtime=0)
    response = (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s"
        % (len(bomb), bomb)
        + b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffff\r\nabc"
    )
    request = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Long: " + b"a" * 100000
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _http_capture(src, request, response)
    scrub_pcap(src, dst)
    out = _directions_out(dst)
    assert out[8080] == response.replace(bomb, b"X" * len(bomb)) and out[50500] == request


def test_a_capture_s_connections_share_one_decoding_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What coded bodies may decode to (http_bodies.Budget) is the capture's, all its
    connections together: with one budget a connection, a capture of many connections, a
    bomb in each (16 KB that decode to just under MAX_DECODED), decoded and swept 64 MiB
    for every one (345 times a plain capture's time). Past it, bodies are replaced unread
    and counted. Here with a sixteenth of the real bounds."""
    monkeypatch.setattr(http_bodies, "MAX_DECODED", 1 << 20)
    monkeypatch.setattr(http_bodies, "DECODED_BUDGET", 4 << 20)
    size = (1 << 20) - (64 << 10)
    bomb = gzip.compress(b"0" * size, mtime=0)
    reply = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (
        len(bomb),
        bomb,
    )
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    connections = [_segments(B, A, [reply], 1000, (80, 40000 + k)) for k in range(12)]
    _write_pcap(src, [frame for frames in connections for frame in frames])
    r = scrub_pcap(src, dst)
    out = _directions_out(dst)[80]
    read = out.count(bomb)
    assert read <= ((4 << 20) + http_bodies.DECODED_PER_BYTE * 12 * len(reply)) // size < 12
    assert out.count(b"X" * len(bomb)) == 12 - read == r.coded_unread


def _deflated(messages: list[bytes]) -> list[bytes]:
    """Messages as permessage-deflate sends them (RFC 7692 §7.2.1): one deflate stream
    carried from message to message, each flushed and its last four bytes taken off."""
    deflate = zlib.compressobj(wbits=-15)
    return [(deflate.compress(m) + deflate.flush(zlib.Z_SYNC_FLUSH))[:-4] for m in messages]


def test_compressed_messages_of_any_websocket_are_read_inflated(tmp_path: Path) -> None:
    """A chat widget's WebSocket (no subprotocol the capture knows) with permessage-deflate,
    as browsers offer it: its messages are compressed, so no digit shows in them, masked or
    not. Each message is read inflated, the window carried from one to the next; one that
    holds a card number is replaced whole (masked again with its key: a reader unmasking it
    gets X's), and so is one that cannot be inflated; the others are left bit for bit and
    still inflate."""
    said = [b"hello", f"my card is {CARDS[0]}".encode(), b"thanks, bye"]
    echoed = [b"welcome", f"you typed {CARDS[0]}".encode()]
    ext = b"Sec-WebSocket-Extensions: permessage-deflate\r\n"
    handshake = _WS_HANDSHAKE.replace(b"Sec-WebSocket-Protocol: sip\r\n", ext)
    accept = _WS_ACCEPT.replace(b"Sec-WebSocket-Protocol: sip\r\n", ext)
    client = handshake + b"".join(
        _ws_frame(m, bytes([9, 8, 7, i]), rsv1=True) for i, m in enumerate(_deflated(said))
    )
    unreadable = b"\xff\xfe\xfd 4111"  # no deflate stream: it may hold anything
    client += _ws_frame(unreadable, b"\x01\x02\x03\x04", rsv1=True)
    server = accept + b"".join(_ws_frame(m, rsv1=True) for m in _deflated(echoed))
    frames = [
        _tcp_frame(A, B, client, 1000, port=50700, dport=8090),
        _tcp_frame(B, A, server, 5000, port=8090, dport=50700),
    ]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    out = _directions_out(dst)
    assert r.card_numbers_masked == 2
    for stream, sent, head in ((out[50700], said, handshake), (out[8090], echoed, accept)):
        assert stream.startswith(head)
        got = _ws_messages(stream)
        if stream is out[50700]:
            assert got.pop() == b"X" * len(unreadable)
        deflated = _deflated(sent)
        inflate = zlib.decompressobj(wbits=-15)
        for message, original, text in zip(got, deflated, sent, strict=True):
            if CARDS[0].encode() in text:
                assert message == b"X" * len(original)
                inflate.decompress(original + b"\x00\x00\xff\xff")  # the reader's window
            else:
                assert inflate.decompress(message + b"\x00\x00\xff\xff") == text


@pytest.mark.parametrize("client", [True, False])
def test_compressed_websocket_messages_after_a_lost_segment_keep_no_card(
    tmp_path: Path, client: bool
) -> None:
    """A chat widget's WebSocket with permessage-deflate, one direction (a client's masked
    frames, a server's plain ones), the capture missing a segment: the frame it began ends
    in the next run, whose bytes before its first whole frame, and whose compressed
    messages (the deflate window of the messages before is gone) cannot be read as the
    run before was. Its frames are found (strict headers one after another to its end), the
    bytes before them replaced, its messages read afresh: one holding a card number, or not
    inflatable alone, replaced whole (masked back); the first message found is replaced
    whole too (random bytes before the frames can read as one that ends where they begin,
    1 run in 100). Before, the run was written as it was,
    a card number in a compressed message readable by anyone who resyncs a deflate stream
    or keeps its window."""
    said = [b"hello there, I would like to pay", b"ok one moment", b"here it comes"]
    said += [b"the card is " + CARDS[0].encode(), b"thanks, bye now"]
    ext = b"Sec-WebSocket-Extensions: permessage-deflate\r\n"
    head = (_WS_HANDSHAKE if client else _WS_ACCEPT).replace(
        b"Sec-WebSocket-Protocol: sip\r\n", ext
    )
    frames = [
        _ws_frame(m, bytes([5, 6, 7, i]) if client else b"", rsv1=True)
        for i, m in enumerate(_deflated(said))
    ]
    pieces = [head + frames[0], frames[1][:5], frames[1][5:], *frames[2:]]
    sport, dport = (50800, 8090) if client else (8090, 50800)
    src_ip, dst_ip = (A, B) if client else (B, A)
    segments = _segments(src_ip, dst_ip, pieces, 1000, (sport, dport))
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, segments[:1] + segments[2:])  # the second frame's first 5 bytes lost
    r = scrub_pcap(src, dst)
    out = _directions_out(dst)[sport]
    first = len(head) + len(frames[0])
    assert out[:first] == (head + frames[0])  # before the loss: read with its window
    after = out[first:]
    # the frame begun before the loss, and the first message found (or more: with frames
    # this short, bytes inside them also read as frames, and those are replaced too)
    rest = len(frames[1]) - 5 + len(frames[2])
    assert after[:rest] == b"X" * rest and len(after) == sum(map(len, frames[1:])) - 5
    card_at = rest  # the card's message: replaced (masked back), as frames or not
    assert after[card_at : card_at + len(frames[3])] != frames[3]
    assert frames[3][-8:] not in after  # its payload's last bytes (deflate's, in clear)
    assert r.card_numbers_masked == 0 and r.coded_unread >= 1  # replaced unread: counted


@pytest.mark.parametrize("client", [True, False])
def test_frames_after_a_loss_are_taken_from_where_no_reading_disagrees(client: bool) -> None:
    """Runs that begin inside a frame (its remaining bytes random, as compressed data is),
    then 4-12 frames of random payloads, most of them compressed: the run's frames are
    taken from where every reading of them agrees, and what comes before, with the first
    message found, is replaced. Taking the earliest place from which frames chain to the
    run's end let the bytes before the true frames, read as frames, pass (about 1 run in
    100), or skipped true frames (1 to 3 in 3,000). Seeded: the same 400 runs each time."""
    from pcifilter.websocket import redact_after_loss

    rng = random.Random(7 + client)
    exact = 0
    for _ in range(400):
        payloads = [rng.randbytes(rng.randint(20, 400)) for _ in range(rng.randint(4, 12))]
        frames = [
            _ws_frame(m, rng.randbytes(4) if client else b"", opcode=2, rsv1=rng.random() < 0.8)
            for m in payloads
        ]
        cut = rng.randint(1, len(frames[0]) - 1)
        run = b"".join(frames)[cut:]
        out, _, unread = redact_after_loss(bytearray(run), client, [_core.mask_card_numbers])
        true = len(frames[0]) - cut  # where the frames begin
        # Of the bytes before them, only what was read as a frame's header may be left
        # (its payload replaced: X's, masked back in a client's); a byte of a client's
        # random payload equals its masked X one time in 256.
        assert sum(a == b for a, b in zip(out[:true], run[:true], strict=True)) <= 40
        assert unread >= 1
        exact += len(out) - len(out.lstrip(b"X")) == true + len(frames[1])
    assert exact >= 340  # mostly no more than the first message (over-masking bounded)


def test_frames_after_a_loss_are_looked_for_in_time_linear_in_the_run(
    frame_reads: list[int],
) -> None:
    """A run of one byte repeated (0x82: a client's binary frame of 2 bytes, 8 with its
    header and key) holds eight chains of frames side by side, none joining another. Each
    place's frames are walked once: walked again from every place of the chains the trunk
    is not, the search read some 358 million headers for 200 KB. Counted, not timed."""
    from pcifilter import websocket

    for n in (50_000, 200_000):
        frame_reads[0] = 0
        assert websocket.frame_chain_start(b"\x82" * n, True) == 0
        assert frame_reads[0] <= 3 * n


@pytest.mark.parametrize("client", [True, False])
@pytest.mark.parametrize("takeover", [True, False])
@pytest.mark.parametrize("long", [False, True])
def test_a_compressed_websocket_caught_after_its_handshake_keeps_no_card(
    tmp_path: Path, client: bool, takeover: bool, long: bool
) -> None:
    """A chat widget's WebSocket with permessage-deflate whose handshake the capture did
    not catch (it begins inside a frame): nothing but its frames tells what it is. A
    segment that starts a compressed message's frame has the connection read: its frames
    found (4 or more to the end of the run), the bytes before them and the first message
    replaced, each compressed message read afresh (the window before is not known). With
    the window carried from message to message (RFC 7692's default) the card's message
    cannot be read alone and is replaced unread; without (`no_context_takeover`) it is
    read, its card found, and it is replaced, the others read alone left bit for bit.
    Before, such a
    connection was not read at all: the card's message passed, and inflated alone gives
    the number. `long`: each message longer than a segment, so that each segment that
    starts one holds only the start of its frame."""
    said = [b"hello there, I would like to pay", b"ok one moment", b"here it comes"]
    said += [b"the card is " + CARDS[0].encode(), b"thanks, bye now", b"good day to you"]
    if long:
        rng = random.Random(4)
        said = [m + b" " + bytes(rng.choices(b"abcdefghij ", k=6000)) for m in said]
    deflated = (
        _deflated(said) if takeover else [_deflated([m])[0] for m in said]  # a fresh window each
    )
    frames = [
        _ws_frame(m, bytes([3, 1, 4, i]) if client else b"", rsv1=True)
        for i, m in enumerate(deflated)
    ]
    assert CARDS[0].encode() in zlib.decompressobj(wbits=-15).decompress(
        _deflated([said[3]])[0] + b"\x00\x00\xff\xff"
    )  # the card's message read alone gives the number (its window fresh)
    pieces = [frames[0][7:], *frames[1:]]  # caught inside the first frame
    sport, dport = (50900, 8090) if client else (8090, 50900)
    src_ip, dst_ip = (A, B) if client else (B, A)
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    segments = [cut for piece in pieces for cut in _cut(piece, 1400)]
    _write_pcap(src, _segments(src_ip, dst_ip, segments, 1000, (sport, dport)))
    r = scrub_pcap(src, dst)
    out = _directions_out(dst)[sport]
    assert len(out) == sum(map(len, pieces))
    before = len(pieces[0]) + len(frames[1])  # the frame begun before, and the first found
    assert out[:before] == b"X" * before
    at = [before + sum(map(len, frames[2:i])) for i in range(2, len(frames) + 1)]
    got = [out[a:b] for a, b in itertools.pairwise(at)]
    assert got[1] != frames[3] and deflated[3][-8:] not in out  # the card's: replaced

    def alone(m: bytes) -> bytes | None:  # a message inflated with a fresh window
        try:
            return zlib.decompressobj(wbits=-15).decompress(m + b"\x00\x00\xff\xff")
        except zlib.error:  # it refers to the messages before
            return None

    readable = [alone(m) for m in deflated[2:]]
    kept = [g == f for g, f in zip(got, frames[2:], strict=True)]
    # What passes was read, without the card; bytes of the messages before can read as a
    # frame that joins the true ones later than the first (a server's short frames here):
    # the frames are then taken from there, one message more replaced.
    for passed, text in zip(kept, readable, strict=True):
        assert not passed or (text is not None and CARDS[0].encode() not in text)
    assert takeover or kept[-2:] == [True, True]  # read alone: left bit for bit
    assert r.coded_unread >= 1  # the first message found, at least: replaced unread


def test_random_connections_are_not_taken_for_a_caught_websocket(tmp_path: Path) -> None:
    """TCP connections of random bytes (TLS records' insides), one segment of each starting
    as a compressed WebSocket message's frame does (a header whose frame ends with the
    segment: what the capture reads such a connection for): none of them is taken for a
    WebSocket, every byte is written as it was. Frames found with 3 to the run's end
    were taken about 1 run in 1,000 (bench/RESULTS.md)."""
    rng = random.Random(12)
    frames = []
    for c in range(60):
        payloads = [rng.randbytes(1400) for _ in range(12)]
        key = rng.randbytes(4) if c % 2 else b""
        payloads[rng.randrange(12)] = _ws_frame(rng.randbytes(1400 - 4 - len(key)), key, rsv1=True)
        frames += _segments(A, B, payloads, rng.randrange(2**32), (40000 + c, 443))
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert _read(dst)[1] == _read(src)[1]
    assert r.coded_unread == 0


def _red(seq: int, ts: int, texts: list[tuple[int, bytes]], primary: bytes) -> bytes:
    """An RFC 4103 packet with RFC 2198 redundancy: the older texts (timestamp offset, text)
    first, the primary last; T.140 on 98, "red" on 99."""
    head = b"".join(
        bytes([0x80 | 98, off >> 6, ((off & 0x3F) << 2) | (len(t) >> 8), len(t) & 0xFF])
        for off, t in texts
    )
    payload = head + bytes([98]) + b"".join(t for _, t in texts) + primary
    return RtpPacket(99, False, seq, ts, 0x7E7, payload=payload).serialize()


def _shown_text(packets: list[bytes]) -> bytes:
    """What a receiver shows of RFC 4103 packets (primary text, else a redundant copy of a
    lost one's), backspaces applied: read apart from pcifilter.t140."""
    by_ts: dict[int, bytes] = {}
    for raw in packets:
        p = RtpPacket.parse(raw)
        data, i, blocks = p.payload, 0, []
        while data[i] & 0x80:
            off = (data[i + 1] << 6) | (data[i + 2] >> 2)
            blocks.append((p.timestamp - off, ((data[i + 2] & 3) << 8) | data[i + 3]))
            i += 4
        i += 1
        for ts, n in blocks:
            by_ts.setdefault(ts, data[i : i + n])
            i += n
        by_ts[p.timestamp] = data[i:]
    shown = bytearray()
    for ts in sorted(by_ts):
        for b in by_ts[ts]:
            if b == 8:
                shown = shown[:-1]
            else:
                shown.append(b)
    return bytes(shown)


def _rtt_capture(path: Path) -> list[bytes]:
    """A call with real-time text (RFC 4103 on the SDP's m=text line, RFC 2198 redundancy
    of two): a card number typed a keystroke a packet, a slip erased by a backspace, one
    packet lost. Returns the text packets written."""
    sdp = (
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n"
        "m=audio 40000 RTP/AVP 0\r\nm=text 40010 RTP/AVP 99 98\r\n"
        "a=rtpmap:98 t140/1000\r\na=rtpmap:99 red/1000\r\na=fmtp:99 98/98/98\r\n"
    )
    invite = (
        "INVITE sip:pay@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1\r\n"
        "From: <sip:a@10.0.0.1>;tag=1\r\nTo: <sip:pay@10.0.0.2>\r\nCall-ID: rtt1\r\n"
        f"CSeq: 1 INVITE\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(sdp)}\r\n\r\n{sdp}"
    ).encode()
    keys = [bytes([c]) for c in b"my card: 41115"] + [b"\x08"]  # a slip, erased
    keys += [bytes([c]) for c in b" 1111 1111 1111, ok"]
    packets = []
    for k, key in enumerate(keys):
        older = [(300 * g, keys[k - g]) for g in (2, 1) if k - g >= 0]
        packets.append(_red(k, 300 * k, older, key))
    sent = [p for k, p in enumerate(packets) if k != 20]  # one lost: its key in the next two
    frames = [_frame("ethernet", _ip(A, B, 5060, 5060, invite, False))]
    frames += [_frame("ethernet", _ip(A, B, 40010, 50010, p, False)) for p in sent]
    _write_pcap(path, frames)
    return sent


def test_a_card_number_typed_in_real_time_text_is_masked(tmp_path: Path) -> None:
    """A caller who types (real-time text, RFC 4103, on the SDP's m=text line) sends each
    keystroke in a packet of its own, each repeating the two before (RFC 2198 redundancy):
    no packet holds a card number. The text is put back together as it is shown (a lost
    packet's keystroke from the next one's copy, a backspace applied), the card number
    found, and each of its characters masked in every packet that carries it."""
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    sent = _rtt_capture(src)
    assert _shown_text(sent) == f"my card: {CARDS[0]}, ok".encode()
    r = scrub_pcap(src, dst)
    out = [bytes(_udp(1, f)[1].data) for f in _read(dst)[1][1:]]
    assert _shown_text(out) == b"my card: XXXX XXXX XXXX XXXX, ok"
    assert r.card_numbers_masked == 1
    # every copy masked: no packet's blocks hold a digit of it but the erased "5"
    digits = [b for p in out for b in RtpPacket.parse(p).payload if chr(b).isdigit()]
    assert set(digits) <= {ord("5")}


@pytest.mark.peer
def test_wireshark_reads_the_masked_real_time_text(tmp_path: Path) -> None:
    """An independent reader: tshark sets the text stream up from the SDP and takes each
    RFC 2198 packet apart into its blocks; in the output no block holds a digit but the
    erased one, in the input they hold the card's."""
    if shutil.which("tshark") is None:
        pytest.fail("tshark missing: run ./dev.sh test, which installs it")
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _rtt_capture(src)
    scrub_pcap(src, dst)

    def blocks(path: Path) -> bytes:
        run = subprocess.run(
            ["tshark", "-r", str(path), "-Y", "rtp", "-T", "fields", "-e", "rtp.payload"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        # each line: the whole payload, then each block apart
        return b"".join(
            bytes.fromhex(b) for line in run.stdout.splitlines() for b in line.split(",")[1:]
        )

    assert sum(chr(b).isdigit() for b in blocks(src)) > 40
    assert {b for b in blocks(dst) if chr(b).isdigit()} <= {ord("5")}


def test_compressed_websocket_bombs_past_the_budget_are_replaced_unread(tmp_path: Path) -> None:
    """A WebSocket whose messages each inflate to 8 MiB (a bomb of 8 KB): read while the
    stream's decoding budget lasts (pcifilter.http_bodies.Budget), then replaced whole (the
    one the budget cuts, and every one after it)."""
    bomb = _deflated([b"0" * (8 << 20)])[0]
    ext = b"Sec-WebSocket-Extensions: permessage-deflate\r\n"
    server = _WS_ACCEPT.replace(b"Sec-WebSocket-Protocol: sip\r\n", ext)
    server += b"".join(_ws_frame(bomb, rsv1=True) for _ in range(20))
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, _segments(B, A, _cut(server, 1400), 5000, (8091, 50800)))
    scrub_pcap(src, dst)
    messages = _ws_messages(_directions_out(dst)[8091])
    budget = http_bodies.DECODED_BUDGET + http_bodies.DECODED_PER_BYTE * len(server)
    read = budget // (8 << 20)  # messages inflated whole, as they were
    assert messages[:read] == [bomb] * read
    assert messages[read:] == [b"X" * len(bomb)] * (20 - read)


def test_a_card_number_cut_across_two_segments_of_a_signalling_connection_is_masked(
    tmp_path: Path,
) -> None:
    """In a TCP connection the capture reads whole (SIP over TCP here), a card number cut
    across two segments shows 13-19 digits in neither: the connection's stream is swept
    whole, so it is masked all the same, in both segments."""
    chat = (
        f"MESSAGE sip:agent@b SIP/2.0\r\nContent-Length: 25\r\n\r\nit is {CARDS[0]}\r\n"
    ).encode()
    cut = chat.index(CARDS[0].encode()) + 7  # "4111 11" | "11 1111 1111"
    frames = [
        _tcp_frame(A, B, chat[:cut], 1000),
        _tcp_frame(A, B, chat[cut:], 1000 + cut),
    ]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.card_numbers_masked == 1
    out = _read(dst)[1]
    got = b"".join(bytes(dpkt.ethernet.Ethernet(fr).data.data.data) for fr in out)
    assert got == chat.replace(CARDS[0].encode(), b"XXXX XXXX XXXX XXXX")
    assert all(_tcp_checksum_ok(fr) for fr in out)


@pytest.mark.parametrize("v6", [False, True])
def test_a_card_number_typed_a_keystroke_a_segment_is_masked(tmp_path: Path, v6: bool) -> None:
    """A TCP connection the capture has no reason to read (a terminal or a chat client
    sending each keystroke as it is typed; a plain HTTP request cut in two): no segment holds
    13-19 digits. Each direction is swept as the stream it carries, segments joined in
    sequence order (captured out of order, a resent copy, a SYN's sequence number): the
    number is masked in every segment that holds part of it, the copies too, checksums
    valid; the other direction's stream and a number that is no card's stay as they were."""
    typed = f"pay {CARDS[0]} ok\r\n".encode()
    client = [(1001 + i, typed[i : i + 1]) for i in range(len(typed))]  # SYN at 1000
    client.insert(9, client[7])  # resent
    client[3], client[4] = client[4], client[3]  # captured out of order
    post = f"POST /pay HTTP/1.1\r\n\r\npan={CARDS[1]}&ref=12345678901234567".encode()
    cut = post.index(b"5555-55") + 7
    echo = f"ref 1234 5678 9012 3456 {CARDS[2][:8]}".encode()  # no card across the two
    frames = [
        *(_tcp_frame(A, B, b, seq, v6, port=40000, dport=23) for seq, b in client),
        _tcp_frame(B, A, echo[:12], 7000, v6, port=23, dport=40000),
        _tcp_frame(B, A, echo[12:], 7012, v6, port=23, dport=40000),
        _tcp_frame(A, B, post[:cut], 5000, v6, port=40001, dport=8080),
        _tcp_frame(A, B, post[cut:], 5000 + cut, v6, port=40001, dport=8080),
    ]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.card_numbers_masked == 2
    out = _read(dst)[1]
    assert [len(fr) for fr in out] == [len(fr) for fr in frames]
    assert all(_tcp_checksum_ok(fr) for fr in out)
    data = [bytes(dpkt.ethernet.Ethernet(fr).data.data.data) for fr in out]
    n = len(client)
    typed_out = {seq: b for (seq, _), b in zip(client, data[:n], strict=True)}
    assert b"".join(typed_out[seq] for seq in sorted(typed_out)) == typed.replace(
        CARDS[0].encode(), b"XXXX XXXX XXXX XXXX"
    )
    assert data[7] == data[9] == b"X"  # the resent keystroke, both copies
    assert data[n] + data[n + 1] == echo
    assert data[n + 2] + data[n + 3] == post.replace(CARDS[1].encode(), b"XXXX-XXXX-XXXX-XXXX")


def test_a_card_number_in_a_compressed_body_or_hep_payload_is_masked(tmp_path: Path) -> None:
    """A SIP body sent gzip'd, or a message in a compressed HEP3 payload: the capture's card
    sweep sees only their coded bytes. Read decoded (as for keypresses), one that holds a
    card number is replaced whole."""
    from pcifilter.sip_messages import sip_without_dtmf

    body = f"it is {CARDS[0]}\r\n".encode()
    coded = gzip.compress(body, mtime=0)
    message = (
        b"MESSAGE sip:agent@b SIP/2.0\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n" % len(coded)
    ) + coded
    out = sip_without_dtmf(message)
    assert out is not None and out.endswith(b"X" * len(coded)) and len(out) == len(message)
    plain = b"MESSAGE sip:agent@b SIP/2.0\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    hep = _hep3(plain, compressed=True)
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, [_frame("ethernet", _ip(A, B, 40000, 9060, hep, False))])
    scrub_pcap(src, dst)
    (frame,) = _read(dst)[1]
    _, udp = _udp(1, frame)
    assert zlib.compress(plain) not in bytes(udp.data) and b"XXXXXXXXXX" in bytes(udp.data)


@pytest.mark.parametrize("v6", [False, True])
def test_a_card_number_in_a_fragmented_datagram_is_masked(tmp_path: Path, v6: bool) -> None:
    """A log line too long for one packet (syslog over UDP) in IP fragments, a card number
    cut across two of them, an SDP's SRTP key quoted after it: the datagram is reassembled,
    the number and the key masked, the bytes put back (same lengths) and the UDP checksum
    made valid."""
    line = b"<30>app: " + b"x" * 500 + f" card={CARDS[0]} ".encode() + b"y" * 600
    line += f" sdp=a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^31\r\n".encode()
    cut = line.index(CARDS[0].encode()) + 7 + 8  # (+8: the UDP header) inside the number
    frames, _ = _fragmented(A, B, line, v6, cut // 8 * 8, 0x777, (40000, 514))
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, [fr for _, fr in frames])
    r = scrub_pcap(src, dst)
    assert r.card_numbers_masked == 1 and r.fragments_unscrubbed == 0
    assert r.srtp_keys_redacted == 1
    out = _read(dst)[1]
    assert [len(fr) for fr in out] == [len(fr) for _, fr in frames]
    datagram = _reassembled(out, v6)
    assert datagram[8:] == line.replace(CARDS[0].encode(), b"XXXX XXXX XXXX XXXX").replace(
        KEY.encode(), b"X" * len(KEY)
    )
    assert _checksum_ok(_ip(A, B, 40000, 514, b"", v6), dpkt.udp.UDP(datagram))
