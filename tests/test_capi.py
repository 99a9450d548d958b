# SPDX-License-Identifier: Apache-2.0
"""The C API: libpcifilter (shared and static) builds with plain CMake, exports only its
`pcifilter_*` symbols, installs its header, and the C example program runs to success."""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
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
    from pcifilter import _core

    proc = subprocess.run([str(build / program)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        f"({_core.bank_isa()} kernels): audio in 100 out 100, telephone-events out 0 (dropped "
        in proc.stdout
        and "sequence gaps 0, keypresses 3, malformed 0" in proc.stdout
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


_ISA_CHILD = """
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
lib.pcifilter_isa.restype = ctypes.c_char_p
lib.pcifilter_stream_create.restype = ctypes.c_void_p
cfg = ctypes.create_string_buffer(4096)  # pcifilter_config_init fills it (smaller than this)
lib.pcifilter_config_init(cfg)
err = ctypes.create_string_buffer(200)
s = lib.pcifilter_stream_create(cfg, err, 200)
print(lib.pcifilter_isa(), bool(s), err.value)
"""


@pytest.mark.parametrize("level", [None, "portable", "avx2", "no-such-set"])
def test_the_kernels_instruction_set_through_the_c_api(build: Path, level: str | None) -> None:
    """pcifilter_isa() names the set in use, as _core.bank_isa() does; PCIFILTER_ISA picks
    another, and a name of no set makes it NULL and stream creation fail, saying why."""
    from pcifilter import _core

    env = {k: v for k, v in os.environ.items() if k != "PCIFILTER_ISA"}
    if level is not None:
        env["PCIFILTER_ISA"] = level
    proc = subprocess.run(
        [sys.executable, "-c", _ISA_CHILD, str(build / "libpcifilter.so")],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    if level == "no-such-set":
        assert proc.stdout.startswith("None False b'PCIFILTER_ISA must be one of portable, avx2")
    else:
        runs = _core.bank_isas_run()
        want = _core.cpu_bank_isa() if level is None else level if level in runs else "portable"
        assert proc.stdout.strip() == f"b'{want}' True b''"


class _Config(ctypes.Structure):
    _fields_ = [
        ("sample_rate", ctypes.c_int),
        ("lookahead_ms", ctypes.c_double),
        ("mode", ctypes.c_int),
        ("telephone_event_pt", ctypes.c_int),
        ("pcmu_pt", ctypes.c_int),
        ("pcma_pt", ctypes.c_int),
        ("cn_pt", ctypes.c_int),
        ("telephone_events", ctypes.c_int),
        ("opus_pt", ctypes.c_int),
        ("opus_bitrate", ctypes.c_int),
        ("pass_unknown_payloads", ctypes.c_int),
        ("telephone_event_8000_pt", ctypes.c_int),
        ("reorder_window_ms", ctypes.c_double),
        ("max_gap_ms", ctypes.c_double),
        ("g711_beside_opus", ctypes.c_int),
    ]


def _api(build: Path) -> ctypes.CDLL:
    lib = ctypes.CDLL(str(build / "libpcifilter.so"))
    lib.pcifilter_stream_create.restype = ctypes.c_void_p
    lib.pcifilter_stream_create.argtypes = [
        ctypes.POINTER(_Config),
        ctypes.c_char_p,
        ctypes.c_size_t,
    ]
    lib.pcifilter_stream_push.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.pcifilter_stream_pop.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.POINTER(ctypes.c_size_t),
    ]
    lib.pcifilter_stream_flush.argtypes = [ctypes.c_void_p]
    lib.pcifilter_stream_destroy.argtypes = [ctypes.c_void_p]
    return lib


def _config(lib: ctypes.CDLL) -> _Config:
    cfg = _Config()
    lib.pcifilter_config_init(ctypes.byref(cfg))
    return cfg


def _filter_through_c(
    lib: ctypes.CDLL, cfg: _Config, raw: list[bytes], events: list[tuple] | None = None
) -> list[bytes]:
    """Every packet through a C stream filter made from `cfg`; what came out (and, into
    `events`, each event's fields but its digit)."""
    err = ctypes.create_string_buffer(200)
    s = lib.pcifilter_stream_create(ctypes.byref(cfg), err, 200)
    assert s, err.value
    out: list[bytes] = []
    buf, n = ctypes.create_string_buffer(1500), ctypes.c_size_t()

    def drain() -> None:
        while lib.pcifilter_stream_pop(s, buf, 1500, ctypes.byref(n)) == 1:
            out.append(buf.raw[: n.value])

    for p in raw:
        assert lib.pcifilter_stream_push(s, p, len(p)) == 0
        drain()
    lib.pcifilter_stream_flush(s)
    drain()
    ev = _Event()
    lib.pcifilter_stream_poll_event.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Event)]
    while events is not None and lib.pcifilter_stream_poll_event(s, ctypes.byref(ev)) == 1:
        events.append((ev.rfc4733, ev.start, ev.end, ev.ssrc, ev.rtp_timestamp, ev.rtp_duration))
    lib.pcifilter_stream_destroy(s)
    return out


