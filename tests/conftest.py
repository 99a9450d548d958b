# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import platform

import numpy as np
import pytest

import pcifilter as pf
from pcifilter import corpus, spandsp


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"pcifilter {pf.__version__}, numpy {np.__version__}, {platform.machine()}",
        f"spandsp reference: {'libspandsp loaded' if spandsp.available() else 'missing'}; "
        f"espeak-ng corpora: {'yes' if corpus.espeak_available() else 'no'}",
    ]


@pytest.fixture(scope="session")
def speech_10min() -> np.ndarray:
    if not corpus.espeak_available():
        pytest.fail("espeak-ng/sox missing: run ./dev.sh test, which installs them")
    return corpus.cached("speech", 600, seed=7)


@pytest.fixture(scope="session")
def music_10min() -> np.ndarray:
    return corpus.cached("music", 600, seed=7)
