# SPDX-License-Identifier: Apache-2.0
"""How often a keypress that a cut splits (a new SSRC, its timestamps elsewhere, from one
packet to the next: a media server switching sources) is reported once, twice or not at
all by a stream filter (the capture path: one not reported leaves a digit out of a card
number, one reported twice puts one in too many; masking is tested apart, in
tests/test_stream_filter.py and tests/test_opus_stream.py).

Keypresses of 40, 50, 60 and 80 ms (random digit, -25 to -5 dBm0 a tone, twist -4 to +2 dB,
over line noise at -50 dBm0) with the cut at each packet boundary inside each, in PCMU
streams of 7, 13, 10 and 20 ms packets and Opus streams (SILK 20 ms, hybrid and CELT 10 and 20 ms,
24 kbit/s; the packets after the cut decoded by a fresh decoder, as a receiver does for a
new source). Then pairs of keypresses of one digit (100 ms each, 40 ms apart) with the cut
at each packet boundary from the first's start to the second's end: how often a pair is
reported as one (or as three).

    OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/cut_split_report.py [SEEDS] [FIRST]

(default 4 seeds from 0)
"""

from __future__ import annotations

from collections import Counter

from loss_split_report import STREAMS as LOSS_STREAMS
from loss_split_report import keyed, seeds_from_argv, tally

import pcifilter as pf
from pcifilter.rtp import RtpPacket

# No 40 ms keypress is cut inside a 30 ms packet; 7 and 13 ms packets cut inside the
# detector's 5 ms sub-blocks.
STREAMS = (("pcmu", 7), ("pcmu", 13), *(s for s in LOSS_STREAMS if s != ("pcmu", 30)))


def _reported(packets: list[bytes], codec: str, cut: int) -> str:
    """The digits reported when the packets from `cut` on come from another source."""
    moved = []
    for p in packets[cut:]:
        q = RtpPacket.parse(p)
        q.ssrc, q.timestamp = 0x77, (q.timestamp + 987654) & 0xFFFFFFFF
        moved.append(q.serialize())
    f = pf.RtpStreamFilter(opus_pt=111) if codec != "pcmu" else pf.RtpStreamFilter()
    f.process(packets[:cut] + moved)
    f.flush()
    assert f.stats["ssrc_changes"] == (cut < len(packets))
    return pf.digits_of(f.take_events())


def main() -> None:
    seeds = seeds_from_argv()
    print("| stream | keypress (ms) | reported once | twice | not at all | cases | uncut: once |")
    print("|---|---|---|---|---|---|---|")
    for codec, ptime in STREAMS:
        n = 8 * ptime
        for tone_ms in (40, 50, 60, 80):
            seen: Counter[str] = Counter()
            uncut = 0
            for seed in seeds:
                digit, packets, ((s, e),) = keyed(seed, 1, tone_ms, 100, codec, ptime)
                uncut += _reported(packets, codec, len(packets)) == digit
                for cut in range(s // n + 1, (e - 1) // n + 1):  # a boundary inside it
                    tally(seen, _reported(packets, codec, cut), digit)
            total = sum(seen.values())
            print(
                f"| {codec} {ptime} ms | {tone_ms} | {seen['once']} | {seen['twice+']} "
                f"| {seen['none']} | {total} | {uncut} of {len(seeds)} |"
            )
    print()
    print("| stream | pairs reported as one | as three or more | cases |")
    print("|---|---|---|---|")
    for codec, ptime in STREAMS:
        n = 8 * ptime
        merged = more = total = 0
        for seed in seeds:
            _, packets, spans = keyed(100 + seed, 2, 100, 40, codec, ptime)
            for cut in range(spans[0][0] // n + 1, spans[1][1] // n + 1):
                got = _reported(packets, codec, cut)
                merged += len(got) < 2
                more += len(got) > 2
                total += 1
        print(f"| {codec} {ptime} ms | {merged} | {more} | {total} |")


if __name__ == "__main__":
    main()
