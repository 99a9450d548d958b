#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Regenerate src/pcifilter/_core.pyi from the built extension (tests/test_stubs.py checks it).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
.venv/bin/pybind11-stubgen pcifilter._core -o "$out" --numpy-array-use-type-var >/dev/null
.venv/bin/ruff format --quiet "$out/pcifilter/_core.pyi"
cp "$out/pcifilter/_core.pyi" src/pcifilter/_core.pyi
rm -rf "$out"
