# SPDX-License-Identifier: Apache-2.0
"""The Python API: whole-buffer, batch and streaming detection and scrubbing.

Validation happens here and in the core's constructors; all sample work is one C++ call per
buffer or frame, with the GIL released.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from pcifilter import _core
from pcifilter._core import ToneEvent, ToneSpec

SAMPLE_RATES = (8000, 16000, 48000)
MODES = ("silence", "noise", "tone")

# Every keyword option maps onto one attribute of the core's Config.
OPTIONS: tuple[str, ...] = (
    "lookahead_ms",
    "lead_ms",
    "hangover_ms",
    "mask_tones",
    "guard_edges",
    "mode",
    "tone_hz",
    "tone_dbm0",
    "noise_max_dbm0",
    "ramp_ms",
    "min_level_dbm0",
    "max_twist_db",
    "max_reverse_twist_db",
    "max_freq_error",
    "min_duration_ms",
    "max_dropout_ms",
    "min_energy_ratio",
    "max_harmonic_db",
    "mask_min_level_dbm0",
    "mask_min_energy_ratio",
    "mask_weak_energy_ratio",
    "tones",
)

Int16Array = npt.NDArray[np.int16]


def _tone_specs(tones: Any) -> list[ToneSpec]:
    if tones is None:
        return []
    if tones == "default":
        return list(_core.default_tones())
    builtin = {t.name: t for t in _core.default_tones()}
    specs: list[ToneSpec] = []
    for t in tones if isinstance(tones, Iterable) and not isinstance(tones, str) else [tones]:
        if isinstance(t, ToneSpec):
            specs.append(t)
        elif isinstance(t, str) and t in builtin:
            specs.append(builtin[t])
        elif isinstance(t, dict):
            specs.append(ToneSpec(**t))
        else:
            raise ValueError(
                f"tones: expected 'default', a built-in name {sorted(builtin)}, "
                f"a ToneSpec or a dict, not {t!r}"
            )
    return specs


def make_config(sample_rate: int = 8000, **options: Any) -> _core.Config:
    """A checked core Config from keyword options (see `OPTIONS`)."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
        raise ValueError(f"sample_rate must be an int, not {type(sample_rate).__name__}")
    if int(sample_rate) not in SAMPLE_RATES:
        raise ValueError(f"sample_rate must be one of {SAMPLE_RATES}, not {sample_rate}")
    cfg = _core.Config()
    cfg.sample_rate = int(sample_rate)
    for name, value in options.items():
        if name not in OPTIONS:
            raise ValueError(f"unknown option {name!r}; options are: {', '.join(OPTIONS)}")
        if name == "tones":
            cfg.tones = _tone_specs(value)
            continue
        try:
            setattr(cfg, name, value)
        except TypeError as exc:
            raise ValueError(f"option {name!r}: bad value {value!r}") from exc
    cfg.validate()
    return cfg


def _pcm(pcm: Any, ndim: int = 1) -> Int16Array:
    if not isinstance(pcm, np.ndarray):
        raise ValueError(f"pcm must be a numpy int16 array, not {type(pcm).__name__}")
    if pcm.dtype != np.int16:
        raise ValueError(f"pcm must have dtype int16, not {pcm.dtype}")
    if pcm.ndim != ndim:
        raise ValueError(f"pcm must be {ndim}-D, not {pcm.ndim}-D")
    if pcm.size == 0:
        raise ValueError("pcm is empty")
    return np.ascontiguousarray(pcm)


@dataclass(frozen=True)
class ScrubResult:
    """What `scrub` returns. `audio` is time-aligned with the input (look-ahead removed)."""

    audio: Int16Array = field(repr=False)
    events: list[ToneEvent]
    spans: list[tuple[int, int]]
    sample_rate: int
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def masked_ms(self) -> float:
        """Total masked time in milliseconds."""
        return sum(e - s for s, e in self.spans) * 1000.0 / self.sample_rate


def detect(pcm: Int16Array, sample_rate: int = 8000, **options: Any) -> list[ToneEvent]:
    """Find every keypress (and configured tone) in a mono int16 buffer."""
    cfg = make_config(sample_rate, **options)
    return list(_core.detect_array(_pcm(pcm), cfg))


def scrub(
    pcm: Int16Array, sample_rate: int = 8000, mode: str = "silence", **options: Any
) -> ScrubResult:
    """Mask every keypress in a mono int16 buffer; the result has the input's length."""
    cfg = make_config(sample_rate, mode=mode, **options)
    audio, events, spans, stats = _core.scrub_array(_pcm(pcm), cfg)
    return ScrubResult(audio, list(events), list(spans), cfg.sample_rate, dict(stats))


def detect_many(pcm: Int16Array, sample_rate: int = 8000, **options: Any) -> list[list[ToneEvent]]:
    """`detect` over independent streams (2-D: streams × samples) in one call."""
    cfg = make_config(sample_rate, **options)
    return [list(e) for e in _core.detect_many(_pcm(pcm, 2), cfg)]


def scrub_many(
    pcm: Int16Array, sample_rate: int = 8000, mode: str = "silence", **options: Any
) -> list[ScrubResult]:
    """`scrub` over independent streams (2-D: streams × samples) in one call."""
    cfg = make_config(sample_rate, mode=mode, **options)
    audio, events, spans = _core.scrub_many(_pcm(pcm, 2), cfg)
    return [
        ScrubResult(audio[i], list(events[i]), list(spans[i]), cfg.sample_rate)
        for i in range(audio.shape[0])
    ]


