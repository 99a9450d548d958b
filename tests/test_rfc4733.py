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
        ((kind, report),) = tracker.on_packet(p.payload, p.timestamp)
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


def test_events_packed_in_one_packet_are_classified_each() -> None:
    """RFC 4733 §2.5.1.5: '4' (40 ms, ended) and '2' back to back in one packet, the second
    starting where the first one's duration ends; the packet again is the second's update."""
    tracker = _core.TelephoneEventTracker()
    packed = bytes([4, 0x8A, 0x01, 0x40, 2, 0x0A, 0x00, 0xA0])
    (k1, r1), (k2, r2) = tracker.on_packet(packed, 1000)
    assert (k1, k2) == ("new", "new") and r1 is not None and r2 is not None
    assert (r1.digit, r2.digit) == ("4", "2") and r2.start_ms == 1320 / 8
    assert [k for k, _ in tracker.on_packet(packed, 1000)] == ["stale", "update"]
