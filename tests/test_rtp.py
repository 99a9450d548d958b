# SPDX-License-Identifier: Apache-2.0
"""RTP parsing (RFC 3550, RFC 8285): real captured packets round-trip byte for byte,
every malformed input is a precise ValueError, and no input crashes or over-reads."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pcifilter.rtp import ONE_BYTE_PROFILE, TWO_BYTE_PROFILE, RtpPacket, drop_reasons

DATA = Path(__file__).parent / "data"


def test_captured_pcma_packet_round_trips() -> None:
    raw = (DATA / "rtp_pcma_sipp.bin").read_bytes()  # sipp's g711a.pcap, first packet
    p = RtpPacket.parse(raw)
    assert (p.payload_type, p.marker, p.sequence_number, p.timestamp) == (8, True, 0xE6FD, 0xF0)
    assert len(p.payload) == 240 and p.csrc == [] and p.extension_profile is None
    assert p.serialize() == raw
    assert "payload=240 bytes" in repr(p) and "\\x" not in repr(p)


def test_captured_telephone_event_round_trips() -> None:
    raw = (DATA / "rtp_telephone_event_sipp.bin").read_bytes()  # sipp's dtmf_2833_1.pcap
    p = RtpPacket.parse(raw)
    assert (p.payload_type, p.marker, len(p.payload)) == (101, True, 4)
    assert p.serialize() == raw


def test_csrc_padding_and_one_byte_extension() -> None:
    ext = bytes([0x10, 0xAA, 0x00, 0x21, 0x01, 0x02, 0xF0, 0x99])  # id1 len1, pad, id2 len2, id15
    p = RtpPacket(0, False, 7, 8, 9, [1, 2, 3], ONE_BYTE_PROFILE, ext, b"\xff" * 160, 3)
    q = RtpPacket.parse(p.serialize())
    assert q == p
    assert q.extension_elements() == [(1, b"\xaa"), (2, b"\x01\x02")]  # id 15 ends the walk


def test_two_byte_extension() -> None:
    ext = bytes([0x01, 0x00, 0x00, 0x02, 0x03, 0x0A, 0x0B, 0x0C])  # id1 len0, pad, id2 len3
    p = RtpPacket(111, True, 1, 2, 3, [], TWO_BYTE_PROFILE | 0x5, ext, b"opus")
    assert RtpPacket.parse(p.serialize()).extension_elements() == [(1, b""), (2, b"\x0a\x0b\x0c")]


def test_other_extension_profiles_are_opaque() -> None:
    p = RtpPacket(0, False, 1, 2, 3, [], 0x1234, b"\xde\xad\xbe\xef", b"x")
    q = RtpPacket.parse(p.serialize())
    assert q.extension == b"\xde\xad\xbe\xef" and q.extension_elements() == []


GOOD = RtpPacket(
    0, False, 1, 2, 3, [5], ONE_BYTE_PROFILE, bytes([0x10, 1, 0, 0]), b"\xff" * 20
).serialize()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "too short: 0 bytes"),
        (GOOD[:11], "too short: 11 bytes"),
        (bytes([0x40]) + GOOD[1:], "version must be 2"),
        (bytes([0x80, 200]) + GOOD[2:], "RTCP"),
        (bytes([0x8F]) + GOOD[1:40], "CSRC list runs past"),
        (GOOD[:18], "header extension runs past"),
        (GOOD[:16] + b"\xbe\xde\x00\x09" + GOOD[20:], "header extension runs past"),
        (GOOD[:20] + bytes([0x1F, 0, 0, 0]) + GOOD[24:], "element runs past"),
        (bytes([GOOD[0] | 0x20]) + GOOD[1:-1] + b"\x00", "padding"),
        (bytes([GOOD[0] | 0x20]) + GOOD[1:-1] + b"\xff", "padding"),
    ],
)
def test_malformed_packets_are_precise_value_errors(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RtpPacket.parse(data)


def test_every_truncation_is_handled() -> None:
    header = len(GOOD) - 20  # fixed header, one CSRC, 8-byte extension
    outcomes = []
    for n in range(len(GOOD) + 1):
        with contextlib.suppress(ValueError):
            outcomes.append((n, len(RtpPacket.parse(GOOD[:n]).payload)))
    # Cut inside the header: an error; cut inside the payload: exactly what remains.
    assert outcomes == [(n, n - header) for n in range(header, len(GOOD) + 1)]


def test_drop_reasons_are_named() -> None:
    assert drop_reasons() == [
        "too_short",
        "bad_version",
        "rtcp",
        "csrc_overrun",
        "extension_overrun",
        "bad_extension",
        "bad_padding",
        "too_long",
    ]


packets = st.builds(
    RtpPacket,
    payload_type=st.integers(0, 127).filter(lambda pt: not 64 <= pt <= 95),  # RTCP range
    marker=st.booleans(),
    sequence_number=st.integers(0, 0xFFFF),
    timestamp=st.integers(0, 0xFFFFFFFF),
    ssrc=st.integers(0, 0xFFFFFFFF),
    csrc=st.lists(st.integers(0, 0xFFFFFFFF), max_size=15),
    extension_profile=st.one_of(st.none(), st.integers(0, 0xFFFF)),
    extension=st.just(b""),
    payload=st.binary(max_size=300),
    padding_size=st.integers(0, 255),
)


@settings(max_examples=300, deadline=None)
@given(p=packets, ext_words=st.integers(0, 8), seed=st.binary(min_size=32, max_size=32))
def test_serialize_parse_round_trip(p: RtpPacket, ext_words: int, seed: bytes) -> None:
    if p.extension_profile is not None:
        # Opaque (non RFC 8285) extension bytes of a whole number of words.
        p.extension_profile = (
            0x1234 if p.extension_profile in (ONE_BYTE_PROFILE,) else p.extension_profile
        )
        if (p.extension_profile & 0xFFF0) == TWO_BYTE_PROFILE:
            p.extension_profile = 0x1234
        p.extension = (seed * 2)[: 4 * ext_words]
    raw = p.serialize()
    assert RtpPacket.parse(raw) == p
    assert RtpPacket.parse(raw).serialize() == raw


@settings(max_examples=2000, deadline=None)
@given(data=st.binary(max_size=120))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    try:
        p = RtpPacket.parse(data)
    except ValueError:
        return
    assert len(p.payload) <= len(data)


@settings(max_examples=1000, deadline=None)
@given(flips=st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), max_size=6))
def test_mutated_real_packet_never_crashes(flips: list[tuple[int, int]]) -> None:
    raw = bytearray((DATA / "rtp_pcma_sipp.bin").read_bytes())
    for at, value in flips:
        raw[at % len(raw)] = value
    with contextlib.suppress(ValueError):
        p = RtpPacket.parse(bytes(raw))
        assert len(p.payload) + p.padding_size <= len(raw) - 12
