// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/decimator.hpp"

#include <cmath>
#include <stdexcept>

namespace pcifilter {

Decimator::Decimator(int input_rate) {
    if (input_rate != 16000 && input_rate != 48000)
        throw std::invalid_argument("decimator input rate must be 16000 or 48000");
    factor_ = input_rate / 8000;
    const int n_taps = 24 * factor_ + 1;  // odd: integer group delay
    const double fc = 3600.0 / input_rate;
    taps_.resize(static_cast<std::size_t>(n_taps));
    double sum = 0;
    for (int i = 0; i < n_taps; ++i) {
        const double m = i - (n_taps - 1) / 2.0;
        const double sinc = m == 0 ? 2 * fc : std::sin(2 * M_PI * fc * m) / (M_PI * m);
        const double win = 0.42 - 0.5 * std::cos(2 * M_PI * i / (n_taps - 1)) +
                           0.08 * std::cos(4 * M_PI * i / (n_taps - 1));
        taps_[static_cast<std::size_t>(i)] = static_cast<float>(sinc * win);
        sum += sinc * win;
    }
    for (float& t : taps_) t = static_cast<float>(t / sum);
    history_.assign(2 * taps_.size(), 0.0f);
    reset();
}

void Decimator::reset() noexcept {
    std::fill(history_.begin(), history_.end(), 0.0f);
    pos_ = 0;
    phase_ = 0;
}

bool Decimator::settled() const noexcept {
    for (const float v : history_)
        if (v != 0.0f) return false;
    return true;
}

void Decimator::skip(std::size_t n) noexcept {
    pos_ = (pos_ + n) % taps_.size();
    phase_ = static_cast<int>((static_cast<std::size_t>(phase_) + n) % static_cast<std::size_t>(factor_));
}

std::size_t Decimator::process(const std::int16_t* in, std::size_t n, std::int16_t* out) noexcept {
    const std::size_t T = taps_.size();
    std::size_t produced = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const float v = static_cast<float>(in[i]);
        history_[pos_] = v;
        history_[pos_ + T] = v;
        pos_ = pos_ + 1 == T ? 0 : pos_ + 1;
        if (++phase_ == factor_) {
            phase_ = 0;
            // history_[pos_ .. pos_+T) holds the last T inputs, oldest first.
            const float* h = history_.data() + pos_;
            float acc = 0.0f;
            for (std::size_t k = 0; k < T; ++k) acc += taps_[T - 1 - k] * h[k];
            const float r = std::nearbyint(acc);
            out[produced++] = static_cast<std::int16_t>(r > 32767.f ? 32767.f : (r < -32768.f ? -32768.f : r));
        }
    }
    return produced;
}

}  // namespace pcifilter