def test_telephone_event_replacement_through_the_c_api(build: Path) -> None:
    # The C ABI gives what the Python layer gives, packet for packet.
    from test_stream_filter import _call, _gateway_stream

    import pcifilter as pf

    lib = _api(build)
    cfg = _config(lib)
    assert cfg.telephone_events == 0  # PCIFILTER_TE_DROP by default
    err = ctypes.create_string_buffer(200)
    cfg.telephone_events = 7
    assert lib.pcifilter_stream_create(ctypes.byref(cfg), err, 200) is None
    assert b"telephone_events" in err.value
    cfg.telephone_events = 1  # PCIFILTER_TE_REPLACE
    pcm, spans = _call()
    raw = _gateway_stream(pcm, spans, onset_ms=20)
    out = _filter_through_c(lib, cfg, raw)
    f = pf.RtpStreamFilter(telephone_events="replace")
    assert out == f.process(raw) + f.flush()
    assert f.stats["telephone_events_replaced"] > 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cn_pt": 0}, b"payload type 0 given twice"),  # PCMU read as comfort noise: passed
        ({"telephone_event_pt": 8}, b"payload type 8 given twice"),
        ({"opus_pt": 96, "telephone_event_pt": 96}, b"payload type 96 given twice"),
        ({"opus_pt": 96, "telephone_event_8000_pt": 101}, b"payload type 101 given twice"),
        ({"telephone_event_8000_pt": 96}, b"telephone_event_8000_pt is for Opus"),
        ({"pcma_pt": 128}, b"within [0, 127]"),
    ],
)
def test_payload_types_are_checked_as_in_python(
    build: Path, fields: dict[str, int], message: bytes
) -> None:
    """The C ABI and the Python layer build the payload-type map with one function: a type
    given to two kinds is refused by both (the C ABI took the last one given, so a `cn_pt`
    of 0 let PCMU audio through unfiltered as comfort noise)."""
    import pcifilter as pf

    lib = _api(build)
    cfg = _config(lib)
    for name, value in fields.items():
        setattr(cfg, name, value)
    err = ctypes.create_string_buffer(200)
    assert lib.pcifilter_stream_create(ctypes.byref(cfg), err, 200) is None
    assert message in err.value
    with pytest.raises(ValueError, match=message.decode().replace("[", r"\[")):
        pf.RtpStreamFilter(**fields)
    cfg = _config(lib)  # an Opus stream with the G.711 defaults left in: they are not mapped
    cfg.opus_pt = 0
    s = lib.pcifilter_stream_create(ctypes.byref(cfg), err, 200)
    assert s, err.value
    lib.pcifilter_stream_destroy(s)


def test_reorder_window_and_longest_gap_through_the_c_api(build: Path) -> None:
    """`reorder_window_ms` and `max_gap_ms` (-1 by default: the filter's own) give what the
    Python layer's do, packet for packet: a keypress before a 4 s gap and a packet 3 s late
    (tests/test_stream_filter.py's), and the same refusals."""
    import pcifilter as pf

    lib = _api(build)
    cfg = _config(lib)
    assert (cfg.reorder_window_ms, cfg.max_gap_ms) == (-1.0, -1.0)
    packets = _long_gap_packets()
    late = packets[:49] + packets[50:] + [packets[49]]
    for raw, window in ((_paused_packets(packets), -1.0), (late, 5_000.0)):
        cfg.reorder_window_ms, cfg.max_gap_ms = window, 10_000.0
        f = pf.RtpStreamFilter(reorder_window_ms=None if window < 0 else window, max_gap_ms=10_000)
        assert _filter_through_c(lib, cfg, raw) == f.process(raw) + f.flush()
    err = ctypes.create_string_buffer(200)
    for window, gap, message in (
        (-1.0, 10.0, b"max_gap_samples must be within"),
        (-1.0, 70_000.0, b"max_gap_ms must be"),
        (-2.0, -1.0, b"reorder_window_ms must be"),
        (3_000.0, -1.0, b"must not exceed max_gap_samples"),
    ):
        cfg.reorder_window_ms, cfg.max_gap_ms = window, gap
        assert lib.pcifilter_stream_create(ctypes.byref(cfg), err, 200) is None
        assert message in err.value


