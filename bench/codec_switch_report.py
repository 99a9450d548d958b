# SPDX-License-Identifier: Apache-2.0
"""Keypresses under speech cut by a switch between G.711 (PCMU) and Opus, through a filter of
both families (tests/test_both_families.py has cases from it): N random keypresses (`LOW` to
`HIGH` dBm0 a tone, 40-120 ms) 600 ms into the speech corpus at -20 dBm0, each cut by a
switch at a packet boundary inside it (G.711 to Opus or Opus to G.711; SILK, hybrid, CELT in
turn), against the same calls with no switch: how many keep a trace (their loudest 10 ms in
what a receiver hears above -40 dB re the tone), and the worst.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/codec_switch_report.py [N] [SEED] [LOW] [HIGH]

(defaults 200, 2, -25, -5)

`--impaired N SEED`: N random keypresses (-25 to -3 dBm0 a tone, 40-120 ms) over line noise,
a switch in each (to the packet after its end), and near the switch (3 packets before to 2
after) one or two packets lost, two swapped, one sent twice, or none: how many keep a trace
in what a receiver hears (each packet at its own place, a fresh Opus decoder after a gap),
or let spandsp (lenient) hear a digit.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from leak import _corpus, worst_window_db
from opuslib import Decoder
from test_both_families import OPUS, _call, _filter, _hear

import pcifilter as pf
from pcifilter import signals as sg
from pcifilter import spandsp
from pcifilter.rtp import RtpPacket


def _worst(
    pcm: np.ndarray, switches: list[int], mode: str, span: tuple[int, int], digit: str, level: float
) -> float:
    f = _filter()
    raw = _call(pcm, switches, mode)
    y = _hear(f.process(raw) + f.flush())
    return worst_window_db(np.concatenate([y, np.zeros(160, np.int16)]), *span, digit, level)


def _placed(out: list[bytes], raw: list[bytes], n: int) -> np.ndarray:
    """What a receiver hears of `out` (packets of `raw`, some lost, swapped or repeated):
    each packet's 20 ms at its place in `raw`, silence where none is; a fresh Opus decoder
    after a gap in the Opus packets."""
    place = {(p.payload_type, p.timestamp): i for i, p in enumerate(map(RtpPacket.parse, raw))}
    y = np.zeros(n, np.int16)
    dec, last = None, -2
    for p in map(RtpPacket.parse, out):
        i = place[(p.payload_type, p.timestamp)]
        if p.payload_type == OPUS:
            dec = dec if dec is not None and i == last + 1 else Decoder(8000)
            seg = dec.decode(p.payload, 160)
        else:
            dec, seg = None, pf.ulaw_decode(np.frombuffer(p.payload, np.uint8))
        y[i * 160 : i * 160 + len(seg)] = seg
        last = i
    return y


def impaired(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    kept = []
    for case in range(n):
        digit = "0123456789*#"[rng.integers(12)]
        level = float(rng.uniform(-25, -3))
        duration = int(rng.integers(40, 121))
        x, spans = sg.keyed_sequence(digit, duration, 100, level, lead_ms=600)
        x = np.concatenate([x, np.zeros(3200)])
        pcm = sg.to_int16(x + sg.white_noise(len(x), -50, rng))
        s, e = spans[0]
        k = int(rng.integers(s // 160, (e - 1) // 160 + 2))
        mode = ("silk", "hybrid", "celt")[case % 3]
        opus_first = bool(rng.integers(2))
        raw = _call(pcm, [0, k] if opus_first else [k], mode)
        how, at = int(rng.integers(4)), int(k + rng.integers(-3, 3))
        order = list(range(len(raw)))
        if how == 0:
            del order[at : at + int(rng.integers(1, 3))]
        elif how == 1:
            order[at], order[at + 1] = order[at + 1], order[at]
        elif how == 2:
            order.insert(at, order[at])
        f = _filter()
        out = f.process([raw[i] for i in order]) + f.flush()
        y = _placed(out, raw, len(pcm) + 1600)
        w = worst_window_db(y, s, e + 80, digit, level)
        heard = spandsp.spandsp_digits(y, lenient=True)[1]
        if w > -40.0 or heard:
            kept.append(
                (
                    case,
                    digit,
                    duration,
                    round(level, 1),
                    k * 160 - s,
                    mode,
                    how,
                    at - k,
                    float(round(w, 1)),
                )
            )
    names = "lost, swapped, repeated, none"
    print(f"{n} keypresses over line noise, each cut by a switch with packets near it {names}:")
    print(f"  {len(kept)} keep a trace or let spandsp hear a digit")
    for row in kept:
        print("   ", row)


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] == "--impaired":
        impaired(int(args[1]) if len(args) > 1 else 400, int(args[2]) if len(args) > 2 else 2)
        return
    n = int(args[0]) if args else 200
    rng = np.random.default_rng(int(args[1]) if len(args) > 1 else 2)
    low, high = (float(args[2]), float(args[3])) if len(args) > 3 else (-25.0, -5.0)
    speech, active = _corpus("speech")
    kept, kept_unswitched, worst, worst_unswitched, cases = [], [], -300.0, -300.0, 0
    for case in range(n):
        digit = "0123456789*#"[rng.integers(12)]
        level = float(rng.uniform(low, high))
        duration = int(rng.integers(40, 121))
        at = int(rng.integers(0, len(speech) - 20000))
        x, spans = sg.keyed_sequence(digit, duration, 100, level, lead_ms=600)
        x = np.concatenate([x, np.zeros(3200)])
        pcm = sg.to_int16(x + speech[at : at + len(x)] * sg.dbm0_to_amplitude(-20.0) / active)
        s, e = spans[0]
        first, last = -(-s // 160), (e - 1) // 160
        if last < first:
            continue
        k = int(rng.integers(first, last + 1))
        mode = ("silk", "hybrid", "celt")[case % 3]
        opus_first = case % 2 == 1
        cases += 1
        w = _worst(pcm, [0, k] if opus_first else [k], mode, (s, e + 80), digit, level)
        w0 = _worst(pcm, [0] if opus_first else [], mode, (s, e + 80), digit, level)
        where = (digit, duration, round(level, 1), at, k * 160 - s, mode, opus_first)
        if w > -40.0:
            kept.append((*where, float(round(w, 1)), float(round(w0, 1))))
        if w0 > -40.0:
            kept_unswitched.append((*where, float(round(w, 1)), float(round(w0, 1))))
        worst, worst_unswitched = max(worst, w), max(worst_unswitched, w0)
    print(f"{cases} keypresses under speech, {low} to {high} dBm0 a tone, each cut by a switch")
    print(f"  cut by a switch: {len(kept)} keep a trace (worst {worst:.1f} dB)")
    print(
        f"  no switch:       {len(kept_unswitched)} keep a trace (worst {worst_unswitched:.1f} dB)"
    )
    print("  (digit, ms, dBm0, where in the corpus, switch: samples in, mode, Opus first;")
    print("   dB left cut by a switch, and with none)")
    for row in sorted(set(kept) | set(kept_unswitched), key=lambda r: -max(r[-2:])):
        print("   ", row)


if __name__ == "__main__":
    main()
