# SPDX-License-Identifier: Apache-2.0
"""Real tools, on 127.0.0.1 only: sipp (Debian sip-tester) makes a call and plays RTP from
pcaps, one with in-band DTMF (made here) and its own RFC 2833 capture; tshark captures it on
loopback; pcifilter scrubs the capture; tshark's RTP analysis of the result shows no
telephone-event and no sequence problem, and spandsp hears no digit in the audio."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import dpkt
import numpy as np
import pytest

import pcifilter as pf
from pcifilter import signals as sg
from pcifilter import spandsp
from pcifilter.pcap import scrub_pcap
from pcifilter.rtp import RtpPacket

pytestmark = pytest.mark.peer
SIPP_PCAPS = Path("/usr/share/sip-tester")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _inband_pcap(path: Path) -> None:
    x, _ = sg.keyed_sequence("1234", 100, 150, -10, lead_ms=500)
    rng = np.random.default_rng(1)
    pcm = sg.to_int16(np.concatenate([x, np.zeros(4000)]) + sg.white_noise(len(x) + 4000, -55, rng))
    with path.open("wb") as f:
        w = dpkt.pcap.Writer(f)
        for i in range(len(pcm) // 160):
            rtp = RtpPacket(
                8,
                i == 0,
                100 + i,
                160 * i,
                0x42,
                payload=pf.alaw_encode(pcm[160 * i : 160 * i + 160]).tobytes(),
            ).serialize()
            udp = dpkt.udp.UDP(sport=6000, dport=6002, data=rtp, ulen=8 + len(rtp))
            ip = dpkt.ip.IP(
                src=socket.inet_aton("127.0.0.1"),
                dst=socket.inet_aton("127.0.0.1"),
                p=17,
                data=udp,
                len=28 + len(rtp),
            )
            w.writepkt(bytes(dpkt.ethernet.Ethernet(type=0x0800, data=ip)), ts=1000 + i * 0.02)


def _tshark(*args: str) -> str:
    return subprocess.run(
        ["tshark", *args], capture_output=True, text=True, timeout=60, check=True
    ).stdout


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for tool in ("sipp", "tshark"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} missing: run ./dev.sh test, which installs it")
    work = tmp_path_factory.mktemp("sipp")
    (work / "pcap").mkdir()
    _inband_pcap(work / "pcap" / "inband.pcap")
    (work / "pcap" / "dtmf_2833_1.pcap").symlink_to(SIPP_PCAPS / "dtmf_2833_1.pcap")
    scenario = subprocess.run(
        ["sipp", "-sd", "uac_pcap"], capture_output=True, text=True, check=False
    ).stdout
    scenario = scenario.replace("pcap/g711a.pcap", "pcap/inband.pcap").replace(
        '<pause milliseconds="8000"/>', '<pause milliseconds="3200"/>'
    )
    (work / "uac.xml").write_text(scenario)
    uas_port, uac_port, uas_media, uac_media = (_free_port() for _ in range(4))
    cap = work / "call.pcapng"
    log = (work / "tshark.log").open("w")
    tshark = subprocess.Popen(
        ["tshark", "-i", "lo", "-f", "udp and host 127.0.0.1", "-w", str(cap)],
        stdout=log,
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 20
        while "Capturing on" not in (work / "tshark.log").read_text():
            assert time.monotonic() < deadline, "tshark did not start"
            time.sleep(0.1)
        uas = subprocess.Popen(
            [
                "sipp",
                "-sn",
                "uas",
                "-i",
                "127.0.0.1",
                "-p",
                str(uas_port),
                "-m",
                "1",
                "-mp",
                str(uas_media),
                "-nostdin",
            ],
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)
        uac = subprocess.run(
            [
                "sipp",
                "-sf",
                "uac.xml",
                f"127.0.0.1:{uas_port}",
                "-i",
                "127.0.0.1",
                "-p",
                str(uac_port),
                "-m",
                "1",
                "-mp",
                str(uac_media),
                "-nostdin",
                "-timeout",
                "30s",
            ],
            cwd=work,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert uac.returncode == 0, uac.stdout[-2000:]
        uas.wait(timeout=20)
        time.sleep(0.5)
    finally:
        tshark.terminate()
        tshark.wait(timeout=20)
        log.close()
    return cap


@pytest.mark.parametrize("telephone_events", ["drop", "replace"])
def test_scrubbed_sipp_call_passes_tshark(
    capture: Path, tmp_path: Path, telephone_events: str
) -> None:
    out = tmp_path / "scrubbed.pcapng"
    r = scrub_pcap(capture, out, telephone_events=telephone_events)
    assert sum(len(s.events) for s in r.streams) == 5  # "1234" in-band, "1" as RFC 2833
    assert _tshark("-r", str(capture), "-Y", "rtpevent").strip()  # the call had events
    assert _tshark("-r", str(out), "-Y", "rtpevent").strip() == ""  # none left
    streams = [
        line
        for line in _tshark("-r", str(out), "-q", "-z", "rtp,streams").splitlines()
        if "127.0.0.1" in line
    ]
    # sipp plays its RFC 2833 capture with its own SSRC: "replace" makes that a stream of
    # masking audio in the call's codec.
    assert len(streams) == (1 if telephone_events == "drop" else 2)
    for line in streams:
        assert "g711A" in line
        assert " 0 (0.0%)" in line and not line.rstrip().endswith("X")  # no loss/problem
    audio = []
    with out.open("rb") as f:
        for _, frame in dpkt.pcapng.Reader(f):
            udp = dpkt.ethernet.Ethernet(frame).data.data
            if isinstance(udp, dpkt.udp.UDP) and udp.data[:1] == b"\x80":
                audio.append(pf.alaw_decode(RtpPacket.parse(bytes(udp.data)).payload))
    assert spandsp.spandsp_digits(np.concatenate(audio), lenient=True) == ("", 0)
