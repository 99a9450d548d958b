// SPDX-License-Identifier: Apache-2.0
// Streaming integer-factor decimator (16000 or 48000 Hz to 8000 Hz) for detection.
//
// A linear-phase Blackman-windowed-sinc low-pass cut at 3600 Hz; only every M-th output is
// computed. Its group delay, (taps - 1) / 2 input samples, is reported so that detections
// at 8000 Hz can be mapped back onto the input's sample clock.
#pragma once

#include <cstdint>
#include <vector>

namespace pcifilter {

class Decimator {
public:
    explicit Decimator(int input_rate);  // 16000 or 48000

    // Consumes n input samples; writes floor((phase + n) / M) samples to out.
    std::size_t process(const std::int16_t* in, std::size_t n, std::int16_t* out) noexcept;
    void reset() noexcept;
    // Its history all silence: n more samples of it (a multiple of factor()) only move its
    // place in the history on (skip). See Scrubber::skip_silence.
    bool settled() const noexcept;
    void skip(std::size_t n) noexcept;
    int factor() const noexcept { return factor_; }
    std::size_t state_bytes() const noexcept {
        return sizeof(*this) + (taps_.capacity() + history_.capacity()) * sizeof(float);
    }
    int delay() const noexcept { return static_cast<int>(taps_.size() - 1) / 2; }
    // The most outputs `n` inputs can give.
    std::size_t max_output(std::size_t n) const noexcept { return n / factor_ + 1; }

private:
    int factor_;
    std::vector<float> taps_;
    std::vector<float> history_;  // the last taps-1 inputs, twice over, so a window is contiguous
    std::size_t pos_ = 0;
    int phase_ = 0;
};

}  // namespace pcifilter
