// SPDX-License-Identifier: Apache-2.0
// One Opus stream's libopus state: a decoder (with packet-loss concealment and in-band FEC)
// and an encoder for the packets that replace masked ones. Mono at 8000 or 16000 Hz: the
// rate detection runs at (a DTMF tone lies below 1.7 kHz), far cheaper than 48 kHz; a stereo
// packet decodes to its downmix. Everything is allocated once, at construction: no
// allocation per packet.
#pragma once

#include <cstddef>
#include <cstdint>

struct OpusDecoder;
struct OpusEncoder;
struct OpusRepacketizer;

namespace pcifilter {

class OpusCodec {
public:
    // Throws std::invalid_argument for a rate other than 8000/16000 or a bad bitrate.
    OpusCodec(int sample_rate, int bitrate);
    ~OpusCodec();
    OpusCodec(const OpusCodec&) = delete;
    OpusCodec& operator=(const OpusCodec&) = delete;

    int sample_rate() const noexcept { return rate_; }
    // Samples (at sample_rate) a packet decodes to; -1 for an invalid packet or one longer
    // than 120 ms.
    int packet_samples(const std::uint8_t* packet, std::size_t len) const noexcept;
    // Decodes one packet into `out` (room for `samples`, from packet_samples); with `fec`, the
    // redundancy it carries for the `samples` before it instead (concealment if it has
    // none). Returns false (and fills silence) on a decoder error.
    bool decode(const std::uint8_t* packet, std::size_t len, std::int16_t* out, int samples,
                bool fec) noexcept;
    // Concealment (PLC) for lost audio: `samples` a multiple of 2.5 ms, up to 120 ms.
    bool conceal(std::int16_t* out, int samples) noexcept;
    // Encodes `samples` (2.5 ms to 120 ms, a multiple of 2.5 ms) into one packet of at most
    // `max_bytes`; returns its length, or -1. Durations the encoder does not take in one go
    // (30, 50, ... ms) are encoded as equal frames and joined into one packet. `celt`: with
    // the CELT-only encoder (replacements in a CELT stream, see StreamFilter::reencode),
    // else with the voice encoder (SILK at the replacement bitrates).
    int encode(const std::int16_t* pcm, int samples, std::uint8_t* out, int max_bytes,
               bool celt = false) noexcept;
    // The SILK bandwidth (4000, 6000 or 8000 Hz, see opus_toc_silk_bandwidth_hz; others
    // are ignored) the voice encoder codes at: the stream's own. A receiver's SILK decoder
    // starts afresh whenever the bandwidth changes between packets, so replacements at
    // another one made the sender's packets after a mask decode from nothing (voiced
    // speech up to 20 dB too quiet for 60 ms and more).
    void set_voice_bandwidth(int bandwidth_hz) noexcept;
    // Runs `samples` (10 ms or a libopus frame size) through the CELT-only encoder, output
    // discarded: its state then follows this audio (see StreamFilter::reencode).
    void prime_celt(const std::int16_t* pcm, int samples) noexcept;
    void reset_decoder() noexcept;
    void reset_encoder() noexcept;  // both
    void reset_encoder(bool celt) noexcept;  // the one encode(..., celt) uses
    std::size_t state_bytes() const noexcept;

private:
    bool finish_decode(int got, std::int16_t* out, int samples, bool soft_clip) noexcept;
    int encode_with(OpusEncoder* enc, int rate, const std::int16_t* pcm, int samples, std::uint8_t* out,
                    int max_bytes) noexcept;
    void upsample(const std::int16_t* pcm, int samples) noexcept;

    static constexpr int kSilenceBytes = 64;
    // The voice encoder runs at 16 kHz, where SILK codes every bandwidth up to wideband (at
    // 8 kHz, narrowband only); 8 kHz audio is interpolated to it.
    static constexpr int kVoiceRate = 16000;
    static constexpr int kHalfTaps = 12;  // the interpolator's taps on each side
    int rate_;
    int voice_bandwidth_ = 0;  // OPUS_BANDWIDTH_* the voice encoder is set to
    std::int16_t* up_ = nullptr;  // the voice encoder's input at 16 kHz (120 ms at most)
    std::int16_t up_history_[kHalfTaps] = {};  // the 8 kHz samples it was given last
    OpusDecoder* dec_ = nullptr;
    OpusEncoder* enc_ = nullptr;   // voice (OPUS_APPLICATION_VOIP)
    OpusEncoder* celt_ = nullptr;  // CELT only (OPUS_APPLICATION_RESTRICTED_LOWDELAY)
    OpusRepacketizer* rp_ = nullptr;
    std::uint8_t* frames_ = nullptr;  // encoded frames being joined into one packet
    float* fpcm_ = nullptr;           // a decoded packet (120 ms at most) before conversion
    float softclip_[2] = {0, 0};      // opus_pcm_soft_clip's state, as opus_decode keeps it
    // The CELT-only encoder: whether the last 2.5 ms it was given were digital silence, and
    // whether silence frames went out since without it (see encode()).
    bool celt_quiet_tail_ = true;
    bool celt_behind_ = false;
    // A CELT silence packet of `silence_samples_` (0: none yet), made by the encoder.
    int silence_samples_ = 0, silence_bytes_ = 0;
    std::uint8_t silence_[kSilenceBytes] = {};
};

}  // namespace pcifilter
