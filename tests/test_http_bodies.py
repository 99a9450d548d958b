# SPDX-License-Identifier: Apache-2.0
"""HTTP/1.x bodies read de-chunked and decoded in a capture's stream (pcifilter.http_bodies)."""

from __future__ import annotations

import base64
import functools
import gzip
import zlib
from typing import Any

import brotli  # type: ignore[import-untyped]
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st
from test_http2 import _grpc_message

from pcifilter import _core, http_bodies
from pcifilter.http_bodies import (
    DECODED_BUDGET,
    DECODED_PER_BYTE,
    MAX_DECODED,
    MAX_MEMBERS,
    begins_in_coded_body,
    redact_http_stream,
)

CARD = b"4111 1111 1111 1111"
SWEEPS = [_core.mask_card_numbers]


def _chunked(pieces: list[bytes]) -> bytes:
    """`pieces` (none empty) as a chunked body (RFC 9112 §7.1): a chunk each, then the last."""
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


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
        (_response(gzip.compress(CARD, mtime=0), b"Content-Encoding: gzip"), None),
        (_response(zlib.compress(CARD), b"Content-Encoding: deflate"), None),
        (_response(deflated_raw, b"Content-Encoding: deflate"), None),
        (_response(gzip.compress(CARD, mtime=0), b"content-encoding: X-GZIP"), None),
    ]:
        out, (n,), _ = redact_http_stream(message, SWEEPS)
        body_at = message.index(b"\r\n\r\n") + 4
        assert n == 1 and out[:body_at] == message[:body_at]
        body = bytes(out[body_at:])
        assert body == (found if found is not None else b"X" * (len(message) - body_at))


def test_no_body_where_the_framing_says_none() -> None:
    """A 204 or 304 reply, a 1xx, a request with neither length nor chunks, and a response
    the next response follows at once (HEAD's) have no body: the bytes after them are the
    next message, read as such."""
    second = _response(gzip.compress(CARD, mtime=0), b"Content-Encoding: gzip")
    for first in (
        _response(b"", b"Content-Length: 999", status=b"204 No Content"),
        _response(b"", status=b"304 Not Modified"),
        _response(b"", status=b"100 Continue"),
        b"GET /x HTTP/1.1\r\nHost: a\r\n\r\n",
        # a HEAD request's response: its framing is the body's a GET would get
        _response(b"", b"Content-Length: 60", b"Content-Encoding: gzip"),
        _response(b"", b"Transfer-Encoding: chunked"),
        # a chunked body whose next chunk size is not one: the next message read after it
        _response(b"5\r\nhello\r\nnot a size\r\n", b"Transfer-Encoding: chunked"),
    ):
        out, (n,), _ = redact_http_stream(first + second, SWEEPS)
        assert n == 1 and out[: len(first)] == first


def test_a_stream_caught_mid_body_is_read_from_its_first_message() -> None:
    tail = b"rest of a body " + CARD + b"\r\n"  # no framing known: the raw sweep's
    body = gzip.compress(CARD, mtime=0)
    message = _response(body, b"Content-Encoding: gzip", b"Content-Length: %d" % len(body))
    out, (n,), _ = redact_http_stream(tail + message, SWEEPS)
    assert n == 1 and out[: len(tail)] == tail


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1).filter(lambda t: "\x00" not in t), st.data())
def test_text_a_capture_begins_in_is_not_taken_for_a_coded_body(
    text: str, data: st.DataObject
) -> None:
    """The rest of a text body (UTF-8, cut anywhere, a character's first bytes not captured;
    with no message after it, its last character cut too) before a plain reply: text, let
    be for the sweeps."""
    raw = text.encode()
    a = data.draw(st.integers(0, len(raw) - 1))
    after = data.draw(st.booleans())
    rest = raw[a:] if after else raw[a : data.draw(st.integers(a + 1, len(raw)))]
    assert not begins_in_coded_body(
        rest + (_response(b"ok", b"Content-Length: 2") if after else b"")
    )


def test_what_a_capture_begins_in_is_taken_for_a_coded_body() -> None:
    """Compressed data (gzip, br, zstd: each of 100 bodies, cut at 100 places), bytes with a
    NUL, and any bytes before replies that code their bodies."""
    reply = _response(b"ok", b"Content-Length: 2")
    for i in range(100):
        text = b"row %d: " % i + bytes(range(32, 127)) * 3
        for coded in (gzip.compress(text, mtime=0), brotli.compress(text), _zstd(text)):
            assert begins_in_coded_body(coded[i % 40 :] + reply)
    assert begins_in_coded_body(b"text\x00text" + reply)
    gzipped = gzip.compress(b"ok", mtime=0)
    coding = _response(gzipped, b"Content-Encoding: gzip", b"Content-Length: %d" % len(gzipped))
    assert begins_in_coded_body(b"plain text" + coding)
    assert not begins_in_coded_body(reply) and not begins_in_coded_body(b"plain text" + reply)


