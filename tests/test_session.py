# SPDX-License-Identifier: Apache-2.0
"""RtpSession: both directions of a call set up from its offer and answer."""

from __future__ import annotations

import numpy as np
import pytest

import pcifilter as pf
from pcifilter import signals as sg
from pcifilter import spandsp
from pcifilter.rtp import RtpPacket
from pcifilter.sdp import SessionDescription

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
    # 96 is the answer's telephone-event: taken out. 97 means nothing to the answerer: an
    # unknown payload type, not forwarded either while filtering is on (unless allowed).
    assert 96 not in pts and 97 not in pts and 8 in pts
    lenient = pf.RtpSession(OFFER, ANSWER, pass_unknown_payloads=True)
    out = lenient.process([p.serialize() for p in audio[:5]] + [te96, te97], "offerer")
    assert 97 in [RtpPacket.parse(p).payload_type for p in out + lenient.flush("offerer")]
    back = s.process([p.serialize() for p in audio], "answerer") + s.flush("answerer")
    y = np.concatenate([pf.alaw_decode(RtpPacket.parse(p).payload) for p in back])
    assert spandsp.spandsp_digits(y, lenient=True) == ("", 0)
    assert pf.digits_of(s.take_events("answerer")) == "42"
    s.filtering = False
    assert not s.filtering


OPUS_OFFER = (
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 111 0 101\r\na=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:101 telephone-event/48000\r\n"
    "a=fmtp:101 0-16\r\n"
)
OPUS_ANSWER = (
    "v=0\r\no=- 2 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n"
    "m=audio 5000 RTP/AVP 109 100\r\na=rtpmap:109 opus/48000/2\r\n"
    "a=rtpmap:100 telephone-event/48000\r\n"
)


def test_an_answer_listing_both_families_lets_each_sender_switch() -> None:
    """An answer with Opus and PCMU (a sender may switch between them with no new offer,
    RFC 3264 §5.1): each direction's filter takes both and follows a switch, the keypresses
    on either side of it found and masked; nothing it may send goes unscrubbed. With Opus
    decoded at 16 kHz (G.711 runs at 8) the filter takes the family listed first only, and
    says so."""
    from test_both_families import _call, _hear, _keyed

    answer = OPUS_ANSWER.replace("RTP/AVP 109 100", "RTP/AVP 111 0 100").replace("109", "111")
    s = pf.RtpSession(OPUS_OFFER, answer)
    assert s.unscrubbed_codecs == {"offerer": [], "answerer": []}
    pcm, _ = _keyed("2580", seed=7)
    raw = _call(pcm, [30, 55], "celt")  # PCMU, Opus for the last two keypresses, PCMU
    out, rates = [], []
    for p in raw:
        out += s.process(p, "offerer")
        rates.append(s.clock_rate("offerer"))  # what a relay's advance() is on
    out += s.flush("offerer")
    assert rates == [48000 if 30 <= i < 55 else 8000 for i in range(len(raw))]
    assert len(out) == len(raw) and s.stats("offerer")["codec_switches"] == 2
    assert pf.digits_of(s.take_events("offerer")) == "2580"
    assert spandsp.spandsp_digits(_hear(out), lenient=True) == ("", 0)
    wide = pf.RtpSession(OPUS_OFFER, answer, decode_rate=16000)
    assert [c.name for c in wide.unscrubbed_codecs["offerer"]] == ["PCMU"]
    wide.process(raw, "offerer")
    assert wide.stats("offerer")["unknown_dropped"] > 0
    # A second family the offer did not list (PCMA here) is none a side sends: no error,
    # the filters take the first family only (as before; only the first must be offered).
    pcma = pf.RtpSession(OPUS_OFFER, answer.replace("RTP/AVP 111 0 100", "RTP/AVP 111 8 100"))
    assert pcma.stats("offerer")["codec_switches"] == 0
    assert [c.name for c in pcma.unscrubbed_codecs["offerer"]] == ["PCMA"]
    with pytest.raises(ValueError, match="chose PCMA, which the offer did not list"):
        pf.RtpSession(OPUS_OFFER, answer.replace("RTP/AVP 111 0 100", "RTP/AVP 8 111 100"))


