# SPDX-License-Identifier: Apache-2.0
"""RtpSession: both directions of a call set up from its offer and answer."""

from __future__ import annotations

import numpy as np
import pytest

import pcifilter as pf
from pcifilter import signals as sg
from pcifilter import spandsp
from pcifilter.rtp import RtpPacket

OFFER = (
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 8 97\r\na=rtpmap:97 telephone-event/8000\r\n"
)
ANSWER = (
    "v=0\r\no=- 2 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n"
    "m=audio 5000 RTP/AVP 8 96\r\na=rtpmap:96 telephone-event/8000\r\n"
)


def test_each_direction_uses_the_receivers_payload_types() -> None:
    s = pf.RtpSession(OFFER, ANSWER)
    x, spans = sg.keyed_sequence("42", 80, 100, -10, lead_ms=200)
    pcm = sg.to_int16(x)
    audio = [
        RtpPacket(
            8, False, i, 160 * i, 1, payload=pf.alaw_encode(pcm[160 * i : 160 * i + 160]).tobytes()
        )
        for i in range(len(pcm) // 160)
    ]
    te96 = RtpPacket(96, True, 0, spans[0][0], 1, payload=bytes([4, 10, 0, 160])).serialize()
    te97 = RtpPacket(97, True, 0, spans[0][0], 1, payload=bytes([4, 10, 0, 160])).serialize()
    out = s.process([p.serialize() for p in audio[:5]] + [te96, te97], "offerer") + s.flush(
        "offerer"
    )
    pts = [RtpPacket.parse(p).payload_type for p in out]
    assert 96 not in pts and 97 in pts  # 96 is the answer's telephone-event, 97 is not
    back = s.process([p.serialize() for p in audio], "answerer") + s.flush("answerer")
    y = np.concatenate([pf.alaw_decode(RtpPacket.parse(p).payload) for p in back])
    assert spandsp.spandsp_digits(y, lenient=True) == ("", 0)
    assert pf.digits_of(s.take_events("answerer")) == "42"
    s.filtering = False
    assert not s.filtering


def test_refusals() -> None:
    opus = ANSWER.replace("RTP/AVP 8 96", "RTP/AVP 111").replace(
        "a=rtpmap:96 telephone-event/8000", "a=rtpmap:111 opus/48000/2"
    )
    with pytest.raises(ValueError, match=r"no G\.711 codec negotiated"):
        pf.RtpSession(OFFER, opus)
    with pytest.raises(ValueError, match="sender must be"):
        pf.RtpSession(OFFER, ANSWER).process(b"", "agent")
