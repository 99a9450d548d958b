// SPDX-License-Identifier: Apache-2.0
// Streaming detector for configured single- or dual-frequency tones at 8000 Hz.
//
// Each tone has one or two frequencies, a frequency tolerance, a minimum level and a minimum
// duration: fax CNG (1100 Hz, 0.5 s on) and CED/ANS (2100 Hz, ≥ 2.6 s) are built in, and any
// set of at most 8 distinct frequencies can be given. A tone is present in a 15 ms window when
// its components hold most of the window's energy, are steady over its three 5 ms
// sub-blocks and their phase-slope frequency lies within tolerance; gaps of up to
// `max_dropout_ms` are bridged. An event is reported when the tone ends (or at flush) if it
// lasted at least `min_duration_ms`.
#pragma once

#include <string>
#include <vector>

#include "pcifilter/correlator_bank.hpp"
#include "pcifilter/dtmf_detector.hpp"
#include "pcifilter/tone_event.hpp"

namespace pcifilter {

struct ToneSpec {
    std::string name;
    double freq1_hz = 0;
    double freq2_hz = 0;  // 0: single-frequency tone
    double min_duration_ms = 100;
    double min_level_dbm0 = -40;
    double tolerance = 0.02;  // fraction of each frequency
    double max_dropout_ms = 30;
};

std::vector<ToneSpec> default_tones();  // CNG and CED/ANS

class ToneDetector {
public:
    explicit ToneDetector(std::vector<ToneSpec> tones);

    void process(const std::int16_t* x, std::size_t n, std::vector<ToneEvent>* events,
                 std::vector<MaskRequest>* masks) noexcept;
    void flush(std::vector<ToneEvent>* events) noexcept;
    // At a cut (Scrubber::cut): emits a tone that was gone from the last window or is long
    // enough already; one still under way goes on in the audio that comes next.
    void cut(std::vector<ToneEvent>* events) noexcept;
    void reset() noexcept;
    // As DtmfDetector::settled() and skip_blocks() (four sub-blocks of silence after it).
    bool settled() const noexcept;
    void skip_blocks(std::int64_t k) noexcept;
    const std::vector<ToneSpec>& tones() const noexcept { return tones_; }
    std::size_t state_bytes() const noexcept {
        return sizeof(*this) + tracks_.capacity() * sizeof(Track) + freqs_.capacity() * sizeof(double);
    }

private:
    struct Track {
        int idx1 = 0, idx2 = -1;  // correlator indices
        double min_power = 0;
        int max_gap = 0;
        bool active = false;
        bool reported = false;  // at a cut, going on (cut())
        std::int64_t start = 0, end = 0;
        int gap = 0, windows = 0;
        double power = 0;
        std::int64_t cand_first = -1, cand_last = -10;
    };
    void on_sub_block(const SubBlock& sb, std::vector<ToneEvent>* events,
                      std::vector<MaskRequest>* masks) noexcept;
    void finish(std::size_t t, std::vector<ToneEvent>* events) noexcept;

    std::vector<ToneSpec> tones_;
    std::vector<double> freqs_;
    std::vector<Track> tracks_;
    CorrelatorBank bank_;
    std::array<SubBlock, 4> ring_{};
    std::int64_t block_ = -1;
};

}  // namespace pcifilter