def _zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


def _gzip_members(data: bytes) -> bytes:
    """`data` in two gzip members one after another (RFC 1952 §2.2; gzip -c a b)."""
    return gzip.compress(data[:3], mtime=0) + gzip.compress(data[3:], mtime=0)


def test_codings_in_any_order_and_number_are_undone() -> None:
    """br, zstd, a list of codings (the last applied first undone), codings given on two
    header lines, a transfer coding beside chunked, gzip members and zstd frames one after
    another: the card number in each is found and the body replaced whole; the same bodies
    holding none pass bit for bit."""
    text = b"<p>Paid with " + CARD + b", thank you.</p>"
    for codings, code in [
        (b"Content-Encoding: br", brotli.compress),
        (b"Content-Encoding: zstd", _zstd),
        (b"Content-Encoding: gzip, br", lambda b: brotli.compress(gzip.compress(b, mtime=0))),
        (b"Content-Encoding: br\r\nContent-Encoding: zstd", lambda b: _zstd(brotli.compress(b))),
        (b"Content-Encoding: identity, deflate", zlib.compress),
        (b"Content-Encoding: gzip", _gzip_members),
        (b"Content-Encoding: zstd", lambda b: _zstd(b[:3]) + _zstd(b[3:])),
    ]:
        for framing in (b"Content-Length: %d", b"Transfer-Encoding: chunked"):
            for card, found in ((text, 1), (text.replace(CARD, b"a gift card"), 0)):
                body = code(card)
                if framing.startswith(b"Transfer"):
                    body = _chunked([body])
                message = _response(body, codings, framing.replace(b"%d", b"%d" % len(body)))
                out, (n,), _ = redact_http_stream(message, SWEEPS)
                assert n == found, codings
                assert out == message if not found else out.count(b"X") >= len(code(card))
    body = gzip.compress(text, mtime=0)
    chunked = _chunked([body])
    message = _response(chunked, b"Transfer-Encoding: gzip, chunked")
    out, (n,), _ = redact_http_stream(message, SWEEPS)
    assert n == 1 and out == message.replace(body, b"X" * len(body))


def test_coded_bodies_not_read_whole_are_replaced_whole() -> None:
    """A coded body not read whole is not let through: an application (a browser reading
    what it got, a decoder of its own) may read more of it than is read here. A coding not
    known here, one that fails, a body cut short by the capture's end (the first 2/3 of a
    br or zstd body gives nothing here but its literals to another reader), text of
    MAX_DECODED or more, more than MAX_MEMBERS gzip members or zstd frames. A plain body is
    swept as it is."""
    text = CARD + b" " + bytes(range(256)) * 40
    for body, coding in [
        (b"\x1f\x8b not gzip " + CARD, b"gzip"),
        (b"\x00" * 40 + CARD, b"br"),
        (gzip.compress(text, mtime=0) + b"trailing", b"gzip"),
        (gzip.compress(text, mtime=0)[:-30], b"gzip"),
        (brotli.compress(text)[:-30], b"br"),
        (_zstd(text)[: len(_zstd(text)) * 2 // 3], b"zstd"),
        (b"\x1f\x9d\x90 compressed with LZW", b"compress"),
        (gzip.compress(b"1" * (MAX_DECODED + 4096), mtime=0), b"gzip"),
        (brotli.compress(b"1" * (MAX_DECODED + 4096)), b"br"),
        (_zstd(b"1" * (MAX_DECODED + 4096)), b"zstd"),
        (gzip.compress(b"", mtime=0) * MAX_MEMBERS + gzip.compress(CARD, mtime=0), b"gzip"),
        (_zstd(b"") * MAX_MEMBERS + _zstd(CARD), b"zstd"),
    ]:
        message = _response(body, b"Content-Encoding: " + coding)
        out, (n,), unread = redact_http_stream(message, SWEEPS)
        assert n == 0 and out == message.replace(body, b"X" * len(body)), coding
        assert unread == 1  # counted (PcapResult.coded_unread)
    plain = _response(b"\x1f\x8b not gzip " + CARD)
    out, (n,), _ = redact_http_stream(plain, SWEEPS)
    assert n == 1 and out == plain.replace(CARD, b"XXXX XXXX XXXX XXXX")


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
        gzip.compress(CARD, mtime=0),
        b"\x1f\x8b\x08",
        b"Content-Encoding: br\r\n",
        b"Content-Encoding: gzip, zstd\r\n",
        b"Transfer-Encoding: gzip, chunked\r\n",
        brotli.compress(CARD),
        zstandard.ZstdCompressor().compress(CARD),
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",  # a HEAD's response, or not
    ]
)


