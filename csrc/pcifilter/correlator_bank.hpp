// SPDX-License-Identifier: Apache-2.0
// A bank of complex correlators (single-bin DFTs) over consecutive sub-blocks of audio.
//
// Each completed sub-block yields, for every configured frequency f, the complex sum
// C(f) = Σ x[n]·e^{-j2πf n/fs} with n the *absolute* sample index, plus the sub-block energy.
// Because the phase reference is absolute, the DFT of any run of consecutive sub-blocks is
// just the sum of their C(f); detectors build overlapping windows and phase-difference
// frequency estimates from that without touching the samples again. Results depend only on
// the sample sequence, never on how it was chunked.
#pragma once

#include <array>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "pcifilter/cpu_level.hpp"

namespace pcifilter {

constexpr int kBankMaxFreqs = 8;   // 16 float lanes: two AVX2 registers per sample
constexpr int kBankLanes = 2 * kBankMaxFreqs;
constexpr int kMaxSubBlock = 64;

// |z|². libstdc++'s std::norm goes through hypot() unless -ffast-math: far too slow here.
template <typename T>
inline T sq_mag(std::complex<T> z) noexcept {
    return z.real() * z.real() + z.imag() * z.imag();
}

// No default member initialisers: a SubBlock about to be written whole is not zeroed first
// (four a call on the detector's path, `rep stos` an eighth of its time there); `SubBlock{}`
// is all zeros.
struct SubBlock {
    std::array<std::complex<float>, kBankMaxFreqs> corr;
    float energy;  // Σ x² over the sub-block

    // A sub-block of silence (its correlations zero, of either sign).
    bool silent() const noexcept {
        for (const auto& z : corr)
            if (z.real() != 0.0f || z.imag() != 0.0f) return false;
        return energy == 0.0f;
    }
};

// The strongest of frequencies 0-3 and of 4-7 in a window, and their |W|².
struct WindowPeaks {
    float low_q, high_q;
    int low, high;
};

// Immutable per-configuration tables, shared by every stream using the same frequencies.
struct BankTables {
    // `widest`: the widest instruction set the kernels may use (narrowed to one the CPU runs).
    BankTables(const std::vector<double>& freqs_hz, int sub_block, double sample_rate,
               BankIsa widest = best_bank_isa());
    BankIsa isa = BankIsa::portable;  // the kernels' instruction set
    int n_freqs;
    int sub_block;
    int padded;                      // sub_block rounded up to 16 (zeros past sub_block)
    std::vector<std::int16_t> basis;  // [kBankLanes][padded], Q10: cos, -sin per frequency
    // The same basis by sample pairs: [sub_block / 2][kBankLanes][2], lane k holding
    // (b_k[2p], b_k[2p+1]), for kernels that broadcast two samples against all 16 lanes.
    // One pair's 16 lanes are 64 bytes, a cache line: aligned so, a 512-bit load reads one.
    struct alignas(64) PairLanes {
        std::int16_t v[kBankLanes * 2];
    };
    std::vector<PairLanes> pair_basis;
    // Correlation kernels picked for this CPU: tables, samples, 16 sums out, energy out.
    // `kernel` may read `padded` samples (the bank's zero-padded buffer); `exact_kernel`
    // reads exactly `sub_block` (samples in the caller's memory). Both give the same, exact
    // integer sums.
    using Kernel = void (*)(const BankTables&, const std::int16_t*, std::int32_t*, std::uint64_t*);
    Kernel kernel;
    Kernel exact_kernel;
    static constexpr int kMaxPeriod = 400;
    int period = 0;  // sub-blocks after which the phase reference repeats (0: it does not)
    // [period][kBankLanes], interleaved like the sums: (cos, cos) and (-sin, sin) of the
    // phase -ωSb, over 1024 (the basis scale); a sum (re, im) rotates to
    // (re, im)·rot_a + (im, re)·rot_b.
    std::vector<float> rot_a, rot_b;
    using Rotate = void (*)(const std::int32_t*, const float*, const float*, float*);
    Rotate rotate;
    // |Σ C(f)|² over three sub-blocks, per frequency: the power of a 3-sub-block window
    // (first, second, third sub-block's 16 lanes in; 8 powers out), and the strongest of
    // frequencies 0-3 and of 4-7 (DTMF's row and column; the first index among equals),
    // returned in registers: the caller tests them at once.
    using Powers3 = WindowPeaks (*)(const float*, const float*, const float*, float*);
    Powers3 powers3;
    // exact_kernel, the tabulated rotation and powers3 in one pass (where the CPU has one for
    // this configuration, else null): tables, samples, rotation lanes (rot_a + offset), the
    // window's first two sub-blocks, the new sub-block out, 8 powers out. The same floats as
    // the three steps; no store and reload between them.
    using Fused = WindowPeaks (*)(const BankTables&, const std::int16_t*, std::size_t, const SubBlock&,
                                  const SubBlock&, SubBlock*, float*);
    Fused fused = nullptr;
    // `fused` over four consecutive sub-blocks (4 × sub_block samples), where the CPU has it:
    // their rotation offsets, the first window's first two sub-blocks, the four new
    // sub-blocks out, their windows' peaks and powers (8 a window) out.
    using Fused4 = void (*)(const BankTables&, const std::int16_t*, const std::size_t*,
                            const SubBlock&, const SubBlock&, SubBlock*, WindowPeaks*, float*);
    Fused4 fused4 = nullptr;
    std::array<double, kBankMaxFreqs> step_re{}, step_im{};  // e^{-jωS}
};

class CorrelatorBank {
public:
    // `buffered`: false when only block() is used (no sub-block buffer is kept).
    explicit CorrelatorBank(std::shared_ptr<const BankTables> tables, bool buffered = true);

