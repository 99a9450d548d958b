# SPDX-License-Identifier: Apache-2.0
"""Scrub captures: every RTP stream in a pcap/pcapng file goes through an RtpStreamFilter.

The packet work is C++ (`_core.Capture`, csrc/pcifilter/capture.hpp), with no Python per
packet: libpcap reads the file (classic pcap or pcapng), each frame's UDP datagram is found
(Ethernet with VLAN tags, Linux SLL/SLL2, BSD loopback, raw IPv4/IPv6), SIP messages are marked
(over UDP, fragmented datagrams reassembled; over TCP, each connection's stream is reassembled
from its segments) and RTP datagrams grouped into flows (addresses, ports, SSRC). This module
decides, per flow, what to scrub: streams are found from SDP in the capture's SIP messages
(m=audio port, rtpmap for telephone-event at 8000 or 48000 Hz and opus/48000), else by payload
type on UDP ports given with `rtp_ports`, else by heuristics (RTP v2, one SSRC, at least 3
packets and most of them of G.711, comfort-noise or telephone-event payload types, or most of
them RFC 4733 DTMF events by their form, whatever their payload type); a stream is
taken whole, every payload type of its SSRC (one the filter cannot decode is removed);
telephone-events under an SSRC of their own go with the audio flow they overlap on the same
path. Each flow's packets then run through a filter in one C++ call and every packet out goes
back to the frame it came from (its capture time and headers); telephone-event frames (or, with
telephone_events="replace", their payloads turned into masking audio) and duplicates are
removed, G.711 payloads are masked and Opus packets with masked audio re-encoded, sequence
numbers stay contiguous, and UDP/IP lengths and checksums are made valid. Everything else is
written as it was, in the input's format and link type, except keypresses in SIP bodies (INFO
with application/dtmf-relay or application/dtmf, KPML reports), which are card data as much as
the tones: replaced by 'X', same length (a body sent gzip'd or base64, read decoded and
replaced whole); so are keypresses and SRTP keys in a media relay's control messages and DTMF
logs (rtpengine's ng protocol over UDP, TCP, WebSocket or HTTP: see pcifilter.relay), whose
SDP is read as SIP's is. SRTP streams (an SDP m= line with a SAVP profile) cannot be
scrubbed, their audio being encrypted: their packets are left out of the output (or, with
`keep_srtp`, written as they were), and SRTP keys in SDP (a=crypto inline keys, a=key-mgmt
data) are replaced by 'X', so that the capture alone cannot decrypt what it holds. RTP in IP
fragments cannot go through a stream filter either, and fragments of a datagram the capture
does not hold whole cannot be examined: both are left out (or, with `keep_fragments`, written
as they were). RTP over TCP (RFC 4571, an SDP TCP/RTP/... profile, or TCP on an `rtp_ports`
port) is a byte stream whose packets cannot be taken out: its segments are left out. The
capture is held in memory (its size plus about 56 bytes per frame)."""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import re
import socket
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pcifilter import _core, hep, http2, http_bodies, sip_messages, t140
from pcifilter import websocket as ws
from pcifilter.api import event_record
from pcifilter.gateway import redact_gateway_control, starts_gateway_control
from pcifilter.pbx import redact_pbx_events, starts_pbx_events
from pcifilter.relay import (
    may_be_relay_message,
    redact_relay_message,
    redact_relay_stream,
    redact_syslog_stream,
    starts_ng_message,
    starts_syslog,
)
from pcifilter.stream import RtpStreamFilter


@dataclass
class StreamReport:
    """What happened to one RTP stream (no digits unless asked for)."""

    src: str
    dst: str
    ssrc: int
    packets_in: int
    packets_out: int
    events: list[dict[str, Any]] = field(default_factory=list)
    encrypted: bool = False  # SRTP: not scrubbed (left out, or kept as it was)
    # SSRCs of telephone-events sent beside this stream's audio under SSRCs of their own,
    # scrubbed with it (their packets are counted in packets_in and packets_out)
    event_ssrcs: list[int] = field(default_factory=list)


@dataclass
class UnscrubbedFlow:
    """An RTP-like flow (RTP version 2, one SSRC, 3 packets or more) that no SDP, port or
    payload type made a stream, nor an SDP gives to other media (video): left out of the
    output (written as it was with `keep_unscrubbed_flows`). Audio in it (a codec on a
    payload type no one named: Opus on 111 with no SDP in the capture, G.722 on 9) would
    keep its keypresses: name it with `rtp_ports`, `payload_types` or `opus_pt` to have it
    scrubbed."""

    src: str
    dst: str
    ssrc: int
    packets: int
    payload_types: list[int]  # those it holds, most packets first


@dataclass
class PcapResult:
    frames_in: int
    frames_out: int
    streams: list[StreamReport]
    sip_dtmf_redacted: int = 0  # SIP messages whose DTMF body was redacted
    srtp_keys_redacted: int = 0  # SIP (and relay control) messages whose SRTP keys were redacted
    # IP fragments that could not be scrubbed (RTP, or of no whole datagram): left out, or
    # with keep_fragments written as they were
    fragments_unscrubbed: int = 0
    # TCP segments of RTP over TCP (SDP TCP/RTP/...: a byte stream, not scrubbed): left out
    rtp_over_tcp_segments: int = 0
    # A media relay's control messages and DTMF logs (rtpengine's ng protocol, dtmf-log-dest)
    # whose keypresses were redacted (see pcifilter.relay)
    relay_dtmf_redacted: int = 0
    unscrubbed_flows: list[UnscrubbedFlow] = field(default_factory=list)
    # Keypress values redacted in a PBX's event channels (Asterisk AMI, FreeSWITCH's event
    # socket: see pcifilter.pbx)
    pbx_dtmf_redacted: int = 0
    # Card numbers in clear outside the audio (a payment card's number: 13-19 digits, a
    # scheme's prefix, the Luhn check) replaced by 'X': see Capture.mask_card_numbers
    card_numbers_masked: int = 0
    # A media gateway's control messages whose keypresses were redacted: MGCP and Megaco
    # text (a call agent's and its gateways', see pcifilter.gateway) and H.323's H.245
    # UserInputIndication (see Capture.redact_h245_user_input)
    gateway_dtmf_redacted: int = 0
    # UDP datagrams of IAX2 (Asterisk's inter-exchange protocol, UDP 4569: calls' audio and
    # DTMF frames, which cannot be scrubbed here) left out (none with keep_iax2: written as
    # they were)
    iax2_datagrams: int = 0
    # Frames whose packet lies inside more than two tunnels (GRE in VXLAN in GRE): what they
    # hold (a call, maybe) cannot be scrubbed, so they are left out
    tunnelled_too_deep: int = 0
    # Frames of SIP over SCTP (RFC 4168): their keypresses and SRTP keys are not read, so
    # they are left out
    sip_over_sctp: int = 0
    # Coded bodies (HTTP's, rtpengine's ng over HTTP's, SIP's and their parts'),
    # compressed WebSocket and gRPC messages, and HTTP/2 header blocks and stretches of a
    # connection caught mid-way that could not be read whole (a coding not known, cut by
    # the capture's end or a segment it lost, past a size or decoding budget, begun before
    # the capture), so were replaced by 'X' unread (those holding a card number, key or
    # keypress are counted there): see pcifilter.http_bodies and pcifilter.http2
    coded_unread: int = 0


