# SPDX-License-Identifier: Apache-2.0
"""Real-time text (RFC 4103) read back as shown, card numbers typed there masked."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pcifilter import _core
from pcifilter.rtp import RtpPacket
from pcifilter.t140 import mask_typed_cards, text_streams

SDP = (
    "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0 98\r\na=rtpmap:98 t140/1000\r\n"
    "m=text 4010 RTP/AVP 100 98\r\na=rtpmap:98 T140/1000\r\na=rtpmap:100 red/1000\r\n"
    "m=text 0 RTP/AVP 98\r\nm=text x RTP/AVP 98\r\n"
)


def test_text_streams_of_an_sdp() -> None:
    """Only m=text lines count (an audio line's rtpmap names nothing here); a rejected or
    malformed line none."""
    assert text_streams(SDP) == {4010: ({98}, {100})}
    assert text_streams("m=text 4010 RTP/AVP 98") == {4010: (set(), set())}


def _t140(seq: int, text: bytes) -> tuple[int, bytes]:
    return seq, RtpPacket(98, False, seq, 300 * seq, 7, payload=text).serialize()


def test_plain_t140_keystrokes_and_erasures() -> None:
    """No redundancy: one keystroke a packet; a card typed with a slip erased (backspace)
    is found as shown, its digits masked where they were sent."""
    typed = b"pay 4111 1112\x081 1111 1111 thanks"
    packets = [_t140(i, typed[i : i + 1]) for i in range(len(typed))]
    changed, found = mask_typed_cards(packets, {98}, set(), _core.mask_card_numbers)
    assert found == 1
    out = b"".join(RtpPacket.parse(changed.get(f, p)).payload for f, p in packets)
    assert out == b"pay XXXX XXX2\x08X XXXX XXXX thanks"  # the erased "2" was never shown


def test_a_multi_byte_character_is_erased_whole() -> None:
    typed = "4111 1111 1111 11é\b11".encode()  # é (two bytes) erased by one backspace
    packets = [_t140(i, typed[i : i + 1]) for i in range(len(typed))]
    _, found = mask_typed_cards(packets, {98}, set(), _core.mask_card_numbers)
    assert found == 1


_BLOCK = st.binary(max_size=6) | st.sampled_from([b"4", b"1", b" ", b"\x08", b"\x80\x00"])


@st.composite
def _packets(draw: st.DrawFn) -> list[tuple[int, bytes]]:
    out = []
    for seq in range(draw(st.integers(0, 30))):
        pt = draw(st.sampled_from([98, 100, 0]))
        payload = draw(st.binary(max_size=12)) if pt == 100 else draw(_BLOCK)
        ts = draw(st.integers(0, 2**32 - 1)) if draw(st.booleans()) else 300 * seq
        out.append((seq, RtpPacket(pt, False, seq, ts, 7, payload=payload).serialize()))
    return out


@settings(max_examples=500, deadline=None)
@given(_packets())
def test_any_packets_come_back_as_long_and_changed_only_to_x(
    packets: list[tuple[int, bytes]],
) -> None:
    changed, found = mask_typed_cards(packets, {98}, {100}, _core.mask_card_numbers)
    sent = dict(packets)
    assert found >= 0 and set(changed) <= set(sent)
    for frame, new in changed.items():
        assert len(new) == len(sent[frame])
        assert all(a == b or b == ord("X") for a, b in zip(sent[frame], new, strict=True))


def test_a_redundant_copy_of_another_length_is_masked_too() -> None:
    """A sender's redundant copy that differs in length from the text it repeats (cut
    short): its bytes at the card's places are masked all the same."""
    card = b"4111 1111 1111 1111"
    first = RtpPacket(98, False, 1, 0, 7, payload=card).serialize()
    copy = card[:9]  # a redundant block of 9 bytes for timestamp 0, then "!" new
    red = bytes([0x80 | 98, 300 >> 6, ((300 & 0x3F) << 2) | 0, len(copy), 98]) + copy + b"!"
    second = RtpPacket(100, False, 2, 300, 7, payload=red).serialize()
    sweep = _core.mask_card_numbers
    changed, found = mask_typed_cards([(0, first), (1, second)], {98}, {100}, sweep)
    assert found == 1
    assert RtpPacket.parse(changed[1]).payload.endswith(b"XXXX XXXX!")
