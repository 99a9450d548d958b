// SPDX-License-Identifier: Apache-2.0
// Fixed-delay masker: replaces requested spans of a stream with a masking signal.
//
// The input is delayed by `delay` samples (the look-ahead); a span requested before the
// delayed output reaches it is replaced from its first sample to its last, so a tone is
// hidden from its onset even though it is only recognised some milliseconds later. Samples
// outside masked spans pass bit-exact. A raised-cosine ramp of `ramp` samples, inside the
// span, avoids a click at each edge (the detector's spans start and end one guard sub-block
// away from the tone, so the ramps never carry tone); none into a span that starts at the
// stream's first sample.
//
// Modes: silence (G.711 idle, 0), noise (white comfort noise at the background level, found
// by tracking the minimum 5 ms energy over the last ~2 s, capped at `noise_max_dbm0`), tone (a
// steady sine, 400 Hz at -24 dBm0 by default; DTMF frequencies are refused).
#pragma once

#include <array>
#include <climits>
#include <cstdint>
#include <vector>

#include "pcifilter/tone_event.hpp"

namespace pcifilter {

enum class MaskMode : std::uint8_t { Silence = 0, Noise = 1, Tone = 2 };

struct MaskerParams {
    MaskMode mode = MaskMode::Silence;
    double tone_hz = 400.0;
    double tone_dbm0 = -24.0;
    double noise_max_dbm0 = -35.0;
    double ramp_ms = 1.0;
    void validate() const;
};

class Masker {
public:
    static constexpr int kMaxSpans = 16;

    Masker(int sample_rate, int delay, const MaskerParams& params);

    // Masks [start, end) of the input clock, from `not_before` on at the earliest (the caller
    // passes a point that does not depend on how its input was chunked; the masker never
    // masks what it has output already). Returns false when the span came too late to be
    // masked whole.
    bool request(std::int64_t start, std::int64_t end,
                 std::int64_t not_before = INT64_MIN) noexcept;
    // Pushes n input samples and writes n output samples, delayed by `delay()`. `out` may be
    // `in` (in place); the two must not overlap otherwise.
    void process(const std::int16_t* in, std::int16_t* out, std::size_t n) noexcept;
    // Spans whose output is complete are appended here; drain them with take_spans().
    std::vector<MaskSpan>& finished_spans() noexcept { return done_; }
    void reset() noexcept;
    // Settled on silence: the delay line holds only zeros, and comfort noise's background
    // has seen a silent block in its current segment (so it is 0, and so is the noise). n
    // more samples of silence in then change only the counts, the background's place in its
    // blocks and segments, and where spans reach the output: their samples masked (with
    // silence, noise at 0, or a tone no one keeps: a stream filter's pause), runs marked,
    // spans finished, and the generators moved on as many samples. skip(n) stands for them
    // (Scrubber::skip_silence); a mask that reaches over a pause does not hold it up.
    bool settled() const noexcept;
    void skip(std::int64_t n) noexcept;
    // End of stream: report spans still open, cut at what has been output.
    void close_spans() noexcept;
    // n samples of the masking signal alone (no ramps), from the same generators: for a
    // caller that masks whole codec packets around the spans (StreamFilter, Opus).
    void synthesize(std::int16_t* out, std::size_t n) noexcept;

