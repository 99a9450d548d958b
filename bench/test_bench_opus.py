# SPDX-License-Identifier: Apache-2.0
"""Issue 4's target: the stream filter on an Opus stream with no keypress costs at most a plain
libopus decode of the same packets at 48 kHz. 60 s of speech as 20 ms packets at 24 kbit/s,
CELT-only and SILK/hybrid; each group holds the filter (one Python batch call) and the
reference decode (one C++ call), measured in the same run: compare their means.

    .venv/bin/python -m pytest bench/test_bench_opus.py --benchmark-enable
"""

from __future__ import annotations

import numpy as np
import pytest

import pcifilter as pf
from pcifilter import _core


@pytest.fixture(scope="module", params=["celt", "voip"])
def opus_packets(request, speech_60s: np.ndarray) -> tuple[str, list[bytes]]:  # type: ignore[no-untyped-def]
    return request.param, _core.opus_rtp_packets(speech_60s, request.param, 24000, 111)


def test_opus_stream_filter(benchmark, opus_packets: tuple[str, list[bytes]]) -> None:  # type: ignore[no-untyped-def]
    app, packets = opus_packets
    benchmark.group = f"opus-{app}"

    def run() -> None:
        f = pf.RtpStreamFilter(opus_pt=111)
        f.process(packets)
        f.flush()

    benchmark(run)


def test_opus_decode_48k_reference(benchmark, opus_packets: tuple[str, list[bytes]]) -> None:  # type: ignore[no-untyped-def]
    app, packets = opus_packets
    benchmark.group = f"opus-{app}"
    benchmark(_core.opus_decode_packets, packets, 48000)
