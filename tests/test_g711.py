# SPDX-License-Identifier: Apache-2.0
"""G.711 against an independent reference: CPython's audioop (Sun's g711.c), with the
ITU-T G.191 one's-complement fold for negative µ-law inputs (audioop negates instead, which
differs from the ITU reference at 508 decision boundaries)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import pcifilter as pf

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

ALL_LINEAR = np.arange(-32768, 32768, dtype=np.int32)
ALL_CODES = np.arange(256, dtype=np.uint8)


def ref_ulaw_encode(x: np.ndarray) -> np.ndarray:
    mag = np.where(x < 0, -x - 1, x).astype(np.int16)  # G.191: (~x) for negatives
    codes = np.frombuffer(audioop.lin2ulaw(mag.tobytes(), 2), np.uint8).copy()
    codes[x < 0] &= 0x7F  # sign bit clear = negative
    return codes


def test_ulaw_encode_all_65536_inputs() -> None:
    assert np.array_equal(pf.ulaw_encode(ALL_LINEAR.astype(np.int16)), ref_ulaw_encode(ALL_LINEAR))


def test_alaw_encode_all_65536_inputs() -> None:
    x = ALL_LINEAR.astype(np.int16)
    ref = np.frombuffer(audioop.lin2alaw(x.tobytes(), 2), np.uint8)
    assert np.array_equal(pf.alaw_encode(x), ref)


@pytest.mark.parametrize(
    ("decode", "ref"), [(pf.ulaw_decode, audioop.ulaw2lin), (pf.alaw_decode, audioop.alaw2lin)]
)
def test_decode_all_256_codes(decode, ref) -> None:  # type: ignore[no-untyped-def]
    expect = np.frombuffer(ref(ALL_CODES.tobytes(), 2), np.int16)
    assert np.array_equal(decode(ALL_CODES), expect)
    assert np.array_equal(decode(ALL_CODES.tobytes()), expect)  # bytes accepted too


def test_codes_survive_round_trip() -> None:
    u = pf.ulaw_encode(pf.ulaw_decode(ALL_CODES))
    assert np.array_equal(u[ALL_CODES != 0x7F], ALL_CODES[ALL_CODES != 0x7F])
    assert u[0x7F] == 0xFF  # µ-law "-0" decodes to 0, which encodes as "+0"
    assert np.array_equal(pf.alaw_encode(pf.alaw_decode(ALL_CODES)), ALL_CODES)


def test_silence_codes() -> None:
    assert pf.ulaw_decode(bytes([0xFF]))[0] == 0
    assert pf.alaw_decode(bytes([0xD5]))[0] == 8
    assert pf.ulaw_encode(np.zeros(1, np.int16))[0] == 0xFF
    assert pf.alaw_encode(np.zeros(1, np.int16))[0] == 0xD5


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="int16"):
        pf.ulaw_encode(np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="1-D"):
        pf.alaw_encode(np.zeros((2, 2), np.int16))
    with pytest.raises(ValueError, match="uint8"):
        pf.ulaw_decode(np.zeros(4, np.int16))
