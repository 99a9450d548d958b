# SPDX-License-Identifier: Apache-2.0
"""HTTP/1.x bodies read de-chunked and decoded in a capture's stream (pcifilter.http_bodies)."""

from __future__ import annotations

import gzip
import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from pcifilter import _core
from pcifilter.http_bodies import (
    DECODED_BUDGET,
    DECODED_PER_BYTE,
    MAX_DECODED,
    redact_http_stream,
)

CARD = b"4111 1111 1111 1111"
SWEEPS = [_core.mask_card_numbers]


def _response(body: bytes, *headers: bytes, status: bytes = b"200 OK") -> bytes:
    head = b"".join(h + b"\r\n" for h in headers)
    return b"HTTP/1.1 " + status + b"\r\n" + head + b"\r\n" + body


def test_bodies_by_each_framing_and_coding() -> None:
    raw = zlib.compressobj(wbits=-15)
    deflated_raw = raw.compress(b"pay " + CARD) + raw.flush()
    for message, found in [
        # Content-Length, plain: the digits masked where they are
        (_response(b"pay " + CARD, b"Content-Length: 23"), b"pay XXXX XXXX XXXX XXXX"),
        # gzip, zlib-wrapped deflate and raw deflate (some servers send it so): whole
        (_response(gzip.compress(CARD), b"Content-Encoding: gzip"), None),
        (_response(zlib.compress(CARD), b"Content-Encoding: deflate"), None),
        (_response(deflated_raw, b"Content-Encoding: deflate"), None),
        (_response(gzip.compress(CARD), b"content-encoding: X-GZIP"), None),
    ]:
        out, (n,) = redact_http_stream(message, SWEEPS)
        body_at = message.index(b"\r\n\r\n") + 4
        assert n == 1 and out[:body_at] == message[:body_at]
        body = bytes(out[body_at:])
        assert body == (found if found is not None else b"X" * (len(message) - body_at))


def test_no_body_where_the_framing_says_none() -> None:
    """A 204 or 304 reply, a 1xx, and a request with neither length nor chunks have no body:
    the bytes after them are the next message, read as such."""
    second = _response(gzip.compress(CARD), b"Content-Encoding: gzip")
    for first in (
        _response(b"", b"Content-Length: 999", status=b"204 No Content"),
        _response(b"", status=b"304 Not Modified"),
        _response(b"", status=b"100 Continue"),
        b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n",
    ):
        out, (n,) = redact_http_stream(first + second, SWEEPS)
        assert n == 1 and out[: len(first)] == first


def test_a_stream_caught_mid_body_is_read_from_its_first_message() -> None:
    tail = b"rest of a body " + CARD + b"\r\n"  # no framing known: the raw sweep's
    body = gzip.compress(CARD)
    message = _response(body, b"Content-Encoding: gzip", b"Content-Length: %d" % len(body))
    out, (n,) = redact_http_stream(tail + message, SWEEPS)
    assert n == 1 and out[: len(tail)] == tail


def test_unreadable_bodies_are_left_as_they_were() -> None:
    for message in (
        _response(b"\x1f\x8b not gzip " + CARD, b"Content-Encoding: gzip"),  # read as it is
        _response(b"\x00" * 40, b"Content-Encoding: br"),  # not read
    ):
        out, _ = redact_http_stream(message, SWEEPS)
        assert len(out) == len(message)
    bomb = gzip.compress(b"1" * (MAX_DECODED + 4096))
    out, (n,) = redact_http_stream(_response(bomb, b"Content-Encoding: gzip"), SWEEPS)
    assert n == 0 and len(out) == len(bomb) + len(_response(b"", b"Content-Encoding: gzip"))


_PARTS = st.sampled_from(
    [
        b"HTTP/1.1 200 OK\r\n",
        b"POST /p HTTP/1.1\r\n",
        b"Transfer-Encoding: chunked\r\n",
        b"Content-Length: 12\r\n",
        b"Content-Encoding: gzip\r\n",
        b"\r\n",
        b"5\r\n",
        b"0\r\n\r\n",
        b"ffffffff\r\n",
        CARD,
        gzip.compress(CARD),
        b"\x1f\x8b\x08",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_PARTS | st.binary(max_size=20), max_size=24))
def test_any_stream_comes_back_as_long_and_masked_only_with_x(parts: list[bytes]) -> None:
    stream = b"".join(parts)
    out, (n,) = redact_http_stream(stream, SWEEPS)
    assert len(out) == len(stream) and n >= 0
    assert all(a == b or b == ord("X") for a, b in zip(stream, out, strict=True))


def test_bombs_past_the_stream_s_budget_are_replaced_unread() -> None:
    """A stream of gzip bombs (17 KB each, 16 MiB decoded): each was decoded and swept, a
    quarter of a second a megabyte of capture. Past the stream's budget (DECODED_BUDGET and
    DECODED_PER_BYTE for each of its bytes) a compressed body is not read but replaced
    whole, as one holding a card is; the first ones, read, pass as they were."""
    bomb = gzip.compress(b"0" * (17 << 20), 9)
    stream = _response(bomb, b"Content-Encoding: gzip") * 40
    out, (n,) = redact_http_stream(stream, SWEEPS)
    budget = DECODED_BUDGET + DECODED_PER_BYTE * len(stream)
    read = budget // MAX_DECODED  # bodies decoded whole (the next one cut: replaced too)
    assert n == 0 and out.count(bomb) == read < 40
    assert out.count(b"X" * len(bomb)) == 40 - read
