# SPDX-License-Identifier: Apache-2.0
"""HTTP/2 in clear (pcifilter.http2): connections built with h2 (the python-hyper HTTP/2
implementation), scrubbed, and read back with h2 where they can be: card numbers in header
blocks (HPACK's Huffman code hides their digits), in data split across frames, in gzip'd
bodies and in gRPC messages, plain and compressed."""

from __future__ import annotations

import base64
import gzip
import logging
import random
import re
from pathlib import Path

import brotli  # type: ignore[import-untyped]
import h2.config
import h2.connection
import h2.events
import hpack
import hyperframe.frame
import pytest
from hpack.huffman_constants import REQUEST_CODES_LENGTH
from hypothesis import given, settings
from hypothesis import strategies as st
from test_pcap import CARDS, A, B, _cut, _directions_out, _segments, _write_pcap

from pcifilter import _core, http2
from pcifilter.pcap import scrub_pcap

SWEEPS = [_core.mask_srtp_keys, _core.mask_card_numbers]
CARD = CARDS[0].encode()


def _client() -> h2.connection.H2Connection:
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    c.initiate_connection()
    return c


def _request(c: h2.connection.H2Connection, sid: int, path: str, ctype: str, **extra: str) -> None:
    headers = [(":method", "POST"), (":path", path), (":scheme", "http"), (":authority", "crm")]
    headers += [("content-type", ctype), *extra.items()]
    c.send_headers(sid, headers)


def _data(stream: bytes) -> list[bytes]:
    """The DATA frames' data of a client's stream, read with hyperframe (h2's frame layer)."""
    at, out = (len(http2.PREFACE) if stream.startswith(http2.PREFACE) else 0), []
    while at + 9 <= len(stream):
        frame, length = hyperframe.frame.Frame.parse_frame_header(memoryview(stream[at : at + 9]))
        frame.parse_body(memoryview(stream[at + 9 : at + 9 + length]))
        if isinstance(frame, hyperframe.frame.DataFrame):
            out.append(bytes(frame.data))
        at += 9 + length
    return out


def _read_back(data: bytes) -> list[h2.events.Event]:
    """What a server makes of a client's bytes."""
    s = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    s.initiate_connection()
    return list(s.receive_data(data))


def test_a_card_number_in_data_split_across_frames_is_masked_where_it_is() -> None:
    """JSON in two DATA frames, the card number cut by the frame boundary: read joined,
    masked in place; the connection still reads, frame for frame, the rest as it was."""
    c = _client()
    _request(c, 1, "/pay", "application/json")
    body = b'{"note": "card ' + CARD + b' ok"}'
    cut = body.index(CARD) + 7
    c.send_data(1, body[:cut])
    c.send_data(1, body[cut:], end_stream=True)
    data = c.data_to_send()
    out, (keys, cards), unread = http2.redact_http2_stream(data, SWEEPS)
    assert (keys, cards, unread) == (0, 1, 0) and len(out) == len(data)
    got = b"".join(e.data for e in _read_back(bytes(out)) if isinstance(e, h2.events.DataReceived))
    assert got == body.replace(CARD, b"XXXX XXXX XXXX XXXX")


def test_a_card_number_in_a_header_block_is_masked_in_its_bytes() -> None:
    """A card number in a request's path (a form sent with GET): HPACK Huffman-codes it, no
    digit shows. The header block is decoded, and the path's digits masked in its own bytes
    (as letters whose codes fill them: 'X' takes more bits than a digit), so that a reader
    decodes every block after it against the same table: the next request, which names
    the path again by its table entry, reads the masked path; one that holds nothing is
    left as it was. Before, the block was replaced by X's and no block after it read."""
    path = "/pay?card=" + CARDS[0].replace(" ", "")
    c = _client()
    headers = [(":method", "GET"), (":path", path), (":scheme", "http"), (":authority", "crm")]
    c.send_headers(1, headers, end_stream=True)
    first = c.data_to_send()
    c.send_headers(3, headers, end_stream=True)  # the same path: by its table entry
    c.send_headers(5, [*headers[:1], (":path", "/status"), *headers[2:]], end_stream=True)
    data = first + c.data_to_send()
    assert CARD.replace(b" ", b"") not in data  # Huffman-coded
    out, (_, cards), unread = http2.redact_http2_stream(data, SWEEPS)
    assert cards == 1 and unread == 0 and len(out) == len(data)
    assert out[len(first) :] == data[len(first) :]  # the later requests as they were
    paths = [dict(e.headers)[b":path"] for e in _read_back(bytes(out)) if hasattr(e, "headers")]
    assert paths[0] == paths[1] != path.encode() and paths[2] == b"/status"
    assert paths[0].startswith(b"/pay?card=") and len(paths[0]) == len(path)
    assert not any(chr(c).isdigit() for c in paths[0])


