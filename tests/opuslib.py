# SPDX-License-Identifier: Apache-2.0
"""libopus through ctypes, for the tests only: an encoder that makes the Opus streams the
filter is fed (any mode, frame size, bitrate, FEC) and an independent decoder that listens to
what the filter put out."""

from __future__ import annotations

import ctypes
import ctypes.util

import numpy as np
import numpy.typing as npt

_lib = ctypes.CDLL(ctypes.util.find_library("opus") or "libopus.so.0")
_lib.opus_encoder_create.restype = ctypes.c_void_p
_lib.opus_encoder_create.argtypes = [
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.POINTER(ctypes.c_int),
]
_lib.opus_encode.argtypes = [
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_int,
    ctypes.c_char_p,
    ctypes.c_int,
]
_lib.opus_decoder_create.restype = ctypes.c_void_p
_lib.opus_decoder_create.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
_lib.opus_decode.argtypes = [
    ctypes.c_void_p,
    ctypes.c_char_p,
    ctypes.c_int,
    ctypes.c_void_p,
    ctypes.c_int,
    ctypes.c_int,
]
_lib.opus_packet_pad.argtypes = [ctypes.c_char_p, ctypes.c_int32, ctypes.c_int32]
_lib.opus_encoder_destroy.argtypes = [ctypes.c_void_p]
_lib.opus_decoder_destroy.argtypes = [ctypes.c_void_p]

APPLICATION_VOIP, APPLICATION_AUDIO = 2048, 2049
SET_BITRATE, SET_INBAND_FEC, SET_PACKET_LOSS_PERC = 4002, 4012, 4014
SET_BANDWIDTH = 4008
SET_DTX = 4016
SET_FORCE_MODE = 11002  # libopus's private control: SILK, hybrid or CELT on demand
MODES = {"silk": 1000, "hybrid": 1001, "celt": 1002}
# Hybrid exists only above wideband: SILK wideband, hybrid super-wideband, CELT as libopus
# picks for the bitrate (forcing fullband on a 16 kbit/s CELT stream is a gateway's worst case).
BANDWIDTHS = {"silk": 1103, "hybrid": 1104, "celt": -1000}
TOC_MODES = {"silk": range(0, 12), "hybrid": range(12, 16), "celt": range(16, 32)}