def _long_gap_packets() -> list[bytes]:
    from test_stream_filter import _long_gap_call, _packets

    return [p.serialize() for p in _packets(_long_gap_call())]


def _paused_packets(raw: list[bytes]) -> list[bytes]:
    from test_stream_filter import _LONG_GAP_CUT, _paused

    from pcifilter.rtp import RtpPacket

    return _paused([RtpPacket.parse(p) for p in raw], 5000, _LONG_GAP_CUT, 4 * 8000)


def test_opus_stream_through_the_c_api(build: Path) -> None:
    from test_opus_stream import PT, _call, _stream

    import pcifilter as pf

    lib = _api(build)
    cfg = _config(lib)
    assert (cfg.opus_pt, cfg.opus_bitrate) == (-1, 16000)
    cfg.opus_pt, cfg.telephone_event_pt, cfg.sample_rate = PT, -1, 16000
    pcm, _ = _call("369")
    raw = _stream(pcm, "celt", 20)
    out = _filter_through_c(lib, cfg, raw)
    f = pf.RtpStreamFilter(opus_pt=PT, telephone_event_pt=-1, decode_rate=16000)
    assert out == f.process(raw) + f.flush()
    assert f.stats["reencoded"] > 0


def test_opus_with_telephone_events_at_8_khz_through_the_c_api(build: Path) -> None:
    """Telephone-events declared at 8000 Hz beside Opus (`telephone_event_8000_pt`) from a
    gateway that sends no audio while they last, replaced by Opus audio for their duration:
    the C ABI gives what the Python layer gives, packet for packet."""
    from test_opus_stream import PT, TS0, _call, _stream, _with_events

    import pcifilter as pf
    from pcifilter import _core
    from pcifilter.rtp import RtpPacket

    lib = _api(build)
    cfg = _config(lib)
    assert cfg.telephone_event_8000_pt == -1
    cfg.opus_pt, cfg.telephone_event_pt, cfg.telephone_event_8000_pt = PT, -1, 96
    cfg.telephone_events = 1  # PCIFILTER_TE_REPLACE
    pcm, spans = _call("58")
    audio = [
        p
        for p in _stream(pcm, "silk", 20)
        if not any(s <= RtpPacket.parse(p).timestamp - TS0 <= e - 960 for s, e in spans)
    ]
    raw = _with_events(audio, spans, "58", pt=96, rate=8000)
    out = _filter_through_c(lib, cfg, raw)
    f = pf.RtpStreamFilter(
        opus_pt=PT, telephone_event_pt=-1, telephone_event_8000_pt=96, telephone_events="replace"
    )
    assert out == f.process(raw) + f.flush()
    assert [e.name for e in f.take_events()] == ["rfc4733"] * 2
    assert f.stats["telephone_events_replaced"] > 0
    # Durations read at 8 kHz: the replacements fill each keypress's time, no gap is left.
    end = TS0
    for p in map(RtpPacket.parse, out):
        info = _core.parse_opus_packet(p.payload)
        assert p.timestamp == end
        end += info["samples_per_frame"] * len(info["frames"])
    assert end - TS0 == len(pcm) // 960 * 960


