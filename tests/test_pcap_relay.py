# SPDX-License-Identifier: Apache-2.0
"""A media relay's control messages and DTMF logs in captures (pcifilter.relay): rtpengine's
ng protocol carries the call's SDP with its SRTP keys, the keypresses it plays and reports,
and its DTMF log the keypresses it saw. A capture taken beside it (Kamailio or OpenSIPS and
rtpengine on one host, the usual deployment) held them as they were. Messages are built with
an independent bencode package (bencode.py), read back with it, and the real rtpengine's own
traffic is captured and scrubbed in test_real_peers.py."""

from __future__ import annotations

import gzip
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import bencodepy
import dpkt
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_http_bodies import _chunked
from test_pcap import (
    KEY,
    A,
    B,
    _checksum_ok,
    _cut,
    _fragmented,
    _frame,
    _ip,
    _read,
    _reassembled,
    _segments,
    _tcp_checksum_ok,
    _tcp_frame,
    _write_pcap,
    _ws_frame,
    _ws_messages,
)

import pcifilter as pf
from pcifilter import pbx
from pcifilter.cli import main
from pcifilter.pcap import PcapResult, scrub_pcap
from pcifilter.relay import redact_relay_message, redact_relay_stream
from pcifilter.rtp import RtpPacket

PROXY, RELAY = "10.0.0.5", "10.0.0.6"  # inside the capture files only: nothing is sent
MIKEY = "AQAFgM0XAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
SRTP_SDP = (
    "v=0\r\no=- 1 1 IN IP4 {a}\r\ns=-\r\nc=IN IP4 {a}\r\nt=0 0\r\n"
    "m=audio {port} RTP/SAVP 0 96\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:96 telephone-event/8000\r\n"
    "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{key}|2^31\r\na=key-mgmt:mikey {mikey}\r\n"
)
PLAIN_SDP = (
    "v=0\r\no=- 1 1 IN IP4 {a}\r\ns=-\r\nc=IN IP4 {a}\r\nt=0 0\r\n"
    "m=audio {port} RTP/AVP 0 96\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:96 telephone-event/8000\r\n"
)
# What a keypress value may look like in what is left: a bencoded one, or a JSON one.
LEFT = re.compile(
    rb"(?:4:code|5:digit|5:event)(?:i-?[0-9]|[0-9]+:[0-9A-D*#])"
    rb'|"(?:code|digit|event)"\s*:\s*"?[0-9A-D*#-]'
)


def _ng(cookie: str, message: dict[str, object]) -> bytes:
    return cookie.encode() + b" " + bencodepy.encode(message)


def _keys_left(data: bytes) -> bool:
    return KEY.encode() in data or MIKEY.encode() in data or b"inline:" + KEY[:4].encode() in data


@pytest.mark.parametrize("event", range(16))
@pytest.mark.parametrize("as_text", [False, True])
def test_ng_keypresses_are_redacted_and_the_message_still_decodes(
    event: int, as_text: bool
) -> None:
    """ "play DTMF" (code or digit, an integer or a character), the DTMF-security digit of an
    offer and an onDTMF notification's event: each value becomes X's of the same length, and
    the message still decodes (an integer becomes a string of X's), everything else as it was."""
    char = "0123456789*#ABCD"[event]
    value: object = char if as_text else event
    play = {"command": "play DTMF", "call-id": "c1", "from-tag": "ft", "code": value}
    offer = {"command": "block DTMF", "call-id": "c1", "DTMF-security": "DTMF", "digit": value}
    notify = {
        "notify": "onDTMF",
        "data": {
            "callid": "c1",
            "source_tag": "ft",
            "tags": ["ft", "tt"],
            "type": "DTMF",
            "event": value,
        },
    }
    for message, key in ((play, "code"), (offer, "digit"), (notify, "event")):
        raw = _ng("4242_7", message)
        out, had_dtmf, had_keys, sdps = redact_relay_message(raw)
        assert len(out) == len(raw) and had_dtmf and not had_keys and sdps == []
        assert LEFT.search(out) is None
        decoded = bencodepy.decode(out.partition(b" ")[2])
        where = decoded[b"data"] if key == "event" else decoded
        masked = str(value).encode()
        assert where[key.encode()] == b"X" * len(masked)
        # Nothing else changed: the same message with the value replaced so encodes alike.
        target = notify["data"] if key == "event" else message
        assert isinstance(target, dict)
        assert out == _ng(
            "4242_7", {**message, **({} if key == "event" else {key: "X" * len(masked)})}
        ) or (
            key == "event"
            and out == _ng("4242_7", {**notify, "data": {**target, "event": "X" * len(masked)}})
        )
        assert redact_relay_message(raw, redact_dtmf=False)[0] == raw


def test_ng_offer_and_answer_sdp_keys_are_redacted_and_their_sdp_returned() -> None:
    """An offer's SDP (the caller's keys) and the relay's answer to it (its own keys) hold
    SRTP keys: replaced by X's in place, the SDP returned as it was for its streams."""
    sdp = SRTP_SDP.format(a=A, port=40000, key=KEY, mikey=MIKEY)
    for message in (
        {
            "command": "offer",
            "call-id": "c1",
            "from-tag": "ft",
            "sdp": sdp,
            "flags": ["trust-address"],
        },
        {"result": "ok", "sdp": sdp},
    ):
        raw = _ng("99_1", message)
        out, had_dtmf, had_keys, sdps = redact_relay_message(raw)
        assert had_keys and not had_dtmf and sdps == [sdp.encode()]
        assert len(out) == len(raw) and not _keys_left(out)
        decoded = bencodepy.decode(out.partition(b" ")[2])
        masked = sdp.replace(KEY, "X" * len(KEY)).replace(MIKEY, "X" * len(MIKEY))
        assert decoded[b"sdp"] == masked.encode()


def test_json_ng_messages_and_dtmf_logs_are_redacted() -> None:
    """ng messages may be JSON (the SDP a JSON string, "\\r\\n" and "\\/" escaped); the
    relay's DTMF log is JSON sent to its dtmf-log-dest (or to syslog, inside a log line)."""
    sdp = SRTP_SDP.format(a=A, port=40000, key=KEY.replace("/", "+"), mikey=MIKEY)
    offer = b"7_1 " + json.dumps({"command": "offer", "sdp": sdp, "code": 5}).encode().replace(
        b"+", b"\\/"
    )
    out, had_dtmf, had_keys, sdps = redact_relay_message(offer)
    assert had_dtmf and had_keys and len(out) == len(offer)
    assert sdps == [sdp.replace("+", "/").encode()]
    assert MIKEY.encode() not in out and b"inline:XXXX" in out and LEFT.search(out) is None
    log = {
        "callid": "c1",
        "source_tag": "ft",
        "tags": ["tt", "ft"],
        "type": "DTMF",
        "timestamp": 1796127588,
        "source_ip": "10.0.0.1",
        "event": 7,
        "duration": 120,
        "volume": 10,
    }
    for raw in (
        json.dumps(log, separators=(",", ":")).encode(),
        b"<29>Dec  1 12:00:00 relay rtpengine[42]: " + json.dumps(log).encode(),
    ):
        out, had_dtmf, had_keys, sdps = redact_relay_message(raw)
        assert had_dtmf and not had_keys and sdps == [] and len(out) == len(raw)
        assert LEFT.search(out) is None and re.search(rb'"event": ?X,', out)
        assert out.replace(b"X", b"7") == raw


def test_other_datagrams_and_other_values_are_left_alone() -> None:
    for raw in (
        _ng("1_1", {"command": "ping"}),
        _ng("1_2", {"result": "pong"}),
        _ng("1_3", {"command": "query", "call-id": "c1"}),
        b"1_4 d6:result2:okl",  # cut short, nothing in it
        b'{"type":"DTMF","volume":10}',
        b"hello world",
    ):
        assert redact_relay_message(raw) == (raw, False, False, [])


