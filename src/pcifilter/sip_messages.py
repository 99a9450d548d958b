# SPDX-License-Identifier: Apache-2.0
"""Keypresses and SRTP keys in SIP messages, replaced by 'X' in place (same length, so a
Content-Length stays right): DTMF bodies by their Content-Type (INFO's dtmf-relay and dtmf,
KPML reports, other vendors' DTMF types), the forms that tell themselves apart wherever
they stand ("Signal=" lines, KPML digits), each part of a multipart body, bodies sent coded
(gzip, deflate, base64, quoted-printable: read decoded within a bound, replaced whole), and
SRTP keys in SDP. Also SIP over TCP cut into messages (Content-Length), and the tail of a
message whose headers a capture lacks. pcifilter.pcap applies these to a capture's SIP;
pcifilter.hep to SIP inside HEP packets."""

from __future__ import annotations

import base64
import binascii
import quopri
import re
import zlib
from collections.abc import Callable, Iterable, Iterator

from pcifilter import _core
from pcifilter.relay import may_be_relay_message, redact_relay_message
from pcifilter.sdp import srtp_key_spans

# Keypresses sent in SIP bodies (signalling, not media): SIP INFO with application/dtmf-relay
# ("Signal=5") or application/dtmf ("5"), KPML reports (RFC 4730, digits="..."), and bodies
# that are nothing but keypresses, replaced whole: Cisco's NOTIFY-based DTMF relay
# (audio/telephone-event: RFC 4733's binary event, the digit in its first byte) and the
# DTMFAD event package's application/dtmf-event.
_WHOLE_BODY = re.compile(rb"(?s)\A(.+)\Z")
_DTMF_BODIES = {
    "audio/telephone-event": _WHOLE_BODY,
    "application/dtmf-event": _WHOLE_BODY,
    "application/dtmf-relay": re.compile(
        rb"(?im)^[ \t]*signal[ \t]*[=:][ \t]*([^\r\n]*[^ \t\r\n]|)[ \t]*\r?$"
    ),
    "application/dtmf": re.compile(rb"(\S+)"),
    "application/kpml-response+xml": re.compile(rb"(?i)\bdigits[ \t]*=[ \t]*[\"']([^\"']*)[\"']"),
}
# Other vendors' types for a keypress body (application/x-dtmf, application/x-dtmf-relay,
# Nortel's application/vnd.nortelnetworks.digits, ...): a type that names DTMF, digits or
# telephone-events is taken for one and its body replaced whole (masking a body that held
# none costs a capture reader nothing; leaving one costs a card number).
_DTMF_TYPE_NAMES = ("dtmf", "digits", "telephone-event")
_CONTENT_TYPE = re.compile(rb"(?im)^(?:content-type|c)[ \t]*:[ \t]*([^;\r\n]+)([^\r\n]*)")
_DTMF_SYMBOLS = re.compile(rb"[0-9A-Da-d*#]{1,16}")
_BOUNDARY = re.compile(rb'(?i);[ \t]*boundary[ \t]*=[ \t]*(?:"([^"]+)"|([^;\s]+))')


def _redact_spans(message: bytes, spans: Iterable[tuple[int, int]]) -> bytes | None:
    """The message with the bytes in `spans` replaced by 'X' (same length, so a
    Content-Length stays right), or None if nothing changed."""
    redacted = bytearray(message)
    for a, b in spans:
        redacted[a:b] = b"X" * (b - a)
    return None if redacted == message else bytes(redacted)


