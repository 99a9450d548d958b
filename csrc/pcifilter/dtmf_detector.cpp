// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/dtmf_detector.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "pcifilter/levels.hpp"

namespace pcifilter {
namespace {

constexpr int kN = DtmfDetector::kSubBlock * DtmfDetector::kWindowBlocks;
constexpr double kFs = DtmfDetector::kSampleRate;

// Magnitude response of a kN-sample rectangular DFT bin to a tone `offset_hz` away.
double bin_gain(double offset_hz) {
    const double x = M_PI * offset_hz / kFs;
    if (std::fabs(x) < 1e-12) return 1.0;
    return std::fabs(std::sin(kN * x) / (kN * std::sin(x)));
}

double offset_hz(std::complex<double> z) {
    return std::arg(z) * kFs / (2.0 * M_PI * DtmfDetector::kSubBlock);
}

double db(double ratio) { return 10.0 * std::log10(std::max(ratio, 1e-30)); }

}  // namespace

void DtmfParams::validate() const {
    if (!(min_level_dbm0 >= -70.0 && min_level_dbm0 <= 0.0))
        throw std::invalid_argument("min_level_dbm0 must be within [-70, 0]");
    if (!(max_twist_db >= 0.0 && max_twist_db <= 20.0) ||
        !(max_reverse_twist_db >= 0.0 && max_reverse_twist_db <= 20.0))
        throw std::invalid_argument("twist limits must be within [0, 20] dB");
    if (!(max_freq_error > 0.0 && max_freq_error <= 0.05))
        throw std::invalid_argument("max_freq_error must be within (0, 0.05]");
    if (!(min_duration_ms >= 15.0 && min_duration_ms <= 200.0))
        throw std::invalid_argument("min_duration_ms must be within [15, 200]");
    if (!(max_dropout_ms >= 0.0 && max_dropout_ms <= 100.0))
        throw std::invalid_argument("max_dropout_ms must be within [0, 100]");
    if (!(min_energy_ratio > 0.0 && min_energy_ratio <= 1.0) ||
        !(mask_min_energy_ratio > 0.0 && mask_min_energy_ratio <= 1.0))
        throw std::invalid_argument("energy ratios must be within (0, 1]");
    if (!(mask_min_level_dbm0 >= -70.0 && mask_min_level_dbm0 <= 0.0))
        throw std::invalid_argument("mask_min_level_dbm0 must be within [-70, 0]");
}

std::shared_ptr<const BankTables> dtmf_bank_tables() {
    // Immutable and shared by every detector: computed once, never written again.
    static const std::shared_ptr<const BankTables> tables = std::make_shared<const BankTables>(
        std::vector<double>(DtmfDetector::kFreqs.begin(), DtmfDetector::kFreqs.end()),
        DtmfDetector::kSubBlock, kFs);
    return tables;
}

DtmfDetector::DtmfDetector(const DtmfParams& params)
    : params_(params), bank_(dtmf_bank_tables()) {
    params_.validate();
    min_power_ = dbm0_to_power(params_.min_level_dbm0);
    mask_min_power_ = dbm0_to_power(params_.mask_min_level_dbm0);
    // A window step is one sub-block (5 ms); a gap of g ms of invalid windows spans g/5 steps.
    max_gap_windows_ = static_cast<int>(params_.max_dropout_ms / 5.0 + 0.5);
    // Per-window twist limits are 4 dB looser than the final ones (frequency error, edges).
    twist_hi_ = std::pow(10.0, (params_.max_twist_db + 4.0) / 10.0);
    twist_lo_ = std::pow(10.0, (params_.max_reverse_twist_db + 4.0) / 10.0);
    reset();
}

void DtmfDetector::reset() noexcept {
    bank_.reset();
    ring_ = {};
    samples_ = 0;
    block_ = -1;
    run_ = Run{};
    cand_first_ = -1;
    cand_last_ = -10;
    cand_confirmed_ = false;
}

void DtmfDetector::process(const std::int16_t* x, std::size_t n, std::vector<ToneEvent>* events,
                           std::vector<MaskRequest>* masks) noexcept {
    while (n > 0) {
        const std::size_t used = bank_.feed(x, n);
        x += used;
        n -= used;
        samples_ += static_cast<std::int64_t>(used);
        if (bank_.ready()) on_sub_block(bank_.last(), events, masks);
    }
}

void DtmfDetector::flush(std::vector<ToneEvent>* events) noexcept {
    if (run_.active) finish_run(events);
}

double DtmfDetector::pair_amplitude(std::int64_t block, int row, int col) const noexcept {
    // Row and column together: in a 5 ms sub-block a strong tone leaks into the other
    // group's bin at about -14 dB, so the weaker tone's own magnitude is not a steady
    // measure at high twist; the pair's is.
    if (block < 0 || block < block_ - 3) return 0.0;
    const SubBlock& s = ring(block);
    return std::sqrt(double(sq_mag(s.corr[row])) + sq_mag(s.corr[col]));
}

double DtmfDetector::coverage(std::int64_t block, int row, int col, double ref) const noexcept {
    if (ref <= 0) return 0.0;
    return std::clamp(pair_amplitude(block, row, col) / ref, 0.0, 1.0);
}

void DtmfDetector::on_sub_block(const SubBlock& sb, std::vector<ToneEvent>* events,
                                std::vector<MaskRequest>* masks) noexcept {
    ++block_;
    ring_[block_ & 3] = sb;
    const std::int64_t b = block_;
    if (b < kWindowBlocks - 1) return;
    constexpr std::int64_t S = kSubBlock;

    // The 15 ms window ending with this sub-block: |W|² per frequency, in float on the raw
    // lanes (this runs every 5 ms on every stream; most windows fail the first test).
    const float* s0 = reinterpret_cast<const float*>(ring(b - 2).corr.data());
    const float* s1 = reinterpret_cast<const float*>(ring(b - 1).corr.data());
    const float* s2 = reinterpret_cast<const float*>(ring(b).corr.data());
    float wl[16];
    for (int k = 0; k < 16; ++k) wl[k] = s0[k] + s1[k] + s2[k];
    float q[8];
    for (int f = 0; f < 8; ++f) q[f] = wl[2 * f] * wl[2 * f] + wl[2 * f + 1] * wl[2 * f + 1];
    int r = 0, c = 4;
    for (int f = 1; f < 4; ++f)
        if (q[f] > q[r]) r = f;
    for (int f = 5; f < 8; ++f)
        if (q[f] > q[c]) c = f;
    const float energy = ring(b - 2).energy + ring(b - 1).energy + ring(b).energy;
    // Tone power is 2|W|²/N² and mean power E/N, so the share test is 2(|Wr|²+|Wc|²) ≥ ρ·E·N.
    const bool share_ok =
        2.0f * (q[r] + q[c]) >= static_cast<float>(params_.mask_min_energy_ratio) * energy * kN;
    std::array<std::complex<float>, 8> w{};
    std::array<double, 8> p{};
    double mean_power = 0, r2 = 0, c2 = 0;
    if (share_ok) {
        for (int f = 0; f < 8; ++f) {
            w[f] = {wl[2 * f], wl[2 * f + 1]};
            p[f] = 2.0 * q[f] / (double(kN) * kN);
        }
        mean_power = double(energy) / kN;
        for (int f = 0; f < 4; ++f)
            if (f != r) r2 = std::max(r2, p[f]);
        for (int f = 4; f < 8; ++f)
            if (f != c) c2 = std::max(c2, p[f]);
    }
    // Limits compared as power ratios: no logarithms per window.
    const double pr = p[r], pc = p[c], tones = pr + pc;
    const bool cand = share_ok && pr >= mask_min_power_ && pc >= mask_min_power_ &&
                      pc <= 25.1 * pr && pr <= 39.8 * pc && r2 * 2.0 <= pr &&
                      c2 * 2.0 <= pc;  // twist within +14 / -16 dB
    bool valid = false;
    std::complex<double> zr{}, zc{};
    if (cand) {
        const double window_min = min_power_ * 0.4;  // -4 dB: frequency error and edges
        double m = 0;
        for (int i = 0; i < 3; ++i) m += pair_amplitude(b - i, r, c) / 3.0;
        bool steady = true;
        for (int i = 0; i < 3; ++i) steady = steady && pair_amplitude(b - i, r, c) >= 0.55 * m;
        valid = steady && pr >= window_min && pc >= window_min && pc <= twist_hi_ * pr &&
                pr <= twist_lo_ * pc && r2 * 4.0 <= pr && c2 * 4.0 <= pc &&
                tones >= params_.min_energy_ratio * mean_power;
        if (valid && b >= kWindowBlocks) {
            const auto prev = [&](int f) {
                return std::complex<double>(ring(b - 3).corr[f] + ring(b - 2).corr[f] +
                                            ring(b - 1).corr[f]);
            };
            zr = std::complex<double>(w[r]) * std::conj(prev(r));
            zc = std::complex<double>(w[c]) * std::conj(prev(c));
            // A loose per-window frequency check keeps speech from building long runs; the
            // strict limit is applied to the estimate over the whole tone.
            valid = std::fabs(offset_hz(zr)) <= 0.04 * kFreqs[r] &&
                    std::fabs(offset_hz(zc)) <= 0.04 * kFreqs[c];
        }
    }

    // Mask requests: two candidate windows within three steps confirm a streak.
    if (cand || valid) {
        if (b - cand_last_ > 2) {
            cand_first_ = b;
            cand_confirmed_ = false;
        }
        cand_last_ = b;
        if (b > cand_first_) cand_confirmed_ = true;
        if (cand_confirmed_ && masks != nullptr)
            masks->push_back({(cand_first_ - 2) * S - kMaskGuard, (b + 1) * S + kMaskGuard});
    }

    // Digit runs.
    if (valid) {
        if (run_.active && (run_.row != r || run_.col != c)) finish_run(events);
        if (!run_.active) {
            run_ = Run{};
            run_.active = true;
            run_.row = r;
            run_.col = c;
            // Onset inside the window's first sub-block, or in the one before it.
            const double ref = 0.5 * (pair_amplitude(b - 1, r, c) + pair_amplitude(b, r, c));
            const double c0 = coverage(b - 2, r, c, ref);
            const std::int64_t ws = (b - 2) * S;
            run_.start = ws + static_cast<std::int64_t>(std::lround(S * (1.0 - c0)));
            if (c0 > 0.9 && b >= 3) {
                const double cp = coverage(b - 3, r, c, ref);
                if (cp > 0.1) run_.start = ws - static_cast<std::int64_t>(std::lround(S * cp));
            }
        }
        ++run_.valid_windows;
        run_.consecutive = run_.gap_windows == 0 ? run_.consecutive + 1 : 1;
        run_.max_consecutive = std::max(run_.max_consecutive, run_.consecutive);
        if (run_.valid_windows == 1) run_.first_valid_block = b;
        run_.gap_windows = 0;
        run_.last_valid_block = b;
        run_.zr += zr;
        run_.zc += zc;
        run_.pr += p[r];
        run_.pc += p[c];
        const double ref = 0.5 * (pair_amplitude(b - 2, r, c) + pair_amplitude(b - 1, r, c));
        run_.end = b * S + static_cast<std::int64_t>(std::lround(S * coverage(b, r, c, ref)));
        run_.end_refined = false;
    } else if (run_.active) {
        ++run_.gap_windows;
        if (run_.gap_windows == 1 && run_.end == b * S) {
            // The tone filled the last valid window: its end may lie in this sub-block.
            const double ref = 0.5 * (pair_amplitude(b - 2, run_.row, run_.col) +
                                      pair_amplitude(b - 1, run_.row, run_.col));
            const double cn = coverage(b, run_.row, run_.col, ref);
            if (cn > 0.1) run_.end += static_cast<std::int64_t>(std::lround(S * cn));
        }
        if (run_.gap_windows > max_gap_windows_) finish_run(events);
    }
}

void DtmfDetector::finish_run(std::vector<ToneEvent>* events) noexcept {
    const Run run = run_;
    run_ = Run{};
    // A keypress is steady: some stretch of it must pass every test in consecutive windows,
    // and most of its windows must pass. Speech and music build runs from scattered windows.
    const std::int64_t span_windows = run.last_valid_block - run.first_valid_block + 1;
    if (run.max_consecutive < kMinConsecutiveWindows) return;
    if (run.valid_windows * 10 < span_windows * 6) return;
    const double duration_ms = double(run.end - run.start) * 1000.0 / kFs;
    if (duration_ms < params_.min_duration_ms) return;
    const double dr = offset_hz(run.zr), dc = offset_hz(run.zc);
    if (std::fabs(dr) > params_.max_freq_error * kFreqs[run.row] ||
        std::fabs(dc) > params_.max_freq_error * kFreqs[run.col])
        return;
    const double gr = bin_gain(dr), gc = bin_gain(dc);
    const double pr = run.pr / run.valid_windows / (gr * gr);
    const double pc = run.pc / run.valid_windows / (gc * gc);
    if (pr < min_power_ || pc < min_power_) return;
    const double twist = db(pc / pr);
    if (twist > params_.max_twist_db || twist < -params_.max_reverse_twist_db) return;
    if (events == nullptr) return;
    ToneEvent e;
    e.kind = EventKind::Dtmf;
    e.digit = kDigits[run.row][run.col - 4];
    e.start = run.start;
    e.end = run.end;
    e.level_dbm0 = static_cast<float>(power_to_dbm0(0.5 * (pr + pc)));
    e.twist_db = static_cast<float>(twist);
    events->push_back(e);
}

}  // namespace pcifilter
