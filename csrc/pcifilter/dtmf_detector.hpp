// SPDX-License-Identifier: Apache-2.0
// Streaming DTMF receiver for 8000 Hz linear audio.
//
// Meets ITU-T Q.24 (AT&T column) as tested in tests/test_dtmf_detector.py:
//   frequency  accept both tones off by up to ±1.5 % at once; reject either off by ≥ ±3.5 %
//              (phase-slope frequency estimate over the whole tone, limit ±2.5 %)
//   level      accept 0 to -30 dBm0 per tone; reject ≤ -55 dBm0 (limit -40 dBm0 per tone)
//   twist      accept -8 to +4 dB inclusive (high - low); reject beyond -12 / +10 dB
//              (limits -10 / +7 dB after correcting the window's response for frequency error)
//   duration   accept ≥ 40 ms, reject ≤ 23 ms (limit 31 ms on the estimated tone edges)
//   pause      40 ms separates two presses of the same digit; a dropout of ≤ 10 ms does not
//   noise      white noise at 15 dB SNR per tone: every digit still found
//   edges      start/end within ±5 ms of the true tone edges
//
// How: a correlator bank gives 5 ms sub-blocks of single-bin DFTs at the eight DTMF
// frequencies. Every 5 ms a 15 ms window (three sub-blocks, 120 samples: neighbouring row
// frequencies fall near its spectral nulls) is tested for one dominant row and column tone
// that hold most of the window's energy and are steady across its sub-blocks, with no peak
// where a harmonic series through the two would have more harmonics (speech, music). Runs of
// valid windows form a candidate digit; its frequency error, level, twist and duration are
// decided over the whole run, and a run whose windows nearly all show such a peak a little
// under the limit is a voice, not a keypress. The same windows, tested with looser limits, drive the masker's
// `mask requests`, which arrive within 20 ms of a tone's onset; a confirmed streak of them
// is followed in its own pair's bins while they stay steady and on frequency, even when
// speech or music puts as much into another row or column bin.
#pragma once

#include <array>
#include <complex>
#include <cstdint>
#include <memory>
#include <vector>

#include "pcifilter/correlator_bank.hpp"
#include "pcifilter/tone_event.hpp"

namespace pcifilter {

struct DtmfParams {
    double min_level_dbm0 = -40.0;      // per tone, after frequency correction
    double max_twist_db = 7.0;          // high group louder than low group
    double max_reverse_twist_db = 10.0;  // low group louder than high group
    double max_freq_error = 0.025;      // fraction of the nominal frequency
    double min_duration_ms = 31.0;
    // Gaps in the run of valid windows bridged inside one digit: a 10 ms dropout leaves at
    // most 6 invalid windows (5 ms apart), a 40 ms pause at least 9.
    double max_dropout_ms = 35.0;
    double min_energy_ratio = 0.78;     // the two tones' share of the window energy
    // Power of a peak where the pair's harmonic series has more harmonics (2f, f/2 of each
    // tone, the midpoint, difference and half-difference, at the measured frequencies),
    // relative to the weaker tone, above which a window is taken for speech or music, not a
    // keypress.
    double max_harmonic_db = -12.0;
    // Looser limits for mask requests: the masker would rather hide a little speech than
    // let the onset of a keypress through.
    double mask_min_level_dbm0 = -45.0;
    double mask_min_energy_ratio = 0.40;
    // Below that share, a window still starts a mask if both tones are steady and within 2 %
    // of their frequencies (a keypress under louder speech). 1 disables this path.
    double mask_weak_energy_ratio = 0.12;

    void validate() const;
};

// A request to mask [start, end) (sample indices at 8000 Hz).
struct MaskRequest {
    std::int64_t start = 0;
    std::int64_t end = 0;
    std::int64_t decided = 0;  // samples the detector had seen when it made the request
};

class DtmfDetector {
public:
    static constexpr int kSampleRate = 8000;
    static constexpr int kSubBlock = 40;   // 5 ms
    static constexpr int kWindowBlocks = 3;  // 15 ms window
    static constexpr std::array<double, 8> kFreqs = {697, 770, 852, 941, 1209, 1336, 1477, 1633};
    static constexpr char kDigits[4][4] = {
        {'1', '2', '3', 'A'}, {'4', '5', '6', 'B'}, {'7', '8', '9', 'C'}, {'*', '0', '#', 'D'}};