    int delay() const noexcept { return delay_; }
    int ramp() const noexcept { return ramp_; }  // samples
    // The last min(n, delay()) samples put in (the delay line), oldest first; returns how many.
    std::size_t recent_input(std::int16_t* out, std::size_t n) const noexcept;
    // A span that starts at `t` goes on from audio masked before it (elsewhere): no ramp in.
    void continue_at(std::int64_t t) noexcept { no_ramp_at_ = t; }
    // Whether input sample t lies in a span requested and not yet output whole.
    bool covers(std::int64_t t) const noexcept {
        for (int i = 0; i < n_spans_; ++i)
            if (spans_[static_cast<std::size_t>(i)].start <= t && t < spans_[static_cast<std::size_t>(i)].end)
                return true;
        return false;
    }
    std::int64_t output_position() const noexcept { return out_pos_; }
    std::uint64_t late_requests() const noexcept { return late_; }
    // Output samples replaced by the masking signal so far.
    std::uint64_t masked_samples() const noexcept { return masked_; }
    // Where output was masked since clear_runs() (output clock, merged; when more runs come
    // than fit, the last one stretches over them: it may cover more, never less).
    static constexpr int kMaxRuns = 4;
    void clear_runs() noexcept { n_runs_ = 0; }
    int run_count() const noexcept { return n_runs_; }
    const MaskSpan& run(int i) const noexcept { return runs_[static_cast<std::size_t>(i)]; }
    double background_dbm0() const noexcept;
    double background_power() const noexcept;
    std::size_t state_bytes() const noexcept {
        return sizeof(*this) + ring_.capacity() * sizeof(std::int16_t) + done_.capacity() * sizeof(MaskSpan);
    }

private:
    std::int16_t mask_sample(std::int64_t t, std::int64_t span_start, std::int64_t span_end,
                             std::int16_t original) noexcept;
    void mask_run(std::int16_t* out, std::int64_t a, std::int64_t b, const MaskSpan& sp) noexcept;
    double next_uniform() noexcept;
    double next_tone() noexcept;  // the masking tone's next sample
    void anchor_tone() noexcept;
    void advance(std::uint64_t n) noexcept;  // the generators, by n samples of the signal
    void pass_spans(std::int16_t* out, std::int64_t t0, std::int64_t t1) noexcept;
    // Comfort noise's scale: uniform in [-1, 1) times this has the background's power.
    double noise_scale() const noexcept;
    void track_background(const std::int16_t* x, std::size_t n) noexcept;
    void finish_span(const MaskSpan& sp) noexcept;

    int delay_;
    MaskerParams params_;
    int ramp_;
    std::vector<std::int16_t> ring_;
    std::size_t ring_pos_ = 0;
    std::int64_t out_pos_ = 0;  // input index of the next output sample (negative: pre-roll)
    std::array<MaskSpan, kMaxSpans> spans_{};
    int n_spans_ = 0;
    std::vector<MaskSpan> done_;
    MaskSpan last_done_{-1, -1};
    std::int64_t no_ramp_at_ = INT64_MIN;  // continue_at()
    bool ramps_in(std::int64_t span_start) const noexcept { return span_start > 0 && span_start != no_ramp_at_; }
    std::uint64_t late_ = 0;
    std::uint64_t masked_ = 0;
    std::array<MaskSpan, kMaxRuns> runs_{};
    // The scrubber's 5 ms piece at 8 kHz, copied through the delay line with fixed sizes.
    static constexpr std::size_t kPiece = 40;
    int n_runs_ = 0;
    // Comfort noise: background tracker (minimum of 20 ms block powers over 1-2 s) and
    // generator. The mask-join distance stays 5 ms (join_).
    int bg_block_;
    static constexpr int kBgSegmentBlocks = 50;  // 1 s of 20 ms blocks
    int join_;
    double bg_bias_, noise_cap_, tone_amplitude_;  // from the parameters, once
    int bg_fill_ = 0;
    double bg_acc_ = 0;
    double bg_min_cur_ = 1e30, bg_min_prev_ = 1e30;
    int bg_blocks_ = 0;
    std::uint32_t rng_ = 0x9E3779B9u;
    // Tone generator: a unit phasor rotated every sample, set afresh from the phase every
    // kToneAnchor samples (osc_count_: samples made, modulo 2^32; osc_step_: phase step, 2^32
    // a turn), so that advance() reaches its state after n samples in at most kToneAnchor.
    static constexpr std::uint32_t kToneAnchor = 256;
    double osc_re_ = 1, osc_im_ = 0, rot_re_ = 1, rot_im_ = 0;
    std::uint32_t osc_count_ = 0, osc_step_ = 0;
};

}  // namespace pcifilter
