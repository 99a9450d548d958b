# SPDX-License-Identifier: Apache-2.0
"""RFC 4733 telephone-events from real captures: sipp's dtmf_2833_*.pcap (Debian sip-tester,
installed by dev.sh) each hold one keypress, with updates and a triple end packet."""

from __future__ import annotations

from pathlib import Path

import dpkt
import pytest

from pcifilter import _core
from pcifilter.rtp import RtpPacket

SIPP = Path("/usr/share/sip-tester")
NAMES = [str(d) for d in range(10)] + ["star", "pound"]


def _packets(name: str) -> list[RtpPacket]:
    with (SIPP / f"dtmf_2833_{name}.pcap").open("rb") as f:
        return [
            RtpPacket.parse(bytes(dpkt.ethernet.Ethernet(frame).data.data.data))
            for _, frame in dpkt.pcap.Reader(f)
        ]


@pytest.mark.peer
@pytest.mark.parametrize("name", NAMES)
def test_each_sipp_capture_is_one_keypress(name: str) -> None:
    if not SIPP.exists():
        pytest.fail("sip-tester missing: run ./dev.sh test, which installs it")
    tracker = _core.TelephoneEventTracker()
    kinds, reports = [], []
    for p in _packets(name):
        kind, report = tracker.on_packet(p.payload, p.timestamp)
        kinds.append(kind)
        if report is not None:
            reports.append(report)
    assert kinds[0] == "new" and kinds.count("new") == 1
    assert kinds[-2:] == ["end_repeat", "end_repeat"]
    (r,) = reports
    assert r.digit == {"star": "*", "pound": "#"}.get(name, name)
    assert r.name == "rfc4733" and "digit" not in repr(r) and f"{r.digit!r}" not in repr(r)
    assert r.level_dbm0 == -10.0


def test_short_payload_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="shorter than 4 bytes"):
        _core.TelephoneEventTracker().on_packet(b"\x01\x0a", 0)