    // `backtrack_blocks` > 0: when a new mask streak is confirmed, its start is carried back
    // over up to that many earlier sub-blocks (5 ms) while its pair still shows there (see
    // backtrack()); a scrubber with more look-ahead than detection needs sets it.
    explicit DtmfDetector(const DtmfParams& params = {}, int backtrack_blocks = 0);

    // Feeds samples. Completed events are appended to `events`, mask requests to `masks`
    // (either may be null). The vectors are only appended to; reserve them to avoid
    // allocation. Returns nothing: the data path never throws.
    void process(const std::int16_t* x, std::size_t n, std::vector<ToneEvent>* events,
                 std::vector<MaskRequest>* masks) noexcept;
    // Ends the stream: emits a digit still in progress.
    void flush(std::vector<ToneEvent>* events) noexcept;
    // At a cut (Scrubber::cut; the audio that comes next is another source's, or decoded
    // afresh): emits a digit whose tone was gone from the last window or that is a keypress
    // already, and leaves one still under way to go on in that audio, the windows that fail
    // about the cut (across it, a decoder's first milliseconds) not held against it.
    void cut(std::vector<ToneEvent>* events) noexcept;
    void reset() noexcept;
    // Settled on silence: every sample it holds is 0, no digit run, streak or keypress being
    // followed is under way, and each mark it keeps of the past (the last candidate window,
    // the last mask's end) lies further back than any test reaches. More silence then
    // changes nothing but the counts of samples and sub-blocks, and skip_blocks() may stand
    // for it (Scrubber::skip_silence).
    bool settled() const noexcept;
    // As if k sub-blocks of silence had been processed, from a settled state, except that
    // the last four sub-blocks' correlations (the windows' ring) keep the phases of the
    // silence before: the caller processes four more sub-blocks of silence after it.
    void skip_blocks(std::int64_t k) noexcept;
    // Bytes of per-stream state (shared read-only tables not counted).
    std::size_t state_bytes() const noexcept {
        return sizeof(*this) + bank_.heap_bytes() + back_.capacity() * sizeof(back_[0]);
    }

    std::int64_t samples_seen() const noexcept { return samples_; }
    const DtmfParams& params() const noexcept { return params_; }
    // Mask requests extend this many samples before a candidate window (one sub-block,
    // where the onset may lie) and after the last one.
    static constexpr int kMaskGuard = kSubBlock;
    // Consecutive valid 15 ms windows (5 ms apart) needed somewhere in a digit: 25 ms steady.
    static constexpr int kMinConsecutiveWindows = 3;

private:
    struct Run {
        bool active = false;
        bool across_cut = false;  // gone on over a cut, no valid window since
        bool reported = false;    // reported at a cut already (cut())
        int row = 0, col = 0;
        std::int64_t start = 0, end = 0;  // refined edges
        std::int64_t first_valid_block = 0, last_valid_block = 0;
        int consecutive = 0, max_consecutive = 0;
        int valid_windows = 0;
        int voiced_windows = 0;  // valid, with a harmonic peak below the limit (kVoicedDb)
        int gap_windows = 0;
        int cut_windows = 0;  // failed windows at cuts: not counted in its span
        std::complex<double> zr{}, zc{};  // Σ W_b·conj(W_{b-1}): phase slope
        double pr = 0, pc = 0;            // Σ window powers
    };