def test_an_opus_call_from_its_sdp() -> None:
    from opuslib import rtp_stream

    s = pf.RtpSession(OPUS_OFFER, OPUS_ANSWER)
    x, _ = sg.keyed_sequence("7", 100, 100, -10, lead_ms=200, sample_rate=48000)
    pcm = sg.to_int16(np.concatenate([x, np.zeros(9600)]))
    raw = rtp_stream(
        pcm, "silk", 20, 24000, pt=109
    )  # the answer's Opus type: what the offerer sends
    te = RtpPacket(100, True, 0, 9600, 1, payload=bytes([7, 10, 3, 192])).serialize()  # 960
    raw.insert(12, te)  # sent with the audio of the keypress's first 20 ms
    out = s.process(raw, "offerer") + s.flush("offerer")
    assert 100 not in {RtpPacket.parse(p).payload_type for p in out}
    assert pf.digits_of(s.take_events("offerer")) == "7"  # in-band and RFC 4733: once


def test_an_opus_call_with_telephone_events_at_8_khz() -> None:
    """An answer of Opus with telephone-event/8000 (RFC 7587 has 48000, but Asterisk
    answers so): the events are taken, their durations read in 8 kHz units."""
    from opuslib import rtp_stream

    answer = OPUS_ANSWER.replace("telephone-event/48000", "telephone-event/8000")
    s = pf.RtpSession(OPUS_OFFER, answer)
    raw = rtp_stream(np.zeros(48000, np.int16), "silk", 20, 24000, pt=109)
    for k, d in enumerate((160, 320, 480)):  # 20, 40, 60 ms at 8 kHz; the last the end
        payload = bytes([3, 10 | (0x80 if k == 2 else 0)]) + d.to_bytes(2, "big")
        raw.insert(12 + k, RtpPacket(100, k == 0, 0, 9600, 1, payload=payload).serialize())
    out = s.process(raw, "offerer") + s.flush("offerer")
    assert 100 not in {RtpPacket.parse(p).payload_type for p in out}
    (event,) = s.take_events("offerer")
    assert event.name == "rfc4733" and event.digit == "3"
    assert event.start_ms == 200 and event.end_ms == 220


def test_refusals() -> None:
    speex = ANSWER.replace("RTP/AVP 8 96", "RTP/AVP 98").replace(
        "a=rtpmap:96 telephone-event/8000", "a=rtpmap:98 speex/8000"
    )
    with pytest.raises(ValueError, match=r"no G\.711 or Opus codec negotiated"):
        pf.RtpSession(OFFER, speex)
    with pytest.raises(ValueError, match="did not list"):
        pf.RtpSession(OFFER, OPUS_ANSWER)
    with pytest.raises(ValueError, match="sender must be"):
        pf.RtpSession(OFFER, ANSWER).process(b"", "agent")