@settings(max_examples=300, deadline=None)
@given(
    event=st.integers(0, 15),
    filler=st.dictionaries(
        st.text("abcdefgh-", min_size=1, max_size=8),
        st.integers() | st.text(max_size=20),
        max_size=6,
    ),
    cut=st.floats(0.0, 1.0),
)
def test_ng_messages_cut_anywhere_never_keep_a_keypress_or_key(
    event: int, filler: dict[str, object], cut: float
) -> None:
    """A message cut short (a snap length, a lost fragment) no longer decodes: it is read as
    text, and no keypress value or SRTP key in what is left survives; never an exception."""
    sdp = SRTP_SDP.format(a=A, port=40000, key=KEY, mikey=MIKEY)
    message = {
        **filler,
        "command": "offer",
        "sdp": sdp,
        "code": event,
        "data": {"event": str(event)},
    }
    raw = _ng("12345_6", message)
    part = raw[: int(len(raw) * cut)]
    out, _, _, _ = redact_relay_message(part)
    assert len(out) == len(part) and LEFT.search(out) is None
    for secret in (KEY, MIKEY):  # whole in what is left: gone
        assert secret.encode() not in out


@settings(max_examples=400, deadline=None)
@given(
    edits=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=6),
    as_stream=st.booleans(),
)
def test_mutated_ng_messages_never_raise_and_keep_their_length(
    edits: list[tuple[int, int]], as_stream: bool
) -> None:
    """Bytes changed anywhere in ng messages (lengths, integers, delimiters, JSON): read
    whole or as text, never an exception, never a length changed."""
    to_relay, to_proxy = _tcp_ng_stream()
    data = bytearray(to_relay + to_proxy)
    for at, value in edits:
        if at < len(data):
            data[at] = value
    if as_stream:
        out, _, _, _ = redact_relay_stream(bytes(data))
    else:
        out, _, _, _ = redact_relay_message(bytes(data))
    assert len(out) == len(data)


def test_hostile_ng_messages_are_read_as_text_not_a_crash() -> None:
    """Nesting deeper than any ng message (an attacker's), a length past the end, lengths too
    long for an integer: read as text, keypress keys masked, no exception."""
    deep = b"1_1 " + b"d1:al" * 5000 + b"4:codei5e" + b"e" * 5001
    out, had_dtmf, _, _ = redact_relay_message(deep)
    assert had_dtmf and b"4:codeiXe" in out
    for raw in (
        b"1_1 d4:code99999999999:5",
        b"1_1 d4:code" + b"9" * 5000 + b":5e",
        b"1_1 d" * 2000,
    ):
        out, _, _, _ = redact_relay_message(raw)
        assert len(out) == len(raw) and LEFT.search(out) is None


def test_json_nested_past_the_parser_s_depth_is_read_as_text_not_a_crash() -> None:
    """JSON nested deeper than Python's parser goes raises RecursionError (no ValueError):
    it escaped scrub_pcap, the whole capture failed. Read as text now, over UDP and TCP."""
    deep = b"1_1 " + b'{"a":' * 100_000 + b'{"code":5}' + b"}" * 100_000
    out, had_dtmf, _, _ = redact_relay_message(deep)
    assert had_dtmf and b'"code":X' in out and len(out) == len(deep)
    out, _, dtmf, _ = redact_relay_stream(deep + b"2_2 d4:codei5ee")
    assert dtmf == 1 and LEFT.search(out) is None


def test_a_long_json_connection_is_decoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each JSON message of a TCP connection is read from one decoded text, decoded when
    first needed: decoded again for each message, a connection's thousands of messages
    took time quadratic in them."""
    import pcifilter.relay as relay

    text = relay._latin1(b"7_1 {}")
    assert text() is text()  # decoded once, then the same text
    made: list[int] = []
    real = relay._latin1

    def counting(data: bytes) -> object:
        made.append(len(data))
        return real(data)

    monkeypatch.setattr(relay, "_latin1", counting)
    message = b'7_1 {"command":"play DTMF","code":"5"}'
    out, _, dtmf, _ = redact_relay_stream(message * 2000)
    assert dtmf == 2000 and LEFT.search(out) is None
    assert made == [len(message) * 2000]  # one text for the whole connection


def _rtp_frames(src: str, dst: str, sport: int, dport: int, ssrc: int) -> list[bytes]:
    """Half a second of G.711 with one keypress sent as telephone-events (PT 96) in it."""
    pcm = pf.ulaw_encode(np.zeros(160, np.int16)).tobytes()
    frames = [
        _frame(
            "ethernet",
            _ip(
                src,
                dst,
                sport,
                dport,
                RtpPacket(0, k == 0, k, 160 * k, ssrc, payload=pcm).serialize(),
                False,
            ),
        )
        for k in range(25)
    ]
    for k in range(4):
        ev = bytes([7, (0x80 if k == 3 else 0) | 10]) + (160 * (k + 1)).to_bytes(2, "big")
        pkt = RtpPacket(96, k == 0, 25 + k, 160 * 25, ssrc, payload=ev).serialize()
        frames.append(_frame("ethernet", _ip(src, dst, sport, dport, pkt, False)))
    return frames


def _sent(
    src: str, dst: str, ports: tuple[int, int], payload: bytes, fragmented: bool
) -> tuple[list[bytes], bytes]:
    """A UDP datagram as Ethernet frames: one, or IP fragments of 512 bytes; and the
    datagram (its UDP header on)."""
    if fragmented:
        pieces, datagram = _fragmented(src, dst, payload, False, 512, 0x4321, ports)
        return [fr for _, fr in pieces], datagram
    ip = _ip(src, dst, *ports, payload, False)
    return [_frame("ethernet", ip)], bytes(ip.data)


def _scrubbed_beside_relay(
    tmp_path: Path, frames: list[bytes], dtmf: int = 3
) -> tuple[PcapResult, list[bytes]]:
    """The frames of a capture beside a relay, scrubbed: `dtmf` relay messages with
    keypresses and one with keys redacted, the callee's SRTP flow known and left out."""
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.relay_dtmf_redacted == dtmf and r.srtp_keys_redacted == 1
    assert [s.encrypted for s in r.streams] == [True]
    return r, _read(dst)[1]


