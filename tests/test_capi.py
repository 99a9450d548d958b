# SPDX-License-Identifier: Apache-2.0
"""The C API: libpcifilter (shared and static) builds with plain CMake, exports only its
`pcifilter_*` symbols, installs its header, and the C example program runs to success."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def build() -> Path:
    out = ROOT / "build" / "capi"
    cmake = str(BIN / "cmake") if (BIN / "cmake").exists() else shutil.which("cmake")
    assert cmake, "cmake missing: run ./dev.sh test"
    gen = ["-G", "Ninja"] if (BIN / "ninja").exists() or shutil.which("ninja") else []
    subprocess.run(
        [
            cmake,
            "-S",
            str(ROOT),
            "-B",
            str(out),
            *gen,
            "-DPCIFILTER_C_API=ON",
            "-DCMAKE_BUILD_TYPE=Release",
            f"-DCMAKE_INSTALL_PREFIX={out / 'inst'}",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run([cmake, "--build", str(out)], check=True, capture_output=True)
    subprocess.run([cmake, "--install", str(out)], check=True, capture_output=True)
    return out


@pytest.mark.parametrize("program", ["filter_example", "filter_example_static"])
def test_c_example_runs(build: Path, program: str) -> None:
    proc = subprocess.run([str(build / program)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        "audio in 100 out 100, telephone-events out 0, sequence gaps 0, keypresses 3" in proc.stdout
    )


def test_only_the_api_is_exported(build: Path) -> None:
    nm = subprocess.run(
        ["nm", "-D", "--defined-only", str(build / "libpcifilter.so")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    text = [line.split()[-1] for line in nm.splitlines() if " T " in line]
    assert text and all(name.startswith("pcifilter_") for name in text)
    assert (build / "inst" / "include" / "pcifilter.h").exists()
    assert (build / "inst" / "lib" / "libpcifilter.a").exists()