def _redact_datagrams(
    capture: _core.Capture,
    datagrams: Iterable[tuple[int, bytes]],
    redact: Callable[[bytes, bool], tuple[bytes, bool | str, bool, list[bytes]]],
    redact_dtmf: bool,
    kind: str,
) -> tuple[list[tuple[int, bytes]], Counter[str], int]:
    """Each (frame, payload) of whole UDP datagrams redacted by `redact` (a SIP datagram's,
    hep.redact_datagram, or a relay message's, pcifilter.relay), its payload replaced where it
    changed. Returns what they hold for their SDP (with their frames), how many held
    keypresses (by what they were read as: `kind`, or what `redact` says, as
    hep.redact_datagram does) and how many held keys."""
    held: list[tuple[int, bytes]] = []
    dtmf: Counter[str] = Counter()
    keys = 0
    for frame, payload in datagrams:
        datagram, had_dtmf, had_keys, messages = redact(payload, redact_dtmf)
        held += [(frame, m) for m in messages]
        if had_dtmf:
            dtmf[had_dtmf if isinstance(had_dtmf, str) else kind] += 1
        keys += had_keys
        if datagram != payload:
            capture.replace_payload(frame, datagram)
    return held, dtmf, keys


def _assemble(pieces: list[tuple[int, int, bytes]], start: int = 0) -> bytearray:
    """The bytes that pieces (offset, frame, data) of one stream or datagram hold from
    `start` on; where pieces overlap (retransmissions, duplicates) the first captured wins."""
    out = bytearray(max(off + len(d) for off, _, d in pieces) - start)
    for off, _, d in reversed(pieces):
        out[off - start : off - start + len(d)] = d
    return out


def _put_back(
    capture: _core.Capture, pieces: list[tuple[int, int, bytes]], new: bytearray, start: int = 0
) -> None:
    """Each piece's bytes of `new` (what `_assemble` gave, changed in place) written back
    into its frame where they differ (same length)."""
    for off, frame, d in pieces:
        part = bytes(new[off - start : off - start + len(d)])
        if part != d:
            capture.replace_payload(frame, part)


def _sip_over_tcp(
    capture: _core.Capture, redact_dtmf: bool, mask_cards: bool = True
) -> tuple[set[int], list[tuple[int, bytes]], int, int, int, int, int, int, int]:
    """SIP over TCP (and rtpengine's ng over TCP), reassembled: each connection's segments
    are put back in stream order (by sequence number; a retransmission overlays what it
    repeats), each contiguous run is cut into messages, and each message is redacted as over
    UDP (DTMF bodies unless `redact_dtmf` is False, SRTP keys always; in a run whose start
    was not captured, keys anywhere and, before its first message start, keypresses in any
    body form). A connection of none of those protocols whose segment starts a compressed
    WebSocket message (the capture caught it after its handshake) has its runs read for
    those messages (websocket.redact_caught). Segments holding changed bytes get their
    payloads back with them, same
    length. Returns the segments' frames, the messages as captured (for their SDP: an ng
    message's SDP) with the frame that completed each, and how many SIP messages held
    keypresses, messages held keys, ng messages held keypresses, a media gateway's messages
    (in HEP) held keypresses, how many keypress values
    a PBX's event channels (AMI, ESL, ARI: pcifilter.pbx) held, and how many card numbers
    in clear the connections held (read whole, so one cut across two segments is found;
    a WebSocket's message by message, its frames masked: see _redact_websocket), and how
    many coded HTTP bodies and compressed WebSocket messages were replaced unread."""
    by_connection: dict[int, list[tuple[int, int, bytes]]] = defaultdict(list)
    frames: set[int] = set()
    websocket_frames: set[int] = set()  # segments that start SIP over WebSocket
    for frame, connection, seq, payload, websocket in capture.sip_tcp_segments():
        by_connection[connection].append((frame, seq, payload))
        frames.add(frame)
        if websocket:
            websocket_frames.add(frame)
    messages: list[tuple[int, bytes]] = []
    dtmf = keys = relay_dtmf = gateway_dtmf = pbx_dtmf = cards = unread = 0
    # What the connections' coded bodies and compressed messages may decode to, together
    # (http_bodies.Budget): one each let a capture of many connections, a bomb in each,
    # decode and sweep 64 MiB for every one of them.
    budget = http_bodies.Budget(sum(len(p) for s in by_connection.values() for _, _, p in s))
    for segments in by_connection.values():
        base = segments[0][1]
        # Offsets from the first segment's sequence number, wrap-safe (RFC 9293 arithmetic).
        placed = sorted(
            (((seq - base + 2**31) % 2**32) - 2**31, frame, payload)
            for frame, seq, payload in segments
        )
        runs: list[list[tuple[int, int, bytes]]] = []
        for seg in placed:
            if runs and seg[0] <= runs[-1][-1][0] + len(runs[-1][-1][2]):
                runs[-1].append(seg)
            else:
                runs.append([seg])
        # SIP over WebSocket: a segment starts its handshake or a frame that holds SIP. Its
        # frames are masked when it is a client's (RFC 6455 §5.3).
        streams = [
            (
                run,
                _assemble(run, run[0][0]),
                [off - run[0][0] for off, f, _ in run if f in websocket_frames],
            )
            for run in runs
        ]
        # Where each run's frames begin: read once (it may look back 64 KB for the frames
        # before the first that holds SIP), to find the connection and to redact it. A
        # server's 101 the capture named (its segment whole, so no "maybe" for a handshake
        # cut short): ARI's events, named by the client's request.
        begins = [
            _websocket_start(stream, at, _accepts_ari(run[0], websocket_frames))
            for run, stream, at in streams
        ]
        websocket = any(b is not None for (_, _, at), b in zip(streams, begins, strict=True) if at)
        in_hep = any(p.startswith(b"HEP3") for _, _, p in segments)  # HEP over TCP
        sip = any(sip_messages.START_LINE.match(p.lstrip(b"\r\n")) for _, _, p in segments)
        ng = any(starts_ng_message(p) for _, _, p in segments)  # rtpengine's ng over TCP
        http_ng = any(_HTTP_NG.match(p) for _, _, p in segments)  # ... and over HTTP
        pbx = any(starts_pbx_events(p) for _, _, p in segments)  # AMI, FreeSWITCH's ESL
        syslog = any(starts_syslog(p) for _, _, p in segments)  # a relay's DTMF log
        http = any(http_bodies.START.match(p) for _, _, p in segments)  # its bodies decoded
        # HTTP/2 in clear: from its start, or caught after it (a segment starts its frames),
        # or upgraded from HTTP/1.1 (a run starts so)
        h2c = any(http2.starts_http2(p) or http2.starts_frames(p) for _, _, p in segments)
        h2c = h2c or any(http2.UPGRADE.match(stream) for _, stream, _ in streams)
        # None of those: a segment starts a compressed WebSocket message, of a connection
        # caught after its handshake, maybe (read for its frames below)
        caught = not (websocket or in_hep or sip or ng or http_ng or pbx or syslog or http or h2c)
        sweeps = [_core.mask_srtp_keys] + ([_core.mask_card_numbers] if mask_cards else [])
        masked = any(
            p.startswith(b"GET ") or (len(p) > 1 and p[1] & 0x80)
            for f, _, p in segments
            if f in websocket_frames
        )
        coded_cut = False  # the run before ended inside a coded HTTP body
        deflate_ws: bool | None = None  # a WebSocket with permessage-deflate: a client's?
        for (run, stream, _), begin in zip(streams, begins, strict=True):
            start = run[0][0]
            if websocket:
                ws_redacted, ws_found, ws_dtmf, ws_keys, ng_dtmf, ari, in_clear = _redact_websocket(
                    stream, begin, masked, redact_dtmf, mask_cards
                )
                result = ws_redacted, ws_found, ws_dtmf, ws_keys
                relay_dtmf += ng_dtmf
                pbx_dtmf += ari
                cards += in_clear
            elif in_hep:
                packets = [off - start for off, _, p in run if p.startswith(b"HEP3")]
                hepped, hep_found, hep_dtmf, hep_keys = hep.redact_stream(
                    stream, packets, redact_dtmf
                )
                result = hepped, hep_found, hep_dtmf["sip"], hep_keys
                relay_dtmf += hep_dtmf["relay"]
                gateway_dtmf += hep_dtmf["gateway"]
                pbx_dtmf += hep_dtmf["pbx"]
            elif sip:
                result = sip_messages.redact_stream(stream, redact_dtmf)
            elif http_ng:
                relayed, sdps, had_dtmf, had_keys, n_unread = _redact_http_ng_stream(
                    bytes(stream), redact_dtmf, budget
                )
                result = bytearray(relayed), sdps, 0, had_keys
                relay_dtmf += had_dtmf
                unread += n_unread
            elif ng:
                relayed, sdps, had_dtmf, had_keys = redact_relay_stream(bytes(stream), redact_dtmf)
                result = bytearray(relayed), sdps, 0, had_keys
                relay_dtmf += had_dtmf
            elif pbx:
                events, had_dtmf = redact_pbx_events(bytes(stream), redact_dtmf)
                result = bytearray(events), [], 0, 0
                pbx_dtmf += had_dtmf
            elif syslog:
                lines, had_dtmf = redact_syslog_stream(bytes(stream), redact_dtmf)
                result = bytearray(lines), [], 0, 0
                relay_dtmf += had_dtmf
            elif h2c or caught:  # each run read alone: what came before it is not known
                # HTTP/2 from its start, or from where its frames begin (a run caught after
                # its start or after a lost segment); else a compressed WebSocket caught
                # after its handshake, maybe; else the C++ sweeps' alone
                # (A run that starts with a SETTINGS frame is read as caught too: a server's
                # first frame, or a later one, with entries in its table the capture lacks.)
                data, read = bytes(stream), None
                if h2c and data.startswith(http2.PREFACE):
                    read = http2.redact_http2_stream(data, sweeps, budget)
                elif h2c:
                    read = http2.redact_upgraded(data, sweeps, budget) or http2.redact_caught(
                        data, sweeps, budget
                    )
                if read is None and h2c and http_bodies.START.match(data):  # upgrade refused
                    read = http_bodies.redact_http_stream(data, sweeps, budget=budget)
                if read is None and (read := ws.redact_caught(stream, sweeps, budget)) is None:
                    continue
                frames_out, (read_keys, *read_cards), n_unread = read
                result = frames_out, [], 0, read_keys
                cards += sum(read_cards)
                unread += n_unread
            else:  # HTTP: its bodies de-chunked and decompressed (pcifilter.http_bodies)
                data = bytes(stream)
                parsed = list(http_bodies.messages(data))  # (read once for the three below)
                bodies, (body_keys, *body_cards), n_unread = http_bodies.redact_http_stream(
                    data, sweeps, parsed, budget
                )
                unread += n_unread
                # The rest of a coded body, its beginning lost (or not captured): replaced
                # whole
                caught_in = run is runs[0] and http_bodies.begins_in_coded_body(data, parsed)
                if coded_cut or caught_in:
                    first = http_bodies.START.search(stream)
                    rest = first.start() if first else len(stream)
                    bodies[:rest] = b"X" * rest
                    unread += rest > 0
                coded_cut = http_bodies.ends_in_coded_body(data, parsed)
                upgrade = ws.UPGRADE.match(stream)  # any WebSocket's: its compressed messages
                deflated_found, n_unread = [0] * len(sweeps), 0
                if upgrade:
                    bodies, deflated_found, n_unread = ws.redact_compressed(
                        bodies, upgrade.end(), sweeps, budget=budget
                    )
                    if b"permessage-deflate" in upgrade.group(0).lower():
                        deflate_ws = upgrade.group(0).startswith(b"GET ")  # a client's?
                elif deflate_ws is not None:  # a run after a lost segment of that WebSocket
                    bodies, deflated_found, n_unread = ws.redact_after_loss(
                        bodies, deflate_ws, sweeps, budget=budget
                    )
                unread += n_unread
                body_keys += deflated_found[0]
                body_cards = [a + b for a, b in zip(body_cards, deflated_found[1:], strict=True)]
                result = bodies, [], 0, body_keys
                cards += sum(body_cards)
            redacted, found, had_dtmf, had_keys = result
            if mask_cards and not websocket:  # (a WebSocket's, message by message above)
                # The stream whole: a card number cut across two segments is found too.
                swept, in_clear = _core.mask_card_numbers(bytes(redacted))
                redacted, cards = bytearray(swept), cards + in_clear
            completed_in = _completion(run)
            messages += [(completed_in(end), message) for end, message in found]
            dtmf += had_dtmf
            keys += had_keys
            _put_back(capture, run, redacted, start)
    return frames, messages, dtmf, keys, relay_dtmf, gateway_dtmf, pbx_dtmf, cards, unread


