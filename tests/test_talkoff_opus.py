# SPDX-License-Identifier: Apache-2.0
"""Talk-off through Opus: ten minutes of the talk-off hours (test_talkoff.py) in SILK, hybrid
and CELT at 16 kbit/s, no digit. Its own file, so that pytest-xdist (which gives each file to
one worker) runs it beside the hours, not after them. Marked slow; CI runs them."""

from __future__ import annotations

import pytest

import pcifilter as pf
from pcifilter import corpus

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("mode", ["silk", "hybrid", "celt"])
# Music first: test_talkoff.py, on the other worker, builds the speech hour meanwhile.
@pytest.mark.parametrize("kind", ["music", "speech"])
def test_no_digit_through_opus_20_ms(kind: str, mode: str) -> None:
    # Gateways code Opus too; 10 minutes through 20 ms frames at 16 kbit/s, decoded at 8 kHz
    # as the stream filter decodes: no digit. (20 minutes, 10 ms frames too, and recorded
    # speech and music: bench/opus_talkoff_report.py.)
    from opuslib import round_trip

    x = corpus.cached(kind, 3600, seed=0)[: 8000 * 600]
    assert pf.detect(round_trip(x, mode, 20, 16000)) == []
