# SPDX-License-Identifier: Apache-2.0
"""SIP inside HEP (Homer's encapsulation), redacted as pcifilter.sip_messages redacts SIP:
HEP3 packets (their message chunk, plain or compressed) and HEP versions 1 and 2, in UDP
datagrams or one after another in a TCP stream. What else HEP carries is redacted as what
it is: a media relay's ng messages (rtpengine mirrors them to Homer) and DTMF logs as
pcifilter.relay redacts them, a media gateway's as pcifilter.gateway does, and a PBX's
event text's keypress forms (pcifilter.pbx) in any message that is not SIP."""

from __future__ import annotations

import struct
from collections import Counter

from pcifilter import _core, pbx, sip_messages
from pcifilter.gateway import redact_gateway_control, starts_gateway_control
from pcifilter.relay import may_be_relay_message, redact_relay_message

# HEP (Homer's encapsulation): SBCs, proxies and media relays (Kamailio siptrace, OpenSIPS
# proto_hep, FreeSWITCH, Asterisk res_hep, rtpengine, captagent, heplify) send copies of the
# SIP they see to a Homer collector, a capture of whose traffic holds each message again: a
# HEP3 packet is "HEP3", its length, and chunks (vendor, type, length, value), the message
# in chunk 15 (16: compressed with zlib), its protocol in chunk 11. Hand-read: no maintained
# Python package parses HEP, and the chunks are a few lines.
_HEP_PROTOCOL, _HEP_PAYLOAD, _HEP_COMPRESSED = 11, 15, 16
_HEP_RTP = 4  # protocol 1 is SIP, 5 RTCP


def _chunks(packet: bytes) -> list[tuple[int, int, int]] | None:
    """(type, offset, length) of the value of each standard chunk (vendor 0) of a HEP3
    packet; None when it is not one or is malformed."""
    if len(packet) < 6 or not packet.startswith(b"HEP3"):
        return None
    total = int.from_bytes(packet[4:6], "big")
    if not 6 <= total <= len(packet):
        return None
    chunks, at = [], 6
    while at + 6 <= total:
        vendor, kind, length = struct.unpack_from("!HHH", packet, at)
        if length < 6 or at + length > total:
            return None
        if vendor == 0:
            chunks.append((kind, at + 6, length - 6))
        at += length
    return chunks


def sip_offset_v2(packet: bytes) -> int:
    """Where a SIP message starts in a HEP version 1 or 2 packet (Kamailio siptrace's default:
    version, header length 16 or 40 with the address family, protocol, ports, addresses;
    version 2 then a 12-byte time header), else 0."""
    if (
        len(packet) < 16
        or packet[0] not in (1, 2)
        or (packet[1], packet[2]) not in ((16, 2), (40, 10))
    ):
        return 0
    at = packet[1] + (12 if packet[0] == 2 else 0)
    # (START_LINE.match(packet, at) would not do: its ^ wants a line's start there)
    return at if sip_messages.START_LINE.match(packet[at:]) else 0


def _redact_message(message: bytes, redact_dtmf: bool) -> tuple[bytes, str, bool, list[bytes]]:
    """A message HEP carries, redacted as what it is (same length), what it held keypresses
    as ("sip", "relay", "gateway", "pbx"; "" none), whether keys were in it, and what it
    holds for its SDP. rtpengine mirrors its ng traffic to
    Homer (--homer-enable-ng; HEP protocol 0x3d by default): "play DTMF" codes and the SDP
    with its SRTP keys, in the relay's own encoding; a Homer log (protocol 100) may hold a
    relay's DTMF log or a PBX's events. Before, all of it was read as SIP only: a played
    code or a logged digit passed (and, compressed, so did a key)."""
    if sip_messages.START_LINE.match(message):
        redacted, dtmf, keys = sip_messages.redact(message, redact_dtmf)  # (JSON in it too)
        return redacted, "sip" if dtmf else "", keys, [message]
    if may_be_relay_message(message):
        redacted, dtmf, keys, held = redact_relay_message(message, redact_dtmf)
        return redacted, "relay" if dtmf else "", keys, held
    if starts_gateway_control(message):
        redacted, dtmf, keys, held = redact_gateway_control(message, redact_dtmf)
        return redacted, "gateway" if dtmf else "", keys, held
    redacted, dtmf, keys = sip_messages.redact(message, redact_dtmf)
    redacted, found = pbx.redact_pbx_events(redacted, redact_dtmf)  # a log's text
    return redacted, "sip" if dtmf else "pbx" if found else "", keys, [message]