# rtpengine's ng over HTTP: requests to /ng, and requests and replies of its content type.
_HTTP_NG = re.compile(
    rb"(?s)POST /ng |(?:POST |HTTP/1\.)(?:(?!\r\n\r\n).){0,8192}?(?i:x-rtpengine-ng)"
)


def _redact_http_ng_stream(
    stream: bytes, redact_dtmf: bool, budget: http_bodies.Budget | None = None
) -> tuple[bytes, list[tuple[int, bytes]], int, int, int]:
    """A run of rtpengine's ng over HTTP (POST /ng, its replies): cut into HTTP messages by
    their framing (pcifilter.http_bodies: Content-Length or chunked), each body (an ng
    message) redacted as a datagram is; a coded one read decoded and replaced whole when it
    holds a keypress or key, or cannot be read whole (as an HTTP body holding a card
    number). What no message holds (before the first message start: a connection caught
    mid-message; between messages) is read as text. Returns as
    pcifilter.relay.redact_relay_stream does, and how many coded bodies were replaced
    unread. `budget`: the capture's, shared (see _sip_over_tcp), else the stream's own."""
    out = bytearray(stream)
    sdps: list[tuple[int, bytes]] = []
    dtmf = keys = unread = 0
    budget = budget or http_bodies.Budget(len(stream))
    loose, at = [], 0  # what no message holds
    for message in http_bodies.messages(stream):
        loose.append((at, message.at))
        at = message.end
        body = message.body(stream)
        try:
            text = http_bodies.decoded(body, message.codings, budget)
        except http_bodies.UnreadableError:
            text = None
        redacted, had_dtmf, had_keys, held = redact_relay_message(text or b"", redact_dtmf)
        sdps += [(message.end, sdp) for sdp in held]
        dtmf += had_dtmf
        keys += had_keys
        if message.codings and (text is None or redacted != text):
            http_bodies.x_out(out, message.spans)
            unread += text is None and bool(body)
        elif not message.codings:
            http_bodies.put_back(out, message.spans, redacted)
    loose.append((at, len(stream)))
    for a, b in loose:
        if a < b:
            piece, held_sdps, n_dtmf, n_keys = redact_relay_stream(stream[a:b], redact_dtmf)
            out[a:b] = piece
            sdps += [(a + end, sdp) for end, sdp in held_sdps]
            dtmf += n_dtmf
            keys += n_keys
    return bytes(out), sorted(sdps), dtmf, keys, unread


# SIP over WebSocket (RFC 7118; WebRTC clients such as JsSIP send keypresses in SIP INFO):
# each SIP message is one WebSocket message, sent in data frames (RFC 6455 §5.2) whose
# payload a client masks with a key of the frame's own. Read here by hand: WebSocket
# libraries (websockets, wsproto) parse a live connection from its start, not a capture's
# bytes caught at any point, to be changed in place and masked again.
_WS_HANDSHAKE = re.compile(
    rb"(?is)\A(?:GET /ari/events[^\r\n]*|(?:GET |HTTP/1\.1 101)(?:(?!\r\n\r\n).)*?"
    rb"\nsec-websocket-protocol:[^\r\n]*?(?<![\w.-])(?:sip|ng\.rtpengine\.com)(?![\w.-])"
    rb"[^\r\n]*).*?\r\n\r\n"
)
# An ARI event that reports a keypress (Asterisk's events over WebSocket: JSON, "type" first).
_ARI_DTMF = re.compile(rb'\{\s*"type"\s*:\s*"ChannelDtmfReceived"')


