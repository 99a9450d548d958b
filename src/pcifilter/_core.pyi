"""
pcifilter C++ core: G.711, DTMF/tone detection and leak-free masking
"""

from __future__ import annotations
import collections.abc
import numpy
import numpy.typing
import typing

__all__: list[str] = [
    "ALAW_SILENCE",
    "Capture",
    "CaptureFlow",
    "Config",
    "Detector",
    "Scrubber",
    "ScrubberBank",
    "StreamFilter",
    "TelephoneEventTracker",
    "ToneEvent",
    "ToneSpec",
    "ULAW_SILENCE",
    "alaw_decode",
    "alaw_encode",
    "bank_isa",
    "bank_isas_run",
    "cpu_bank_isa",
    "default_tones",
    "detect_array",
    "detect_many",
    "mask_card_numbers",
    "mask_srtp_keys",
    "opus_decode_packets",
    "opus_rtp_packets",
    "parse_opus_packet",
    "parse_rtp",
    "rtp_drop_reasons",
    "scrub_array",
    "scrub_many",
    "time_correlator_kernels",
    "time_opus_filter",
    "time_stream_filter",
    "udp_checksum",
    "ulaw_decode",
    "ulaw_encode",
]

class ToneEvent:
    """
    A detected keypress or tone. `digit` is card data: it is never shown by repr() or str().
    """
    def __copy__(self) -> ToneEvent: ...
    def __deepcopy__(self, memo: dict[typing.Any, typing.Any]) -> ToneEvent: ...
    def __getstate__(self) -> tuple[typing.Any, ...]: ...
    def __repr__(self) -> str: ...
    def __setstate__(self, arg0: tuple[typing.Any, ...]) -> None: ...
    def __str__(self) -> str: ...
    @property
    def digit(self) -> str | None:
        """
        The key pressed ('0'-'9', '*', '#', 'A'-'D'), or None for tones and for keypresses whose digit was withheld (digit_withheld). Card data.
        """
    @property
    def digit_withheld(self) -> bool:
        """
        True for a keypress that came through pickle (a worker process's result, a cache): a pickle keeps everything but the digit.
        """
    @property
    def duration_ms(self) -> float: ...
    @property
    def end(self) -> int:
        """
        one past the last sample of the tone (at sample_rate)
        """
    @property
    def end_ms(self) -> float: ...
    @property
    def kind(self) -> str: ...
    @property
    def level_dbm0(self) -> float:
        """
        mean level per tone, dBm0
        """
    @property
    def name(self) -> str:
        """
        'dtmf' for keypresses, else the configured tone's name
        """
    @property
    def rtp_duration(self) -> int | None:
        """
        From an RTP stream filter: its length in RTP clock units (from telephone-events, the duration the event had when reported); else None.
        """
    @property
    def rtp_timestamp(self) -> int | None:
        """
        From an RTP stream filter: the RTP timestamp of its first sample, on the stream's clock (as take_masked() and mask()); from telephone-events, the event's own; else None.
        """
    @property
    def sample_rate(self) -> int: ...
    @property
    def ssrc(self) -> int | None:
        """
        From an RTP stream filter: the SSRC of the audio it was in; else None.
        """
    @property
    def start(self) -> int:
        """
        first sample of the tone (at sample_rate)
        """
    @property
    def start_ms(self) -> float: ...
    @property
    def twist_db(self) -> float:
        """
        high-group minus low-group level, dB (DTMF only)
        """

class ToneSpec:
    """
    A single- or dual-frequency tone to detect.
    """
    def __init__(
        self,
        name: str,
        freq1_hz: typing.SupportsFloat | typing.SupportsIndex,
        freq2_hz: typing.SupportsFloat | typing.SupportsIndex = 0.0,
        min_duration_ms: typing.SupportsFloat | typing.SupportsIndex = 100.0,
        min_level_dbm0: typing.SupportsFloat | typing.SupportsIndex = -40.0,
        tolerance: typing.SupportsFloat | typing.SupportsIndex = 0.02,
        max_dropout_ms: typing.SupportsFloat | typing.SupportsIndex = 30.0,
    ) -> None: ...
    def __repr__(self) -> str: ...
    @property
    def freq1_hz(self) -> float: ...
    @property
    def freq2_hz(self) -> float: ...
    @property
    def max_dropout_ms(self) -> float: ...
    @property
    def min_duration_ms(self) -> float: ...
    @property
    def min_level_dbm0(self) -> float: ...
    @property
    def name(self) -> str: ...
    @property
    def tolerance(self) -> float: ...