class StreamDetector:
    """Frame-by-frame detection (events only, no delay)."""

    def __init__(self, sample_rate: int = 8000, **options: Any) -> None:
        self._det = _core.Detector(make_config(sample_rate, **options))
        self.sample_rate = int(sample_rate)

    def process(self, frame: Int16Array) -> list[ToneEvent]:
        """Feed samples; returns the events completed by them."""
        return list(self._det.process(frame))

    def flush(self) -> list[ToneEvent]:
        """End the stream; returns the remaining events and starts afresh."""
        return list(self._det.flush())

    def __repr__(self) -> str:
        return f"StreamDetector(sample_rate={self.sample_rate})"


class StreamScrubber:
    """Frame-by-frame scrubbing: each frame out is the input `delay` samples earlier."""

    def __init__(self, sample_rate: int = 8000, mode: str = "silence", **options: Any) -> None:
        self._s = _core.Scrubber(make_config(sample_rate, mode=mode, **options))
        self.sample_rate = int(sample_rate)

    @property
    def delay(self) -> int:
        """Look-ahead in samples: output lags input by this much."""
        return int(self._s.delay)

    @property
    def masking(self) -> bool:
        """Whether keypresses are masked (detection always runs)."""
        return bool(self._s.masking)

    @masking.setter
    def masking(self, on: bool) -> None:
        self._s.masking = bool(on)

    @property
    def state_bytes(self) -> int:
        """Bytes of per-stream state in the core, look-ahead included."""
        return int(self._s.state_bytes)

    @property
    def stats(self) -> dict[str, int]:
        """Counters: samples, keypresses, tones, masked_samples, late_masks."""
        return dict(self._s.stats)

    def process(self, frame: Int16Array, out: Int16Array | None = None) -> Int16Array:
        """One frame in (any length), the same number of samples out: into `out` when given
        (int16, the frame's length, not the frame itself), which is returned; a caller that
        passes the same array each time allocates nothing per frame."""
        return self._s.process(frame, out)

    def flush(self) -> Int16Array:
        """End the stream: the last `delay` samples, a keypress its end cuts masked. What
        is processed next is a new stream (its start guarded, its timeline from 0; events
        and spans not yet taken stay): before, it went on the old one's timeline, and a
        second recording that started in a keypress's end let it out."""
        return self._s.flush()

    def take_events(self) -> list[ToneEvent]:
        """Events completed since the last call."""
        return list(self._s.take_events())

    def take_spans(self) -> list[tuple[int, int]]:
        """Masked (start, end) spans in input samples completed since the last call."""
        return list(self._s.take_spans())

    def __repr__(self) -> str:
        return f"StreamScrubber(sample_rate={self.sample_rate}, delay={self.delay})"


class ScrubberBank:
    """Many independent streams, one frame each per call (2-D: streams × samples)."""

    def __init__(
        self, n_streams: int, sample_rate: int = 8000, mode: str = "silence", **options: Any
    ) -> None:
        self._bank = _core.ScrubberBank(n_streams, make_config(sample_rate, mode=mode, **options))

    def __len__(self) -> int:
        return len(self._bank)

    @property
    def delay(self) -> int:
        """Look-ahead in samples, the same for every stream."""
        return int(self._bank.delay)

    def process(self, frames: Int16Array, out: Int16Array | None = None) -> Int16Array:
        """Frames of every stream in, delayed and masked frames out: into `out` when given
        (int16, C-contiguous, the frames' shape, not the frames themselves), which is
        returned; a server that passes the same array each tick allocates nothing per call."""
        return self._bank.process(frames, out)

    def _stream(self, stream: int) -> int:
        i = operator.index(stream)  # a numpy integer too; TypeError for anything else
        if not 0 <= i < len(self._bank):
            raise IndexError(f"stream {i} is not within [0, {len(self._bank)})")
        return i

    def set_masking(self, stream: int, on: bool) -> None:
        """Switch masking for one stream."""
        self._bank.set_masking(self._stream(stream), on)

    def flush(self, stream: int) -> Int16Array:
        """End one stream (a call over): its last `delay` samples, a keypress its end cuts
        masked (padding with silence instead lets its start out). Its events stay to be
        taken; its slot then takes a new stream, with a timeline from 0."""
        return self._bank.flush(self._stream(stream))

    def take_events(self) -> list[list[ToneEvent]]:
        """Per stream, the events completed since the last call."""
        return [list(e) for e in self._bank.take_events()]


def event_record(event: ToneEvent, reveal_digits: bool = False) -> dict[str, Any]:
    """A JSON-ready dict of an event; the digit is '*' unless `reveal_digits`."""
    rec: dict[str, Any] = {
        "kind": event.kind,
        "name": event.name,
        "start_ms": round(event.start_ms, 2),
        "end_ms": round(event.end_ms, 2),
        "level_dbm0": round(event.level_dbm0, 1),
    }
    if event.kind == "dtmf":
        rec["digit"] = event.digit if reveal_digits else "*"
        rec["twist_db"] = round(event.twist_db, 1)
    if event.rtp_timestamp is not None:  # from an RTP stream: where on it
        rec["ssrc"] = event.ssrc
        rec["rtp_timestamp"] = event.rtp_timestamp
        rec["rtp_duration"] = event.rtp_duration
    return rec


def digits_of(events: Sequence[ToneEvent]) -> str:
    """The keys pressed, in order. Card data: an explicit call. Keypresses that came through
    pickle carry no digit (`ToneEvent.digit_withheld`): a ValueError rather than a shorter
    number."""
    withheld = sum(e.digit_withheld for e in events)
    if withheld:
        raise ValueError(
            f"{withheld} of the keypresses came through pickle and carry no digit: "
            "take the digits where the events were made"
        )
    return "".join(e.digit for e in events if e.kind == "dtmf" and e.digit is not None)