def test_both_families_through_the_c_api(build: Path) -> None:
    """`g711_beside_opus`: a stream that switches between PCMA and Opus, through the C ABI as
    through Python, packet for packet; without it, an Opus stream drops the G.711 packets."""
    from test_both_families import OPUS, _call, _keyed

    import pcifilter as pf

    lib = _api(build)
    cfg = _config(lib)
    assert cfg.g711_beside_opus == 0
    cfg.opus_pt, cfg.telephone_event_pt, cfg.pcmu_pt = OPUS, -1, -1
    pcm, _ = _keyed("4179", seed=5)
    raw = _call(pcm, [20, 50, 70], "celt", "pcma")
    alone = _filter_through_c(lib, cfg, raw)
    assert len(alone) == (50 - 20) + (len(raw) - 70)  # the Opus packets: PCMA dropped
    cfg.g711_beside_opus = 1
    events: list[tuple] = []
    out = _filter_through_c(lib, cfg, raw, events)
    f = pf.RtpStreamFilter(opus_pt=OPUS, pcma_pt=8, telephone_event_pt=-1)
    assert out == f.process(raw) + f.flush()
    assert len(out) == len(raw) and f.stats["codec_switches"] == 3
    # each event placed on the RTP stream, on its family's clock, as Python places it
    expect = [
        (e.name == "rfc4733", e.start, e.end, e.ssrc, e.rtp_timestamp, e.rtp_duration)
        for e in f.take_events()
    ]
    assert events == expect and len(events) == 4
    # the clock of the family under way, after each packet
    lib.pcifilter_stream_clock_rate.argtypes = [ctypes.c_void_p]
    err = ctypes.create_string_buffer(200)
    s = lib.pcifilter_stream_create(ctypes.byref(cfg), err, 200)
    buf, n, rates = ctypes.create_string_buffer(1500), ctypes.c_size_t(), []
    for p in raw:
        assert lib.pcifilter_stream_push(s, p, len(p)) == 0
        while lib.pcifilter_stream_pop(s, buf, 1500, ctypes.byref(n)) == 1:
            pass
        rates.append(lib.pcifilter_stream_clock_rate(s))
    lib.pcifilter_stream_destroy(s)
    assert rates == [48000 if 20 <= i < 50 or i >= 70 else 8000 for i in range(len(raw))]
    assert lib.pcifilter_stream_clock_rate(None) == -1
    cfg.sample_rate = 16000
    err = ctypes.create_string_buffer(200)
    assert not lib.pcifilter_stream_create(ctypes.byref(cfg), err, 200)
    assert b"G.711 beside Opus" in err.value


def test_further_payload_types_through_the_c_api(build: Path) -> None:
    """`pcifilter_stream_create_with_types`: Opus under two numbers and PCMU under two, as
    Python's lists give them, packet for packet; a kind the stream does not carry, or no
    kind at all, is an error."""
    from test_both_families import OPUS, _call, _keyed, under_two_numbers

    import pcifilter as pf

    lib = _api(build)
    lib.pcifilter_stream_create_with_types.restype = ctypes.c_void_p
    lib.pcifilter_stream_create_with_types.argtypes = [
        ctypes.POINTER(_Config),
        ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_size_t,
        ctypes.c_char_p,
        ctypes.c_size_t,
    ]
    pcm, _ = _keyed("360", seed=16)
    raw = under_two_numbers(_call(pcm, [15, 40], "silk"))
    cfg = _config(lib)
    cfg.opus_pt, cfg.pcmu_pt, cfg.pcma_pt, cfg.telephone_event_pt = OPUS, 0, -1, -1
    cfg.g711_beside_opus = 1
    err = ctypes.create_string_buffer(200)

    def create(pts: list[int], kinds: list[int]) -> int | None:
        n = len(pts)
        return lib.pcifilter_stream_create_with_types(
            ctypes.byref(cfg), (ctypes.c_int * n)(*pts), (ctypes.c_int * n)(*kinds), n, err, 200
        )

    s = create([109, 96], [5, 1])  # PCIFILTER_PT_OPUS, PCIFILTER_PT_PCMU
    assert s, err.value
    out: list[bytes] = []
    buf, n = ctypes.create_string_buffer(1500), ctypes.c_size_t()
    for p in [*raw, None]:
        if p is None:
            lib.pcifilter_stream_flush(s)
        else:
            lib.pcifilter_stream_push(s, p, len(p))
        while lib.pcifilter_stream_pop(s, buf, 1500, ctypes.byref(n)) == 1:
            out.append(buf.raw[: n.value])
    lib.pcifilter_stream_destroy(s)
    f = pf.RtpStreamFilter(opus_pt=[OPUS, 109], pcmu_pt=[0, 96], telephone_event_pt=-1)
    assert out == f.process(raw) + f.flush()
    assert len(out) == len(raw)
    cfg.g711_beside_opus = 0
    assert not create([96], [1]) and b"does not carry" in err.value
    assert not create([96], [0]) and b"enum pcifilter_payload_kind" in err.value
    assert not create([109, 109], [5, 5]) and b"given twice" in err.value