@settings(max_examples=800, deadline=None)
@given(st.lists(_PARTS | st.binary(max_size=20), max_size=24))
def test_any_stream_comes_back_as_long_and_masked_only_with_x(parts: list[bytes]) -> None:
    stream = b"".join(parts)
    out, (n,), _ = redact_http_stream(stream, SWEEPS)
    assert len(out) == len(stream) and n >= 0
    assert all(a == b or b == ord("X") for a, b in zip(stream, out, strict=True))


def test_bombs_past_the_stream_s_budget_are_replaced_unread() -> None:
    """A stream of gzip bombs (15 KB each, 15 MiB decoded): each was decoded and swept, a
    quarter of a second a megabyte of capture. Past the stream's budget (DECODED_BUDGET and
    DECODED_PER_BYTE for each of its bytes) a compressed body is not read but replaced
    whole, as one holding a card is; the first ones, read, pass as they were."""
    bomb = gzip.compress(b"0" * (15 << 20), 9, mtime=0)
    stream = _response(bomb, b"Content-Encoding: gzip") * 40
    out, (n,), unread = redact_http_stream(stream, SWEEPS)
    budget = DECODED_BUDGET + DECODED_PER_BYTE * len(stream)
    read = budget // (15 << 20)  # bodies decoded whole (the next one cut: replaced too)
    assert n == 0 and out.count(bomb) == read < 40
    assert out.count(b"X" * len(bomb)) == 40 - read == unread


def test_a_body_refused_at_its_limit_is_charged_to_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A body refused because it decodes past what the budget has left was decoded that
    far all the same, and that is charged too. Before, it was not: past the budget, every
    bomb after was decoded again to what was left (with the real bounds, 16 MiB a body and
    64 MiB a stream, 34 bombs of 15 MiB: 272 MiB beyond the budget; here a sixteenth of
    those bounds). zlib's output is counted."""
    inflated = [0]
    real = zlib.decompressobj

    class Counting:
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self._reader = real(*args, **kwargs)

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            out = self._reader.decompress(data, max_length)
            inflated[0] += len(out)
            return out

        def __getattr__(self, name: str) -> Any:
            return getattr(self._reader, name)

    monkeypatch.setattr(zlib, "decompressobj", Counting)
    monkeypatch.setattr(http_bodies, "MAX_DECODED", 1 << 20)
    monkeypatch.setattr(http_bodies, "DECODED_BUDGET", 4 << 20)
    bomb = gzip.compress(b"0" * (15 << 16), 9, mtime=0)
    stream = _response(bomb, b"Content-Encoding: gzip") * 40
    _, _, unread = redact_http_stream(stream, SWEEPS)
    assert unread > 0 and inflated[0] <= (4 << 20) + DECODED_PER_BYTE * len(stream)


_CODERS = {
    b"gzip": functools.partial(gzip.compress, mtime=0),
    b"deflate": zlib.compress,
    b"br": brotli.compress,
    b"zstd": lambda b: zstandard.ZstdCompressor().compress(b),
}
_DECODERS = {
    b"gzip": gzip.decompress,
    b"deflate": zlib.decompress,
    b"br": brotli.decompress,
    b"zstd": lambda b: zstandard.ZstdDecompressor().decompress(b, max_output_size=1 << 20),
}


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(sorted(_CODERS)), max_size=2),  # codings, in order
            st.booleans(),  # chunked, else Content-Length
            st.booleans(),  # holds the card number
            st.integers(1, 40),  # chunk size
        ),
        min_size=1,
        max_size=5,
    )
)
def test_no_reader_finds_a_card_number_in_any_body(
    messages: list[tuple[list[bytes], bool, bool, int]],
) -> None:
    """Replies coded any way (gzip, deflate, br, zstd, two of them one over the other),
    framed by Content-Length or in chunks cut anywhere, some echoing a card number: read
    back by independent decoders (Python's gzip and zlib, Brotli's, zstd's) from the scrubbed
    stream, no body gives the number; a body without one comes back bit for bit."""
    stream, bodies = b"", []
    for codings, chunked, card, size in messages:
        text = b'{"note": "paid with ' + (CARD if card else b"a voucher") + b'", "x": "yy"}'
        body = text
        for coding in codings:
            body = _CODERS[coding](body)
        head = b"HTTP/1.1 200 OK\r\n"
        if codings:
            head += b"Content-Encoding: " + b", ".join(codings) + b"\r\n"
        if chunked:
            framed = _chunked([body[i : i + size] for i in range(0, len(body), size)])
            head += b"Transfer-Encoding: chunked\r\n"
        else:
            framed = body
            head += b"Content-Length: %d\r\n" % len(body)
        stream += head + b"\r\n"
        bodies.append((len(stream), framed, codings, chunked, card))
        stream += framed
    out, _, _ = redact_http_stream(stream, SWEEPS)
    assert len(out) == len(stream)
    for at, framed, codings, chunked, card in bodies:
        got = bytes(out[at : at + len(framed)])
        if chunked:  # the chunks' data, their framing as sent
            data, i = b"", 0
            while True:
                line_end = framed.index(b"\r\n", i)
                n = int(framed[i:line_end], 16)
                if n == 0:
                    break
                data += got[line_end + 2 : line_end + 2 + n]
                i = line_end + 2 + n + 2
            got = data
        try:
            for coding in reversed(codings):
                got = _DECODERS[coding](got)
        except (OSError, EOFError, zlib.error, brotli.error, zstandard.ZstdError):  # replaced
            assert card, "a body without a card number was changed"
            continue
        assert CARD not in got
        assert card or got.startswith(b'{"note"')


