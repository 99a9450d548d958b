/* SPDX-License-Identifier: Apache-2.0 */
/* A media server's use of libpcifilter, in plain C: build 2 s of PCMU RTP in which the caller
 * keys "123" (in-band tones plus RFC 4733 telephone-events), run it through a stream filter,
 * and check what comes out: every audio packet, in order, no telephone-event, and the digits
 * reported through the explicit event API only. Prints a summary; exit status 0 on success. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pcifilter.h"

#define RATE 8000
#define PTIME 160
#define PACKETS 100

static unsigned char ulaw(int x) { /* G.711 µ-law (encoder sketch, enough for a test signal) */
    int sign = x < 0 ? 0x7F : 0xFF, mag = x < 0 ? -x : x, seg = 0;
    if (mag > 32635) mag = 32635;
    mag += 132;
    for (int m = mag >> 7; m > 1 && seg < 7; m >>= 1) seg++;
    return (unsigned char)(((seg << 4) | ((mag >> (seg + 3)) & 0x0F)) ^ sign);
}

static size_t rtp(unsigned char* p, int pt, int marker, unsigned seq, unsigned ts) {
    p[0] = 0x80;
    p[1] = (unsigned char)((marker ? 0x80 : 0) | pt);
    p[2] = (unsigned char)(seq >> 8), p[3] = (unsigned char)seq;
    p[4] = (unsigned char)(ts >> 24), p[5] = (unsigned char)(ts >> 16);
    p[6] = (unsigned char)(ts >> 8), p[7] = (unsigned char)ts;
    p[8] = 0x12, p[9] = 0x34, p[10] = 0x56, p[11] = 0x78;
    return 12;
}

struct tally {
    int total, audio, events, sequence_gaps;
    unsigned last_seq;
};

static void drain(pcifilter_stream* s, struct tally* t) {
    unsigned char out[1500];
    size_t n;
    while (pcifilter_stream_pop(s, out, sizeof out, &n) == 1) {
        const unsigned seq = (unsigned)(out[2] << 8 | out[3]);
        if (t->total > 0 && ((seq - t->last_seq) & 0xFFFF) != 1) t->sequence_gaps++;
        t->last_seq = seq;
        t->total++;
        if ((out[1] & 0x7F) == 101) t->events++;
        else t->audio++;
    }
}

int main(void) {
    static const double lo[3] = {697, 697, 697}, hi[3] = {1209, 1336, 1477};
    pcifilter_config config;
    pcifilter_config_init(&config);
    char error[256];
    pcifilter_stream* s = pcifilter_stream_create(&config, error, sizeof error);
    if (!s) {
        fprintf(stderr, "create: %s\n", error);
        return 1;
    }
    struct tally t = {0, 0, 0, 0, 0};
    unsigned seq = 100;
    int in_audio = 0;
    unsigned char pkt[1500];
    for (int k = 0; k < PACKETS; ++k) {
        const unsigned ts = 8000u + (unsigned)k * PTIME;
        const int key = (k >= 20 && k < 25) ? 0 : (k >= 45 && k < 50) ? 1 : (k >= 70 && k < 75) ? 2 : -1;
        size_t len = rtp(pkt, 0, k == 0, seq++, ts);
        for (int i = 0; i < PTIME; ++i) {
            double v = 0;
            if (key >= 0) {
                const double x = (double)(k * PTIME + i) / RATE;
                v = 5000 * (sin(2 * M_PI * lo[key] * x) + sin(2 * M_PI * hi[key] * x));
            }
            pkt[len++] = ulaw((int)v);
        }
        pcifilter_stream_push(s, pkt, len);
        in_audio++;
        if (key >= 0) { /* a telephone-event packet beside the audio (RFC 4733) */
            const int start = key == 0 ? 20 : key == 1 ? 45 : 70;
            const unsigned dur = (unsigned)(k - start + 1) * PTIME;
            size_t l = rtp(pkt, 101, k == start, seq++, 8000u + (unsigned)start * PTIME);
            pkt[l++] = (unsigned char)(key + 1);
            pkt[l++] = (unsigned char)((k == start + 4 ? 0x80 : 0) | 10);
            pkt[l++] = (unsigned char)(dur >> 8);
            pkt[l++] = (unsigned char)dur;
            pcifilter_stream_push(s, pkt, l);
        }
        drain(s, &t);
    }
    pcifilter_stream_flush(s);
    drain(s, &t);
    int keypresses = 0;
    pcifilter_event ev;
    while (pcifilter_stream_poll_event(s, &ev) == 1) keypresses++; /* ev.digit: card data */
    /* The counters, for monitoring: every one by name (all zero here but the packets). */
    uint64_t dropped = 0, value = 0;
    for (size_t i = 0; pcifilter_stream_stat_name(i) != NULL; i++) {
        const char* name = pcifilter_stream_stat_name(i);
        if (pcifilter_stream_stat(s, name, &value) == 1 && strncmp(name, "malformed_", 10) == 0)
            dropped += value;
    }
    uint64_t dropped_events = 0;
    pcifilter_stream_stat(s, "telephone_events_dropped", &dropped_events);
    pcifilter_stream_destroy(s);
    printf("pcifilter %s (%s kernels): audio in %d out %d, telephone-events out %d (dropped %llu), "
           "sequence gaps %d, keypresses %d, malformed %llu\n",
           pcifilter_version(), pcifilter_isa(), in_audio, t.audio, t.events, (unsigned long long)dropped_events,
           t.sequence_gaps, keypresses, (unsigned long long)dropped);
    return (t.audio == in_audio && t.events == 0 && dropped_events > 0 && t.sequence_gaps == 0 &&
            keypresses == 3 && dropped == 0)
               ? 0
               : 1;
}