def _grpc_message(message: bytes, compressed: bool, flag: int = 0) -> bytes:
    """A gRPC message in gRPC's framing (gzip'd when `compressed`; `flag` 0x80: gRPC-Web's
    trailers)."""
    sent = gzip.compress(message, mtime=0) if compressed else message
    return bytes([flag | compressed]) + len(sent).to_bytes(4, "big") + sent


@pytest.mark.parametrize("compressed", [False, True])
def test_a_card_number_in_a_grpc_message_is_masked(compressed: bool) -> None:
    """gRPC (a CRM's services talking): each message a flag and a length before it; a plain
    one is masked where it is, a gzip'd one (grpc-encoding) replaced whole."""
    c = _client()
    _request(c, 1, "/crm.Pay/Charge", "application/grpc", **{"grpc-encoding": "gzip"})
    frame = _grpc_message(b"\x0a\x13" + CARD, compressed)  # a protobuf string field
    other = b"\x00\x00\x00\x00\x02\x08\x01"  # a second message, nothing in it
    c.send_data(1, frame + other, end_stream=True)
    data = c.data_to_send()
    out, (_, cards), unread = http2.redact_http2_stream(data, SWEEPS)
    assert cards == 1 and unread == 0
    got = b"".join(e.data for e in _read_back(bytes(out)) if isinstance(e, h2.events.DataReceived))
    if compressed:
        assert got == frame[:5] + b"X" * (len(frame) - 5) + other
    else:
        assert got == frame.replace(CARD, b"XXXX XXXX XXXX XXXX") + other


def test_a_gzip_d_response_holding_a_card_number_is_replaced_whole() -> None:
    """The server's direction (its first frame a SETTINGS frame): a gzip'd JSON reply that
    echoes the number is replaced whole, one without it left bit for bit."""
    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    server.initiate_connection()
    client = _client()
    _request(client, 1, "/a", "application/json")
    client.end_stream(1)
    _request(client, 3, "/b", "application/json")
    client.end_stream(3)
    server.receive_data(client.data_to_send())
    echoed = gzip.compress(b'{"card": "' + CARD + b'"}', mtime=0)
    plain = gzip.compress(b'{"status": "ok"}', mtime=0)
    for sid, body in ((1, echoed), (3, plain)):
        server.send_headers(
            sid,
            [
                (":status", "200"),
                ("content-type", "application/json"),
                ("content-encoding", "gzip"),
            ],
        )
        server.send_data(sid, body, end_stream=True)
    data = server.data_to_send()
    assert http2.starts_http2(data)
    out, (_, cards), unread = http2.redact_http2_stream(data, SWEEPS)
    assert cards == 1 and unread == 0
    assert data.index(echoed) == out.index(b"X" * len(echoed))
    assert plain in out