@pytest.mark.parametrize("fragmented", [False, True])
def test_capture_beside_a_relay_keeps_no_key_and_no_keypress(
    tmp_path: Path, fragmented: bool
) -> None:
    """A capture on a host where a proxy drives rtpengine over ng (UDP port 2223), no SIP in
    it (SIP over TLS): the offer (its SDP large enough for IP fragments, as WebRTC's ICE
    candidates make it) and the relay's answer hold SRTP keys, a "play DTMF" a keypress, the
    DTMF log another. All are redacted; the SDP tells which flow is SRTP (left out) and which
    is plain RTP with telephone-events (scrubbed). Lengths and checksums stay valid."""
    srtp = (
        SRTP_SDP.format(a=B, port=50000, key=KEY, mikey=MIKEY)
        + "a=candidate:"
        + "c" * 1500
        + "\r\n"
    )
    plain = PLAIN_SDP.format(a=RELAY, port=30010)
    offer = _ng("5_1", {"command": "offer", "call-id": "c1", "from-tag": "ft", "sdp": srtp})
    answer = _ng("5_1", {"result": "ok", "sdp": plain})
    play = _ng("5_2", {"command": "play DTMF", "call-id": "c1", "from-tag": "ft", "code": "9"})
    log = (
        b'{"callid":"c1","source_tag":"ft","tags":["tt","ft"],"type":"DTMF","timestamp":1,'
        b'"source_ip":"10.0.0.1","event":7,"duration":80,"volume":10}'
    )
    frames, offer_udp = _sent(PROXY, RELAY, (40123, 2223), offer, fragmented)
    n_offer = len(frames)
    frames.append(_frame("ethernet", _ip(RELAY, PROXY, 2223, 40123, answer, False)))
    frames.append(_frame("ethernet", _ip(PROXY, RELAY, 40123, 2223, play, False)))
    frames.append(_frame("ethernet", _ip(RELAY, "10.0.0.9", 41000, 9999, log, False)))
    frames += _rtp_frames(A, RELAY, 40000, 30010, 0xA)  # plain side: scrubbed
    frames += _rtp_frames(RELAY, B, 30000, 50000, 0xB)  # SRTP side (as if): left out
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst, reveal_digits=True)
    assert r.relay_dtmf_redacted == 2 and r.srtp_keys_redacted == 1
    by_ssrc = {s.ssrc: s for s in r.streams}
    assert by_ssrc[0xB].encrypted and by_ssrc[0xB].packets_out == 0
    assert not by_ssrc[0xA].encrypted and [e["digit"] for e in by_ssrc[0xA].events] == ["7"]
    _, out = _read(dst)
    assert len(out) == len(frames) - 29 - 4  # the SRTP flow, and the telephone-events
    datagrams = [_reassembled(out[:n_offer], False)] if fragmented else []
    for fr in out[n_offer if fragmented else 0 :]:
        ip = dpkt.ethernet.Ethernet(fr).data
        assert isinstance(ip, dpkt.ip.IP)
        assert _checksum_ok(ip, ip.data)
        datagrams.append(bytes(ip.data))
    text = b"".join(datagrams)
    assert not _keys_left(text) and LEFT.search(text) is None and b'"event":X,' in text
    if fragmented:
        assert len(datagrams[0]) == len(offer_udp) and _checksum_ok(
            _ip(PROXY, RELAY, 40123, 2223, b"", False), dpkt.udp.UDP(datagrams[0])
        )
    assert b"a=rtpmap:96 telephone-event/8000" in text  # the rest of the SDP as it was
    # --keep-sip-dtmf keeps the keypresses of signalling as they were, never the keys.
    assert main(["scrub", str(src), str(dst), "--keep-sip-dtmf"]) == 0
    _, kept = _read(dst)
    kept_text = b"".join(kept) + (_reassembled(kept[:n_offer], False) if fragmented else b"")
    assert b'"event":7,' in kept_text and b"4:code1:9" in kept_text and not _keys_left(kept_text)


GATEWAY, AGENT = "10.0.0.7", "10.0.0.8"  # an MGCP gateway and its call agent (in files only)


