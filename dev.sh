#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One-step set-up and run, idempotent, for a fresh Debian 12 machine as root (or with sudo):
#   ./dev.sh demo   set everything up, then run the main job (pcifilter demo)
#   ./dev.sh test   set everything up, then run the whole test suite (lint, types, C++, pytest)
set -euo pipefail
cd "$(dirname "$0")"

# System packages: compiler, Python venv/headers, libspandsp (reference decoder in tests and
# bench), libopus (Opus work), libpcap (reads and writes captures), espeak-ng + sox (speech
# corpora and the demo call), sip-tester
# (sipp: its RTP captures are fixtures, and it makes test calls on 127.0.0.1), tshark (captures
# those calls on loopback and analyses the scrubbed result; its editcap and mergecap cut and
# join captures), curl (its HTTP/2, nghttp2's, upgrades to h2c against a test server on
# 127.0.0.1), clang + its runtime (libFuzzer:
# coverage-guided fuzzing of the stream filter), opus-tools (opusdec reads filtered Opus),
# asterisk's recorded prompts in five voices and its music on hold (recorded telephone speech
# and music for talk-off, talk-down and masking: pcifilter.corpus.recorded; sound files only).
PACKAGES=(g++ make pkg-config python3 python3-venv python3-dev libspandsp-dev libopus-dev libpcap-dev espeak-ng sox sip-tester tshark curl clang-14 libclang-rt-14-dev opus-tools
          asterisk-core-sounds-en-wav asterisk-core-sounds-es-wav asterisk-core-sounds-fr-wav asterisk-core-sounds-it-wav asterisk-core-sounds-ru-wav asterisk-moh-opsound-wav)
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "dev.sh: installing ${missing[*]}"
    # tshark asks whether non-root users may capture: no.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# rtpengine-daemon: the media relay Kamailio/OpenSIPS drive; a test runs its binary on
# 127.0.0.1 (no kernel module, no iptables) and scrubs a capture of its ng control traffic
# and DTMF log. Debian starts and enables its service at install (every interface, and it
# manages iptables): installed without starting it (policy-rc.d, as containers do), without
# its recommended recording daemon, and disabled.
if ! dpkg-query -W -f='${Status}' rtpengine-daemon 2>/dev/null | grep -q "install ok installed"; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "dev.sh: installing rtpengine-daemon (its service neither started nor enabled)"
    made_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
        $SUDO chmod +x /usr/sbin/policy-rc.d
        made_policy=1
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends rtpengine-daemon >/dev/null || {
        [ -z "$made_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d; exit 1; }
    [ -z "$made_policy" ] || $SUDO rm -f /usr/sbin/policy-rc.d
    if command -v systemctl >/dev/null; then $SUDO systemctl disable rtpengine-daemon.service >/dev/null 2>&1 || true; fi
fi

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# cython, setuptools: build requirements of pesq (test-only, built from source), installed
# here because the package install below runs without build isolation.
.venv/bin/python -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" "numpy>=1.24" cmake ninja cython setuptools wheel
.venv/bin/python -m pip install -q --no-build-isolation -e ".[test]"

case "${1:-}" in
    demo)
        shift
        exec .venv/bin/pcifilter demo "$@"
        ;;
    test)
        shift
        JOBS=$(nproc)
        echo "== ruff"; .venv/bin/ruff check src tests bench; .venv/bin/ruff format --check src tests bench
        echo "== mypy --strict"; .venv/bin/mypy
        echo "== C++ unit tests (CTest)"
        .venv/bin/cmake -S csrc/tests -B build/ctest -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
        .venv/bin/cmake --build build/ctest >/dev/null
        (cd build/ctest && ../../.venv/bin/ctest --output-on-failure --parallel "$JOBS")
        echo "== C++ unit tests under ASan/UBSan"
        .venv/bin/cmake -S csrc/tests -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DPCIFILTER_SANITIZE=ON >/dev/null
        .venv/bin/cmake --build build/asan >/dev/null
        (cd build/asan && ../../.venv/bin/ctest --output-on-failure --parallel "$JOBS")
        echo "== coverage-guided fuzzing (libFuzzer + ASan/UBSan, 60 s each, side by side): the stream filter, capture files"
        CXX=clang++-14 .venv/bin/cmake -S csrc/tests -B build/libfuzzer -G Ninja \
            -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPCIFILTER_LIBFUZZER=ON >/dev/null
        .venv/bin/cmake --build build/libfuzzer >/dev/null
        rm -rf build/libfuzzer/seeds build/libfuzzer/capture-seeds
        mkdir -p build/libfuzzer/seeds build/libfuzzer/corpus build/libfuzzer/capture-seeds build/libfuzzer/capture-corpus
        build/ctest/fuzz_stream_filter --write-seeds build/libfuzzer/seeds
        build/ctest/test_capture --write-seeds build/libfuzzer/capture-seeds
        build/libfuzzer/fuzz_stream_filter_libfuzzer -max_total_time=60 -seed=1 -max_len=1600 \
            -print_final_stats=1 build/libfuzzer/corpus build/libfuzzer/seeds >build/libfuzzer/fuzz.log 2>&1 &
        stream_fuzz=$!
        capture_rc=0
        build/libfuzzer/fuzz_capture_libfuzzer -max_total_time=60 -seed=1 -max_len=20000 \
            -print_final_stats=1 build/libfuzzer/capture-corpus build/libfuzzer/capture-seeds \
            >build/libfuzzer/fuzz-capture.log 2>&1 || capture_rc=$?
        stream_rc=0; wait "$stream_fuzz" || stream_rc=$?
        if ((stream_rc)); then tail -60 build/libfuzzer/fuzz.log; exit 1; fi
        if ((capture_rc)); then tail -60 build/libfuzzer/fuzz-capture.log; exit 1; fi
        grep -E "^Done|stat::number_of_executed_units" build/libfuzzer/fuzz.log build/libfuzzer/fuzz-capture.log
        # pytest-xdist: one worker per core, each test file on one worker (its module
        # fixtures built once; the loopback captures of test_real_peers.py never see another
        # file's traffic, as no other file sends any). Files handed out in collection order,
        # the slow ones first (tests/conftest.py), not xdist's most-tests-first: the talk-off
        # files have few tests and a third of the time, and handed out last they ran on alone
        # (about 30 s of one idle worker). `./dev.sh test -n 0` runs in one process.
        echo "== pytest ($JOBS workers)"
        exec .venv/bin/python -m pytest -n "$JOBS" --dist loadfile --no-loadscope-reorder "$@"
        ;;
    *)
        echo "usage: ./dev.sh demo | ./dev.sh test [pytest args]" >&2
        exit 2
        ;;
esac
