# SPDX-License-Identifier: Apache-2.0
"""The Python API: validation, event privacy, batch = single, threads, other rates."""

from __future__ import annotations

import concurrent.futures
import copy
import copyreg
import functools
import json
import pickle
import threading

import numpy as np
import pytest

import pcifilter as pf
from pcifilter import signals as sg


def _card(rate: int = 8000) -> np.ndarray:
    x, _ = sg.keyed_sequence("4111111111111111", 70, 80, -12, sample_rate=rate)
    return sg.to_int16(x)


@pytest.mark.parametrize(
    ("pcm", "message"),
    [
        (np.zeros(100, np.float32), "dtype int16"),
        (np.zeros(100, np.int32), "dtype int16"),
        (np.zeros(100, ">i2"), "dtype int16"),  # int16, but not in the machine's byte order
        (np.zeros((2, 100), np.int16), "1-D"),
        (np.zeros(0, np.int16), "empty"),
        ([0, 1, 2], "numpy int16 array"),
        (b"\x00\x01", "numpy int16 array"),
    ],
)
@pytest.mark.parametrize("fn", [pf.detect, pf.scrub])
def test_bad_input_is_a_clear_value_error(fn, pcm, message) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=message):
        fn(pcm)


def test_arrays_that_came_through_pickle_are_accepted() -> None:
    """An array handed to a worker process (multiprocessing, concurrent.futures, joblib)
    arrives with a dtype object of its own, equal to numpy's int16 but not the same object:
    every entry point takes it and gives what it gives for the original (before, the C++
    side compared dtypes by identity and refused it as "dtype int16, not int16")."""
    pcm = _card()
    two = np.stack([pcm, np.roll(pcm, 3000)])
    p1, p2 = pickle.loads(pickle.dumps(pcm)), pickle.loads(pickle.dumps(two))
    assert p1.dtype == np.int16 and p1.dtype is not pcm.dtype

    def digits(events: list[pf.ToneEvent]) -> list[str | None]:
        return [e.digit for e in events]

    assert digits(pf.detect(p1)) == digits(pf.detect(pcm)) and len(pf.detect(pcm)) == 16
    assert np.array_equal(pf.scrub(p1).audio, pf.scrub(pcm).audio)
    assert [digits(e) for e in pf.detect_many(p2)] == [digits(e) for e in pf.detect_many(two)]
    for a, b in zip(pf.scrub_many(p2), pf.scrub_many(two), strict=True):
        assert np.array_equal(a.audio, b.audio)
    for law in ("ulaw", "alaw"):
        encode, decode = getattr(pf, f"{law}_encode"), getattr(pf, f"{law}_decode")
        codes = encode(p1)
        assert np.array_equal(codes, encode(pcm))
        assert np.array_equal(decode(pickle.loads(pickle.dumps(codes))), decode(codes))
    bank, ref = pf.ScrubberBank(2), pf.ScrubberBank(2)
    one, one_ref = pf.StreamScrubber(), pf.StreamScrubber()
    det, det_ref = pf.StreamDetector(), pf.StreamDetector()
    tick = pickle.loads(pickle.dumps(np.empty((2, 160), np.int16)))  # the caller's out= too
    frame = pickle.loads(pickle.dumps(np.empty(160, np.int16)))
    found: list[pf.ToneEvent] = []
    for f in range(0, two.shape[1] - 160, 160):
        frames = pickle.loads(pickle.dumps(two[:, f : f + 160]))
        assert np.array_equal(bank.process(frames, out=tick), ref.process(two[:, f : f + 160]))
        assert np.array_equal(one.process(frames[0], out=frame), one_ref.process(pcm[f : f + 160]))
        found += det.process(frames[0])
        det_ref.process(pcm[f : f + 160])
    assert len(found) == 16


