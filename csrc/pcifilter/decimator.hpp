// SPDX-License-Identifier: Apache-2.0
// Streaming integer-factor decimator (16000 or 48000 Hz to 8000 Hz) for detection.
//
// A linear-phase Blackman-windowed-sinc low-pass cut at 3600 Hz; only every M-th output is
// computed. Its group delay, (taps - 1) / 2 input samples, is reported so that detections
// at 8000 Hz can be mapped back onto the input's sample clock.
//
// Exact integer arithmetic, as the correlator bank's: taps in Q15 (summing to exactly 1),
// int16 samples, products summed in int32 (no sum can overflow: the taps' magnitudes add up
// to under 2), so every CPU and every vector width gives the same outputs, whatever the
// chunking. The sums run with AVX2 or AVX-512 VNNI where the CPU has them (the level of
// cpu_level.hpp).
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
    // phase on (skip). See Scrubber::skip_silence.
    bool settled() const noexcept;
    void skip(std::size_t n) noexcept;
    int factor() const noexcept { return factor_; }
    std::size_t state_bytes() const noexcept {
        return sizeof(*this) + taps_.capacity() * sizeof(std::int16_t) + buf_.capacity() * sizeof(std::int16_t);
    }
    int delay() const noexcept { return (n_taps_ - 1) / 2; }
    // The most outputs `n` inputs can give.
    std::size_t max_output(std::size_t n) const noexcept { return n / factor_ + 1; }

private:
    std::vector<std::int16_t> taps_;  // Q15, padded_ of them
    // The inputs in order: the last n_taps_ - 1 at least, then room for a 5 ms piece (when
    // full, the last n_taps_ - 1 move to the front), then padded_ - n_taps_ more that the
    // dot product reads against zero taps.
    std::vector<std::int16_t> buf_;
    int factor_;
    int n_taps_;     // odd: an integer group delay
    int padded_;     // n_taps_ rounded up to 32 (zero taps past the last)
    int fill_ = 0;   // inputs in buf_
    int room_ = 0;   // where buf_'s inputs end at most
    int phase_ = 0;  // inputs since the last output
};

}  // namespace pcifilter
