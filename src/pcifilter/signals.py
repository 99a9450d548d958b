# SPDX-License-Identifier: Apache-2.0
"""Test-signal synthesis: DTMF keypresses, tones and noise at calibrated levels (dBm0).

0 dBm0 is a sine of peak 32768·10^(-3.14/20) (the G.711 convention used by the core).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

ROW_HZ = (697.0, 770.0, 852.0, 941.0)
COL_HZ = (1209.0, 1336.0, 1477.0, 1633.0)
KEYS = ("123A", "456B", "789C", "*0#D")
DIGITS = "0123456789*#ABCD"
DBM0_MAX_SINE = 3.14

FloatArray = npt.NDArray[np.float64]
Int16Array = npt.NDArray[np.int16]


def dbm0_to_amplitude(dbm0: float) -> float:
    """Peak amplitude (int16 units) of a sine at `dbm0`."""
    return float(32768.0 * 10.0 ** ((dbm0 - DBM0_MAX_SINE) / 20.0))


def power_to_dbm0(power: float) -> float:
    """Level in dBm0 of a signal with mean square `power` (int16 units)."""
    ref = dbm0_to_amplitude(0.0) ** 2 / 2.0
    return float(10.0 * np.log10(max(power, 1e-30) / ref))


def digit_freqs(digit: str) -> tuple[float, float]:
    """(low, high) frequencies of a DTMF key."""
    for r, row in enumerate(KEYS):
        c = row.find(digit)
        if c >= 0:
            return ROW_HZ[r], COL_HZ[c]
    raise ValueError(f"not a DTMF key: {digit!r}")


def tone(
    freqs: Sequence[float],
    levels_dbm0: Sequence[float],
    n: int,
    sample_rate: int = 8000,
    phases: Sequence[float] | None = None,
) -> FloatArray:
    """Sum of sines, each at its own level, as float samples (int16 scale)."""
    t = np.arange(n) / sample_rate
    out = np.zeros(n)
    for i, (f, lv) in enumerate(zip(freqs, levels_dbm0, strict=True)):
        ph = 0.0 if phases is None else phases[i]
        out += dbm0_to_amplitude(lv) * np.sin(2 * np.pi * f * t + ph)
    return out


def dtmf(
    digit: str,
    duration_ms: float,
    level_dbm0: float = -10.0,
    twist_db: float = 0.0,
    freq_error: tuple[float, float] = (0.0, 0.0),
    sample_rate: int = 8000,
    phases: tuple[float, float] = (0.0, 0.0),
) -> FloatArray:
    """One keypress. `level_dbm0` is the low tone's level; the high tone is `twist_db` above."""
    lo, hi = digit_freqs(digit)
    n = round(duration_ms * sample_rate / 1000)
    return tone(
        (lo * (1 + freq_error[0]), hi * (1 + freq_error[1])),
        (level_dbm0, level_dbm0 + twist_db),
        n,
        sample_rate,
        phases,
    )


def key_into(
    x: FloatArray,
    rng: np.random.Generator,
    digit: str,
    duration_ms: float,
    level_dbm0: float,
    onset: int,
    twist_db: float = 0.0,
) -> tuple[int, int]:
    """Add a keypress (random phases) to `x` at `onset`, in place; returns its (start, end)."""
    t = dtmf(
        digit,
        duration_ms,
        level_dbm0,
        twist_db,
        phases=(rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi)),
    )
    x[onset : onset + len(t)] += t
    return onset, onset + len(t)


def active_amplitude(x: npt.ArrayLike) -> float:
    """Peak amplitude of a sine as loud as the active part of `x` (samples above 300, about
    -40 dBm0): the level speech is quoted at, pauses left out."""
    xf = np.asarray(x, dtype=np.float64)
    return float(np.sqrt(2 * np.mean(xf[np.abs(xf) > 300] ** 2)))


def white_noise(n: int, level_dbm0: float, rng: np.random.Generator) -> FloatArray:
    """Gaussian white noise whose mean power is `level_dbm0`."""
    rms = dbm0_to_amplitude(level_dbm0) / np.sqrt(2.0)
    return rng.normal(0.0, rms, n)


def keyed_sequence(
    digits: str,
    on_ms: float = 60.0,
    off_ms: float = 60.0,
    level_dbm0: float = -10.0,
    lead_ms: float = 100.0,
    sample_rate: int = 8000,
) -> tuple[FloatArray, list[tuple[int, int]]]:
    """Digits keyed one after another; returns the signal and each tone's (start, end)."""
    spans: list[tuple[int, int]] = []
    parts: list[FloatArray] = [np.zeros(round(lead_ms * sample_rate / 1000))]
    pos = len(parts[0])
    for d in digits:
        t = dtmf(d, on_ms, level_dbm0, sample_rate=sample_rate)
        spans.append((pos, pos + len(t)))
        gap = np.zeros(round(off_ms * sample_rate / 1000))
        parts += [t, gap]
        pos += len(t) + len(gap)
    return np.concatenate(parts), spans


def to_int16(x: FloatArray) -> Int16Array:
    """Round and clip float samples to int16."""
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)