def _split(message: bytes) -> tuple[int, int] | None:
    """Where a SIP message's (or a body part's) headers end and its body starts."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = message.find(sep)
        if at >= 0:
            return at, at + len(sep)
    return None


def _redact_body(
    message: bytes, spans: Callable[[bytes, bytes], Iterable[tuple[int, int]]]
) -> bytes | None:
    """The SIP message with the body's bytes in `spans(head, body)` replaced by 'X' (same
    length), or None if nothing changed."""
    split = _split(message)
    if split is None:
        return None
    head, body = message[: split[0]], message[split[1] :]
    return _redact_spans(message, ((split[1] + a, split[1] + b) for a, b in spans(head, body)))


def _untyped_dtmf_spans(text: bytes) -> list[tuple[int, int]]:
    """Keypresses whose form tells them apart without a Content-Type: "Signal=" (or
    "Signal:") lines and KPML digits="..."."""
    spans = [m.span(1) for m in _DTMF_BODIES["application/dtmf-relay"].finditer(text)]
    return spans + [m.span(1) for m in _DTMF_BODIES["application/kpml-response+xml"].finditer(text)]


def _bare_dtmf_spans(body: bytes) -> list[tuple[int, int]]:
    """A body that is nothing but DTMF symbols (an application/dtmf body), where no
    Content-Type says what it is."""
    bare = body.strip()
    if not _DTMF_SYMBOLS.fullmatch(bare):
        return []
    at = body.index(bare)
    return [(at, at + len(bare))]


def _parts(ctype_params: bytes, body: bytes) -> Iterator[tuple[int, bytes, bytes]]:
    """Each part of a multipart body (RFC 2046) whose Content-Type parameters are
    `ctype_params`: where its body starts in `body`, its headers, its body (without the
    line break before the next delimiter, which belongs to the delimiter)."""
    boundary = _BOUNDARY.search(ctype_params)
    if boundary is None:
        return
    delimiter = b"--" + (boundary.group(1) or boundary.group(2))
    found = list(re.finditer(re.escape(delimiter), body))
    ends = [m.start() for m in found[1:]] + [len(body)] if found else []
    for start, end in zip((m.end() for m in found), ends, strict=True):
        part = body[start:end]
        part = part[: -2 if part.endswith(b"\r\n") else -1 if part.endswith(b"\n") else None]
        split = _split(part)
        if split is not None:
            yield start + split[1], part[: split[0]], part[split[1] :]


# A body sent coded: a message's Content-Encoding (RFC 3261 §20.12: gzip; deflate as in
# HTTP; listed in the order they were applied), a part's Content-Encoding or MIME
# Content-Transfer-Encoding (base64, quoted-printable). Its keypresses and keys are not in
# its bytes as sent: it is read decoded and replaced whole when it holds one, or when it
# cannot be read (an unknown coding, corrupt, or over _MAX_DECODED decoded: a hostile
# capture's "zip bomb", or over _DECODED_PER_BYTE times its coded length).
_CONTENT_ENCODING = re.compile(rb"(?im)^(?:content-encoding|e)[ \t]*:[ \t]*([^\r\n]*)")
_TRANSFER_ENCODING = re.compile(rb"(?im)^content-transfer-encoding[ \t]*:[ \t]*([^\r\n]*)")
_NO_CODING = {b"", b"identity", b"7bit", b"8bit", b"binary"}
_MAX_DECODED = 1 << 20
# Text compresses 2-10 times (a SIP message, SDP, XML); a body that decodes to more than
# this many bytes for each of its own (and _DECODED_SLACK) is a bomb, not read. Without the
# bound a capture of small bombs (gzip'd bodies of 1 KB, 1 MiB decoded, each read three
# times) took 61 us a byte to scrub, 280 times a plain SIP capture, and one of HEP packets
# whose compressed message was decoded whole (16 MiB) 300 times; now 1.4 and 0.4 times
# (bench/coded_bombs_report.py). As pcifilter.http_bodies bounds a stream's bodies, per body
# here: SIP bodies sent coded are few and small.
_DECODED_PER_BYTE = 32
_DECODED_SLACK = 1024


def decoded_limit(coded: bytes) -> int:
    """At most how many bytes `coded` may be decoded to, each coding undone in turn."""
    return min(_MAX_DECODED, _DECODED_SLACK + _DECODED_PER_BYTE * len(coded))


def _codings(head: bytes, part: bool) -> list[bytes]:
    """The codings a body was sent in, in the order they were applied (none: plain)."""
    found = _CONTENT_ENCODING.findall(head)
    if part:
        found += _TRANSFER_ENCODING.findall(head)
    names = [c.strip().lower() for line in found for c in line.split(b",")]
    return [c for c in names if c not in _NO_CODING]


def inflated(data: bytes, wbits: int, limit: int) -> bytes | None:
    """zlib's formats, read whole to at most `limit` bytes (None: not whole, or more)."""
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(data, limit)
    except zlib.error:
        return None
    return out if d.eof and not d.unconsumed_tail and not d.unused_data.strip() else None