def _websocket_start(
    stream: bytes | bytearray, candidates: list[int], accepted: bool = False
) -> tuple[int, bool] | None:
    """Where the frames of a SIP-over-WebSocket stream (or rtpengine's ng over WebSocket, or
    Asterisk's ARI events) begin, and whether a handshake comes first: after its opening
    handshake (or the server's 101 when `accepted`: ARI's names no subprotocol, the client's
    request names the connection), or (a connection caught after it) at the first of
    `candidates` (segments that start a frame holding SIP, an ng message or an ARI
    keypress); None when it shows neither."""
    handshake = _WS_HANDSHAKE.match(stream)
    if handshake:
        return handshake.end(), True
    if accepted:
        return stream.index(b"\r\n\r\n") + 4, True
    for at in sorted(candidates):
        frame = ws.read_frame(stream, at)
        if frame is None or frame[0] & 0x70 or frame[0] & 0x0F not in (1, 2):
            continue
        head = ws.unmasked(stream, frame[1], min(frame[2], 512), frame[3])
        if sip_messages.START_LINE.match(head) or starts_ng_message(head) or _ARI_DTMF.match(head):
            # Frames before it in the same segments: the earliest place whose frames lead
            # to it, one after another.
            return ws.earliest_leading_to(stream, at, 65536), False
    return None


def _accepts_ari(first: tuple[int, int, bytes], websocket_frames: set[int]) -> bool:
    """Whether a run's first segment is a server's 101 whose header block is whole and
    that the capture named WebSocket signalling though it names no subprotocol of note:
    what follows a client's GET /ari/events (Capture.sip_tcp_segments)."""
    _, frame, payload = first
    return (
        frame in websocket_frames and payload.startswith(b"HTTP/1.1 101") and b"\r\n\r\n" in payload
    )


def _redact_websocket(
    stream: bytearray,
    begins: tuple[int, bool] | None,
    masked: bool,
    redact_dtmf: bool,
    mask_cards: bool = True,
) -> tuple[bytearray, list[tuple[int, bytes]], int, int, int, int, int]:
    """A SIP-over-WebSocket stream redacted as SIP over TCP is (see _sip_over_tcp), message
    by message, each unmasked, redacted and masked again with its frames' keys (same
    length); an ng message (rtpengine's ng over WebSocket) as one in a datagram is, and a
    JSON one (Asterisk's ARI events: ChannelDtmfReceived's "digit") as a DTMF log is. Before
    its first frame (a frame whose header was not captured; the whole run when none begins
    in it) the bytes have no header to go by: keypresses in any form and SRTP keys are
    looked for, and when the connection's frames are `masked` (a client's), all of them are
    replaced (their key is unknown). A compressed message
    (permessage-deflate, RSV1) cannot be read or changed in place: its payload is replaced
    whole. `begins`: where its frames begin, as _websocket_start gave it. Returns the stream,
    the messages unmasked (an ng message's SDP) with the offset each ended at (for their
    SDP), and how many SIP messages had keypresses, messages keys, ng messages keypresses,
    JSON (ARI) messages keypresses, and card numbers in clear the messages held (a chat
    typed into a web client: its frames masked, the capture's sweep sees no digits in them;
    unless not `mask_cards`)."""
    redacted = bytearray(stream)
    found: list[tuple[int, bytes]] = []
    dtmf = keys = relay_dtmf = ari_dtmf = cards = 0
    first, handshake = (len(stream), False) if begins is None else begins
    for compressed, frames, at in ws.messages(stream, first):
        places = [(d + i, k[i % 4] if k else 0) for d, n, k in frames for i in range(n)]
        message = bytes(stream[p] ^ m for p, m in places)
        end = places[-1][0] + 1 if places else at
        held = [message]
        if compressed:
            new = b"X" * len(message)
        elif starts_ng_message(message):
            new, had_dtmf, had_keys, held = redact_relay_message(message, redact_dtmf)
            relay_dtmf += had_dtmf
            keys += had_keys
        elif message.lstrip().startswith(b"{"):  # JSON: an ARI event (its "digit")
            new, had_dtmf, _, held = redact_relay_message(message, redact_dtmf)
            ari_dtmf += had_dtmf
        else:  # a message whose first frame was not captured has no headers to go by
            starts = sip_messages.START_LINE.match(message)
            redact = sip_messages.redact if starts else sip_messages.redact_orphan
            new, had_dtmf, had_keys = redact(message, redact_dtmf)
            dtmf += had_dtmf
            keys += had_keys
        if mask_cards and not compressed:
            new, in_clear = _core.mask_card_numbers(new)
            cards += in_clear
        for (p, m), old, b in zip(places, message, new, strict=True):
            if old != b:
                redacted[p] = b ^ m
        found.extend((end, m) for m in held)
    if first > 0 and not handshake:
        orphan, had_dtmf, had_keys = sip_messages.redact_orphan(bytes(stream[:first]), redact_dtmf)
        if masked:
            orphan = b"X" * first  # a client's frame: masked with a key not captured
        dtmf += had_dtmf
        keys += had_keys
        redacted[:first] = orphan
    return redacted, found, dtmf, keys, relay_dtmf, ari_dtmf, cards


def _completion(run: list[tuple[int, int, bytes]]) -> Callable[[int], int]:
    """For a run of TCP segments (stream offset, frame, payload) in stream order: a function
    giving the last frame that holds a byte of the run's stream before offset `end` (from
    the run's start), where a message ending there was complete. The frames' running
    maximum is taken once: taken again for each message, a long connection's thousands of
    messages took time quadratic in its segments (20,000: 16 s)."""
    offsets = [off - run[0][0] for off, _, _ in run]
    latest = list(itertools.accumulate((frame for _, frame, _ in run), max))
    return lambda end: latest[max(bisect.bisect_left(offsets, end) - 1, 0)]


def _datagrams(
    fragments: list[tuple[int, int, bool, bytes]],
) -> Iterator[list[tuple[int, int, bytes]]]:
    """The whole datagrams among one (addresses, identification)'s fragments (frame, offset,
    more, data), each as its fragments [(offset, frame, data)], in capture order. A datagram
    is whole when its fragments cover it from offset 0 to the one without "more fragments"
    with no hole; an identification used again later (IPv4's 16 bits wrap) starts a new
    datagram once the last one was whole or a fragment contradicts it."""
    parts: list[tuple[int, int, bool, bytes]] = []
    # The datagram's bytes so far and which of them are held, so that each fragment is set
    # against them and the datagram checked for holes without going over the fragments
    # before it: going over them took time quadratic in a datagram's fragments (a hostile
    # capture's 20,000 overlapping fragments of one datagram: 50 s).
    image, held = np.zeros(0, np.uint8), np.zeros(0, np.bool_)
    end = -1  # where the first fragment without "more fragments" ends

    def whole() -> bool:
        return end >= 0 and len(held) >= end and bool(held[:end].all())

    def contradicts(off: int, data: bytes) -> bool:
        b = min(off + len(data), len(held))
        if b <= off:
            return False
        new = np.frombuffer(data[: b - off], np.uint8)
        return bool(np.any((image[off:b] != new) & held[off:b]))

    def add(frame: int, off: int, more: bool, data: bytes) -> None:
        nonlocal image, held, end
        parts.append((frame, off, more, data))
        if off + len(data) > len(held):  # grown by doubling: a few copies per datagram
            more_room = max(off + len(data), 2 * len(held)) - len(held)
            image = np.concatenate([image, np.zeros(more_room, np.uint8)])
            held = np.concatenate([held, np.zeros(more_room, np.bool_)])
        fresh = ~held[off : off + len(data)]  # where two overlap, the first captured wins
        image[off : off + len(data)][fresh] = np.frombuffer(data, np.uint8)[fresh]
        held[off : off + len(data)] = True
        if not more and end < 0:
            end = off + len(data)

    for frame, off, more, data in fragments:
        if parts and (contradicts(off, data) or whole()):
            if whole():
                yield [(o, f, d) for f, o, _, d in parts]
            parts = []
            image, held, end = np.zeros(0, np.uint8), np.zeros(0, np.bool_), -1
        add(frame, off, more, data)
    if parts and whole():
        yield [(o, f, d) for f, o, _, d in parts]