@pytest.mark.parametrize("rate", [0, 11025, 44100, 96000, -8000, 8000.0, True])
def test_bad_sample_rate(rate: object) -> None:
    with pytest.raises(ValueError, match="sample_rate"):
        pf.detect(np.zeros(800, np.int16), rate)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "mute"}, "mode must be"),
        ({"lookahead_ms": 500.0}, "lookahead_ms"),
        ({"lookahead_ms": -1.0}, "lookahead_ms"),
        ({"tone_hz": 1209.0, "mode": "tone"}, "DTMF"),
        ({"min_level_dbm0": 5.0}, "min_level_dbm0"),
        ({"max_freq_error": 0.2}, "max_freq_error"),
        ({"bogus": 1}, "unknown option 'bogus'"),
        ({"min_duration_ms": "long"}, "min_duration_ms"),
        ({"tones": ["fax"]}, "tones"),
    ],
)
def test_bad_options(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        pf.scrub(np.zeros(800, np.int16), **options)  # type: ignore[arg-type]


def test_huge_input_is_refused_before_work() -> None:
    # A view of 2**31 + 1 samples over 2 bytes: refused on size, nothing read.
    huge = np.lib.stride_tricks.as_strided(np.zeros(1, np.int16), shape=(2**31 + 1,), strides=(0,))
    with pytest.raises(ValueError, match="too large"):
        pf.detect(huge)


def test_event_repr_and_str_never_show_the_digit() -> None:
    events = pf.detect(_card())
    assert pf.digits_of(events) == "4111111111111111"  # the explicit API
    for e in events:
        for text in (
            repr(e),
            str(e),
            repr(events),
            str(pf.scrub(_card())),
            repr(pf.scrub(_card())),
        ):
            assert "'4'" not in text and "'1'" not in text and "digit" not in text
        record = pf.event_record(e)
        assert record["digit"] == "*"
        assert pf.event_record(e, reveal_digits=True)["digit"] == e.digit
        json.dumps(record)


def test_events_cross_a_process_boundary_without_their_digits() -> None:
    """pf.scrub in a worker process (a pool scrubbing recordings): its result comes back
    whole but for the digits, which a pickle never carries (it may end up in a cache on disk
    or a task queue); digits_of refuses such events rather than give a shorter number. A
    copy in the process keeps them."""
    card = _card()
    tones = sg.to_int16(np.concatenate([np.zeros(800), sg.tone([1100.0], [-15.0], 4800), card]))
    here = pf.scrub(tones, tones="default")
    with concurrent.futures.ProcessPoolExecutor(1) as pool:
        there = pool.submit(functools.partial(pf.scrub, tones="default"), tones).result()
    assert np.array_equal(there.audio, here.audio) and there.spans == here.spans
    assert len(there.events) == len(here.events) == 17
    for a, b in zip(here.events, there.events, strict=True):
        fields = ("kind", "name", "start", "end", "sample_rate", "level_dbm0", "twist_db", "ssrc")
        assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
        assert b.digit is None and b.digit_withheld == (a.kind == "dtmf")
        assert not a.digit_withheld and copy.copy(a).digit == copy.deepcopy(a).digit == a.digit
        state = b.__reduce_ex__(2)[2]
        assert not any(isinstance(v, str) and len(v) == 1 for v in state)
    assert [e.name for e in there.events[:1]] == ["cng"]
    with pytest.raises(ValueError, match="16 of the keypresses came through pickle") as err:
        pf.digits_of(there.events)
    assert "4" not in str(err.value) and "1 " not in str(err.value)
    assert pf.digits_of(copy.deepcopy(here).events) == "4111111111111111"
    assert pf.event_record(there.events[1])["digit"] == "*"


BAD_STATES = [
    (1, 2),
    (2, *((0,) * 13)),  # another version
    (1, True, -1, "x", 0, 0.0, 0.0, False, 8000, "dtmf", False, 0, 0, 0),
    (1, True, -1, 0, 0, 0.0, 0.0, False, 12345, "dtmf", False, 0, 0, 0),
]


@pytest.mark.parametrize("state", BAD_STATES)
def test_a_pickle_that_is_no_event_is_a_clear_error(state: tuple[object, ...]) -> None:
    class Forged:  # unpickles as a ToneEvent with `state` (protocol 1 lets it)
        def __reduce__(self) -> tuple[object, ...]:
            return (copyreg.__newobj__, (pf.ToneEvent,), state)  # type: ignore[attr-defined]

    with pytest.raises(ValueError, match="not a pickled pcifilter ToneEvent"):
        pickle.loads(pickle.dumps(Forged(), protocol=1))


def test_event_fields() -> None:
    (e,) = pf.detect(
        sg.to_int16(np.concatenate([np.zeros(800), sg.dtmf("#", 80, -15), np.zeros(800)]))
    )
    assert (e.kind, e.name, e.digit, e.sample_rate) == ("dtmf", "dtmf", "#", 8000)
    assert abs(e.start_ms - 100) <= 5 and abs(e.end_ms - 180) <= 5
    assert abs(e.duration_ms - 80) <= 5
    assert abs(e.level_dbm0 + 15) < 1 and abs(e.twist_db) < 1


@pytest.mark.parametrize("rate", [8000, 16000, 48000])
def test_rates(rate: int) -> None:
    assert pf.digits_of(pf.detect(_card(rate), rate)) == "4111111111111111"
    r = pf.scrub(_card(rate), rate)
    assert len(r.audio) == len(_card(rate)) and len(r.spans) >= 1


def test_batch_equals_one_by_one() -> None:
    rng = np.random.default_rng(1)
    rows = []
    for i in range(6):
        x, _ = sg.keyed_sequence(sg.DIGITS[i : i + 4], 60, 70, -20 + i)
        rows.append(sg.to_int16(np.pad(x, (0, 9000 - len(x))) + sg.white_noise(9000, -50, rng)))
    pcm = np.stack(rows)
    many = pf.scrub_many(pcm, mode="noise")
    events = pf.detect_many(pcm)
    for row, r, ev in zip(pcm, many, events, strict=True):
        one = pf.scrub(row, mode="noise")
        assert np.array_equal(r.audio, one.audio)
        assert r.spans == one.spans
        assert pf.digits_of(ev) == pf.digits_of(pf.detect(row)) == pf.digits_of(one.events)
    with pytest.raises(ValueError, match="2-D"):
        pf.scrub_many(pcm[0])


def test_scrubber_bank_matches_single_streams() -> None:
    pcm = np.stack([_card(), np.roll(_card(), 3000)])
    bank = pf.ScrubberBank(2)
    single = [pf.StreamScrubber(), pf.StreamScrubber()]
    for f in range(0, pcm.shape[1] - 160, 160):
        out = bank.process(np.ascontiguousarray(pcm[:, f : f + 160]))
        for i in range(2):
            assert np.array_equal(out[i], single[i].process(pcm[i, f : f + 160]))
    got = bank.take_events()
    for i in range(2):
        assert [e.start for e in got[i]] == [e.start for e in single[i].take_events()]
    assert len(got[0]) == 16
    with pytest.raises(ValueError, match="n_streams"):
        bank.process(np.zeros((3, 160), np.int16))


def test_a_bank_stream_index_out_of_range_is_an_index_error() -> None:
    """flush and set_masking take a stream's index (a numpy integer too): one out of range,
    negative included, is an IndexError (-1 was a TypeError from the argument conversion),
    and the bank's streams go on as if the call had not been made."""
    pcm = np.stack([_card(), np.roll(_card(), 3000)])
    bank, ref = pf.ScrubberBank(2), pf.ScrubberBank(2)
    assert np.array_equal(bank.process(pcm[:, :800]), ref.process(pcm[:, :800]))
    for bad in (2, -1, np.int64(7)):
        with pytest.raises(IndexError, match=r"not within \[0, 2\)"):
            bank.flush(bad)
        with pytest.raises(IndexError, match=r"not within \[0, 2\)"):
            bank.set_masking(bad, False)
    with pytest.raises(TypeError):
        bank.flush(1.0)  # type: ignore[arg-type]
    assert np.array_equal(bank.process(pcm[:, 800:]), ref.process(pcm[:, 800:]))
    assert np.array_equal(bank.flush(np.int64(1)), ref.flush(1))


def test_frames_into_the_callers_array() -> None:
    """A server hands the same output array to every call (`out=`): the same samples come
    out as into arrays the call allocates, in the array given, which is returned. An `out`
    the call cannot fill is refused before anything is processed: the streams go on as if
    the call had not been made."""
    pcm = np.stack([_card(), np.roll(_card(), 3000)])
    bank, ref = pf.ScrubberBank(2), pf.ScrubberBank(2)
    one, one_ref = pf.StreamScrubber(), pf.StreamScrubber()
    tick = np.empty((2, 160), np.int16)
    frame = np.empty(160, np.int16)
    bad_ticks = [
        np.empty((2, 160), np.int32),  # dtype
        np.empty((2, 161), np.int16),  # shape
        np.empty((160, 2), np.int16).T,  # not C-contiguous
        np.empty((4, 160), np.int16)[::2],  # strided
    ]
    ro = np.empty((2, 160), np.int16)
    ro.flags.writeable = False
    bad_ticks.append(ro)
    masked = 0
    for f in range(0, pcm.shape[1] - 160, 160):
        frames = np.ascontiguousarray(pcm[:, f : f + 160])
        if f == 160 * 40:  # inside the first keypress
            for bad in [*bad_ticks, frames, [0] * 320]:  # the input itself; not an array
                with pytest.raises(ValueError, match="out must"):
                    bank.process(frames, out=bad)  # type: ignore[arg-type]
            with pytest.raises(ValueError, match="out must"):
                one.process(frames[0], out=frames[0])
            with pytest.raises(ValueError, match="out must"):
                one.process(frames[0], out=np.empty(161, np.int16))
        assert bank.process(frames, out=tick) is tick
        expect = ref.process(frames)
        assert np.array_equal(tick, expect)
        assert one.process(frames[0], out=frame) is frame
        assert np.array_equal(frame, one_ref.process(frames[0]))
        masked += int(np.count_nonzero(expect[0] == 0))
    assert masked > 160 * 16  # the keypresses went out masked, into the caller's arrays
    got, expect_events = bank.take_events(), ref.take_events()
    assert [len(e) for e in got] == [len(e) for e in expect_events] and len(got[0]) == 16
    assert all(pf.digits_of(a) == pf.digits_of(b) for a, b in zip(got, expect_events, strict=True))
    same = pf.digits_of(one.take_events()) == pf.digits_of(one_ref.take_events())
    assert same  # (no digit in the report when it fails)
    # A frame's own memory as its output: refused, wherever the two overlap.
    x = np.zeros(400, np.int16)
    with pytest.raises(ValueError, match="share memory"):
        pf.StreamScrubber().process(x[:160], out=x[100:260])
    assert pf.StreamScrubber().process(x[:160], out=x[160:320]) is not None  # adjacent: fine


def test_independent_objects_from_several_threads() -> None:
    pcm = [sg.to_int16(np.roll(_card(), 1000 * i)) for i in range(8)]
    expect = [pf.scrub(p).audio for p in pcm]
    got: list[np.ndarray | None] = [None] * 8

    def work(i: int) -> None:
        s = pf.StreamScrubber()
        out = [s.process(pcm[i][k : k + 160]) for k in range(0, len(pcm[i]), 160)] + [s.flush()]
        got[i] = np.concatenate(out)[s.delay :]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e, g in zip(expect, got, strict=True):
        assert g is not None and np.array_equal(e, g)


def test_one_object_shared_by_threads_stays_consistent() -> None:
    s = pf.StreamScrubber()
    frame = _card()[:160]
    outs: list[int] = []

    def work() -> None:
        outs.extend(len(s.process(frame)) for _ in range(200))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outs == [160] * 800
    assert s.stats["samples"] == 800 * 160


def test_streaming_detector_and_scrubber_repr() -> None:
    assert "8000" in repr(pf.StreamDetector())
    s = pf.StreamScrubber(lookahead_ms=30)
    assert s.delay == 280 and "delay=280" in repr(s)  # look-ahead + one 5 ms piece
    assert s.process(np.zeros(0, np.int16)).shape == (0,)