def test_masks_asked_for_and_reported_through_the_c_api(build: Path) -> None:
    """`pcifilter_stream_mask` and `pcifilter_stream_poll_masked` do what `mask` and
    `take_masked` do in Python, on the same packets."""
    from test_stream_filter import _call, _packets

    import pcifilter as pf

    lib = _api(build)
    lib.pcifilter_stream_mask.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]
    lib.pcifilter_stream_poll_masked.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_uint32),
        ctypes.POINTER(ctypes.c_uint32),
    ]
    pcm, _ = _call()
    raw = [p.serialize() for p in _packets(pcm, ts=1000)]
    err = ctypes.create_string_buffer(200)
    s = lib.pcifilter_stream_create(ctypes.byref(_config(lib)), err, 200)
    f = pf.RtpStreamFilter()
    assert lib.pcifilter_stream_mask(s, 1000, 80) == 0 and not f.mask(1000, 80)  # no stream
    buf, n = ctypes.create_string_buffer(1500), ctypes.c_size_t()
    out_c: list[bytes] = []
    out_py: list[bytes] = []
    for i, p in enumerate(raw):
        if i == 3:  # ahead of the output
            assert lib.pcifilter_stream_mask(s, 1000 + 400, 400) == 1
            assert f.mask(1000 + 400, 400)
        lib.pcifilter_stream_push(s, p, len(p))
        while lib.pcifilter_stream_pop(s, buf, 1500, ctypes.byref(n)) == 1:
            out_c.append(buf.raw[: n.value])
        out_py += f.process(p)
    lib.pcifilter_stream_flush(s)
    while lib.pcifilter_stream_pop(s, buf, 1500, ctypes.byref(n)) == 1:
        out_c.append(buf.raw[: n.value])
    out_py += f.flush()
    assert out_c == out_py
    spans, ts, d = [], ctypes.c_uint32(), ctypes.c_uint32()
    while lib.pcifilter_stream_poll_masked(s, ctypes.byref(ts), ctypes.byref(d)) == 1:
        spans.append((ts.value, d.value))
    assert spans == f.take_masked() and spans[0] == (1400, 400)
    lib.pcifilter_stream_destroy(s)


def test_advance_through_the_c_api(build: Path) -> None:
    """`pcifilter_stream_advance` does what `advance` does in Python: the same packets come
    out at the same media clock from a stream with pauses, advanced by a relay's timer."""
    from test_stream_filter import _live, _talkspurts

    import pcifilter as pf
    from pcifilter.rtp import RtpPacket

    lib = _api(build)
    lib.pcifilter_stream_advance.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    cfg = _config(lib)
    err = ctypes.create_string_buffer(200)
    s = lib.pcifilter_stream_create(ctypes.byref(cfg), err, 200)
    assert s, err.value
    buf, n = ctypes.create_string_buffer(1500), ctypes.c_size_t()

    def drain() -> list[bytes]:
        got = []
        while lib.pcifilter_stream_pop(s, buf, 1500, ctypes.byref(n)) == 1:
            got.append(buf.raw[: n.value])
        return got

    raw, _, _ = _talkspurts()
    pending = sorted(raw, key=lambda p: RtpPacket.parse(p).timestamp)
    out, when, now = [], [], 0
    while pending:
        now += 160
        while pending and RtpPacket.parse(pending[0]).timestamp - 5000 + 160 <= now:
            p = pending.pop(0)
            assert lib.pcifilter_stream_push(s, p, len(p)) == 0
            got = drain()
            out += got
            when += [now] * len(got)
        assert lib.pcifilter_stream_advance(s, 5000 + now - 160) == 0
        got = drain()
        out += got
        when += [now] * len(got)
    lib.pcifilter_stream_flush(s)
    got = drain()
    out, when = out + got, when + [now] * len(got)
    lib.pcifilter_stream_destroy(s)
    assert (out, when) == _live(pf.RtpStreamFilter(), raw, 160)
    assert lib.pcifilter_stream_advance(None, 0) == -1


