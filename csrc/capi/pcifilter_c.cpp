// SPDX-License-Identifier: Apache-2.0
// The C API over the C++ core: exceptions stop here, as error codes and messages.
#include "pcifilter.h"

#include <cstring>
#include <deque>
#include <exception>
#include <new>

#include "pcifilter/cpu_level.hpp"
#include "pcifilter/dtmf_detector.hpp"
#include "pcifilter/scrubber.hpp"
#include "pcifilter/stream_filter.hpp"

using namespace pcifilter;

struct pcifilter_stream {
    StreamFilter filter;
    std::size_t next_event = 0;
    std::size_t next_masked = 0;
};

struct pcifilter_scrubber {
    Scrubber scrubber;
    std::size_t next_event = 0;
};

namespace {

void set_error(char* error, std::size_t len, const char* message) {
    if (error != nullptr && len > 0) {
        std::strncpy(error, message, len - 1);
        error[len - 1] = '\0';
    }
}

ScrubberParams scrub_params(const pcifilter_config& c) {
    ScrubberParams p;
    p.sample_rate = c.sample_rate;
    p.lookahead_ms = c.lookahead_ms;
    if (c.mode < 0 || c.mode > 2) throw std::invalid_argument("mode must be 0, 1 or 2");
    p.masker.mode = static_cast<MaskMode>(c.mode);
    p.validate();
    return p;
}

void place(const ToneEvent&, pcifilter_event* out) { out->ssrc = out->rtp_timestamp = out->rtp_duration = 0; }
void place(const StreamEvent& e, pcifilter_event* out) {
    out->ssrc = e.ssrc;
    out->rtp_timestamp = e.timestamp;
    out->rtp_duration = e.duration;
}

template <typename Event>
int poll(std::vector<Event>& events, std::size_t& next, pcifilter_event* out) {
    if (out == nullptr) return -1;
    if (next >= events.size()) {
        events.clear();
        next = 0;
        return 0;
    }
    const Event& e = events[next++];
    out->rfc4733 = e.rfc4733 ? 1 : 0;
    out->digit = e.digit;
    out->start = e.start;
    out->end = e.end;
    out->level_dbm0 = e.level_dbm0;
    place(e, out);
    return 1;
}

}  // namespace

