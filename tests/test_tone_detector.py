# SPDX-License-Identifier: Apache-2.0
"""Configured tones: fax CNG/CED and user-given single and dual tones."""

from __future__ import annotations

import numpy as np
import pytest

import pcifilter as pf
from pcifilter import signals as sg


def _with_silence(x: np.ndarray) -> np.ndarray:
    return sg.to_int16(np.concatenate([np.zeros(2000), x, np.zeros(4000)]))


@pytest.mark.parametrize(("freq", "name", "ms"), [(1100.0, "cng", 500.0), (2100.0, "ced", 2600.0)])
def test_fax_tones(freq: float, name: str, ms: float) -> None:
    x = _with_silence(sg.tone((freq,), (-20.0,), int(ms * 8)))
    events = pf.detect(x, tones="default")
    assert [(e.kind, e.name, e.digit) for e in events] == [("tone", name, None)]
    assert abs(events[0].start_ms - 250) <= 15 and abs(events[0].end_ms - (250 + ms)) <= 15
    assert abs(events[0].level_dbm0 + 20) < 1.5


def test_short_or_off_frequency_tones_are_ignored() -> None:
    assert pf.detect(_with_silence(sg.tone((1100.0,), (-20.0,), 1600)), tones="default") == []
    assert pf.detect(_with_silence(sg.tone((1160.0,), (-20.0,), 4800)), tones="default") == []


def test_user_dual_tone_and_dtmf_side_by_side() -> None:
    spec = pf.ToneSpec("busy", 480.0, 620.0, min_duration_ms=200.0)
    x = np.concatenate(
        [sg.tone((480.0, 620.0), (-20.0, -20.0), 4000), np.zeros(800), sg.dtmf("5", 80, -15)]
    )
    events = pf.detect(_with_silence(x), tones=[spec])
    assert [(e.kind, e.name) for e in events] == [("tone", "busy"), ("dtmf", "dtmf")]
    assert "busy" in repr(events[0])


def test_dtmf_is_not_a_configured_tone() -> None:
    x, _ = sg.keyed_sequence("0123456789", 200, 100, -10)
    events = pf.detect(sg.to_int16(x), tones="default")
    assert all(e.kind == "dtmf" for e in events) and len(events) == 10


def test_tones_can_be_masked_too() -> None:
    x = _with_silence(sg.tone((2100.0,), (-15.0,), 8000))
    plain = pf.scrub(x, tones="default")
    masked = pf.scrub(x, tones="default", mask_tones=True)
    assert plain.spans == [] and len(plain.events) == 1
    assert masked.spans and np.abs(masked.audio[3000:9000]).max() == 0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "x", "freq1_hz": 50.0}, "frequencies"),
        ({"name": "", "freq1_hz": 500.0}, "name"),
        ({"name": "x", "freq1_hz": 500.0, "min_duration_ms": 1.0}, "min_duration_ms"),
    ],
)
def test_bad_tone_specs(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pf.detect(np.zeros(800, np.int16), tones=[spec])