@pytest.mark.parametrize("fragmented", [False, True])
def test_mgcp_keeps_no_keypress_and_no_key(tmp_path: Path, fragmented: bool) -> None:
    """A call agent driving a PSTN gateway over MGCP (UDP 2427/2727), DTMF relayed out of
    band: the gateway's NTFY reports the caller's keypresses ("O: L/hd, D/4, ..."), the
    agent has one played ("S: D/5"), its CRCX (large enough for IP fragments) and the
    gateway's answer carry the call's SDP, one with an SRTP key. Digits and the key are
    replaced, the rest stays as it was (requested events and digit maps are patterns, not
    keypresses); the SDP's telephone-event type (96) is read, so the events beside the
    audio are reported as keypresses."""
    crcx = (
        "CRCX 1204 aaln/1@gw.example.net MGCP 1.0\r\nC: A3C47F21456789F0\r\nL: p:20, a:PCMU\r\n"
        "M: sendrecv\r\nX: 0123456789AC\r\nR: D/[0-9#*T](D)\r\nD: (xxxx|xx.T)\r\n"
        + "Z: "
        + "z" * 1400
        + "\r\n\r\n"
        + SRTP_SDP.format(a=AGENT, port=50000, key=KEY, mikey=MIKEY)
    ).encode()
    answer = (
        "200 1204 OK\r\nI: FDE234C8\r\n\r\n" + PLAIN_SDP.format(a=GATEWAY, port=30010)
    ).encode()
    ntfy = (
        b"NTFY 2002 aaln/1@gw.example.net MGCP 1.0\r\nN: ca@ca.example.net:2727\r\n"
        b"X: 0123456789AC\r\nO: L/hd, D/4, d/#, D/1@FDE234C8, D/5(x=1)\r\n"
    )
    rqnt = (
        b"RQNT 1205 aaln/1@gw.example.net MGCP 1.0\r\nX: 0123456789AD\r\n"
        b"R: L/hu(N), D/[0-9#*T](D)\r\nS: D/7\r\n"
    )
    frames, crcx_udp = _sent(AGENT, GATEWAY, (2727, 2427), crcx, fragmented)
    n_crcx = len(frames)
    for src, dst, sport, dport, m in [
        (GATEWAY, AGENT, 2427, 2727, answer),
        (GATEWAY, AGENT, 2427, 2727, ntfy),
        (AGENT, GATEWAY, 2727, 2427, rqnt),
        (AGENT, GATEWAY, 2727, 2427, b"200 2002 OK\r\n"),
    ]:
        frames.append(_frame("ethernet", _ip(src, dst, sport, dport, m, False)))
    frames += _rtp_frames(A, GATEWAY, 40000, 30010, 0xA)
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst, reveal_digits=True)
    assert r.gateway_dtmf_redacted == 2 and r.srtp_keys_redacted == 1
    (stream,) = r.streams
    assert [e["digit"] for e in stream.events] == ["7"]  # its SDP's type 96: events
    _, out = _read(dst)
    datagrams = [_reassembled(out[:n_crcx], False)] if fragmented else []
    for fr in out[n_crcx if fragmented else 0 :]:
        ip = dpkt.ethernet.Ethernet(fr).data
        assert _checksum_ok(ip, ip.data)
        datagrams.append(bytes(ip.data))
    text = b"".join(datagrams)
    assert b"O: L/hd, D/X, d/X, D/X@FDE234C8, D/X(x=1)\r\n" in text and b"S: D/X\r\n" in text
    assert b"R: D/[0-9#*T](D)" in text and b"D: (xxxx|xx.T)" in text and not _keys_left(text)
    assert b"200 2002 OK" in text and (not fragmented or len(datagrams[0]) == len(crcx_udp))
    assert main(["scrub", str(src), str(dst), "--keep-sip-dtmf"]) == 0
    kept = b"".join(_read(dst)[1]) + (
        _reassembled(_read(dst)[1][:n_crcx], False) if fragmented else b""
    )
    assert b"O: L/hd, D/4, d/#" in kept and b"S: D/7" in kept and not _keys_left(kept)


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(
        st.builds(
            lambda base, edits: _edited(base, edits),
            st.sampled_from(
                [
                    b"NTFY 2002 aaln/1@gw MGCP 1.0",
                    b"200 2002 OK",
                    b"rqnt 7 e NCS 1.0",
                    b"200 12",
                    b"MEGACO/1 [10.0.0.7]:2944",
                    b"!/1 [10.0.0.7]",
                ]
            ),
            st.lists(st.tuples(st.integers(0, 40), st.sampled_from(b"A Z0.9 \r\n/@a")), max_size=3),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_the_capture_and_pcifilter_know_the_same_gateway_messages(
    lines: list[bytes],
) -> None:
    """starts_gateway_control is written twice (C++ lists the datagrams, Python reads them): a
    datagram one takes for MGCP and the other not would be read by neither."""
    import tempfile

    from pcifilter._core import Capture
    from pcifilter.gateway import starts_gateway_control

    datagrams = [line + b"\r\nX: 1\r\n" for line in lines]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.pcap"
        _write_pcap(path, [_frame("ethernet", _ip(A, B, 40000, 9999, d, False)) for d in datagrams])
        listed = {frame for frame, _ in Capture(str(path)).relay_messages()}
    assert [i in listed for i in range(len(datagrams))] == [
        starts_gateway_control(d) for d in datagrams
    ]


def _edited(base: bytes, edits: list[tuple[int, int]]) -> bytes:
    out = bytearray(base)
    for at, byte in edits:
        out[min(at, len(out)) : min(at, len(out)) + 1] = bytes([byte])
    return bytes(out)


def test_iax2_calls_are_left_out(tmp_path: Path) -> None:
    """IAX2 (RFC 5456, UDP 4569: Asterisk servers' trunks, Vicidial's among them) carries a
    call's audio in frames of its own (mini frames: 4 bytes, then G.711) and its keypresses
    in DTMF frames (the digit in clear): it cannot go through a stream filter, and was
    written as it was. It is left out and counted (kept as it was with --keep-iax2); the
    RTP call beside it is scrubbed as ever."""
    from pcifilter import signals as sg
    from pcifilter import spandsp

    pcm = sg.to_int16(sg.keyed_sequence("4111", 80, 90, -10, lead_ms=200)[0])
    codes = pf.ulaw_encode(pcm).tobytes()
    iax = [  # a full voice frame (u-law), the call's mini frames, a DTMF frame ("4")
        b"\x80\x01\x00\x02" + (0).to_bytes(4, "big") + b"\x01\x01\x02\x04" + codes[:160]
    ]
    iax += [
        b"\x00\x01" + (20 * k).to_bytes(2, "big") + codes[160 * k : 160 * k + 160]
        for k in range(1, len(codes) // 160)
    ]
    iax.append(b"\x80\x01\x00\x02" + (400).to_bytes(4, "big") + b"\x02\x02\x01\x34")
    # full voice frames of call 0x8000 (its low byte 0: they read as RTP with type 0, PCMU,
    # under one "SSRC"): never taken for a stream, kept or not
    iax += [
        b"\x80\x00\x00\x03" + (420 + 20 * k).to_bytes(4, "big") + b"\x05\x05\x02\x04" + codes[:160]
        for k in range(5)
    ]
    frames = [_frame("ethernet", _ip(A, B, 4569, 4569, d, False)) for d in iax]
    frames += _rtp_frames(A, B, 40000, 30010, 0xA)
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    assert spandsp.spandsp_digits(pcm)[0] == "4111"
    r = scrub_pcap(src, dst)
    assert r.iax2_datagrams == len(iax) and r.unscrubbed_flows == [] and len(r.streams) == 1
    _, out = _read(dst)
    assert (
        not any(fr in out for fr in frames[: len(iax)]) and len(out) == len(frames) - len(iax) - 4
    )
    assert main(["scrub", str(src), str(dst), "--keep-iax2"]) == 0
    assert _read(dst)[1][: len(iax)] == frames[: len(iax)]


def test_megaco_keeps_no_keypress(tmp_path: Path) -> None:
    """Megaco/H.248 text (RFC 3525, UDP 2944): a gateway's Notify reports keypresses as
    DTMF detection events (dd/d4, dd/ds for *) and as the digit string its digit map
    completed (dd/ce{ds="..."}), compact or not; the controller has one played (dg/d5).
    The digits become X's, the rest stays as it was."""
    notify = (
        b"MEGACO/1 [10.0.0.7]:2944\r\nTransaction = 10002 {\r\n Context = - {\r\n"
        b"  Notify = A4444 {ObservedEvents = 2222 {\r\n"
        b'   19990729T22010001:dd/ce{ds="4111111111111111",Meth=UM},\r\n'
        b"   19990729T22010002:dd/d4, 19990729T22010003:dd/ds}}}}\r\n"
    )
    compact = b'!/1 [10.0.0.8] T=10003{C=2000{MF=A4444{SG{dg/d5}},N=A4444{OE=1{dd/ce{ds="12"}}}}}'
    frames = [
        _frame("ethernet", _ip(GATEWAY, AGENT, 2944, 2944, notify, False)),
        _frame("ethernet", _ip(AGENT, GATEWAY, 2944, 2944, compact, False)),
    ]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.gateway_dtmf_redacted == 2
    got = [bytes(dpkt.ethernet.Ethernet(fr).data.data.data) for fr in _read(dst)[1]]
    assert got[0] == notify.replace(b"4111111111111111", b"X" * 16).replace(
        b"dd/d4", b"dd/dX"
    ).replace(b"dd/ds", b"dd/dX")
    assert got[1] == compact.replace(b"dg/d5", b"dg/dX").replace(b'ds="12"', b'ds="XX"')


def _tpkt(pdu: bytes) -> bytes:
    return b"\x03\x00" + (4 + len(pdu)).to_bytes(2, "big") + pdu


@pytest.mark.peer
def test_h323_keypresses_in_h245_are_redacted(tmp_path: Path) -> None:
    """An H.323 gateway relaying DTMF as "h245-alphanumeric" or "h245-signal" (Cisco's)
    sends each keypress as an H.245 UserInputIndication, in clear: on its own H.245
    connection (TPKT), one cut across two segments, and tunnelled in an H.225.0 message on
    1720 (an octet string of h245Control). tshark's H.245 dissector reads the digits before
    and only X's after; bytes that merely look like one elsewhere stay as they were."""
    import shutil

    if shutil.which("tshark") is None:
        pytest.fail("tshark missing: run ./dev.sh test, which installs it")
    alphanumeric = b"\x6d\x40\x01" + b"4"
    signal = b"\x6d\x81\x04\x46\xa0\x00\x63"  # signalType "5", duration 100
    extended = b"\x6d\x83\x04\x00\x02" + b"11"  # extendedAlphanumeric "11"
    h245 = _tpkt(alphanumeric) + _tpkt(signal) + _tpkt(extended)
    cut = len(_tpkt(alphanumeric)) + 5  # inside the signal
    tunnelled = _tpkt(
        b"\x08\x02\x00\x01\x62\x7e\x00\x30\x05\x25\x80\x06\x00\x08\x91\x4a\x00\x05\x01"
        + bytes([len(alphanumeric)])
        + alphanumeric
    )
    decoy = b"\x00\x01\x6d\x40\x02" + b"12" + b"\x6d\x81\x04\x46\xa0\x00\x63"
    frames = [
        *_segments(A, B, [h245[:cut], h245[cut:]], 1000, (11000, 11001)),
        _tcp_frame(A, B, tunnelled, 5000, port=40000, dport=1720),
        _tcp_frame(A, B, decoy, 7000, port=40002, dport=9000),
    ]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.gateway_dtmf_redacted == 4

    def user_input(path: Path) -> str:
        fields = ["-T", "fields", "-e", "h245.alphanumeric", "-e", "h245.signalType"]
        out = subprocess.run(
            ["tshark", "-r", str(path), "-d", "tcp.port==11000,h245", *fields],
            capture_output=True,
            check=True,
            timeout=120,
        ).stdout.decode()
        return "".join(out.split())

    assert sorted(user_input(src).replace(",", "")) == sorted("4511")
    assert set(user_input(dst).replace(",", "")) == {"X"}
    got = [bytes(dpkt.ethernet.Ethernet(fr).data.data.data) for fr in _read(dst)[1]]
    assert got[2].endswith(b"\x6d\x40\x01X") and got[3] == decoy
    assert b"".join(got[:2]) == _tpkt(b"\x6d\x40\x01X") + _tpkt(
        b"\x6d\x81\x04\x4b\x00\x00\x63"
    ) + _tpkt(b"\x6d\x83\x04\x00\x02XX")
    assert all(_tcp_checksum_ok(fr) for fr in _read(dst)[1])
    scrub_pcap(src, dst, redact_sip_dtmf=False)
    assert sorted(user_input(dst).replace(",", "")) == sorted("4511")


def _tcp_ng_stream() -> tuple[bytes, bytes]:
    """An ng connection over TCP (rtpengine's listen-tcp-ng) each way: the proxy's offer
    (SRTP toward the callee), "play DTMF", a JSON one; the relay's replies and an onDTMF
    notification (dtmf-log-ng-tcp), messages one after another."""
    srtp = SRTP_SDP.format(a=B, port=50000, key=KEY, mikey=MIKEY)
    to_relay = (
        _ng("1_9", {"command": "offer", "call-id": "c1", "from-tag": "ft", "sdp": srtp})
        + _ng("2_9", {"command": "play DTMF", "call-id": "c1", "from-tag": "ft", "code": 4})
        + b'3_9 {"command": "play DTMF", "call-id": "c1", "from-tag": "ft", "digit": "6"}'
    )
    to_proxy = (
        _ng("1_9", {"result": "ok", "sdp": PLAIN_SDP.format(a=RELAY, port=30010)})
        + _ng("2_9", {"result": "ok"})
        + _ng("0", {"notify": "onDTMF", "data": {"callid": "c1", "type": "DTMF", "event": 3}})
    )
    return to_relay, to_proxy


def test_an_ng_stream_over_tcp_is_redacted_message_by_message() -> None:
    to_relay, to_proxy = _tcp_ng_stream()
    for stream, dtmf, keys in ((to_relay, 2, 1), (to_proxy, 1, 0)):
        out, sdps, had_dtmf, had_keys = redact_relay_stream(stream)
        assert len(out) == len(stream) and (had_dtmf, had_keys) == (dtmf, keys)
        assert LEFT.search(out) is None and not _keys_left(out)
        assert [end for end, _ in sdps] == [
            stream.index(b" ", 1)
            + 1
            + len(bencodepy.encode(bencodepy.decode(stream[stream.index(b" ") + 1 : end])))
            for end, _ in sdps
        ]
    # Cut anywhere (a connection caught mid-message): the rest read as text, no keypress
    # left, nor any key whose "inline:" (or a=key-mgmt line) is there to tell it is one.
    for cut in range(0, len(to_relay), 7):
        part = to_relay[cut:]
        out, _, _, _ = redact_relay_stream(part)
        assert len(out) == len(part) and LEFT.search(out) is None
        for told, secret in (
            (b"inline:" + KEY.encode(), KEY),
            (b"key-mgmt:mikey " + MIKEY.encode(), MIKEY),
        ):
            assert told not in part or secret.encode() not in out


def test_ng_over_tcp_in_a_capture_keeps_no_key_and_no_keypress(tmp_path: Path) -> None:
    """The same connection in a capture, in 64-byte segments (keys and keypresses cut across
    them), one retransmitted: redacted in place (same lengths, TCP checksums valid), its
    SDP read (the callee's side is SRTP: its flow left out)."""
    to_relay, to_proxy = _tcp_ng_stream()
    frames = []
    for data, src, dst, sport, dport in (
        (to_relay, PROXY, RELAY, 40123, 2224),
        (to_proxy, RELAY, PROXY, 2224, 40123),
    ):
        frames += [
            _tcp_frame(src, dst, data[at : at + 64], 1000 + at, port=sport, dport=dport)
            for at in range(0, len(data), 64)
        ]
        frames.append(frames[-2])  # a retransmission
    frames += _rtp_frames(RELAY, B, 30000, 50000, 0xB)  # the SRTP side: left out
    _, tcp = _scrubbed_beside_relay(tmp_path, frames)
    assert [len(fr) for fr in tcp] == [len(fr) for fr in frames[: len(tcp)]]
    assert all(_tcp_checksum_ok(fr) for fr in tcp)
    for stream in (to_relay, to_proxy):
        segments = [dpkt.ethernet.Ethernet(fr).data.data for fr in tcp]
        got = bytearray(len(stream))
        for seg in segments:
            if (seg.sport == 40123) == (stream is to_relay):
                got[seg.seq - 1000 : seg.seq - 1000 + len(seg.data)] = seg.data
        assert LEFT.search(bytes(got)) is None and not _keys_left(bytes(got))
        assert redact_relay_stream(stream)[0] == bytes(got)


_NG_WS_HANDSHAKE = (
    b"GET /ng HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Protocol: ng.rtpengine.com\r\n\r\n"
)
_NG_WS_ACCEPT = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    b"Sec-WebSocket-Protocol: ng.rtpengine.com\r\n\r\n"
)


@pytest.mark.parametrize("handshake", [True, False])
def test_ng_over_websocket_in_a_capture_keeps_no_key_and_no_keypress(
    tmp_path: Path, handshake: bool
) -> None:
    """rtpengine's ng over WebSocket (subprotocol ng.rtpengine.com, what Kamailio's
    rtpengine module speaks to a ws:// relay): the proxy's frames masked, the relay's not.
    Known by its handshake, or (caught after it) by frames that hold ng messages: each
    message unmasked, redacted as a datagram, masked again; its SDP read. Before, the
    connection was no signalling: written as it was."""
    to_relay, to_proxy = _tcp_ng_stream()

    def split(stream: bytes, cookies: list[bytes]) -> list[bytes]:  # one ng message each
        at = [stream.index(c) for c in cookies] + [len(stream)]
        return [stream[a:b] for a, b in itertools.pairwise(at)]

    requests = split(to_relay, [b"1_9 ", b"2_9 ", b"3_9 "])
    client = b"".join(_ws_frame(m, bytes([0x11, 0x22, 0x33, i])) for i, m in enumerate(requests))
    server = b"".join(_ws_frame(m) for m in split(to_proxy, [b"1_9 ", b"2_9 ", b"0 d"]))
    c0, s0 = 1000, 9000
    frames = []
    if handshake:
        frames += [
            _tcp_frame(PROXY, RELAY, _NG_WS_HANDSHAKE, c0, port=40123, dport=8080),
            _tcp_frame(RELAY, PROXY, _NG_WS_ACCEPT, s0, port=8080, dport=40123),
        ]
        c0, s0 = c0 + len(_NG_WS_HANDSHAKE), s0 + len(_NG_WS_ACCEPT)
    frames += _segments(PROXY, RELAY, _cut(client, 700), c0, (40123, 8080))
    frames.append(_tcp_frame(RELAY, PROXY, server, s0, port=8080, dport=40123))
    frames += _rtp_frames(RELAY, B, 30000, 50000, 0xB)  # the SRTP side: left out
    _, out = _scrubbed_beside_relay(tmp_path, frames)
    tcp = [dpkt.ethernet.Ethernet(fr).data.data for fr in out]
    tcp = [t for t in tcp if isinstance(t, dpkt.tcp.TCP)]
    client_out = b"".join(bytes(t.data) for t in tcp if t.sport == 40123)
    server_out = b"".join(bytes(t.data) for t in tcp if t.sport == 8080)
    assert len(client_out) == len(client) + (len(_NG_WS_HANDSHAKE) if handshake else 0)
    messages = _ws_messages(client_out) + _ws_messages(server_out)
    text = b"".join(messages)
    assert LEFT.search(text) is None and not _keys_left(text) and b"4:codei4e" not in text
    assert messages[:3] == [redact_relay_message(m)[0] for m in requests]
    assert all(_tcp_checksum_ok(fr) for fr in out[: len(tcp)])


def test_ng_over_http_in_a_capture_keeps_no_key_and_no_keypress(tmp_path: Path) -> None:
    """rtpengine's ng over HTTP (POST /ng, replies of type application/x-rtpengine-ng), each
    message a segment but the offer (its body in 200-byte segments of its own), caught one
    segment late (the tail of a request whose start was lost comes first): each body
    redacted as a datagram is, its SDP read; the part before the first request read as
    text. Before, HTTP was no signalling: written as it was."""
    to_relay, to_proxy = _tcp_ng_stream()
    cookies = ([b"1_9 ", b"2_9 ", b"3_9 "], [b"1_9 ", b"2_9 ", b"0 d"])

    def http(stream: bytes, starts: list[bytes], request: bool) -> list[bytes]:
        at = [stream.index(c) for c in starts] + [len(stream)]
        out = []
        for a, b in itertools.pairwise(at):
            head = b"POST /ng HTTP/1.1\r\nHost: relay\r\n" if request else b"HTTP/1.1 200 OK\r\n"
            head += b"Content-Type: application/x-rtpengine-ng\r\n"
            head += b"Content-Length: %d\r\n\r\n" % (b - a)
            body = stream[a:b]
            pieces = (
                [head + body]
                if len(body) < 200
                else [head] + [body[i : i + 200] for i in range(0, len(body), 200)]
            )
            out += pieces
        return out

    tail = b"Signal=1 4:codei2e"  # the tail of a request whose start was lost
    client = [tail, *http(to_relay, cookies[0], True)]
    server = http(to_proxy, cookies[1], False)
    frames = []
    for pieces, src, dst, sport, dport in (
        (client, PROXY, RELAY, 40123, 80),
        (server, RELAY, PROXY, 80, 40123),
    ):
        seq = 1000
        for piece in pieces:
            frames.append(_tcp_frame(src, dst, piece, seq, port=sport, dport=dport))
            seq += len(piece)
    client_bytes, server_bytes = b"".join(client), b"".join(server)
    frames += _rtp_frames(RELAY, B, 30000, 50000, 0xB)  # the SRTP side: left out
    _, out = _scrubbed_beside_relay(tmp_path, frames, dtmf=4)  # 3 bodies and the tail
    tcp = [
        t
        for t in (dpkt.ethernet.Ethernet(fr).data.data for fr in out)
        if isinstance(t, dpkt.tcp.TCP)
    ]
    got = {port: b"".join(bytes(t.data) for t in tcp if t.sport == port) for port in (40123, 80)}
    assert len(got[40123]) == len(client_bytes) and len(got[80]) == len(server_bytes)
    text = got[40123] + got[80]
    assert LEFT.search(text) is None and not _keys_left(text) and b"4:codeiXe" in text
    assert all(_tcp_checksum_ok(fr) for fr in out[: len(tcp)])


def test_other_text_over_tcp_is_not_taken_for_ng(tmp_path: Path) -> None:
    """A connection of text whose segment starts like a cookie, a space and a "d" ("Subject:
    details"), a JSON "event" key later in it: no ng message starts there, and the
    connection is written as it was (before the test for a dictionary's start was
    tightened, it was read as ng text and its "event" value masked)."""
    texts = [b"Subject: details of the call\r\n", b'X-Data: as JSON {"event": "login"}\r\n\r\n']
    frames = [
        _tcp_frame(PROXY, RELAY, texts[0], 1000, port=40000, dport=25),
        _tcp_frame(PROXY, RELAY, texts[1], 1000 + len(texts[0]), port=40000, dport=25),
    ]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.relay_dtmf_redacted == 0 and _read(dst)[1] == frames


# A PBX's event channels (pcifilter.pbx): Asterisk's AMI and FreeSWITCH's event socket, as
# their documentation gives them (neither PBX is packaged in Debian 12 to run here).
AMI_SERVER = (
    b"Asterisk Call Manager/9.0.0\r\n"
    b"Response: Success\r\nMessage: Authentication accepted\r\n\r\n"
    b"Event: DTMFBegin\r\nPrivilege: dtmf,all\r\nChannel: PJSIP/trunk-00000001\r\n"
    b"Uniqueid: 1700000000.1\r\nDigit: 4\r\nDirection: Received\r\n\r\n"
    b"Event: DTMFEnd\r\nPrivilege: dtmf,all\r\nChannel: PJSIP/trunk-00000001\r\n"
    b"Uniqueid: 1700000000.1\r\nDigit: 4\r\nDurationMs: 120\r\nDirection: Received\r\n\r\n"
    b"Event: DTMF\r\nChannel: SIP/trunk-0001\r\nDigit: #\r\nBegin: No\r\nEnd: Yes\r\n\r\n"
)
AMI_CLIENT = (
    b"Action: Login\r\nUsername: cti\r\nSecret: not-a-card\r\nEvents: dtmf\r\n\r\n"
    b"Action: PlayDTMF\r\nChannel: PJSIP/agent-00000002\r\nDigit: 7\r\nDuration: 250\r\n\r\n"
)
ESL_BODY = (
    b"Event-Name: DTMF\nCore-UUID: 0b9c\nUnique-ID: 5d3e\nDTMF-Digit: %23\n"
    b"DTMF-Duration: 2000\nDTMF-Source: RTP\n\n"
)
ESL_SERVER = (
    b"Content-Type: auth/request\n\n"
    b"Content-Type: command/reply\nReply-Text: +OK accepted\n\n"
    b"Content-Length: %d\nContent-Type: text/event-plain\n\n"
    % len(ESL_BODY)
    + ESL_BODY
    + b"Content-Length: 60\nContent-Type: text/event-json\n\n"
    + b'{"Event-Name":"DTMF","DTMF-Digit":"5","DTMF-Duration":"2000"}'
    + b"Content-Length: 60\nContent-Type: text/event-xml\n\n"
    + b"<event><headers><DTMF-Digit>9</DTMF-Digit></headers></event>\n"
)
ESL_CLIENT = (
    b"auth ClueCon\n\nevent plain DTMF\n\n"
    b"api uuid_send_dtmf 5d3e 1234\n\n"
    b"sendmsg 5d3e\ncall-command: execute\nexecute-app-name: send_dtmf\n"
    b"execute-app-arg: 5678@100\n\n"
    b"sendmsg 5d3e\ncall-command: execute\nexecute-app-arg: 9999\n"
    b"execute-app-name: send_dtmf\n\n"
)
PBX_LEFT = re.compile(
    rb"Digit: [0-9#*]|DTMF-Digit: %|\"DTMF-Digit\":\"[0-9]|<DTMF-Digit>[0-9]"
    rb"|uuid_send_dtmf 5d3e [0-9]|execute-app-arg: [0-9]"
)


def test_pbx_event_channels_keep_no_keypress(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A capture on a contact centre's PBX host: AMI's DTMF events and PlayDTMF, the event
    socket's DTMF events (plain, JSON, XML) and its uuid_send_dtmf and send_dtmf; in small
    segments (values cut across them), the client's AMI connection caught mid-message.
    Every keypress value becomes X's, nothing else changes. Before, these connections were
    no signalling: written as they were."""
    conns = [
        (AMI_SERVER, "10.0.0.7", PROXY, 5038, 40001),
        (AMI_CLIENT[20:], PROXY, "10.0.0.7", 40001, 5038),
        (ESL_SERVER, "10.0.0.8", PROXY, 8021, 40002),
        (ESL_CLIENT, PROXY, "10.0.0.8", 40002, 8021),
    ]
    frames = []
    for data, src, dst, sport, dport in conns:
        # segments cut where a line starts (as a sender writes messages), some in two
        cuts = sorted({0, *(m.end() for m in re.finditer(rb"\n", data))} - {len(data)})
        cuts = cuts[::2]
        frames += [
            _tcp_frame(src, dst, data[a:b], 1000 + a, port=sport, dport=dport)
            for a, b in itertools.pairwise([*cuts, len(data)])
        ]
    src_path, dst_path = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src_path, frames)
    before = b"".join(d for d, *_ in conns)
    assert len(PBX_LEFT.findall(before)) == 10
    r = scrub_pcap(src_path, dst_path)
    assert r.pbx_dtmf_redacted == 10
    _, out = _read(dst_path)
    assert [len(fr) for fr in out] == [len(fr) for fr in frames]
    assert all(_tcp_checksum_ok(fr) for fr in out)
    got = b"".join(bytes(dpkt.ethernet.Ethernet(fr).data.data.data) for fr in out)
    assert PBX_LEFT.search(got) is None and b"not-a-card" in got
    assert got.replace(b"X", b"") == re.sub(
        rb"(?<=Digit: )[0-9#*]|(?<=DTMF-Digit: )%23|(?<=\"DTMF-Digit\":\")5|(?<=<DTMF-Digit>)9"
        rb"|(?<=uuid_send_dtmf 5d3e )1234|(?<=execute-app-arg: )(?:5678@100|9999)",
        b"",
        before,
    )
    assert main(["scrub", str(src_path), str(dst_path)]) == 0
    assert "10 keypresses in PBX event channels" in capsys.readouterr().out


def test_a_relay_s_dtmf_log_forwarded_by_syslog_over_tcp_keeps_no_keypress(tmp_path: Path) -> None:
    """rtpengine's DTMF log (log-facility-dtmf) forwarded to a central syslog over TCP (RFC
    6587, octet-counted or one message a line): in each line that names DTMF the keypress
    is masked; other programs' lines, JSON "event" keys and all, are left as they were.
    Before, the connection was no signalling: written as it was."""
    dtmf = b'rtpengine[42]: DTMF: {"callid":"c1","type":"DTMF","event":7,"duration":120}'
    other = b'app[7]: {"event":"login","user":"agent7"}'
    lines = [b"<30>Dec  1 12:00:0%d relay " % i + m for i, m in enumerate([other, dtmf, other])]
    counted = b"".join(b"%d " % len(line) + line for line in lines)
    newline = b"".join(line + b"\n" for line in lines)
    frames = [
        _tcp_frame(RELAY, "10.0.0.9", counted, 1000, port=40100, dport=6514),
        _tcp_frame(RELAY, "10.0.0.9", newline, 1000, port=40101, dport=514),
    ]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.relay_dtmf_redacted == 2
    got = [bytes(dpkt.ethernet.Ethernet(fr).data.data.data) for fr in _read(dst)[1]]
    for before, after in zip((counted, newline), got, strict=True):
        assert len(after) == len(before) and b'"event":X,' in after and b'"event":7' not in after
        assert after.count(b'"event":"login"') == 2  # the other program's lines as they were
        assert after.replace(b'"event":X,', b'"event":7,') == before


def test_asterisk_ari_keeps_no_keypress(tmp_path: Path) -> None:
    """Asterisk's ARI: its events over WebSocket report each keypress
    ({"type": "ChannelDtmfReceived", "digit": ...}, compact or pretty-printed), and its REST
    interface takes POST /ari/channels/<id>/dtmf?dtmf=<digits>. The server's frames are
    known by a keypress event (nothing else in that direction tells ARI apart), the client's
    request by its URI; the digits become X's, the other events stay as they were."""
    start = b'{"type":"StasisStart","channel":{"id":"c1","name":"PJSIP/trunk-1"}}'
    compact = b'{"type":"ChannelDtmfReceived","digit":"4","duration_ms":120,"channel":{"id":"c1"}}'
    pretty = b'{\n  "type": "ChannelDtmfReceived",\n  "digit": "#",\n  "duration_ms": 100\n}'
    accept = _NG_WS_ACCEPT.replace(b"ng.rtpengine.com", b"x")  # no subprotocol of note
    request = (
        b"GET /ari/events?app=pay&api_key=u:p HTTP/1.1\r\nHost: pbx\r\nUpgrade: websocket\r\n\r\n"
    )
    rest = b"POST /ari/channels/c1/dtmf?dtmf=5678&between=100 HTTP/1.1\r\nHost: pbx\r\n\r\n"
    frames = [
        _tcp_frame(PROXY, "10.0.0.7", request, 1000, port=40200, dport=8088),
        _tcp_frame("10.0.0.7", PROXY, accept, 9000, port=8088, dport=40200),
        _tcp_frame(PROXY, "10.0.0.7", rest, 1000, port=40201, dport=8088),
    ]
    # the server's frames, each in its segment, after its 101
    server = [_ws_frame(m) for m in (start, compact, pretty)]
    frames[-1:-1] = _segments("10.0.0.7", PROXY, server, 9000 + len(accept), (8088, 40200))
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.pbx_dtmf_redacted == 3
    got = b"".join(bytes(dpkt.ethernet.Ethernet(fr).data.data.data) for fr in _read(dst)[1])
    assert len(got) == sum(len(bytes(dpkt.ethernet.Ethernet(fr).data.data.data)) for fr in frames)
    assert b'"digit":"X"' in got and b'"digit": "X"' in got and b"dtmf=XXXX&" in got
    assert start in got and b'"digit":"4"' not in got and b"5678" not in got


@pytest.mark.parametrize("with_accept", [False, True])
def test_asterisk_ari_events_known_by_their_request(tmp_path: Path, with_accept: bool) -> None:
    """The server's direction of an ARI event connection where no keypress event starts a
    segment (Asterisk wrote it behind another event, or after its 101 in one segment): the
    client's GET /ari/events names the connection, so the events after the 101 are read
    frame by frame all the same; its keypresses become X's, the rest stays as it was."""
    start = b'{"type":"StasisStart","channel":{"id":"c1","name":"PJSIP/trunk-1"}}'
    var = b'{"type":"ChannelVarset","variable":"step","value":"pan","channel":{"id":"c1"}}'
    dtmf = [
        b'{"type":"ChannelDtmfReceived","digit":"%d","duration_ms":120,"channel":{"id":"c1"}}' % d
        for d in (4, 7)
    ]
    accept = _NG_WS_ACCEPT.replace(b"ng.rtpengine.com", b"x")
    request = b"GET /ari/events?app=pay HTTP/1.1\r\nHost: pbx\r\nUpgrade: websocket\r\n\r\n"
    server = [_ws_frame(start) + _ws_frame(dtmf[0]), _ws_frame(var) + _ws_frame(dtmf[1])]
    server = [accept + server[0], server[1]] if with_accept else [accept, *server]
    frames = [_tcp_frame(PROXY, "10.0.0.7", request, 1000, port=40200, dport=8088)]
    frames += _segments("10.0.0.7", PROXY, server, 9000, (8088, 40200))
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.pbx_dtmf_redacted == 2
    got = b"".join(bytes(dpkt.ethernet.Ethernet(fr).data.data.data) for fr in _read(dst)[1])
    want = b"".join([request, *server])
    assert got == want.replace(b'"digit":"4"', b'"digit":"X"').replace(
        b'"digit":"7"', b'"digit":"X"'
    )


def test_pbx_channels_caught_mid_stream_keep_no_keypress(tmp_path: Path) -> None:
    """A capture that starts in the middle of AMI, ESL and ARI connections, their segments
    cut where the sender's writes happened to end: none starts a message, so none of them
    is known for a PBX's. Their keypress values are found in each connection's stream all
    the same (in C++, with the card sweep's joined streams) and replaced; the rest stays."""
    ari = b"".join(
        _ws_frame(m)
        for m in (
            b'{"type":"StasisStart","channel":{"id":"c1"}}',
            b'{"type":"ChannelDtmfReceived","digit":"6","channel":{"id":"c1"}}',
        )
    )
    connections = [
        (AMI_SERVER[40:], 5038, 40125),
        (ESL_SERVER[10:], 8021, 40126),
        (ari[3:], 8088, 40127),
    ]
    frames = []
    for data, sport, dport in connections:
        pieces = _cut(data, 37)
        assert not any(pbx.starts_pbx_events(p) for p in pieces)
        frames += _segments(PROXY, RELAY, pieces, 1000, (sport, dport))
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    got = b"".join(bytes(dpkt.ethernet.Ethernet(fr).data.data.data) for fr in _read(dst)[1])
    want = b"".join(data for data, _, _ in connections)
    for before, after in [
        (b"Digit: 4\r\n", b"Digit: X\r\n"),
        (b"Digit: #\r\n", b"Digit: X\r\n"),
        (b'"DTMF-Digit":"5"', b'"DTMF-Digit":"X"'),
        (b"<DTMF-Digit>9<", b"<DTMF-Digit>X<"),
        (b"DTMF-Digit: %23", b"DTMF-Digit: XXX"),
        (b'"digit":"6"', b'"digit":"X"'),
    ]:
        assert before in want
        want = want.replace(before, after)
    assert got == want and r.pbx_dtmf_redacted == 7


def test_srtp_keys_in_messages_not_recognised_are_redacted(tmp_path: Path) -> None:
    """SDP with SRTP keys where no message is recognised: an ng connection over TCP caught
    mid-stream (none of its segments starts a message), and a log line over UDP that quotes
    an offer's SDP in JSON. The keys would let anyone decrypt the call's audio; they are
    found in any datagram and stream and replaced, the rest stays as it was."""
    sdp = SRTP_SDP.format(a=B, port=50000, key=KEY, mikey=MIKEY)
    ng = _ng("5_1", {"command": "offer", "call-id": "c1", "from-tag": "ft", "sdp": sdp})
    stream = ng[3:]  # its start not captured
    pieces = _cut(stream, 50)
    log = b"<30>app: offer " + json.dumps(sdp).encode()  # (no ng message's start)
    frames = [
        *_segments(PROXY, RELAY, pieces, 1000, (40124, 2224)),
        _frame("ethernet", _ip(RELAY, "10.0.0.9", 41000, 514, log, False)),
    ]
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    out = _read(dst)[1]
    got = b"".join(bytes(dpkt.ethernet.Ethernet(fr).data.data.data) for fr in out[:-1])
    assert got == stream.replace(KEY.encode(), b"X" * len(KEY)).replace(
        MIKEY.encode(), b"X" * len(MIKEY)
    )
    line = bytes(dpkt.ethernet.Ethernet(out[-1]).data.data.data)
    assert not _keys_left(line) and len(line) == len(log) and b"a=rtpmap:0 PCMU/8000" in line
    assert r.srtp_keys_redacted == 4  # two keys in each


_DTMF = st.text("0123456789ABCD*#", min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(
    lines=st.lists(
        st.one_of(
            st.builds(lambda v, b: f"Digit:{b}{v}{b}", _DTMF, st.sampled_from(["", " ", "  "])),
            st.builds(lambda v: f"DTMF-Digit: {v}", st.sampled_from(["5", "%23", "%2A", "A"])),
            st.builds(lambda v: f'{{"Event-Name":"DTMF","DTMF-Digit":"{v}"}}', _DTMF),
            st.builds(lambda v: f"<headers><DTMF-Digit>{v}</DTMF-Digit></headers>", _DTMF),
            st.builds(lambda v: f"bgapi uuid_send_dtmf 5d3e {v}", _DTMF),
            st.builds(lambda v: f"POST /ari/channels/c1/dtmf?dtmf={v} HTTP/1.1", _DTMF),
            st.builds(lambda v: f'{{"dtmf": "{v}"}}', _DTMF),
            st.sampled_from(["Event: DTMFEnd", "Channel: PJSIP/trunk-1", "Uniqueid: 17.1", ""]),
        ),
        min_size=1,
        max_size=12,
    ),
    newline=st.sampled_from(["\r\n", "\n"]),
)
def test_the_capture_and_pcifilter_pbx_mask_a_pbx_s_keypresses_alike(
    lines: list[str], newline: str
) -> None:
    """A PBX's keypress forms are read twice: pcifilter.pbx on the connections it knows,
    the capture's C++ sweep on every TCP stream (for those it does not). Over the same
    text, both mask the same bytes."""
    import tempfile

    stream = ("ignored" + newline + newline.join(lines) + newline).encode()
    want, _ = pbx.redact_pbx_events(stream)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.pcap", Path(tmp) / "out.pcap"
        _write_pcap(src, [_tcp_frame(PROXY, RELAY, stream, 1000, port=40300, dport=40301)])
        scrub_pcap(src, dst, mask_card_numbers=False)
        (frame,) = _read(dst)[1]
    assert bytes(dpkt.ethernet.Ethernet(frame).data.data.data) == want


def test_long_lines_in_pbx_and_relay_connections_cannot_hang_the_scrub() -> None:
    """Patterns that could give back part of a long run (blanks after "Digit:", after
    "execute-app-arg:", capitals in an HTTP ng connection) took time quadratic or worse in
    its length: 40 KB of blanks 8.7 s, 2 KB after execute-app-arg 67 s, 40 KB of capitals
    1.4 s; a hostile capture's 1 MiB line, hours. A hang detector run apart, not a speed
    target: each of these takes milliseconds now."""
    code = (
        "from pcifilter.pbx import redact_pbx_events\n"
        "from pcifilter.pcap import _redact_http_ng_stream\n"
        "run = b' ' * (1 << 20)\n"
        "out, n = redact_pbx_events(b'Digit:' + run + b'5\\r\\n')\n"
        "assert n == 1 and out.endswith(b' X\\r\\n')\n"
        "out, n = redact_pbx_events(b'execute-app-arg:' + run)\n"
        "assert n == 0 and out.endswith(run)\n"
        "_redact_http_ng_stream(b'POST /ng ' + b'A' * (1 << 20), True)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_ng_over_http_in_chunks_or_gzip_d_keeps_no_key_and_no_keypress() -> None:
    """rtpengine's ng over HTTP with bodies sent in chunks (a chunk-size line wherever the
    client's buffer ended: inside the SRTP key and inside a "play DTMF" code here) and one
    gzip'd: each body read de-chunked and decoded (pcifilter.http_bodies), redacted as a
    datagram is, its SDP read; the gzip'd one, holding a keypress, replaced whole. Before,
    the messages were cut by Content-Length only: a chunked body was read as text with its
    chunk-size lines in it, and the key's two halves, the code and the offer's SDP went
    unseen; a gzip'd body was not read."""
    from pcifilter.pcap import _redact_http_ng_stream

    sdp = SRTP_SDP.format(a=B, port=50000, key=KEY, mikey=MIKEY)
    offer = _ng("1_9", {"command": "offer", "call-id": "c1", "from-tag": "ft", "sdp": sdp})
    play = _ng("2_9", {"command": "play DTMF", "call-id": "c1", "from-tag": "ft", "code": "9"})
    head = b"POST /ng HTTP/1.1\r\nHost: relay\r\nContent-Type: application/x-rtpengine-ng\r\n"

    def chunked(body: bytes, cuts: list[int]) -> bytes:
        return _chunked([body[a:b] for a, b in itertools.pairwise([0, *cuts, len(body)])])

    in_key, in_code = offer.index(KEY.encode()) + 9, play.index(b"1:9") + 1
    zipped = gzip.compress(play, mtime=0)
    lzw = b"\x1f\x9d\x90" + play  # a coding not read here ("compress"): replaced unread
    stream = (
        head + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(offer, [in_key])
        + head + b"Transfer-Encoding: chunked\r\n\r\n" + chunked(play, [in_code])
        + head + b"Content-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(zipped) + zipped
        + head + b"Content-Encoding: compress\r\nContent-Length: %d\r\n\r\n" % len(lzw) + lzw
    )  # fmt: skip
    out, sdps, dtmf, keys, unread = _redact_http_ng_stream(stream, True)
    assert len(out) == len(stream) and (dtmf, keys, unread) == (2, 1, 1)
    assert out.endswith(b"X" * len(lzw))
    assert [s for _, s in sdps] == [sdp.encode()]
    assert zipped not in out and b"X" * len(zipped) in out
    text = out.replace(b"\r\n%x\r\n" % (len(offer) - in_key), b"")
    text = text.replace(b"\r\n%x\r\n" % (len(play) - in_code), b"")
    assert LEFT.search(text) is None and not _keys_left(text) and b"4:code1:X" in text
