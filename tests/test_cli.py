# SPDX-License-Identifier: Apache-2.0
"""The `pcifilter` command: scrub WAV files (PCM, µ-law, A-law; one channel or several),
events, plots, demo, bench."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pcifilter as pf
from pcifilter import signals as sg
from pcifilter import spandsp
from pcifilter.cli import main
from pcifilter.wavio import read_wav, write_wav

CARD = "4111111111111111"


def _call(rate: int = 8000) -> np.ndarray:
    rng = np.random.default_rng(4)
    x, _ = sg.keyed_sequence(CARD, 80, 90, -12, lead_ms=300, sample_rate=rate)
    return sg.to_int16(x + sg.white_noise(len(x), -55, rng))


def _write(path: Path, pcm: np.ndarray, rate: int, encoding: str) -> None:
    if encoding == "pcm16":
        payload = pcm.astype("<i2").tobytes()
    else:
        payload = (pf.ulaw_encode(pcm) if encoding == "ulaw" else pf.alaw_encode(pcm)).tobytes()
    write_wav(path, encoding, rate, payload)


@pytest.mark.parametrize("encoding", ["pcm16", "ulaw", "alaw"])
def test_scrub_wav_keeps_format_and_unmasked_codes(
    tmp_path: Path, encoding: str, capsys: pytest.CaptureFixture[str]
) -> None:
    src, dst = tmp_path / "in.wav", tmp_path / "out.wav"
    _write(src, _call(), 8000, encoding)
    assert main(["scrub", str(src), str(dst), "--events", str(tmp_path / "ev.jsonl")]) == 0
    out = capsys.readouterr().out
    assert "16 keypresses" in out and CARD not in out
    a, b = read_wav(src), read_wav(dst)
    assert (b.encoding, b.sample_rate, len(b.pcm)) == (encoding, 8000, len(a.pcm))
    events = [json.loads(line) for line in (tmp_path / "ev.jsonl").read_text().splitlines()]
    assert len(events) == 16 and {e["digit"] for e in events} == {"*"}
    masked = np.zeros(len(a.pcm), bool)
    for e in events:  # every keypress lies in what was changed
        masked[int(e["start_ms"] * 8) : int(e["end_ms"] * 8)] = True
    if encoding != "pcm16":
        assert a.codes is not None and b.codes is not None
        changed = a.codes != b.codes
        assert 0.2 < changed.mean() < 0.7
        # Silence mode writes G.711 idle (0xFF µ-law, 0xD5 A-law); an input µ-law "-0"
        # (0x7F) decodes to the same 0 and is kept as it was.
        assert np.all(b.pcm[masked] == (0 if encoding == "ulaw" else 8))
    else:
        assert not np.any(b.pcm[masked])
    if spandsp.available():
        assert spandsp.spandsp_digits(b.pcm, lenient=True)[0] == ""
        assert spandsp.spandsp_digits(a.pcm)[0] == CARD


def test_reveal_digits_and_stdout_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.wav"
    _write(src, _call(16000), 16000, "pcm16")
    assert (
        main(
            [
                "scrub",
                str(src),
                str(tmp_path / "o.wav"),
                "--events",
                "-",
                "--reveal-digits",
                "--mode",
                "tone",
            ]
        )
        == 0
    )
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert "".join(e["digit"] for e in lines) == CARD


def test_report_is_json_on_stdout_with_no_digit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--report -: one JSON object on stdout (the summary on stderr), for a script that
    archives scrubbed recordings; its events show no digit unless --reveal-digits."""
    src = tmp_path / "in.wav"
    _write(src, _call(), 8000, "ulaw")
    assert main(["scrub", str(src), str(tmp_path / "o.wav"), "--report", "-"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert "16 keypresses" in captured.err and CARD not in captured.out + captured.err
    assert (report["keypresses"], report["encoding"], report["channels"]) == (16, "ulaw", 1)
    assert len(report["events"]) == 16 and {e["digit"] for e in report["events"]} == {"*"}
    assert report["spans"] and all(s["start_s"] < s["end_s"] for s in report["spans"])
    total_ms = sum(s["end_s"] - s["start_s"] for s in report["spans"]) * 1000
    assert abs(total_ms - report["masked_ms"]) < 1
    path = tmp_path / "report.json"
    args = ["scrub", str(src), str(tmp_path / "o.wav"), "--report", str(path), "--reveal-digits"]
    assert main(args) == 0
    assert "".join(e["digit"] for e in json.loads(path.read_text())["events"]) == CARD
    assert main(["scrub", str(src), str(tmp_path / "o.wav"), "--report", "-", "--events", "-"]) == 2


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path: Path) -> None:
    """`pcifilter scrub IN OUT --events - | head -1`: the output is written, the command
    ends as one killed by SIGPIPE does (141), with no error message (was: "pcifilter:
    [Errno 32] Broken pipe" and status 2)."""
    src, dst = tmp_path / "in.wav", tmp_path / "o.wav"
    x, _ = sg.keyed_sequence("1234567890" * 60, 60, 60, -12, lead_ms=100)
    _write(src, sg.to_int16(x), 8000, "ulaw")  # 600 keypresses: more lines than a pipe holds
    cmd = [sys.executable, "-m", "pcifilter", "scrub", str(src), str(dst), "--events", "-"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as p:
        assert p.stdout is not None and p.stderr is not None
        p.stdout.readline()
        p.stdout.close()  # the reader goes away after one line
        err = p.stderr.read().decode()
        assert (p.wait(timeout=120), err) == (141, "")
    assert read_wav(dst).frames == read_wav(src).frames


def test_plot(tmp_path: Path) -> None:
    src, png = tmp_path / "in.wav", tmp_path / "p.png"
    _write(src, _call(), 8000, "ulaw")
    assert main(["scrub", str(src), str(tmp_path / "o.wav"), "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20000


@pytest.mark.parametrize("encoding", ["pcm16", "alaw"])
def test_each_channel_of_a_recording_is_scrubbed(
    tmp_path: Path, encoding: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A call recording with the caller and the agent on channels of their own: the
    keypresses on the caller's are masked, the agent's channel passes as it was (bit-exact
    codes; but for its first and last 15 ms, masked as a stream's edges are when they are
    not quiet: a recording cut in a keypress), the output has the input's layout, and events
    and pictures say which channel."""
    caller = _call()
    rng = np.random.default_rng(9)
    agent = sg.to_int16(sg.white_noise(len(caller), -30, rng))
    for keys_on in (1, 2):
        pcm = np.stack([caller, agent] if keys_on == 1 else [agent, caller])
        src, dst = tmp_path / f"in{keys_on}.wav", tmp_path / f"out{keys_on}.wav"
        payload = pcm.T.astype("<i2").tobytes()
        if encoding == "alaw":
            payload = np.stack([pf.alaw_encode(x) for x in pcm]).T.tobytes()
        write_wav(src, encoding, 8000, payload, channels=2)
        ev, png = tmp_path / f"ev{keys_on}.jsonl", tmp_path / f"p{keys_on}.png"
        argv = ["scrub", str(src), str(dst), "--events", str(ev), "--plot", str(png)]
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert "2 channels" in out and "16 keypresses" in out and CARD not in out
        a, b = read_wav(src), read_wav(dst)
        assert (b.channels, b.encoding, b.frames) == (2, encoding, len(caller))
        other = 2 - keys_on  # the agent's channel, 0-based
        inner = slice(8 * 16, -8 * 16)  # 15 ms and a ramp from each edge
        assert np.array_equal(a.pcm[other][inner], b.pcm[other][inner])
        if encoding == "alaw":
            assert a.codes is not None and b.codes is not None
            assert np.array_equal(a.codes[other][inner], b.codes[other][inner])
        records = [json.loads(line) for line in ev.read_text().splitlines()]
        assert len(records) == 16 and {(r["channel"], r["digit"]) for r in records} == {
            (keys_on, "*")
        }
        for ch in (1, 2):
            assert png.with_suffix(f".ch{ch}.png").read_bytes()[:4] == b"\x89PNG"
        if spandsp.available():
            assert spandsp.spandsp_digits(a.pcm[keys_on - 1])[0] == CARD
            assert spandsp.spandsp_digits(b.pcm[keys_on - 1], lenient=True)[0] == ""


def test_bad_files_are_clear_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    assert main(["scrub", str(bad), str(tmp_path / "o.wav")]) == 2
    assert "missing fmt" in capsys.readouterr().err
    assert main(["scrub", str(tmp_path / "none.wav"), str(tmp_path / "o.wav")]) == 2
    import struct

    for channels, error in ((2, "no samples"), (65, "1 to 64 are supported")):
        many = tmp_path / "many.wav"
        fmt = struct.pack("<HHIIHH", 1, channels, 8000, 16000 * channels, 2 * channels, 16)
        many.write_bytes(
            b"RIFF"
            + struct.pack("<I", 36)
            + b"WAVEfmt "
            + struct.pack("<I", 16)
            + fmt
            + b"data"
            + struct.pack("<I", 0)
        )
        assert main(["scrub", str(many), str(tmp_path / "o.wav")]) == 2
        assert error in capsys.readouterr().err
    rate = tmp_path / "r.wav"
    _write(rate, np.zeros(100, np.int16), 44100, "pcm16")
    assert main(["scrub", str(rate), str(tmp_path / "o.wav")]) == 2


@pytest.mark.parametrize("encoding", ["pcm16", "ulaw"])
def test_a_wav_still_being_recorded_is_read_to_its_end(tmp_path: Path, encoding: str) -> None:
    """A recorder writes the data chunk's size when it closes the file: one copied while the
    call goes on says 0. Its audio was refused ("no samples"); it is read to the file's end
    now, and scrubbed. An empty data chunk followed by another chunk stays empty."""
    import struct

    src, dst = tmp_path / "live.wav", tmp_path / "out.wav"
    pcm = sg.to_int16(sg.white_noise(8000, -30, np.random.default_rng(1)))
    _write(src, pcm, 8000, encoding)
    whole = read_wav(src).pcm
    raw = bytearray(src.read_bytes())
    at = raw.index(b"data")
    raw[at + 4 : at + 8] = struct.pack("<I", 0)
    src.write_bytes(bytes(raw))
    assert np.array_equal(read_wav(src).pcm, whole)
    assert main(["scrub", str(src), str(dst)]) == 0
    assert read_wav(dst).frames == len(whole)
    empty = bytes(raw[: at + 8]) + b"LIST" + struct.pack("<I", 4) + b"INFO"
    src.write_bytes(empty)
    assert read_wav(src).frames == 0


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_any_damaged_wav_reads_or_is_refused_clearly(tmp_path: Path, data: st.DataObject) -> None:
    """A WAV header or body damaged anywhere: read as some WAV, or a ValueError."""
    src = tmp_path / "in.wav"
    write_wav(src, data.draw(st.sampled_from(["pcm16", "ulaw"])), 8000, bytes(range(64)), 2)
    raw = bytearray(src.read_bytes())
    for _ in range(data.draw(st.integers(1, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    src.write_bytes(bytes(raw[: data.draw(st.integers(0, len(raw)))]))
    try:
        wav = read_wav(src)
    except ValueError:
        return
    assert wav.pcm.dtype == np.int16 and 1 <= wav.channels <= 64


def test_demo_runs_and_leaves_nothing_for_a_decoder(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pcifilter", "demo", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "26 keys pressed" in proc.stdout and "26 keypresses found" in proc.stdout
    assert "in the output: 0" in proc.stdout.replace("0 in the output", "in the output: 0")
    for name in ("demo_before.wav", "demo_after.wav", "demo.png"):
        assert (tmp_path / name).stat().st_size > 1000
    assert "4111" not in proc.stdout + proc.stderr


def test_bench_command_reports_every_path(capsys: pytest.CaptureFixture[str]) -> None:
    # Output format only: numbers are measured, never asserted (see bench/).
    assert main(["bench", "--seconds", "2", "--streams", "4", "--repeats", "1", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    for key in (
        "detect_ns",
        "scrub_ns",
        "batch_scrub_ns",
        "scrub_16k_ns",
        "scrub_48k_ns",
        "detect_streams_per_core",
        "rtp_packet_ns",
        "rtp_python_packet_ns",
        "pcap_packets_per_s",
    ):
        assert res[key] > 0
    assert res["pcap_rtp_packets"] == 16 * 100  # 2 s of 20 ms packets, 16 streams
    # JSON keys are strings; the default scrubber's state at each rate (its size is tested in
    # test_scrub.py).
    assert set(res["state_bytes"]) == {"8000", "16000", "48000"}
    assert 0 < res["state_bytes"]["8000"] < res["state_bytes"]["48000"]
    for app in ("opus_celt", "opus_voip"):
        o = res[app]
        assert o["packets"] == 100 and 0 <= o["reencoded"] <= 100
        assert o["filter_ns"] > 0 and o["decode_48k_ns"] > 0 and o["decode_8k_ns"] > 0
        assert o["ratio"] == pytest.approx(o["filter_ns"] / o["decode_48k_ns"])
    assert res["kernels"] in res["kernel_ns"] and min(res["kernel_ns"].values()) > 0
    sw = res["switching"]
    assert sw["packets"] == 100 and sw["switching_ns"] > 0 and sw["unswitched_ns"] > 0
    assert sw["ratio"] == pytest.approx(sw["switching_ns"] / sw["unswitched_ns"])
    if spandsp.available():
        assert res["spandsp_ns"] > 0 and "scrub_ratio" in res


def test_bench_command_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    # The operator's view: every row and target line there (format only, as above).
    assert main(["bench", "--seconds", "1", "--streams", "2", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    for row in (
        "detect (one stream)",
        "detect+mask (one stream)",
        "detect+mask (batch, per stream)",
        "detect+mask, 16 kHz input",
        "detect+mask, 48 kHz input",
        "correlator bank, ns per 5 ms sub-block",
        "RTP stream filter, 20 ms PCMU packet",
        "pcap scrubbing",
        "CELT-only",
        "SILK/hybrid",
        "Both families",
    ):
        assert row in out, row
    state = pf.StreamScrubber(8000).state_bytes
    assert f"state per stream, look-ahead included: {state:,} bytes at 8 kHz" in out
    if spandsp.available():
        assert "spandsp 0.0.6 dtmf_rx (reference)" in out
        assert "issue 2's target: detect+mask of a frame <= 0.25x" in out
