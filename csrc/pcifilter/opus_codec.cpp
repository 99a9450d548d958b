// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/opus_codec.hpp"

#include <opus.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <stdexcept>

namespace pcifilter {
namespace {

constexpr int kArena = 1500;  // the frames being joined: a packet never holds more

// Every |x| <= 1 (a NaN counts as within, as opus_pcm_soft_clip treats it).
bool within_unit(const float* x, int n) noexcept {
    int i = 0;
#if defined(__SSE2__)
    const __m128 magnitude = _mm_castsi128_ps(_mm_set1_epi32(0x7FFFFFFF)), one = _mm_set1_ps(1.0f);
    __m128 over = _mm_setzero_ps();
    for (; i + 4 <= n; i += 4)
        over = _mm_or_ps(over, _mm_cmpgt_ps(_mm_and_ps(_mm_loadu_ps(x + i), magnitude), one));
    if (_mm_movemask_ps(over) != 0) return false;
#endif
    for (; i < n; ++i)
        if (std::fabs(x[i]) > 1.0f) return false;
    return true;
}

bool all_zero(const std::int16_t* x, int n) noexcept {
    std::int16_t any = 0;
    for (int i = 0; i < n; ++i) any |= x[i];
    return any == 0;
}

}  // namespace

OpusCodec::OpusCodec(int sample_rate, int bitrate) : rate_(sample_rate) {
    if (sample_rate != 8000 && sample_rate != 16000)
        throw std::invalid_argument("Opus streams are decoded at 8000 or 16000 Hz");
    if (bitrate < 6000 || bitrate > 128000)
        throw std::invalid_argument("opus bitrate must be within [6000, 128000]");
    int err = OPUS_OK;
    dec_ = opus_decoder_create(rate_, 1, &err);
    if (err == OPUS_OK) enc_ = opus_encoder_create(rate_, 1, OPUS_APPLICATION_VOIP, &err);
    if (err == OPUS_OK) celt_ = opus_encoder_create(rate_, 1, OPUS_APPLICATION_RESTRICTED_LOWDELAY, &err);
    if (err == OPUS_OK) rp_ = opus_repacketizer_create();
    frames_ = new (std::nothrow) std::uint8_t[kArena];
    fpcm_ = new (std::nothrow) float[static_cast<std::size_t>(rate_ * 120 / 1000)];
    if (err != OPUS_OK || dec_ == nullptr || enc_ == nullptr || celt_ == nullptr || rp_ == nullptr ||
        frames_ == nullptr || fpcm_ == nullptr) {
        this->~OpusCodec();
        throw std::runtime_error("libopus: cannot create the decoder or encoder");
    }
    // Replacement packets: no in-band FEC (it would carry the audio before them), no DTX
    // (every replaced packet is replaced by one packet), constant mode for joining frames.
    // Complexity 0: what is re-encoded is mostly the masking signal, and the encoder is the
    // filter's largest cost after the decoder (SILK streams 1.03x -> 0.93x a 48 kHz decode).
    for (OpusEncoder* e : {enc_, celt_}) {
        opus_encoder_ctl(e, OPUS_SET_BITRATE(bitrate));
        opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(0));
        opus_encoder_ctl(e, OPUS_SET_DTX(0));
        opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(0));
    }
    opus_encoder_ctl(enc_, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
}

OpusCodec::~OpusCodec() {
    if (dec_ != nullptr) opus_decoder_destroy(dec_);
    if (enc_ != nullptr) opus_encoder_destroy(enc_);
    if (celt_ != nullptr) opus_encoder_destroy(celt_);
    if (rp_ != nullptr) opus_repacketizer_destroy(rp_);
    delete[] frames_;
    delete[] fpcm_;
    fpcm_ = nullptr;
    dec_ = nullptr;
    enc_ = nullptr;
    celt_ = nullptr;
    rp_ = nullptr;
    frames_ = nullptr;
}

