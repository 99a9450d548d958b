# SPDX-License-Identifier: Apache-2.0
"""Mutated captures through scrub_pcap: a capture beside a relay and a PBX (rtpengine's ng
over UDP, TCP, WebSocket and HTTP, its DTMF log over UDP and syslog over TCP, an ng offer in
IP fragments, AMI and FreeSWITCH event-socket connections, RTP with telephone-events and
comfort noise, the SRTP side, card numbers in a chat, in a fragmented log line and typed a
keystroke a TCP segment; an ARI event connection; MGCP; HTTP bodies gzip'd and chunked, a
WebSocket's compressed messages; a gRPC channel over h2c caught mid-way; RTP inside MPLS,
PPPoE and GTP-U;
an RTP-like flow no one named), N copies with 1-6 random bytes changed past the file header
each, as a classic pcap and as a pcapng (some of its frames dated past the year 2262).
Every copy must be scrubbed or refused with ValueError (an unreadable file); anything else
is a crash. Prints the counts.

    .venv/bin/python bench/capture_mutation_report.py [N]
"""

from __future__ import annotations

import gzip
import io
import itertools
import random
import sys
import tempfile
import zlib
from pathlib import Path

import dpkt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_http2 import _frame_pieces, _grpc_channel
from test_pcap import (
    KEY,
    B,
    _cut,
    _fragmented,
    _frame,
    _ip,
    _segments,
    _tcp_frame,
    _write_pcap,
    _ws_frame,
)
from test_pcap_relay import (
    AMI_CLIENT,
    AMI_SERVER,
    ESL_CLIENT,
    ESL_SERVER,
    MIKEY,
    PROXY,
    RELAY,
    SRTP_SDP,
    _ng,
    _rtp_frames,
    _tcp_ng_stream,
)
from test_pcap_tunnels import _wrap

from pcifilter.pcap import scrub_pcap

CARD = b"card 4111 1111 1111 1111"


def capture_frames() -> list[bytes]:
    to_relay, to_proxy = _tcp_ng_stream()
    srtp = SRTP_SDP.format(a=B, port=50000, key=KEY, mikey=MIKEY) + "a=x:" + "c" * 1500 + "\r\n"
    offer = _ng("5_1", {"command": "offer", "call-id": "c1", "from-tag": "ft", "sdp": srtp})
    pieces, _ = _fragmented(PROXY, RELAY, offer, False, 512, 0x4321, (40123, 2223))
    frames = [fr for _, fr in pieces]
    log = b'{"callid":"c1","type":"DTMF","event":7,"duration":80,"volume":10}'
    frames.append(_frame("ethernet", _ip(RELAY, "10.0.0.9", 41000, 9999, log, False)))
    frames.append(_frame("ethernet", _ip(PROXY, RELAY, 40123, 2223, to_relay[:300], False)))
    connections = [
        (to_relay, 40124, 2224),
        (to_proxy, 2224, 40124),
        (AMI_SERVER, 5038, 40125),
        (AMI_CLIENT, 40125, 5038),
        (ESL_SERVER, 8021, 40126),
        (ESL_CLIENT, 40126, 8021),
        (b"74 <30>Dec  1 relay rtpengine[4]: " + log + b"\n", 40127, 6514),
    ]
    for n, (data, sport, dport) in enumerate(connections):
        frames += _segments(PROXY, RELAY, _cut(data, 200), 1000, (sport, dport))
        if n == 0:  # the same messages over WebSocket and HTTP
            ws = b"".join(
                _ws_frame(to_relay[i : i + 100], b"\x01\x02\x03\x04")
                for i in range(0, len(to_relay), 100)
            )
            frames.append(_tcp_frame(PROXY, RELAY, ws, 5000, port=40128, dport=8080))
            post = b"POST /ng HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % len(to_relay) + to_relay
            frames.append(_tcp_frame(PROXY, RELAY, post, 7000, port=40129, dport=80))
    # card numbers in clear: a chat over UDP, a long log line in IP fragments
    chat = b"MESSAGE sip:a@b SIP/2.0\r\n\r\nit is 4111 1111 1111 1111\r\n"
    frames.append(_frame("ethernet", _ip(PROXY, RELAY, 5060, 5060, chat, False)))
    line = b"<30>app: " + b"x" * 500 + b" card=5555-5555-5555-4444 " + b"y" * 600
    pieces, _ = _fragmented(RELAY, "10.0.0.9", line, False, 512, 0x777, (40000, 514))
    frames += [fr for _, fr in pieces]
    typed = b"pay 4111 1111 1111 1111\r\n"  # a keystroke a segment
    frames += [
        _tcp_frame(PROXY, RELAY, typed[i : i + 1], 9000 + i, port=40130, dport=23)
        for i in range(len(typed))
    ]
    # ARI's events, named by the client's request; MGCP, a keypress notified and played
    ari = b'{"type":"ChannelDtmfReceived","digit":"4","channel":{"id":"c1"}}'
    frames.append(
        _tcp_frame(
            PROXY, RELAY, b"GET /ari/events?app=p HTTP/1.1\r\n\r\n", 1, port=40131, dport=8088
        )
    )
    accept = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"
    frames.append(
        _tcp_frame(
            RELAY,
            PROXY,
            accept + _ws_frame(b'{"type":"StasisStart"}') + _ws_frame(ari),
            1,
            port=8088,
            dport=40131,
        )
    )
    # HTTP: a gzip'd reply echoing a card, a chunked body; a chat's compressed WebSocket
    echo = gzip.compress(b'{"card": "4111 1111 1111 1111"}', mtime=0)
    http = (
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(echo)
        + echo
        + b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\n5555-55\r\n"
        + b"c\r\n55-5555-4444\r\n0\r\n\r\n"
    )
    frames += _segments(RELAY, PROXY, _cut(http, 60), 3000, (80, 40132))
    deflate = zlib.compressobj(wbits=-15)
    chat = [(deflate.compress(m) + deflate.flush(zlib.Z_SYNC_FLUSH))[:-4] for m in (b"hi", CARD)]
    ws_chat = b"GET /chat HTTP/1.1\r\nUpgrade: websocket\r\n\r\n" + b"".join(
        _ws_frame(m, b"\x05\x06\x07\x08", rsv1=True) for m in chat
    )
    frames.append(_tcp_frame(PROXY, RELAY, ws_chat, 1, port=40133, dport=8090))
    # HTTP/2 in clear: a gRPC channel caught mid-way (its frames a segment each)
    before, after, _ = _grpc_channel()
    frames += _segments(PROXY, RELAY, [before[-6:], *_frame_pieces(after)], 1, (40134, 50051))
    ntfy = b"NTFY 2002 aaln/1@gw MGCP 1.0\r\nO: L/hd, D/4, D/1\r\n"
    frames.append(_frame("ethernet", _ip(RELAY, PROXY, 2427, 2727, ntfy, False)))
    frames.append(
        _frame("ethernet", _ip(PROXY, RELAY, 2727, 2427, b"RQNT 7 e MGCP 1.0\r\nS: D/5\r\n", False))
    )
    frames += _rtp_frames("10.0.0.1", RELAY, 40000, 30010, 0xA)
    frames += _rtp_frames(RELAY, B, 30000, 50000, 0xB)
    for kind, port in (("mpls", 30020), ("pppoe", 30022), ("gtp", 30024)):
        frames += [_wrap(fr, kind) for fr in _rtp_frames("10.0.0.1", RELAY, port, port, 0xC)]
    opus = [
        b"\x80\x6f"
        + k.to_bytes(2, "big")
        + (960 * k).to_bytes(4, "big")
        + b"\0\0\0\x0d"
        + bytes([0x78])
        + bytes(40)
        for k in range(10)
    ]
    frames += [_frame("ethernet", _ip("10.0.0.1", RELAY, 42000, 52000, p, False)) for p in opus]
    return frames