    // Consumes samples up to the end of the current sub-block. Returns how many were used;
    // when the sub-block completed, `ready()` is true and `out` (or `last()`) holds it.
    std::size_t feed(const std::int16_t* x, std::size_t n, SubBlock* out) noexcept;
    std::size_t feed(const std::int16_t* x, std::size_t n) noexcept { return feed(x, n, &last_); }
    // One whole sub-block straight from the caller's memory (exactly `sub_block` samples
    // are read), for callers that keep the samples anyway. Do not mix with feed().
    void block(const std::int16_t* x, SubBlock* out) noexcept;
    // block(), then the powers of the window of sub-blocks `first`, `second` and the new one
    // (BankTables::powers3): in one pass where the CPU allows. 8 frequencies only.
    WindowPeaks block_window(const std::int16_t* x, const SubBlock& first, const SubBlock& second,
                             SubBlock* out, float* q) noexcept {
        const BankTables& t = *tables_;
        if (t.fused != nullptr && t.period > 0) {
            const std::size_t at = next_phase();
            ++blocks_done_;
            ready_ = true;
            return t.fused(t, x, at, first, second, out, q);
        }
        block(x, out);
        return t.powers3(reinterpret_cast<const float*>(first.corr.data()),
                         reinterpret_cast<const float*>(second.corr.data()),
                         reinterpret_cast<const float*>(out->corr.data()), q);
    }
    // block_window() for four consecutive whole sub-blocks (4 × sub_block samples from `x`):
    // `out[k]` and the window ending with it (`peaks[k]`, powers `q[8k..8k+7]`), the windows
    // running on from `first` and `second`. The same results as four block_window() calls,
    // in one pass where the CPU allows (BankTables::fused4). 8 frequencies only.
    void block_windows4(const std::int16_t* x, const SubBlock& first, const SubBlock& second,
                        SubBlock* out, WindowPeaks* peaks, float* q) noexcept {
        const BankTables& t = *tables_;
        if (t.fused4 != nullptr && t.period > 0) {
            std::size_t at[4];
            for (std::size_t& a : at) a = next_phase();
            blocks_done_ += 4;
            ready_ = true;
            t.fused4(t, x, at, first, second, out, peaks, q);
            return;
        }
        // Window k runs over sub-blocks in_turn[k], in_turn[k + 1] and the new out[k].
        const SubBlock* in_turn[5] = {&first, &second, out, out + 1, out + 2};
        for (int k = 0; k < 4; ++k)
            peaks[k] = block_window(x + k * t.sub_block, *in_turn[k], *in_turn[k + 1], out + k,
                                    q + 8 * k);
    }
    bool ready() const noexcept { return ready_; }
    bool between_blocks() const noexcept { return fill_ == 0; }
    const SubBlock& last() const noexcept { return last_; }
    std::int64_t blocks_done() const noexcept { return blocks_done_; }
    const BankTables& tables() const noexcept { return *tables_; }
    void reset() noexcept;
    // As if k whole sub-blocks of silence had been correlated, none of them kept: the phase
    // reference moves on (for callers whose every sub-block ring holds silence already; see
    // Scrubber::skip_silence). Only between sub-blocks (feed() holds none part-filled).
    void skip_blocks(std::int64_t k) noexcept;
    std::size_t heap_bytes() const noexcept { return buf_.capacity() * sizeof(std::int16_t); }

private:
    // The tabulated phase of the sub-block being finished (its offset into rot_a/rot_b),
    // and the next one's: no division per block.
    std::size_t next_phase() noexcept {
        const auto at = static_cast<std::size_t>(phase_index_) * kBankLanes;
        if (++phase_index_ == tables_->period) phase_index_ = 0;
        return at;
    }
    void rotate_by_recurrence(const std::int32_t* acc, SubBlock* out) noexcept;
    void step_phasor(std::size_t k) noexcept;  // frequency k's phase reference, a sub-block on
    void finish_block(const std::int32_t* acc, std::uint64_t energy, SubBlock* out) noexcept;

    std::shared_ptr<const BankTables> tables_;
    std::vector<std::int16_t> buf_;  // the sub-block being filled (zero-padded to `padded`)
    int fill_ = 0;
    bool ready_ = false;
    std::int64_t blocks_done_ = 0;
    int phase_index_ = 0;  // blocks_done_ modulo the table's period
    std::array<double, kBankMaxFreqs> phasor_re_{}, phasor_im_{};  // e^{-jω·n0}
    SubBlock last_{};
};

}  // namespace pcifilter