int OpusCodec::packet_samples(const std::uint8_t* packet, std::size_t len) const noexcept {
    if (len == 0 || len > 1275 * 48) return -1;
    const int n = opus_packet_get_nb_samples(packet, static_cast<opus_int32>(len), rate_);
    return n > 0 && n <= rate_ * 120 / 1000 ? n : -1;
}

bool OpusCodec::decode(const std::uint8_t* packet, std::size_t len, std::int16_t* out, int samples,
                       bool fec) noexcept {
    return finish_decode(opus_decode_float(dec_, packet, static_cast<opus_int32>(len), fpcm_, samples, fec ? 1 : 0),
                         out, samples, !fec);
}

bool OpusCodec::conceal(std::int16_t* out, int samples) noexcept {
    return finish_decode(opus_decode_float(dec_, nullptr, 0, fpcm_, samples, 0), out, samples, false);
}

bool OpusCodec::finish_decode(int got, std::int16_t* out, int samples, bool soft_clip) noexcept {
    // What opus_decode() does around its float decode (libopus 1.3, float build): soft
    // clipping, with its state kept across packets, of a packet's own audio (concealment and
    // FEC audio are returned before that step), then FLOAT2INT16 (scale, clamp, round to
    // nearest even). Done here, 160 samples in vectors, it is bit-identical to opus_decode
    // (csrc/tests/test_opus_codec.cpp) and saves ~1.5 % of a CELT decode (bench/RESULTS.md).
    if (got != samples) {
        std::fill(out, out + samples, std::int16_t{0});
        return false;
    }
    // Soft clipping changes nothing when no sample is beyond ±1 and no clipping is carried
    // over from the packet before (its state 0): then it is not called (it costs ~19
    // instructions a sample, a tenth of what this filter adds to the decode).
    if (soft_clip && (softclip_[0] != 0.0f || !within_unit(fpcm_, samples)))
        opus_pcm_soft_clip(fpcm_, samples, 1, softclip_);
    int i = 0;
#if defined(__SSE2__)
    const __m128 scale = _mm_set1_ps(32768.0f), lo = _mm_set1_ps(-32768.0f), hi = _mm_set1_ps(32767.0f);
    for (; i + 8 <= samples; i += 8) {
        const __m128 a = _mm_min_ps(_mm_max_ps(_mm_mul_ps(_mm_loadu_ps(fpcm_ + i), scale), lo), hi);
        const __m128 b = _mm_min_ps(_mm_max_ps(_mm_mul_ps(_mm_loadu_ps(fpcm_ + i + 4), scale), lo), hi);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_packs_epi32(_mm_cvtps_epi32(a), _mm_cvtps_epi32(b)));
    }
#endif
    for (; i < samples; ++i)
        out[i] = static_cast<std::int16_t>(std::lrint(std::clamp(fpcm_[i] * 32768.0f, -32768.0f, 32767.0f)));
    return true;
}

int OpusCodec::encode(const std::int16_t* pcm, int samples, std::uint8_t* out, int max_bytes,
                      bool celt) noexcept {
    const int ms25 = rate_ / 400;  // 2.5 ms: CELT's overlap with the frame before
    if (samples <= 0 || samples % ms25 != 0 || samples > 48 * ms25) return -1;
    if (!celt) return encode_with(enc_, pcm, samples, out, max_bytes);
    // CELT-only: digital silence whose 2.5 ms before were silent too decodes to silence from
    // a CELT silence frame whatever the decoder's state, and any CELT encoder would code it as
    // one once its DC filter had settled. So a silence frame made once (by the encoder, reset)
    // stands for every such packet of that duration, and the encoder is not run: in a stream
    // of plain speech most re-encoded packets are masked whole (bench/RESULTS.md).
    if (celt_quiet_tail_ && all_zero(pcm, samples)) {
        if (silence_samples_ != samples) {
            opus_encoder_ctl(celt_, OPUS_RESET_STATE);
            const int n = encode_with(celt_, pcm, samples, silence_, kSilenceBytes);
            silence_samples_ = n > 0 ? samples : 0;
            silence_bytes_ = n > 0 ? n : 0;
        }
        celt_behind_ = true;  // its state no longer follows the audio: caught up below
        if (silence_samples_ == samples && silence_bytes_ <= max_bytes) {
            std::memcpy(out, silence_, static_cast<std::size_t>(silence_bytes_));
            return silence_bytes_;
        }
    }
    if (celt_behind_) {
        // Silence went out without the encoder: it restarts from silence, as the decoder
        // did with the silence frames (one 2.5 ms silence frame: the shortest, cheapest).
        static constexpr std::int16_t kZeros[40] = {};
        opus_encoder_ctl(celt_, OPUS_RESET_STATE);
        prime_celt(kZeros, ms25);
    }
    const int n = encode_with(celt_, pcm, samples, out, max_bytes);
    celt_quiet_tail_ = all_zero(pcm + samples - ms25, ms25);
    return n;
}

