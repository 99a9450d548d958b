// SPDX-License-Identifier: Apache-2.0
// One stream's scrubbing pipeline: (decimate to 8 kHz) → DTMF/tone detection → masker.
//
// Output is the input delayed by `delay()` samples, with every detected keypress replaced
// from its first sample to its last. Masking can be switched on and off at any call
// (a payment session starting or ending mid-call); detection always runs, so a keypress
// already under way when masking is switched on is still hidden from its onset if that is
// still inside the look-ahead.
//
// Mask timing at 8000 Hz: a keypress is recognised 15-20 ms after its onset (two candidate
// 15 ms windows), and the span then requested starts one 5 ms sub-block plus `lead_ms`
// before the first candidate window, so a look-ahead of 30 ms covers every onset; the span
// ends `hangover_ms` after the last candidate window. Look-ahead beyond 30 ms widens the
// lead-in (lead_ms, automatic by default) up to 12.5 ms; beyond 40 ms a new mask is also
// carried back, window by window, while the keypress's pair still shows in its bins (a
// keypress under louder speech is often found only tens of milliseconds after its onset).
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "pcifilter/decimator.hpp"
#include "pcifilter/dtmf_detector.hpp"
#include "pcifilter/masker.hpp"
#include "pcifilter/tone_detector.hpp"

namespace pcifilter {

struct ScrubberParams {
    int sample_rate = 8000;
    double lookahead_ms = 40.0;
    // Extra mask before the first candidate window, beyond the detector's 5 ms guard. < 0:
    // automatic, the look-ahead that confirmation (27.5 ms worst case) leaves, from 2.5 to
    // 12.5 ms: a keypress whose first milliseconds are buried under speech is still covered.
    // Whatever look-ahead is left after the lead goes to carrying new masks back.
    double lead_ms = -1.0;
    double hangover_ms = 5.0;  // beyond the detector's 5 ms guard
    bool mask_tones = false;   // also mask the configured (non-DTMF) tones
    // While masking, a stream that starts or ends on sound has its first or last 120 ms
    // masked, and one that starts or ends like a keypress its first or last 15 ms (edges.hpp:
    // a file or stream cut in a keypress leaves parts too short for the detector). The RTP
    // stream filter guards its own edges, pauses and restarts, and turns this off.
    bool guard_edges = true;
    MaskerParams masker;
    DtmfParams dtmf;
    std::vector<ToneSpec> tones;  // empty: no tone detection

    void validate() const;
};

struct ScrubberStats {
    std::uint64_t samples = 0;
    std::uint64_t keypresses = 0;
    std::uint64_t tones = 0;
    std::uint64_t masked_samples = 0;
    std::uint64_t late_masks = 0;  // requests that came after their start was output
};

class Scrubber {
public:
    explicit Scrubber(const ScrubberParams& params);

    // n samples in, n samples out (delayed by delay()).
    void process(const std::int16_t* in, std::int16_t* out, std::size_t n) noexcept;
    // Writes the last delay() samples and emits digits still in progress.
    void flush(std::int16_t* out) noexcept;
    // The stream goes on on another timeline (a new source, or its timestamps reset): cut()
    // writes the look-ahead out as flush() does, with the masks decided so far (the events,
    // spans and the masker's runs to be taken), then next_timeline() makes the next input
    // sample 0 of the new timeline, as after reset(). The detectors are fed no silence:
    // they hear the new timeline's audio next, as whoever hears the stream does, so a
    // keypress the cut splits is one keypress to them (each part may be too short to be
    // found alone). One that had ended before the cut, or that the part before makes
    // already, is reported at once, on the old timeline (DtmfDetector::cut); any other on
    // the new one (start 0 at the earliest).
    void cut(std::int16_t* out) noexcept;
    void next_timeline() noexcept;
    // flush(), then ready for a new stream (its start guarded, its timeline from 0), the
    // events and masked spans found until then kept to be taken, the counters going on:
    // for callers that reuse one scrubber (a bank's slot, the C API) for stream after stream.
    void end_stream(std::int16_t* out) noexcept;
    // n samples of silence (zeros) in, and as many out, when the pipeline has settled on
    // silence (Masker::settled and the detectors' settled()): then they change nothing but
    // its counts, the masks they reach and the masking signal's generators, which move on
    // at once. Returns the samples taken (whole 5 ms pieces; the last kSkipTailMs of them
    // processed as usual, their output written to `tail`, which holds kSkipTail), 0 when it
    // has not settled: the caller feeds them to process(). The output before the tail is
    // not made: silence, or the masking signal where a mask reached it (the masking tone;
    // silence and comfort noise are silence there), for callers that keep none of it (a
    // stream's pause). For callers fed long stretches of silence: its cost no longer grows
    // with the pause's length. Exact: the tail, what comes after, the events, spans and
    // counts are as after process() on the same zeros.
    static constexpr int kSkipTailMs = 20;  // 4 pieces
    static constexpr std::size_t kSkipPieces = kSkipTailMs / 5;
    static constexpr std::size_t kSkipTail = kSkipPieces * DtmfDetector::kSubBlock * 6;  // at 48 kHz
    std::size_t skip_silence(std::size_t n, std::int16_t* tail) noexcept;
    // The samples of skip_silence()'s tail (kSkipTailMs at this scrubber's rate).
    std::size_t skip_tail() const noexcept { return kSkipPieces * piece(); }
    // Samples to the end of the 5 ms piece under way (0: none under way), where
    // skip_silence() can begin.
    std::size_t piece_left() const noexcept {
        return piece_fill_ == 0 ? 0 : piece() - static_cast<std::size_t>(piece_fill_);
    }
    // A detector sub-block's samples at this scrubber's rate (5 ms).
    std::size_t piece() const noexcept { return static_cast<std::size_t>(DtmfDetector::kSubBlock * factor_); }
    // Detection only (no masker, no delay): for callers that want events, not audio.
    void analyse(const std::int16_t* in, std::size_t n) noexcept;
    void finish_analysis() noexcept;
    void reset() noexcept;
    // Masking off: detection goes on, its masks are kept aside. Switched on, those that reach
    // audio still in the look-ahead mask it (a keypress that ended a moment before masking
    // began is not let out after it began).
    void set_masking(bool on) noexcept;
    // The masks kept aside while masking is off (input clock): [start, end) pairs.
    int set_aside_count() const noexcept { return n_aside_; }
    std::pair<std::int64_t, std::int64_t> set_aside_mask(int i) const noexcept {
        return aside_[static_cast<std::size_t>(i)];
    }
    // Masks [start, end) of the input clock as far as it is not output yet (a keypress known
    // from elsewhere, e.g. RFC 4733 telephone-events; add hangover() for its tail). Only
    // while masking is on; returns whether all of the span was still ahead of the output.
    bool mask(std::int64_t start, std::int64_t end) noexcept;
    // The hang-over the detector's masks get after a keypress, in input samples.
    std::int64_t hangover() const noexcept { return hang_; }
    bool masking() const noexcept { return masking_; }

