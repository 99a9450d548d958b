# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import numpy as np
import pytest

from pcifilter import benchmark


@pytest.fixture(scope="session")
def speech_60s() -> np.ndarray:
    x, _ = benchmark.test_audio(60.0)
    return x
