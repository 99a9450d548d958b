# SPDX-License-Identifier: Apache-2.0
"""Leak-free masking, judged on the output: the projection criterion, an independent decoder
(spandsp, lenient) finding nothing, bit-exact pass-through outside masked spans, chunking,
switching on and off mid-call, and other rates."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from leak import masked, sweep_case

import pcifilter as pf
from pcifilter import corpus, spandsp
from pcifilter import signals as sg

LEVELS = (-3.0, -10.0, -20.0, -25.0, -30.0)


def _leak_sweep(
    bg: str, levels: tuple[float, ...], mode: str, lookahead_ms: float, per_level: int, seed: int
) -> tuple[float, float, str]:
    rng = np.random.default_rng(seed)
    worst, least_covered, recovered = -200.0, 1.0, ""
    for level in levels:
        for i in range(per_level):
            res, _, out = sweep_case(rng, bg, level, i, mode, lookahead_ms)
            worst = max(worst, res.worst_db)
            least_covered = min(least_covered, res.covered)
            digits, hits = spandsp.spandsp_digits(out, lenient=True)
            recovered += digits + ("?" * hits if bg in ("silence", "line_noise") else "")
    return worst, least_covered, recovered


@pytest.mark.parametrize("lookahead_ms", [30.0, 40.0])
@pytest.mark.parametrize("bg", ["silence", "line_noise"])
def test_no_leak_over_silence_and_line_noise(bg: str, lookahead_ms: float) -> None:
    worst, covered, recovered = _leak_sweep(bg, LEVELS, "silence", lookahead_ms, 32, 21)
    assert worst <= -40.0
    assert covered == 1.0
    assert recovered == ""


@pytest.mark.parametrize("mode", ["noise", "tone"])
def test_other_modes_cover_every_tone(mode: str) -> None:
    _, covered, recovered = _leak_sweep("line_noise", LEVELS, mode, 40.0, 16, 22)
    assert covered == 1.0
    assert recovered == ""


@pytest.mark.parametrize("bg", ["speech", "music"])
def test_no_leak_over_speech_and_music_down_to_5_db_above_them(bg: str) -> None:
    # Backgrounds at -20 dBm0 (active level); tones from -3 to -15 dBm0 per tone.
    worst, covered, recovered = _leak_sweep(bg, (-3.0, -10.0, -15.0), "silence", 40.0, 24, 23)
    assert worst <= -40.0
    assert covered == 1.0
    assert recovered == ""


@pytest.mark.xfail(
    strict=True,
    reason="known gap: keypresses 5-10 dB below speech or music "
    "are not always found in time to mask (see docs/limits.md)",
)
@pytest.mark.parametrize("bg", ["speech", "music"])
def test_quiet_keypress_under_speech_and_music(bg: str) -> None:
    worst, covered, _ = _leak_sweep(bg, (-25.0, -30.0), "silence", 40.0, 24, 24)
    assert covered == 1.0 and worst <= -40.0


def test_a_longer_lookahead_covers_more_quiet_keypresses_under_speech() -> None:
    """What look-ahead buys: a keypress 5-10 dB under speech is often found only when the
    speech dips, tens of milliseconds after its onset; with 160 ms of look-ahead the new
    mask is carried back to the onset while the keypress's pair shows in its bins. Keypresses
    the speech hides whole stay uncovered (the strict xfail above)."""

    def covered(lookahead_ms: float) -> int:
        rng = np.random.default_rng(24)
        full = 0
        for level in (-25.0, -30.0):
            for i in range(48):
                res, _, _ = sweep_case(rng, "speech", level, i, lookahead_ms=lookahead_ms)
                full += res.covered == 1.0 and res.worst_db <= -40.0
        return full

    short, long = covered(40.0), covered(160.0)
    assert long >= short + 6 and long >= 94  # of 96 (85 and 95 when written)


def test_a_long_lookahead_carries_masks_back_only_where_the_pair_shows() -> None:
    """The walk back stops where the pair's bins fall: with 160 ms of look-ahead, two minutes
    of speech are masked 1.38 times as much as with 40 ms (when written). A lead-in as long
    as the look-ahead allows, as before, masked ten minutes of it 2.0 times as much at 120 ms
    and 2.9 times at 200 ms (bench/RESULTS.md)."""
    speech = corpus.cached("speech", 600, seed=7)[: 8000 * 120]
    short, long = (pf.scrub(speech, lookahead_ms=la).masked_ms for la in (40.0, 160.0))
    assert short < long < 1.7 * short


def test_quiet_keypress_stays_masked_when_another_bin_rises_beside_it() -> None:
    """A quiet keypress under a voice (a steady partial at 600 Hz, half the keypress's low
    tone: the keypress is a mask candidate but never passes the strict tests, so it is not
    tracked as a digit), then a partial louder than its tone comes up in another row's bin
    (795 Hz, near 770 Hz but off it): the keypress is followed in its own bins to its end,
    its tail not let out."""
    rng = np.random.default_rng(5)
    n, onset, dur = 8000, 2000, 1200  # a 150 ms keypress
    x = sg.white_noise(n, -50, rng) + sg.tone([600.0], [-25.0], n)
    start, end = sg.key_into(x, rng, "*", dur / 8, -25.0, onset)  # 941 + 1209 Hz
    x[onset + 400 : end + 400] += sg.tone([795.0], [-22.0], end - onset)  # from 50 ms in
    r = pf.scrub(sg.to_int16(x))
    assert masked(r.spans, n)[start:end].all()


def test_off_frequency_keypresses_an_independent_decoder_hears_are_masked() -> None:
    """Past Q.24's reject limit, a pair with its row tone 3-4.5 % off is no keypress, but
    spandsp (lenient) still decodes some of them: masking must not let those through (a
    frequency limit on mask candidates at 3.5 % was tried and did, bench/RESULTS.md)."""
    rng = np.random.default_rng(11)
    heard_in, heard_out = 0, 0
    for off in (0.03, 0.035, 0.04, 0.045, -0.03, -0.035, -0.04, -0.045):
        for digit in sg.DIGITS:
            x = sg.white_noise(8000, -50, rng)
            phases = (rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi))
            x[2000:3600] += sg.dtmf(digit, 200, -10.0, freq_error=(off, 0.0), phases=phases)
            pcm = sg.to_int16(x)
            heard_in += spandsp.spandsp_digits(pcm, lenient=True)[1] > 0
            heard_out += spandsp.spandsp_digits(pf.scrub(pcm).audio, lenient=True)[1] > 0
    assert heard_in >= 10  # the decoder does hear such pairs
    assert heard_out == 0


def _keyed(seed: int, n: int = 24000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = sg.white_noise(n, -45, rng)
    # One keypress in each third: keypresses laid over one another are no keypress (seed
    # 113164 put all three in the same 100 ms: masked, and rightly no event).
    for k in range(3):
        t = sg.dtmf(
            sg.DIGITS[int(rng.integers(16))],
            float(rng.uniform(40, 150)),
            float(rng.uniform(-25, -5)),
        )
        at = int(rng.integers(k * n // 3, (k + 1) * n // 3 - len(t)))
        x[at : at + len(t)] += t
    return sg.to_int16(x)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), mode=st.sampled_from(pf.api.MODES))
def test_everything_outside_masked_spans_is_bit_exact(seed: int, mode: str) -> None:
    pcm = _keyed(seed)
    r = pf.scrub(pcm, mode=mode)
    assert r.audio.shape == pcm.shape and r.audio.dtype == np.int16
    outside = ~masked(r.spans, len(pcm))
    assert np.array_equal(r.audio[outside], pcm[outside])
    assert len(r.events) >= 1


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    cuts=st.lists(st.integers(1, 2000), min_size=1, max_size=20),
    mode=st.sampled_from(pf.api.MODES),
    lookahead_ms=st.sampled_from([40.0, 160.0]),
    into_callers_array=st.booleans(),
)
def test_streaming_in_any_chunks_equals_whole_buffer(
    seed: int, cuts: list[int], mode: str, lookahead_ms: float, into_callers_array: bool
) -> None:
    """Also with each chunk's output written into the caller's array (`out=`): here one
    output buffer for the whole stream, each chunk's part of it in turn."""
    pcm = _keyed(seed)
    whole = pf.scrub(pcm, mode=mode, lookahead_ms=lookahead_ms)
    s = pf.StreamScrubber(mode=mode, lookahead_ms=lookahead_ms)
    buf = np.full(len(pcm), 12345, np.int16)
    outs, pos = [], 0
    for c in [*cuts * 100, len(pcm)]:
        if pos >= len(pcm):
            break
        chunk = pcm[pos : pos + c]
        if into_callers_array:
            outs.append(s.process(chunk, out=buf[pos : pos + len(chunk)]))
        else:
            outs.append(s.process(chunk))
        pos += len(chunk)
    outs.append(s.flush())
    streamed = np.concatenate(outs)[s.delay :]
    assert np.array_equal(streamed, whole.audio)
    if into_callers_array:
        assert np.array_equal(buf[s.delay :], whole.audio[: len(pcm) - s.delay])