def _decoded(body: bytes, codings: list[bytes]) -> bytes | None:
    """`body` with its codings undone, or None when it cannot be read (decoded_limit)."""
    out: bytes | None = body
    limit = decoded_limit(body)
    for coding in reversed(codings):
        if out is None:
            return None
        if coding in (b"gzip", b"x-gzip"):
            out = inflated(out, 31, limit)
        elif coding == b"deflate":  # zlib's format, which some send raw
            out = inflated(out, 15, limit) or inflated(out, -15, limit)
        elif coding == b"base64":
            try:
                out = base64.b64decode(out)
            except binascii.Error:
                return None
        elif coding == b"quoted-printable":
            out = quopri.decodestring(out)
        else:
            return None
    return out


def _coded_bodies(
    head: bytes, body: bytes, part: bool = False, depth: int = 0
) -> Iterator[tuple[int, int, bytes, bytes | None]]:
    """Each body sent coded in a message (or part) with headers `head`: its start and end in
    `body`, its headers and its decoded bytes (None: unreadable): the body itself, or each
    coded part of a multipart body (two levels deep)."""
    codings = _codings(head, part)
    if codings:
        yield 0, len(body), head, _decoded(body, codings)
        return
    ctype = _CONTENT_TYPE.search(head)
    if ctype is None or not ctype.group(1).strip().lower().startswith(b"multipart/") or depth >= 2:
        return
    for at, part_head, part_body in _parts(ctype.group(2), body):
        inner = _coded_bodies(part_head, part_body, True, depth + 1)
        yield from ((at + a, at + b, h, d) for a, b, h, d in inner)


def _coded_spans(
    head: bytes, body: bytes, holds: Callable[[bytes, bytes], bool]
) -> Iterator[tuple[int, int]]:
    """The coded bodies (see _coded_bodies) to replace whole: those that `holds(head,
    decoded)` (a keypress, a key), those that cannot be read, and those coded twice over
    (a coded part inside a coded body: unread)."""
    for a, b, coded_head, decoded in _coded_bodies(head, body):
        if (
            decoded is None
            or holds(coded_head, decoded)
            or any(_coded_bodies(_CONTENT_ENCODING.sub(b"", coded_head), decoded))
        ):
            yield a, b


def _typed_dtmf_spans(head: bytes, body: bytes, depth: int = 0) -> Iterator[tuple[int, int]]:
    """Keypresses in a body by its Content-Type: a DTMF type's whole form, or each part of a
    multipart body (RFC 2046; an INFO package may send several bodies, RFC 6086). A body
    with no Content-Type at all that is nothing but DTMF symbols is taken for an
    application/dtmf one (a sender that left the header out)."""
    ctype = _CONTENT_TYPE.search(head)
    if ctype is None:
        yield from _bare_dtmf_spans(body)
        return
    kind = ctype.group(1).strip().lower().decode("latin-1")
    pattern = _DTMF_BODIES.get(kind)
    if pattern is None and any(name in kind for name in _DTMF_TYPE_NAMES):
        pattern = _WHOLE_BODY  # another vendor's DTMF type: replaced whole
    if pattern is not None:
        yield from (m.span(1) for m in pattern.finditer(body))
        return
    if not kind.startswith("multipart/") or depth >= 2:
        return
    for at, part_head, part_body in _parts(ctype.group(2), body):
        inner = _typed_dtmf_spans(part_head, part_body, depth + 1)
        yield from ((at + a, at + b) for a, b in inner)


