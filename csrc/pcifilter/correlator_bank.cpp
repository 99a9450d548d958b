// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/correlator_bank.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace pcifilter {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
// Runtime CPU dispatch: an AVX2+FMA clone is picked by the loader where the CPU has it.
#define PCIFILTER_DISPATCH __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define PCIFILTER_DISPATCH
#endif

namespace {

using v8sf = float __attribute__((vector_size(32)));  // GCC/Clang vector extension

// One whole sub-block: 16 correlator lanes and the energy. Four samples per step into four
// independent accumulator pairs, so the FMA chains overlap instead of waiting on each other.
// Always called on a full, buffered sub-block: the summation order never depends on how the
// caller chunked its input, so results are bit-identical under any chunking.
PCIFILTER_DISPATCH
void correlate_block(const float* __restrict basis, const std::int16_t* __restrict x, int n,
                     float* __restrict out, float* __restrict energy_out) {
    // Convert the block to float eight samples at a time (and sum its energy), so that the
    // correlation loop below broadcasts each sample straight from memory.
    alignas(32) float xf[kMaxSubBlock];
    v8sf e = {};
    for (int i = 0; i < n; i += 8) {
        v8sf xv;
        for (int k = 0; k < 8; ++k) xv[k] = static_cast<float>(x[i + k]);
        e += xv * xv;
        std::memcpy(xf + i, &xv, sizeof xv);
    }
    v8sf acc[8] = {};
    for (int i = 0; i < n; i += 4) {
        for (int u = 0; u < 4; ++u) {
            const float v = xf[i + u];
            v8sf b0, b1;
            std::memcpy(&b0, basis + (i + u) * kBankLanes, sizeof b0);
            std::memcpy(&b1, basis + (i + u) * kBankLanes + 8, sizeof b1);
            acc[2 * u] += v * b0;
            acc[2 * u + 1] += v * b1;
        }
    }
    const v8sf lo = (acc[0] + acc[2]) + (acc[4] + acc[6]);
    const v8sf hi = (acc[1] + acc[3]) + (acc[5] + acc[7]);
    std::memcpy(out, &lo, sizeof lo);
    std::memcpy(out + 8, &hi, sizeof hi);
    float total = 0.0f;
    for (int k = 0; k < 8; ++k) total += e[k];
    *energy_out = total;
}

}  // namespace

BankTables::BankTables(const std::vector<double>& freqs_hz, int sub_block_, double sample_rate)
    : n_freqs(static_cast<int>(freqs_hz.size())), sub_block(sub_block_) {
    if (freqs_hz.empty() || freqs_hz.size() > kBankMaxFreqs)
        throw std::invalid_argument("correlator bank takes 1 to 8 frequencies");
    if (sub_block < 8 || sub_block > kMaxSubBlock || sub_block % 8 != 0)
        throw std::invalid_argument("sub_block must be a multiple of 8 within [8, 256]");
    basis.assign(static_cast<std::size_t>(sub_block) * kBankLanes, 0.0f);
    step_re.fill(1.0);
    step_im.fill(0.0);
    for (int k = 0; k < n_freqs; ++k) {
        const double w = 2.0 * M_PI * freqs_hz[static_cast<std::size_t>(k)] / sample_rate;
        for (int n = 0; n < sub_block; ++n) {
            basis[static_cast<std::size_t>(n * kBankLanes + 2 * k)] = static_cast<float>(std::cos(w * n));
            basis[static_cast<std::size_t>(n * kBankLanes + 2 * k + 1)] = static_cast<float>(-std::sin(w * n));
        }
        step_re[static_cast<std::size_t>(k)] = std::cos(w * sub_block);
        step_im[static_cast<std::size_t>(k)] = -std::sin(w * sub_block);
    }
}

CorrelatorBank::CorrelatorBank(std::shared_ptr<const BankTables> tables)
    : tables_(std::move(tables)), buf_(static_cast<std::size_t>(tables_->sub_block)) {
    reset();
}

void CorrelatorBank::reset() noexcept {
    fill_ = 0;
    ready_ = false;
    blocks_done_ = 0;
    phasor_re_.fill(1.0);
    phasor_im_.fill(0.0);
    last_ = SubBlock{};
}

std::size_t CorrelatorBank::feed(const std::int16_t* x, std::size_t n, SubBlock* out) noexcept {
    const int S = tables_->sub_block;
    const std::size_t take = std::min<std::size_t>(n, static_cast<std::size_t>(S - fill_));
    std::memcpy(buf_.data() + fill_, x, take * sizeof(std::int16_t));
    fill_ += static_cast<int>(take);
    ready_ = fill_ == S;
    if (ready_) {
        correlate_block(tables_->basis.data(), buf_.data(), S, acc_.data(), &out->energy);
        // Rotate each sum onto the absolute phase reference, then advance the reference.
        // Written out by hand: std::complex's operator* calls __muldc3 (NaN handling).
        for (int k = 0; k < tables_->n_freqs; ++k) {
            const auto kk = static_cast<std::size_t>(k);
            const double re = acc_[2 * kk], im = acc_[2 * kk + 1];
            const double pr = phasor_re_[kk], pi = phasor_im_[kk];
            out->corr[kk] = {static_cast<float>(re * pr - im * pi), static_cast<float>(re * pi + im * pr)};
            const double sr = tables_->step_re[kk], si = tables_->step_im[kk];
            double nr = pr * sr - pi * si, ni = pr * si + pi * sr;
            // One Newton step towards |phasor| = 1 keeps the recurrence on the unit circle.
            const double g = 1.5 - 0.5 * (nr * nr + ni * ni);
            phasor_re_[kk] = nr * g;
            phasor_im_[kk] = ni * g;
        }
        fill_ = 0;
        ++blocks_done_;
    }
    return take;
}

}  // namespace pcifilter