def test_counters_through_the_c_api(build: Path) -> None:
    """A media server embedding the C ABI reads the counters the Python filter's `stats`
    has, by the same names: `pcifilter_stream_stat_name` lists them, `pcifilter_stream_stat`
    reads one (0 for a name there is none of, -1 for NULL)."""
    from test_stream_filter import _call, _packets

    import pcifilter as pf

    lib = _api(build)
    lib.pcifilter_stream_stat_name.restype = ctypes.c_char_p
    lib.pcifilter_stream_stat_name.argtypes = [ctypes.c_size_t]
    lib.pcifilter_stream_stat.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.c_uint64),
    ]
    pcm, _ = _call()
    raw = [p.serialize() for p in _packets(pcm)]
    raw.insert(9, raw[8])  # a copy
    raw.insert(20, b"\x80")  # too short
    raw.insert(30, b"\x81\xc8" + bytes(26))  # RTCP sharing the port
    err = ctypes.create_string_buffer(200)
    s = lib.pcifilter_stream_create(ctypes.byref(_config(lib)), err, 200)
    assert s, err.value
    buf, n = ctypes.create_string_buffer(1500), ctypes.c_size_t()
    for p in raw:
        assert lib.pcifilter_stream_push(s, p, len(p)) == 0
        while lib.pcifilter_stream_pop(s, buf, 1500, ctypes.byref(n)) == 1:
            pass
    lib.pcifilter_stream_flush(s)
    while lib.pcifilter_stream_pop(s, buf, 1500, ctypes.byref(n)) == 1:
        pass
    f = pf.RtpStreamFilter()
    f.process(raw)
    f.flush()
    names = []
    while (name := lib.pcifilter_stream_stat_name(len(names))) is not None:
        names.append(name.decode())
    assert sorted(names) == sorted(f.stats)
    value = ctypes.c_uint64()
    got = {}
    for name in names:
        assert lib.pcifilter_stream_stat(s, name.encode(), ctypes.byref(value)) == 1
        got[name] = value.value
    assert got == f.stats
    assert got["duplicates"] == 1 and got["malformed_too_short"] == got["malformed_rtcp"] == 1
    assert lib.pcifilter_stream_stat(s, b"no such counter", ctypes.byref(value)) == 0
    assert lib.pcifilter_stream_stat(s, None, ctypes.byref(value)) == -1
    assert lib.pcifilter_stream_stat(None, b"late", ctypes.byref(value)) == -1
    lib.pcifilter_stream_destroy(s)


class _Event(ctypes.Structure):
    _fields_ = [
        ("rfc4733", ctypes.c_int),
        ("digit", ctypes.c_char),
        ("start", ctypes.c_int64),
        ("end", ctypes.c_int64),
        ("level_dbm0", ctypes.c_float),
        ("ssrc", ctypes.c_uint32),
        ("rtp_timestamp", ctypes.c_uint32),
        ("rtp_duration", ctypes.c_uint32),
    ]


def _scrubber_api(build: Path) -> ctypes.CDLL:
    """The C API with its frame scrubber's functions typed."""
    lib = _api(build)
    lib.pcifilter_scrubber_create.restype = ctypes.c_void_p
    lib.pcifilter_scrubber_create.argtypes = [
        ctypes.POINTER(_Config),
        ctypes.c_char_p,
        ctypes.c_size_t,
    ]
    i16 = ctypes.POINTER(ctypes.c_int16)
    lib.pcifilter_scrubber_process.argtypes = [ctypes.c_void_p, i16, i16, ctypes.c_size_t]
    lib.pcifilter_scrubber_flush.restype = ctypes.c_int64
    lib.pcifilter_scrubber_flush.argtypes = [ctypes.c_void_p, i16, ctypes.c_size_t]
    lib.pcifilter_scrubber_set_guard_edges.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.pcifilter_scrubber_delay.restype = ctypes.c_int64
    lib.pcifilter_scrubber_delay.argtypes = [ctypes.c_void_p]
    lib.pcifilter_scrubber_poll_event.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Event)]
    lib.pcifilter_scrubber_destroy.argtypes = [ctypes.c_void_p]
    return lib


