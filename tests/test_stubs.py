# SPDX-License-Identifier: Apache-2.0
"""The committed type stubs match the built extension (regenerate: scripts/gen_stubs.sh)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_core_stub_is_current(tmp_path: Path) -> None:
    bindir = Path(sys.executable).parent
    subprocess.run(
        [
            str(bindir / "pybind11-stubgen"),
            "pcifilter._core",
            "-o",
            str(tmp_path),
            "--numpy-array-use-type-var",
        ],
        check=True,
        capture_output=True,
    )
    fresh = tmp_path / "pcifilter" / "_core.pyi"
    subprocess.run([str(bindir / "ruff"), "format", "--quiet", str(fresh)], check=True)
    committed = ROOT / "src" / "pcifilter" / "_core.pyi"
    assert fresh.read_text() == committed.read_text(), "run scripts/gen_stubs.sh"
