# SPDX-License-Identifier: Apache-2.0
"""Keypresses in MGCP (RFC 3435), the protocol through which a call agent (Cisco's Unified
CM among them) drives its media gateways (for captures).

A gateway set to relay DTMF out of band ("mgcp dtmf-relay ... mode out-of-band") reports
each keypress of the PSTN caller in a NTFY's ObservedEvents ("O: D/4", several in one
message: "O: L/hd, D/4, D/1"), and a call agent has one played with a SignalRequests
parameter ("S: D/5"): every card digit in clear, in UDP datagrams between ports 2427 (the
gateway) and 2727 (the call agent). Their connection commands and responses carry the
call's SDP (RemoteConnectionDescriptor, LocalConnectionDescriptor), with its SRTP keys when
there are any. Digits of the DTMF package ("D", RFC 3660: 0-9, *, #, A-D) in those two
parameters are replaced by 'X', same length; the SDP is returned for the capture's stream
discovery, its keys replaced as a SIP message's are.

Hand-written: no Python package parses MGCP; only these two parameter lines are read."""

from __future__ import annotations

import re

from pcifilter.sdp import srtp_key_spans

# A command's first line: its verb (four letters, case-insensitive), a transaction id, the
# endpoint, "MGCP 1.0" (or a profile's name and version, as NCS's); or a response's: a
# three-digit code and the transaction id.
_START = re.compile(
    rb"(?:[A-Za-z]{4} [0-9]{1,9} [^ \r\n]{1,255} [A-Za-z]{2,8} [0-9]\.[0-9]"
    rb"|[0-9]{3} [0-9]{1,9}(?=[ \r\n]))"
)
# ObservedEvents and SignalRequests lines (parameter names are case-insensitive), and in
# them each event of the DTMF package that is a digit: "D/4", "d/#", "D/1@0A3F58" (on a
# connection), "D/5(...)" (with parameters).
_EVENT_LINE = re.compile(rb"(?im)^[ \t]*[OS][ \t]*:([^\r\n]*)")
_DIGIT_EVENT = re.compile(rb"(?i)(?<![\w/])d/([0-9a-d*#])(?=[ \t,@(]|$)")


def starts_mgcp(data: bytes) -> bool:
    """Whether `data` starts an MGCP command or response: the capture's own test
    (csrc/pcifilter/capture.cpp), for datagrams it reassembles here."""
    return _START.match(data) is not None


def redact_mgcp(payload: bytes, redact_dtmf: bool = True) -> tuple[bytes, bool, bool, list[bytes]]:
    """A UDP datagram of MGCP (one message, or several piggybacked) with its keypresses
    (unless not `redact_dtmf`) and SRTP keys replaced by 'X' (same length). Returns it,
    whether keypresses and keys were in it, and the datagram for its SDP."""
    out = bytearray(payload)
    dtmf = False
    if redact_dtmf:
        for line in _EVENT_LINE.finditer(payload):
            for event in _DIGIT_EVENT.finditer(payload, line.start(1), line.end(1)):
                out[event.start(1)] = ord("X")
                dtmf = True
    keys = srtp_key_spans(payload)
    for a, b in keys:
        out[a:b] = b"X" * (b - a)
    return bytes(out), dtmf, bool(keys), [payload]
