# SPDX-License-Identifier: Apache-2.0
"""SDP audio parts: typed, checked, written back."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pcifilter as pf
from pcifilter.sdp import SessionDescription
from pcifilter.session import keep_scrubbed_codecs

OFFER = (
    "v=0\r\no=- 20518 0 IN IP4 203.0.113.1\r\ns=-\r\nc=IN IP4 203.0.113.1\r\nt=0 0\r\n"
    "m=audio 54400 RTP/AVP 0 8 96 13\r\na=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-16\r\n"
    "a=ptime:20\r\na=sendrecv\r\na=rtcp:54401\r\n"
    "m=video 0 RTP/AVP 31\r\n"
)
OPUS = (
    "v=0\r\no=- 1 1 IN IP6 2001:db8::1\r\ns=-\r\nt=0 0\r\n"
    "m=audio 40000 RTP/AVP 111 110\r\nc=IN IP6 2001:db8::2\r\na=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:110 telephone-event/48000\r\n"
    "a=rtcp-mux\r\na=sendonly\r\n"
)


# A WebRTC gateway's offer: wideband codecs first, as browsers and softphones list them.
WEBRTC = (
    "v=0\r\no=- 7 2 IN IP4 203.0.113.9\r\ns=-\r\nc=IN IP4 203.0.113.9\r\nt=0 0\r\n"
    "m=audio 50000 RTP/AVP 111 63 9 103 0 8 106 105 13 110 126\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtcp-fb:111 transport-cc\r\na=rtcp-fb:111 trr-int 100\r\na=rtcp-fb:* nack\r\n"
    "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\na=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:103 ISAC/16000\r\na=rtpmap:106 CN/32000\r\na=rtpmap:105 CN/16000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n"
    "a=fmtp:126 0-16\r\na=ptime:20\r\n"
)


def test_offer() -> None:
    (a,) = SessionDescription.parse(OFFER).audio
    assert (a.port, a.protocol, a.payload_types, a.address) == (
        54400,
        "RTP/AVP",
        [0, 8, 96, 13],
        "203.0.113.1",
    )
    assert {pt: c.kind for pt, c in a.codecs.items()} == {
        0: "pcmu",
        8: "pcma",
        96: "telephone-event",
        13: "cn",
    }
    assert a.codecs[96].fmtp == "0-16" and a.ptime == 20 and a.rtcp_port == 54401
    assert a.payload_type_of("telephone-event") == 96 and a.payload_type_of("pcmu") == 0


def test_opus_and_ipv6_media_address() -> None:
    (a,) = SessionDescription.parse(OPUS).audio
    assert a.address == "2001:db8::2" and a.direction == "sendonly" and a.rtcp_mux
    assert a.codecs[111].clock_rate == 48000 and a.codecs[111].channels == 2
    assert a.payload_type_of("telephone-event", 48000) == 110
    assert a.codecs[111].fmtp == "minptime=10;useinbandfec=1"
    assert a.codecs[111].kind == "opus" and a.payload_type_of("opus", 48000) == 111


@pytest.mark.parametrize("text", [OFFER, OPUS])
def test_round_trip(text: str) -> None:
    d = SessionDescription.parse(text)
    again = SessionDescription.parse(d.serialize())
    assert [vars(a) | {"_raw": None} for a in again.audio] == [
        vars(a) | {"_raw": None} for a in d.audio
    ]


def test_rewriting_the_media_line() -> None:
    d = SessionDescription.parse(OFFER)
    d.audio[0].port, d.audio[0].address, d.audio[0].direction = 30000, "198.51.100.7", "recvonly"
    text = d.serialize()
    assert "m=audio 30000 RTP/AVP 0 8 96 13" in text and "c=IN IP4 198.51.100.7" in text
    assert "a=recvonly" in text and "m=video 0" in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "v= line"),
        ("hello", "v= line"),
        ("v=1\r\n", "version must be 0"),
        ("v=0\r\ns=-\r\nm=video 1 RTP/AVP 31\r\n", "no m=audio"),
        ("v=0\r\nm=audio 70000 RTP/AVP 0\r\n", "port must be 0-65535"),
        ("v=0\r\nm=audio 4000 RTP/AVP x\r\n", "payload types must be numbers"),
        ("v=0\r\nm=audio 4000 RTP/AVP 0 300\r\n", "payload types must be numbers"),
        ("v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:96 telephone-event/8000\r\n", "does not list"),
        (b"v=0\r\ns=\xff\r\nm=audio 4000 RTP/AVP 0\r\n", "UTF-8 text .* byte 7 is not"),
        (None, "text \\(str or UTF-8 bytes\\), not NoneType"),
        (4000, "text \\(str or UTF-8 bytes\\), not int"),
    ],
)
def test_odd_sdp_is_a_precise_value_error(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SessionDescription.parse(text)


def test_sdp_as_the_bytes_of_a_sip_body() -> None:
    """A SIP stack hands the body over as bytes: taken as its UTF-8 text, as a str is (before,
    "SDP must start with a v= line")."""
    text = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=caf\u00e9\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    text += "m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
    for body in (text.encode(), bytearray(text.encode()), memoryview(text.encode())):
        d = SessionDescription.parse(body)
        assert d.serialize() == SessionDescription.parse(text).serialize()
    answer = text.replace("4000", "5000").encode()
    session = pf.RtpSession(text.encode(), answer)
    assert session.filtering


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_parses_or_is_a_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):  # anything else (or a crash) fails the test
        d = SessionDescription.parse("v=0\r\n" + text)
        assert d.audio and all(0 <= a.port <= 65535 for a in d.audio)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # sdp-transform reads these in part; each was taken and then failed to be written
        # back (a TypeError from serialize), or gave an address that is a number
        (OFFER.replace("c=IN IP4 203.0.113.1", "c=IN IP4 203.01"), "IP address or host name"),
        (OFFER.replace("c=IN IP4 203.0.113.1", "c=IN IP4 12"), "IP address or host name"),
        (OFFER.replace("t=0 0", "t=0 "), "session-level 'timing' line"),
        (OFFER.replace("a=ptime:20", "a=ptime:"), "a=ptime must be a number"),
        (OFFER.replace("a=ptime:20", "a=ptime:0"), "a=ptime must be a number"),
        (OFFER.replace("a=rtcp:54401", "a=rtcp:abc"), "a=rtcp port must be 0-65535"),
        (OFFER.replace("a=rtcp:54401", "a=rtcp:70000"), "a=rtcp port must be 0-65535"),
        # a malformed m= line's attributes were kept and the line dropped
        (OFFER.replace("m=video 0 RTP/AVP 31", "m=video 0RTP/AVP 31"), "media line 2: m= must"),
        (OFFER + "m=audio 4000/2 RTP/AVP 0\r\n", "media line 3: m= must"),
    ],
)
def test_sdp_read_in_part_is_a_precise_value_error(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SessionDescription.parse(text)


def test_a_fractional_ptime_is_kept() -> None:
    (a,) = SessionDescription.parse(OPUS + "a=ptime:2.5\r\n").audio
    assert a.ptime == 2.5


_NOISE = st.sampled_from(["", " ", "\t", "x", "0", "-1", "65536", "2.5", "/", ":", "é", "\x00"])


@st.composite
def _mutated(draw: st.DrawFn) -> str:
    """OFFER, OPUS or WEBRTC with a few lines dropped, repeated, cut or with text put in."""
    lines = draw(st.sampled_from([OFFER, OPUS, WEBRTC])).split("\r\n")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.integers(0, 3))
        line = lines[i]
        j = draw(st.integers(0, len(line)))
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, draw(st.sampled_from(lines)))
        elif op == 2:
            lines[i] = line[:j] + line[j + draw(st.integers(1, 5)) :]
        else:
            lines[i] = line[:j] + draw(_NOISE) + line[j:]
        if not lines:
            lines = ["v=0"]
    return "\r\n".join(lines)


@settings(max_examples=1500, deadline=None)
@given(_mutated())
def test_odd_sdp_parses_and_writes_back_or_is_a_value_error(text: str) -> None:
    try:
        d = SessionDescription.parse(text)
    except ValueError:
        return  # anything else (or a crash) fails the test
    again = SessionDescription.parse(d.serialize())  # what parse takes, serialize writes
    assert [vars(a) | {"_raw": None} for a in again.audio] == [
        vars(a) | {"_raw": None} for a in d.audio
    ]
    assert all(isinstance(a.address, str | None) for a in d.audio)


def test_payload_types_taken_out_go_with_their_attributes() -> None:
    d = SessionDescription.parse(WEBRTC)
    gone = d.audio[0].keep_payload_types(lambda c: c is not None and c.name != "red")
    assert [(c.payload_type, c.name) for c in gone] == [(63, "red")]
    text = d.serialize()
    assert "m=audio 50000 RTP/AVP 111 9 103 0 8 106 105 13 110 126\r\n" in text
    assert "a=rtpmap:63" not in text and "a=fmtp:63" not in text
    # attributes of the types kept, and "*", stay
    assert "a=rtcp-fb:111 transport-cc" in text and "a=rtcp-fb:* nack" in text
    assert "a=fmtp:111 minptime=10;useinbandfec=1" in text and "a=rtcp-fb:111 trr-int 100" in text
    again = SessionDescription.parse(text).audio[0]
    assert again.payload_types == d.audio[0].payload_types
    assert again.codecs == d.audio[0].codecs
    d.audio[0].keep_payload_types(lambda c: False)
    with pytest.raises(ValueError, match="at least one payload type"):
        d.serialize()


def test_a_type_listed_with_no_rtpmap_is_taken_out_as_unknown() -> None:
    d = SessionDescription.parse(OFFER.replace("RTP/AVP 0 8 96 13", "RTP/AVP 0 8 96 13 98"))
    gone = d.audio[0].keep_payload_types(lambda c: c is not None)
    assert [(c.payload_type, c.name, c.clock_rate) for c in gone] == [(98, "unknown", 0)]
    assert "RTP/AVP 0 8 96 13\r\n" in d.serialize()


@settings(max_examples=1000, deadline=None)
@given(_mutated(), st.booleans())
def test_odd_sdp_restricted_to_the_codecs_scrubbed_writes_back(text: str, one: bool) -> None:
    """keep_scrubbed_codecs on anything parse takes: a ValueError that changes nothing, or an
    SDP that parses back with only G.711/Opus and what goes beside them (with `one_family`,
    one of the two in each stream)."""
    try:
        d = SessionDescription.parse(text)
    except ValueError:
        return
    before = d.serialize()
    try:
        keep_scrubbed_codecs(d, one_family=one)
    except ValueError:
        assert d.serialize() == before
        return
    again = SessionDescription.parse(d.serialize())
    for a in again.audio:
        if a.port != 0:
            assert {c.name.lower() for c in a.codecs.values()} <= {
                "pcmu",
                "pcma",
                "opus",
                "cn",
                "telephone-event",
            }
            assert set(a.codecs) == set(a.payload_types)
            names = {c.name.lower() for c in a.codecs.values()}
            assert not (one and "opus" in names and names & {"pcmu", "pcma"})
