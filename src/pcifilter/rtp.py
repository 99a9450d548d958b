# SPDX-License-Identifier: Apache-2.0
"""RTP packets (RFC 3550) with RFC 8285 header extensions.

Parsing and validation are the core's (`csrc/pcifilter/rtp.cpp`, the same code the stream
filter runs per packet); this class is the typed view for Python callers and tests.
Serialising is plain `struct` packing: it is not on any per-packet path.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from pcifilter import _core

RTP_VERSION = 2
ONE_BYTE_PROFILE = 0xBEDE  # RFC 8285 §4.2
TWO_BYTE_PROFILE = 0x1000  # RFC 8285 §4.3, low 4 bits are "appbits"


@dataclass
class RtpPacket:
    """One RTP packet. `repr` shows sizes, never payload bytes (a telephone-event payload
    carries the key pressed)."""

    payload_type: int = 0
    marker: bool = False
    sequence_number: int = 0
    timestamp: int = 0
    ssrc: int = 0
    csrc: list[int] = field(default_factory=list)
    extension_profile: int | None = None
    extension: bytes = b""
    payload: bytes = b""
    padding_size: int = 0

    @classmethod
    def parse(cls, data: bytes) -> RtpPacket:
        """Decode and validate; ValueError with a precise message when malformed."""
        d = _core.parse_rtp(bytes(data))
        return cls(
            payload_type=d["payload_type"],
            marker=d["marker"],
            sequence_number=d["sequence_number"],
            timestamp=d["timestamp"],
            ssrc=d["ssrc"],
            csrc=list(d["csrc"]),
            extension_profile=d["extension_profile"],
            extension=d["extension"],
            payload=d["payload"],
            padding_size=d["padding_size"],
        )

    def extension_elements(self) -> list[tuple[int, bytes]]:
        """RFC 8285 elements (id, data) of the extension; [] for other profiles."""
        if self.extension_profile is None:
            return []
        d = _core.parse_rtp(self._header(0) + self.payload)
        return [(int(i), bytes(b)) for i, b in d["extension_elements"]]

    def _header(self, padding: int) -> bytes:
        if not 0 <= self.payload_type <= 127:
            raise ValueError(f"payload_type must be within [0, 127], not {self.payload_type}")
        if len(self.csrc) > 15:
            raise ValueError(f"at most 15 CSRC, not {len(self.csrc)}")
        if self.extension_profile is not None and (
            not 0 <= self.extension_profile <= 0xFFFF or len(self.extension) % 4
        ):
            raise ValueError("extension_profile must be 16-bit and extension a multiple of 4 bytes")
        b0 = (RTP_VERSION << 6) | (0x20 if padding else 0) | len(self.csrc)
        b0 |= 0x10 if self.extension_profile is not None else 0
        out = struct.pack(
            "!BBHII",
            b0,
            (0x80 if self.marker else 0) | self.payload_type,
            self.sequence_number & 0xFFFF,
            self.timestamp & 0xFFFFFFFF,
            self.ssrc & 0xFFFFFFFF,
        )
        out += b"".join(struct.pack("!I", c & 0xFFFFFFFF) for c in self.csrc)
        if self.extension_profile is not None:
            out += struct.pack("!HH", self.extension_profile, len(self.extension) // 4)
            out += self.extension
        return out

    def serialize(self) -> bytes:
        """The packet's bytes; padding of `padding_size` bytes (count in the last byte)."""
        if not 0 <= self.padding_size <= 255:
            raise ValueError(f"padding_size must be within [0, 255], not {self.padding_size}")
        pad = b""
        if self.padding_size:
            pad = bytes(self.padding_size - 1) + bytes([self.padding_size])
        return self._header(self.padding_size) + self.payload + pad

    def __bytes__(self) -> bytes:
        return self.serialize()

    def __repr__(self) -> str:
        return (
            f"RtpPacket(pt={self.payload_type}, seq={self.sequence_number}, ts={self.timestamp}, "
            f"ssrc={self.ssrc:#010x}, marker={self.marker}, payload={len(self.payload)} bytes)"
        )


def drop_reasons() -> list[str]:
    """Names of the reasons the core drops malformed packets."""
    return list(_core.rtp_drop_reasons())