@dataclass
class _Datagram:
    """A UDP datagram the capture holds whole in IP fragments (or, with `protocol` 4, 41 or
    47, a tunnel's packet: IP in IP, GRE)."""

    family: int
    src: bytes
    dst: bytes
    parts: list[tuple[int, int, bytes]]  # (offset, frame, data), in capture order
    data: bytearray  # the datagram, UDP header on
    protocol: int = 17

    @property
    def payload(self) -> bytes:
        return bytes(self.data[8:])

    @property
    def ports(self) -> tuple[int, int]:
        return int.from_bytes(self.data[0:2], "big"), int.from_bytes(self.data[2:4], "big")

    @property
    def starts_rtp_v2(self) -> bool:
        """Its payload starts as RTP does (version 2)."""
        return self.payload[:1] != b"" and self.payload[0] >> 6 == 2

    @property
    def is_udp(self) -> bool:
        """A whole UDP datagram (its length field says as much)."""
        ulen = int.from_bytes(self.data[4:6], "big")
        return self.protocol == 17 and len(self.data) >= 8 and ulen == len(self.data)

    @functools.cached_property  # asked for SIP and again for RTP: the match once
    def is_sip(self) -> bool:
        return self.is_udp and (
            bool(sip_messages.START_LINE.match(self.payload.lstrip(b"\r\n")))
            or self.payload.startswith(b"HEP3")
            or hep.sip_offset_v2(self.payload) > 0
        )

    @property
    def is_relay(self) -> bool:
        """A media relay's control message or DTMF log (an ng offer with a large SDP), or a
        media gateway's (MGCP, Megaco text: starts_gateway_control)."""
        return (
            self.is_udp
            and not self.is_sip
            and not self.starts_rtp_v2
            and (may_be_relay_message(self.payload) or starts_gateway_control(self.payload))
        )


def _fragmented_udp(capture: _core.Capture) -> tuple[list[_Datagram], list[int]]:
    """UDP datagrams (and tunnels' packets) in IP fragments: the whole ones, and the frames
    of the fragments that make up no whole datagram (a fragment lost, or never captured)."""
    by_datagram: dict[tuple[int, bytes, bytes, int, int], list[tuple[int, int, bool, bytes]]]
    by_datagram = defaultdict(list)
    for frame, family, src, dst, ident, offset, more, data, proto in capture.udp_fragments():
        by_datagram[(family, src, dst, proto, ident)].append((frame, offset, more, data))
    whole: list[_Datagram] = []
    partial: list[int] = []
    for (family, src, dst, proto, _), fragments in by_datagram.items():
        used: set[int] = set()
        for parts in _datagrams(fragments):
            whole.append(_Datagram(family, src, dst, parts, _assemble(parts), proto))
            used.update(frame for _, frame, _ in parts)
        partial += [frame for frame, *_ in fragments if frame not in used]
    return whole, partial


def _sip_over_udp_fragments(
    capture: _core.Capture, datagrams: list[_Datagram], redact_dtmf: bool, mask_cards: bool
) -> tuple[list[tuple[int, bytes]], Counter[str], int, int]:
    """SIP messages (and media relays' and gateways' control messages: see pcifilter.relay,
    pcifilter.gateway) in fragmented UDP datagrams (an INVITE, or an ng offer, whose SDP does
    not fit one packet), redacted as
    any other (keypresses unless `redact_dtmf` is False, SRTP keys always), and card numbers
    in clear in those and in any other fragmented datagram that is no RTP (a long log line:
    the capture's own sweep reads no fragments) unless not `mask_cards`; the changed bytes
    go back into the fragments that held them (same lengths), and the UDP checksum in the
    first fragment is made valid. Returns the messages' SDPs as captured with the frame of
    their last fragment, how many messages held keypresses (by what they were read as:
    "sip", "relay", "gateway", "pbx"), how many held keys, and how many card numbers were
    masked."""
    messages: list[tuple[int, bytes]] = []
    dtmf: Counter[str] = Counter()
    keys = cards = 0
    for d in datagrams:
        payload = d.payload
        text = (
            d.is_udp
            and not any(port in TUNNEL_PORTS for port in d.ports)  # (left out later)
            and not d.starts_rtp_v2
        )
        if not (d.is_sip or d.is_relay or (mask_cards and text)):
            continue  # RTP (left out later), a tunnel's packet, a datagram not whole
        redacted = payload
        held: list[bytes] = []
        if d.is_sip:
            redacted, read_as, had_keys, held = hep.redact_datagram(payload, redact_dtmf)
            if read_as:
                dtmf[read_as] += 1
            keys += had_keys
        elif d.is_relay and starts_gateway_control(payload):
            redacted, had_dtmf, had_keys, held = redact_gateway_control(payload, redact_dtmf)
            dtmf["gateway"] += had_dtmf
            keys += had_keys
        elif d.is_relay:
            redacted, had_dtmf, had_keys, held = redact_relay_message(payload, redact_dtmf)
            dtmf["relay"] += had_dtmf
            keys += had_keys
        if text:  # SRTP keys in any SDP text (a log line quoting one), as the capture's
            # own sweep does for whole datagrams (Capture.redact_srtp_keys)
            redacted, quoted = _core.mask_srtp_keys(redacted)
            keys += quoted > 0
        if mask_cards and text:
            redacted, in_clear = _core.mask_card_numbers(redacted)
            cards += in_clear
        messages += [(max(frame for _, frame, _ in d.parts), message) for message in held]
        if redacted == payload:
            continue
        new = bytearray(d.data[:8] + redacted)
        if d.family == 6 or d.data[6:8] != b"\0\0":  # IPv4 may send no checksum
            new[6:8] = _core.udp_checksum(d.src, d.dst, bytes(new)).to_bytes(2, "big")
        _put_back(capture, d.parts, new)
    return messages, dtmf, keys, cards


# IAX2's port (IANA): calls' audio and DTMF in frames of its own (RFC 5456).
IAX2_PORT = 4569
# RFC 3551's static payload types of G.711: audio whatever an SDP says of the port.
STATIC_G711 = (0, 8)
# VXLAN (RFC 7348; 8472: Linux's default), VXLAN-GPE, Geneve (RFC 8926) and GTP-U: the
# capture reads calls inside them (and inside IP in IP and GRE), but not inside one cut into
# IP fragments (csrc/pcifilter/capture.cpp, udp_tunnel_ip).
TUNNEL_PORTS = (4789, 8472, 4790, 6081, 2152)