class Encoder:
    def __init__(
        self,
        mode: str,
        bitrate: int,
        rate: int = 48000,
        fec: bool = False,
        channels: int = 1,
        dtx: bool = False,
        bandwidth: int | None = None,
    ) -> None:
        err = ctypes.c_int()
        self._e = _lib.opus_encoder_create(rate, channels, APPLICATION_VOIP, ctypes.byref(err))
        assert err.value == 0
        self.rate, self.channels = rate, channels
        ctl = _lib.opus_encoder_ctl
        ctl(ctypes.c_void_p(self._e), SET_BITRATE, ctypes.c_int(bitrate))
        ctl(ctypes.c_void_p(self._e), SET_FORCE_MODE, ctypes.c_int(MODES[mode]))
        bw = BANDWIDTHS[mode] if bandwidth is None else bandwidth  # -1000: auto
        ctl(ctypes.c_void_p(self._e), SET_BANDWIDTH, ctypes.c_int(bw))
        self.mode = mode
        if fec:
            ctl(ctypes.c_void_p(self._e), SET_INBAND_FEC, ctypes.c_int(1))
            ctl(ctypes.c_void_p(self._e), SET_PACKET_LOSS_PERC, ctypes.c_int(20))
        if dtx:  # after 200 ms of silence, 1-byte frames (a TOC alone), a real one every 400 ms
            ctl(ctypes.c_void_p(self._e), SET_DTX, ctypes.c_int(1))

    def encode(self, pcm: npt.NDArray[np.int16]) -> bytes:
        pcm = np.ascontiguousarray(pcm, dtype=np.int16)
        out = ctypes.create_string_buffer(4000)
        n = _lib.opus_encode(self._e, pcm.ctypes.data, len(pcm) // self.channels, out, 4000)
        assert n > 0, n
        assert out.raw[0] >> 3 in TOC_MODES[self.mode], (self.mode, out.raw[0] >> 3)
        return out.raw[:n]

    def __del__(self) -> None:
        _lib.opus_encoder_destroy(self._e)


class Decoder:
    def __init__(self, rate: int = 48000, channels: int = 1) -> None:
        err = ctypes.c_int()
        self._d = _lib.opus_decoder_create(rate, channels, ctypes.byref(err))
        assert err.value == 0
        self.rate, self.channels = rate, channels

    def decode(
        self, packet: bytes | None, samples: int, fec: bool = False
    ) -> npt.NDArray[np.int16]:
        """One packet's audio (with `fec`: the `samples` before it, from its in-band FEC);
        raises on a decoder error (the stream would be invalid)."""
        out = np.zeros(samples * self.channels, np.int16)
        n = _lib.opus_decode(
            self._d, packet, len(packet) if packet else 0, out.ctypes.data, samples, int(fec)
        )
        if n < 0:
            raise ValueError(f"libopus refused a packet (error {n})")
        return out[: n * self.channels]

    def __del__(self) -> None:
        _lib.opus_decoder_destroy(self._d)


def rtp_stream(
    pcm48: npt.NDArray[np.int16],
    mode: str,
    frame_ms: float,
    bitrate: int,
    pt: int = 111,
    ts0: int = 0,
    seq0: int = 0,
    ssrc: int = 1,
    fec: bool = False,
    dtx: str = "",
    channels: int = 1,
    bandwidth: int | None = None,
) -> list[bytes]:
    """48 kHz audio (interleaved if `channels` is 2) as an Opus RTP stream: one packet per
    `frame_ms`, marker on the first.
    `dtx`: "send" codes silence with DTX and sends its 1-byte frames; "skip" does not send
    them, as most senders do (a gap in the timestamps, none in the sequence numbers, and the
    marker bit on the packet after it, RFC 3551). `bandwidth`: an OPUS_BANDWIDTH_* value
    instead of the mode's (1101 narrowband, 1102 mediumband, 1103 wideband)."""
    from pcifilter.rtp import RtpPacket

    enc = Encoder(mode, bitrate, fec=fec, dtx=bool(dtx), channels=channels, bandwidth=bandwidth)
    n = round(48 * frame_ms)  # 2.5 and 5 ms: CELT only
    out: list[bytes] = []
    gap = True
    for i in range(len(pcm48) // (n * channels)):
        payload = enc.encode(pcm48[i * n * channels : (i + 1) * n * channels])
        if dtx == "skip" and len(payload) <= 2:
            gap = True
            continue
        seq = (seq0 + len(out)) & 0xFFFF
        out.append(
            RtpPacket(pt, gap, seq, (ts0 + i * n) & 0xFFFFFFFF, ssrc, payload=payload).serialize()
        )
        gap = False
    return out


_lib.opus_encoder_ctl.restype = ctypes.c_int
GET_LOOKAHEAD = 4027


def pad(packet: bytes, extra: int) -> bytes:
    """The packet with `extra` bytes of Opus padding (libopus's opus_packet_pad: code 3),
    where Opus 1.5 carries deep redundancy (DRED)."""
    buf = ctypes.create_string_buffer(packet, len(packet) + extra)
    if _lib.opus_packet_pad(buf, len(packet), len(packet) + extra) != 0:
        raise ValueError("opus_packet_pad refused the packet")
    return buf.raw


def upsample6(x: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """8 kHz to 48 kHz, band-limited (FFT zero-padding: the test signals start and end in
    silence, so treating them as periodic is harmless)."""
    n = len(x)
    spec = np.fft.rfft(x.astype(np.float64))
    y = np.fft.irfft(spec, 6 * n) * 6
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


def round_trip(
    x8: npt.NDArray[np.int16], mode: str, frame_ms: int, bitrate: int
) -> npt.NDArray[np.int16]:
    """8 kHz audio through Opus as a gateway would code it (48 kHz, the given mode, frame
    size and bitrate) and back, decoded at 8 kHz, time-aligned with the input (the codec's
    look-ahead removed)."""
    enc = Encoder(mode, bitrate)
    look = ctypes.c_int()
    _lib.opus_encoder_ctl(ctypes.c_void_p(enc._e), GET_LOOKAHEAD, ctypes.byref(look))
    x = upsample6(x8)
    n = 48 * frame_ms
    x = np.concatenate([x, np.zeros(-len(x) % n + n, np.int16)])
    dec = Decoder(8000)
    y = np.concatenate([dec.decode(enc.encode(x[i : i + n]), n // 6) for i in range(0, len(x), n)])
    skip = look.value // 6
    return y[skip : skip + len(x8)]


# Ogg Opus (RFC 7845) through libogg, so that opus-tools' `opusdec` can read a stream.
_ogg = ctypes.CDLL(ctypes.util.find_library("ogg") or "libogg.so.0")


class _OggPacket(ctypes.Structure):
    _fields_ = [
        ("packet", ctypes.c_void_p),
        ("bytes", ctypes.c_long),
        ("b_o_s", ctypes.c_long),
        ("e_o_s", ctypes.c_long),
        ("granulepos", ctypes.c_int64),
        ("packetno", ctypes.c_int64),
    ]


class _OggPage(ctypes.Structure):
    _fields_ = [
        ("header", ctypes.POINTER(ctypes.c_ubyte)),
        ("header_len", ctypes.c_long),
        ("body", ctypes.POINTER(ctypes.c_ubyte)),
        ("body_len", ctypes.c_long),
    ]


def write_ogg_opus(path: str, packets: list[bytes], samples_48k: list[int]) -> None:
    """An Ogg Opus file of mono `packets` (each `samples_48k` long at 48 kHz)."""
    state = ctypes.create_string_buffer(4096)  # ogg_stream_state, opaque here
    assert _ogg.ogg_stream_init(state, 0x5049) == 0
    head = b"OpusHead" + bytes([1, 1]) + (0).to_bytes(2, "little")
    head += (48000).to_bytes(4, "little") + (0).to_bytes(2, "little") + bytes([0])
    vendor = b"pcifilter tests"
    tags = b"OpusTags" + len(vendor).to_bytes(4, "little") + vendor + (0).to_bytes(4, "little")
    out = bytearray()
    granule = 0
    keep = []  # the packet buffers must live until libogg has copied them out

    def put(data: bytes, bos: bool, eos: bool, packetno: int, flush: bool) -> None:
        buf = ctypes.create_string_buffer(data, len(data))
        keep.append(buf)
        op = _OggPacket(
            ctypes.cast(buf, ctypes.c_void_p), len(data), int(bos), int(eos), granule, packetno
        )
        assert _ogg.ogg_stream_packetin(state, ctypes.byref(op)) == 0
        page = _OggPage()
        out_fn = _ogg.ogg_stream_flush if flush else _ogg.ogg_stream_pageout
        while out_fn(state, ctypes.byref(page)) != 0:
            out.extend(ctypes.string_at(page.header, page.header_len))
            out.extend(ctypes.string_at(page.body, page.body_len))

    put(head, True, False, 0, True)
    put(tags, False, False, 1, True)
    for i, (p, n) in enumerate(zip(packets, samples_48k, strict=True)):
        granule += n
        last = i == len(packets) - 1
        put(p, False, last, i + 2, last)
    _ogg.ogg_stream_clear(state)
    with open(path, "wb") as f:
        f.write(out)