def test_h2c_in_a_capture_keeps_no_card_number(tmp_path: Path) -> None:
    """Through scrub_pcap: an h2c connection (its start captured) in TCP segments of 50
    bytes; the card numbers in the client's path and data (the data's cut by frames and by
    segments) and in the server's gzip'd reply are found and counted, the connection's
    bytes otherwise kept. Before, none was found."""
    c = _client()
    c.send_headers(
        1,
        [
            (":method", "POST"),
            (":path", "/pay?pan=" + CARDS[1]),
            (":scheme", "http"),
            (":authority", "crm"),
        ],
    )
    body = b"card=" + CARDS[0].encode()
    c.send_data(1, body[:9])
    c.send_data(1, body[9:], end_stream=True)
    data = c.data_to_send()
    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    server.initiate_connection()
    server.receive_data(data)
    echoed = gzip.compress(b"paid with " + CARD, mtime=0)
    server.send_headers(1, [(":status", "200"), ("content-encoding", "gzip")])
    server.send_data(1, echoed, end_stream=True)
    reply = server.data_to_send()
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    frames = _segments(A, B, _cut(data, 50), 1000, (50800, 8080))
    frames += _segments(B, A, _cut(reply, 50), 9000, (8080, 50800))
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.card_numbers_masked == 3
    out = _directions_out(dst)
    assert len(out[50800]) == len(data) and len(out[8080]) == len(reply)
    assert b"".join(_data(out[50800])) == b"card=XXXX XXXX XXXX XXXX"  # (its headers replaced)
    assert out[8080].replace(b"X" * len(echoed), echoed) == reply


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.booleans())
def test_any_bytes_after_a_preface_are_read_or_left_never_an_error(
    tail: bytes, settings_first: bool
) -> None:
    """Hostile or cut streams: frames of any length, padding longer than its frame, header
    blocks hpack cannot decode, data with no headers: the same length back, never an error."""
    head = http2.PREFACE if not settings_first else b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    data = head + tail
    out, found, unread = http2.redact_http2_stream(data, SWEEPS)
    assert len(out) == len(data) and unread >= 0 and len(found) == 2


def test_a_stream_s_headers_show_in_no_repr() -> None:
    """What a header block held (a card number in a path) stays out of reprs."""
    state = http2._Stream(headers={b":path": b"/pay?card=" + CARD})
    assert CARD not in repr(state).encode() and b"4111" not in repr(state).encode()


def _grpc_headers(path: str) -> list[tuple[str, str]]:
    return [
        (":method", "POST"),
        (":path", path),
        (":scheme", "http"),
        (":authority", "crm"),
        ("content-type", "application/grpc"),
        ("grpc-encoding", "gzip"),
        ("te", "trailers"),
    ]


def _grpc_channel() -> tuple[bytes, bytes, list[bytes]]:
    """A client's gRPC channel: a first call, whose headers add content-type, grpc-encoding
    and the rest to HPACK's dynamic table; then three calls that name those fields by their
    entries (what a capture that begins between them lacks): a card number in one's path
    (Huffman-coded), in one's gzip'd message, in one's plain message. Returns the bytes
    before, those after, and the later calls' messages as sent."""
    c = _client()
    c.send_headers(1, _grpc_headers("/crm.Pay/Status"))
    c.send_data(1, _grpc_message(b"\x08\x01", False), end_stream=True)
    before = c.data_to_send()
    number = CARDS[0].replace(" ", "")
    messages = [
        _grpc_message(b"\x08\x02", False),
        _grpc_message(b"\x0a\x13" + CARD, True),
        _grpc_message(b"\x0a\x13" + CARD, False),
    ]
    paths = ["/crm.Pay/Charge?pan=" + number, "/crm.Pay/Charge", "/crm.Pay/Note"]
    for sid, path, message in zip((3, 5, 7), paths, messages, strict=True):
        c.send_headers(sid, _grpc_headers(path))
        cut = len(message) // 2  # in two DATA frames
        c.send_data(sid, message[:cut])
        c.send_data(sid, message[cut:], end_stream=True)
    return before, c.data_to_send(), messages