extern "C" {

const char* pcifilter_version(void) { return PCIFILTER_VERSION; }

const char* pcifilter_isa(void) {
    try {
        return bank_isa_name(dtmf_bank_tables()->isa);
    } catch (const std::exception&) {
        return nullptr;
    }
}

void pcifilter_config_init(pcifilter_config* c) {
    if (c == nullptr) return;
    c->sample_rate = 8000;
    c->lookahead_ms = 40.0;
    c->mode = PCIFILTER_MODE_SILENCE;
    c->telephone_event_pt = 101;
    c->pcmu_pt = 0;
    c->pcma_pt = 8;
    c->cn_pt = 13;
    c->telephone_events = PCIFILTER_TE_DROP;
    c->opus_pt = -1;
    c->opus_bitrate = 16000;
    c->pass_unknown_payloads = 0;
    c->telephone_event_8000_pt = -1;
    c->reorder_window_ms = -1.0;
    c->max_gap_ms = -1.0;
    c->g711_beside_opus = 0;
}

// enum pcifilter_payload_kind is PayloadKind by value.
static_assert(static_cast<int>(PayloadKind::Pcmu) == PCIFILTER_PT_PCMU && static_cast<int>(PayloadKind::Pcma) == PCIFILTER_PT_PCMA &&
              static_cast<int>(PayloadKind::ComfortNoise) == PCIFILTER_PT_CN &&
              static_cast<int>(PayloadKind::TelephoneEvent) == PCIFILTER_PT_TELEPHONE_EVENT &&
              static_cast<int>(PayloadKind::Opus) == PCIFILTER_PT_OPUS &&
              static_cast<int>(PayloadKind::TelephoneEvent8000) == PCIFILTER_PT_TELEPHONE_EVENT_8000);

pcifilter_stream* pcifilter_stream_create(const pcifilter_config* c, char* error, std::size_t len) {
    return pcifilter_stream_create_with_types(c, nullptr, nullptr, 0, error, len);
}

pcifilter_stream* pcifilter_stream_create_with_types(const pcifilter_config* c, const int* payload_types,
                                                     const int* kinds, std::size_t n, char* error, std::size_t len) {
    if (c == nullptr) {
        set_error(error, len, "config is NULL");
        return nullptr;
    }
    if (n > 0 && (payload_types == nullptr || kinds == nullptr)) {
        set_error(error, len, "payload_types or kinds is NULL");
        return nullptr;
    }
    try {
        StreamFilterParams p;
        const bool opus = c->opus_pt >= 0;
        PayloadTypeNumbers numbers{c->pcmu_pt, c->pcma_pt, c->cn_pt, c->telephone_event_pt, c->opus_pt,
                                   c->telephone_event_8000_pt, c->g711_beside_opus != 0, {}};
        for (std::size_t i = 0; i < n; ++i) {
            if (kinds[i] < PCIFILTER_PT_PCMU || kinds[i] > PCIFILTER_PT_TELEPHONE_EVENT_8000)
                throw std::invalid_argument("kinds must be enum pcifilter_payload_kind values");
            numbers.more.emplace_back(payload_types[i], static_cast<PayloadKind>(kinds[i]));
        }
        p.payload_types = payload_type_map(numbers);
        if (c->telephone_events != PCIFILTER_TE_DROP && c->telephone_events != PCIFILTER_TE_REPLACE)
            throw std::invalid_argument("telephone_events must be PCIFILTER_TE_DROP or PCIFILTER_TE_REPLACE");
        p.telephone_events = c->telephone_events == PCIFILTER_TE_REPLACE ? TelephoneEventAction::Replace
                                                                         : TelephoneEventAction::Drop;
        p.opus_bitrate = c->opus_bitrate;
        p.pass_unknown_payloads = c->pass_unknown_payloads != 0;
        pcifilter_config c8 = *c;
        if (!opus) c8.sample_rate = 8000;
        p.scrub = scrub_params(c8);
        // In samples at the stream's rate; -1 keeps the default; validate() checks the rest.
        if (c->max_gap_ms != -1.0) p.max_gap_samples = samples_of_ms(c->max_gap_ms, c8.sample_rate, "max_gap_ms");
        if (c->reorder_window_ms != -1.0)
            p.reorder_window_samples = samples_of_ms(c->reorder_window_ms, c8.sample_rate, "reorder_window_ms");
        p.validate();
        return new pcifilter_stream{StreamFilter(p), 0};
    } catch (const std::exception& e) {
        set_error(error, len, e.what());
        return nullptr;
    }
}

void pcifilter_stream_destroy(pcifilter_stream* s) { delete s; }

int pcifilter_stream_set_filtering(pcifilter_stream* s, int on) {
    if (s == nullptr) return -1;
    s->filter.set_filtering(on != 0);
    return 0;
}

int pcifilter_stream_push(pcifilter_stream* s, const uint8_t* packet, std::size_t len) {
    if (s == nullptr || (packet == nullptr && len > 0)) return -1;
    s->filter.push(packet, len);
    return 0;
}

int pcifilter_stream_pop(pcifilter_stream* s, uint8_t* out, std::size_t cap, std::size_t* len) {
    if (s == nullptr || out == nullptr || len == nullptr || cap < StreamFilter::kMaxPacket) return -1;
    return s->filter.pop(out, len) ? 1 : 0;
}

int pcifilter_stream_stat(const pcifilter_stream* s, const char* name, uint64_t* value) {
    if (s == nullptr || name == nullptr || value == nullptr) return -1;
    for (std::size_t i = 0; i < stream_stat_count(); ++i)
        if (std::strcmp(stream_stat_name(i), name) == 0) {
            *value = stream_stat_value(s->filter.stats(), i);
            return 1;
        }
    return 0;
}

const char* pcifilter_stream_stat_name(std::size_t i) { return stream_stat_name(i); }

int pcifilter_stream_advance(pcifilter_stream* s, uint32_t timestamp) {
    if (s == nullptr) return -1;
    s->filter.advance(timestamp);
    return 0;
}

int pcifilter_stream_flush(pcifilter_stream* s) {
    if (s == nullptr) return -1;
    s->filter.flush();
    return 0;
}

int pcifilter_stream_poll_event(pcifilter_stream* s, pcifilter_event* event) {
    if (s == nullptr) return -1;
    return poll(s->filter.events(), s->next_event, event);
}

int64_t pcifilter_stream_delay(const pcifilter_stream* s) { return s ? s->filter.delay_samples() : -1; }

int pcifilter_stream_clock_rate(const pcifilter_stream* s) { return s ? s->filter.clock_rate() : -1; }

int pcifilter_stream_mask(pcifilter_stream* s, uint32_t timestamp, uint32_t duration) {
    if (s == nullptr) return -1;
    return s->filter.mask(timestamp, duration) ? 1 : 0;
}

int pcifilter_stream_poll_masked(pcifilter_stream* s, uint32_t* timestamp, uint32_t* duration) {
    if (s == nullptr || timestamp == nullptr || duration == nullptr) return -1;
    std::vector<StreamFilter::MaskedSpan>& spans = s->filter.masked_spans();
    if (s->next_masked >= spans.size()) {
        spans.clear();
        s->next_masked = 0;
        return 0;
    }
    const StreamFilter::MaskedSpan& m = spans[s->next_masked++];
    *timestamp = m.timestamp;
    *duration = m.duration;
    return 1;
}

pcifilter_scrubber* pcifilter_scrubber_create(const pcifilter_config* c, char* error, std::size_t len) {
    if (c == nullptr) {
        set_error(error, len, "config is NULL");
        return nullptr;
    }
    try {
        return new pcifilter_scrubber{Scrubber(scrub_params(*c)), 0};
    } catch (const std::exception& e) {
        set_error(error, len, e.what());
        return nullptr;
    }
}

void pcifilter_scrubber_destroy(pcifilter_scrubber* s) { delete s; }

int pcifilter_scrubber_process(pcifilter_scrubber* s, const int16_t* in, int16_t* out, std::size_t n) {
    if (s == nullptr || ((in == nullptr || out == nullptr) && n > 0)) return -1;
    s->scrubber.process(in, out, n);
    s->scrubber.spans().clear();
    return 0;
}

int64_t pcifilter_scrubber_flush(pcifilter_scrubber* s, int16_t* out, std::size_t cap) {
    if (s == nullptr || out == nullptr) return -1;
    const auto n = static_cast<std::size_t>(s->scrubber.delay());
    if (cap < n) return -1;
    s->scrubber.end_stream(out);
    s->scrubber.spans().clear();
    return static_cast<int64_t>(n);
}

int pcifilter_scrubber_set_masking(pcifilter_scrubber* s, int on) {
    if (s == nullptr) return -1;
    s->scrubber.set_masking(on != 0);
    return 0;
}

int pcifilter_scrubber_set_guard_edges(pcifilter_scrubber* s, int on) {
    if (s == nullptr) return -1;
    s->scrubber.set_guard_edges(on != 0);
    return 0;
}

int pcifilter_scrubber_poll_event(pcifilter_scrubber* s, pcifilter_event* event) {
    if (s == nullptr) return -1;
    return poll(s->scrubber.events(), s->next_event, event);
}

int64_t pcifilter_scrubber_delay(const pcifilter_scrubber* s) { return s ? s->scrubber.delay() : -1; }

}  // extern "C"