@pytest.mark.parametrize(
    ("offer", "answer", "message"),
    [
        # Opus at a clock rate RFC 7587 does not give: its packets went through a G.711
        # filter (no Opus payload type) and were dropped whole while filtering
        (OPUS_OFFER, OPUS_ANSWER.replace("opus/48000/2", "opus/16000"), "answered: opus/16000"),
        (OPUS_OFFER, OPUS_ANSWER.replace("opus/48000/2", "OPUS/8000/1"), "answered: OPUS/8000"),
        # the answer chose a G.711 law the offer did not list: the answerer's packets,
        # read with the offer's types, went through a filter that knew no such type
        (OFFER, ANSWER.replace("RTP/AVP 8 96", "RTP/AVP 0 96"), "chose PCMU, which the offer"),
        (OPUS_OFFER.replace("opus/48000/2", "opus/16000"), OPUS_ANSWER, "chose OPUS, which"),
    ],
)
def test_a_codec_the_filters_cannot_take_is_refused(offer: str, answer: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pf.RtpSession(offer, answer)


def test_the_first_audio_stream_the_answer_accepted_is_filtered() -> None:
    """A "best-effort SRTP" offer lists the audio twice (SAVP first, AVP second) and the
    answer rejects the first (port 0): the session filters the second, with its payload
    types (here PCMA and telephone-event 96, which the first line does not carry)."""
    offer = (
        "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
        "m=audio 4000 RTP/SAVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\r\n"
        "m=audio 4002 RTP/AVP 8 96\r\na=rtpmap:96 telephone-event/8000\r\n"
    )
    answer = (
        "v=0\r\no=- 2 1 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n"
        "m=audio 0 RTP/SAVP 0\r\n"
        "m=audio 5000 RTP/AVP 8 96\r\na=rtpmap:96 telephone-event/8000\r\n"
    )
    s = pf.RtpSession(offer, answer)
    assert s.index == 1
    x, spans = sg.keyed_sequence("42", 80, 100, -10, lead_ms=200)
    pcm = sg.to_int16(x)
    audio = [
        RtpPacket(
            8, False, i, 160 * i, 1, payload=pf.alaw_encode(pcm[160 * i : 160 * i + 160]).tobytes()
        ).serialize()
        for i in range(len(pcm) // 160)
    ]
    te = RtpPacket(96, True, len(audio), spans[0][0], 1, payload=bytes([4, 10, 0, 160]))
    out = s.process([*audio, te.serialize()], "offerer") + s.flush("offerer")
    assert len(out) == len(audio) and s.take_events("offerer")
    y = np.concatenate([pf.alaw_decode(RtpPacket.parse(p).payload) for p in out])
    assert spandsp.spandsp_digits(y, lenient=True) == ("", 0)
    held = s.process(audio[:10], "answerer")  # the other way, advanced over a pause
    assert len(held + s.advance(160 * 10 + 400, "answerer")) == 10  # the delay is 360
    rejected = answer.replace("m=audio 5000", "m=audio 0")
    with pytest.raises(ValueError, match="accepted no audio stream"):
        pf.RtpSession(offer, rejected)


def _g722_call() -> tuple[str, str]:
    """An HD-voice softphone's offer (G.722 first) and the answer a PBX gives it."""
    offer = OFFER.replace("RTP/AVP 8 97", "RTP/AVP 9 0 8 18 97")
    answer = ANSWER.replace("RTP/AVP 8 96", "RTP/AVP 9 0 96")
    return offer, answer


def test_a_codec_no_filter_scrubs_is_named_and_its_audio_dropped_while_filtering() -> None:
    """Why the offer on a payment leg is restricted: an answer that keeps G.722 first (and
    PCMU after it) makes a G.711 session whose filters drop the G.722 packets whole while
    filtering: the agent hears nothing of the caller."""
    offer, answer = _g722_call()
    s = pf.RtpSession(offer, answer)
    assert [c.name for c in s.unscrubbed_codecs["offerer"]] == ["G722"]
    assert [c.name for c in s.unscrubbed_codecs["answerer"]] == ["G722", "G729"]
    g722 = [RtpPacket(9, False, i, 160 * i, 1, payload=bytes(160)).serialize() for i in range(50)]
    assert s.process(g722, "offerer") + s.flush("offerer") == []
    assert s.stats("offerer")["unknown_dropped"] == 50


def test_the_offer_on_a_payment_leg_keeps_only_the_codecs_scrubbed() -> None:
    offer, answer = _g722_call()
    d = SessionDescription.parse(offer)
    gone = pf.keep_scrubbed_codecs(d)
    assert [f"{c.name}/{c.clock_rate}" for c in gone] == ["G722/8000", "G729/8000"]
    text = d.serialize()
    assert "m=audio 4000 RTP/AVP 0 8 97\r\n" in text
    # an answerer can only choose among what is left: both directions scrubbed whole
    s = pf.RtpSession(text, answer.replace("RTP/AVP 9 0 96", "RTP/AVP 0 96"))
    assert s.unscrubbed_codecs == {"offerer": [], "answerer": []}


@pytest.mark.parametrize(
    ("offer", "kept"),
    [
        # WebRTC: RED, ISAC, CN at other rates go; Opus, G.711, their events and CN/8000 stay
        (
            OPUS_OFFER.replace("RTP/AVP 111 0 101", "RTP/AVP 111 63 103 0 13 105 101 126")
            + "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\na=rtpmap:103 ISAC/16000\r\n"
            "a=rtpmap:105 CN/16000\r\na=rtpmap:126 telephone-event/8000\r\n",
            [111, 0, 13, 101, 126],
        ),
        # Opus alone: telephone-events at both rates stay, CN/8000 (no G.711 beside) goes
        (
            OPUS_OFFER.replace("RTP/AVP 111 0 101", "RTP/AVP 111 13 101 126")
            + "a=rtpmap:126 telephone-event/8000\r\n",
            [111, 101, 126],
        ),
        # G.711 alone: telephone-event/48000 (no Opus beside) goes, as Opus at 16 kHz does
        (
            OFFER.replace("RTP/AVP 8 97", "RTP/AVP 8 96 98 97 13")
            + "a=rtpmap:96 opus/16000\r\na=rtpmap:98 telephone-event/48000\r\n",
            [8, 97, 13],
        ),
    ],
)
def test_what_each_offer_keeps(offer: str, kept: list[int]) -> None:
    d = SessionDescription.parse(offer)
    pf.keep_scrubbed_codecs(d)
    assert d.audio[0].payload_types == kept
    assert SessionDescription.parse(d.serialize()).audio[0].payload_types == kept


def test_one_family_keeps_an_answer_to_the_family_its_filter_runs() -> None:
    """one_family=True (an answer the node sends): each stream keeps only the family of its
    first codec kept, so the sender cannot switch to the other family (a filter that follows
    a switch masks 40-130 ms on each side of it; one decoding Opus at 16 kHz drops the family
    listed second); the events and CN that go with it stay."""
    both = (
        OPUS_OFFER.replace("RTP/AVP 111 0 101", "RTP/AVP 9 111 0 8 13 101 126")
        + "a=rtpmap:126 telephone-event/8000\r\n"
    )
    d = SessionDescription.parse(both)
    gone = pf.keep_scrubbed_codecs(d, one_family=True)
    assert d.audio[0].payload_types == [111, 101, 126]  # G.722 first: no family of a filter
    assert [c.name for c in gone] == ["G722", "PCMU", "PCMA", "CN"]
    g711_first = both.replace("RTP/AVP 9 111 0 8 13 101 126", "RTP/AVP 0 111 8 13 101 126")
    d = SessionDescription.parse(g711_first)
    pf.keep_scrubbed_codecs(d, one_family=True)
    assert d.audio[0].payload_types == [0, 8, 13, 126]
    # the offerer's filter then drops nothing the answer lets it send (the answerer sends
    # what both list, RFC 3264 §6.1: the family answered too)
    s = pf.RtpSession(both, d.serialize())
    assert s.unscrubbed_codecs["offerer"] == []
    d = SessionDescription.parse(g711_first)
    pf.keep_scrubbed_codecs(d)  # without it: both families stay (the filters follow both)
    assert d.audio[0].payload_types == [0, 111, 8, 13, 101, 126]


def test_an_offer_with_no_codec_scrubbed_is_refused_unchanged() -> None:
    wideband = OFFER.replace("RTP/AVP 8 97", "RTP/AVP 9 98 97") + "a=rtpmap:98 opus/16000\r\n"
    d = SessionDescription.parse(wideband)
    before = d.serialize()
    with pytest.raises(ValueError, match=r"line 1 offers no G\.711 or Opus codec .*G722/8000"):
        pf.keep_scrubbed_codecs(d)
    assert d.serialize() == before
    # a stream already rejected (port 0) is left as it is
    d = SessionDescription.parse(wideband.replace("m=audio 4000", "m=audio 0"))
    assert pf.keep_scrubbed_codecs(d) == [] and d.audio[0].payload_types == [9, 98, 97]


def _alaw_packets(pcm: np.ndarray) -> list[bytes]:
    codes = pf.alaw_encode(pcm)
    frames = [codes[160 * i : 160 * i + 160].tobytes() for i in range(len(pcm) // 160)]
    return [RtpPacket(8, False, i, 160 * i, 1, payload=f).serialize() for i, f in enumerate(frames)]


def test_a_re_invite_with_the_same_types_keeps_the_filters() -> None:
    """Hold and resume (a=sendonly, then sendrecv again) in the middle of a keypress: the
    filters go on as they were, the keypress found once, no packet held or lost."""
    s = pf.RtpSession(OFFER, ANSWER)
    x, _ = sg.keyed_sequence("7", 120, 100, -10, lead_ms=200)
    packets = _alaw_packets(sg.to_int16(x))
    half = len(packets) // 2 - 5
    out = s.process(packets[:half], "offerer")
    flushed = s.renegotiate(
        OFFER.replace("a=rtpmap", "a=sendonly\r\na=rtpmap"),
        ANSWER.replace("a=rtpmap", "a=recvonly\r\na=rtpmap"),
    )
    assert flushed == {"offerer": [], "answerer": []}
    out += s.process(packets[half:], "offerer") + s.flush("offerer")
    assert len(out) == len(packets)
    assert pf.digits_of(s.take_events("offerer")) == "7"
    y = np.concatenate([pf.alaw_decode(RtpPacket.parse(p).payload) for p in out])
    assert spandsp.spandsp_digits(y, lenient=True) == ("", 0)


def test_a_re_invite_that_changes_types_replaces_only_those_filters() -> None:
    """The answerer's new answer numbers its telephone-event 100 (was 96): the offerer's
    packets (read with the answer's map) go through a new filter, the old one flushed and
    its packets returned; the answerer's filter (the offer's map, unchanged) goes on.
    Filtering stays as it was set."""
    s = pf.RtpSession(OFFER, ANSWER)
    s.filtering = False
    packets = _alaw_packets(np.zeros(1600, np.int16))
    held = s.process(packets, "offerer")
    s.process(packets, "answerer")
    answerer_filter = s._filters["answerer"]
    flushed = s.renegotiate(OFFER, ANSWER.replace("96", "100"))
    assert len(held) + len(flushed["offerer"]) == len(packets) and flushed["answerer"] == []
    assert s._filters["answerer"] is answerer_filter and not s.filtering
    te = RtpPacket(100, True, 50, 8000, 1, payload=bytes([4, 10, 0, 160])).serialize()
    s.filtering = True
    s.process(te, "offerer")
    s.flush("offerer")
    assert pf.digits_of(s.take_events("offerer")) == "4"  # the new type read as an event


def test_a_re_invite_to_opus_and_a_bad_one() -> None:
    s = pf.RtpSession(OFFER, ANSWER)
    s.process(_alaw_packets(np.zeros(1600, np.int16)), "offerer")
    offer = OPUS_OFFER.replace("RTP/AVP 111 0 101", "RTP/AVP 111 8 101")
    flushed = s.renegotiate(offer, OPUS_ANSWER)
    assert flushed["offerer"] and s.unscrubbed_codecs["offerer"] == []
    # the offer lists PCMA beside Opus: the answerer's PCMA would be dropped while filtering
    assert [c.name for c in s.unscrubbed_codecs["answerer"]] == ["PCMA"]
    before = (s.offer, s.answer, dict(s._filters))
    with pytest.raises(ValueError, match="accepted no audio stream"):
        s.renegotiate(offer, OPUS_ANSWER.replace("m=audio 5000", "m=audio 0"))
    assert (s.offer, s.answer, s._filters) == before  # nothing changed


def test_a_node_may_keep_one_family_only() -> None:
    """families=("g711",): a node that would rather filter G.711 (40-65 times cheaper than
    Opus) leaves Opus and its 48 kHz events out too; ("opus",) the other way. A
    stream with none of those is refused, unchanged; a family no filter has is refused."""
    webrtc = (
        OPUS_OFFER.replace("RTP/AVP 111 0 101", "RTP/AVP 111 0 13 101 126")
        + "a=rtpmap:126 telephone-event/8000\r\n"
    )
    d = SessionDescription.parse(webrtc)
    gone = pf.keep_scrubbed_codecs(d, families=("g711",))
    assert d.audio[0].payload_types == [0, 13, 126]
    assert [f"{c.name}/{c.clock_rate}" for c in gone] == ["opus/48000", "telephone-event/48000"]
    d = SessionDescription.parse(webrtc)
    pf.keep_scrubbed_codecs(d, families=("opus",))
    assert d.audio[0].payload_types == [111, 101, 126]
    d = SessionDescription.parse(OFFER)
    with pytest.raises(ValueError, match=r"line 1 offers no Opus codec .*PCMA/8000"):
        pf.keep_scrubbed_codecs(d, families=("opus",))
    assert d.audio[0].payload_types == [8, 97]
    with pytest.raises(ValueError, match="families must be some of"):
        pf.keep_scrubbed_codecs(d, families=("g722",))
