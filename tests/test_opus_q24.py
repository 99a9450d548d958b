# SPDX-License-Identifier: Apache-2.0
"""The ITU-T Q.24 rows of the core, on keypresses that went through Opus the way a gateway
codes them: 48 kHz, SILK, hybrid and CELT, 10/20/40/60 ms frames, at 16 kbit/s (the lowest
rate the rows must hold at), decoded at 8 kHz as the stream filter decodes (libopus). Each row
keys all sixteen digits (random onsets and tone phases) in one stream per mode and frame size;
an accept row passes only if every keypress gives exactly its digit once, a reject row only if
none gives anything. Lower bitrates: `bench/opus_q24_report.py` (in bench/RESULTS.md)."""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt
import pytest
from opuslib import round_trip
from q24 import delivered_twist_trials, trial_signal

import pcifilter as pf
from pcifilter import signals as sg

BITRATE = 16000
MODES = [(m, f) for m in ("silk", "hybrid", "celt") for f in (10, 20, 40, 60)]
configs = pytest.mark.parametrize(("mode", "frame_ms"), MODES)
# CELT with 10 ms frames at 16 kbit/s (20 bytes a frame) moves a tone's level enough that a
# few keypresses at the twist limit are lost (a -8 dB twist comes out near -10 dB; 100 % from
# 24 kbit/s): a known gap, kept visible. It is the codec's: the twist it delivers for a -8 dB
# keypress can lie below that of a -12.1 dB one (test_celt_twist_rows_hold_on_the_twist_...).
CELT10_GAP = pytest.mark.xfail(
    strict=True,
    reason="CELT 10 ms at 16 kbit/s: a few keypresses at the twist limit are lost",
)
twist_configs = pytest.mark.parametrize(
    ("mode", "frame_ms"),
    [pytest.param(*c, marks=CELT10_GAP) if c == ("celt", 10) else c for c in MODES],
)


def _coded(
    parts: list[npt.NDArray[np.float64]], mode: str, frame_ms: int, bitrate: int = BITRATE
) -> tuple[npt.NDArray[np.int16], list[tuple[float, float]]]:
    """The parts in one stream through Opus, decoded; and each part's span in ms."""
    spans, at = [], 0
    for p in parts:
        spans.append((at / 8, (at + len(p)) / 8))
        at += len(p)
    return round_trip(sg.to_int16(np.concatenate(parts)), mode, frame_ms, bitrate), spans


def _through_opus(
    parts: list[npt.NDArray[np.float64]], mode: str, frame_ms: int, bitrate: int = BITRATE
) -> tuple[list[pf.ToneEvent], list[tuple[float, float]]]:
    """The parts in one stream through Opus; the events and each part's span in ms."""
    y, spans = _coded(parts, mode, frame_ms, bitrate)
    return pf.detect(y), spans


def _digits_per_part(
    mode: str, frame_ms: int, seed: int, bitrate: int = BITRATE, **signal: object
) -> list[tuple[str, list[str]]]:
    rng = np.random.default_rng(seed)
    keyed = [(d, trial_signal(rng, d, **signal)[0]) for d in sg.DIGITS]  # type: ignore[arg-type]
    events, spans = _through_opus([x for _, x in keyed], mode, frame_ms, bitrate)
    return [
        (d, [e.digit for e in events if a <= e.start_ms < b])
        for (d, _), (a, b) in zip(keyed, spans, strict=True)
    ]


def _accept(mode: str, frame_ms: int, bitrate: int = BITRATE, **signal: object) -> None:
    seed = MODES.index((mode, frame_ms))
    for d, got in _digits_per_part(mode, frame_ms, seed, bitrate, **signal):
        assert got == [d], (d, got)


def _reject(mode: str, frame_ms: int, bitrate: int = BITRATE, **signal: object) -> None:
    seed = MODES.index((mode, frame_ms))
    for d, got in _digits_per_part(mode, frame_ms, seed, bitrate, **signal):
        assert got == [], (d, got)


@configs
def test_frequency_rows(mode: str, frame_ms: int) -> None:
    for err in [(0.015, 0.015), (-0.015, -0.015), (0.015, -0.015), (-0.015, 0.015)]:
        _accept(mode, frame_ms, freq_error=err)
    for err in [(0.035, 0.0), (-0.035, 0.0), (0.0, 0.035), (0.0, -0.035)]:
        _reject(mode, frame_ms, freq_error=err)


@configs
def test_level_rows(mode: str, frame_ms: int) -> None:
    for level in (0.0, -10.0, -25.0, -30.0):
        _accept(mode, frame_ms, level_dbm0=level)
    _reject(mode, frame_ms, level_dbm0=-55.0)


@twist_configs
def test_twist_rows(mode: str, frame_ms: int) -> None:
    for twist in (-8.0, 4.0):
        _accept(mode, frame_ms, twist_db=twist, level_dbm0=-10.0)
    for twist in (-12.1, 10.1):
        _reject(mode, frame_ms, twist_db=twist, level_dbm0=-10.0)


