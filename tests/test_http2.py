# SPDX-License-Identifier: Apache-2.0
"""HTTP/2 in clear (pcifilter.http2): connections built with h2 (the python-hyper HTTP/2
implementation), scrubbed, and read back with h2 where they can be: card numbers in header
blocks (HPACK's Huffman code hides their digits), in data split across frames, in gzip'd
bodies and in gRPC messages, plain and compressed."""

from __future__ import annotations

import gzip
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import hyperframe.frame
import pytest
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


def test_a_card_number_in_a_header_block_replaces_the_block() -> None:
    """A card number in a request's path (a form sent with GET): HPACK Huffman-codes it, no
    digit shows. The header block is decoded, and replaced whole (it cannot be coded again
    to the same length); the next stream's block, coded against the same dynamic table, is
    decoded too, and left as it was when it holds nothing."""
    c = _client()
    c.send_headers(
        1,
        [
            (":method", "GET"),
            (":path", "/pay?card=" + CARDS[0].replace(" ", "")),
            (":scheme", "http"),
            (":authority", "crm"),
        ],
        end_stream=True,
    )
    first = c.data_to_send()
    c.send_headers(
        3,
        [(":method", "GET"), (":path", "/status"), (":scheme", "http"), (":authority", "crm")],
        end_stream=True,
    )
    data = first + c.data_to_send()
    assert CARD.replace(b" ", b"") not in data  # Huffman-coded
    out, (_, cards), unread = http2.redact_http2_stream(data, SWEEPS)
    assert cards == 1 and unread == 0
    assert out[len(first) :] == data[len(first) :]  # the second request as it was
    assert out[: len(first)] != first and out.count(b"X") > 10


@pytest.mark.parametrize("compressed", [False, True])
def test_a_card_number_in_a_grpc_message_is_masked(compressed: bool) -> None:
    """gRPC (a CRM's services talking): each message a flag and a length before it; a plain
    one is masked where it is, a gzip'd one (grpc-encoding) replaced whole."""
    c = _client()
    _request(c, 1, "/crm.Pay/Charge", "application/grpc", **{"grpc-encoding": "gzip"})
    message = b"\x0a\x13" + CARD  # a protobuf string field
    sent = gzip.compress(message) if compressed else message
    frame = bytes([compressed]) + len(sent).to_bytes(4, "big") + sent
    other = b"\x00\x00\x00\x00\x02\x08\x01"  # a second message, nothing in it
    c.send_data(1, frame + other, end_stream=True)
    data = c.data_to_send()
    out, (_, cards), unread = http2.redact_http2_stream(data, SWEEPS)
    assert cards == 1 and unread == 0
    got = b"".join(e.data for e in _read_back(bytes(out)) if isinstance(e, h2.events.DataReceived))
    if compressed:
        assert got == frame[:5] + b"X" * len(sent) + other
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
    echoed = gzip.compress(b'{"card": "' + CARD + b'"}')
    plain = gzip.compress(b'{"status": "ok"}')
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
    echoed = gzip.compress(b"paid with " + CARD)
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
