// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/opus_codec.hpp"

#include <opus.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>

namespace pcifilter {
namespace {

constexpr int kArena = 1500;  // the frames being joined: a packet never holds more

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
    if (err != OPUS_OK || dec_ == nullptr || enc_ == nullptr || celt_ == nullptr || rp_ == nullptr ||
        frames_ == nullptr) {
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
    const int got = opus_decode(dec_, packet, static_cast<opus_int32>(len), out, samples, fec ? 1 : 0);
    if (got == samples) return true;
    std::fill(out, out + samples, std::int16_t{0});
    return false;
}

bool OpusCodec::conceal(std::int16_t* out, int samples) noexcept {
    const int got = opus_decode(dec_, nullptr, 0, out, samples, 0);
    if (got == samples) return true;
    std::fill(out, out + samples, std::int16_t{0});
    return false;
}

int OpusCodec::encode(const std::int16_t* pcm, int samples, std::uint8_t* out, int max_bytes,
                      bool celt) noexcept {
    OpusEncoder* enc = celt ? celt_ : enc_;
    const int ms25 = rate_ / 400;  // 2.5 ms
    if (samples <= 0 || samples % ms25 != 0 || samples > 48 * ms25) return -1;
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
}

void OpusCodec::reset_decoder() noexcept { opus_decoder_ctl(dec_, OPUS_RESET_STATE); }
void OpusCodec::reset_encoder() noexcept {
    opus_encoder_ctl(enc_, OPUS_RESET_STATE);
    opus_encoder_ctl(celt_, OPUS_RESET_STATE);
}

std::size_t OpusCodec::state_bytes() const noexcept {
    return sizeof(*this) + static_cast<std::size_t>(opus_decoder_get_size(1)) +
           2 * static_cast<std::size_t>(opus_encoder_get_size(1)) +
           static_cast<std::size_t>(opus_repacketizer_get_size()) + kArena;
}

}  // namespace pcifilter