int OpusCodec::encode_with(OpusEncoder* enc, const std::int16_t* pcm, int samples, std::uint8_t* out,
                           int max_bytes) noexcept {
    const int ms25 = rate_ / 400;
    const int units = samples / ms25;
    // One call where libopus takes the duration (2.5, 5, 10, 20, 40, 60, 80, 100, 120 ms).
    for (int direct : {1, 2, 4, 8, 16, 24, 32, 40, 48})
        if (units == direct) {
            const opus_int32 n = opus_encode(enc, pcm, samples, out, max_bytes);
            return n > 0 ? static_cast<int>(n) : -1;
        }
    // Otherwise equal frames of the longest duration that divides it, joined.
    int frame_units = 8;  // 20 ms
    while (units % frame_units != 0) frame_units /= 2;
    const int frame = frame_units * ms25;
    const int count = samples / frame;
    opus_repacketizer_init(rp_);
    int used = 0;
    for (int i = 0; i < count; ++i) {
        std::uint8_t* f = frames_ + used;
        const opus_int32 n = opus_encode(enc, pcm + i * frame, frame, f, kArena - used);
        if (n <= 0 || opus_repacketizer_cat(rp_, f, n) != OPUS_OK) return -1;
        used += static_cast<int>(n);
    }
    const opus_int32 n = opus_repacketizer_out(rp_, out, max_bytes);
    return n > 0 ? static_cast<int>(n) : -1;
}

void OpusCodec::prime_celt(const std::int16_t* pcm, int samples) noexcept {
    // Into the arena, free between calls; a failure leaves the encoder as reset (no harm).
    static_cast<void>(opus_encode(celt_, pcm, samples, frames_, kArena) > 0);
    const int ms25 = rate_ / 400;
    celt_quiet_tail_ = samples < ms25 || all_zero(pcm + samples - ms25, ms25);
    celt_behind_ = false;
}

void OpusCodec::reset_decoder() noexcept {
    opus_decoder_ctl(dec_, OPUS_RESET_STATE);
    softclip_[0] = softclip_[1] = 0;
}
void OpusCodec::reset_encoder() noexcept {
    reset_encoder(false);
    reset_encoder(true);
}

void OpusCodec::reset_encoder(bool celt) noexcept {
    if (!celt) {
        opus_encoder_ctl(enc_, OPUS_RESET_STATE);  // ~100,000 instructions (SILK's state)
        return;
    }
    opus_encoder_ctl(celt_, OPUS_RESET_STATE);
    celt_quiet_tail_ = true;  // a reset encoder has no audio before
    celt_behind_ = false;
}

std::size_t OpusCodec::state_bytes() const noexcept {
    return sizeof(*this) + static_cast<std::size_t>(opus_decoder_get_size(1)) +
           2 * static_cast<std::size_t>(opus_encoder_get_size(1)) +
           static_cast<std::size_t>(opus_repacketizer_get_size()) + kArena +
           static_cast<std::size_t>(rate_ * 120 / 1000) * sizeof(float);
}

}  // namespace pcifilter
