# SPDX-License-Identifier: Apache-2.0
"""The leak criterion, measured on scrubbed output: in every 10 ms of a keyed tone, the
output's projection onto the tone's two frequencies must be at least 40 dB below the tone's
own, and no independent decoder may recover a digit. Shared by tests and bench reports."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

import pcifilter as pf
from pcifilter import corpus
from pcifilter import signals as sg

BACKGROUNDS = ("silence", "line_noise", "music", "speech")
# Backgrounds cut from recordings (pcifilter.corpus.recorded) rather than espeak-ng and synthesis.
RECORDED = ("recorded_speech", "recorded_music")


def background(
    kind: str, n: int, rng: np.random.Generator, level_dbm0: float = -20.0
) -> npt.NDArray[np.float64]:
    if kind == "silence":
        return np.zeros(n)
    if kind == "line_noise":
        return sg.white_noise(n, -60.0, rng)
    src, active = _corpus(kind)
    at = int(rng.integers(0, len(src) - n))
    x = src[at : at + n].astype(np.float64)
    return x * sg.dbm0_to_amplitude(level_dbm0) / active


@functools.cache
def _corpus(kind: str) -> tuple[npt.NDArray[np.int16], float]:
    """The corpus a background is cut from (ten minutes of espeak-ng speech or synthesised
    music, or a recorded one), and its active level: read once."""
    if kind in RECORDED:
        src = corpus.recorded(kind.removeprefix("recorded_"))
    else:
        src = corpus.cached("speech" if kind == "speech" else "music", 600, seed=7)
    return src, sg.active_amplitude(src)


def projection(x: npt.NDArray[np.float64], freq: float, start: int) -> float:
    """|Σ x[n]·e^{-j2πf(start+n)/8000}|²."""
    n = np.arange(len(x)) + start
    return float(abs(np.sum(x * np.exp(-2j * np.pi * freq * n / 8000))) ** 2)


def window_db(y: npt.NDArray[np.float64], w: int, digit: str, level_dbm0: float) -> float:
    """The louder of `digit`'s two tones in the 10 ms y[w : w + 80] (projection), in dB
    relative to 10 ms of that tone alone at `level_dbm0`."""
    return max(
        10.0
        * np.log10(
            max(projection(y[w : w + 80], f, w), 1e-20)
            / projection(sg.tone([f], [level_dbm0], 80), f, 0)
        )
        for f in sg.digit_freqs(digit)
    )


def worst_window_db(y: npt.ArrayLike, start: int, end: int, digit: str, level_dbm0: float) -> float:
    """The loudest window_db over the 10 ms windows of y from `start` to `end`."""
    yf = np.asarray(y, dtype=np.float64)
    return max(window_db(yf, w, digit, level_dbm0) for w in range(start, end, 80))


def masked(spans: list[tuple[int, int]], n: int) -> npt.NDArray[np.bool_]:
    """Which of n samples the spans [start, end) cover."""
    mask = np.zeros(n, bool)
    for s, e in spans:
        mask[s:e] = True
    return mask


@dataclass
class LeakResult:
    worst_db: float  # worst 10 ms window, output projection relative to the tone's
    covered: float  # fraction of tone samples inside masked spans
    late_masks: int
    span: tuple[int, int] = (0, 0)  # the keypress's samples [onset, end) in the input


def leak_case(
    rng: np.random.Generator,
    bg: str,
    tone_dbm0: float,
    duration_ms: float,
    digit: str,
    mode: str = "silence",
    lookahead_ms: float = 40.0,
    twist_db: float = 0.0,
    scrub: Callable[..., pf.ScrubResult] = pf.scrub,
) -> tuple[LeakResult, npt.NDArray[np.int16], npt.NDArray[np.int16]]:
    """One keypress into 1.2 s of a background, through `scrub` (pf.scrub, or a variant
    under study that returns what it does)."""
    n = 9600
    x = background(bg, n, rng)
    tone_full = np.zeros(n)
    onset, end = sg.key_into(
        tone_full, rng, digit, duration_ms, tone_dbm0, int(rng.integers(2400, 4800)), twist_db
    )
    x += tone_full
    pcm = sg.to_int16(x)
    r = scrub(pcm, mode=mode, lookahead_ms=lookahead_ms)
    out = r.audio.astype(np.float64)
    lo, hi = sg.digit_freqs(digit)
    worst = -200.0
    for w in range(onset, end, 80):
        e = min(w + 80, end)
        for f in (lo, hi):
            ref = projection(tone_full[w:e], f, w)
            if ref <= 0:
                continue
            leak = projection(out[w:e], f, w) / ref
            worst = max(worst, 10 * np.log10(max(leak, 1e-20)))
    covered = float(masked(r.spans, n)[onset:end].mean())
    late = int(r.stats.get("late_masks", 0))
    return LeakResult(worst, covered, late, (onset, end)), pcm, r.audio


def sweep_case(
    rng: np.random.Generator,
    bg: str,
    tone_dbm0: float,
    i: int,
    mode: str = "silence",
    lookahead_ms: float = 40.0,
    random_twist: bool = True,
    scrub: Callable[..., pf.ScrubResult] = pf.scrub,
) -> tuple[LeakResult, npt.NDArray[np.int16], npt.NDArray[np.int16]]:
    """The i-th keypress of a leak sweep: digit i % 16, 40-200 ms long and, with
    `random_twist`, a twist from -4 to +2 dB, drawn from `rng` in that order."""
    duration_ms = float(rng.uniform(40, 200))
    twist_db = float(rng.uniform(-4, 2)) if random_twist else 0.0
    return leak_case(
        rng, bg, tone_dbm0, duration_ms, sg.DIGITS[i % 16], mode, lookahead_ms, twist_db, scrub
    )