def redact_datagram(payload: bytes, redact_dtmf: bool) -> tuple[bytes, str, bool, list[bytes]]:
    """A UDP datagram that holds SIP, redacted (see sip_messages.redact): a SIP message, or
    the one a HEP packet holds, redacted in place (same length). A HEP3 packet that carries RTP
    (audio, which cannot be scrubbed out of its stream here), compressed or not, has it
    replaced whole, and so has a compressed message that holds a keypress, a key or a card
    number, or that cannot be read (or decodes past its bound). Each message is redacted as
    what it is (_redact_message). Returns the datagram, what its keypresses were read as
    ("sip", "relay", "gateway", "pbx": the first message's that held any; "" none), whether
    keys were in it, and the messages it holds (for their SDP)."""
    chunks = _chunks(payload)
    if chunks is None:
        at = sip_offset_v2(payload)  # 0: the datagram is the message
        redacted, had_dtmf, had_keys = sip_messages.redact(payload[at:], redact_dtmf)
        return payload[:at] + redacted, "sip" if had_dtmf else "", had_keys, [payload[at:]]
    protocol = next((payload[at] for kind, at, n in chunks if kind == _HEP_PROTOCOL and n), None)
    out, messages = bytearray(payload), []
    dtmf, keys = "", False
    for kind, at, n in chunks:
        value = payload[at : at + n]
        if kind in (_HEP_PAYLOAD, _HEP_COMPRESSED) and protocol == _HEP_RTP:
            out[at : at + n] = b"X" * n  # audio, compressed or not: a keypress's tones
            continue
        if kind == _HEP_PAYLOAD:
            message = value
        elif kind == _HEP_COMPRESSED:
            inflated = sip_messages.inflated(value, 15, sip_messages.decoded_limit(value))
            if inflated is None:  # cannot be read (or a bomb): what it holds is unknown
                out[at : at + n] = b"X" * n
                continue
            message = inflated
        else:
            continue
        redacted, read_as, had_keys, held = _redact_message(message, redact_dtmf)
        messages += held
        dtmf, keys = dtmf or read_as, keys or had_keys
        if kind == _HEP_PAYLOAD:
            out[at : at + n] = redacted
            continue
        # Compressed: what the capture's sweeps would find in it in clear (a card number, an
        # SRTP key in a form SIP's redaction does not read: a bare SDP) is found here, as
        # they see only zlib's bytes.
        key_in_clear = _core.mask_srtp_keys(message)[1] > 0
        keys = keys or key_in_clear
        if redacted != message or key_in_clear or _core.mask_card_numbers(message)[1]:
            out[at : at + n] = b"X" * n
    return bytes(out), dtmf, keys, messages


def redact_stream(
    stream: bytearray, candidates: list[int], redact_dtmf: bool
) -> tuple[bytearray, list[tuple[int, bytes]], Counter[str], int]:
    """HEP3 packets one after another in a TCP stream (heplify and captagent send HEP over
    TCP too), each redacted in place as one in a datagram is (redact_datagram), from each
    of `candidates` (segments that start a HEP3 packet) on while their lengths chain. The
    bytes no packet holds (the tail of one whose start was not captured, one cut by the
    capture's end) are redacted as SIP with no headers to go by. Returns the stream, the SIP
    messages with the offset each ended at (for their SDP), how many had keypresses (by what
    they were read as, redact_datagram) and how many keys."""
    redacted = bytearray(stream)
    found: list[tuple[int, bytes]] = []
    dtmf: Counter[str] = Counter()
    keys = 0
    loose: list[tuple[int, int]] = []  # what no packet holds
    at = 0
    for candidate in sorted(candidates):
        if candidate < at:
            continue  # inside a packet read already
        loose.append((at, candidate))
        at = candidate
        while stream.startswith(b"HEP3", at) and at + 6 <= len(stream):
            total = int.from_bytes(stream[at + 4 : at + 6], "big")
            if total < 6 or at + total > len(stream):
                break
            packet = bytes(stream[at : at + total])
            new, read_as, had_keys, held = redact_datagram(packet, redact_dtmf)
            redacted[at : at + total] = new
            found += [(at + total, message) for message in held]
            if read_as:
                dtmf[read_as] += 1
            keys += had_keys
            at += total
    loose.append((at, len(stream)))
    for a, b in loose:
        if b > a:
            part, had_dtmf, had_keys = sip_messages.redact_orphan(bytes(stream[a:b]), redact_dtmf)
            redacted[a:b] = part
            dtmf["sip"] += had_dtmf
            keys += had_keys
    return redacted, found, dtmf, keys