def _holds_dtmf(head: bytes, body: bytes) -> bool:
    """A keypress in a body, or a card number in clear: read decoded (a coded body), it is
    replaced whole either way (the capture's card sweep sees only its coded bytes)."""
    return (
        bool(_untyped_dtmf_spans(body))
        or any(_typed_dtmf_spans(head, body))
        or _core.mask_card_numbers(body)[1] > 0
    )


def _dtmf_spans(message: bytes) -> list[tuple[int, int]]:
    """Keypresses in a SIP message. By its body's Content-Type (above), and whatever that
    says or wherever they stand: "Signal=" (or "Signal:") lines and KPML digits="..." are
    keypresses in a message's headers too, or in a message with a Content-Type gone wrong or
    no blank line before its body (masking slightly too much rather than leaking)."""
    spans = _untyped_dtmf_spans(message)
    split = _split(message)
    if split is not None:
        head, body = message[: split[0]], message[split[1] :]
        found = [*_typed_dtmf_spans(head, body), *_coded_spans(head, body, _holds_dtmf)]
        spans += [(split[1] + a, split[1] + b) for a, b in found]
    return spans


def sip_without_dtmf(message: bytes) -> bytes | None:
    """The SIP message with its keypresses (see _dtmf_spans) replaced by 'X' (same length,
    so its Content-Length stays right), or None if it carries none."""
    return _redact_spans(message, _dtmf_spans(message))


def _key_spans(head: bytes, body: bytes) -> Iterator[tuple[int, int]]:
    yield from srtp_key_spans(body)
    yield from _coded_spans(head, body, lambda h, b: bool(srtp_key_spans(b)))


def sip_without_srtp_keys(message: bytes) -> bytes | None:
    """The SIP message with the SRTP keys in its SDP (a=crypto inline keys, a=key-mgmt
    data) replaced by 'X' (same length), or None if it holds none."""
    return _redact_body(message, _key_spans)


def redact(message: bytes, redact_dtmf: bool) -> tuple[bytes, bool, bool]:
    """The message with its DTMF body (unless not `redact_dtmf`) and SRTP keys redacted,
    and whether each of the two changed it. JSON in it that names "DTMF" (a header or body
    a platform logs keypresses in) is read as a media relay's is, its values of "code",
    "digit" and "event" replaced: so over UDP, TCP and in HEP alike (before, only in HEP)."""
    no_dtmf = sip_without_dtmf(message) if redact_dtmf else None
    if no_dtmf is not None:
        message = no_dtmf
    no_keys = sip_without_srtp_keys(message)
    if no_keys is not None:
        message = no_keys
    in_json = False
    if redact_dtmf and may_be_relay_message(message):
        message, in_json, _, _ = redact_relay_message(message, redact_dtmf)
    return message, no_dtmf is not None or in_json, no_keys is not None


_CONTENT_LENGTH = re.compile(rb"(?im)^(?:content-length|l)[ \t]*:[ \t]*(\d+)")


def _message_spans(stream: bytes) -> list[tuple[int, int]]:
    """Where each SIP message of a TCP byte stream lies: headers up to the blank line, then
    Content-Length bytes of body (RFC 3261 §18.3); CRLF keep-alives between them skipped.
    What cannot be cut (no blank line: the capture ends inside the headers) is one span."""
    spans, pos = [], 0
    while pos < len(stream):
        while stream.startswith(b"\r\n", pos):
            pos += 2
        if pos >= len(stream):
            break
        head_end = stream.find(b"\r\n\r\n", pos)
        if head_end < 0:
            spans.append((pos, len(stream)))
            break
        length = _CONTENT_LENGTH.search(stream, pos, head_end)
        end = min(len(stream), head_end + 4 + (int(length.group(1)) if length else 0))
        spans.append((pos, end))
        pos = end
    return spans