def test_a_grpc_channel_caught_mid_way_keeps_no_card_number() -> None:
    """A capture that begins inside a gRPC channel (they live for hours): no preface, and
    the later calls name their content-type and grpc-encoding by dynamic table entries it
    lacks. Its frames are found, and read: the path's card number (Huffman-coded) replaces
    its header block, the gzip'd message holding one is replaced whole (its stream's coding
    unknown: read as gzip), the plain one masked where it is; the bytes of the frame the
    capture began in (the first call's data) replaced. Before, none was found."""
    before, after, messages = _grpc_channel()
    assert http2.frame_chain_start(after) == 0 and http2.starts_frames(after)
    caught = before[-6:] + after  # the capture begins 6 bytes before a frame's end
    assert not http2.starts_frames(caught)
    out, (keys, cards), unread = http2.redact_caught(caught, SWEEPS) or pytest.fail("not read")
    assert (keys, cards, unread) == (0, 3, 1) and len(out) == len(caught)
    assert out[:6] == b"X" * 6
    data = _data(bytes(out[6:]))  # frame for frame as it was
    assert data[:2] == [messages[0][:3], messages[0][3:]]  # the call with nothing in it
    compressed = b"".join(data[2:4])
    assert compressed == messages[1][:5] + b"X" * (len(messages[1]) - 5)
    assert b"".join(data[4:]) == messages[2].replace(CARD, b"XXXX XXXX XXXX XXXX")
    assert out[6:].count(b"X") > len(messages[1])
    block = bytes(out[6 + 9 : 6 + 9 + int.from_bytes(out[6:9], "big")])  # the path's call
    fields, _ = http2.decode_block(block, http2.DynamicTable(older=True))
    path = dict(fields)[b":path"]
    assert path.startswith(b"/crm.Pay/Charge?pan=") and not _DIGITS.search(path)


def test_h2c_caught_mid_way_in_a_capture_keeps_no_card_number(tmp_path: Path) -> None:
    """Through scrub_pcap: the gRPC channel above, the capture beginning inside its first
    call's data, one frame a segment after that; the server's reply to a later call, a
    gzip'd JSON body holding the card number, whose content-encoding it names by a
    dynamic table entry the capture lacks: read as what it shows (not text), replaced
    whole. And the same channel captured from its start, a segment of it lost: the run
    after the loss read so too. Before, none of their card numbers was found."""
    before, after, _ = _grpc_channel()
    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    server.initiate_connection()
    server.receive_data(before + after)
    reply_headers = [(":status", "200"), ("content-encoding", "gzip")]
    server.send_headers(1, reply_headers)
    server.send_data(1, gzip.compress(b"{}", mtime=0), end_stream=True)
    server_before = server.data_to_send()
    echoed = gzip.compress(b'{"paid": "' + CARD + b'"}', mtime=0)
    server.send_headers(3, reply_headers)
    server.send_data(3, echoed, end_stream=True)
    reply = server.data_to_send()
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    frames = _segments(A, B, [before[-6:], *_frame_pieces(after)], 1000, (50800, 50051))
    frames += _segments(B, A, [server_before[-3:], reply], 9000, (50051, 50800))
    # from its start, 6 bytes lost 10 before the first call's end
    whole, lost_at = before + after, len(before) - 10
    frames += _segments(A, B, [whole[:lost_at]], 1, (50900, 50052))
    frames += _segments(A, B, [whole[lost_at + 6 :]], 1 + lost_at + 6, (50900, 50052))
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.card_numbers_masked == 3 + 3
    assert r.coded_unread == 3 + 1  # the bytes before each caught run's frames, the reply
    out = _directions_out(dst)
    for port in (50800, 50900):
        assert CARD not in out[port] and b"4111" not in out[port]
    assert out[50051] == b"XXX" + reply.replace(echoed, b"X" * len(echoed))


def _frame_pieces(data: bytes, skip_to: int = 0) -> list[bytes]:
    """`data` cut where its frames begin (one frame a segment), from the first frame start
    at or after `skip_to` (the bytes before it one piece)."""
    at = http2.frame_chain_start(data[skip_to:])
    assert at is not None
    pieces, at = ([data[: skip_to + at]] if skip_to + at else []), skip_to + at
    while at < len(data):
        end = at + 9 + int.from_bytes(data[at : at + 3], "big")
        pieces.append(data[at:end])
        at = end
    return pieces