class Config:
    """
    Every tunable of one stream. Checked when a stream is built.
    """

    guard_edges: bool
    mask_tones: bool
    mode: str
    def __init__(self) -> None: ...
    def validate(self) -> None: ...
    @property
    def hangover_ms(self) -> float: ...
    @hangover_ms.setter
    def hangover_ms(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def lead_ms(self) -> float: ...
    @lead_ms.setter
    def lead_ms(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def lookahead_ms(self) -> float: ...
    @lookahead_ms.setter
    def lookahead_ms(self, arg0: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def mask_min_energy_ratio(self) -> float: ...
    @mask_min_energy_ratio.setter
    def mask_min_energy_ratio(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def mask_min_level_dbm0(self) -> float: ...
    @mask_min_level_dbm0.setter
    def mask_min_level_dbm0(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def mask_weak_energy_ratio(self) -> float: ...
    @mask_weak_energy_ratio.setter
    def mask_weak_energy_ratio(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def max_dropout_ms(self) -> float: ...
    @max_dropout_ms.setter
    def max_dropout_ms(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def max_freq_error(self) -> float: ...
    @max_freq_error.setter
    def max_freq_error(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def max_harmonic_db(self) -> float: ...
    @max_harmonic_db.setter
    def max_harmonic_db(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def max_reverse_twist_db(self) -> float: ...
    @max_reverse_twist_db.setter
    def max_reverse_twist_db(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def max_twist_db(self) -> float: ...
    @max_twist_db.setter
    def max_twist_db(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def min_duration_ms(self) -> float: ...
    @min_duration_ms.setter
    def min_duration_ms(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def min_energy_ratio(self) -> float: ...
    @min_energy_ratio.setter
    def min_energy_ratio(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def min_level_dbm0(self) -> float: ...
    @min_level_dbm0.setter
    def min_level_dbm0(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def noise_max_dbm0(self) -> float: ...
    @noise_max_dbm0.setter
    def noise_max_dbm0(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def ramp_ms(self) -> float: ...
    @ramp_ms.setter
    def ramp_ms(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def sample_rate(self) -> int: ...
    @sample_rate.setter
    def sample_rate(self, arg0: typing.SupportsInt | typing.SupportsIndex) -> None: ...
    @property
    def tone_dbm0(self) -> float: ...
    @tone_dbm0.setter
    def tone_dbm0(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def tone_hz(self) -> float: ...
    @tone_hz.setter
    def tone_hz(self, arg1: typing.SupportsFloat | typing.SupportsIndex) -> None: ...
    @property
    def tones(self) -> list[ToneSpec]: ...
    @tones.setter
    def tones(self, arg0: collections.abc.Sequence[ToneSpec]) -> None: ...

class Detector:
    """
    Streaming detection of keypresses and tones (no audio out).
    """
    def __init__(self, config: Config) -> None: ...
    def flush(self) -> list[ToneEvent]:
        """
        End the stream: returns the last events and resets.
        """
    def process(self, pcm: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]]) -> list[ToneEvent]:
        """
        Feed int16 samples of any length; returns the events completed so far.
        """
    @property
    def sample_rate(self) -> int: ...

class Scrubber:
    """
    One stream's scrubber: int16 frames in, the same number of samples out, delayed by `delay` samples, with every keypress masked.
    """
    def __init__(self, config: Config) -> None: ...
    def flush(self) -> numpy.typing.NDArray[numpy.int16]:
        """
        End the stream: returns the last `delay` samples; what comes next is a new stream.
        """
    def process(
        self, pcm: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], out: typing.Any = None
    ) -> numpy.typing.NDArray[numpy.int16]:
        """
        Samples in, as many out (delayed); into `out` when given (no allocation), which is returned.
        """
    def reset(self) -> None: ...
    def take_events(self) -> list[ToneEvent]:
        """
        Events completed since the last call.
        """
    def take_spans(self) -> list[tuple[int, int]]:
        """
        Masked spans (start, end) in input samples completed since the last call.
        """
    @property
    def delay(self) -> int: ...
    @property
    def masking(self) -> bool:
        """
        Switch masking on or off; takes effect from the next sample.
        """
    @masking.setter
    def masking(self, arg1: bool) -> None: ...
    @property
    def sample_rate(self) -> int: ...
    @property
    def state_bytes(self) -> int:
        """
        Bytes of per-stream state, look-ahead included.
        """
    @property
    def stats(self) -> dict[str, int]: ...

class ScrubberBank:
    """
    Many independent streams, one frame each per call.
    """
    def __init__(
        self, n_streams: typing.SupportsInt | typing.SupportsIndex, config: Config
    ) -> None: ...
    def __len__(self) -> int: ...
    def flush(
        self, stream: typing.SupportsInt | typing.SupportsIndex
    ) -> numpy.typing.NDArray[numpy.int16]:
        """
        End one stream: its last `delay` samples; its slot then takes a new stream.
        """
    def process(
        self, frames: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], out: typing.Any = None
    ) -> numpy.typing.NDArray[numpy.int16]:
        """
        Each stream's frame in (a row), as many samples out (delayed); into `out` when given (no allocation), which is returned.
        """
    def set_masking(self, stream: typing.SupportsInt | typing.SupportsIndex, on: bool) -> None: ...
    def take_events(self) -> list[list[ToneEvent]]:
        """
        Per stream: events since the last call.
        """
    @property
    def delay(self) -> int: ...

class TelephoneEventTracker:
    """
    RFC 4733 keypress recognition: every packet classified, each keypress reported once.
    """
    def __init__(
        self, reorder_window: typing.SupportsInt | typing.SupportsIndex = 8000
    ) -> None: ...
    def on_packet(
        self,
        payload: bytes,
        timestamp: typing.SupportsInt | typing.SupportsIndex,
        clock_rate: typing.SupportsInt | typing.SupportsIndex = 8000,
    ) -> list[tuple[str, ToneEvent | None]]:
        """
        Classify each event of one telephone-event packet (RFC 4733 packs several back to back, section 2.5.1.5): a list of ('new'|'update'|'end_repeat'|'continuation'|'stale', the keypress if new), in order.
        """
    def reset(self) -> None: ...

class StreamFilter:
    """
    One direction of a call's RTP: G.711 or Opus scrubbed, RFC 4733 events captured and taken out while filtering is on.
    """

    filtering: bool
    def __init__(
        self,
        config: Config,
        telephone_event_pt: typing.SupportsInt | typing.SupportsIndex = 101,
        pcmu_pt: typing.SupportsInt | typing.SupportsIndex = 0,
        pcma_pt: typing.SupportsInt | typing.SupportsIndex = 8,
        cn_pt: typing.SupportsInt | typing.SupportsIndex = 13,
        telephone_events: str = "drop",
        opus_pt: typing.SupportsInt | typing.SupportsIndex = -1,
        opus_bitrate: typing.SupportsInt | typing.SupportsIndex = 16000,
        pass_unknown_payloads: bool = False,
        telephone_event_8000_pt: typing.SupportsInt | typing.SupportsIndex = -1,
        reorder_window_ms: typing.SupportsFloat | typing.SupportsIndex | None = None,
        max_gap_ms: typing.SupportsFloat | typing.SupportsIndex | None = None,
        g711_beside_opus: bool = False,
        more_payload_types: collections.abc.Sequence[
            tuple[typing.SupportsInt | typing.SupportsIndex, str]
        ] = [],
    ) -> None: ...
    def advance(self, timestamp: typing.SupportsInt | typing.SupportsIndex) -> list[bytes]:
        """
        The stream's media clock reached RTP `timestamp`: the packets that became ready.
        """
    def flush(self) -> list[bytes]:
        """
        End of stream: every packet still held.
        """
    def guard_ends(self, start: bool, end: bool) -> None:
        """
        For a stream that is one part of a longer one (a capture's flow that another SSRC continues on the same path, or that continues one): while filtering, its first (start) or last (end) 40 ms are masked whatever is in them.
        """
    def mask(
        self,
        timestamp: typing.SupportsInt | typing.SupportsIndex,
        duration: typing.SupportsInt | typing.SupportsIndex,
    ) -> bool:
        """
        Masks the audio from RTP timestamp `timestamp` for `duration` RTP clock units, exactly, as far as it has not gone out yet (only while filtering, once a stream has started); whether all of it was still ahead of the output.
        """
    def process(self, packets: typing.Any) -> list[bytes]:
        """
        Packets in (one bytes-like packet or an iterable of them); the packets that became ready, in order.
        """
    def take_events(self) -> list[ToneEvent]: ...
    def take_masked(self) -> list[tuple[int, int]]:
        """
        Where the output was masked since the last call: (RTP timestamp, duration) pairs.
        """
    @property
    def clock_rate(self) -> int:
        """
        RTP clock of the timeline under way (8000 or 48000)
        """
    @property
    def delay(self) -> int:
        """
        look-ahead delay in samples
        """
    @property
    def stats(self) -> dict[str, int]: ...

class CaptureFlow:
    """
    One RTP flow of a capture: addresses, ports, SSRC.
    """
    def __len__(self) -> int: ...
    @property
    def dport(self) -> int: ...
    @property
    def dst(self) -> bytes: ...
    @property
    def event_like(self) -> int:
        """
        frames whose payload reads as an RFC 4733 DTMF event packet continuing the one before (4 bytes, event 0-15, the same timestamp), whatever the payload type
        """
    @property
    def family(self) -> int:
        """
        4 or 6
        """
    @property
    def first_frame(self) -> int:
        """
        index of its first frame in the capture
        """
    @property
    def frames(self) -> list[int]:
        """
        its frames' indices in the capture, in capture order
        """
    @property
    def last_frame(self) -> int:
        """
        index of its last frame in the capture
        """
    @property
    def payload_types(self) -> list[int]:
        """
        frames of each payload type (128 counts)
        """
    @property
    def sport(self) -> int: ...
    @property
    def src(self) -> bytes: ...
    @property
    def ssrc(self) -> int: ...

class Capture:
    """
    A pcap/pcapng capture read into memory (libpcap): UDP datagrams located, SIP messages marked, RTP grouped into flows; flows scrubbed and the capture written back in its own format.
    """
    def __init__(self, path: str) -> None: ...
    def __len__(self) -> int: ...
    def flows(self) -> list[CaptureFlow]:
        """
        RTP flows (one direction of one SSRC), in order of their first frame.
        """
    def leave_out(self, flow: typing.SupportsInt | typing.SupportsIndex) -> int:
        """
        Leaves a flow's frames out of the output (the flow counts as scrubbed); returns how many frames.
        """
    def mask_card_numbers(self) -> int:
        """
        Card numbers in clear anywhere but the audio (13-19 digits in groups, a card scheme's prefix, the Luhn check; in UDP datagrams that are not RTP, and in TCP connections, each direction's segments joined in sequence order; as written) replaced by 'X' in place; returns how many.
        """
    def redact_h245_user_input(self) -> int:
        """
        H.323's keypresses (H.245 UserInputIndication: alphanumeric, signal, extendedAlphanumeric; on its own TCP connection or tunnelled in H.225.0) replaced by 'X' in place; returns how many messages.
        """
    def redact_pbx_digits(self) -> int:
        """
        A PBX event channel's keypress values (AMI, ESL, ARI forms) in every TCP connection's streams replaced by 'X' in place (connections caught mid-stream); returns how many.
        """
    def redact_srtp_keys(self) -> int:
        """
        SRTP keys of SDP text (a=crypto inline keys, a=key-mgmt data) in every non-RTP UDP datagram and TCP connection's streams replaced by 'X' in place; returns how many.
        """
    def redact_text(self, dtmf: bool, cards: bool) -> tuple[int, int, int, int]:
        """
        The four sweeps above in one pass, in the order H.245 and the PBX forms (when dtmf), SRTP keys, card numbers (when cards): (H.245 messages, PBX keypress values, SRTP keys, card numbers) found.
        """
    def relay_messages(self) -> list[tuple[int, bytes]]:
        """
        (frame index, payload) of each UDP datagram, not RTP, that may hold a media relay's control message or DTMF log (rtpengine's ng protocol: a cookie, a space, a bencoded or JSON dictionary; or JSON naming "DTMF"), in capture order.
        """
    def remove_fragment(self, frame: typing.SupportsInt | typing.SupportsIndex) -> None:
        """
        Leaves a UDP fragment (a frame listed by udp_fragments) out of the output.
        """
    def remove_tcp_port(self, port: typing.SupportsInt | typing.SupportsIndex) -> int:
        """
        Leaves out every TCP segment with a payload from or to the port (RTP over TCP), but those replaced already; returns how many.
        """
    def remove_udp_port(self, port: typing.SupportsInt | typing.SupportsIndex) -> int:
        """
        Leaves out every whole UDP datagram from or to the port (IAX2: calls the capture cannot scrub), but those replaced already; returns how many.
        """
    def replace_payload(
        self, frame: typing.SupportsInt | typing.SupportsIndex, payload: bytes
    ) -> None:
        """
        A new UDP payload for a frame outside the scrubbed flows (lengths and checksums are made valid when written), or a TCP segment's new payload of the same length, or a UDP fragment's new data of the same length (written as given).
        """
    @typing.overload
    def scrub(
        self, flow: typing.SupportsInt | typing.SupportsIndex, filter: StreamFilter
    ) -> tuple[int, int]:
        """
        Runs the flow's frames through the filter (then flushes it); returns (packets in, packets out).
        """
    @typing.overload
    def scrub(
        self,
        flows: collections.abc.Sequence[typing.SupportsInt | typing.SupportsIndex],
        filter: StreamFilter,
    ) -> tuple[int, int]:
        """
        Runs several flows of one path through one filter, their frames in capture order (telephone-events under an SSRC of their own beside the audio's); returns (packets in, packets out).
        """
    def sip_messages(self) -> list[tuple[int, bytes]]:
        """
        (frame index, payload) of each UDP datagram or TCP segment that starts a SIP message, or UDP datagram that starts a HEP packet (Homer's encapsulation: HEP3, or versions 1 and 2 holding SIP), in capture order.
        """
    def sip_tcp_segments(self) -> list[tuple[int, int, int, bytes, bool]]:
        """
        (frame index, connection number, sequence number, payload, websocket) of every payload-carrying segment of each TCP connection (one direction) that carries SIP, in capture order; websocket: the segment starts a WebSocket handshake naming the 'sip' subprotocol or a data frame holding SIP (RFC 7118), or is the server's 101 after a client's GET /ari/events (Asterisk's ARI events).
        """
    def udp_fragments(self) -> list[tuple[int, int, bytes, bytes, int, int, bool, bytes, int]]:
        """
        (frame index, family, source, destination, identification, offset, more fragments, data, protocol) of every fragment of a fragmented UDP datagram (protocol 17) or tunnel packet (4, 41, 47: IP in IP, GRE), in capture order; the data of the fragment at offset 0 begins with the UDP (or GRE, or inner IP) header.
        """
    def udp_payload(self, frame: typing.SupportsInt | typing.SupportsIndex) -> bytes:
        """
        The UDP payload of a frame as captured (a flow's RTP packet, say); b'' for a frame with none.
        """
    def write(self, path: str) -> int:
        """
        Writes the capture, scrubbed flows replaced; returns the frames written.
        """
    @property
    def linktype(self) -> int: ...
    @property
    def pcapng(self) -> bool: ...
    @property
    def sip_over_sctp(self) -> int:
        """
        Frames of SIP over SCTP: their keypresses and keys are not read, so they are not written.
        """
    @property
    def too_deep(self) -> int:
        """
        Frames whose packet lies inside more than two tunnels: what they hold cannot be scrubbed, so they are not written.
        """
    @property
    def udp_frames(self) -> int: ...

def alaw_decode(codes: typing.Any) -> numpy.typing.NDArray[numpy.int16]:
    """
    Decode G.711 A-law codes (uint8 array or bytes) to int16 PCM.
    """

def alaw_encode(
    pcm: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]],
) -> numpy.typing.NDArray[numpy.uint8]:
    """
    Encode int16 PCM to G.711 A-law codes (ITU-T G.191 reference behaviour).
    """

def bank_isa() -> str:
    """
    The instruction set of the DTMF correlator kernels in use: 'avx512vnni', 'avx512vnni_ymm' (256-bit registers only: CPUs whose clock drops under 512-bit multiplies), 'avxvnni' (VEX form, no AVX-512), 'avx2' or 'portable'. Picked at run time: the environment variable PCIFILTER_ISA when set (narrowed to what this CPU runs), else cpu_bank_isa(); every set gives the same results. ValueError when PCIFILTER_ISA names no set.
    """

def bank_isas_run() -> list[str]:
    """
    The instruction sets of the correlator kernels this CPU runs, narrowest first.
    """

def cpu_bank_isa() -> str:
    """
    The widest instruction set this CPU runs well, whatever PCIFILTER_ISA says.
    """

def default_tones() -> list[ToneSpec]:
    """
    Fax CNG (1100 Hz) and CED/ANS (2100 Hz).
    """

def detect_array(
    pcm: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], config: Config
) -> list[ToneEvent]: ...
def detect_many(
    pcm: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], config: Config
) -> list[list[ToneEvent]]: ...
def mask_card_numbers(data: bytes) -> tuple[bytes, int]:
    """
    `data` with each payment card number in it (13-19 digits in groups with single spaces or dashes or none, e-mail's soft line breaks among them, a card scheme's prefix, the Luhn check; written in base64, hex or UTF-16 too) replaced by 'X', and how many there were.
    """

def mask_srtp_keys(data: bytes) -> tuple[bytes, int]:
    """
    `data` with each SRTP key of SDP text in it (a=crypto inline keys, a=key-mgmt data, wherever they are) replaced by 'X', and how many there were.
    """

def opus_decode_packets(
    packets: collections.abc.Sequence[bytes],
    sample_rate: typing.SupportsInt | typing.SupportsIndex = 48000,
) -> int:
    """
    Decodes the Opus RTP packets (12-byte headers) with a fresh libopus decoder, output dropped: the reference path of the Opus benchmarks. Returns the packet count.
    """

def opus_rtp_packets(
    pcm: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]],
    application: str = "celt",
    bitrate: typing.SupportsInt | typing.SupportsIndex = 24000,
    payload_type: typing.SupportsInt | typing.SupportsIndex = 111,
) -> list[bytes]:
    """
    8 kHz int16 audio as 20 ms mono Opus RTP packets (libopus at 48 kHz, the samples repeated; 'celt': restricted low delay, CELT-only; 'voip': SILK/hybrid), SSRC 7: test streams for the benchmarks.
    """

def parse_opus_packet(packet: bytes) -> dict[str, typing.Any]:
    """
    The TOC and frame layout of an Opus packet (RFC 6716 section 3).
    """

def parse_rtp(packet: bytes) -> dict[str, typing.Any]:
    """
    Parse and validate one RTP packet; ValueError says what is wrong.
    """

def rtp_drop_reasons() -> list[str]:
    """
    Names of the reasons a malformed packet is dropped (counters use them).
    """

def scrub_array(
    pcm: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], config: Config
) -> tuple[
    numpy.typing.NDArray[numpy.int16], list[ToneEvent], list[tuple[int, int]], dict[str, int]
]: ...
def scrub_many(
    pcm: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]], config: Config
) -> tuple[
    numpy.typing.NDArray[numpy.int16], list[list[ToneEvent]], list[list[tuple[int, int]]]
]: ...
def time_correlator_kernels(
    pcm: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]],
    rounds: typing.SupportsInt | typing.SupportsIndex = 5,
) -> dict[str, float]:
    """
    Best time in ns per 5 ms sub-block of the DTMF correlator bank's fused pass over 8 kHz int16 audio, four sub-blocks a call as the detector takes a 20 ms frame, with the kernels of each instruction set this CPU runs, taking turns (GIL released): a dict by set name.
    """

def time_opus_filter(
    packets: collections.abc.Sequence[bytes],
    rounds: typing.SupportsInt | typing.SupportsIndex = 5,
    payload_type: typing.SupportsInt | typing.SupportsIndex = 111,
) -> dict[str, float]:
    """
    Best time in ns per packet of a plain libopus decode at 48 kHz, one at 8 kHz, and a fresh C++ StreamFilter (Opus at `payload_type`, filtering on) over the same RTP packets, taking turns, GIL released; with the packets re-encoded by the filter.
    """

def time_stream_filter(
    packets: collections.abc.Sequence[bytes], rounds: typing.SupportsInt | typing.SupportsIndex = 5
) -> float:
    """
    Best time in ns per packet of a fresh C++ StreamFilter (defaults: PCMU 0, telephone-event 101, filtering on) over the packets, timed in C++ with the GIL released: the filter's own cost, for `pcifilter bench`.
    """

def udp_checksum(src: bytes, dst: bytes, datagram: bytes) -> int:
    """
    RFC 768 checksum of a whole UDP datagram (its own checksum field counted as zero) with the pseudo-header of its addresses; a computed 0 is returned as 0xFFFF.
    """

def ulaw_decode(codes: typing.Any) -> numpy.typing.NDArray[numpy.int16]:
    """
    Decode G.711 µ-law codes (uint8 array or bytes) to int16 PCM.
    """

def ulaw_encode(
    pcm: numpy.ndarray[typing.Any, numpy.dtype[typing.Any]],
) -> numpy.typing.NDArray[numpy.uint8]:
    """
    Encode int16 PCM to G.711 µ-law codes (ITU-T G.191 reference behaviour).
    """

ALAW_SILENCE: int = 213
ULAW_SILENCE: int = 255
__version__: str = "0.1.0"
