# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import os
import platform

import numpy as np
import pytest
from hypothesis import settings

import pcifilter as pf
from pcifilter import corpus, spandsp

# The property tests draw the same examples on every run (as Hypothesis does by itself
# only where a CI variable is set): a red run can be run again, and no run goes red on a
# new draw alone. HYPOTHESIS_PROFILE=default draws new examples each run, to look for more.
settings.register_profile(
    "repeatable", derandomize=True, database=None, deadline=None, print_blob=True
)
HYPOTHESIS_PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "repeatable")
settings.load_profile(HYPOTHESIS_PROFILE)


def pytest_report_header(config: pytest.Config) -> list[str]:
    return [
        f"pcifilter {pf.__version__}, numpy {np.__version__}, {platform.machine()}; "
        f"hypothesis profile {HYPOTHESIS_PROFILE}",
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow files first (the talk-off hours, a third of the suite's time): pytest-xdist
    hands files to its workers in this order, and a long file handed out last would run on
    alone at the end while the other worker waits."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