# A SIP message's first line (RFC 3261 §7.1, §7.2), at a line start.
START_LINE = re.compile(rb"(?m)^(?:[A-Za-z]+ [^ \r\n]+ SIP/2\.0|SIP/2\.0 \d{3} )")


def _orphan_dtmf_spans(fragment: bytes) -> list[tuple[int, int]]:
    """Keypresses in the part of a TCP stream before its first captured message start (the
    tail of a message whose headers were not captured): there is no Content-Type to go by, so
    every body form is looked for: "Signal=" lines, KPML digits="...", and a fragment that is
    nothing but DTMF symbols (an application/dtmf body)."""
    return _untyped_dtmf_spans(fragment) + _bare_dtmf_spans(fragment)


def redact_orphan(part: bytes, redact_dtmf: bool) -> tuple[bytes, bool, bool]:
    """Bytes of SIP with no headers to go by (a message's tail): keypresses in every body
    form (unless not `redact_dtmf`) and SRTP keys replaced, and whether each was there."""
    out = bytearray(part)
    if redact_dtmf:
        for a, b in _orphan_dtmf_spans(part):
            out[a:b] = b"X" * (b - a)
    had_dtmf = out != part
    no_keys = sip_without_srtp_keys(b"\r\n\r\n" + bytes(out))
    if no_keys is not None:
        out[:] = no_keys[4:]
    return bytes(out), had_dtmf, no_keys is not None


def readable(message: bytes) -> tuple[bytes, int]:
    """A SIP message with the bodies in it that were sent coded (see _coded_bodies) decoded,
    where they can be: an SDP sent with gzip is read as well; and how many could not be
    (the SRTP key redaction replaced those whole, _key_spans: they are counted with the
    capture's other coded bodies not read)."""
    split = _split(message)
    if split is None:
        return message, 0
    head, body = message[: split[0]], message[split[1] :]
    out, at, unread = bytearray(message[: split[1]]), 0, 0
    for a, b, _, decoded in _coded_bodies(head, body):
        out += body[at:a] + (body[a:b] if decoded is None else decoded)
        unread += decoded is None and a < b
        at = b
    return bytes(out + body[at:]), unread


def redact_stream(
    stream: bytearray, redact_dtmf: bool
) -> tuple[bytearray, list[tuple[int, bytes]], int, int]:
    """A run of SIP over TCP cut into messages by Content-Length, each redacted as over UDP;
    before its first message start, the tail of a message whose start was not captured (a
    long-lived connection caught mid-message): keypresses in any body form; keys anywhere
    in a part with no headers to go by. Returns the stream, the messages as captured with
    the offset each ended at (for their SDP; the tail's SDP lines count too), and how many
    had keypresses and keys."""
    redacted = bytearray(stream)
    found: list[tuple[int, bytes]] = []
    dtmf = keys = 0
    first = START_LINE.search(stream)
    orphan = first.start() if first else len(stream)
    orphan_keys = False
    if stream[:orphan].strip(b"\r\n"):
        tail = bytes(stream[:orphan])
        found.append((orphan, tail))
        redacted[:orphan], had_dtmf, orphan_keys = redact_orphan(tail, redact_dtmf)
        dtmf += had_dtmf
    for a, b in _message_spans(bytes(stream[orphan:])):
        a, b = a + orphan, b + orphan
        message = bytes(stream[a:b])
        found.append((b, message))
        redacted[a:b], had_dtmf, had_keys = redact(message, redact_dtmf)
        dtmf += had_dtmf
        keys += had_keys
    # Keys anywhere else (and the tail's, found above): one count for the stream.
    no_keys = sip_without_srtp_keys(b"\r\n\r\n" + bytes(redacted))
    if no_keys is not None:
        redacted[:] = no_keys[4:]
    keys += no_keys is not None or orphan_keys
    return redacted, found, dtmf, keys
