# SPDX-License-Identifier: Apache-2.0
"""Opus packet layout (RFC 6716 §3) against libopus's own opus_packet_parse (Debian's
libopus, loaded with ctypes) on random packets, and on packets libopus encodes."""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pcifilter import _core

_name = ctypes.util.find_library("opus")
LIB = ctypes.CDLL(_name) if _name else None
pytestmark = pytest.mark.skipif(LIB is None, reason="libopus missing: run ./dev.sh test")


def libopus_parse(packet: bytes) -> list[tuple[int, int]] | None:
    assert LIB is not None
    buf = ctypes.create_string_buffer(packet, len(packet))
    toc = ctypes.c_ubyte()
    frames = (ctypes.c_void_p * 48)()
    sizes = (ctypes.c_int16 * 48)()
    offset = ctypes.c_int()
    n = LIB.opus_packet_parse(
        buf, len(packet), ctypes.byref(toc), frames, sizes, ctypes.byref(offset)
    )
    if n < 0:
        return None
    base = ctypes.addressof(buf)
    return [(int(frames[i]) - base, int(sizes[i])) for i in range(n)]


def ours(packet: bytes) -> list[tuple[int, int]] | None:
    try:
        return [tuple(f) for f in _core.parse_opus_packet(packet)["frames"]]  # type: ignore[misc]
    except ValueError:
        return None


@settings(max_examples=3000, deadline=None)
@given(
    toc=st.integers(0, 255),
    body=st.binary(max_size=1600),
    head=st.lists(st.integers(0, 255), max_size=6),
)
def test_same_layout_as_libopus(toc: int, body: bytes, head: list[int]) -> None:
    packet = bytes([toc, *head]) + body  # head: count, padding and size bytes for codes 2-3
    assert ours(packet) == libopus_parse(packet)


def test_empty_packet_is_invalid() -> None:
    with pytest.raises(ValueError, match="invalid Opus packet"):
        _core.parse_opus_packet(b"")


@pytest.mark.parametrize(("frame_ms", "channels"), [(10, 1), (20, 1), (20, 2), (40, 1), (60, 2)])
def test_packets_libopus_encodes(frame_ms: int, channels: int) -> None:
    assert LIB is not None
    err = ctypes.c_int()
    LIB.opus_encoder_create.restype = ctypes.c_void_p
    enc = LIB.opus_encoder_create(48000, channels, 2048, ctypes.byref(err))  # VOIP
    assert err.value == 0
    try:
        n = 48 * frame_ms
        t = np.arange(n) / 48000
        pcm = np.repeat((8000 * np.sin(2 * np.pi * 697 * t)).astype(np.int16), channels)
        out = ctypes.create_string_buffer(4000)
        length = LIB.opus_encode(
            ctypes.c_void_p(enc), pcm.ctypes.data_as(ctypes.c_void_p), n, out, 4000
        )
        assert length > 0
        packet = out.raw[:length]
        info = _core.parse_opus_packet(packet)
        assert info["samples_per_frame"] * len(info["frames"]) == n
        assert info["stereo"] == (channels == 2)
        assert [tuple(f) for f in info["frames"]] == libopus_parse(packet)
    finally:
        LIB.opus_encoder_destroy(ctypes.c_void_p(enc))