def test_no_header_a_block_holds_shows_in_a_debug_log(caplog: pytest.LogCaptureFixture) -> None:
    """An application that logs at debug level (a service's root logger): decoding a
    header block logs nothing of it. hpack's Decoder, used before, logged every header it
    decoded: the card number in a path, in clear."""
    c = _client()
    c.send_headers(1, _grpc_headers("/pay?card=" + CARDS[0].replace(" ", "")))
    data = c.data_to_send()
    with caplog.at_level(logging.DEBUG):
        http2.redact_http2_stream(data, SWEEPS)
        http2.redact_caught(data[len(http2.PREFACE) :], SWEEPS)
    assert "1111" not in caplog.text and "4111" not in caplog.text


_NAMES = [":path", "content-type", "x-trace", "grpc-encoding", "authorization", "x-note"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(st.sampled_from(_NAMES), st.text("0123456789abc /=?", max_size=40)),
            min_size=1,
            max_size=8,
        ),
        min_size=1,
        max_size=8,
    ),
    st.booleans(),
    st.sampled_from([4096, 256, 64]),
    st.integers(0, 7),
)
def test_blocks_decode_as_hpack_decodes_them_and_caught_mid_way_as_far_as_known(
    blocks: list[list[tuple[str, str]]], huffman: bool, table_size: int, caught_at: int
) -> None:
    """Header blocks hpack's Encoder writes (fields added to its table, evicted from a small
    one, Huffman-coded or not): decoded from the start, the same fields hpack's Decoder
    gives; from a later block on (a capture that begins there), the same where the table
    entries it refers to were seen, unknown (None) only where they were not, and every
    literal read."""
    encoder, decoder, reader = hpack.Encoder(), hpack.Decoder(), hpack.Decoder()
    encoder.header_table_size = table_size
    coded = [encoder.encode(b, huffman=huffman) for b in blocks]
    known, caught = http2.DynamicTable(older=False), http2.DynamicTable(older=True)
    masking = http2.DynamicTable(older=False)
    for i, raw in enumerate(coded):
        expected = [(bytes(k), bytes(v)) for k, v in decoder.decode(raw, raw=True)]
        assert http2.decode_block(raw, known) == (expected, raw)
        if i >= caught_at:
            got, _ = http2.decode_block(raw, caught)
            assert len(got) == len(expected)
            for (k, v), (ek, ev) in zip(got, expected, strict=True):
                assert k in (None, ek) and v in (None, ev)
        # every digit of a literal masked: written back in the same bytes, which a reader
        # (hpack's Decoder, its table kept from block to block) decodes as it was masked
        fields, out = http2.decode_block(raw, masking, _mask_digits)
        assert out is not None and len(out) == len(raw)
        assert [(bytes(k), bytes(v)) for k, v in reader.decode(out, raw=True)] == fields
        for (k, v), (ek, ev) in zip(fields, expected, strict=True):
            assert k == ek and len(v or b"") == len(ev) and not (v != ev and _DIGITS.search(v))


_DIGITS = re.compile(rb"[0-9]")


def _mask_digits(text: bytes) -> bytes:
    return _DIGITS.sub(b"X", text)


def test_random_bytes_are_not_taken_for_http2_frames() -> None:
    """Random bytes (a TLS connection's segments, seeded): a segment starts like HTTP/2
    frames about once in several million, and no run of them is read as HTTP/2."""
    rng = random.Random(7)
    segments = [rng.randbytes(1400) for _ in range(20_000)]
    assert sum(http2.starts_frames(p) for p in segments) <= 1
    runs = [b"".join(segments[i : i + 12]) for i in range(0, 2400, 12)]
    assert all(http2.redact_caught(run, SWEEPS) is None for run in runs)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.lists(st.binary(min_size=9, max_size=60), max_size=12))
def test_any_run_caught_mid_way_is_read_or_left_never_an_error(
    lead: bytes, frames: list[bytes]
) -> None:
    """Hostile runs: random bytes before frames whose headers are a sender's and whose
    payloads are anything (header blocks that do not decode, indexes past every table,
    padding longer than its frame): the same length back, or None, never an error; a run
    whose frames are found keeps its length and changes only to X's."""
    body = b"".join(
        len(f[9:]).to_bytes(3, "big") + bytes([f[3] % 10, f[4] & 0x0D]) + b"\0\0\0\x01" + f[9:]
        for f in frames
    )
    data = lead + body
    read = http2.redact_caught(data, SWEEPS)
    if read is not None:
        out, found, unread = read
        assert len(out) == len(data) and len(found) == 2 and unread >= 0
        assert all(a == b or a == ord("X") for a, b in zip(out, data, strict=True))


