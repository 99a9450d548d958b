# SPDX-License-Identifier: Apache-2.0
"""Talk-off (an hour of speech and an hour of music: no digit; through Opus:
test_talkoff_opus.py) and talk-down (keypresses over speech at -12 dBm0: at least as often as
spandsp 0.0.6's published curve). Marked slow; CI runs them. The corpora are built from
espeak-ng and synthesis (pcifilter.corpus) and cached."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from q24 import CODECS, talk_down_rate

import pcifilter as pf
from pcifilter import corpus

pytestmark = pytest.mark.slow

# spandsp 0.0.6 measured by the author, for tones at -5 ... -25 dBm0 over speech.
SPANDSP_TALK_DOWN = {-5.0: 0.90, -10.0: 0.64, -15.0: 0.51, -20.0: 0.41, -25.0: 0.33}


@pytest.mark.parametrize("kind", ["speech", "music"])
def test_no_digit_in_an_hour(kind: str) -> None:
    x = corpus.cached(kind, 3600, seed=0)
    assert len(x) == 3600 * 8000
    assert pf.detect(x) == []


@pytest.mark.parametrize("kind", ["speech", "music"])
def test_masking_leaves_most_of_an_hour_untouched(kind: str) -> None:
    x = corpus.cached(kind, 3600, seed=0)
    r = pf.scrub(x)
    assert r.masked_ms / (len(x) / 8) < 0.08  # measured 4-6 %: see bench/RESULTS.md
    assert r.events == []


def test_talk_down_beats_spandsp_reference(speech_10min: np.ndarray) -> None:
    for level, reference in SPANDSP_TALK_DOWN.items():
        assert talk_down_rate(speech_10min, level, trials=200, seed=1) >= reference


def test_talk_down_at_least_spandsps_on_the_same_signals(speech_10min: np.ndarray) -> None:
    """spandsp 0.0.6 on the very signals (400 keypresses per level): pcifilter finds at least
    as many at every level (measured: 97/85.5/71.5/60.75/46.25 % against 96/84/71.5/57/45 %),
    with no talk-off on the hours above where spandsp reports several digits."""
    from pcifilter import spandsp

    if not spandsp.available():
        pytest.skip("libspandsp is not installed")
    from q24 import spandsp_talk_down_rate

    for level in SPANDSP_TALK_DOWN:
        ours = talk_down_rate(speech_10min, level, trials=400, seed=1)
        theirs = spandsp_talk_down_rate(speech_10min, level, trials=400, seed=1)
        assert ours >= theirs, (level, ours, theirs)


# Recorded telephone speech (131 minutes of prompts: five voices, four women and a man, in
# English, Spanish, French, Italian and Russian) and 18 minutes of music on hold, from Debian's
# asterisk sound packages (pcifilter.corpus.recorded; ./dev.sh installs them).
# Read once for the tests below (a few seconds each time: thousands of WAV files).
_recorded = functools.cache(corpus.recorded)


@pytest.mark.parametrize("kind", ["speech", "music"])
def test_no_digit_in_recorded_speech_and_music(kind: str) -> None:
    x = _recorded(kind)
    assert len(x) > 8000 * 60 * (120 if kind == "speech" else 15)
    for codec in CODECS.values():
        assert pf.detect(codec(x)) == []


@pytest.mark.parametrize("kind", ["speech", "music"])
def test_masking_leaves_most_of_recorded_speech_and_music_untouched(kind: str) -> None:
    x = _recorded(kind)
    r = pf.scrub(x)
    assert r.masked_ms / (len(x) / 8) < 0.05  # measured 3.4 % and 1.8 %: bench/RESULTS.md
    assert r.events == []


def test_talk_down_over_recorded_speech() -> None:
    """Keypresses over recorded speech at its own -12 dBm0 (400 per level): pcifilter finds at
    least as many as spandsp 0.0.6 on the very signals at every level, and more than the
    figures the issue quotes for spandsp, which spandsp comes close to here (measured:
    95.8/72.2/54.8/43.8/37.2 % against spandsp's 95.2/69.2/51.5/42.8/35.5 %)."""
    from q24 import spandsp_talk_down_rate

    from pcifilter import spandsp

    speech = _recorded("speech")
    for level, reference in SPANDSP_TALK_DOWN.items():
        ours = talk_down_rate(speech, level, trials=400, seed=1)
        assert ours >= reference, (level, ours)
        if spandsp.available():
            theirs = spandsp_talk_down_rate(speech, level, trials=400, seed=1)
            assert ours >= theirs, (level, ours, theirs)


@pytest.mark.parametrize("bg", ["recorded_speech", "recorded_music"])
def test_keypresses_over_recorded_speech_and_music_are_masked_whole(bg: str) -> None:
    """The leak criterion over recordings at -20 dBm0, for keypresses from -3 to -20 dBm0
    (quieter ones under louder speech or music: the strict xfail in test_scrub.py; over the
    recordings 61/64 at -25 and 48-50/64 at -30 dBm0 are covered, bench/RESULTS.md)."""
    from leak import sweep_case

    rng = np.random.default_rng(24)
    for level in (-3.0, -10.0, -15.0, -20.0):
        for i in range(48):
            res, _, _ = sweep_case(rng, bg, level, i)
            assert res.covered == 1.0 and res.worst_db <= -40.0, (level, i, res)


def test_recorded_corpus_is_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="kind"):
        corpus.recorded("noise")
    monkeypatch.setattr(corpus, "ASTERISK_MOH", tmp_path / "moh")
    with pytest.raises(FileNotFoundError, match="asterisk-moh-opsound-wav"):
        corpus.recorded("music")
    (tmp_path / "moh").mkdir()
    with wave.open(str(tmp_path / "moh" / "a.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\0\0" * 160)
    with pytest.raises(ValueError, match="not 8 kHz"):
        corpus.recorded("music")


_BUILD_ONE = """
import sys, time
from pathlib import Path
from pcifilter import corpus
build = corpus.music
def music(seconds, seed):  # counted, and slow enough that the other process asks meanwhile
    with open(Path(sys.argv[1]) / "built", "a") as f:
        f.write("x")
    time.sleep(1.0)
    return build(seconds, seed)
corpus.music = music
sys.stdout.write(corpus.cached("music", 2, seed=3).tobytes().hex()[:64])
"""


def test_processes_asking_for_one_corpus_build_it_once(tmp_path: Path) -> None:
    """The suite's workers (pytest-xdist) ask for the same corpora at once: one builds each,
    the others wait for it and read it, and no half-written file is ever read or left."""
    env = {**os.environ, "PCIFILTER_CACHE": str(tmp_path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _BUILD_ONE, str(tmp_path)], env=env, stdout=subprocess.PIPE
        )
        for _ in range(3)
    ]
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0]
    assert (tmp_path / "built").read_text() == "x"
    assert len(set(outs)) == 1
    x = corpus.music(2, 3)
    assert outs[0].decode() == x.tobytes().hex()[:64]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "built",
        "music-2s-seed3.raw",
        "music-2s-seed3.raw.lock",
    ]
