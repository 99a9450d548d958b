# SPDX-License-Identifier: Apache-2.0
"""Real tools, on 127.0.0.1 only: sipp (Debian sip-tester) makes a call and plays RTP from
pcaps, one with in-band DTMF (made here) and its own RFC 2833 capture; tshark captures it on
loopback; pcifilter scrubs the capture; tshark's RTP analysis of the result shows no
telephone-event and no sequence problem, and spandsp hears no digit in the audio. A real
rtpengine's control traffic, scrubbed of its keys and keypresses. curl (its HTTP/2 is
nghttp2's) upgrading to h2c against a server made here with h2, and a real gRPC channel
(grpcio: grpc-core's own HTTP/2, gzip'd messages): scrubbed whole and caught mid-way,
Wireshark still decodes every header block."""

from __future__ import annotations

import contextlib
import gzip
import http.client
import itertools
import json
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import bencodepy
import dpkt
import grpc
import h2.config
import h2.connection
import h2.events
import numpy as np
import pytest
from test_pcap import _ws_messages
from websockets.sync.client import connect

import pcifilter as pf
from pcifilter import signals as sg
from pcifilter import spandsp
from pcifilter.pcap import scrub_pcap
from pcifilter.rtp import RtpPacket

pytestmark = pytest.mark.peer
SIPP_PCAPS = Path("/usr/share/sip-tester")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _inband_pcap(path: Path) -> None:
    x, _ = sg.keyed_sequence("1234", 100, 150, -10, lead_ms=500)
    rng = np.random.default_rng(1)
    pcm = sg.to_int16(np.concatenate([x, np.zeros(4000)]) + sg.white_noise(len(x) + 4000, -55, rng))
    with path.open("wb") as f:
        w = dpkt.pcap.Writer(f)
        for i in range(len(pcm) // 160):
            rtp = RtpPacket(
                8,
                i == 0,
                100 + i,
                160 * i,
                0x42,
                payload=pf.alaw_encode(pcm[160 * i : 160 * i + 160]).tobytes(),
            ).serialize()
            udp = dpkt.udp.UDP(sport=6000, dport=6002, data=rtp, ulen=8 + len(rtp))
            ip = dpkt.ip.IP(
                src=socket.inet_aton("127.0.0.1"),
                dst=socket.inet_aton("127.0.0.1"),
                p=17,
                data=udp,
                len=28 + len(rtp),
            )
            w.writepkt(bytes(dpkt.ethernet.Ethernet(type=0x0800, data=ip)), ts=1000 + i * 0.02)


@contextlib.contextmanager
def _captured_on_loopback(work: Path, bpf: str, cap: Path) -> Iterator[None]:
    """tshark capturing `bpf` on lo into `cap` while the block runs (from when it captures:
    it says so a little before it does, and a connection of 50 ms, curl's, went uncaptured
    once, hence the wait after)."""
    with (work / "tshark.log").open("w") as log:
        tshark = subprocess.Popen(
            ["tshark", "-i", "lo", "-f", bpf, "-w", str(cap)], stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + 20
            while "Capturing on" not in (work / "tshark.log").read_text():
                assert time.monotonic() < deadline, "tshark did not start"
                time.sleep(0.1)
            time.sleep(1.5)
            yield
        finally:
            tshark.terminate()
            tshark.wait(timeout=20)


def _tshark(*args: str) -> str:
    return subprocess.run(
        ["tshark", *args], capture_output=True, text=True, timeout=60, check=True
    ).stdout


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for tool in ("sipp", "tshark"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} missing: run ./dev.sh test, which installs it")
    work = tmp_path_factory.mktemp("sipp")
    (work / "pcap").mkdir()
    _inband_pcap(work / "pcap" / "inband.pcap")
    (work / "pcap" / "dtmf_2833_1.pcap").symlink_to(SIPP_PCAPS / "dtmf_2833_1.pcap")
    scenario = subprocess.run(
        ["sipp", "-sd", "uac_pcap"], capture_output=True, text=True, check=False
    ).stdout
    scenario = scenario.replace("pcap/g711a.pcap", "pcap/inband.pcap").replace(
        '<pause milliseconds="8000"/>', '<pause milliseconds="3200"/>'
    )
    (work / "uac.xml").write_text(scenario)
    uas_port, uac_port, uas_media, uac_media = (_free_port() for _ in range(4))
    cap = work / "call.pcapng"
    with _captured_on_loopback(work, "udp and host 127.0.0.1", cap):
        uas = subprocess.Popen(
            [
                "sipp",
                "-sn",
                "uas",
                "-i",
                "127.0.0.1",
                "-p",
                str(uas_port),
                "-m",
                "1",
                "-mp",
                str(uas_media),
                "-nostdin",
            ],
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)
        uac = subprocess.run(
            [
                "sipp",
                "-sf",
                "uac.xml",
                f"127.0.0.1:{uas_port}",
                "-i",
                "127.0.0.1",
                "-p",
                str(uac_port),
                "-m",
                "1",
                "-mp",
                str(uac_media),
                "-nostdin",
                "-timeout",
                "30s",
            ],
            cwd=work,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert uac.returncode == 0, uac.stdout[-2000:]
        uas.wait(timeout=20)
        time.sleep(0.5)
    return cap


@pytest.mark.parametrize("telephone_events", ["drop", "replace"])
def test_scrubbed_sipp_call_passes_tshark(
    capture: Path, tmp_path: Path, telephone_events: str
) -> None:
    out = tmp_path / "scrubbed.pcapng"
    r = scrub_pcap(capture, out, telephone_events=telephone_events)
    assert sum(len(s.events) for s in r.streams) == 5  # "1234" in-band, "1" as RFC 2833
    assert _tshark("-r", str(capture), "-Y", "rtpevent").strip()  # the call had events
    assert _tshark("-r", str(out), "-Y", "rtpevent").strip() == ""  # none left
    streams = [
        line
        for line in _tshark("-r", str(out), "-q", "-z", "rtp,streams").splitlines()
        if "127.0.0.1" in line
    ]
    # sipp plays its RFC 2833 capture with its own SSRC: "replace" makes that a stream of
    # masking audio in the call's codec.
    assert len(streams) == (1 if telephone_events == "drop" else 2)
    for line in streams:
        assert "g711A" in line
        assert " 0 (0.0%)" in line and not line.rstrip().endswith("X")  # no loss/problem
    audio = []
    with out.open("rb") as f:
        for _, frame in dpkt.pcapng.Reader(f):
            udp = dpkt.ethernet.Ethernet(frame).data.data
            if isinstance(udp, dpkt.udp.UDP) and udp.data[:1] == b"\x80":
                audio.append(pf.alaw_decode(RtpPacket.parse(bytes(udp.data)).payload))
    assert spandsp.spandsp_digits(np.concatenate(audio), lenient=True) == ("", 0)


# rtpengine (Debian's rtpengine-daemon, the relay Kamailio and OpenSIPS drive over its "ng"
# protocol): this test plays the proxy, on 127.0.0.1, and captures what it and the relay
# send each other.
CALLER_KEY = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz"
_CRYPTO = re.compile(rb"a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)")


def _ng_call(
    ng: int, dtmf_log: int, work: Path, transport: str, stack: contextlib.ExitStack
) -> dict[str, Any]:
    """One call through rtpengine, its ng over `transport` (UDP; TCP: listen-tcp-ng;
    WebSocket or HTTP: listen-http): the caller (A) plain RTP, the callee (B) SRTP (the relay makes
    its own key for B), a keypress "7" from A as telephone-events, "play DTMF" "9". Returns
    the secrets the capture holds: the relay's keys (one per suite it offers), and the DTMF
    log it sent. Its sockets close with `stack`."""
    log, a, b, udp = (
        stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) for _ in range(4)
    )
    for s in (log, a, b):
        s.settimeout(5)
    log.bind(("127.0.0.1", dtmf_log))
    a.bind(("127.0.0.1", 0))
    b.bind(("127.0.0.1", 0))
    cookies = itertools.count(1)
    deadline = time.monotonic() + 20
    udp.settimeout(0.2)
    while True:  # until the relay listens
        try:
            if transport == "http":  # ng over HTTP: POST /ng, one connection kept alive
                proxy = stack.enter_context(
                    contextlib.closing(http.client.HTTPConnection("127.0.0.1", ng, timeout=5))
                )
                proxy.request("GET", "/ping")
                proxy.getresponse().read()
            elif transport == "ws":  # ng over WebSocket (no compression, as Kamailio's module)
                proxy = stack.enter_context(
                    connect(
                        f"ws://127.0.0.1:{ng}/",
                        subprotocols=["ng.rtpengine.com"],
                        compression=None,
                    )
                )
            elif transport == "tcp":
                proxy = stack.enter_context(socket.create_connection(("127.0.0.1", ng), timeout=5))
            else:
                udp.sendto(b"0 d7:command4:pinge", ("127.0.0.1", ng))
                udp.recv(65535)
                proxy = udp
                proxy.settimeout(5)
            break
        except OSError:
            assert time.monotonic() < deadline, (work / "rtpengine.log").read_text()[-2000:]
            time.sleep(0.1)

    def command(message: dict[str, object]) -> dict[bytes, object]:
        cookie = f"{next(cookies)}_{dtmf_log}".encode()
        request = cookie + b" " + bencodepy.encode(message)
        if transport == "http":
            proxy.request(
                "POST", "/ng", body=request, headers={"Content-Type": "application/x-rtpengine-ng"}
            )
            data = proxy.getresponse().read()
            reply_cookie, _, body = data.partition(b" ")
            reply = bencodepy.decode(body)
            assert reply_cookie == cookie and reply[b"result"] in (b"ok", b"pong"), reply
            return dict(reply)
        if transport == "ws":
            proxy.send(request)
        elif transport == "tcp":
            proxy.sendall(request)
        else:
            proxy.sendto(request, ("127.0.0.1", ng))
        data = b""
        while True:  # over TCP, until the reply is whole
            got = proxy.recv(timeout=5) if transport == "ws" else proxy.recv(65535)
            data += got.encode() if isinstance(got, str) else got
            reply_cookie, _, body = data.partition(b" ")
            try:
                reply = bencodepy.decode(body)  # rtpengine does not sort its keys: bencode.py
                break
            except bencodepy.BencodeDecodeError:
                assert transport == "tcp", data
        assert reply_cookie == cookie
        assert reply[b"result"] in (b"ok", b"pong"), reply
        return dict(reply)

    command({"command": "ping"})
    sdp = (
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio {port} {proto} 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n{crypto}a=sendrecv\r\n"
    )
    offer = sdp.format(port=a.getsockname()[1], proto="RTP/AVP", crypto="")
    to_b = command(
        {
            "command": "offer",
            "call-id": "pay-1",
            "from-tag": "ft",
            "sdp": offer,
            "transport-protocol": "RTP/SAVP",
        }
    )
    offered = {m.group(2): m for m in _CRYPTO.finditer(to_b[b"sdp"])}  # type: ignore[arg-type]
    tag = offered[b"AES_CM_128_HMAC_SHA1_80"].group(1).decode()  # the suite B takes
    crypto = f"a=crypto:{tag} AES_CM_128_HMAC_SHA1_80 inline:{CALLER_KEY}\r\n"
    answer = sdp.format(port=b.getsockname()[1], proto="RTP/SAVP", crypto=crypto)
    to_a = command(
        {"command": "answer", "call-id": "pay-1", "from-tag": "ft", "to-tag": "tt", "sdp": answer}
    )
    port = int(re.search(rb"m=audio (\d+)", to_a[b"sdp"]).group(1))  # type: ignore[arg-type, union-attr]
    silence = pf.ulaw_encode(np.zeros(160, np.int16)).tobytes()
    for k in range(25):
        a.sendto(
            RtpPacket(0, k == 0, k, 160 * k, 0x5A5A, payload=silence).serialize(),
            ("127.0.0.1", port),
        )
        time.sleep(0.02)
    for k in range(8):  # "7": 120 ms, the end three times
        end = k >= 5
        ev = bytes([7, (0x80 if end else 0) | 10]) + (160 * min(k + 1, 6)).to_bytes(2, "big")
        pkt = RtpPacket(101, k == 0, 25 + k, 160 * 25, 0x5A5A, payload=ev)
        a.sendto(pkt.serialize(), ("127.0.0.1", port))
        time.sleep(0.02)
    dtmf_log_sent = log.recv(65535)
    command({"command": "play DTMF", "call-id": "pay-1", "from-tag": "ft", "code": "9"})
    time.sleep(0.5)
    command({"command": "delete", "call-id": "pay-1", "from-tag": "ft"})
    return {"relay_keys": [m.group(3) for m in offered.values()], "dtmf_log": dtmf_log_sent}


@pytest.fixture(scope="module", params=["udp", "tcp", "ws", "http"])
def relay_capture(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[Path, dict[str, Any]]:
    transport = request.param
    for tool in ("rtpengine", "tshark"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} missing: run ./dev.sh test, which installs it")
    work = tmp_path_factory.mktemp("rtpengine")
    ng, dtmf_log = _free_port(), _free_port()
    low = _free_port() // 2 * 2  # the relay's media ports: a range from a free one
    cap = work / "relay.pcapng"
    with (
        _captured_on_loopback(work, "host 127.0.0.1", cap),
        (work / "rtpengine.log").open("w") as relay_log,
    ):
        relay = subprocess.Popen(
            [
                "rtpengine",
                "--foreground",
                "--log-stderr",
                "--table=-1",
                "--interface=127.0.0.1",
                {
                    "udp": f"--listen-ng=127.0.0.1:{ng}",
                    "tcp": f"--listen-tcp-ng=127.0.0.1:{ng}",
                    "ws": f"--listen-http=127.0.0.1:{ng}",
                    "http": f"--listen-http=127.0.0.1:{ng}",
                }[transport],
                f"--dtmf-log-dest=127.0.0.1:{dtmf_log}",
                f"--port-min={low}",
                f"--port-max={low + 40}",
            ],
            stdout=relay_log,
            stderr=relay_log,
        )
        try:
            with contextlib.ExitStack() as stack:
                secrets = _ng_call(ng, dtmf_log, work, transport, stack)
            secrets["transport"] = transport
            time.sleep(0.5)
        finally:
            relay.terminate()
            relay.wait(timeout=20)
    return cap, secrets


def _payloads(path: Path) -> list[bytes]:
    """Every UDP payload of a capture and the messages of its TCP connections: each
    direction's bytes in capture order (loopback: no loss, no reordering), cut into
    WebSocket messages (unmasked) when it is one, else taken whole."""
    out: list[bytes] = []
    streams: dict[tuple[int, int], bytes] = {}
    with path.open("rb") as f:
        for _, frame in dpkt.pcapng.Reader(f):
            transport = dpkt.ethernet.Ethernet(frame).data.data
            if isinstance(transport, dpkt.udp.UDP) and transport.data:
                out.append(bytes(transport.data))
            elif isinstance(transport, dpkt.tcp.TCP) and transport.data:
                key = (transport.sport, transport.dport)
                streams[key] = streams.get(key, b"") + bytes(transport.data)
    for stream in streams.values():
        websocket = b"ng.rtpengine.com" in stream.partition(b"\r\n\r\n")[0]
        out += _ws_messages(stream) if websocket else [stream]
    return out


def test_capture_beside_rtpengine_keeps_no_key_and_no_keypress(
    relay_capture: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    """A real rtpengine's traffic with its proxy, ng over UDP, TCP (listen-tcp-ng),
    WebSocket (listen-http, subprotocol ng.rtpengine.com) or HTTP (POST /ng): the
    offer's reply holds the keys the relay
    made for the callee's SRTP, the answer the callee's key, "play DTMF" a keypress, the
    relay's DTMF log (dtmf-log-dest) the caller's and the one played. Scrubbed: no key, no
    keypress; the ng messages still decode; the SDP in them tells that the callee's side is
    SRTP (left out) and the caller's is plain RTP (its telephone-events removed)."""
    cap, secrets = relay_capture
    before = b"".join(_payloads(cap))
    log = json.loads(secrets["dtmf_log"])
    assert log["type"] == "DTMF" and log["event"] == 7 and secrets["dtmf_log"] in before
    assert (
        b"4:code1:9" in before
        and all(k in before for k in secrets["relay_keys"])
        and CALLER_KEY.encode() in before
    )
    out = tmp_path / "scrubbed.pcapng"
    r = scrub_pcap(cap, out, reveal_digits=True)
    # The DTMF log's two entries (the caller's "7", the "9" played) and "play DTMF"; the
    # offer's reply and the answer.
    assert r.relay_dtmf_redacted == 3 and r.srtp_keys_redacted == 2
    assert [e["digit"] for s in r.streams for e in s.events] == ["7"]
    assert any(s.encrypted and s.packets_out == 0 for s in r.streams)
    after = _payloads(out)
    text = b"".join(after)
    assert not any(k in text for k in secrets["relay_keys"]) and CALLER_KEY.encode() not in text
    assert b"4:code1:9" not in text and b"4:code1:X" in text
    assert secrets["dtmf_log"] not in text and b'"event":X,' in text
    if secrets["transport"] in ("udp", "ws"):  # (TCP, HTTP: messages run together)
        ng = [p.partition(b" ")[2] for p in after if re.match(rb"\d+_\d+ d", p)]
        assert len(ng) >= 10  # ping (again until answered), offer, answer, play DTMF, delete
        for body in ng:  # and the replies
            bencodepy.decode(body)  # still bencode
    assert _tshark("-r", str(out), "-Y", "rtpevent").strip() == ""


# h2c (HTTP/2 in clear): a CRM's calls to a payment service, a card number in a path.
PAN_PATH = "/pay?pan=4111111111111111"


def _serve_h2c(listener: socket.socket) -> None:
    """An h2c server (h2), each connection upgraded from HTTP/1.1 (`Upgrade: h2c`) or
    opened with the preface: every request answered with its path echoed in gzip'd JSON."""

    def respond(conn: h2.connection.H2Connection, sid: int, path: bytes) -> None:
        body = gzip.compress(b'{"path": "' + path + b'"}', mtime=0)
        headers = [(":status", "200"), ("content-type", "application/json")]
        conn.send_headers(sid, [*headers, ("content-encoding", "gzip")])
        conn.send_data(sid, body, end_stream=True)

    def handle(c: socket.socket) -> None:
        with c:
            conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
            data = c.recv(65535)
            if data.startswith(b"PRI * HTTP/2.0"):
                conn.initiate_connection()
            else:
                while b"\r\n\r\n" not in data:
                    data += c.recv(65535)
                head, _, data = data.partition(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                fields = dict(line.split(b":", 1) for line in lines[1:])
                settings = {k.strip().lower(): v.strip() for k, v in fields.items()}
                c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n")
                c.sendall(b"Upgrade: h2c\r\n\r\n")
                conn.initiate_upgrade_connection(settings[b"http2-settings"])
                respond(conn, 1, lines[0].split(b" ")[1])
            while True:
                for event in conn.receive_data(data) if data else []:
                    if isinstance(event, h2.events.RequestReceived):
                        respond(conn, event.stream_id, dict(event.headers)[b":path"])
                c.sendall(conn.data_to_send())
                if not (data := c.recv(65535)):
                    return

    while True:
        try:
            c, _ = listener.accept()
        except OSError:  # closed: the test is done
            return
        threading.Thread(target=handle, args=(c,), daemon=True).start()


@pytest.fixture(scope="module")
def h2c_capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """curl upgrading to h2c (`--http2` over http://): its first request in HTTP/1.1, then
    on the same connection a card number in a path twice (nghttp2 names it the second time
    by its dynamic table entry) and a last request, captured on loopback."""
    for tool in ("curl", "tshark", "editcap", "mergecap"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} missing: run ./dev.sh test, which installs it")
    work = tmp_path_factory.mktemp("h2c")
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = int(listener.getsockname()[1])
    threading.Thread(target=_serve_h2c, args=(listener,), daemon=True).start()
    cap = work / "h2c.pcapng"
    try:
        with _captured_on_loopback(work, f"tcp port {port}", cap):
            urls = [f"http://127.0.0.1:{port}{p}" for p in ("/status", PAN_PATH, PAN_PATH, "/done")]
            nulls = ["-o", "/dev/null"] * len(urls)
            subprocess.run(["curl", "-s", "--http2", *nulls, *urls], check=True, timeout=30)
            time.sleep(1)
    finally:
        listener.close()
    return cap, port


def _h2(cap: Path, port: int, field: str) -> list[str]:
    """One field of each HTTP/2 packet Wireshark decodes in a capture (non-empty ones)."""
    out = _tshark(
        "-r", str(cap), "-d", f"tcp.port=={port},http", "-Y", "http2", "-T", "fields", "-e", field
    )
    return [line for line in out.splitlines() if line]


def _cut_at_request(cap: Path, port: int, nth: int, work: Path) -> tuple[Path, Path]:
    """A capture cut (editcap) where the `nth` HTTP/2 request's HEADERS frame is: the
    packets before it, and those from it on (a capture that began there)."""
    requests = f"http2.type == 1 && tcp.dstport == {port}"
    fields = ["-T", "fields", "-e", "frame.number"]
    numbers = _tshark("-r", str(cap), "-d", f"tcp.port=={port},http", "-Y", requests, *fields)
    first = int(numbers.split()[nth])
    head, caught = work / "head.pcapng", work / "caught.pcapng"
    subprocess.run(["editcap", "-r", str(cap), str(head), f"1-{first - 1}"], check=True)
    subprocess.run(["editcap", "-r", str(cap), str(caught), f"{first}-1000000"], check=True)
    return head, caught


def _joined(head: Path, rest: Path, work: Path) -> Path:
    """Two captures one after the other (mergecap)."""
    spliced = work / "spliced.pcapng"
    subprocess.run(["mergecap", "-a", "-w", str(spliced), str(head), str(rest)], check=True)
    return spliced


def _masked_pan(path: str) -> bool:
    return (
        path.startswith("/pay?pan=") and len(path) == len(PAN_PATH) and not re.search(r"\d", path)
    )


def test_h2c_from_curl_keeps_no_card_number_and_wireshark_still_decodes_it(
    h2c_capture: tuple[Path, int], tmp_path: Path
) -> None:
    """The whole connection scrubbed: the card number in both paths (Huffman-coded by
    nghttp2) masked in the header blocks' own bytes, so that Wireshark decodes every block
    after them against the same table (the last request's path reads as sent), and the two
    gzip'd replies that echo it replaced whole (Wireshark: their bodies fail to decompress);
    the reply to the last request decodes."""
    cap, port = h2c_capture
    assert _h2(cap, port, "http2.headers.path") == [PAN_PATH, PAN_PATH, "/done"]
    out = tmp_path / "scrubbed.pcapng"
    r = scrub_pcap(cap, out)
    assert r.card_numbers_masked == 4 and r.coded_unread == 0
    paths = _h2(out, port, "http2.headers.path")
    assert len(paths) == 3 and all(_masked_pan(p) for p in paths[:2]) and paths[2] == "/done"
    assert _h2(out, port, "_ws.expert.message") == ["Body decompression failed"] * 2


def test_h2c_caught_mid_way_keeps_no_card_number(
    h2c_capture: tuple[Path, int], tmp_path: Path
) -> None:
    """The capture cut to begin at the first HTTP/2 request (editcap): no preface, no
    upgrade, the replies naming content-encoding by a table entry it lacks. Both paths'
    card numbers are found and masked, every reply body (gzip, which the capture no longer
    says) replaced whole. Put back behind the packets cut off (mergecap), Wireshark decodes
    every block: the masked paths, and the last one as sent."""
    cap, port = h2c_capture
    head, caught = _cut_at_request(cap, port, 0, tmp_path)
    out = tmp_path / "out.pcapng"
    r = scrub_pcap(caught, out)
    assert r.card_numbers_masked == 2 and r.coded_unread == 3
    spliced = _joined(head, out, tmp_path)
    paths = _h2(spliced, port, "http2.headers.path")
    assert len(paths) == 3 and all(_masked_pan(p) for p in paths[:2]) and paths[2] == "/done"
    assert _h2(spliced, port, "_ws.expert.message") == ["Body decompression failed"] * 3


# gRPC: a CRM's calls to a payment service, the card number in a call's metadata and in
# its gzip'd message, echoed in the reply's.
CHARGE = b'{"note": "' + b"customer asked to pay by card " * 20 + b'4111 1111 1111 1111"}'


@pytest.fixture(scope="module")
def grpc_capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A gRPC server and a client channel (grpcio, gzip both ways, messages as bytes) on
    127.0.0.1: a status call, two charges with the card number in an `x-pan` metadata
    field and in the message, a last status call; captured on loopback."""
    if shutil.which("tshark") is None:
        pytest.fail("tshark missing: run ./dev.sh test, which installs it")
    work = tmp_path_factory.mktemp("grpc")
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=2), compression=grpc.Compression.Gzip
    )
    server.add_generic_rpc_handlers(
        (
            grpc.method_handlers_generic_handler(
                "crm.Pay",
                {
                    "Charge": grpc.unary_unary_rpc_method_handler(lambda m, _: b"paid: " + m),
                    "Status": grpc.unary_unary_rpc_method_handler(lambda m, _: b"ok"),
                },
            ),
        )
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    cap = work / "grpc.pcapng"
    try:
        with _captured_on_loopback(work, f"tcp port {port}", cap):
            target = f"127.0.0.1:{port}"
            with grpc.insecure_channel(target, compression=grpc.Compression.Gzip) as channel:
                status = channel.unary_unary("/crm.Pay/Status")
                charge = channel.unary_unary("/crm.Pay/Charge")
                assert status(b"") == b"ok"
                for _ in range(2):
                    assert charge(CHARGE, metadata=[("x-pan", "5555555555554444")], timeout=10)
                assert status(b"done") == b"ok"
            time.sleep(1)
    finally:
        server.stop(0)
    return cap, port


def _decoded(cap: Path, port: int) -> str:
    """Everything Wireshark decodes of a capture as HTTP/2 and gRPC, hex dumps and the gRPC
    messages it decompresses included."""
    return _tshark("-r", str(cap), "-d", f"tcp.port=={port},http2", "-V", "-x")


def test_grpc_channel_keeps_no_card_number(grpc_capture: tuple[Path, int], tmp_path: Path) -> None:
    """A real gRPC channel scrubbed whole: the metadata's card number (in a header block)
    masked in place, the gzip'd messages that hold one replaced whole, so that nothing
    Wireshark decodes of the result holds either number; and it still decodes every
    header block (the last call's path)."""
    cap, port = grpc_capture
    before = _decoded(cap, port)
    assert "5555555555554444" in before and "4111 1111" in before  # (it decompresses gzip)
    out = tmp_path / "scrubbed.pcapng"
    r = scrub_pcap(cap, out)
    assert r.card_numbers_masked == 2 + 2 + 2 and r.coded_unread == 0
    after = _decoded(out, port)
    assert "5555555555554444" not in after and "4111 1111" not in after
    assert _h2(out, port, "http2.headers.path")[-1] == "/crm.Pay/Status"


def test_grpc_channel_caught_mid_way_keeps_no_card_number(
    grpc_capture: tuple[Path, int], tmp_path: Path
) -> None:
    """The gRPC channel's capture cut to begin at its first charge (the calls name
    content-type, grpc-encoding and the rest by table entries the cut left out): the
    numbers in both charges' metadata and messages and in the replies found (the messages
    read as gzip, gRPC's usual coding); joined back to what was cut off, nothing Wireshark
    decodes holds either number, and every header block decodes."""
    cap, port = grpc_capture
    head, caught = _cut_at_request(cap, port, 1, tmp_path)  # (the second: the first charge)
    out = tmp_path / "out.pcapng"
    r = scrub_pcap(caught, out)
    assert r.card_numbers_masked == 6
    spliced = _joined(head, out, tmp_path)
    after = _decoded(spliced, port)
    assert "5555555555554444" not in after and "4111 1111" not in after
    assert _h2(spliced, port, "http2.headers.path")[-1] == "/crm.Pay/Status"
