# SPDX-License-Identifier: Apache-2.0
"""WAV files holding 16-bit PCM, G.711 µ-law or G.711 A-law, mono or with several channels
(a call recording with the caller and the agent on channels of their own).

Hand-written on purpose: the standard library's `wave` reads only PCM, and libraries that
read µ-law/A-law WAV (libsndfile and its bindings) hand back decoded samples, not the codes.
Scrubbing keeps every unmasked G.711 code bit-exact, which needs the codes themselves; the
RIFF layout is small enough to parse here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from pcifilter import _core

FORMAT_PCM = 1
FORMAT_ALAW = 6
FORMAT_ULAW = 7
_NAMES = {FORMAT_PCM: "pcm16", FORMAT_ALAW: "alaw", FORMAT_ULAW: "ulaw"}
_EXTENSIBLE = 0xFFFE
MAX_CHANNELS = 64
_Sample = TypeVar("_Sample", np.int16, np.uint8)


@dataclass
class WavData:
    """A WAV's samples (decoded to int16), its rate, and its codes if G.711: 1-D for a mono
    file, channels × samples for more."""

    pcm: npt.NDArray[np.int16]
    sample_rate: int
    encoding: str  # "pcm16", "ulaw" or "alaw"
    codes: npt.NDArray[np.uint8] | None = None

    @property
    def channels(self) -> int:
        return 1 if self.pcm.ndim == 1 else int(self.pcm.shape[0])

    @property
    def frames(self) -> int:
        """Samples per channel."""
        return int(self.pcm.shape[-1])

    def __repr__(self) -> str:
        return (
            f"WavData({self.encoding}, {self.sample_rate} Hz, {self.channels} channel(s), "
            f"{self.frames} samples)"
        )


def _channels_of(x: npt.NDArray[_Sample], channels: int) -> npt.NDArray[_Sample]:
    """Interleaved samples as they are (mono) or as channels × samples; a last frame cut
    short is left out."""
    if channels == 1:
        return x
    return x[: len(x) // channels * channels].reshape(-1, channels).T.copy()


def _chunk_at(data: bytes, pos: int) -> bool:
    """Whether a RIFF chunk header (a printable four-character id, a size that fits in the
    file) starts at `pos`."""
    if pos + 8 > len(data) or not all(0x20 <= c <= 0x7E for c in data[pos : pos + 4]):
        return False
    return pos + 8 + int(struct.unpack("<I", data[pos + 4 : pos + 8])[0]) <= len(data) + 1


def read_wav(path: str | Path) -> WavData:
    """Read a WAV (PCM 16-bit, µ-law or A-law, 1 to 64 channels); ValueError for anything
    else. A data chunk whose size is still 0 with audio after it (a file being recorded)
    holds the rest of the file."""
    data = Path(path).read_bytes()
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a RIFF/WAVE file")
    pos, fmt, body = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        chunk = data[pos + 8 : pos + 8 + size]
        if cid == b"fmt ":
            if len(chunk) < 16:
                raise ValueError(f"{path}: fmt chunk too short")
            fmt = struct.unpack("<HHIIHH", chunk[:16])
            if fmt[0] == _EXTENSIBLE and len(chunk) >= 26:
                fmt = (struct.unpack("<H", chunk[24:26])[0], *fmt[1:])
        elif cid == b"data":
            if size == 0 and pos + 8 < len(data) and not _chunk_at(data, pos + 8):
                # A recorder still writing the file leaves the size 0 until it closes it
                # (a recording copied while a call goes on): the rest of the file is data.
                size = len(data) - pos - 8
                chunk = data[pos + 8 :]
            body = chunk
        pos += 8 + size + (size & 1)  # chunks are word-aligned
    if fmt is None or body is None:
        raise ValueError(f"{path}: missing fmt or data chunk")
    tag, channels, rate, _, _, bits = fmt
    if not 1 <= channels <= MAX_CHANNELS:
        raise ValueError(f"{path}: {channels} channels; 1 to {MAX_CHANNELS} are supported")
    if tag == FORMAT_PCM and bits == 16:
        pcm = np.frombuffer(body[: len(body) // 2 * 2], dtype="<i2").astype(np.int16)
        return WavData(_channels_of(pcm, channels), rate, "pcm16")
    if tag in (FORMAT_ULAW, FORMAT_ALAW) and bits == 8:
        codes = _channels_of(np.frombuffer(body, dtype=np.uint8).copy(), channels)
        decode = _core.ulaw_decode if tag == FORMAT_ULAW else _core.alaw_decode
        return WavData(decode(codes.reshape(-1)).reshape(codes.shape), rate, _NAMES[tag], codes)
    raise ValueError(
        f"{path}: unsupported format tag {tag} with {bits} bits "
        "(16-bit PCM, µ-law and A-law are supported)"
    )


def encode_like(src: WavData, pcm: npt.NDArray[np.int16]) -> bytes:
    """Sample bytes (interleaved) of `pcm`, shaped as `src.pcm`, in `src`'s encoding;
    unchanged samples keep their codes."""
    if src.encoding == "pcm16":
        return pcm.T.astype("<i2").tobytes()
    assert src.codes is not None
    encode = _core.ulaw_encode if src.encoding == "ulaw" else _core.alaw_encode
    coded = encode(np.ascontiguousarray(pcm).reshape(-1)).reshape(pcm.shape)
    codes = np.where(pcm == src.pcm, src.codes, coded).astype(np.uint8)
    return codes.T.tobytes()


def write_wav(
    path: str | Path, encoding: str, sample_rate: int, payload: bytes, channels: int = 1
) -> None:
    """Write sample bytes (interleaved when `channels` > 1) in `encoding` ("pcm16", "ulaw"
    or "alaw")."""
    tag = {v: k for k, v in _NAMES.items()}[encoding]
    bits = 16 if tag == FORMAT_PCM else 8
    block = bits // 8 * channels
    fmt = struct.pack("<HHIIHH", tag, channels, sample_rate, sample_rate * block, block, bits)
    if tag != FORMAT_PCM:
        fmt += struct.pack("<H", 0)  # cbSize: non-PCM formats carry it
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if tag != FORMAT_PCM:  # non-PCM WAVs carry a fact chunk with the sample count
        chunks += b"fact" + struct.pack("<II", 4, len(payload) // channels)
    chunks += (
        b"data" + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) & 1 else b"")
    )
    Path(path).write_bytes(b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks)


def write_pcm_wav(path: str | Path, pcm: npt.NDArray[np.int16], sample_rate: int) -> None:
    """Write 16-bit PCM mono."""
    write_wav(path, "pcm16", sample_rate, pcm.astype("<i2").tobytes())