@pytest.mark.parametrize("frame_ms", [10, 20, 60])
def test_celt_twist_rows_hold_on_the_twist_the_codec_delivers(frame_ms: int) -> None:
    """Why the CELT 10 ms twist row above is a strict xfail and not a detector flaw: at
    16 kbit/s CELT moves each tone's level by up to 2-3 dB, so the twist it delivers for a
    keypress keyed at -8 dB can lie below the twist it delivers for one keyed at -12.1 dB (and
    at 20 and 60 ms nearly so; `opus_q24_report.py --twist-delivered`): no receiver of the
    decoded audio can accept the one and reject the other. Judged on the twist delivered
    (both tones fitted over the keypress), every keypress within [-8, +4] dB is found and
    none beyond -12 / +10 dB."""
    delivered: dict[float, list[float]] = {}
    for twist in (-8.0, -12.1, 4.0, 10.1):
        for seed in range(200, 204):
            codec = functools.partial(round_trip, mode="celt", frame_ms=frame_ms, bitrate=BITRATE)
            for d, tw, got in delivered_twist_trials(codec, twist, seed):
                delivered.setdefault(twist, []).append(tw)
                if -8.0 <= tw <= 4.0:
                    assert got == [d], (d, tw)
                elif tw < -12.0 or tw > 10.0:
                    assert got == [], (d, tw)
    if frame_ms == 10:
        assert min(delivered[-8.0]) < max(delivered[-12.1])


@configs
def test_duration_and_noise_rows(mode: str, frame_ms: int) -> None:
    _accept(mode, frame_ms, duration_ms=40.0)
    _accept(mode, frame_ms, level_dbm0=-20.0, snr_db=15.0)
    _reject(mode, frame_ms, duration_ms=23.0)


@configs
def test_pause_and_dropout_rows(mode: str, frame_ms: int) -> None:
    rng = np.random.default_rng(7)

    def two(d: str, gap_ms: float) -> npt.NDArray[np.float64]:
        a = sg.dtmf(d, 60.0, -10.0, phases=(rng.uniform(0, 6.28), rng.uniform(0, 6.28)))
        b = sg.dtmf(d, 60.0, -10.0, phases=(rng.uniform(0, 6.28), rng.uniform(0, 6.28)))
        lead = np.zeros(int(rng.integers(400, 480)))
        return np.concatenate([lead, a, np.zeros(int(gap_ms * 8)), b, np.zeros(800)])

    for gap_ms, presses in ((40.0, 2), (10.0, 1)):
        events, spans = _through_opus([two(d, gap_ms) for d in sg.DIGITS], mode, frame_ms)
        for d, (a, b) in zip(sg.DIGITS, spans, strict=True):
            assert [e.digit for e in events if a <= e.start_ms < b] == [d] * presses, (d, gap_ms)


@pytest.mark.parametrize("mode", ["silk", "celt"])
def test_noise_and_dial_tone_alone_give_nothing(mode: str) -> None:
    rng = np.random.default_rng(3)
    noise = sg.white_noise(8000 * 10, -20.0, rng)
    dial = sg.tone((350.0, 440.0), (-13.0, -13.0), 8000 * 10)
    for x in (noise, dial):
        assert pf.detect(round_trip(sg.to_int16(x), mode, 20, BITRATE)) == []


def test_celt_10_ms_holds_the_twist_rows_at_24_kbit_s() -> None:
    for twist in (-8.0, 4.0):
        _accept("celt", 10, 24000, twist_db=twist, level_dbm0=-10.0)
    for twist in (-12.1, 10.1):
        _reject("celt", 10, 24000, twist_db=twist, level_dbm0=-10.0)


@pytest.mark.parametrize("mode", ["silk", "hybrid", "celt"])
def test_the_stream_filter_finds_what_these_rows_measure(mode: str) -> None:
    # The rows above run pf.detect on audio libopus decoded at 8 kHz; the Opus stream filter
    # decodes the same way and runs the same detector: same digits, and durations that agree
    # within twice the detector's ±5 ms edge tolerance (the two see the audio on analysis
    # grids offset by the codec's look-ahead, which the rows remove).
    from opuslib import rtp_stream, upsample6

    rng = np.random.default_rng(5)
    parts = [trial_signal(rng, d, twist_db=-8.0)[0] for d in sg.DIGITS]
    x8 = sg.to_int16(np.concatenate([np.zeros(1600), *parts]))  # 200 ms for the codec to settle
    f = pf.RtpStreamFilter(opus_pt=111, telephone_event_pt=-1)
    f.process(rtp_stream(upsample6(x8), mode, 20, BITRATE))
    f.flush()
    by_filter = f.take_events()
    by_detect = pf.detect(round_trip(x8, mode, 20, BITRATE))
    assert [e.digit for e in by_filter] == [e.digit for e in by_detect] == list(sg.DIGITS)
    for a, b in zip(by_filter, by_detect, strict=True):
        assert abs((a.end_ms - a.start_ms) - (b.end_ms - b.start_ms)) <= 10.0


def test_a_note_and_its_octave_through_opus_is_no_keypress() -> None:
    """A note 1.4-2.5 % under 852 Hz with its octave (1633 Hz +1.8-2.9 %) is what a "C" looks
    like within the detector's 2.5 % limit, but exactly 2:1; through the codec the windows'
    frequency estimates flicker past the window test's 2:1 guard, so the whole run's
    frequencies are tested too (without that, a digit here through CELT 10 ms, and 1 in 20
    minutes of music through hybrid 10 ms, bench/RESULTS.md)."""
    rng = np.random.default_rng(1)
    parts = []
    for _ in range(64):
        f = float(rng.uniform(831.0, 840.0))
        level = float(rng.uniform(-30, -15))
        n = int(rng.integers(400, 1600))
        levels = [level, level - float(rng.uniform(0, 6)), level - 10]
        parts += [sg.tone([f, 2 * f, 3 * f], levels, n, phases=rng.uniform(0, 6.3, 3))]
        parts += [np.zeros(int(rng.integers(200, 800)))]
    x = np.concatenate(parts)
    pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
    assert pf.detect(pcm) == []
    for mode, frame_ms in (("hybrid", 10), ("hybrid", 20), ("celt", 10), ("silk", 10)):
        assert pf.detect(round_trip(pcm, mode, frame_ms, BITRATE)) == [], (mode, frame_ms)