def _could_be_rtp(d: _Datagram, ports: set[int], pts: set[int], other_ports: set[int]) -> bool:
    """RTP version 2 on a port that carries RTP (SDP, `rtp_ports`, a stream found) or with a
    payload type a scrubbed stream may use (on a port the SDP gives other media, a static
    audio type only: see `_mostly_of`), or a tunnel's packet: in fragments it cannot go
    through a stream filter (which takes whole packets in order), so it is left out rather
    than written unscrubbed."""
    if d.protocol != 17 or any(port in (*TUNNEL_PORTS, IAX2_PORT) for port in d.ports):
        return True  # a tunnel's packet, cut into fragments: a call may be inside (or IAX2)
    p = d.payload
    if d.is_sip or len(p) < 12 or not d.starts_rtp_v2:
        return False
    if any(port in ports for port in d.ports):
        return True
    if any(port in other_ports for port in d.ports):
        return p[1] & 0x7F in STATIC_G711
    return p[1] & 0x7F in pts


def _mostly_of(counts: Sequence[int], pts: Iterable[int], packets: int) -> bool:
    """Whether a flow of `packets` frames (`counts`: frames per payload type) is a stream of
    those payload types: three frames of them at least, and half of the flow. A flow not
    listed by SDP or `rtp_ports` is taken for RTP only so: other UDP traffic that happens to
    parse as RTP has its payload types scattered. On a port the SDP gives video (or other
    media than audio), the types are G.711's only: dynamic payload types are numbered per
    media line, so the video's may be the audio line's Opus or telephone-event number (taken
    for audio, a video flow went through an Opus filter and all of it was dropped); G.711's
    static types are audio wherever they are."""
    of = sum(counts[pt] for pt in pts)
    return of >= 3 and 2 * of >= packets


def _event_pt(flow: _core.CaptureFlow) -> int | None:
    """The payload type of a flow that reads as telephone-events by its packets (RFC 4733:
    most of them 4-byte DTMF events continuing the one before, see CaptureFlow.event_like),
    whatever its number says: a capture without the SDP that declares it (SIP over TLS)
    holds events under an SSRC of their own, on a payload type no one named, as another
    flow; written as it was before, keypresses on."""
    counts = flow.payload_types
    pt = max(range(128), key=counts.__getitem__)
    frames = counts[pt]
    if pt < 35 or frames < 3 or 2 * frames < len(flow) or 2 * flow.event_like < frames:
        return None  # static audio types (RFC 3551) are never events
    return pt


@dataclass
class _SdpStream:
    address: str | None
    port: int
    te_pt: int | None = None  # telephone-event/8000 (or another rate but 48000)
    te_48000_pt: int | None = None  # telephone-event/48000 (beside Opus, RFC 7587)
    opus_pts: tuple[int, ...] = ()  # opus/48000 (an SDP may list it under two numbers)
    srtp: bool = False  # a SAVP profile (RTP/SAVP, RTP/SAVPF, UDP/TLS/RTP/SAVP...)
    tcp: bool = False  # RTP over TCP (RFC 4571: TCP/RTP/AVP, TCP/TLS/RTP/SAVP...)


def _sdp_streams(text: str) -> tuple[list[_SdpStream], set[int]]:
    """Each m=audio in a SIP message's SDP (`text`: the message as sip_messages.readable
    gives it), and the ports of its other media lines (video, application, ...). Read line
    by line (not with pcifilter.sdp): a capture's SIP bodies may be cut short."""
    out: list[_SdpStream] = []
    others: set[int] = set()
    session_addr = None
    media: _SdpStream | None = None
    for line in text.replace("\r", "").split("\n"):
        if line.startswith("c=") and len(line.split()) >= 3:
            addr = line.split()[2].split("/")[0]
            if media is None:
                session_addr = addr
            else:
                media.address = addr
        elif line.startswith("m="):
            if media is not None:
                out.append(media)
            parts = line[2:].split()
            proto = parts[2].upper() if len(parts) > 2 else ""
            if parts and parts[0] != "audio" and len(parts) > 1 and parts[1].isdigit():
                others.add(int(parts[1]))
            media = (
                _SdpStream(
                    session_addr,
                    int(parts[1]),
                    srtp="SAVP" in proto,
                    tcp=proto.startswith("TCP/"),
                )
                if parts[0] == "audio" and len(parts) > 1 and parts[1].isdigit()
                else None
            )
        elif line.startswith("a=rtpmap:") and media is not None:
            pt, _, name = line[len("a=rtpmap:") :].partition(" ")
            if not pt.isdigit():
                continue
            if name.lower().startswith("telephone-event/48000"):
                media.te_48000_pt = int(pt)
            elif "telephone-event" in name.lower():
                media.te_pt = int(pt)
            elif name.lower().startswith("opus/48000"):
                media.opus_pts += (int(pt),)
    if media is not None:
        out.append(media)
    return out, others


