# SPDX-License-Identifier: Apache-2.0
"""The `pcifilter` command: scrub, demo, bench."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

import pcifilter as pf
from pcifilter.api import MODES

if TYPE_CHECKING:
    from pcifilter.pcap import PcapResult


def _scrub(a: argparse.Namespace) -> int:
    from pcifilter.wavio import encode_like, read_wav, write_wav

    src_path = Path(a.input)
    if a.report == "-" and a.events == "-":
        print("pcifilter: --events - and --report - cannot both write to stdout", file=sys.stderr)
        return 2
    if src_path.suffix.lower() in (".pcap", ".pcapng", ".cap"):
        return _scrub_pcap(a)
    wav = read_wav(src_path)
    if wav.sample_rate not in pf.api.SAMPLE_RATES:
        print(
            f"pcifilter: {a.input}: {wav.sample_rate} Hz; supported: 8000, 16000, 48000",
            file=sys.stderr,
        )
        return 2
    if wav.frames == 0:
        print(f"pcifilter: {a.input}: no samples", file=sys.stderr)
        return 2
    # Each channel (a call recording may hold the caller and the agent apart) is scrubbed as
    # a stream of its own, all in one call.
    options = {"mode": a.mode, "lookahead_ms": a.lookahead_ms}
    if wav.channels == 1:
        results = [pf.scrub(wav.pcm, wav.sample_rate, **options)]
    else:
        results = pf.scrub_many(wav.pcm, wav.sample_rate, **options)
    audio = np.stack([r.audio for r in results]) if wav.channels > 1 else results[0].audio
    write_wav(a.output, wav.encoding, wav.sample_rate, encode_like(wav, audio), wav.channels)
    events = [(ch, ev) for ch, r in enumerate(results, 1) for ev in r.events]
    dtmf = sum(ev.kind == "dtmf" for _, ev in events)
    spans = sum(len(r.spans) for r in results)
    masked_ms = sum(r.masked_ms for r in results)
    layout = f"{wav.channels} channels " if wav.channels > 1 else ""
    say = _summary_stream(a)
    print(
        f"{a.input}: {wav.frames / wav.sample_rate:.2f} s {layout}{wav.encoding} at "
        f"{wav.sample_rate} Hz; {dtmf} keypresses, {len(events) - dtmf} "
        f"other tones; {spans} spans masked ({masked_ms:.0f} ms)",
        file=say,
    )
    for ch, r in enumerate(results, 1):
        where = f" (channel {ch})" if wav.channels > 1 else ""
        for s, e in r.spans:
            print(
                f"  masked {s / wav.sample_rate:8.3f} s - {e / wav.sample_rate:8.3f} s{where}",
                file=say,
            )
    _write_report(
        a,
        {
            "input": str(a.input),
            "output": str(a.output),
            "seconds": wav.frames / wav.sample_rate,
            "channels": wav.channels,
            "encoding": wav.encoding,
            "sample_rate": wav.sample_rate,
            "keypresses": dtmf,
            "other_tones": len(events) - dtmf,
            "masked_ms": masked_ms,
            # each masked span: its channel (from 1), start and end in seconds
            "spans": [
                {"channel": ch, "start_s": s / wav.sample_rate, "end_s": e / wav.sample_rate}
                for ch, r in enumerate(results, 1)
                for s, e in r.spans
            ],
            "events": [
                pf.event_record(ev, a.reveal_digits) | ({"channel": ch} if wav.channels > 1 else {})
                for ch, ev in events
            ],
        },
    )
    if a.events:
        out: TextIO = sys.stdout if a.events == "-" else open(a.events, "w")  # noqa: SIM115
        try:
            for ch, ev in events:
                record = pf.event_record(ev, a.reveal_digits)
                if wav.channels > 1:
                    record["channel"] = ch
                out.write(json.dumps(record) + "\n")
        finally:
            if out is not sys.stdout:
                out.close()
    if a.plot:
        from pcifilter.plot import plot_scrub

        plot = Path(a.plot)
        for ch, r in enumerate(results, 1):
            # One picture per channel: FILE.png, or FILE.ch1.png, FILE.ch2.png, ...
            path = plot.with_suffix(f".ch{ch}{plot.suffix}") if wav.channels > 1 else plot
            before = wav.pcm[ch - 1] if wav.channels > 1 else wav.pcm
            title = f"{a.input} (channel {ch})" if wav.channels > 1 else str(a.input)
            plot_scrub(path, before, r.audio, wav.sample_rate, r.spans, title)
            if wav.channels > 1:
                print(f"  picture of channel {ch}: {path}", file=say)
    return 0


def _scrub_pcap(a: argparse.Namespace) -> int:
    from pcifilter.pcap import events_jsonl, scrub_pcap

    r = scrub_pcap(
        a.input,
        a.output,
        rtp_ports=a.rtp_port,
        payload_types=a.pt,
        reveal_digits=a.reveal_digits,
        mode=a.mode,
        lookahead_ms=a.lookahead_ms,
        telephone_events=a.telephone_events,
        redact_sip_dtmf=not a.keep_sip_dtmf,
        keep_srtp=a.keep_srtp,
        keep_fragments=a.keep_fragments,
        mask_card_numbers=not a.keep_card_numbers,
        keep_unscrubbed_flows=a.keep_unscrubbed_flows,
        keep_iax2=a.keep_iax2,
        telephone_event_pt=a.te_pt,
        opus_pt=a.opus_pt,
    )
    out = _summary_stream(a)
    print(_pcap_summary(a, r), file=out)
    if r.unscrubbed_flows:
        print(
            f"  {len(r.unscrubbed_flows)} RTP-like flows not taken for audio, "
            f"{'written as they were' if a.keep_unscrubbed_flows else 'left out'} (if one is "
            "audio, name it to have it scrubbed: --rtp-port, --pt, --opus-pt):",
            file=out,
        )
    for u in r.unscrubbed_flows[:10]:
        pts = ", ".join(map(str, u.payload_types))
        print(
            f"    {u.src} -> {u.dst} ssrc {u.ssrc:#010x}: {u.packets} packets, payload types {pts}",
            file=out,
        )
    for s in r.streams:
        what = "SRTP, not scrubbed" if s.encrypted else f"{len(s.events)} keypresses"
        beside = "".join(f", telephone-events under ssrc {e:#010x}" for e in s.event_ssrcs)
        print(
            f"  {s.src} -> {s.dst} ssrc {s.ssrc:#010x}{beside}: {s.packets_in} packets in, "
            f"{s.packets_out} out, {what}",
            file=out,
        )
    if a.events:
        text = events_jsonl(r)
        if a.events == "-":
            sys.stdout.write(text)
        else:
            Path(a.events).write_text(text)
    _write_report(a, {"input": str(a.input), "output": str(a.output)} | dataclasses.asdict(r))
    return 0


def _counts(items: list[tuple[int, str]]) -> str:
    return ", ".join(f"{n} {what}" for n, what in items if n)


def _pcap_summary(a: argparse.Namespace, r: PcapResult) -> str:
    """What scrubbing a capture did, in a few lines: the counts that are not 0 (no digit)."""
    keys = sum(len(s.events) for s in r.streams)
    srtp = sum(s.encrypted for s in r.streams)
    lines = [
        f"{a.input}: {r.frames_in} frames in, {r.frames_out} written; {len(r.streams)} RTP "
        f"streams, {keys} keypresses removed"
    ]
    redacted = _counts(
        [
            (r.sip_dtmf_redacted, "SIP messages with DTMF"),
            (r.relay_dtmf_redacted, "media relay messages with DTMF (rtpengine ng, DTMF logs)"),
            (r.pbx_dtmf_redacted, "keypresses in PBX event channels (AMI, ESL, ARI)"),
            (r.gateway_dtmf_redacted, "media gateway messages with DTMF (MGCP, Megaco, H.245)"),
            (r.card_numbers_masked, "card numbers in clear"),
            (r.srtp_keys_redacted, "messages with SRTP keys"),
            (r.coded_unread, "coded bodies and messages not readable whole"),
        ]
    )
    kept = {
        "SRTP streams": a.keep_srtp,
        "IP fragments of RTP, of tunnels or of incomplete datagrams": a.keep_fragments,
        "IAX2 datagrams": a.keep_iax2,
    }
    unscrubbed = [
        (srtp, "SRTP streams"),
        (r.fragments_unscrubbed, "IP fragments of RTP, of tunnels or of incomplete datagrams"),
        (r.rtp_over_tcp_segments, "TCP segments of RTP over TCP"),
        (r.tunnelled_too_deep, "frames more than two tunnels deep"),
        (r.iax2_datagrams, "IAX2 datagrams"),
        (r.sip_over_sctp, "frames of SIP over SCTP"),
    ]
    left_out = _counts([(n, what) for n, what in unscrubbed if not kept.get(what)])
    as_they_were = _counts([(n, what) for n, what in unscrubbed if kept.get(what)])
    for label, text in (
        ("redacted", redacted),
        ("left out (cannot be scrubbed)", left_out),
        ("written as they were (cannot be scrubbed)", as_they_were),
    ):
        if text:
            lines.append(f"  {label}: {text}")
    return "\n".join(lines)


def _summary_stream(a: argparse.Namespace) -> TextIO:
    """Where the summary goes: stdout, or stderr when the JSON report takes stdout."""
    return sys.stderr if a.report == "-" else sys.stdout


def _write_report(a: argparse.Namespace, report: dict[str, Any]) -> None:
    """--report: what the scrub did as one JSON object (counts, streams, spans; digits only
    in the events and only with --reveal-digits)."""
    if not a.report:
        return
    text = json.dumps(report, indent=2) + "\n"
    if a.report == "-":
        sys.stdout.write(text)
    else:
        Path(a.report).write_text(text)


def _demo(a: argparse.Namespace) -> int:
    from pcifilter import demo

    r = demo.run(a.out, mode=a.mode, plot=not a.no_plot)
    print(f"demo call: {r.keyed} keys pressed (test card, expiry, CVV) amid speech and noise")
    print(
        f"scrubbed ({a.mode}): {r.events} keypresses found, {r.spans} spans masked, "
        f"{r.masked_ms:.0f} ms in all"
    )
    if r.decoder_before is not None:
        print(
            f"independent decoder (spandsp): {r.decoder_before} digits in the input, "
            f"{r.decoder_after} in the output"
        )
    print(f"wrote {r.before}, {r.after}" + (f", {r.picture}" if r.picture else ""))
    return 0 if r.events == r.keyed and not r.decoder_after else 1


def _bench(a: argparse.Namespace) -> int:
    from pcifilter import benchmark

    res = benchmark.run(a.seconds, a.streams, a.repeats)
    print(json.dumps(res, indent=2) if a.json else benchmark.format_report(res))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="pcifilter", description="Remove DTMF keypresses from audio.")
    ap.add_argument("--version", action="version", version=pf.__version__)
    sub = ap.add_subparsers(dest="command", required=True)

    s = sub.add_parser("scrub", help="mask every keypress in a WAV file or a pcap/pcapng capture")
    s.add_argument("input", help="WAV (16-bit PCM, µ-law, A-law) or pcap/pcapng capture")
    s.add_argument("output", help="written in the input's format")
    s.add_argument(
        "--mode",
        choices=MODES,
        default="silence",
        help="what replaces a keypress: G.711 idle (default), comfort noise at the background "
        "level, or a flat 400 Hz tone",
    )
    s.add_argument(
        "--lookahead-ms",
        type=float,
        default=40.0,
        help="delay, 0-200 ms (default 40); more covers more keypresses hidden under louder "
        "speech (docs/limits.md)",
    )
    s.add_argument("--events", metavar="FILE|-", help="write events as JSON lines")
    s.add_argument(
        "--report",
        metavar="FILE|-",
        help="write what the scrub did as one JSON object (counts, streams, masked spans, "
        "events; '-': stdout, the summary then on stderr)",
    )
    s.add_argument(
        "--reveal-digits",
        action="store_true",
        help="put the digits in --events (card data: handle with care)",
    )
    s.add_argument(
        "--plot",
        metavar="FILE.png",
        help="draw before/after with masked spans (a WAV of several channels: FILE.chN.png each)",
    )
    s.add_argument(
        "--rtp-port",
        type=int,
        action="append",
        default=[],
        help="pcap: a UDP port carrying RTP (repeatable; SDP in the capture is used too)",
    )
    s.add_argument(
        "--pt",
        type=int,
        action="append",
        default=[],
        help="pcap: an extra payload type to look for RTP streams by, beside G.711, CN and "
        "telephone-event (repeatable; one the filter cannot decode is removed, not passed)",
    )
    s.add_argument(
        "--keep-card-numbers",
        action="store_true",
        help="pcap: leave card numbers in clear outside the audio (13-19 digits, a card "
        "scheme's prefix, the Luhn check; masked by default) as they are",
    )
    s.add_argument(
        "--opus-pt",
        type=int,
        default=None,
        help="pcap: the Opus payload type of streams no SDP in the capture describes (their "
        "telephone-events at 48 kHz as --te-pt)",
    )
    s.add_argument(
        "--te-pt",
        type=int,
        default=101,
        help="pcap: the telephone-event payload type of streams no SDP in the capture "
        "describes (default 101)",
    )
    s.add_argument(
        "--telephone-events",
        choices=("drop", "replace"),
        default="drop",
        help="pcap: drop RFC 4733 packets (renumbering the rest) or replace them with "
        "audio of the masking signal",
    )
    s.add_argument(
        "--keep-sip-dtmf",
        action="store_true",
        help="pcap: leave keypresses in signalling (SIP bodies: INFO dtmf-relay, KPML; a media "
        "relay's ng messages and DTMF logs; a PBX's event channels: AMI, FreeSWITCH's event "
        "socket) as they are (SRTP keys are redacted always)",
    )
    s.add_argument(
        "--keep-srtp",
        action="store_true",
        help="pcap: write SRTP streams (encrypted, so not scrubbed) as they were instead of "
        "leaving them out (their SDP keys are redacted either way)",
    )
    s.add_argument(
        "--keep-fragments",
        action="store_true",
        help="pcap: write RTP in IP fragments, tunnels' packets in IP fragments, and "
        "fragments of datagrams the capture does not hold whole, as they were instead of "
        "leaving them out (they cannot be scrubbed)",
    )
    s.add_argument(
        "--keep-iax2",
        action="store_true",
        help="pcap: write IAX2 (UDP 4569: Asterisk's calls between servers, audio and DTMF "
        "frames the filter cannot scrub) as it was instead of leaving it out",
    )
    s.add_argument(
        "--keep-unscrubbed-flows",
        action="store_true",
        help="pcap: write RTP-like flows no SDP, port or payload type made a stream (listed "
        "in the summary) as they were instead of leaving them out",
    )
    s.set_defaults(func=_scrub)

    d = sub.add_parser("demo", help="build, scrub and check a realistic payment call")
    d.add_argument("--out", default="out", help="folder for the WAVs and the PNG (default out)")
    d.add_argument("--mode", choices=MODES, default="noise", help="masking signal (default noise)")
    d.add_argument("--no-plot", action="store_true", help="skip the PNG")
    d.set_defaults(func=_demo)

    b = sub.add_parser("bench", help="cost per frame and streams per core, against spandsp")
    b.add_argument(
        "--seconds", type=float, default=60.0, help="seconds of test speech timed (default 60)"
    )
    b.add_argument(
        "--streams", type=int, default=64, help="streams in the batch measurements (default 64)"
    )
    b.add_argument("--repeats", type=int, default=5, help="runs, the best kept (default 5)")
    b.add_argument("--json", action="store_true", help="print the figures as JSON")
    b.set_defaults(func=_bench)

    a = ap.parse_args(argv)
    try:
        return int(a.func(a))
    except BrokenPipeError:
        # The reader of stdout went away (`pcifilter scrub ... | head`): whatever was written
        # stays written; end as a program killed by SIGPIPE does, quietly, and keep Python's
        # flush at exit from failing on the closed pipe.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"pcifilter: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
