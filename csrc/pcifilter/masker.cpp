// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/masker.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "pcifilter/dtmf_detector.hpp"
#include "pcifilter/levels.hpp"

namespace pcifilter {
namespace {

std::int16_t to_pcm(double m) noexcept {
    return static_cast<std::int16_t>(std::clamp(std::lround(m), -32768L, 32767L));
}

}  // namespace

void MaskerParams::validate() const {
    if (!(tone_hz >= 100.0 && tone_hz <= 3800.0))
        throw std::invalid_argument("tone_hz must be within [100, 3800] Hz");
    // A masking tone must never be mistaken for (or mix into) a keypress.
    for (double f : DtmfDetector::kFreqs)
        if (std::fabs(tone_hz - f) <= 0.05 * f)
            throw std::invalid_argument("tone_hz must be at least 5% away from every DTMF frequency");
    if (!(tone_dbm0 >= -60.0 && tone_dbm0 <= -3.0))
        throw std::invalid_argument("tone_dbm0 must be within [-60, -3]");
    if (!(noise_max_dbm0 >= -90.0 && noise_max_dbm0 <= -10.0))
        throw std::invalid_argument("noise_max_dbm0 must be within [-90, -10]");
    if (!(ramp_ms >= 0.0 && ramp_ms <= 5.0))
        throw std::invalid_argument("ramp_ms must be within [0, 5]");
}

Masker::Masker(int sample_rate, int delay, const MaskerParams& params)
    : delay_(delay), params_(params) {
    params_.validate();
    if (sample_rate < 8000 || sample_rate > 48000)
        throw std::invalid_argument("sample_rate must be within [8000, 48000]");
    if (delay < 0 || delay > sample_rate) throw std::invalid_argument("delay must be within [0, 1 s]");
    ramp_ = static_cast<int>(std::lround(params_.ramp_ms * sample_rate / 1000.0));
    bg_block_ = sample_rate / 50;  // 20 ms
    join_ = sample_rate / 200;     // 5 ms
    // The minimum of ~50-100 block powers sits below the mean: for Gaussian noise a block of
    // n samples varies by sqrt(2/n), and the minimum lands about 2.5 of those below.
    bg_bias_ = 1.0 / std::max(0.3, 1.0 - 2.5 * std::sqrt(2.0 / bg_block_));
    noise_cap_ = dbm0_to_power(params_.noise_max_dbm0);
    tone_amplitude_ = dbm0_to_amplitude(params_.tone_dbm0);
    ring_.assign(static_cast<std::size_t>(delay_), 0);
    done_.reserve(8);
    // The tone's phase step in turns, fixed point (2^32 a turn): the oscillator is set from
    // it every kToneAnchor samples, so that its state after any count of samples can be
    // found without making them (advance()).
    osc_step_ = static_cast<std::uint32_t>(std::llround(params_.tone_hz / sample_rate * 4294967296.0));
    const double w = 2.0 * M_PI * osc_step_ / 4294967296.0;
    rot_re_ = std::cos(w);
    rot_im_ = std::sin(w);
    reset();
}

std::size_t Masker::recent_input(std::int16_t* out, std::size_t n) const noexcept {
    // The ring holds the last delay() inputs; ring_pos_ is the oldest (the next out).
    const std::size_t size = ring_.size();
    n = std::min(n, size);
    for (std::size_t i = 0; i < n; ++i) out[i] = ring_[(ring_pos_ + size - n + i) % size];
    return n;
}

void Masker::reset() noexcept {
    std::fill(ring_.begin(), ring_.end(), std::int16_t{0});
    ring_pos_ = 0;
    out_pos_ = -delay_;
    n_spans_ = 0;
    done_.clear();
    last_done_ = MaskSpan{-1, -1};
    no_ramp_at_ = INT64_MIN;
    late_ = 0;
    masked_ = 0;
    n_runs_ = 0;
    bg_fill_ = 0;
    bg_acc_ = 0;
    bg_min_cur_ = bg_min_prev_ = 1e30;
    bg_blocks_ = 0;
    rng_ = 0x9E3779B9u;
    osc_re_ = 1;
    osc_im_ = 0;
    osc_count_ = 0;
}

bool Masker::settled() const noexcept {
    if (out_pos_ < 0) return false;
    if (params_.mode == MaskMode::Noise && (bg_acc_ != 0.0 || bg_min_cur_ != 0.0)) return false;
    for (const std::int16_t v : ring_)
        if (v != 0) return false;
    return true;
}

void Masker::skip(std::int64_t n) noexcept {
    if (!ring_.empty()) ring_pos_ = static_cast<std::size_t>((static_cast<std::int64_t>(ring_pos_) + n) %
                                                             static_cast<std::int64_t>(ring_.size()));
    pass_spans(nullptr, out_pos_, out_pos_ + n);
    out_pos_ += n;
    if (params_.mode != MaskMode::Noise) return;
    // Silent blocks keep the segment's minimum at 0 (settled): a segment that ends passes 0
    // on as the previous one's, and the next starts from "none yet" until its first block.
    const std::int64_t fill = bg_fill_ + n;
    const std::int64_t blocks = bg_blocks_ + fill / bg_block_;
    bg_fill_ = static_cast<int>(fill % bg_block_);
    if (blocks >= kBgSegmentBlocks) {
        bg_min_prev_ = 0;
        bg_min_cur_ = blocks % kBgSegmentBlocks == 0 ? 1e30 : 0;
    }
    bg_blocks_ = static_cast<int>(blocks % kBgSegmentBlocks);
}

double Masker::background_power() const noexcept {
    return std::min(bg_min_cur_, bg_min_prev_) * bg_bias_;
}

double Masker::background_dbm0() const noexcept { return power_to_dbm0(background_power()); }

bool Masker::request(std::int64_t start, std::int64_t end, std::int64_t not_before) noexcept {
    const std::int64_t first = std::max<std::int64_t>({out_pos_, not_before, 0});
    bool on_time = true;
    if (start < first) {
        // Already output: fine if a span (still open, or the last one done) covered it.
        const bool covered = (n_spans_ > 0 && spans_[0].start <= start) ||
                             (last_done_.start <= start && last_done_.end >= first);
        // Real samples in [max(start, 0), first) went out unmasked.
        if (!covered && first > 0 && std::max<std::int64_t>(start, 0) < first) {
            ++late_;
            on_time = false;
        }
        start = first;
    }
    if (end <= start) return on_time;
    // Insert, merging anything that overlaps or nearly touches (5 ms): fewer edges.
    const std::int64_t join = join_;
    MaskSpan s{start, end};
    int i = 0, out = 0;
    std::array<MaskSpan, kMaxSpans> merged{};
    bool placed = false;
    for (; i < n_spans_; ++i) {
        const MaskSpan& cur = spans_[i];
        if (cur.end + join < s.start) {
            merged[out++] = cur;
        } else if (s.end + join < cur.start) {
            if (!placed) {
                merged[out++] = s;
                placed = true;
            }
            merged[out++] = cur;
        } else {
            s.start = std::min(s.start, cur.start);
            s.end = std::max(s.end, cur.end);
        }
        if (out >= kMaxSpans - 1) {
            ++i;
            break;
        }
    }
    // Too many spans: fold the rest into the new one (masks more, never less).
    for (; i < n_spans_; ++i) {
        s.start = std::min(s.start, spans_[i].start);
        s.end = std::max(s.end, spans_[i].end);
    }
    if (!placed) merged[out++] = s;
    std::sort(merged.begin(), merged.begin() + out,
              [](const MaskSpan& a, const MaskSpan& b) { return a.start < b.start; });
    spans_ = merged;
    n_spans_ = out;
    return on_time;
}

void Masker::finish_span(const MaskSpan& sp) noexcept {
    // Report a completed span, joining it to the last one when they touch.
    if (!done_.empty() && done_.back().end >= sp.start)
        done_.back().end = std::max(done_.back().end, sp.end);
    else
        done_.push_back(sp);
    last_done_ = done_.back();
}

void Masker::close_spans() noexcept {
    for (int i = 0; i < n_spans_; ++i) {
        const MaskSpan sp{spans_[i].start, std::min(spans_[i].end, out_pos_)};
        if (sp.end <= sp.start) continue;
        finish_span(sp);
    }
    n_spans_ = 0;
}

void Masker::track_background(const std::int16_t* x, std::size_t n) noexcept {
    while (n > 0) {
        const std::size_t k = std::min<std::size_t>(n, static_cast<std::size_t>(bg_block_ - bg_fill_));
        float acc = 0.0f;  // ≤ 240 squares of int16: exact enough in float, and vectorisable
        for (std::size_t i = 0; i < k; ++i) acc += float(x[i]) * float(x[i]);
        bg_acc_ += acc;
        bg_fill_ += static_cast<int>(k);
        x += k;
        n -= k;
        if (bg_fill_ < bg_block_) return;
        const double p = bg_acc_ / bg_block_;
        bg_acc_ = 0;
        bg_fill_ = 0;
        bg_min_cur_ = std::min(bg_min_cur_, p);
        if (++bg_blocks_ == kBgSegmentBlocks) {  // 1 s segments; the floor is the minimum over the last two
            bg_min_prev_ = bg_min_cur_;
            bg_min_cur_ = 1e30;
            bg_blocks_ = 0;
        }
    }
}

double Masker::next_uniform() noexcept {
    // Comfort noise: xorshift32, uniform in [-1, 1); times sqrt(3·floor) it has the floor's
    // mean power.
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 17;
    rng_ ^= rng_ << 5;
    return (double(rng_) / 4294967296.0) * 2.0 - 1.0;
}

namespace {
// xorshift32 is linear over GF(2): T^(2^k) for k < 64, each as the images of the 32 unit
// vectors, so that advancing the generator n steps costs one 32-word product per bit of n
// instead of n steps. Hand-written: 8 KiB of constants built once, no library does this.
struct XorshiftJumps {
    std::uint32_t m[64][32];
    static std::uint32_t step(std::uint32_t x) noexcept {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        return x;
    }
    static std::uint32_t apply(const std::uint32_t (&t)[32], std::uint32_t x) noexcept {
        std::uint32_t y = 0;
        for (int b = 0; x != 0; ++b, x >>= 1)
            if (x & 1u) y ^= t[b];
        return y;
    }
    XorshiftJumps() noexcept {
        for (int b = 0; b < 32; ++b) m[0][b] = step(1u << b);
        for (int k = 1; k < 64; ++k)
            for (int b = 0; b < 32; ++b) m[k][b] = apply(m[k - 1], m[k - 1][b]);
    }
};
}  // namespace

double Masker::next_tone() noexcept {
    if ((osc_count_ & (kToneAnchor - 1)) == 0) anchor_tone();
    const double re = osc_re_ * rot_re_ - osc_im_ * rot_im_;
    osc_im_ = osc_re_ * rot_im_ + osc_im_ * rot_re_;
    osc_re_ = re;
    ++osc_count_;
    return osc_im_ * tone_amplitude_;
}

void Masker::anchor_tone() noexcept {
    // The phasor at sample osc_count_, from the phase in fixed point (exact, wrap-safe).
    const double turns = static_cast<std::uint32_t>(osc_count_ * osc_step_) / 4294967296.0;
    osc_re_ = std::cos(2.0 * M_PI * turns);
    osc_im_ = std::sin(2.0 * M_PI * turns);
}

void Masker::advance(std::uint64_t n) noexcept {
    // The masking signal's generators as n samples of it would leave them.
    switch (params_.mode) {
        case MaskMode::Silence:
            break;
        case MaskMode::Noise: {
            static const XorshiftJumps kJumps;
            for (int k = 0; n != 0; ++k, n >>= 1)
                if (n & 1u) rng_ = XorshiftJumps::apply(kJumps.m[k], rng_);
            break;
        }
        case MaskMode::Tone: {
            // The last anchor, then the rotations since: as next_tone() made them.
            const auto r = static_cast<std::uint32_t>((osc_count_ + n) & (kToneAnchor - 1));
            osc_count_ = static_cast<std::uint32_t>(osc_count_ + n - r);
            if (r == 0) break;  // the next sample anchors afresh
            for (std::uint32_t i = 0; i < r; ++i) next_tone();
            break;
        }
    }
}

double Masker::noise_scale() const noexcept { return std::sqrt(3.0 * std::min(background_power(), noise_cap_)); }

void Masker::synthesize(std::int16_t* out, std::size_t n) noexcept {
    switch (params_.mode) {
        case MaskMode::Silence:
            std::fill(out, out + n, std::int16_t{0});
            break;
        case MaskMode::Noise: {
            const double scale = noise_scale();
            for (std::size_t i = 0; i < n; ++i) out[i] = to_pcm(next_uniform() * scale);
            break;
        }
        case MaskMode::Tone:
            for (std::size_t i = 0; i < n; ++i) out[i] = to_pcm(next_tone());
            break;
    }
}

std::int16_t Masker::mask_sample(std::int64_t t, std::int64_t span_start, std::int64_t span_end,
                                 std::int16_t original) noexcept {
    double m = 0;
    switch (params_.mode) {
        case MaskMode::Silence:
            break;
        case MaskMode::Noise:
            m = next_uniform() * noise_scale();
            break;
        case MaskMode::Tone:
            m = next_tone();
            break;
    }
    // No ramp in at the stream's first sample (nothing was heard before it to ramp from, and
    // the stream may start inside a keypress), nor where a mask goes on from masked audio
    // (continue_at).
    const std::int64_t into = ramps_in(span_start) ? t - span_start : INT64_MAX;
    const std::int64_t edge = std::min(into, span_end - 1 - t);
    if (edge < ramp_) {
        const double w = 0.5 - 0.5 * std::cos(M_PI * (double(edge) + 0.5) / ramp_);
        m = w * m + (1.0 - w) * original;
    }
    return to_pcm(m);
}

void Masker::mask_run(std::int16_t* out, std::int64_t a, std::int64_t b, const MaskSpan& sp) noexcept {
    // Samples [a, b) of span `sp`, in order (the noise and tone generators advance per
    // sample). The ramps go through mask_sample; the span's inside is made in one loop
    // (synthesize), with the same arithmetic, so the output is the same as sample by sample.
    const std::int64_t in_a = std::clamp(ramps_in(sp.start) ? sp.start + ramp_ : sp.start, a, b);
    const std::int64_t in_b = std::clamp(sp.end - ramp_, in_a, b);
    for (std::int64_t t = a; t < in_a; ++t) out[t - a] = mask_sample(t, sp.start, sp.end, out[t - a]);
    synthesize(out + (in_a - a), static_cast<std::size_t>(in_b - in_a));
    for (std::int64_t t = in_b; t < b; ++t) out[t - a] = mask_sample(t, sp.start, sp.end, out[t - a]);
}

void Masker::pass_spans(std::int16_t* out, std::int64_t t0, std::int64_t t1) noexcept {
    // Output [t0, t1) (out[0] is t0) through the spans it reaches: masked, counted, the runs
    // marked, spans passed whole finished. Without `out` (skip: a settled masker's input is
    // silence, and so is its masking signal, or it goes nowhere) the generators only move on.
    while (n_spans_ > 0) {
        const MaskSpan sp = spans_[0];
        if (sp.start >= t1) break;
        const std::int64_t a = std::max(sp.start, t0), b = std::min(sp.end, t1);
        if (b > a) {
            if (out != nullptr) mask_run(out + (a - t0), a, b, sp);
            else advance(static_cast<std::uint64_t>(b - a));
            masked_ += static_cast<std::uint64_t>(b - a);
            if (n_runs_ > 0 && runs_[n_runs_ - 1].end >= a - 1) runs_[n_runs_ - 1].end = b;
            else if (n_runs_ == kMaxRuns) runs_[kMaxRuns - 1].end = b;
            else runs_[static_cast<std::size_t>(n_runs_++)] = MaskSpan{a, b};
        }
        if (sp.end > t1) break;
        finish_span(sp);
        for (int i = 1; i < n_spans_; ++i) spans_[i - 1] = spans_[i];
        --n_spans_;
    }
}

void Masker::process(const std::int16_t* in, std::int16_t* out, std::size_t n) noexcept {
    const bool noise = params_.mode == MaskMode::Noise;
    while (n > 0) {
        std::size_t k = n;
        // Comfort noise: the floor an output sample sees must not depend on how the caller
        // chunked the input, so work in pieces that end on floor-block boundaries and update
        // the floor only after the piece's outputs are made.
        if (noise) k = std::min<std::size_t>(k, static_cast<std::size_t>(bg_block_ - bg_fill_));
        if (delay_ == 0) {
            std::memcpy(out, in, k * sizeof(std::int16_t));
        } else {
            k = std::min(k, ring_.size() - ring_pos_);
            // The delayed samples out, the new ones in: one pass (vectorised), not two
            // library calls per 5 ms piece.
            std::int16_t* r = ring_.data() + ring_pos_;
            if (k % kPiece == 0) {
                // Whole 5 ms detector pieces (the scrubber's usual calls): fixed-size copies,
                // a few vector moves each with no overlap checks. In place (`out` is `in`)
                // the delayed samples go through a buffer; else straight out.
                for (std::size_t j = 0; j < k; j += kPiece) {
                    if (out == in) {
                        std::int16_t delayed[kPiece];
                        std::memcpy(delayed, r + j, sizeof delayed);
                        std::memcpy(r + j, in + j, sizeof delayed);
                        std::memcpy(out + j, delayed, sizeof delayed);
                    } else {
                        std::memcpy(out + j, r + j, kPiece * sizeof(std::int16_t));
                        std::memcpy(r + j, in + j, kPiece * sizeof(std::int16_t));
                    }
                }
            } else {
                for (std::size_t i = 0; i < k; ++i) {
                    const std::int16_t delayed = r[i];
                    r[i] = in[i];
                    out[i] = delayed;
                }
            }
            ring_pos_ = ring_pos_ + k == ring_.size() ? 0 : ring_pos_ + k;
        }
        const std::int64_t t0 = out_pos_, t1 = out_pos_ + static_cast<std::int64_t>(k);
        if (t0 < 0) std::fill(out, out + std::min<std::int64_t>(t1, 0) - t0, std::int16_t{0});
        if (n_spans_ > 0 && spans_[0].start < t1) pass_spans(out, t0, t1);
        if (noise) track_background(in, k);
        out_pos_ = t1;
        in += k;
        out += k;
        n -= k;
    }
}

}  // namespace pcifilter
