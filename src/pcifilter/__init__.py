# SPDX-License-Identifier: Apache-2.0
"""pcifilter: detect and remove DTMF keypresses and tones from telephone audio."""

from pcifilter._core import (
    Config,
    Detector,
    Scrubber,
    ScrubberBank,
    ToneEvent,
    ToneSpec,
    __version__,
    alaw_decode,
    alaw_encode,
    default_tones,
    ulaw_decode,
    ulaw_encode,
)

__all__ = [
    "Config",
    "Detector",
    "Scrubber",
    "ScrubberBank",
    "ToneEvent",
    "ToneSpec",
    "__version__",
    "alaw_decode",
    "alaw_encode",
    "default_tones",
    "ulaw_decode",
    "ulaw_encode",
]
