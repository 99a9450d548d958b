/* SPDX-License-Identifier: Apache-2.0 */
/* pcifilter C API: scrub keypresses out of telephone audio and RTP, without Python.
 *
 * Two objects, each for one stream and not shared between threads without a lock of yours:
 *   pcifilter_stream    one direction of a call's RTP (G.711 or Opus, RFC 4733), packets in and out;
 *   pcifilter_scrubber  int16 audio frames in and out (8000, 16000 or 48000 Hz).
 * Functions return 0 on success and a negative value on bad arguments; the data path never
 * fails (malformed packets are counted and dropped). Digits leave only through
 * pcifilter_stream_poll_event / pcifilter_scrubber_poll_event: card data, handle with care.
 */
#ifndef PCIFILTER_H
#define PCIFILTER_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define PCIFILTER_API __declspec(dllexport)
#else
#define PCIFILTER_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum pcifilter_mode { PCIFILTER_MODE_SILENCE = 0, PCIFILTER_MODE_NOISE = 1, PCIFILTER_MODE_TONE = 2 };
/* Telephone-event packets while filtering is on: dropped (later sequence numbers renumbered)
 * or replaced by audio packets of the masking signal. */
enum pcifilter_te_action { PCIFILTER_TE_DROP = 0, PCIFILTER_TE_REPLACE = 1 };

typedef struct pcifilter_config {
    int sample_rate;          /* scrubber: 8000, 16000 or 48000; Opus stream: the decode rate */
    double lookahead_ms;      /* default 40 */
    int mode;                 /* enum pcifilter_mode */
    int telephone_event_pt;   /* stream only: default 101, -1 for none */
    int pcmu_pt, pcma_pt, cn_pt; /* stream only: defaults 0, 8, 13 */
    int telephone_events;     /* stream only: enum pcifilter_te_action, default DROP */
    int opus_pt;              /* stream only: Opus payload type (RFC 7587), -1 (default): a
                                 G.711 stream. An Opus stream is decoded at sample_rate (8000
                                 or 16000); its RTP clock and its telephone-events' are 48 kHz */
    int opus_bitrate;         /* stream only: bitrate of re-encoded Opus packets, default 16000 */
    int pass_unknown_payloads; /* stream only: 0 (default): payload types the filter does not
                                  know are dropped while filtering is on; 1: they pass */
    int telephone_event_8000_pt; /* stream only: telephone-events at 8000 Hz beside Opus (SDP
                                    telephone-event/8000 where RFC 7587 has 48000): durations
                                    read in 8 kHz units; -1 (default) for none */
    double reorder_window_ms; /* stream only: audio held beyond a gap before the gap is taken
                                 for lost (a packet that fills it later is dropped as late);
                                 -1 (default): 20 ms; at most max_gap_ms */
    double max_gap_ms;        /* stream only: a longer jump in the timestamps restarts the
                                 stream instead of filling the gap; -1 (default): 2 s (1 s
                                 for an Opus stream decoded at 16000); at most 480,000
                                 samples at the stream's rate */
    int g711_beside_opus;     /* stream only: 1: an Opus stream (sample_rate 8000) also takes
                                 G.711 at pcmu_pt and pcma_pt (-1: none), for an answer that
                                 lists both: the sender may switch between them at any packet,
                                 each switch a new timeline (counted as "codec_switches");
                                 0 (default): an Opus stream ignores pcmu_pt and pcma_pt.
                                 Fields are added at the end: always start from
                                 pcifilter_config_init */
} pcifilter_config;

typedef struct pcifilter_event {
    int rfc4733;              /* 1: from RTP telephone-events, 0: found in the audio */
    char digit;               /* '0'-'9', '*', '#', 'A'-'D' */
    int64_t start, end;       /* samples on the stream's timeline */
    float level_dbm0;
    /* A stream filter's events, on the RTP stream (a scrubber's: 0): the SSRC of the audio
     * the keypress was in, the RTP timestamp of its first sample on the stream's clock (as
     * pcifilter_stream_mask and the masked spans; from telephone-events, the event's own)
     * and its length in clock units (from telephone-events, the duration when reported). */
    uint32_t ssrc, rtp_timestamp, rtp_duration;
    /* (Fields are added at the end while the library's ABI is version 0, SOVERSION 0: a
     * caller is compiled against the header of the library it runs with.) */
} pcifilter_event;

