# SPDX-License-Identifier: Apache-2.0
"""Extract the committed RTP fixtures from the captures Debian's sip-tester (sipp) ships.

.venv/bin/python tests/data/make_fixtures.py
"""

from __future__ import annotations

from pathlib import Path

import dpkt

SIPP = Path("/usr/share/sip-tester")
HERE = Path(__file__).resolve().parent


def first_udp_payload(capture: Path) -> bytes:
    with capture.open("rb") as f:
        for _, frame in dpkt.pcap.Reader(f):
            udp = dpkt.ethernet.Ethernet(frame).data.data
            return bytes(udp.data)
    raise ValueError(f"{capture}: no packet")


if __name__ == "__main__":
    (HERE / "rtp_pcma_sipp.bin").write_bytes(first_udp_payload(SIPP / "g711a.pcap"))
    (HERE / "rtp_telephone_event_sipp.bin").write_bytes(
        first_udp_payload(SIPP / "dtmf_2833_1.pcap")
    )
