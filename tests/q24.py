# SPDX-License-Identifier: Apache-2.0
"""ITU-T Q.24 (AT&T column) test signals and detection-rate measurement, shared by the
tests and `bench/q24_report.py`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

import pcifilter as pf
from pcifilter import signals as sg
from pcifilter import spandsp

Codec = Callable[[npt.NDArray[np.int16]], npt.NDArray[np.int16]]


def identity(x: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    return x


def ulaw_round_trip(x: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    return pf.ulaw_decode(pf.ulaw_encode(x))


def alaw_round_trip(x: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    return pf.alaw_decode(pf.alaw_encode(x))


CODECS: dict[str, Codec] = {"linear": identity, "ulaw": ulaw_round_trip, "alaw": alaw_round_trip}


def trial_signal(
    rng: np.random.Generator,
    digit: str,
    duration_ms: float = 50.0,
    level_dbm0: float = -10.0,
    twist_db: float = 0.0,
    freq_error: tuple[float, float] = (0.0, 0.0),
    snr_db: float | None = None,
    sample_rate: int = 8000,
) -> tuple[npt.NDArray[np.float64], int, int]:
    """A keypress at a random sub-millisecond onset between silences (or noise)."""
    per_ms = sample_rate // 1000
    lead = int(rng.integers(50 * per_ms, 60 * per_ms))  # onset anywhere within the 5 ms grid
    tone = sg.dtmf(
        digit,
        duration_ms,
        level_dbm0,
        twist_db,
        freq_error,
        sample_rate=sample_rate,
        phases=(rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi)),
    )
    x = np.concatenate([np.zeros(lead), tone, np.zeros(100 * per_ms)])
    if snr_db is not None:
        # SNR per tone: noise power relative to the weaker tone's power.
        weaker = min(level_dbm0, level_dbm0 + twist_db)
        x += sg.white_noise(len(x), weaker - snr_db, rng)
    return x, lead, lead + len(tone)


def _pair_fit(
    y: npt.ArrayLike, start: int, end: int, digit: str
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """A digit's two tones fitted by least squares (at their nominal frequencies) to
    y[start:end]: the cos/sin amplitudes (low tone first), the fit and the samples."""
    low, high = sg.digit_freqs(digit)
    t = np.arange(start, end) / 8000.0
    basis = np.stack([f(2 * np.pi * hz * t) for hz in (low, high) for f in (np.cos, np.sin)], 1)
    z = np.asarray(y, dtype=np.float64)[start:end]
    c, *_ = np.linalg.lstsq(basis, z, rcond=None)
    return c, basis @ c, z


def delivered_twist_db(y: npt.ArrayLike, start: int, end: int, digit: str) -> float:
    """The twist (high - low, dB) a keypress keyed at [start, end) has in the audio `y` as
    delivered (after a codec): both tones fitted over the keypress less 5 ms at each end
    (where a codec smears the edges). What a receiver is given to judge, whatever the twist
    keyed was."""
    c, _, _ = _pair_fit(y, start + 40, end - 40, digit)
    return float(10 * np.log10((c[2] ** 2 + c[3] ** 2) / (c[0] ** 2 + c[1] ** 2)))


def delivered_snr_db(y: npt.ArrayLike, start: int, end: int, digit: str) -> float:
    """How clean a keypress keyed at [start, end) arrives in `y`: the pair fitted in each
    10 ms inside it, the fit's energy over the rest's, in dB, the median over the windows
    (Q.24's noise row is 15 dB per tone, about 18 dB for the pair)."""
    snr = []
    for at in range(start, end - 79, 80):
        _, fit, z = _pair_fit(y, at, at + 80, digit)
        snr.append(10 * np.log10(np.sum(fit**2) / max(float(np.sum((z - fit) ** 2)), 1e-9)))
    return float(np.median(snr))


def delivered_twist_trials(
    codec: Codec, twist_db: float, seed: int
) -> list[tuple[str, float, list[str]]]:
    """All sixteen digits keyed at `twist_db` (-10 dBm0, `trial_signal`'s random onsets and
    phases from `seed`), one after another in one stream through `codec`: for each keypress
    its digit, the twist it arrives with (`delivered_twist_db`) and the digits the detector
    reports for it."""
    rng = np.random.default_rng(seed)
    keyed = [(d, *trial_signal(rng, d, twist_db=twist_db, level_dbm0=-10.0)) for d in sg.DIGITS]
    y = codec(sg.to_int16(np.concatenate([x for _, x, _, _ in keyed])))
    events = pf.detect(y)
    trials, at = [], 0
    for d, x, on, off in keyed:
        got = [e.digit for e in events if at <= e.start_ms * 8 < at + len(x)]
        trials.append((d, delivered_twist_db(y, at + on, at + off, d), got))
        at += len(x)
    return trials


def detection_rate(
    trials: int,
    seed: int,
    codec: Codec = identity,
    digits: str = sg.DIGITS,
    sample_rate: int = 8000,
    **signal: object,
) -> tuple[float, list[tuple[int, int, list[pf.ToneEvent]]]]:
    """Fraction of trials where exactly the keyed digit was found once, and the details
    (`sample_rate`: the signals' and the detector's rate)."""
    rng = np.random.default_rng(seed)
    ok = 0
    details = []
    for i in range(trials):
        digit = digits[i % len(digits)]
        x, start, end = trial_signal(rng, digit, sample_rate=sample_rate, **signal)  # type: ignore[arg-type]
        events = pf.detect(codec(sg.to_int16(x)), sample_rate)
        if [e.digit for e in events] == [digit]:
            ok += 1
        details.append((start, end, events))
    return ok / trials, details


def any_detection_rate(
    trials: int, seed: int, codec: Codec = identity, sample_rate: int = 8000, **signal: object
) -> float:
    """Fraction of trials where anything at all was reported."""
    rng = np.random.default_rng(seed)
    hits = 0
    for i in range(trials):
        x, _, _ = trial_signal(rng, sg.DIGITS[i % 16], sample_rate=sample_rate, **signal)  # type: ignore[arg-type]
        hits += bool(pf.detect(codec(sg.to_int16(x)), sample_rate))
    return hits / trials


def talk_down_signals(
    speech: npt.NDArray[np.int16],
    tone_dbm0: float,
    trials: int = 200,
    seed: int = 0,
    speech_dbm0: float = -12.0,
    duration_ms: float = 60.0,
) -> list[tuple[str, npt.NDArray[np.int16]]]:
    """(digit, audio) pairs: a keypress over 0.5 s of speech at `speech_dbm0` active level."""
    rng = np.random.default_rng(seed)
    gain = sg.dbm0_to_amplitude(speech_dbm0) / sg.active_amplitude(speech)
    out = []
    for i in range(trials):
        digit = sg.DIGITS[i % 16]
        at = int(rng.integers(0, len(speech) - 4000))
        x = speech[at : at + 4000].astype(np.float64) * gain
        sg.key_into(x, rng, digit, duration_ms, tone_dbm0, int(rng.integers(800, 1600)))
        out.append((digit, sg.to_int16(x)))
    return out


def talk_down_rate(
    speech: npt.NDArray[np.int16],
    tone_dbm0: float,
    trials: int = 200,
    seed: int = 0,
    **options: object,
) -> float:
    """Fraction of `talk_down_signals` where exactly the keyed digit is found."""
    cases = talk_down_signals(speech, tone_dbm0, trials, seed)
    ok = sum([e.digit for e in pf.detect(x, **options)] == [d] for d, x in cases)  # type: ignore[arg-type]
    return ok / trials


def spandsp_talk_down_rate(
    speech: npt.NDArray[np.int16], tone_dbm0: float, trials: int = 200, seed: int = 0
) -> float:
    """The same as `talk_down_rate`, through spandsp 0.0.6 (the caller checks
    `spandsp.available()`)."""
    cases = talk_down_signals(speech, tone_dbm0, trials, seed)
    return sum(spandsp.spandsp_digits(x)[0] == d for d, x in cases) / trials