PCIFILTER_API const char* pcifilter_version(void);
/* The instruction set of the vector kernels in use: "portable", "avx2", "avxvnni",
 * "avx512vnni_ymm" or "avx512vnni". The widest this CPU runs well, unless the environment
 * variable PCIFILTER_ISA names another (narrowed to what the CPU runs; read once a process).
 * NULL when PCIFILTER_ISA names no set: creating a stream or scrubber then fails, saying so. */
PCIFILTER_API const char* pcifilter_isa(void);
PCIFILTER_API void pcifilter_config_init(pcifilter_config* config);

typedef struct pcifilter_stream pcifilter_stream;
/* NULL on a bad configuration; `error` (if not NULL) then gets the reason. A payload type
 * given to two kinds is one (e.g. cn_pt equal to pcmu_pt: the audio would pass as comfort
 * noise), as is telephone_event_8000_pt in a G.711 stream; an Opus stream ignores pcmu_pt
 * and pcma_pt unless g711_beside_opus. */
PCIFILTER_API pcifilter_stream* pcifilter_stream_create(const pcifilter_config* config,
                                                        char* error, size_t error_len);
/* The kinds of payload type a stream filter takes. */
enum pcifilter_payload_kind {
    PCIFILTER_PT_PCMU = 1,
    PCIFILTER_PT_PCMA = 2,
    PCIFILTER_PT_CN = 3,
    PCIFILTER_PT_TELEPHONE_EVENT = 4,
    PCIFILTER_PT_OPUS = 5,
    PCIFILTER_PT_TELEPHONE_EVENT_8000 = 6
};
/* pcifilter_stream_create, with `n` further payload types of kinds the config gives:
 * payload_types[i] of kinds[i] (enum pcifilter_payload_kind). An SDP may list a codec under
 * two numbers (Opus with two fmtp lines, a dynamic PCMU beside the static one) and its
 * sender may use either. A further G.711 type needs a G.711 stream or g711_beside_opus, a
 * further Opus or telephone-event/8000-beside-Opus type an Opus stream. */
PCIFILTER_API pcifilter_stream* pcifilter_stream_create_with_types(const pcifilter_config* config,
                                                                   const int* payload_types, const int* kinds,
                                                                   size_t n, char* error, size_t error_len);
PCIFILTER_API void pcifilter_stream_destroy(pcifilter_stream* s);
PCIFILTER_API int pcifilter_stream_set_filtering(pcifilter_stream* s, int on);
PCIFILTER_API int pcifilter_stream_push(pcifilter_stream* s, const uint8_t* packet, size_t len);
/* 1 and the packet in `out` (capacity `cap`, 1500 is always enough) when one is ready, else 0. */
PCIFILTER_API int pcifilter_stream_pop(pcifilter_stream* s, uint8_t* out, size_t cap, size_t* len);
PCIFILTER_API int pcifilter_stream_flush(pcifilter_stream* s);
/* The stream's media clock reached RTP `timestamp` (a live relay: on a timer, less its jitter
 * allowance): the audio the look-ahead holds is put out over a pause of the sender (DTX,
 * comfort noise, hold); ready packets are then taken with pcifilter_stream_pop. Audio that
 * comes later for time before `timestamp` is late (dropped). */
