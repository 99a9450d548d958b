# SPDX-License-Identifier: Apache-2.0
"""pcifilter: detect and remove DTMF keypresses and tones from telephone audio."""

from pcifilter._core import (
    ToneEvent,
    ToneSpec,
    __version__,
    alaw_decode,
    alaw_encode,
    default_tones,
    ulaw_decode,
    ulaw_encode,
)
from pcifilter.api import (
    OPTIONS,
    ScrubberBank,
    ScrubResult,
    StreamDetector,
    StreamScrubber,
    detect,
    detect_many,
    digits_of,
    event_record,
    make_config,
    scrub,
    scrub_many,
)
from pcifilter.session import RtpSession, keep_scrubbed_codecs
from pcifilter.stream import RtpStreamFilter

__all__ = [
    "OPTIONS",
    "RtpSession",
    "RtpStreamFilter",
    "ScrubResult",
    "ScrubberBank",
    "StreamDetector",
    "StreamScrubber",
    "ToneEvent",
    "ToneSpec",
    "__version__",
    "alaw_decode",
    "alaw_encode",
    "default_tones",
    "detect",
    "detect_many",
    "digits_of",
    "event_record",
    "keep_scrubbed_codecs",
    "make_config",
    "scrub",
    "scrub_many",
    "ulaw_decode",
    "ulaw_encode",
]
