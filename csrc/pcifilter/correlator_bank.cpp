// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/correlator_bank.hpp"

#include <cmath>
#include <stdexcept>

namespace pcifilter {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
// Runtime CPU dispatch: an AVX2+FMA clone is picked by the loader where the CPU has it.
#define PCIFILTER_DISPATCH __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define PCIFILTER_DISPATCH
#endif

namespace {

PCIFILTER_DISPATCH
void accumulate(const float* __restrict basis, const std::int16_t* __restrict x, std::size_t n,
                float* __restrict acc_out, float* __restrict energy_out) {
    float acc[kBankLanes];
    for (int k = 0; k < kBankLanes; ++k) acc[k] = acc_out[k];
    float energy = *energy_out;
    for (std::size_t i = 0; i < n; ++i) {
        const float v = static_cast<float>(x[i]);
        energy += v * v;
        const float* b = basis + i * kBankLanes;
        for (int k = 0; k < kBankLanes; ++k) acc[k] += v * b[k];
    }
    for (int k = 0; k < kBankLanes; ++k) acc_out[k] = acc[k];
    *energy_out = energy;
}

}  // namespace

BankTables::BankTables(const std::vector<double>& freqs_hz, int sub_block_, double sample_rate)
    : n_freqs(static_cast<int>(freqs_hz.size())), sub_block(sub_block_) {
    if (freqs_hz.empty() || freqs_hz.size() > kBankMaxFreqs)
        throw std::invalid_argument("correlator bank takes 1 to 8 frequencies");
    if (sub_block < 8 || sub_block > 1024) throw std::invalid_argument("sub_block out of range");
    basis.assign(static_cast<std::size_t>(sub_block) * kBankLanes, 0.0f);
    step.fill({1.0, 0.0});
    for (int k = 0; k < n_freqs; ++k) {
        const double w = 2.0 * M_PI * freqs_hz[static_cast<std::size_t>(k)] / sample_rate;
        for (int n = 0; n < sub_block; ++n) {
            basis[static_cast<std::size_t>(n * kBankLanes + 2 * k)] = static_cast<float>(std::cos(w * n));
            basis[static_cast<std::size_t>(n * kBankLanes + 2 * k + 1)] = static_cast<float>(-std::sin(w * n));
        }
        step[static_cast<std::size_t>(k)] = std::polar(1.0, -w * sub_block);
    }
}

CorrelatorBank::CorrelatorBank(std::shared_ptr<const BankTables> tables) : tables_(std::move(tables)) {
    reset();
}

void CorrelatorBank::reset() noexcept {
    acc_.fill(0.0f);
    energy_ = 0.0f;
    fill_ = 0;
    ready_ = false;
    blocks_done_ = 0;
    phasor_.fill({1.0, 0.0});
    last_ = SubBlock{};
}

std::size_t CorrelatorBank::feed(const std::int16_t* x, std::size_t n) noexcept {
    const int S = tables_->sub_block;
    const std::size_t take = std::min<std::size_t>(n, static_cast<std::size_t>(S - fill_));
    accumulate(tables_->basis.data() + static_cast<std::size_t>(fill_) * kBankLanes, x, take,
               acc_.data(), &energy_);
    fill_ += static_cast<int>(take);
    ready_ = fill_ == S;
    if (ready_) {
        for (int k = 0; k < tables_->n_freqs; ++k) {
            const auto kk = static_cast<std::size_t>(k);
            const std::complex<double> c(acc_[2 * kk], acc_[2 * kk + 1]);
            last_.corr[kk] = std::complex<float>(c * phasor_[kk]);
            phasor_[kk] *= tables_->step[kk];
            phasor_[kk] /= std::abs(phasor_[kk]);  // keep the recurrence on the unit circle
        }
        last_.energy = energy_;
        acc_.fill(0.0f);
        energy_ = 0.0f;
        fill_ = 0;
        ++blocks_done_;
    }
    return take;
}

}  // namespace pcifilter