def _keyed_wideband(seed: int, rate: int) -> np.ndarray:
    """Three keypresses over noise and a voice-like partial, at `rate`."""
    rng = np.random.default_rng(seed)
    n = 3 * rate
    x = sg.white_noise(n, -45, rng) + sg.tone([330.0], [-30.0], n, rate)
    for k in range(3):
        t = sg.dtmf(
            sg.DIGITS[int(rng.integers(16))],
            float(rng.uniform(40, 150)),
            float(rng.uniform(-30, -5)),
            sample_rate=rate,
        )
        at = int(rng.integers(k * n // 3, (k + 1) * n // 3 - len(t)))
        x[at : at + len(t)] += t
    return sg.to_int16(x)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    rate=st.sampled_from([16000, 48000]),
    cuts=st.lists(st.integers(1, 3000), min_size=1, max_size=12),
    tones=st.booleans(),
)
def test_wideband_streaming_in_any_chunks_equals_whole_buffer(
    seed: int, rate: int, cuts: list[int], tones: bool
) -> None:
    """At 16 and 48 kHz too (decimated for the detectors), with and without configured tones:
    the same audio, events and spans however the input is chunked."""
    pcm = _keyed_wideband(seed, rate)
    opts: dict[str, object] = {"tones": pf.default_tones()} if tones else {}
    whole = pf.scrub(pcm, rate, **opts)
    s = pf.StreamScrubber(rate, **opts)
    outs, pos = [], 0
    for c in [*cuts * 50, len(pcm)]:
        if pos >= len(pcm):
            break
        outs.append(s.process(pcm[pos : pos + c]))
        pos += c
    outs.append(s.flush())
    assert np.array_equal(np.concatenate(outs)[s.delay :], whole.audio)
    events = s.take_events()
    assert [(e.digit, e.start, e.end) for e in events] == [
        (e.digit, e.start, e.end) for e in whole.events
    ]
    assert len(whole.events) >= 1


def test_switching_masking_on_and_off_mid_call() -> None:
    x, spans = sg.keyed_sequence("1234", 80, 400, -10, lead_ms=200)
    pcm = sg.to_int16(x)
    s = pf.StreamScrubber()
    d = s.delay
    out = []
    # Off for the first key; on 10 ms before the second key's onset (inside the look-ahead);
    # off again after the third key; every call returns exactly what went in.
    switches = {0: False, spans[1][0] - 80: True, spans[2][1] + 800: False}
    pos = 0
    for at in [*sorted(switches)[1:], len(pcm)]:
        s.masking = switches[max(k for k in switches if k <= pos)]
        chunk = pcm[pos:at]
        got = s.process(chunk)
        assert len(got) == len(chunk)
        out.append(got)
        pos = at
    out.append(s.flush())
    y = np.concatenate(out)[d:]
    assert len(y) == len(pcm)
    a, b = spans[0]
    assert np.array_equal(y[a:b], pcm[a:b])  # masking off: untouched
    for a, b in spans[1:3]:
        assert not np.any(y[a:b])  # masked from the very first sample
    a, b = spans[3]
    assert np.array_equal(y[a:b], pcm[a:b])
    assert len(s.take_events()) == 4  # detection runs whether masking is on or not


@pytest.mark.parametrize("rate", [16000, 48000])
def test_other_sample_rates_mask_whole_tone(rate: int) -> None:
    rng = np.random.default_rng(5)
    for i in range(16):
        d = sg.DIGITS[i]
        lead = int(rng.integers(rate // 20, rate // 10))
        t = sg.dtmf(d, float(rng.uniform(40, 120)), float(rng.uniform(-25, -5)), sample_rate=rate)
        x = np.concatenate([np.zeros(lead), t, np.zeros(rate // 5)]) + sg.white_noise(
            lead + len(t) + rate // 5, -55, rng
        )
        r = pf.scrub(sg.to_int16(x), rate)
        assert [e.digit for e in r.events] == [d]
        assert abs(r.events[0].start_ms - lead * 1000 / rate) <= 5.0
        assert masked(r.spans, len(x))[lead : lead + len(t)].all()


def test_flat_tone_mode_never_uses_a_dtmf_frequency() -> None:
    with pytest.raises(ValueError, match="DTMF"):
        pf.scrub(np.zeros(800, np.int16), mode="tone", tone_hz=770.0)
    r = pf.scrub(sg.to_int16(sg.dtmf("5", 100, -10)), mode="tone", tone_hz=500.0)
    spectrum = np.abs(np.fft.rfft(r.audio.astype(float)))
    assert abs(np.argmax(spectrum) * 8000 / len(r.audio) - 500.0) < 20.0


def test_noise_mode_follows_background_level() -> None:
    rng = np.random.default_rng(8)
    bg = sg.white_noise(16000, -50, rng)
    t = sg.dtmf("7", 200, -10)
    x = bg.copy()
    x[12000 : 12000 + len(t)] += t
    r = pf.scrub(sg.to_int16(x), mode="noise")
    ((s, e),) = r.spans
    masked = r.audio[s + 20 : e - 20].astype(float)
    level = sg.power_to_dbm0(float(np.mean(masked**2)))
    assert -53.0 < level < -47.0


def test_masked_samples_counts_every_masked_span() -> None:
    # Close keypresses make spans that join; the counter must follow them.
    for seed in range(8):
        r = pf.scrub(_keyed(seed))
        assert r.spans and r.stats["masked_samples"] == sum(e - s for s, e in r.spans)
    x, _ = sg.keyed_sequence("123456", 60, 45, -10)
    r = pf.scrub(sg.to_int16(x))
    assert r.stats["masked_samples"] == sum(e - s for s, e in r.spans)


def test_state_per_stream_fits_4_kib_at_8_khz() -> None:
    assert pf.StreamScrubber(8000, lookahead_ms=40).state_bytes <= 4096


def _cut_keypress(
    edge: str, part_ms: int, level: float, bg: str
) -> tuple[np.ndarray, tuple[int, int]]:
    """A signal that starts `part_ms` before a keypress's end, or ends `part_ms` into one,
    over `bg` at -20 dBm0: the signal and the keypress's part in it."""
    from leak import background

    rng = np.random.default_rng(part_ms)
    x, spans = sg.keyed_sequence("8", 100, 100, level, lead_ms=200)
    x = x + background(bg, len(x), rng)
    s, e = spans[0]
    if edge == "start":
        return sg.to_int16(x[e - 8 * part_ms :]), (0, 8 * part_ms)
    return sg.to_int16(x[: s + 8 * part_ms]), (s, s + 8 * part_ms)


@pytest.mark.parametrize("bg", ["silence", "speech"])
@pytest.mark.parametrize("part_ms", [1, 2, 10, 25, 40])
@pytest.mark.parametrize("edge", ["start", "end"])
def test_a_signal_cut_in_a_keypress_leaves_nothing_of_it(edge: str, part_ms: int, bg: str) -> None:
    """A recording split into files, or paused and resumed, can start in a keypress's last
    milliseconds or end in its first: too few for the detector, a tone all the same. Over
    silence, line noise and speech, 103-123 of 400 such starts and 61-92 of 400 such ends let
    the part out (bench/discontinuity_report.py --under-speech, its core rows). Now a signal
    that starts or ends on sound (-27 dBm0 over 10 ms) has its first or last 120 ms masked,
    one that starts or ends loud (-45 dBm0 over 2.5 ms) or like a keypress its 15 ms; once
    each, and the same however it is chunked. `guard_edges=False` turns it off."""
    from leak import worst_window_db

    pcm, span = _cut_keypress(edge, part_ms, -22.0, bg)
    y = pf.scrub(pcm).audio
    assert worst_window_db(np.concatenate([y, np.zeros(160, np.int16)]), *span, "8", -22.0) <= -40
    s = pf.StreamScrubber()
    streamed = np.concatenate(
        [s.process(pcm[i : i + 7]) for i in range(0, len(pcm), 7)] + [s.flush()]
    )
    assert np.array_equal(streamed[s.delay :], y)


@pytest.mark.parametrize("part_ms", [1, 10, 25, 40])
def test_a_bank_s_stream_ends_with_its_edge_guarded_and_its_slot_takes_a_new_one(
    part_ms: int,
) -> None:
    """A ScrubberBank had no flush: a stream that ended (a call over) could only be padded
    with silence to get its last `delay` samples out, which let a keypress its end cut
    through (over speech: 21 of 100 such ends). `flush(i)` ends stream i as StreamScrubber's
    flush does, its events kept; its slot then takes a new stream as a fresh scrubber would,
    while the other streams go on untouched."""
    from leak import worst_window_db

    pcm, (a, b) = _cut_keypress("end", part_ms, -22.0, "speech")
    nxt, _ = _cut_keypress("start", part_ms, -22.0, "speech")
    other = sg.to_int16(sg.white_noise(len(pcm) + len(nxt), -30, np.random.default_rng(5)))
    bank, single, fresh = pf.ScrubberBank(2), pf.StreamScrubber(), pf.StreamScrubber()
    rows = np.stack([pcm, other[: len(pcm)]])
    out = [bank.process(np.ascontiguousarray(rows[:, i : i + 80])) for i in range(0, len(pcm), 80)]
    tail = bank.flush(0)
    mine = np.concatenate([single.process(pcm), single.flush()])
    assert np.array_equal(np.concatenate([o[0] for o in out] + [tail]), mine)
    y = np.concatenate([mine[single.delay :], np.zeros(160, np.int16)])
    assert worst_window_db(y, a, b, "8", -22.0) <= -40
    events = bank.take_events()
    assert [e.start for e in events[0]] == [e.start for e in single.take_events()]
    # The slot takes a new stream (one that starts in a keypress's end): as a fresh scrubber.
    rows = np.stack([nxt, other[len(pcm) :]])
    again = [
        bank.process(np.ascontiguousarray(rows[:, i : i + 80])) for i in range(0, len(nxt), 80)
    ]
    assert np.array_equal(np.concatenate([o[0] for o in again]), fresh.process(nxt))
    expect = pf.StreamScrubber().process(other)
    assert np.array_equal(np.concatenate([o[1] for o in out + again]), expect)
    events = bank.take_events()
    assert [e.start for e in events[0]] == [e.start for e in fresh.take_events()]
    with pytest.raises(IndexError):
        bank.flush(2)


@pytest.mark.parametrize("bg", ["silence", "speech"])
def test_after_flush_a_stream_scrubber_takes_a_new_stream(bg: str) -> None:
    """A recording, flush, the next recording: the second went on the first one's timeline,
    with no start guard, and one that started in a keypress's last 1-40 ms let it out (5 of
    14 here). Now it is scrubbed as by a fresh scrubber: the same samples, its events from 0;
    the first's events not yet taken stay."""
    from leak import worst_window_db

    first, _ = _cut_keypress("end", 30, -15.0, "speech")
    for part_ms in (1, 5, 20, 40):
        second, span = _cut_keypress("start", part_ms, -22.0, bg)
        s, fresh = pf.StreamScrubber(), pf.StreamScrubber()
        s.process(first)
        s.flush()
        y = np.concatenate([s.process(second), s.flush()])
        assert np.array_equal(y, np.concatenate([fresh.process(second), fresh.flush()]))
        heard = np.concatenate([y[s.delay :], np.zeros(160, np.int16)])
        assert worst_window_db(heard, *span, "8", -22.0) <= -40
        events, expect = s.take_events(), fresh.take_events()
        assert [e.start for e in events[len(events) - len(expect) :]] == [e.start for e in expect]


def test_edge_guards_mask_only_a_signal_s_edges_and_can_be_turned_off() -> None:
    """Speech that starts and ends on sound: 120 ms masked at each end, the rest as without the
    guards; a quiet start and end: nothing more masked; `guard_edges=False`: none."""
    speech = corpus.cached("speech", 600, seed=7)[8000 * 30 : 8000 * 32]
    guarded, plain = pf.scrub(speech), pf.scrub(speech, guard_edges=False)
    edge = 8 * 125  # 120 ms and the ramp
    assert np.array_equal(guarded.audio[edge:-edge], plain.audio[edge:-edge])
    loud = sg.power_to_dbm0(float(np.mean(speech[:80].astype(np.float64) ** 2))) >= -27
    assert (not np.array_equal(guarded.audio[:edge], plain.audio[:edge])) == loud
    quiet = sg.to_int16(sg.white_noise(8000, -60, np.random.default_rng(1)))
    assert np.array_equal(pf.scrub(quiet).audio, quiet)


@pytest.mark.parametrize("rate", [16000, 48000])
def test_edge_guards_cover_a_cut_keypress_at_other_rates(rate: int) -> None:
    """At 16 and 48 kHz too, a signal that starts in a keypress's last 1-40 ms or ends in its
    first has that part masked whole."""
    rng = np.random.default_rng(rate)
    for i in range(16):
        t = sg.dtmf(
            sg.DIGITS[i], float(rng.uniform(40, 120)), float(rng.uniform(-25, -5)), sample_rate=rate
        )
        x = np.concatenate([np.zeros(rate // 5), t, np.zeros(rate // 5)])
        x = sg.to_int16(x + sg.white_noise(len(x), -55, rng))
        s, e = rate // 5, rate // 5 + len(t)
        part = int(rng.integers(1, 41)) * rate // 1000
        starts, ends = x[e - part :], x[: s + part]
        assert masked(pf.scrub(starts, rate).spans, len(starts))[:part].all()
        assert masked(pf.scrub(ends, rate).spans, len(ends))[s:].all()


def _to_8k(y: np.ndarray, factor: int) -> np.ndarray:
    """16/48 kHz audio at 8 kHz for spandsp: everything above 4 kHz cut (FFT), every
    `factor`-th sample kept."""
    spec = np.fft.rfft(y.astype(np.float64))
    spec[len(y) // (2 * factor) :] = 0
    return sg.to_int16(np.fft.irfft(spec, len(y))[::factor])


@pytest.mark.parametrize("rate", [16000, 48000])
@pytest.mark.parametrize(
    ("bg", "levels"),
    [("line_noise", (-3.0, -10.0, -20.0, -30.0)), ("speech", (-3.0, -10.0, -15.0))],
)
def test_no_leak_at_16_and_48_khz(rate: int, bg: str, levels: tuple[float, ...]) -> None:
    """The leak criterion on wideband input: keypresses of 40-200 ms at any onset over line
    noise, and over speech at -20 dBm0 (the corpus interpolated) down to 5 dB above it; in
    every 10 ms of the tone the output's projection onto its two frequencies is 40 dB under
    the tone's own, the tone lies in masked spans whole, and spandsp hears no digit."""
    rng = np.random.default_rng(rate + len(bg))
    f, n8 = rate // 8000, 9600
    n, w = n8 * f, rate // 100  # 1.2 s; 10 ms windows
    t = np.arange(n)
    worst, heard = -200.0, 0
    for level in levels:
        for i in range(16):
            if bg == "speech":
                src = corpus.cached("speech", 600, seed=7)
                at = int(rng.integers(0, len(src) - n8))
                x8 = src[at : at + n8] * (sg.dbm0_to_amplitude(-20.0) / sg.active_amplitude(src))
                x = np.interp(t / f, np.arange(n8), x8)
            else:
                x = sg.white_noise(n, -60.0, rng)
            digit = sg.DIGITS[i]
            tone = sg.dtmf(
                digit,
                float(rng.uniform(40, 200)),
                level,
                sample_rate=rate,
                phases=(rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi)),
            )
            onset = int(rng.integers(3 * n // 10, n // 2))
            keyed = np.zeros(n)
            keyed[onset : onset + len(tone)] = tone
            pcm = sg.to_int16(x + keyed)
            r = pf.scrub(pcm, rate)
            assert masked(r.spans, n)[onset : onset + len(tone)].all(), (level, onset)
            out = r.audio.astype(np.float64)
            for hz in sg.digit_freqs(digit):
                basis = np.exp(-2j * np.pi * hz * t / rate)
                for a in range(onset, onset + len(tone), w):
                    b = min(a + w, onset + len(tone))
                    ref = abs(np.sum(keyed[a:b] * basis[a:b])) ** 2
                    leak = abs(np.sum(out[a:b] * basis[a:b])) ** 2
                    worst = max(worst, 10 * np.log10(max(leak, 1e-20) / ref))
            if spandsp.available():  # lenient: any tone it reports, confirmed or not
                assert spandsp.spandsp_digits(_to_8k(r.audio, f), lenient=True) == ("", 0)
                heard += spandsp.spandsp_digits(_to_8k(pcm, f), lenient=True)[1] > 0
    assert worst <= -40.0
    if spandsp.available() and bg == "line_noise":  # it hears them in the input
        assert heard == 16 * len(levels)
