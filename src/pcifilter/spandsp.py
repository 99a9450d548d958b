# SPDX-License-Identifier: Apache-2.0
"""spandsp's DTMF receiver through ctypes: the independent reference decoder.

Used by the tests (to listen to scrubbed output) and by `pcifilter bench` (as the speed
reference). Needs Debian's libspandsp2 (installed by the set-up script); nothing in the
data path depends on it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

import numpy as np
import numpy.typing as npt

_REPORT = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int)


def _load() -> ctypes.CDLL | None:
    for name in (ctypes.util.find_library("spandsp"), "libspandsp.so.2"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.dtmf_rx_init.restype = ctypes.c_void_p
        lib.dtmf_rx_init.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        lib.dtmf_rx_parms.argtypes = [ctypes.c_void_p] + [ctypes.c_int] * 4
        lib.dtmf_rx.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        lib.dtmf_rx.restype = ctypes.c_int
        lib.dtmf_rx_get.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        lib.dtmf_rx_get.restype = ctypes.c_size_t
        lib.dtmf_rx_free.argtypes = [ctypes.c_void_p]
        lib.dtmf_rx_set_realtime_callback.argtypes = [ctypes.c_void_p, _REPORT, ctypes.c_void_p]
        return lib
    return None


_LIB = _load()


def available() -> bool:
    """Whether libspandsp could be loaded."""
    return _LIB is not None


class DtmfRx:
    """spandsp 0.0.6 `dtmf_rx`. `lenient` widens twist to 12 dB and lowers the threshold
    to -50 dBm0, and counts any tone its real-time callback reports, confirmed or not."""

    def __init__(self, lenient: bool = False) -> None:
        if _LIB is None:
            raise RuntimeError("libspandsp is not installed (apt-get install libspandsp2)")
        self._lib: Any = _LIB
        self._s = self._lib.dtmf_rx_init(None, None, None)
        self.realtime_hits = 0
        if lenient:
            self._lib.dtmf_rx_parms(self._s, 0, 12, 12, -50)

            def report(_user: Any, code: int, _level: int, _delay: int) -> None:
                if code:
                    self.realtime_hits += 1

            self._cb = _REPORT(report)
            self._lib.dtmf_rx_set_realtime_callback(self._s, self._cb, None)
        self._digits = ""

    def process(self, pcm: npt.NDArray[np.int16]) -> None:
        """Feed int16 samples (any length)."""
        x = np.ascontiguousarray(pcm, dtype=np.int16)
        self._lib.dtmf_rx(self._s, x.ctypes.data, len(x))
        buf = ctypes.create_string_buffer(128)
        n = self._lib.dtmf_rx_get(self._s, buf, 127)
        self._digits += buf.raw[:n].decode("ascii")

    def digits(self) -> str:
        """Digits confirmed so far. Card data: an explicit call."""
        return self._digits

    def __del__(self) -> None:
        if getattr(self, "_s", None):
            self._lib.dtmf_rx_free(self._s)
            self._s = None

    def __repr__(self) -> str:
        return f"DtmfRx(digits={len(self._digits)})"


def spandsp_digits(pcm: npt.NDArray[np.int16], lenient: bool = False) -> tuple[str, int]:
    """(digits, real-time hits) that spandsp finds in a buffer, fed in 160-sample frames."""
    rx = DtmfRx(lenient)
    for i in range(0, len(pcm), 160):
        rx.process(pcm[i : i + 160])
    rx.process(np.zeros(800, dtype=np.int16))
    return rx.digits(), rx.realtime_hits
