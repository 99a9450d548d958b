# SPDX-License-Identifier: Apache-2.0
"""Keypresses in a PBX's event channels (for captures): Asterisk's manager interface (AMI)
and FreeSWITCH's event socket (ESL), the TCP connections through which call-centre software
(CTI, IVR and dialler applications) follows and drives calls.

AMI (TCP 5038, text: "Name: value" lines, a blank line after each message) reports every
keypress of every channel to a client that listens for DTMF events ("Event: DTMFBegin" and
"DTMFEnd", older "Event: DTMF", each with "Digit: 5"), and takes "Action: PlayDTMF" with a
"Digit:". ESL (TCP 8021) sends a client that subscribed to DTMF events "Event-Name: DTMF"
with "DTMF-Digit: 5" (event-plain: the value URL-encoded, "%23" for "#"; event-json:
"DTMF-Digit": "5"; event-xml: <DTMF-Digit>5</DTMF-Digit>), and takes "api uuid_send_dtmf
<uuid> <digits>" (or uuid_recv_dtmf) and the send_dtmf application ("execute-app-name:
send_dtmf" with "execute-app-arg: <digits>"). Asterisk's ARI (HTTP, 8088) takes "POST
/ari/channels/<id>/dtmf?dtmf=<digits>" and reports keypresses in its events over WebSocket
({"type": "ChannelDtmfReceived", "digit": "5", ...}: pcap.py reads those as a DTMF log). A
capture taken on such a host holds them: the values are replaced by 'X', same length.

Only these structured forms are read. What the application itself keeps of a payment (a
channel variable that play_and_get_digits filled, appearing in every later ESL event as
"variable_<name>", an AGI or database exchange) can be named anything: it is the
application's data, not the call's signalling, and is best not captured beside a payment."""

from __future__ import annotations

import re

# A segment that starts one of these is (or may be) a PBX event channel's: AMI's banner and
# messages, ESL's messages (headers first) and a client's commands.
PBX_STARTS = (
    b"Asterisk Call Manager/",
    b"Event: ",
    b"Action: ",
    b"Response: ",
    b"Content-Type: ",
    b"Content-Length: ",
    b"auth ",
    b"event ",
    b"api ",
    b"bgapi ",
    b"sendmsg",
    b"connect\n",
    b"myevents",
    b"filter ",
    b"POST /ari/",
)

# Each pattern's group 1 is a keypress value (or a string of them).
_KEYPRESSES = [
    re.compile(rb"(?im)^(?:Digit|DTMF-Digit)[ \t]*:([^\r\n]*)"),  # AMI, ESL (blanks: see below)
    re.compile(rb'(?i)"DTMF-Digit"[ \t\r\n]*:[ \t\r\n]*"((?:[^"\\]|\\.){0,256})'),  # event-json
    re.compile(rb"(?i)<DTMF-Digit>([^<]{0,256})"),  # event-xml
    re.compile(rb"(?im)^(?:bg)?api[ \t]+uuid_(?:send|recv)_dtmf[ \t]+[^ \t\r\n]+([^\r\n]*)"),
    # sendmsg's send_dtmf: its argument, before or after the application's name, within the
    # message (up to its blank line, or 2 KB)
    re.compile(
        rb"(?is)execute-app-name:[ \t]*send_dtmf\b(?:(?!\n\r?\n).){0,2048}?"
        rb"execute-app-arg:([^\r\n]*)"
    ),
    # (the value taken whole, "*+": with room to give back, each shorter value was tried
    # against the look-ahead again, a long line of blanks took minutes)
    re.compile(
        rb"(?is)execute-app-arg:([^\r\n]*+)(?=(?:(?!\n\r?\n).){0,2048}?"
        rb"execute-app-name:[ \t]*send_dtmf\b)"
    ),
    # ARI (Asterisk's REST interface): POST /ari/channels/<id>/dtmf?dtmf=<digits>, or the
    # same in a JSON body
    re.compile(rb"(?i)/dtmf\?(?:[^ \r\n]*?&)?dtmf=([^& \r\n]*)"),
    re.compile(rb'(?i)"dtmf"[ \t\r\n]*:[ \t\r\n]*"((?:[^"\\]|\\.){0,256})'),
]


def starts_pbx_events(data: bytes) -> bool:
    """Whether a TCP segment starts (or may start) a message of a PBX event channel."""
    return data.startswith(PBX_STARTS)


def redact_pbx_events(stream: bytes, redact_dtmf: bool = True) -> tuple[bytes, int]:
    """A run of an AMI or ESL connection with its keypress values replaced by 'X' (same
    length, unless not `redact_dtmf`), and how many were. Read as text, line by line: the
    forms are the same wherever a message starts, and a connection caught mid-message is
    read as well."""
    out = bytearray(stream)
    found = 0
    for pattern in _KEYPRESSES:
        for m in pattern.finditer(stream):
            a, b = m.span(1)
            # The value without the blanks around it, trimmed here: a pattern that left
            # them out itself ("[^ \t]...[^ \t]") backtracked over a long run of them, in
            # time quadratic in its length (a hostile capture's 1 MiB line: hours).
            value = stream[a:b]
            a, b = (
                a + len(value) - len(value.lstrip(b" \t")),
                b - (len(value) - len(value.rstrip(b" \t"))),
            )
            if b > a and redact_dtmf:
                out[a:b] = b"X" * (b - a)
                found += 1
    return bytes(out), found