def pcapng_of(frames: list[bytes]) -> bytes:
    """The frames as a pcapng (dpkt's writer: what tshark and Wireshark write by default),
    one a second, every seventh dated past the year 2262 (64-bit times)."""
    out = io.BytesIO()
    w = dpkt.pcapng.Writer(out, snaplen=65535)
    for i, frame in enumerate(frames):
        w.writepkt(frame, ts=1000.0 + i if i % 7 != 6 else 16_784_151_343.0)
    return out.getvalue()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rng = random.Random(16)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.pcap", Path(tmp) / "out.pcap"
        _write_pcap(src, capture_frames())
        clean = src.read_bytes()
        ng = pcapng_of(capture_frames())
        r = scrub_pcap(src, dst)  # the paths the mutations go through
        print(
            f"unmutated: {r.relay_dtmf_redacted} relay messages with keypresses, "
            f"{r.pbx_dtmf_redacted} PBX keypresses, {r.srtp_keys_redacted} with keys, "
            f"{r.card_numbers_masked} card numbers, {r.gateway_dtmf_redacted} MGCP messages "
            f"with keypresses, {len(r.streams)} streams, {len(r.unscrubbed_flows)} flows left out"
        )
        for kind, original, header in (("pcap", clean, 24), ("pcapng", ng, 28)):
            outcomes = {"scrubbed": 0, "ValueError": 0}
            for _ in itertools.repeat(None, n):
                data = bytearray(original)
                for _ in range(rng.randint(1, 6)):
                    data[rng.randrange(header, len(data))] = rng.randrange(256)
                src.write_bytes(bytes(data))
                try:
                    scrub_pcap(src, dst)
                    outcomes["scrubbed"] += 1
                except ValueError:
                    outcomes["ValueError"] += 1
            scrubbed, refused = outcomes["scrubbed"], outcomes["ValueError"]
            print(
                f"{n} mutated {kind} captures: {scrubbed} scrubbed, {refused} refused"
                " (ValueError), 0 crashed"
            )


if __name__ == "__main__":
    main()