    // The 15 ms window ending with the sub-block just completed: |W|² per frequency in float
    // on the raw lanes, its strongest row and column, its energy and the two share tests
    // (the tones' part of the energy, for candidate and weak-candidate windows).
    struct Window {
        WindowPeaks peak;
        float q[8];
        float energy;
        bool share_ok, share_weak;
    };
    // kKeepHistory: back_ is written (backtracking is on); kFourAtOnce: the bank has the
    // four-sub-block pass (BankTables::fused4).
    template <bool kKeepHistory, bool kFourAtOnce>
    void process_blocks(const std::int16_t* x, std::size_t n, std::vector<ToneEvent>* events,
                        std::vector<MaskRequest>* masks) noexcept;
    void on_sub_block(std::vector<ToneEvent>* events, std::vector<MaskRequest>* masks,
                      const Window& w) noexcept;
    void finish_run(std::vector<ToneEvent>* events) noexcept;
    // Whether `run` is a keypress (its event in `event`).
    bool judge(const Run& run, ToneEvent* event) const noexcept;
    const SubBlock& ring(std::int64_t block) const noexcept { return ring_[block & 3]; }
    double pair_amplitude(std::int64_t block, int row, int col) const noexcept;
    static constexpr int kMaxProbes = 7;
    static constexpr double kPeakHz = 20.0;  // a probe counts when no probe this far beside it reads more
    // A run is a voice, not a keypress, when at least kVoicedShare of its valid windows have
    // a harmonic peak above kVoicedDb (re the weaker tone), though below max_harmonic_db.
    static constexpr double kVoicedDb = -15.0;
    static constexpr double kVoicedShare = 0.9;
    // Hann-windowed powers at k (<= kMaxProbes) Goertzel coefficients over a window.
    void probe_powers(const double* coeffs, int k, std::int64_t block, double* out) const noexcept;
    // No harmonic series around the pair measured at fr and fc Hz (see the .cpp).
    // `voiced` is set when a harmonic peak lies above kVoicedDb though below the limit.
    bool harmonic_free(int row, int col, double weaker, std::int64_t block, double fr, double fc,
                       bool* voiced) const noexcept;
    double coverage(std::int64_t block, int row, int col, double ref) const noexcept;
    double window_amplitude(std::int64_t b, int row, int col) const noexcept;
    bool steady(std::int64_t b, int row, int col) const noexcept;
    bool within_weak_tolerance(std::complex<double> z, int f) const noexcept;
    bool mask_levels(const float* q, int row, int col) const noexcept;
    bool on_frequency(std::int64_t b, int row, int col) const noexcept;  // both within 2 %
    bool pair_still_there(const Window& w, std::int64_t b, int row, int col) const noexcept;
    // The first sample of the windows before `first` (a new streak's first candidate window)
    // in which the pair still shows, as far back as backtrack_blocks_ and the ring reach.
    std::int64_t backtrack(std::int64_t first, int row, int col) const noexcept;
    static constexpr double kBacktrackShare = 0.5;  // of the pair's amplitude (-6 dB)
    std::complex<double> phase_slope(std::int64_t b, int f) const noexcept;

    DtmfParams params_;
    double min_power_, mask_min_power_, twist_hi_, twist_lo_, harmonic_limit_ = 0, voiced_ratio_ = 0;
    float mask_min_q_ = 0;  // mask_min_power_ on the |W|² scale
    float share_min_ = 0, share_weak_ = 0;  // the mask energy ratios, as the tests use them
    int max_gap_windows_;
    CorrelatorBank bank_;
    std::array<SubBlock, 4> ring_{};
    // When new streaks may be carried back (backtrack_blocks_ > 0): |W|² of the eight bins of
    // the last sub-blocks (a power of two of them), else empty.
    std::vector<std::array<float, 8>> back_;
    std::int32_t back_mask_ = 0;
    // The last four sub-blocks of samples, for the probes that run only on windows that
    // already look like a keypress.
    std::array<std::int16_t, 4 * kSubBlock> history_{};
    std::shared_ptr<const struct ProbeTables> probes_;
    std::int64_t samples_ = 0;
    std::int64_t block_ = -1;  // index of the last completed sub-block
    int fill_ = 0;             // samples of the next sub-block already in the history
    Run run_;
    // Mask request state: the last candidate windows.
    std::int64_t cand_first_ = -1;  // first window block of the current candidate streak
    std::int64_t cand_last_ = -10;  // last candidate window block
    bool cand_confirmed_ = false;
    std::int8_t cand_row_ = -1, cand_col_ = -1;  // the pair of the streak's last candidate window
    std::int16_t backtrack_blocks_ = 0;  // see the constructor
    std::int64_t last_mask_end_ = -1;  // end of the last confirmed mask request
    std::int64_t back_start_ = -1;     // the current streak's start carried back (-1: not yet)
    static constexpr std::int64_t kBridge = 240;  // 30 ms
    int streak_valid_ = 0;  // strictly valid windows in the current candidate streak
    int track_row_ = -1, track_col_ = -1;  // the keypress being followed after its windows fail
    double track_amp_ = 0;
    static constexpr int kMaxTrackWindows = 20;  // 100 ms
};

std::shared_ptr<const BankTables> dtmf_bank_tables();

}  // namespace pcifilter
