# SPDX-License-Identifier: Apache-2.0
"""The C++ timing helpers behind `pcifilter bench` (their numbers are measured, never
asserted): what they build and take, and clear errors for what they do not."""

from __future__ import annotations

import numpy as np
import pytest

import pcifilter as pf
from pcifilter import _core
from pcifilter import signals as sg
from pcifilter.rtp import RtpPacket


def _speech_like(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(3)
    return sg.to_int16(sg.white_noise(int(seconds * 8000), -20, rng))


@pytest.mark.parametrize(("app", "celt"), [("celt", True), ("voip", False)])
def test_opus_rtp_packets_are_20_ms_opus_rtp(app: str, celt: bool) -> None:
    packets = _core.opus_rtp_packets(_speech_like(1.0), app, 24000, 111)
    assert len(packets) == 50
    for i, data in enumerate(packets):
        p = RtpPacket.parse(data)
        assert (p.payload_type, p.sequence_number, p.timestamp, p.ssrc) == (111, i, 960 * i, 7)
        config = p.payload[0] >> 3  # RFC 6716 3.1: 0-11 SILK, 12-15 hybrid, 16-31 CELT
        assert (config >= 16) == celt
        assert config % (2 if 12 <= config < 16 else 4) == (1 if config < 16 else 3)  # 20 ms
        assert p.payload[0] & 3 == 0  # one frame
    assert _core.opus_decode_packets(packets, 48000) == 50
    # Through the filter: every packet comes out, none masked in noise.
    f = pf.RtpStreamFilter(opus_pt=111)
    assert len(f.process(packets) + f.flush()) == 50


def test_time_opus_filter_reports_three_paths() -> None:
    packets = _core.opus_rtp_packets(_speech_like(0.5), "celt")
    t = _core.time_opus_filter(packets, 1)
    assert set(t) == {"decode_48k_ns", "decode_8k_ns", "filter_ns", "packets", "reencoded"}
    assert t["packets"] == 25 and 0 <= t["reencoded"] <= 25
    assert min(t["decode_48k_ns"], t["decode_8k_ns"], t["filter_ns"]) > 0


def test_correlator_kernels_time_each_instruction_set_the_cpu_runs() -> None:
    t = _core.time_correlator_kernels(_speech_like(0.5), 1)
    sets = {"portable", "avx2", "avxvnni", "avx512vnni_ymm", "avx512vnni"}
    assert _core.bank_isa() in t and "portable" in t and set(t) <= sets
    if _core.bank_isa() != "portable":
        assert "avx2" in t  # every vector set builds on AVX2
    assert min(t.values()) > 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x, p: _core.opus_rtp_packets(x, "music"), "application"),
        (lambda x, p: _core.opus_rtp_packets(x, "celt", 1000), "bitrate"),
        (lambda x, p: _core.opus_rtp_packets(x, "celt", 24000, 200), "payload_type"),
        (lambda x, p: _core.opus_rtp_packets(x.astype(np.float32)), "int16"),
        (lambda x, p: _core.time_opus_filter([], 1), "no packets"),
        (lambda x, p: _core.time_opus_filter(p, 0), "rounds"),
        (lambda x, p: _core.time_opus_filter(p, 1, 8), "payload_type"),
        (lambda x, p: _core.time_opus_filter([b"\x80\x6f" + b"\x00" * 10], 1), "RTP"),
        (lambda x, p: _core.opus_decode_packets(p, 44100), "sample_rate"),
        (lambda x, p: _core.time_stream_filter(p, 0), "rounds"),
        (lambda x, p: _core.time_correlator_kernels(x, 0), "rounds"),
        (lambda x, p: _core.time_correlator_kernels(x[:100]), "160 samples"),
    ],
)
def test_bench_helpers_reject_bad_arguments(call, message: str) -> None:  # type: ignore[no-untyped-def]
    x = _speech_like(0.1)
    packets = _core.opus_rtp_packets(x)
    with pytest.raises(ValueError, match=message):
        call(x, packets)


def test_paths_take_turns_after_an_untimed_first_round() -> None:
    """Each path is called once untimed (the first call's costs paid there, not by whichever
    path comes first), then `repeats` times, the paths taking turns."""
    from pcifilter.benchmark import _best_of_turns

    calls: list[str] = []
    best = _best_of_turns({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 2)
    assert calls == ["a", "b"] * 3 and set(best) == {"a", "b"}


def test_wideband_bench_input_is_the_speech_interpolated() -> None:
    from pcifilter.benchmark import upsampled

    x = _speech_like(0.1)
    for rate in (16000, 48000):
        y = upsampled(x, rate)
        f = rate // 8000
        assert len(y) == f * len(x) and np.array_equal(y[::f], x)
        mid = (x[:-1].astype(np.int32) + x[1:]) / 2  # halfway between two samples
        assert np.all(np.abs(y[f // 2 : -f : f] - mid) <= 0.5)