    int delay() const noexcept { return masker_.delay(); }
    int ramp() const noexcept { return masker_.ramp(); }  // the masker's, inside each span
    // The last min(n, delay()) input samples, still in the look-ahead; returns how many.
    std::size_t recent_input(std::int16_t* out, std::size_t n) const noexcept {
        return masker_.recent_input(out, n);
    }
    // Whether input sample t is to be masked (a span requested, not yet output whole).
    bool masks(std::int64_t t) const noexcept { return masker_.covers(t); }
    int sample_rate() const noexcept { return params_.sample_rate; }
    const ScrubberParams& params() const noexcept { return params_; }
    // ScrubberParams::guard_edges, for the edges not yet decided: a stream's start until its
    // first 10 ms are in, its end until flush.
    void set_guard_edges(bool on) noexcept { params_.guard_edges = on; }
    const ScrubberStats& stats() const noexcept { return stats_; }
    // Bytes of per-stream state, look-ahead included (shared read-only tables excluded).
    std::size_t state_bytes() const noexcept;
    // Completed events and masked spans since the last call (sample indices at the input
    // rate). The caller takes ownership by swapping or clearing them.
    std::vector<ToneEvent>& events() noexcept { return events_; }
    std::vector<MaskSpan>& spans() noexcept { return masker_.finished_spans(); }
    // Where the output of the last process() call was masked (input clock, see Masker).
    const Masker& masker() const noexcept { return masker_; }
    // n samples of the masking signal (Masker::synthesize).
    void masking_signal(std::int16_t* out, std::size_t n) noexcept { masker_.synthesize(out, n); }

private:
    // Detection, and masking into `out` unless it is null (analysis only).
    void run(const std::int16_t* in, std::int16_t* out, std::size_t n) noexcept;
    // Detection of one piece (ending at most on a sub-block boundary): events and requests.
    void detect_piece(const std::int16_t* in, std::size_t n) noexcept;
    void set_aside(const MaskRequest& r) noexcept;
    // The edge guards (ScrubberParams::guard_edges): the start's once its first samples are
    // in (before any of them is output), the end's at flush.
    void guard_start(const std::int16_t* in, std::size_t n) noexcept;
    void guard_end() noexcept;
    std::int64_t ms(int k) const noexcept { return std::int64_t{params_.sample_rate} * k / 1000; }
    std::pair<std::int64_t, std::int64_t> input_span(const MaskRequest& r) const noexcept;
    void forward(std::size_t first_event) noexcept;
    // reset() but for the detectors (and the decimator before them) and the piece under way.
    void clear_timeline() noexcept;

    ScrubberParams params_;
    // Input index of 8 kHz sample t is t·factor + offset (the detectors' clock runs on over
    // cuts: cut()).
    std::int64_t offset_;
    std::int64_t lead_, hang_;
    std::optional<Decimator> decimator_;
    DtmfDetector dtmf_;
    std::optional<ToneDetector> tone_;
    Masker masker_;
    bool masking_ = true;
    int factor_;  // beside masking_: no padding added
    // The last masks the detector asked for while masking was off (input clock), merged.
    std::array<std::pair<std::int64_t, std::int64_t>, 4> aside_{};
    int n_aside_ = 0;
    int piece_fill_ = 0;  // input into the piece under way (consumed_ modulo its length but after a cut)
    std::int64_t consumed_ = 0;
    std::vector<std::int16_t> narrow_;
    std::vector<ToneEvent> events_;
    std::vector<MaskRequest> requests_;
    // Pieces detected before the masker outputs them: one 20 ms frame. The DTMF detector
    // makes at most one request per piece, within the capacity reserved for `requests_`
    // (masked tones may grow it once).
    static constexpr int kBatch = 4;
    ScrubberStats stats_;
};

}  // namespace pcifilter
