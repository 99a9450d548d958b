# SPDX-License-Identifier: Apache-2.0
"""The instruction-set level of the core's vector kernels (correlator bank, G.711 decoding):
by default the widest this CPU runs well, another named with PCIFILTER_ISA. Each level this
CPU runs gives the same outputs bit for bit through the Python API: scrubbing at 8 and 16 kHz
with fax-tone detection, detection, and an RTP stream filter (PCMA, decoded by the G.711
kernels). The level is read once a process, so each runs in its own interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import pcifilter as pf
from pcifilter import _core

# Run in a child interpreter: a keyed call over noise and a voice-like partial, every path
# through the level's kernels, one digest of every output (digits included, never printed).
_CHILD = r"""
import hashlib, json
import numpy as np
import pcifilter as pf
from pcifilter import _core
from pcifilter import signals as sg
from pcifilter.rtp import RtpPacket

rng = np.random.default_rng(11)
x, _ = sg.keyed_sequence("4111111111111111", 70, 80, -14, lead_ms=250)
x = np.concatenate([x, sg.tone([1100.0], [-20.0], 4000), np.zeros(1600)])  # fax CNG, 500 ms
n = len(x)
x = x + sg.white_noise(n, -45, rng) + sg.tone([410.0, 1330.0], [-24.0, -30.0], n)
pcm = sg.to_int16(x)
h = hashlib.sha256()

def take(events):
    for e in events:
        h.update(repr((e.kind, e.digit, e.start_ms, e.end_ms, round(e.level_dbm0, 6))).encode())

for rate in (8000, 16000):
    y = pcm if rate == 8000 else sg.to_int16(np.repeat(x, 2) * 0.999)
    res = pf.scrub(y, sample_rate=rate, tones=pf.default_tones())
    h.update(res.audio.tobytes())
    take(res.events)
take(pf.detect(pcm))
f = pf.RtpStreamFilter()
codes = pf.alaw_encode(pcm).tobytes()
packets = [
    RtpPacket(8, i == 0, 100 + i // 160, 7000 + i, 0x55, payload=codes[i : i + 160])
    for i in range(0, n - 159, 160)
]
for p in f.process([q.serialize() for q in packets]) + f.flush():
    h.update(p)
take(f.take_events())
print(json.dumps({"isa": _core.bank_isa(), "digest": h.hexdigest()}))
"""


def _run(level: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PCIFILTER_ISA", None)
    if level is not None:
        env["PCIFILTER_ISA"] = level
    out = subprocess.run(
        [sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result: dict[str, str] = json.loads(out.stdout)
    return result


def test_every_level_this_cpu_runs_gives_the_same_outputs() -> None:
    default = _run(None)
    assert default["isa"] == _core.cpu_bank_isa()
    levels = _core.bank_isas_run()
    assert levels[0] == "portable"
    for level in levels:
        got = _run(level)
        assert got["isa"] == level
        assert got["digest"] == default["digest"], f"{level} differs from {default['isa']}"


def test_a_level_this_cpu_does_not_run_is_narrowed_to_one_it_does() -> None:
    all_levels = ["portable", "avx2", "avxvnni", "avx512vnni_ymm", "avx512vnni"]
    runs = set(_core.bank_isas_run())
    missing = [lv for lv in all_levels if lv not in runs]
    if not missing:
        pytest.skip("this CPU runs every level")
    for level in missing:
        below = all_levels[: all_levels.index(level)]
        assert _run(level)["isa"] == [lv for lv in below if lv in runs][-1]


def test_a_wrong_level_is_a_clear_error_when_a_detector_is_built() -> None:
    env = dict(os.environ, PCIFILTER_ISA="avx9000")
    code = (
        "import numpy as np, pcifilter as pf\n"
        "print(pf.alaw_decode(np.arange(256, dtype=np.uint8)).tolist())\n"
        "try:\n    pf.scrub(np.zeros(800, np.int16))\n"
        "except ValueError as e:\n    print('ValueError:', e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    # G.711 decoding still works (at the CPU's own level); building a detector says why not.
    assert json.loads(lines[0]) == pf.alaw_decode(np.arange(256, dtype=np.uint8)).tolist()
    assert lines[1].startswith("ValueError: PCIFILTER_ISA must be one of portable, avx2")


def test_bench_names_the_level_in_use_and_who_chose_it() -> None:
    env = dict(os.environ, PCIFILTER_ISA="portable")
    args = ["bench", "--seconds", "1", "--streams", "2", "--repeats", "1"]
    out = subprocess.run(
        [sys.executable, "-m", "pcifilter", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("correlator bank"))
    own = _core.cpu_bank_isa()
    if own == "portable":
        assert line.endswith("(in use: portable)")
    else:
        assert line.endswith(f"(in use: portable, by PCIFILTER_ISA; this CPU's own: {own})")