def test_grpc_web_messages_are_read_each_as_a_body() -> None:
    """gRPC-Web (a browser's gRPC through a proxy such as Envoy) over HTTP/1.1: a request of
    two messages, one gzip'd (grpc-encoding) holding a card number, one plain holding one
    cut by a chunk boundary, and a reply with a plain message and its trailers frame; the
    gzip'd one replaced whole, the plain ones masked where they are, the framing kept.
    Before, the gzip'd one passed (no content-encoding says it is coded)."""
    packed, plain = (
        _grpc_message(b"\x0a\x13" + CARD, True),
        _grpc_message(b"\x0a\x13" + CARD, False),
    )
    body = packed + plain
    cut = len(packed) + 12  # inside the plain message's card number
    request = (
        b"POST /crm.Pay/Charge HTTP/1.1\r\nContent-Type: application/grpc-web+proto\r\n"
        b"grpc-encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
        + _chunked([body[:cut], body[cut:]])
    )
    trailers = _grpc_message(b"grpc-status: 0\r\n", False, 0x80)
    reply = _response(
        _grpc_message(b"paid " + CARD, False) + trailers,
        b"Content-Type: application/grpc-web+proto",
        b"Content-Length: %d" % (len(_grpc_message(b"paid " + CARD, False)) + len(trailers)),
    )
    out, (n,), unread = redact_http_stream(request + reply, SWEEPS)
    assert (n, unread) == (3, 0) and len(out) == len(request + reply)
    masked = out[: len(request)]
    assert masked.count(b"X" * (len(packed) - 5)) == 1 and CARD not in out
    assert out[len(request) :] == reply.replace(CARD, b"XXXX XXXX XXXX XXXX")
    assert b"grpc-status: 0" in out


def test_grpc_web_text_is_read_decoded_and_replaced_whole_when_it_holds_one() -> None:
    """grpc-web-text (the same framing in base64, chunks of it one after another): a reply
    whose gzip'd message holds a card number is replaced whole; one that holds nothing,
    and one that is no base64 (replaced, counted unread), as they should be."""
    holding = base64.b64encode(_grpc_message(b"paid " + CARD, True)) + base64.b64encode(
        _grpc_message(b"grpc-status: 0\r\n", False, 0x80)
    )
    nothing = base64.b64encode(_grpc_message(b"ok", True))
    for body, n_found, n_unread, kept in [
        (holding, 1, 0, False),
        (nothing, 0, 0, True),
        (b"%%%not base64%%%", 0, 1, False),
    ]:
        reply = _response(
            body,
            b"Content-Type: application/grpc-web-text",
            b"grpc-encoding: gzip",
            b"Content-Length: %d" % len(body),
        )
        out, (n,), unread = redact_http_stream(reply, SWEEPS)
        assert (n, unread) == (n_found, n_unread)
        assert bytes(out) == (reply if kept else reply.replace(body, b"X" * len(body)))


def test_the_rest_of_a_grpc_web_body_is_taken_for_a_coded_one() -> None:
    """A capture that begins inside a gRPC-Web body whose messages may be compressed (the
    messages after it name grpc-encoding): its rest is replaced, as a coded body's is."""
    message = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/grpc-web\r\ngrpc-encoding: gzip\r\n"
        b"Content-Length: 5\r\n\r\n\x00\x00\x00\x00\x00"
    )
    assert begins_in_coded_body(b"plain text rest " + message)
