// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/dtmf_detector.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
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

// Immutable probe tables shared by every detector: the Hann window the harmonic probes use.
struct ProbeTables {
    std::array<double, kN> hann{};
    // tan of the largest phase step per sub-block of a tone within 2 % of each frequency
    // (below π/2 for every DTMF frequency): the weak-candidate frequency test without atan2.
    std::array<double, 8> tan_weak{};
    ProbeTables() {
        const auto& f = DtmfDetector::kFreqs;
        for (int i = 0; i < kN; ++i) hann[i] = 0.5 - 0.5 * std::cos(2.0 * M_PI * (i + 0.5) / kN);
        for (int i = 0; i < 8; ++i)
            tan_weak[i] = std::tan(2.0 * M_PI * 0.02 * f[i] * DtmfDetector::kSubBlock / kFs);
    }
};

namespace {
std::shared_ptr<const ProbeTables> probe_tables() {
    static const std::shared_ptr<const ProbeTables> tables = std::make_shared<const ProbeTables>();
    return tables;
}
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
    if (!(max_harmonic_db >= -40.0 && max_harmonic_db <= 0.0))
        throw std::invalid_argument("max_harmonic_db must be within [-40, 0]");
    if (!(mask_weak_energy_ratio >= 0.0 && mask_weak_energy_ratio <= 1.0))
        throw std::invalid_argument("mask_weak_energy_ratio must be within [0, 1]");
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

DtmfDetector::DtmfDetector(const DtmfParams& params, int backtrack_blocks)
    : params_(params), bank_(dtmf_bank_tables(), false), probes_(probe_tables()) {
    params_.validate();
    if (backtrack_blocks < 0 || backtrack_blocks > 64)
        throw std::invalid_argument("backtrack_blocks must be within [0, 64]");
    backtrack_blocks_ = static_cast<std::int16_t>(backtrack_blocks);
    if (backtrack_blocks_ > 0) {
        // A streak is confirmed at most 2 sub-blocks after its first window, whose window
        // reaches 2 back: backtrack() reads `backtrack_blocks + 5` sub-blocks at most.
        std::size_t size = 8;
        while (size < static_cast<std::size_t>(backtrack_blocks_) + 5) size *= 2;
        back_.resize(size);
        back_mask_ = static_cast<std::int32_t>(size) - 1;
    }
    min_power_ = dbm0_to_power(params_.min_level_dbm0);
    mask_min_power_ = dbm0_to_power(params_.mask_min_level_dbm0);
    mask_min_q_ = static_cast<float>(mask_min_power_ * kN * kN / 2.0);
    share_min_ = static_cast<float>(params_.mask_min_energy_ratio);
    share_weak_ = static_cast<float>(params_.mask_weak_energy_ratio);
    // A window step is one sub-block (5 ms); a gap of g ms of invalid windows spans g/5 steps.
    max_gap_windows_ = static_cast<int>(params_.max_dropout_ms / 5.0 + 0.5);
    harmonic_limit_ = std::pow(10.0, params_.max_harmonic_db / 10.0);
    voiced_ratio_ = std::pow(10.0, kVoicedDb / 10.0);
    // Per-window twist limits are 4 dB looser than the final ones (frequency error, edges).
    twist_hi_ = std::pow(10.0, (params_.max_twist_db + 4.0) / 10.0);
    twist_lo_ = std::pow(10.0, (params_.max_reverse_twist_db + 4.0) / 10.0);
    reset();
}

void DtmfDetector::reset() noexcept {
    bank_.reset();
    ring_ = {};
    std::fill(back_.begin(), back_.end(), std::array<float, 8>{});
    history_ = {};
    samples_ = 0;
    fill_ = 0;
    block_ = -1;
    run_ = Run{};
    cand_first_ = -1;
    cand_last_ = -10;
    cand_confirmed_ = false;
    cand_row_ = cand_col_ = -1;
    last_mask_end_ = -1;
    back_start_ = -1;
    track_row_ = track_col_ = -1;
    streak_valid_ = 0;
    track_amp_ = 0;
}

bool DtmfDetector::settled() const noexcept {
    if (fill_ != 0 || run_.active || track_row_ >= 0) return false;
    // The furthest back a later sub-block b > block_ looks: a streak's last candidate within
    // 2 (a new streak past it) and a followed keypress's within kMaxTrackWindows; the last
    // mask within kBridge of a new streak's start, (b - 2)·S - kMaskGuard or later.
    if (block_ - cand_last_ <= std::max(2, kMaxTrackWindows)) return false;
    if (last_mask_end_ >= 0 && (block_ - 2) * kSubBlock - last_mask_end_ <= kBridge) return false;
    for (const SubBlock& s : ring_)
        if (!s.silent()) return false;
    for (const std::int16_t v : history_)
        if (v != 0) return false;
    for (const auto& q : back_)
        for (const float v : q)
            if (v != 0.0f) return false;
    return true;
}

void DtmfDetector::skip_blocks(std::int64_t k) noexcept {
    // Silence in a settled detector: every window fails (no level), nothing is followed, and
    // each sub-block only moves the counts on (the history, ring and backtrack ring hold
    // zeros wherever they point).
    bank_.skip_blocks(k);
    block_ += k;
    samples_ += k * kSubBlock;
}

void DtmfDetector::process(const std::int16_t* x, std::size_t n, std::vector<ToneEvent>* events,
                           std::vector<MaskRequest>* masks) noexcept {
    // One test per call, none per sub-block: for the usual detector that keeps no history,
    // and for CPUs with the four-sub-block pass.
    const bool four = bank_.tables().fused4 != nullptr;
    if (back_.empty() && four)
        process_blocks<false, true>(x, n, events, masks);
    else if (back_.empty())
        process_blocks<false, false>(x, n, events, masks);
    else if (four)
        process_blocks<true, true>(x, n, events, masks);
    else
        process_blocks<true, false>(x, n, events, masks);
}

template <bool kKeepHistory, bool kFourAtOnce>
void DtmfDetector::process_blocks(const std::int16_t* x, std::size_t n, std::vector<ToneEvent>* events,
                                  std::vector<MaskRequest>* masks) noexcept {
    // Samples go to the history (four sub-block slots, the one being filled is `block_ + 1`'s;
    // the harmonic probes read them); a completed sub-block is correlated into its ring slot.
    // The window ending with sub-block `block_ + 1` (in its ring slot), tested.
    const auto take_window = [&](Window& w) {
        const std::int64_t b = block_ + 1;
        if constexpr (kKeepHistory) {
            auto& q = back_[static_cast<std::size_t>(b & back_mask_)];
            for (int f = 0; f < 8; ++f) q[f] = sq_mag(ring(b).corr[f]);
        }
        w.energy = ring(b - 2).energy + ring(b - 1).energy + ring(b).energy;
        // Tone power is 2|W|²/N² and mean power E/N, so the share test is
        // 2(|Wr|²+|Wc|²) ≥ ρ·E·N.
        const float pair_q = 2.0f * (w.peak.low_q + w.peak.high_q);
        w.share_ok = pair_q >= share_min_ * w.energy * kN;
        w.share_weak = pair_q >= share_weak_ * w.energy * kN;
        // Most windows of speech fail both share tests with no keypress or digit run to
        // follow: nothing would change but the block count, so no call.
        if (!w.share_ok && !w.share_weak && track_row_ < 0 && !run_.active)
            ++block_;
        else
            on_sub_block(events, masks, w);
    };
    while (n > 0) {
        if (kFourAtOnce && fill_ == 0 && n >= 4 * kSubBlock) {
            // Four whole sub-blocks, where the CPU has the four-block pass: all four
            // correlated and their windows measured first (the chains side by side), then
            // taken in turn. A mispredicted test of one window then finds the next ones
            // measured already. The same sub-blocks and windows as one at a time (the
            // correlations are exact; csrc/tests/test_correlator_bank.cpp).
            SubBlock sub[4];
            WindowPeaks peaks[4];
            float q[4 * 8];
            bank_.block_windows4(x, ring(block_ - 1), ring(block_), sub, peaks, q);
            for (int k = 0; k < 4; ++k) {
                const std::int64_t b = block_ + 1;
                std::memcpy(history_.data() + (b & 3) * kSubBlock, x, kSubBlock * sizeof(std::int16_t));
                ring_[b & 3] = sub[k];
                x += kSubBlock;
                n -= kSubBlock;
                samples_ += kSubBlock;
                Window w;
                w.peak = peaks[k];
                std::memcpy(w.q, q + 8 * k, sizeof w.q);
                take_window(w);
            }
            continue;
        }
        std::int16_t* slot = history_.data() + ((block_ + 1) & 3) * kSubBlock;
        std::size_t used;
        const std::int16_t* whole = nullptr;  // a whole sub-block in the caller's memory
        if (fill_ == 0 && n >= kSubBlock) {  // the usual case: a fixed-size copy, in vectors
            std::memcpy(slot, x, kSubBlock * sizeof(std::int16_t));
            whole = x;
            used = kSubBlock;
        } else {
            used = std::min<std::size_t>(n, static_cast<std::size_t>(kSubBlock - fill_));
            std::memcpy(slot + fill_, x, used * sizeof(std::int16_t));
        }
        x += used;
        n -= used;
        samples_ += static_cast<std::int64_t>(used);
        fill_ += static_cast<int>(used);
        if (fill_ == kSubBlock) {
            fill_ = 0;
            // Correlated from the caller's samples when whole: loads right after the copy's
            // stores to the history would wait for them. The window ending with it is
            // measured in the same pass.
            const std::int64_t b = block_ + 1;
            Window w;
            w.peak = bank_.block_window(whole != nullptr ? whole : slot, ring(b - 2), ring(b - 1),
                                        &ring_[b & 3], w.q);
            take_window(w);
        }
    }
}

void DtmfDetector::probe_powers(const double* coeffs, int k, std::int64_t block, double* out) const noexcept {
    // Hann-windowed Goertzel filters over the 120-sample window ending with `block`: their
    // sidelobes (below -31 dB past two bins) keep the pair's own tones out of the probes.
    // Scaled so a sine reads the same power as in the tone bins (Hann's coherent gain is
    // 1/2). All k run side by side over the samples (independent chains the CPU overlaps);
    // each does exactly what it would alone.
    double s1[kMaxProbes] = {}, s2[kMaxProbes] = {};
    int n = 0;
    for (std::int64_t blk = block - 2; blk <= block; ++blk) {
        const std::int16_t* h = history_.data() + (blk & 3) * kSubBlock;
        for (int i = 0; i < kSubBlock; ++i, ++n) {
            const double x = h[i] * probes_->hann[n];
            for (int j = 0; j < k; ++j) {
                const double s0 = x + coeffs[j] * s1[j] - s2[j];
                s2[j] = s1[j];
                s1[j] = s0;
            }
        }
    }
    for (int j = 0; j < k; ++j)
        out[j] = 8.0 * (s1[j] * s1[j] + s2[j] * s2[j] - coeffs[j] * s1[j] * s2[j]) / (double(kN) * kN);
}

bool DtmfDetector::harmonic_free(int row, int col, double weaker, std::int64_t block, double fr,
                                 double fc, bool* voiced) const noexcept {
    // A window that reached full scale was clipped on the line: clipping makes harmonics and
    // intermodulation products of the tones themselves, so the probes cannot judge it.
    for (std::int64_t blk = block - 2; blk <= block; ++blk) {
        const std::int16_t* h = history_.data() + (blk & 3) * kSubBlock;
        for (int i = 0; i < kSubBlock; ++i)
            if (h[i] >= 32000 || h[i] <= -32000) return true;
    }
    // Where a voice or a note whose harmonics are the two "tones" has more of them: 2f and f/2
    // of each tone, the pair's midpoint, and its difference and half-difference (941 and 1209
    // Hz are the 7th and 9th of 134 Hz: the 8th and the fundamental are there too). Probes
    // closer than two bins (133 Hz) to either tone would measure the tone itself (1336/2 = 668
    // Hz lies 29 Hz from 697 Hz): those are skipped. The probes sit where the tones' *measured*
    // frequencies put those harmonics: a harmonic series is exact there.
    const double nr = kFreqs[row], nc = kFreqs[col];
    const std::array<std::pair<double, double>, kMaxProbes> places = {{
        {2 * nr, 2 * fr}, {2 * nc, 2 * fc}, {nr / 2, fr / 2}, {nc / 2, fc / 2},
        {(nr + nc) / 2, (fr + fc) / 2}, {nc - nr, fc - fr}, {(nc - nr) / 2, (fc - fr) / 2}}};
    const auto coeff = [](double hz) { return 2.0 * std::cos(2.0 * M_PI * hz / kFs); };
    double hz[kMaxProbes], coeffs[kMaxProbes], power[kMaxProbes];
    int k = 0;
    for (const auto& [nominal, measured] : places)
        if (std::fabs(nominal - nr) >= 150.0 && std::fabs(nominal - nc) >= 150.0) {
            hz[k] = measured;
            coeffs[k++] = coeff(measured);
        }
    probe_powers(coeffs, k, block, power);
    const double limit = weaker * harmonic_limit_;
    const double soft = weaker * voiced_ratio_;
    for (int j = 0; j < k; ++j) {
        if (power[j] <= std::min(limit, soft)) continue;
        // A probe's main lobe is ±133 Hz wide: a partial of speech anywhere near it lifts it,
        // and under speech a real keypress was taken for a harmonic series (talk-down 78 % at
        // -10 dBm0 where spandsp found 84 %). A harmonic of the series lies on the probe; a
        // partial that is merely near lies off it, and then one of the probes 20 Hz either
        // side reads more: only a peak within about 10 Hz of the place counts.
        const double side[2] = {coeff(hz[j] - kPeakHz), coeff(hz[j] + kPeakHz)};
        double beside[2];
        probe_powers(side, 2, block, beside);
        if (power[j] >= beside[0] && power[j] >= beside[1]) {
            if (power[j] > limit) return false;
            if (power[j] > soft) *voiced = true;
        }
    }
    return true;
}

void DtmfDetector::flush(std::vector<ToneEvent>* events) noexcept {
    if (run_.active) finish_run(events);
}

void DtmfDetector::cut(std::vector<ToneEvent>* events) noexcept {
    // Reported on the timeline before the cut when it can be: a keypress whose tone is gone,
    // or one that is a keypress by what came before the cut (reported now, its end there;
    // its run goes on, so that its part after the cut is not taken for another).
    ToneEvent e;
    if (run_.active && run_.gap_windows > 0) {
        finish_run(events);
    } else if (run_.active && !run_.reported && judge(run_, &e)) {
        if (events != nullptr) events->push_back(e);
        run_.reported = true;
    }
    if (run_.active) run_.across_cut = true;
}

double DtmfDetector::pair_amplitude(std::int64_t block, int row, int col) const noexcept {
    // Row and column together: in a 5 ms sub-block a strong tone leaks into the other
    // group's bin at about -14 dB, so the weaker tone's own magnitude is not a steady
    // measure at high twist; the pair's is.
    if (block < 0 || block < block_ - 3) return 0.0;
    const SubBlock& s = ring(block);
    return std::sqrt(double(sq_mag(s.corr[row])) + sq_mag(s.corr[col]));
}

bool DtmfDetector::within_weak_tolerance(std::complex<double> z, int f) const noexcept {
    // |offset_hz(z)| <= 2 % of the frequency, i.e. |arg z| <= θ with θ < π/2: the real part
    // positive and |imag| <= tan θ · real (arg 0 = 0 counts as on frequency, as atan2 has it).
    if (z.real() > 0) return std::fabs(z.imag()) <= probes_->tan_weak[static_cast<std::size_t>(f)] * z.real();
    return z.real() == 0 && z.imag() == 0;
}

bool DtmfDetector::mask_levels(const float* q, int row, int col) const noexcept {
    // Both tones at the mask level, the twist within +14 / -16 dB (on |W|²).
    return q[row] >= mask_min_q_ && q[col] >= mask_min_q_ && q[col] <= 25.1f * q[row] &&
           q[row] <= 39.8f * q[col];
}

bool DtmfDetector::on_frequency(std::int64_t b, int row, int col) const noexcept {
    return within_weak_tolerance(phase_slope(b, row), row) && within_weak_tolerance(phase_slope(b, col), col);
}

bool DtmfDetector::pair_still_there(const Window& w, std::int64_t b, int row, int col) const noexcept {
    // The weak candidate tests on a given pair, the dominance in its groups left out: mask
    // levels and twist, a share of the window's energy, steady and within 2 % of its
    // frequencies.
    return mask_levels(w.q, row, col) && 2.0f * (w.q[row] + w.q[col]) >= share_weak_ * w.energy * kN &&
           steady(b, row, col) && on_frequency(b, row, col);
}

std::int64_t DtmfDetector::backtrack(std::int64_t first, int row, int col) const noexcept {
    // A keypress under louder speech or music is often found only when the speech dips, tens
    // of milliseconds after its onset; before that its own two bins already hold it. Walk
    // back window by window while both bins together keep half the pair's amplitude in the
    // streak's first window. Amplitude alone: under speech the buried tone's phase slope is
    // not steady, and a frequency test stopped the walk at the first window (measured,
    // bench/RESULTS.md). Speech that happens to fill both bins only costs more masking.
    const auto window = [&](std::int64_t b) {  // window_amplitude() on the longer ring
        double m = 0;
        for (std::int64_t i = b - 2; i <= b; ++i) {
            const auto& q = back_[static_cast<std::size_t>(i & back_mask_)];
            m += std::sqrt(double(q[static_cast<std::size_t>(row)]) + q[static_cast<std::size_t>(col)]) / 3.0;
        }
        return m;
    };
    const double ref = kBacktrackShare * window(first);
    const std::int64_t oldest =
        std::max<std::int64_t>({first - backtrack_blocks_, block_ - back_mask_ + 2, std::int64_t{2}});
    std::int64_t k = first;
    while (k - 1 >= oldest && window(k - 1) >= ref) --k;
    return (k - 2) * kSubBlock - kMaskGuard;
}

double DtmfDetector::window_amplitude(std::int64_t b, int row, int col) const noexcept {
    double m = 0;
    for (int i = 0; i < 3; ++i) m += pair_amplitude(b - i, row, col) / 3.0;
    return m;
}

bool DtmfDetector::steady(std::int64_t b, int row, int col) const noexcept {
    // Every sub-block of the window holds at least 55 % of the pair's mean amplitude: a window
    // half over a tone's edge, or speech that comes and goes, is not steady.
    double a[3], m = 0;  // window_amplitude(), with each sub-block's amplitude kept
    for (int i = 0; i < 3; ++i) {
        a[i] = pair_amplitude(b - i, row, col);
        m += a[i] / 3.0;
    }
    return a[0] >= 0.55 * m && a[1] >= 0.55 * m && a[2] >= 0.55 * m;
}

std::complex<double> DtmfDetector::phase_slope(std::int64_t b, int f) const noexcept {
    // W_b · conj(W_{b-1}) for the windows ending with sub-blocks b and b-1: its angle is the
    // tone's frequency error times one sub-block.
    const std::complex<float> now = ring(b - 2).corr[f] + ring(b - 1).corr[f] + ring(b).corr[f];
    const std::complex<float> prev = ring(b - 3).corr[f] + ring(b - 2).corr[f] + ring(b - 1).corr[f];
    const double ar = now.real(), ai = now.imag(), br = prev.real(), bi = prev.imag();
    return {ar * br + ai * bi, ai * br - ar * bi};  // written out: std::complex's * is slow
}

double DtmfDetector::coverage(std::int64_t block, int row, int col, double ref) const noexcept {
    if (ref <= 0) return 0.0;
    return std::clamp(pair_amplitude(block, row, col) / ref, 0.0, 1.0);
}

void DtmfDetector::on_sub_block(std::vector<ToneEvent>* events, std::vector<MaskRequest>* masks,
                                const Window& w) noexcept {
    ++block_;
    const std::int64_t b = block_;
    if (b < kWindowBlocks - 1) return;
    constexpr std::int64_t S = kSubBlock;

    // The 15 ms window ending with this sub-block, measured and share-tested by process().
    const float* q = w.q;
    const int r = w.peak.low, c = w.peak.high;  // the strongest row and column
    const float energy = w.energy;
    const bool share_ok = w.share_ok, share_weak = w.share_weak;
    // Shape tests in float on |W|² (tone power is 2|W|²/N²: the limits are scaled once):
    // most windows that pass a share test are speech and stop here.
    float r2q = 0, c2q = 0;  // the runner-up row and column
    bool shape = false;
    if (share_ok || share_weak) {
        for (int f = 0; f < 4; ++f)
            if (f != r) r2q = std::max(r2q, q[f]);
        for (int f = 4; f < 8; ++f)
            if (f != c) c2q = std::max(c2q, q[f]);
        shape = mask_levels(q, r, c) && r2q * 2.0f <= q[r] && c2q * 2.0f <= q[c];
    }
    const auto power = [](float qf) { return 2.0 * qf / (double(kN) * kN); };  // |W|² to tone power
    const double pr = shape ? power(q[r]) : 0.0, pc = shape ? power(q[c]) : 0.0;
    // Steadiness is needed by the weak candidate path and by the valid test: once at most.
    int is_steady = -1;
    const auto steady_now = [&] {
        if (is_steady < 0) is_steady = steady(b, r, c) ? 1 : 0;
        return is_steady == 1;
    };
    bool cand = share_ok && shape;
    if (!cand && share_weak && shape && b >= kWindowBlocks) {
        // A keypress quieter than the speech over it holds little of the window's energy, but
        // it is steady and on frequency, which speech seldom is in both bins at once.
        cand = steady_now() && on_frequency(b, r, c);
    }
    bool valid = false, voiced = false;
    std::complex<double> zr{}, zc{};
    if (cand) {
        const double window_min = min_power_ * 0.4;  // -4 dB: frequency error and edges
        const bool shape_ok = pr >= window_min && pc >= window_min && pc <= twist_hi_ * pr &&
                              pr <= twist_lo_ * pc && power(r2q) * 4.0 <= pr &&
                              power(c2q) * 4.0 <= pc && steady_now();
        if (shape_ok && b >= kWindowBlocks) {
            zr = phase_slope(b, r);
            zc = phase_slope(b, c);
            const double dr = offset_hz(zr), dc = offset_hz(zc);
            // A loose per-window frequency check keeps speech from building long runs; the
            // strict limit is applied to the estimate over the whole tone.
            // A note and its octave (830 and 1661 Hz pass for 852 and 1633) are exactly 2:1;
            // a real pair within ±1.5 % never comes closer to 2:1 than 1.975.
            const double pair_ratio = (kFreqs[c] + dc) / (kFreqs[r] + dr);
            const bool freq_ok = std::fabs(dr) <= 0.03 * kFreqs[r] &&
                                 std::fabs(dc) <= 0.03 * kFreqs[c] && std::fabs(pair_ratio - 2.0) > 0.01;
            // The share test uses powers corrected for the bin's response at the estimated
            // frequency error: a tone 1.5 % off loses up to 2 dB in a 120-sample bin. Capped at
            // 2.5 dB, so that off-frequency speech is not lifted over the limit.
            const double gr = bin_gain(dr), gc = bin_gain(dc);
            const double corrected = pr / std::max(gr * gr, 0.56) + pc / std::max(gc * gc, 0.56);
            const double mean_power = double(energy) / kN;
            valid = freq_ok && corrected >= params_.min_energy_ratio * mean_power &&
                    harmonic_free(r, c, std::min(pr, pc), b, kFreqs[r] + dr, kFreqs[c] + dc, &voiced);
        }
    }

    // A confirmed streak goes on while its own pair holds in its bins, even when speech or
    // music puts as much into another row or column bin (the candidate tests want the pair
    // to stand out in its groups): a quiet keypress's tail is not let out then.
    int mr = r, mc = c;  // the pair the mask follows
    if (cand) {
        cand_row_ = static_cast<std::int8_t>(r);
        cand_col_ = static_cast<std::int8_t>(c);
    } else if (cand_confirmed_ && b - cand_last_ <= 2 && cand_row_ >= 0 && b >= kWindowBlocks &&
               !valid) {
        cand = pair_still_there(w, b, cand_row_, cand_col_);
        mr = cand_row_, mc = cand_col_;
    }

    // Mask requests: two candidate windows within three steps confirm a streak. A candidate
    // soon after a confirmed mask ended (speech broke the streak mid-tone) extends that mask
    // at once, from where it ended, so no hole opens inside a keypress.
    if (cand || valid) {
        const std::int64_t now_end = (b + 1) * S + kMaskGuard;
        if (b - cand_last_ > 2) {
            cand_first_ = b;
            cand_confirmed_ = last_mask_end_ >= 0 && (b - 2) * S - last_mask_end_ <= kBridge;
            streak_valid_ = 0;
            back_start_ = -1;
        }
        cand_last_ = b;
        streak_valid_ += valid ? 1 : 0;
        if (b > cand_first_) cand_confirmed_ = true;
        if (cand_confirmed_ && masks != nullptr) {
            std::int64_t start = (cand_first_ - 2) * S - kMaskGuard;
            if (last_mask_end_ >= 0 && start - last_mask_end_ <= kBridge) {
                start = std::min(start, last_mask_end_);
            } else if (backtrack_blocks_ > 0) {
                if (back_start_ < 0) back_start_ = backtrack(cand_first_, mr, mc);
                start = std::min(start, back_start_);
            }
            masks->push_back({start, now_end, samples_});
        }
        if (cand_confirmed_ && streak_valid_ >= 2) {
            // Only a streak that looked like a real keypress (two strictly valid windows) is
            // followed past its windows: speech would otherwise be followed as a "tone".
            // Reference: the strongest whole window of this keypress (its last sub-block
            // alone may already be past the tone's end).
            if (track_row_ != mr || track_col_ != mc) track_amp_ = 0;
            track_row_ = mr;
            track_col_ = mc;
            track_amp_ = std::max(track_amp_, window_amplitude(b, mr, mc));
        }
        if (cand_confirmed_) last_mask_end_ = now_end;
    } else if (track_row_ >= 0) {
        // Follow a confirmed keypress through speech or music that hides it from the window
        // tests: mask on while its own two bins keep half its amplitude (at most 100 ms).
        if (b - cand_last_ <= kMaxTrackWindows && track_amp_ > 0 &&
            pair_amplitude(b, track_row_, track_col_) >= 0.5 * track_amp_) {
            const std::int64_t now_end = (b + 1) * S + kMaskGuard;
            if (masks != nullptr) masks->push_back({last_mask_end_ - kMaskGuard, now_end, samples_});
            last_mask_end_ = now_end;
        } else {
            track_row_ = -1;
        }
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
        if (run_.across_cut) {
            run_.cut_windows += run_.gap_windows;
            run_.across_cut = false;
        }
        ++run_.valid_windows;
        run_.voiced_windows += voiced ? 1 : 0;
        run_.consecutive = run_.gap_windows == 0 ? run_.consecutive + 1 : 1;
        run_.max_consecutive = std::max(run_.max_consecutive, run_.consecutive);
        if (run_.valid_windows == 1) run_.first_valid_block = b;
        run_.gap_windows = 0;
        run_.last_valid_block = b;
        run_.zr += zr;
        run_.zc += zc;
        run_.pr += pr;
        run_.pc += pc;
        const double ref = 0.5 * (pair_amplitude(b - 2, r, c) + pair_amplitude(b - 1, r, c));
        run_.end = b * S + static_cast<std::int64_t>(std::lround(S * coverage(b, r, c, ref)));
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
    ToneEvent e;
    const bool keypress = !run_.reported && judge(run_, &e);
    run_ = Run{};
    if (keypress && events != nullptr) events->push_back(e);
}

bool DtmfDetector::judge(const Run& run, ToneEvent* event) const noexcept {
    // A keypress is steady: some stretch of it must pass every test in consecutive windows,
    // and most of its windows must pass. Speech and music build runs from scattered windows.
    const std::int64_t span_windows = run.last_valid_block - run.first_valid_block + 1 - run.cut_windows;
    if (run.max_consecutive < kMinConsecutiveWindows) return false;
    if (run.valid_windows * 10 < span_windows * 6) return false;
    // A voice whose harmonics are the pair shows its other harmonics a little below the
    // probes' limit in nearly every window (through µ-law, two such runs passed in four hours
    // of speech); a keypress under speech or through a codec only now and then.
    if (run.voiced_windows >= kVoicedShare * run.valid_windows) return false;
    const double duration_ms = double(run.end - run.start) * 1000.0 / kFs;
    if (duration_ms < params_.min_duration_ms) return false;
    const double dr = offset_hz(run.zr), dc = offset_hz(run.zc);
    if (std::fabs(dr) > params_.max_freq_error * kFreqs[run.row] ||
        std::fabs(dc) > params_.max_freq_error * kFreqs[run.col])
        return false;
    // A note and its octave, as in the window test, on the whole run's frequencies and with
    // twice its margin: through a codec the windows' estimates flicker past the window test's
    // (a note at 835 Hz with its octave, in music through Opus hybrid 10 ms, gave a 44 ms "C"
    // at a ratio of 1.985). A pair within ±1.5 % comes no nearer 2 than 1.975.
    if (std::fabs((kFreqs[run.col] + dc) / (kFreqs[run.row] + dr) - 2.0) <= 0.02) return false;
    const double gr = bin_gain(dr), gc = bin_gain(dc);
    const double pr = run.pr / run.valid_windows / (gr * gr);
    const double pc = run.pc / run.valid_windows / (gc * gc);
    if (pr < min_power_ || pc < min_power_) return false;
    const double twist = db(pc / pr);
    if (twist > params_.max_twist_db || twist < -params_.max_reverse_twist_db) return false;
    ToneEvent& e = *event;
    e.kind = EventKind::Dtmf;
    e.digit = kDigits[run.row][run.col - 4];
    e.start = run.start;
    e.end = run.end;
    e.level_dbm0 = static_cast<float>(power_to_dbm0(0.5 * (pr + pc)));
    e.twist_db = static_cast<float>(twist);
    return true;
}

}  // namespace pcifilter