def scrub_pcap(
    src: str | Path,
    dst: str | Path,
    rtp_ports: Iterable[int] = (),
    payload_types: Iterable[int] = (),
    telephone_event_pt: int = 101,
    opus_pt: int | None = None,
    reveal_digits: bool = False,
    redact_sip_dtmf: bool = True,
    keep_srtp: bool = False,
    keep_fragments: bool = False,
    mask_card_numbers: bool = True,
    keep_unscrubbed_flows: bool = False,
    keep_iax2: bool = False,
    **options: Any,
) -> PcapResult:
    """Scrub every RTP stream of `src` into `dst` (same format and link type). SIP messages
    that carry keypresses in their body (INFO with application/dtmf-relay or application/dtmf,
    KPML reports), a media relay's ng messages and DTMF logs (pcifilter.relay) and a PBX's
    event channels (pcifilter.pbx) have them replaced by 'X' unless `redact_sip_dtmf` is
    False. SRTP streams
    (declared so in the SDP) cannot be scrubbed: their packets are left out unless
    `keep_srtp`; the SDP's SRTP keys are always replaced by 'X'. RTP in IP fragments, and
    fragments of datagrams the capture does not hold whole, cannot be scrubbed either: they
    are left out unless `keep_fragments`; so are the segments of RTP over TCP (RFC 4571).
    Streams no SDP in the capture describes are G.711 with telephone-events as
    `telephone_event_pt`, or Opus as `opus_pt` (with telephone-events at 48 kHz). RTP-like
    flows not taken for audio (3 packets or more) are listed in the result
    (`unscrubbed_flows`) and left out unless `keep_unscrubbed_flows`; so is IAX2 (a
    protocol whose calls cannot be scrubbed here) unless `keep_iax2`. Card numbers
    in clear anywhere else (an application's data, a log line, a chat; `mask_card_numbers`,
    on by default: 13-19 digits with a card scheme's prefix and the Luhn check) are
    replaced by 'X' as well."""
    ports = set(rtp_ports)
    extra_pts = set(payload_types) | ({opus_pt} if opus_pt is not None else set())
    if not all(0 <= pt <= 127 for pt in {telephone_event_pt, *extra_pts}):
        raise ValueError("RTP payload types are within [0, 127]")
    with open(src, "rb"):  # a missing or unreadable file is an OSError, as for any file
        pass
    capture = _core.Capture(str(src))  # ValueError: not a capture, truncated, unknown link
    # SDP first: which ports carry RTP, and their telephone-event and Opus payload types.
    # SIP over TCP is reassembled and redacted first (its segments are handled there).
    tcp = _sip_over_tcp(capture, redact_sip_dtmf, mask_card_numbers)
    (
        tcp_frames,
        tcp_messages,
        redacted,
        keys_redacted,
        relay_dtmf,
        gateway_dtmf,
        pbx_dtmf,
        ws_cards,
        unread,
    ) = tcp
    fragmented, partial = _fragmented_udp(capture)
    frag_messages, frag_dtmf, frag_keys, frag_cards = _sip_over_udp_fragments(
        capture, fragmented, redact_sip_dtmf, mask_card_numbers
    )
    keys_redacted += frag_keys
    sip = [(frame, payload) for frame, payload in capture.sip_messages() if frame not in tcp_frames]
    # SIP over UDP (and in HEP) redacted; the messages as captured kept, for their SDP (HEP
    # unwrapped). A media relay's control messages (rtpengine's ng protocol: SDP with its
    # SRTP keys, DTMF it plays or reports) and DTMF logs likewise.
    held, sip_dtmf, sip_keys = _redact_datagrams(
        capture, sip, hep.redact_datagram, redact_sip_dtmf, "sip"
    )
    # And a media gateway's (MGCP, Megaco: keypresses the gateway reports or is told to
    # play, the call's SDP).
    relay: list[tuple[int, bytes]] = []
    gateway: list[tuple[int, bytes]] = []
    for message in capture.relay_messages():
        (gateway if starts_gateway_control(message[1]) else relay).append(message)
    relay_held, udp_relay_dtmf, relay_keys = _redact_datagrams(
        capture, relay, redact_relay_message, redact_sip_dtmf, "relay"
    )
    gateway_held, udp_gateway_dtmf, gateway_keys = _redact_datagrams(
        capture, gateway, redact_gateway_control, redact_sip_dtmf, "gateway"
    )
    held += relay_held + gateway_held
    # Keypresses by what they were read as (in HEP: what the message it carries is).
    read_as = frag_dtmf + sip_dtmf + udp_relay_dtmf + udp_gateway_dtmf
    redacted += read_as["sip"]
    relay_dtmf += read_as["relay"]
    gateway_dtmf += read_as["gateway"]
    pbx_dtmf += read_as["pbx"]
    keys_redacted += sip_keys + relay_keys + gateway_keys
    # Each port's m=audio lines in capture order: a long capture from a media relay reuses
    # its ports call after call, so a flow is read with the line given for its port last
    # before it began (or the first after, an SDP captured late). With the last line of
    # the capture for every flow, an Opus call's packets went through the G.711 filter of
    # a later call on its port, and were dropped whole.
    sdp_lines: list[tuple[int, _SdpStream]] = []
    other_ports: set[int] = set()  # the SDP's video (and other media) ports
    text_ports: dict[int, tuple[set[int], set[int]]] = {}  # m=text: real-time text
    for frame, payload in sorted(held + tcp_messages + frag_messages, key=lambda m: m[0]):
        readable, n_unread = sip_messages.readable(payload)  # coded bodies decoded, once
        text = readable.decode("latin-1", "replace")
        unread += n_unread
        lines, others = _sdp_streams(text)
        sdp_lines += [(frame, m) for m in lines]
        other_ports |= others
        for port, (t140_pts, red_pts) in t140.text_streams(text).items():
            text_ports.setdefault(port, (set(), set()))
            text_ports[port][0].update(t140_pts)
            text_ports[port][1].update(red_pts)
    by_port: dict[int, tuple[list[int], list[_SdpStream]]] = defaultdict(lambda: ([], []))
    for frame, m in sdp_lines:
        by_port[m.port][0].append(frame)
        by_port[m.port][1].append(m)
    sdp_ports = set(by_port)
    other_ports -= sdp_ports | ports  # listed for audio anywhere: audio

    def sdp_at(port: int, frame: int) -> _SdpStream | None:
        if port not in by_port:
            return None
        frames, lines = by_port[port]
        return lines[max(bisect.bisect_right(frames, frame) - 1, 0)]

    te_pts = {telephone_event_pt} | {
        pt for _, m in sdp_lines for pt in (m.te_pt, m.te_48000_pt) if pt is not None
    }
    opus_pts = {pt for _, m in sdp_lines for pt in m.opus_pts}
    known_pts = {0, 8, 13} | te_pts | opus_pts | extra_pts
    flows: list[tuple[int, tuple[Any, ...], list[int]]] = []
    # (flow index, (src, sport, dst, dport, ssrc), frames per payload type)
    capture_flows = capture.flows()
    event_pts = {i: pt for i, f in enumerate(capture_flows) if (pt := _event_pt(f)) is not None}
    not_taken: list[UnscrubbedFlow] = []  # RTP-like flows no one named: left out
    # IAX2 (Asterisk's inter-exchange protocol) carries calls in frames of its own: its
    # audio and DTMF frames cannot go through a stream filter, so they are never taken for
    # RTP (a full frame may look like it), and are left out (below) unless kept.
    iax2_ports = set() if keep_iax2 else {IAX2_PORT}
    for i, flow in enumerate(capture_flows):
        if IAX2_PORT in (flow.sport, flow.dport):
            continue
        listed = any(p in sdp_ports or p in ports for p in (flow.sport, flow.dport))
        counts = flow.payload_types
        # A stream found so is taken whole, every payload type of its SSRC: a telephone-event
        # or codec type the capture did not declare is then removed by the filter, never
        # written as it was.
        on_other = any(p in other_ports for p in (flow.sport, flow.dport))
        af = socket.AF_INET if flow.family == 4 else socket.AF_INET6
        src_addr, dst_addr = socket.inet_ntop(af, flow.src), socket.inet_ntop(af, flow.dst)
        if (
            not listed
            and i not in event_pts
            and not _mostly_of(counts, STATIC_G711 if on_other else known_pts, len(flow))
        ):
            # On a port an SDP gives other media (video): passes as it was. Else audio in a
            # codec no one named (Opus with its SDP over TLS, G.722) would keep its
            # keypresses: what cannot be scrubbed is not written, unless asked for.
            if len(flow) >= 3 and not on_other:
                if not keep_unscrubbed_flows:
                    capture.leave_out(i)
                in_it = sorted((pt for pt in range(128) if counts[pt]), key=lambda pt: -counts[pt])
                not_taken.append(
                    UnscrubbedFlow(
                        f"{src_addr}:{flow.sport}",
                        f"{dst_addr}:{flow.dport}",
                        flow.ssrc,
                        len(flow),
                        in_it,
                    )
                )
            continue
        key = (src_addr, flow.sport, dst_addr, flow.dport, flow.ssrc)
        flows.append((i, key, counts))
    # G.711 types seen on each path: a flow of telephone-events only (its own SSRC) gets
    # replacement audio ("replace") in the codec the path carries.
    path_audio: dict[tuple[Any, ...], set[int]] = defaultdict(set)
    for _, key, counts in flows:
        path_audio[key[:4]] |= {pt for pt in (0, 8) if counts[pt]}
    # A path whose SSRC changes (a media server switching sources) holds flows one after
    # another: a keypress cut by the switch may leave parts too short for the detector at a
    # flow's end and the next one's start, one keypress to a listener. Each flow is scrubbed
    # by a filter of its own, so those ends are masked (40 ms) as a filter masks a restart.
    spans = {i: (capture_flows[i].first_frame, capture_flows[i].last_frame) for i, _, _ in flows}
    on_path: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, key, _ in flows:
        on_path[key[:4]].append(i)
    # Per path, the earliest end and the latest start of its flows: a flow came before this
    # one, or comes after it (in linear time: a hostile capture may hold many thousands of
    # SSRCs on one path).
    first_end = {p: min(spans[j][1] for j in js) for p, js in on_path.items()}
    last_start = {p: max(spans[j][0] for j in js) for p, js in on_path.items()}
    guards = {
        i: (first_end[key[:4]] < spans[i][0], last_start[key[:4]] > spans[i][1])
        for i, key, _ in flows
    }

    # Telephone-events under an SSRC of their own beside a stream's audio (rtpengine issue
    # 1569 shows such a sender) go through the audio's filter: they are its keypresses, and
    # the filter masks the audio where they are (in-band onsets a gateway leaves before
    # them). Taken when one audio flow of the path overlaps them; else scrubbed alone, as
    # on a path of more flows than a call has SSRCs (the search is quadratic).
    def events_of(i: int) -> set[int]:  # the payload types that are telephone-events in it
        return te_pts | ({event_pts[i]} if i in event_pts else set())

    events_only = {
        i
        for i, _, counts in flows
        if any(counts[pt] for pt in events_of(i))
        and sum(counts) == sum(counts[pt] for pt in events_of(i))
    }
    beside: dict[int, list[int]] = defaultdict(list)
    for i, key, _ in flows:
        path = on_path[key[:4]]
        if i not in events_only or len(path) > 64:
            continue
        audio = [
            j
            for j in path
            if j not in events_only and spans[j][0] <= spans[i][1] and spans[i][0] <= spans[j][1]
        ]
        if len(audio) == 1:
            beside[audio[0]].append(i)
    taken = {i for side in beside.values() for i in side}
    reports: list[StreamReport] = []
    for i, key, counts in flows:
        if i in taken:
            continue
        first = capture_flows[i].first_frame
        found = (sdp_at(p, first) for p in (key[1], key[3]))
        from_sdp = [line for line in found if line is not None]
        encrypted = any(m.srtp for m in from_sdp)
        events: list[dict[str, Any]] = []
        if encrypted:
            # SRTP: encrypted audio, nothing to scrub. Left out (a filter that knows no
            # payload type drops every packet), or kept as it was.
            packets_in = packets_out = sum(
                sum(capture_flows[j].payload_types) for j in [i, *beside[i]]
            )
            if not keep_srtp:
                drop_all = RtpStreamFilter(telephone_event_pt=-1, pcmu_pt=-1, pcma_pt=-1, cn_pt=-1)
                packets_in, packets_out = capture.scrub([i, *beside[i]], drop_all.core)
        else:
            te_8000 = next((m.te_pt for m in from_sdp if m.te_pt is not None), None)
            te_48000 = next((m.te_48000_pt for m in from_sdp if m.te_48000_pt is not None), None)
            # No SDP names its events: those its packets show (its own, or beside it).
            shown = [event_pts[j] for j in [i, *beside[i]] if j in event_pts]
            default_te = shown[0] if shown else telephone_event_pt
            te = next((pt for pt in (te_8000, te_48000) if pt is not None), default_te)
            opus = next((m.opus_pts for m in from_sdp if m.opus_pts), ())
            if not from_sdp and opus_pt is not None:  # no SDP for it: Opus if so told
                opus = (opus_pt,)
            if any(counts[pt] for pt in opus):
                # Its telephone-events at 48 kHz (RFC 7587), or at 8 kHz as some declare them.
                if te_8000 is None and te_48000 is None:
                    te_48000 = default_te
                # G.711 in the flow as well (a sender that switched codec, as an answer that
                # lists both lets it): a filter of both families follows it, where Opus is
                # decoded at 8 kHz; else those packets are dropped as of an unknown type.
                both = options.get("decode_rate", 8000) == 8000
                filt = RtpStreamFilter(
                    telephone_event_pt=-1 if te_48000 is None else te_48000,
                    telephone_event_8000_pt=-1 if te_8000 is None else te_8000,
                    opus_pt=opus,  # each number its SDP gives Opus
                    pcmu_pt=0 if both and counts[0] else None,
                    pcma_pt=8 if both and counts[8] else None,
                    **options,
                )
            else:
                pcmu = -1 if path_audio[key[:4]] == {8} else 0
                filt = RtpStreamFilter(telephone_event_pt=te, pcmu_pt=pcmu, **options)
            filt.core.guard_ends(*guards[i])
            packets_in, packets_out = capture.scrub([i, *beside[i]], filt.core)
            events = [event_record(e, reveal_digits) for e in filt.take_events()]
        src_s, dst_s = f"{key[0]}:{key[1]}", f"{key[2]}:{key[3]}"
        side_ssrcs = [capture_flows[j].ssrc for j in beside[i]]
        reports.append(
            StreamReport(
                src_s, dst_s, key[4], packets_in, packets_out, events, encrypted, side_ssrcs
            )
        )
    # Fragmented UDP: SIP was redacted above; RTP cannot go through a stream filter (it
    # takes whole packets, in order), and what a lost fragment leaves cannot be examined at
    # all (it may be G.711 audio): left out, counted, as SRTP is.
    media_ports = set(sdp_ports) | ports | {p for _, key, _ in flows for p in (key[1], key[3])}
    unscrubbed = partial + [
        frame
        for d in fragmented
        if _could_be_rtp(d, media_ports, known_pts, other_ports - media_ports)
        for _, frame, _ in d.parts
    ]
    if not keep_fragments:
        for frame in unscrubbed:
            capture.remove_fragment(frame)
    # RTP over TCP (RFC 4571): packets in a byte stream cannot be taken out or shortened
    # without rewriting every later sequence number, so it is not scrubbed: left out. Port 9
    # is the discard port an active (connecting) end declares.
    tcp_ports = {m.port for _, m in sdp_lines if m.tcp and m.port not in (0, 9)} | ports
    on_tcp = sum(capture.remove_tcp_port(p) for p in sorted(tcp_ports))
    iax2 = sum(capture.remove_udp_port(p) for p in sorted(iax2_ports))
    # Last, over what is to be written, in C++ in one pass over every TCP connection's streams
    # (and non-RTP datagrams): H.323's keypresses (H.245 UserInputIndication: a gateway's
    # "h245-alphanumeric" or "h245-signal" DTMF relay) and a PBX event channel's keypress
    # values (a connection caught mid-stream, or none of whose segments starts a message, is
    # not read above); SRTP keys always, wherever SDP text is (in messages not recognised
    # above: an ng connection caught mid-stream, a log line that quotes an SDP); card numbers
    # in clear outside the audio.
    h245, pbx_values, quoted_keys, in_clear = capture.redact_text(
        redact_sip_dtmf, mask_card_numbers
    )
    gateway_dtmf += h245
    pbx_dtmf += pbx_values
    keys_redacted += quoted_keys
    # Real-time text (RFC 4103) on an SDP's m=text ports: a card number typed there goes a
    # keystroke a packet (pcifilter.t140); RTP flows, which the sweeps above skip.
    typed_cards = 0
    for flow in capture_flows if mask_card_numbers and text_ports else []:
        text_port = next((p for p in (flow.dport, flow.sport) if p in text_ports), None)
        if text_port is None:
            continue
        sent = [(f, capture.udp_payload(f)) for f in flow.frames]
        changed, typed = t140.mask_typed_cards(
            sent, *text_ports[text_port], _core.mask_card_numbers
        )
        for f, new_payload in changed.items():
            capture.replace_payload(f, new_payload)
        typed_cards += typed
    cards = ws_cards + frag_cards + in_clear + typed_cards
    try:
        written = capture.write(str(dst))
    except RuntimeError:
        if Path(dst).is_file():  # never leave half a capture behind (a device or pipe stays)
            Path(dst).unlink()
        raise
    return PcapResult(
        len(capture),
        written,
        reports,
        redacted,
        keys_redacted,
        len(unscrubbed),
        on_tcp,
        relay_dtmf,
        not_taken,
        pbx_dtmf,
        cards,
        gateway_dtmf_redacted=gateway_dtmf,
        iax2_datagrams=iax2,
        tunnelled_too_deep=capture.too_deep,
        sip_over_sctp=capture.sip_over_sctp,
        coded_unread=unread,
    )


def events_jsonl(result: PcapResult) -> str:
    """JSON lines: one per event, with its stream."""
    lines = [
        json.dumps({"stream": f"{r.src}->{r.dst}", "ssrc": r.ssrc, **e})
        for r in result.streams
        for e in r.events
    ]
    return "\n".join(lines) + ("\n" if lines else "")
