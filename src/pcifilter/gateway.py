# SPDX-License-Identifier: Apache-2.0
"""Keypresses in a media gateway's control protocol (for captures): MGCP (RFC 3435) and
Megaco/H.248 in its text encoding (RFC 3525), through which a call agent or media gateway
controller (Cisco's Unified CM among them) drives its PSTN gateways.

MGCP (UDP 2427 at the gateway, 2727 at the call agent): a gateway set to relay DTMF out of
band ("mgcp dtmf-relay ... mode out-of-band") reports each keypress of the PSTN caller in a
NTFY's ObservedEvents ("O: D/4", several in one message: "O: L/hd, D/4, D/1"), and a call
agent has one played with a SignalRequests parameter ("S: D/5"). Megaco text (UDP 2944): a
gateway reports keypresses in a Notify's ObservedEvents as DTMF detection package events
("dd/d4", "dd/ds" for *, "dd/do" for #) or as the digit string its digit map completed
("dd/ce{ds=\"916135551212\",Meth=UM}"), and plays digits as DTMF generator signals
("dg/d5"). Every card digit in clear. Their connection commands and responses carry the
call's SDP, with its SRTP keys when there are any. Those digits are replaced by 'X', same
length; the SDP is returned for the capture's stream discovery, its keys replaced as a SIP
message's are.

Hand-written: no Python package parses MGCP or Megaco; only these forms are read (Megaco's
binary encoding, ASN.1 on UDP 2945, is not)."""

from __future__ import annotations

import re

from pcifilter.sdp import srtp_key_spans

# An MGCP command's first line: its verb (four letters, case-insensitive), a transaction
# id, the endpoint, "MGCP 1.0" (or a profile's name and version, as NCS's); or a response's:
# a three-digit code and the transaction id. A Megaco text message's header: "MEGACO/1 "
# (or compact "!/1 ") before the sender's address.
_START = re.compile(
    rb"(?:[A-Za-z]{4} [0-9]{1,9} [^ \r\n]{1,255} [A-Za-z]{2,8} [0-9]\.[0-9]"
    rb"|[0-9]{3} [0-9]{1,9}(?=[ \r\n])"
    rb"|(?:MEGACO|!)/[0-9] )"
)
_MEGACO = re.compile(rb"(?:MEGACO|!)/")
# MGCP: ObservedEvents and SignalRequests lines (parameter names are case-insensitive), and
# in them each event of the DTMF package that is a digit: "D/4", "d/#", "D/1@0A3F58" (on a
# connection), "D/5(...)" (with parameters).
_EVENT_LINE = re.compile(rb"(?im)^[ \t]*[OS][ \t]*:([^\r\n]*)")
_DIGIT_EVENT = re.compile(rb"(?i)(?<![\w/])d/([0-9a-d*#])(?=[ \t,@(]|$)")
# Megaco: a DTMF detection event or generator signal ("dd/d4", "dg/ds"), and a digit
# string ("ds" of the completion event).
_MEGACO_DIGIT = re.compile(rb"(?i)(?<![\w/])d[dg]/d([0-9a-dso])(?![\w])")
_MEGACO_STRING = re.compile(rb'(?i)(?<![\w])ds[ \t]*=[ \t]*"([^"\r\n]*)"')


def starts_gateway_control(data: bytes) -> bool:
    """Whether `data` starts an MGCP command or response or a Megaco text message: the
    capture's own test (csrc/pcifilter/signalling.cpp), for datagrams it reassembles here."""
    return _START.match(data) is not None


def redact_gateway_control(
    payload: bytes, redact_dtmf: bool = True
) -> tuple[bytes, bool, bool, list[bytes]]:
    """A UDP datagram of MGCP (one message, or several piggybacked) or Megaco text with its
    keypresses (unless not `redact_dtmf`) and SRTP keys replaced by 'X' (same length).
    Returns it, whether keypresses and keys were in it, and the datagram for its SDP."""
    out = bytearray(payload)
    spans: list[tuple[int, int]] = []
    if redact_dtmf and _MEGACO.match(payload):
        spans += [m.span(1) for m in _MEGACO_DIGIT.finditer(payload)]
        spans += [m.span(1) for m in _MEGACO_STRING.finditer(payload)]
    elif redact_dtmf:
        spans += [
            event.span(1)
            for line in _EVENT_LINE.finditer(payload)
            for event in _DIGIT_EVENT.finditer(payload, line.start(1), line.end(1))
        ]
    keys = srtp_key_spans(payload)
    for a, b in spans + keys:
        out[a:b] = b"X" * (b - a)
    return bytes(out), any(b > a for a, b in spans), bool(keys), [payload]