def test_h2c_upgraded_from_http_1_1_keeps_no_card_number(tmp_path: Path) -> None:
    """A connection upgraded to h2c (RFC 7540 §3.2: curl's way, some proxies'): the
    client's HTTP/1.1 request with `Upgrade: h2c`, its preface and frames after the
    server's 101; the server's 101, its frames after it. In segments of 60 bytes (none
    starts a frame or the preface), the card number Huffman-coded in a later request's path
    and the one in the server's gzip'd reply are found. And an upgrade the server refuses
    (its reply an HTTP/1.1 one, gzip'd): read as HTTP/1.1. Before, neither was read."""
    client = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    settings = client.initiate_upgrade_connection()
    request = (
        b"GET /pay HTTP/1.1\r\nHost: crm\r\nConnection: Upgrade, HTTP2-Settings\r\n"
        b"Upgrade: h2c\r\nHTTP2-Settings: " + settings + b"\r\n\r\n"
    )
    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    server.initiate_upgrade_connection(settings)
    switching = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
    reply = switching + server.data_to_send()
    path = [(":method", "GET"), (":path", "/pay?pan=" + CARDS[0].replace(" ", ""))]
    client.send_headers(3, [*path, (":scheme", "http"), (":authority", "crm")], end_stream=True)
    sent = request + client.data_to_send()
    echoed = gzip.compress(b'{"paid": "' + CARD + b'"}', mtime=0)
    server.send_headers(1, [(":status", "200"), ("content-encoding", "gzip")])
    server.send_data(1, echoed, end_stream=True)
    reply += server.data_to_send()
    refused = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % (
        len(echoed)
    )
    src, dst = tmp_path / "in.pcap", tmp_path / "out.pcap"
    frames = _segments(A, B, _cut(sent, 60), 1000, (50800, 80))
    frames += _segments(B, A, _cut(reply, 60), 9000, (80, 50800))
    frames += _segments(A, B, [request], 1000, (50801, 80))
    frames += _segments(B, A, [refused + echoed], 9000, (80, 50801))
    _write_pcap(src, frames)
    r = scrub_pcap(src, dst)
    assert r.card_numbers_masked == 3 and r.coded_unread == 0
    out = _directions_out(dst)
    assert out[50800].startswith(request) and len(out[50800]) == len(sent)
    assert out[80] == reply.replace(echoed, b"X" * len(echoed)) + refused + b"X" * len(echoed)


def test_masked_characters_of_long_codes_are_written_as_long_ones_or_the_block_replaced() -> None:
    """Characters of 11-bit codes ('+' of base64) masked: written as characters of codes as
    long (punctuation, no letter of 8 bits fills them), the block still as long and read by
    hpack's decoder as masked. Bytes of 20 bits and more (text not ASCII) masked: nothing
    fills them, so the block is not written back (the caller replaces it whole)."""
    raw = hpack.Encoder().encode([("x-key", "++++++++")], huffman=True)
    fields, out = http2.decode_block(
        raw, http2.DynamicTable(older=False), lambda t: t.replace(b"+", b"X")
    )
    assert out is not None and len(out) == len(raw) and out != raw
    value = dict(fields)[b"x-key"]
    assert b"+" not in value and hpack.Decoder().decode(out, raw=True) == [(b"x-key", value)]
    raw = hpack.Encoder().encode([(b"x-name", b"\xc3\xa9\xc3\xa9")], huffman=True)
    fields, out = http2.decode_block(
        raw, http2.DynamicTable(older=False), lambda t: re.sub(rb"[\x80-\xff]", b"X", t)
    )
    assert out is None and fields == [(b"x-name", b"XXXX")]
    fields, out = http2.decode_block(raw, http2.DynamicTable(older=False), _mask_digits)
    assert out == raw  # nothing masked: as it was


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=30), st.data())
def test_masked_huffman_strings_fill_their_bytes_or_are_refused(
    text: bytes, data: st.DataObject
) -> None:
    """Any string, any of its characters masked: the filled string, when there is one, is
    Huffman-coded in exactly the bytes the original took, and changes no character the mask
    left; none at all only where the masked characters' codes are longer than fillers go."""
    masked = bytes(ord("X") if data.draw(st.booleans()) else c for c in text)
    if masked == text:
        return
    size = len(http2._HUFFMAN.encode(text))
    filled = http2._filled(text, masked, size)
    changed = [i for i, (a, b) in enumerate(zip(text, masked, strict=True)) if a != b]
    if filled is None:
        lengths = [REQUEST_CODES_LENGTH[text[i]] for i in changed]
        assert max(lengths) > 8 or sum(lengths) > 15 * len(changed) - 7
        return
    assert len(http2._HUFFMAN.encode(filled)) == size
    assert all(filled[i] == text[i] for i in range(len(text)) if i not in changed)
    assert not any(chr(filled[i]).isdigit() for i in changed)