def test_the_c_scrubber_ends_a_stream_as_python_does(build: Path) -> None:
    """The C scrubber had no flush: a C caller could only pad a stream with silence to get
    its last `delay` samples out, which let a keypress that the stream's end cut through
    (the core's end guard runs at flush). `pcifilter_scrubber_flush` gives them as
    StreamScrubber.flush does, events included; the scrubber then takes a new stream as a
    fresh one would. Too little room, or NULL: -1 and nothing done."""
    from leak import worst_window_db
    from test_scrub import _cut_keypress

    import pcifilter as pf

    lib = _scrubber_api(build)
    err = ctypes.create_string_buffer(200)
    s = lib.pcifilter_scrubber_create(ctypes.byref(_config(lib)), err, 200)
    assert s, err.value
    delay = lib.pcifilter_scrubber_delay(s)

    def through_c(pcm: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(pcm, np.int16)
        y = np.zeros(len(x) + delay, np.int16)
        for i in range(0, len(x), 160):
            n = min(160, len(x) - i)
            assert lib.pcifilter_scrubber_process(s, _at(x, i), _at(y, i), n) == 0
        assert lib.pcifilter_scrubber_flush(s, _at(y, len(x)), delay - 1) == -1
        assert lib.pcifilter_scrubber_flush(s, _at(y, len(x)), delay) == delay
        return y

    def events_c() -> list[int]:
        ev, got = _Event(), []
        while lib.pcifilter_scrubber_poll_event(s, ctypes.byref(ev)) == 1:
            got.append(ev.start)
            assert ev.ssrc == ev.rtp_timestamp == ev.rtp_duration == 0  # no RTP stream
        return got

    for part_ms in (10, 40):
        for edge in ("end", "start"):  # a stream that ends in a keypress, then the next
            pcm, (a, b) = _cut_keypress(edge, part_ms, -22.0, "speech")
            one = pf.StreamScrubber()
            expect = np.concatenate([one.process(pcm), one.flush()])
            y = through_c(pcm)
            assert np.array_equal(y, expect)
            assert events_c() == [e.start for e in one.take_events()]
            heard = np.concatenate([y[delay:], np.zeros(160, np.int16)])
            assert worst_window_db(heard, a, b, "8", -22.0) <= -40
    assert lib.pcifilter_scrubber_flush(None, _at(np.zeros(delay, np.int16), 0), delay) == -1
    lib.pcifilter_scrubber_destroy(s)


def _at(a: np.ndarray, i: int) -> ctypes._Pointer[ctypes.c_int16]:
    return ctypes.cast(a.ctypes.data + 2 * i, ctypes.POINTER(ctypes.c_int16))


def test_the_c_scrubber_s_edge_guards_can_be_turned_off(build: Path) -> None:
    """`pcifilter_scrubber_set_guard_edges`: the C API had no way to the core's
    `guard_edges` (a `pcifilter_config` field would change the struct callers allocate).
    Off, a signal that starts and ends on speech comes out as Python's `guard_edges=False`
    gives it; on (the default), as the default does; NULL is -1."""
    import pcifilter as pf
    from pcifilter import corpus

    lib = _scrubber_api(build)
    speech = np.ascontiguousarray(corpus.cached("speech", 600, seed=7)[8000 * 30 : 8000 * 32])
    guarded, plain = pf.scrub(speech).audio, pf.scrub(speech, guard_edges=False).audio
    assert not np.array_equal(guarded, plain)  # it starts and ends on sound
    for on, expect in ((1, guarded), (0, plain)):
        err = ctypes.create_string_buffer(200)
        s = lib.pcifilter_scrubber_create(ctypes.byref(_config(lib)), err, 200)
        assert s, err.value
        assert lib.pcifilter_scrubber_set_guard_edges(s, on) == 0
        d = lib.pcifilter_scrubber_delay(s)
        y = np.zeros(len(speech) + d, np.int16)
        assert lib.pcifilter_scrubber_process(s, _at(speech, 0), _at(y, 0), len(speech)) == 0
        assert lib.pcifilter_scrubber_flush(s, _at(y, len(speech)), d) == d
        assert np.array_equal(y[d:], expect)
        lib.pcifilter_scrubber_destroy(s)
    assert lib.pcifilter_scrubber_set_guard_edges(None, 1) == -1
