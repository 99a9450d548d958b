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
    if (err == OPUS_OK) enc_ = opus_encoder_create(kVoiceRate, 1, OPUS_APPLICATION_VOIP, &err);
    if (err == OPUS_OK) celt_ = opus_encoder_create(rate_, 1, OPUS_APPLICATION_RESTRICTED_LOWDELAY, &err);
    if (err == OPUS_OK) rp_ = opus_repacketizer_create();
    frames_ = new (std::nothrow) std::uint8_t[kArena];
    fpcm_ = new (std::nothrow) float[static_cast<std::size_t>(rate_ * 120 / 1000)];
    up_ = new (std::nothrow) std::int16_t[static_cast<std::size_t>(kVoiceRate * 120 / 1000)];
    if (err != OPUS_OK || dec_ == nullptr || enc_ == nullptr || celt_ == nullptr || rp_ == nullptr ||
        frames_ == nullptr || fpcm_ == nullptr || up_ == nullptr) {
        this->~OpusCodec();
        throw std::runtime_error("libopus: cannot create the decoder or encoder");
    }
    // Replacement packets: no in-band FEC (it would carry the audio before them), no DTX
    // (every replaced packet is replaced by one packet), constant mode for joining frames.
    // Complexity 0 for CELT: what is re-encoded is mostly the masking signal, and the
    // encoder is the filter's largest cost after the decoder. 1 for the voice encoder: the
    // packet after a mask is the sender's audio, which the receiver's pitch predictor
    // builds the sender's next packets on (PESQ away from masks over espeak speech through
    // SILK 4.42 at 0, 4.46 at 1); higher ones cost more than the target of a 48 kHz decode
    // allows (bench/RESULTS.md, "Twelfth session").
    for (OpusEncoder* e : {enc_, celt_}) {
        opus_encoder_ctl(e, OPUS_SET_BITRATE(bitrate));
        opus_encoder_ctl(e, OPUS_SET_INBAND_FEC(0));
        opus_encoder_ctl(e, OPUS_SET_DTX(0));
        opus_encoder_ctl(e, OPUS_SET_COMPLEXITY(e == enc_ ? 1 : 0));
    }
    opus_encoder_ctl(enc_, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
    set_voice_bandwidth(8000);
}

OpusCodec::~OpusCodec() {
    if (dec_ != nullptr) opus_decoder_destroy(dec_);
    if (enc_ != nullptr) opus_encoder_destroy(enc_);
    if (celt_ != nullptr) opus_encoder_destroy(celt_);
    if (rp_ != nullptr) opus_repacketizer_destroy(rp_);
    delete[] frames_;
    delete[] fpcm_;
    delete[] up_;
    up_ = nullptr;
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
    if (!celt) {
        if (rate_ == kVoiceRate) return encode_with(enc_, kVoiceRate, pcm, samples, out, max_bytes);
        upsample(pcm, samples);
        return encode_with(enc_, kVoiceRate, up_, 2 * samples, out, max_bytes);
    }
    // CELT-only: digital silence whose 2.5 ms before were silent too decodes to silence from
    // a CELT silence frame whatever the decoder's state, and any CELT encoder would code it as
    // one once its DC filter had settled. So a silence frame made once (by the encoder, reset)
    // stands for every such packet of that duration, and the encoder is not run: in a stream
    // of plain speech most re-encoded packets are masked whole (bench/RESULTS.md).
    if (celt_quiet_tail_ && all_zero(pcm, samples)) {
        if (silence_samples_ != samples) {
            opus_encoder_ctl(celt_, OPUS_RESET_STATE);
            const int n = encode_with(celt_, rate_, pcm, samples, silence_, kSilenceBytes);
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
    const int n = encode_with(celt_, rate_, pcm, samples, out, max_bytes);
    celt_quiet_tail_ = all_zero(pcm + samples - ms25, ms25);
    return n;
}

void OpusCodec::set_voice_bandwidth(int bandwidth_hz) noexcept {
    const int bw = bandwidth_hz == 4000   ? OPUS_BANDWIDTH_NARROWBAND
                   : bandwidth_hz == 6000 ? OPUS_BANDWIDTH_MEDIUMBAND
                   : bandwidth_hz == 8000 ? OPUS_BANDWIDTH_WIDEBAND
                                          : 0;
    if (bw == 0 || bw == voice_bandwidth_) return;
    // Afresh: left to itself, SILK moves between bandwidths over seconds (a low-pass
    // transition); the receiver's decoder starts afresh at the change anyway.
    reset_encoder(false);
    opus_encoder_ctl(enc_, OPUS_SET_BANDWIDTH(bw));
    voice_bandwidth_ = bw;
}

namespace {
// Half-band interpolation filter (8 -> 16 kHz): sinc at the half-sample offsets under a
// Blackman window, normalised to unit gain at DC. Hand-written because it is 24 taps on a
// few packets per mask (no resampler library is linked into the core).
struct HalfBand {
    float h[12];
    HalfBand() noexcept {
        constexpr int k = 12;
        constexpr double kPi = 3.14159265358979323846;
        double sum = 0;
        for (int i = 0; i < k; ++i) {
            const double x = kPi * (i + 0.5);
            const double t = (k + i + 0.5) / (2.0 * k);  // position in the window, 0.5 .. 1
            const double w = 0.42 - 0.5 * std::cos(2 * kPi * t) + 0.08 * std::cos(4 * kPi * t);
            h[i] = static_cast<float>(std::sin(x) / x * w);
            sum += 2 * h[i];
        }
        for (float& c : h) c = static_cast<float>(c / sum);
    }
};
}  // namespace

void OpusCodec::upsample(const std::int16_t* pcm, int samples) noexcept {
    // The even outputs are the input; each odd one lies halfway between two inputs. Before
    // the packet: the samples the encoder was given last (its state follows them); after
    // it: the packet's own end mirrored, never audio not yet final (a keypress's onset there
    // is masked later: interpolated in, it would leak).
    static const HalfBand kFilter;
    const auto at = [&](int i) -> float {
        if (i < 0) return up_history_[kHalfTaps + i];
        if (i >= samples) i = std::max(0, 2 * samples - 2 - i);
        return pcm[i];
    };
    for (int m = 0; m < samples; ++m) {
        float acc = 0;
        for (int k = 0; k < kHalfTaps; ++k) acc += kFilter.h[k] * (at(m - k) + at(m + 1 + k));
        up_[2 * m] = pcm[m];
        up_[2 * m + 1] = static_cast<std::int16_t>(std::lrint(std::clamp(acc, -32768.0f, 32767.0f)));
    }
    for (int k = 0; k < kHalfTaps; ++k) up_history_[k] = static_cast<std::int16_t>(at(samples - kHalfTaps + k));
}

int OpusCodec::encode_with(OpusEncoder* enc, int rate, const std::int16_t* pcm, int samples, std::uint8_t* out,
                           int max_bytes) noexcept {
    const int ms25 = rate / 400;
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
        std::fill(std::begin(up_history_), std::end(up_history_), std::int16_t{0});
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
           static_cast<std::size_t>(rate_ * 120 / 1000) * sizeof(float) +
           static_cast<std::size_t>(kVoiceRate * 120 / 1000) * sizeof(std::int16_t);
}

}  // namespace pcifilter
