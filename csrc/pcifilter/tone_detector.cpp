// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/tone_detector.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "pcifilter/levels.hpp"

namespace pcifilter {
namespace {

constexpr int kS = DtmfDetector::kSubBlock;
constexpr int kN = kS * 3;
constexpr double kFs = 8000.0;

int index_of(std::vector<double>& freqs, double f) {
    for (std::size_t i = 0; i < freqs.size(); ++i)
        if (freqs[i] == f) return static_cast<int>(i);
    freqs.push_back(f);
    return static_cast<int>(freqs.size() - 1);
}

std::vector<double> collect_freqs(const std::vector<ToneSpec>& tones) {
    if (tones.empty()) throw std::invalid_argument("ToneDetector needs at least one tone");
    std::vector<double> freqs;
    for (const ToneSpec& t : tones) {
        if (t.name.empty()) throw std::invalid_argument("every tone needs a name");
        for (double f : {t.freq1_hz, t.freq2_hz}) {
            if (f == t.freq2_hz && f == 0.0) continue;  // single-frequency tone
            if (!(f >= 100.0 && f <= 3800.0))
                throw std::invalid_argument("tone frequencies must be within [100, 3800] Hz");
            index_of(freqs, f);
        }
        if (!(t.min_duration_ms >= 20.0 && t.min_duration_ms <= 60000.0))
            throw std::invalid_argument("min_duration_ms must be within [20, 60000]");
        if (!(t.min_level_dbm0 >= -70.0 && t.min_level_dbm0 <= 0.0))
            throw std::invalid_argument("min_level_dbm0 must be within [-70, 0]");
        if (!(t.tolerance > 0.0 && t.tolerance <= 0.1))
            throw std::invalid_argument("tolerance must be within (0, 0.1]");
        if (!(t.max_dropout_ms >= 0.0 && t.max_dropout_ms <= 500.0))
            throw std::invalid_argument("max_dropout_ms must be within [0, 500]");
    }
    if (freqs.size() > kBankMaxFreqs)
        throw std::invalid_argument("at most 8 distinct tone frequencies");
    return freqs;
}

}  // namespace

std::vector<ToneSpec> default_tones() {
    // ITU-T T.30: CNG 1100 Hz, 0.5 s on / 3 s off. ITU-T V.25: ANS 2100 Hz for 2.6 to 4 s
    // (we report it after 500 ms so it can be acted on while it lasts).
    return {ToneSpec{"cng", 1100.0, 0.0, 400.0, -43.0, 0.02, 30.0},
            ToneSpec{"ced", 2100.0, 0.0, 500.0, -43.0, 0.02, 30.0}};
}

ToneDetector::ToneDetector(std::vector<ToneSpec> tones)
    : tones_(std::move(tones)),
      freqs_(collect_freqs(tones_)),
      bank_(std::make_shared<const BankTables>(freqs_, kS, kFs)) {
    for (const ToneSpec& t : tones_) {
        Track tr;
        tr.idx1 = index_of(freqs_, t.freq1_hz);
        tr.idx2 = t.freq2_hz > 0 ? index_of(freqs_, t.freq2_hz) : -1;
        tr.min_power = dbm0_to_power(t.min_level_dbm0);
        tr.max_gap = static_cast<int>(t.max_dropout_ms / 5.0 + 0.5);
        tracks_.push_back(tr);
    }
}

void ToneDetector::reset() noexcept {
    bank_.reset();
    ring_ = {};
    block_ = -1;
    for (Track& t : tracks_) {
        const Track fresh_config{t.idx1, t.idx2, t.min_power, t.max_gap};
        t = fresh_config;
    }
}

bool ToneDetector::settled() const noexcept {
    if (!bank_.between_blocks()) return false;
    for (const Track& tr : tracks_)  // a later sub-block starts a new candidate streak
        if (tr.active || block_ - tr.cand_last <= 2) return false;
    for (const SubBlock& s : ring_)
        if (!s.silent()) return false;
    return true;
}

void ToneDetector::skip_blocks(std::int64_t k) noexcept {
    bank_.skip_blocks(k);
    block_ += k;
}

void ToneDetector::process(const std::int16_t* x, std::size_t n, std::vector<ToneEvent>* events,
                           std::vector<MaskRequest>* masks) noexcept {
    while (n > 0) {
        const std::size_t used = bank_.feed(x, n);
        x += used;
        n -= used;
        if (bank_.ready()) on_sub_block(bank_.last(), events, masks);
    }
}

void ToneDetector::flush(std::vector<ToneEvent>* events) noexcept {
    for (std::size_t t = 0; t < tracks_.size(); ++t)
        if (tracks_[t].active) finish(t, events);
}

void ToneDetector::cut(std::vector<ToneEvent>* events) noexcept {
    for (std::size_t t = 0; t < tracks_.size(); ++t) {
        Track& tr = tracks_[t];
        if (!tr.active) continue;
        if (tr.gap > 0) {
            finish(t, events);
        } else if (!tr.reported && double(tr.end - tr.start) * 1000.0 / kFs >= tones_[t].min_duration_ms) {
            finish(t, events);  // reported on the timeline before the cut (its end there) ...
            tr.active = tr.reported = true;  // ... and goes on, not to be reported again
        }
    }
}

void ToneDetector::on_sub_block(const SubBlock& sb, std::vector<ToneEvent>* events,
                                std::vector<MaskRequest>* masks) noexcept {
    ++block_;
    ring_[block_ & 3] = sb;
    const std::int64_t b = block_;
    if (b < 3) return;
    const auto at = [&](std::int64_t blk) -> const SubBlock& { return ring_[blk & 3]; };
    const double mean_power = (double(at(b - 2).energy) + at(b - 1).energy + at(b).energy) / kN;

    for (std::size_t t = 0; t < tracks_.size(); ++t) {
        Track& tr = tracks_[t];
        const ToneSpec& spec = tones_[t];
        // Level and share first (nearly every window of speech stops there), then steadiness,
        // then the frequency check (an atan2 a tone: with the square roots, four fifths of
        // the detector's time when every window paid for them).
        const int idxs[2] = {tr.idx1, tr.idx2};
        double total = 0, weakest = 1e300;
        std::complex<double> w[2];
        for (int k = 0; k < 2; ++k) {
            if (idxs[k] < 0) continue;
            const int idx = idxs[k];
            w[k] = std::complex<double>(at(b - 2).corr[idx] + at(b - 1).corr[idx] + at(b).corr[idx]);
            const double p = 2.0 * sq_mag(w[k]) / (double(kN) * kN);
            total += p;
            weakest = std::min(weakest, p);
        }
        bool present = weakest >= tr.min_power && mean_power > 0 && total >= 0.6 * mean_power;
        for (int k = 0; k < 2 && present; ++k) {
            if (idxs[k] < 0) continue;
            double mag[3], m = 0;
            for (int i = 0; i < 3; ++i) {
                mag[i] = std::sqrt(sq_mag(at(b - i).corr[idxs[k]]));
                m += mag[i] / 3.0;
            }
            for (int i = 0; i < 3; ++i) present = present && mag[i] >= 0.55 * m;
        }
        for (int k = 0; k < 2 && present; ++k) {
            if (idxs[k] < 0) continue;
            const int idx = idxs[k];
            const std::complex<double> wp(at(b - 3).corr[idx] + at(b - 2).corr[idx] + at(b - 1).corr[idx]);
            const double off = std::arg(w[k] * std::conj(wp)) * kFs / (2.0 * M_PI * kS);
            present = std::fabs(off) <= spec.tolerance * freqs_[idx];
        }
        if (present) {
            if (b - tr.cand_last > 2) tr.cand_first = b;
            tr.cand_last = b;
            if (masks != nullptr && b > tr.cand_first)
                masks->push_back({(tr.cand_first - 2) * kS - kS, (b + 1) * kS + kS, (b + 1) * kS});
            if (!tr.active) {
                tr.active = true;
                tr.start = (b - 2) * kS;
                tr.windows = 0;
                tr.power = 0;
            }
            tr.end = (b + 1) * kS;
            tr.gap = 0;
            ++tr.windows;
            tr.power += weakest;
        } else if (tr.active && ++tr.gap > tr.max_gap) {
            finish(t, events);
        }
    }
}

void ToneDetector::finish(std::size_t t, std::vector<ToneEvent>* events) noexcept {
    Track& tr = tracks_[t];
    tr.active = false;
    const bool reported = tr.reported;
    tr.reported = false;
    const double ms = double(tr.end - tr.start) * 1000.0 / kFs;
    if (reported || ms < tones_[t].min_duration_ms || events == nullptr || tr.windows == 0) return;
    ToneEvent e;
    e.kind = EventKind::Tone;
    e.tone_index = static_cast<int>(t);
    e.start = tr.start;
    e.end = tr.end;
    e.level_dbm0 = static_cast<float>(power_to_dbm0(tr.power / tr.windows));
    events->push_back(e);
}

}  // namespace pcifilter