def test_a_streaming_call_caught_mid_way_is_read_from_its_next_message() -> None:
    """A server-streaming call begun before the capture (a CRM's event stream): its data
    in the capture begins inside a message; its messages are found after it and read (a
    gzip'd one holding a card number replaced whole, a plain one masked in place), the
    message begun before replaced. Random bytes (a flag byte first 1 time in 128) and
    brotli are not read as gRPC: replaced whole, as data not read."""
    rng = random.Random(4)
    events = [_grpc_message(b"\x0a\x05event" + rng.randbytes(40), k % 2 == 1) for k in range(6)]
    events[3] = _grpc_message(b"\x0a\x13" + CARD, True)
    events[4] = _grpc_message(b"\x0a\x13" + CARD, False)
    rest = _grpc_message(rng.randbytes(300), False)[-120:]  # the end of one begun before
    data = rest + b"".join(events)
    frames = b"".join(
        len(data[a : a + 100]).to_bytes(3, "big") + b"\x00\x00\x00\x00\x00\x05" + data[a : a + 100]
        for a in range(0, len(data), 100)
    )  # DATA on stream 5, whose HEADERS the capture lacks
    out, (_, cards), unread = http2.redact_caught(frames, SWEEPS) or pytest.fail("not read")
    assert cards == 2 and unread == 1
    got = b"".join(_data(bytes(out)))
    assert got[: len(rest)] == b"X" * len(rest)
    expected = b"".join(events[:3]) + events[3][:5] + b"X" * (len(events[3]) - 5)
    expected += events[4].replace(CARD, b"XXXX XXXX XXXX XXXX") + events[5]
    assert got[len(rest) :] == expected
    for body in (rng.randbytes(2000), brotli.compress(b'{"card": "' + CARD + b'"}' * 30)):
        frame = len(body).to_bytes(3, "big") + b"\x00\x00\x00\x00\x00\x05" + body
        out, _, unread = http2.redact_caught(frame * 3, SWEEPS) or pytest.fail("not read")
        assert unread == 1 and out.count(b"X") == 3 * len(body)


def test_grpc_web_text_over_h2c_is_read_from_its_base64() -> None:
    """gRPC-Web in base64 (grpc-web-text) over h2c: its gzip'd message holding a card
    number found (read from the base64, replaced whole); one holding nothing left as it
    was. Before, it was read as binary gRPC, and replaced as not readable."""
    c = _client()
    for sid, note in ((1, CARD), (3, b"nothing")):
        _request(
            c, sid, "/crm.Pay/Charge", "application/grpc-web-text", **{"grpc-encoding": "gzip"}
        )
        c.send_data(sid, base64.b64encode(_grpc_message(b"\x0a\x13" + note, True)), end_stream=True)
    data = c.data_to_send()
    out, (_, cards), unread = http2.redact_http2_stream(data, SWEEPS)
    assert (cards, unread) == (1, 0)
    sent = _data(data)
    assert _data(bytes(out)) == [b"X" * len(sent[0]), sent[1]]