PCIFILTER_API int pcifilter_stream_advance(pcifilter_stream* s, uint32_t timestamp);
/* 1 and the event when one is waiting, else 0. */
PCIFILTER_API int pcifilter_stream_poll_event(pcifilter_stream* s, pcifilter_event* event);
PCIFILTER_API int64_t pcifilter_stream_delay(const pcifilter_stream* s);
/* The RTP clock (Hz) of the stream under way, which pcifilter_stream_advance and
 * pcifilter_stream_mask take and events' rtp_timestamp is on: 8000 (G.711) or 48000 (Opus);
 * with g711_beside_opus, of the family of the last audio packet pushed. -1 on NULL. */
PCIFILTER_API int pcifilter_stream_clock_rate(const pcifilter_stream* s);
/* Masks the audio from RTP timestamp `timestamp` for `duration` RTP clock units, exactly
   (Opus: rounded outward to whole samples at sample_rate), whatever is found in it, as far
   as it has not gone out yet (only while filtering is on and once the stream's first packet
   has come): 1 when all of it was still ahead of the output, else 0; -1 on a NULL stream. */
PCIFILTER_API int pcifilter_stream_mask(pcifilter_stream* s, uint32_t timestamp, uint32_t duration);
/* 1 and the next span where the output was masked (RTP timestamp and duration; Opus: whole
   packets) when one is waiting, else 0. 256 are kept undrained; past that the last
   stretches over the rest. */
PCIFILTER_API int pcifilter_stream_poll_masked(pcifilter_stream* s, uint32_t* timestamp,
                                               uint32_t* duration);
/* The stream's counters (packets in and out, dropped and why: "duplicates", "late",
   "unknown_dropped", "malformed_too_short", ...; the keys of the Python filter's `stats`):
   1 and the value of the one called `name`, 0 when there is none of that name, -1 on a NULL
   argument. pcifilter_stream_stat_name(i) is the i-th name, NULL past the last (to list
   them for monitoring). */
PCIFILTER_API int pcifilter_stream_stat(const pcifilter_stream* s, const char* name, uint64_t* value);
PCIFILTER_API const char* pcifilter_stream_stat_name(size_t i);

typedef struct pcifilter_scrubber pcifilter_scrubber;
PCIFILTER_API pcifilter_scrubber* pcifilter_scrubber_create(const pcifilter_config* config,
                                                            char* error, size_t error_len);
PCIFILTER_API void pcifilter_scrubber_destroy(pcifilter_scrubber* s);
/* n samples in, n samples out, delayed by pcifilter_scrubber_delay(). */
PCIFILTER_API int pcifilter_scrubber_process(pcifilter_scrubber* s, const int16_t* in, int16_t* out,
                                             size_t n);
/* End the stream: writes its last pcifilter_scrubber_delay() samples to out (cap: room in
 * out, in samples), keypresses in them masked, and a stream that ends in a keypress's start
 * masked at its end (padding with silence instead lets such a start out). Returns the number
 * of samples written, or -1 (NULL, or cap too small: nothing done). Events found are polled
 * as before; the scrubber then takes a new stream (its timeline from 0). */
PCIFILTER_API int64_t pcifilter_scrubber_flush(pcifilter_scrubber* s, int16_t* out, size_t cap);
PCIFILTER_API int pcifilter_scrubber_set_masking(pcifilter_scrubber* s, int on);
/* The edge guards, on by default: a stream that starts or ends on sound (or loud, or like a
 * keypress) has up to 120 ms masked there, where it may cut a keypress too short for the
 * detector. Off for a caller that guards its streams' edges itself. Applies to the edges
 * not yet decided: a stream's start until its first 10 ms are in, its end until flush.
 * (A function, not a pcifilter_config field: the struct's size stays as callers have it.)
 * Returns 0, or -1 for NULL. */
PCIFILTER_API int pcifilter_scrubber_set_guard_edges(pcifilter_scrubber* s, int on);
PCIFILTER_API int pcifilter_scrubber_poll_event(pcifilter_scrubber* s, pcifilter_event* event);
PCIFILTER_API int64_t pcifilter_scrubber_delay(const pcifilter_scrubber* s);

#ifdef __cplusplus
}
#endif

#endif /* PCIFILTER_H */
