# SPDX-License-Identifier: Apache-2.0
"""`pcifilter demo`: a realistic payment call, scrubbed, with before/after files.

The call: an agent (espeak-ng) asks for the card; the caller keys a test card number
(4111 1111 1111 1111, the well-known Visa test number), the expiry and the CVV with human
timing and levels, says a few words (one while pressing a key), over line noise. The scrubbed
output is checked with an independent decoder (spandsp) when it is installed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

import pcifilter as pf
from pcifilter import corpus, spandsp
from pcifilter import signals as sg
from pcifilter.plot import plot_scrub
from pcifilter.wavio import write_pcm_wav

RATE = 8000
TEST_CARD = "4111111111111111#"  # a public test number: never real card data
TEST_EXPIRY = "1228#"
TEST_CVV = "123#"

AGENT = [
    (
        "en-gb",
        "Thank you. I am moving you to our secure payment line now. "
        "Please key in your sixteen digit card number, followed by the hash key.",
    ),
    ("en-gb", "Thank you. Now the expiry date, month and year, then hash."),
    ("en-gb", "And finally the three digit security code on the back of the card."),
    ("en-gb", "Lovely, that has all gone through. Is there anything else I can help with?"),
]
CALLER = [
    ("en-us+f3", "Okay, one moment, let me find my card."),
    ("en-us+f3", "Got it."),
    ("en-us+f3", "Okay."),
    ("en-us+f3", "No, that's everything, thank you."),
]


@dataclass
class DemoResult:
    before: Path
    after: Path
    picture: Path | None
    keyed: int
    events: int
    spans: int
    masked_ms: float
    decoder_before: int | None
    decoder_after: int | None


def _keys(rng: np.random.Generator, digits: str) -> tuple[npt.NDArray[np.float64], int]:
    parts = []
    for i, d in enumerate(digits):
        on = float(rng.uniform(70, 130))
        off = float(rng.uniform(90, 260)) + (450 if i % 4 == 3 else 0)  # pauses between groups
        lv = float(rng.uniform(-13, -7))
        parts += [
            sg.dtmf(
                d,
                on,
                lv,
                twist_db=float(rng.uniform(-3, 2)),
                phases=(rng.uniform(0, 6.3), rng.uniform(0, 6.3)),
            ),
            np.zeros(int(off * 8)),
        ]
    return np.concatenate(parts), len(digits)


def build_call(seed: int = 2026) -> tuple[npt.NDArray[np.int16], int]:
    """The demo call as 8 kHz int16 and the number of keys pressed."""
    if not corpus.espeak_available():
        raise RuntimeError("the demo needs espeak-ng and sox (apt-get install espeak-ng sox)")
    rng = np.random.default_rng(seed)

    def say(voice: str, text: str, level: float) -> npt.NDArray[np.float64]:
        x = corpus.speak(text, voice, 165).astype(np.float64)
        gain = sg.dbm0_to_amplitude(level) / sg.active_amplitude(x)
        return x * gain

    parts: list[npt.NDArray[np.float64]] = [np.zeros(4000)]
    keyed = 0
    for i, digits in enumerate((TEST_CARD, TEST_EXPIRY, TEST_CVV)):
        parts.append(say(*AGENT[i], -18))
        parts.append(np.zeros(3000))
        if i == 0:
            parts += [say(*CALLER[0], -16), np.zeros(6000)]
        keys, n = _keys(rng, digits)
        keyed += n
        if i == 1:  # the caller talks over the first keypresses
            talk = say(*CALLER[2], -20)
            keys[2000 : 2000 + len(talk)] += talk[: max(0, min(len(talk), len(keys) - 2000))]
        parts += [keys, np.zeros(4000)]
    parts += [say(*AGENT[3], -18), np.zeros(2000), say(*CALLER[3], -16), np.zeros(4000)]
    x = np.concatenate(parts)
    x += sg.white_noise(len(x), -58.0, rng)  # line noise
    return sg.to_int16(x), keyed


def run(out_dir: str | Path = "out", mode: str = "noise", plot: bool = True) -> DemoResult:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    call, keyed = build_call()
    result = pf.scrub(call, RATE, mode=mode)
    before, after = out / "demo_before.wav", out / "demo_after.wav"
    write_pcm_wav(before, call, RATE)
    write_pcm_wav(after, result.audio, RATE)
    picture = None
    if plot:
        picture = out / "demo.png"
        plot_scrub(picture, call, result.audio, RATE, result.spans, "pcifilter demo: payment call")
    dec_before = dec_after = None
    if spandsp.available():
        dec_before = len(spandsp.spandsp_digits(call)[0])
        dec_after = len(spandsp.spandsp_digits(result.audio, lenient=True)[0])
    return DemoResult(
        before,
        after,
        picture,
        keyed,
        len(result.events),
        len(result.spans),
        result.masked_ms,
        dec_before,
        dec_after,
    )
