// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/scrubber.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

#include "pcifilter/edges.hpp"

namespace pcifilter {
namespace {

int extra_delay(int rate) {
    if (rate == 8000) return 0;
    const Decimator d(rate);
    return d.delay() - (d.factor() - 1);  // the 8 kHz path lags the input by this much
}

// Confirming a keypress takes up to 27.5 ms after its first candidate window. Of the
// look-ahead left, up to 12.5 ms go before every mask as a fixed lead (automatic lead) ...
double fixed_lead_ms(const ScrubberParams& p) {
    return p.lead_ms >= 0 ? p.lead_ms : std::clamp(p.lookahead_ms - 27.5, 2.5, 12.5);
}

// ... and the rest, in whole 5 ms sub-blocks, is reached by carrying a new mask streak back
// while its pair still shows (DtmfDetector::backtrack): with 120 ms of look-ahead a fixed
// lead of 92.5 ms masked 9.8 % of speech, the walk back 6.9 % for the same keypresses
// covered (bench/RESULTS.md, "Look-ahead against quiet keypresses").
int backtrack_blocks(const ScrubberParams& p) {
    const double rest = p.lookahead_ms - 27.5 - fixed_lead_ms(p);
    return rest >= 5.0 ? static_cast<int>(rest / 5.0) : 0;
}

}  // namespace

void ScrubberParams::validate() const {
    if (sample_rate != 8000 && sample_rate != 16000 && sample_rate != 48000)
        throw std::invalid_argument("sample_rate must be 8000, 16000 or 48000");
    if (!(lookahead_ms >= 0.0 && lookahead_ms <= 200.0))
        throw std::invalid_argument("lookahead_ms must be within [0, 200]");
    if (!((lead_ms >= 0.0 && lead_ms <= 50.0) || lead_ms == -1.0) ||
        !(hangover_ms >= 0.0 && hangover_ms <= 200.0))
        throw std::invalid_argument(
            "lead_ms must be -1 (automatic) or within [0, 50], hangover_ms within [0, 200]");
    masker.validate();
    dtmf.validate();
}

Scrubber::Scrubber(const ScrubberParams& params)
    : params_((params.validate(), params)),
      offset_(params.sample_rate == 8000 ? 0 : -extra_delay(params.sample_rate)),
      dtmf_(params.dtmf, backtrack_blocks(params)),
      // The delay line holds one 5 ms analysis piece more than the look-ahead, so that the
      // chunking-independent cut of late requests (run) still lets them reach as far
      // back as a whole-piece run could: the look-ahead setting stays the guaranteed margin.
      masker_(params.sample_rate,
              static_cast<int>(std::lround(params.lookahead_ms * params.sample_rate / 1000.0)) +
                  extra_delay(params.sample_rate) +
                  DtmfDetector::kSubBlock * (params.sample_rate / 8000),
              params.masker),
      factor_(params.sample_rate / 8000) {
    const double lead_ms = fixed_lead_ms(params_);
    lead_ = static_cast<std::int64_t>(std::lround(lead_ms * params_.sample_rate / 1000.0));
    hang_ = static_cast<std::int64_t>(std::lround(params_.hangover_ms * params_.sample_rate / 1000.0));
    if (factor_ > 1) {
        decimator_.emplace(params_.sample_rate);
        narrow_.resize(DtmfDetector::kSubBlock + 1);  // one piece decimated
    }
    if (!params_.tones.empty()) tone_.emplace(params_.tones);
    events_.reserve(4);
    requests_.reserve(kBatch);  // the DTMF detector makes at most one per sub-block
}

std::size_t Scrubber::state_bytes() const noexcept {
    std::size_t n = sizeof(*this) - sizeof(dtmf_) - sizeof(masker_) + dtmf_.state_bytes() +
                    masker_.state_bytes() + narrow_.capacity() * sizeof(std::int16_t) +
                    events_.capacity() * sizeof(ToneEvent) + requests_.capacity() * sizeof(MaskRequest) +
                    params_.tones.capacity() * sizeof(ToneSpec);
    if (decimator_) n += decimator_->state_bytes() - sizeof(Decimator);
    if (tone_) n += tone_->state_bytes() - sizeof(ToneDetector);
    return n;
}

void Scrubber::reset() noexcept {
    offset_ = factor_ == 1 ? 0 : -extra_delay(params_.sample_rate);
    if (decimator_) decimator_->reset();
    dtmf_.reset();
    if (tone_) tone_->reset();
    piece_fill_ = 0;
    clear_timeline();
}

void Scrubber::clear_timeline() noexcept {
    masker_.reset();
    consumed_ = 0;
    events_.clear();
    requests_.clear();
    n_aside_ = 0;
    stats_ = ScrubberStats{};
}

void Scrubber::set_masking(bool on) noexcept {
    if (on && !masking_) {
        const std::int64_t ahead = masker_.output_position();
        for (int i = 0; i < n_aside_; ++i) {
            const auto [s, e] = aside_[static_cast<std::size_t>(i)];
            if (s < ahead) masker_.continue_at(ahead);  // its start masked in the output (StreamFilter)
            if (e > ahead) masker_.request(std::max(s, ahead), e);
        }
    }
    if (on != masking_) n_aside_ = 0;  // kept while masking stays off, however often it is said
    masking_ = on;
}

void Scrubber::process(const std::int16_t* in, std::int16_t* out, std::size_t n) noexcept {
    masker_.clear_runs();
    // The start guard looks at the first 10 ms only: past them, not even a call.
    if (params_.guard_edges && consumed_ < std::min(ms(10), std::int64_t{delay()})) guard_start(in, n);
    run(in, out, n);
}

namespace {
// How much of a stream's first (`at_end`: last) audio x[0, n) to mask: all a keypress could
// be when it is on sound; 15 ms when it is loud or like a keypress (once per stream, so a
// loud 2.5 ms is enough: a keypress's last 1-2 ms alone are too few to tell by their
// frequencies); else nothing.
int edge_guard_ms(const std::int16_t* x, std::size_t n, int rate, bool at_end) noexcept {
    if (sound_at(x, n)) return kEdgeOnSoundMs;
    if (loud_at_edge(x, n, rate, at_end) || keypress_at_edge(x, n, rate, at_end)) return kEdgeGuardMs;
    return 0;
}
}  // namespace

void Scrubber::guard_start(const std::int16_t* in, std::size_t n) noexcept {
    // Decided on the first 10 ms (no more than the delay line holds, so that it is made before
    // any of them is output, however the input is chunked): the samples consumed so far are
    // still in the delay line, the rest come from this call.
    const int rate = params_.sample_rate;
    const auto head = std::min(ms(10), std::int64_t{delay()});
    if (head == 0 || consumed_ >= head || consumed_ + static_cast<std::int64_t>(n) < head) return;
    std::array<std::int16_t, 480> first{};  // 10 ms at 48 kHz
    const auto had = static_cast<std::size_t>(consumed_);
    masker_.recent_input(first.data(), had);
    std::copy_n(in, static_cast<std::size_t>(head) - had, first.data() + had);
    if (const int guard = edge_guard_ms(first.data(), static_cast<std::size_t>(head), rate, false))
        mask(0, ms(guard));
}

void Scrubber::guard_end() noexcept {
    // The last 10 ms, still in the delay line (its part not output yet is what can be masked).
    const int rate = params_.sample_rate;
    std::array<std::int16_t, 480> last{};
    const std::size_t m = recent_input(last.data(), static_cast<std::size_t>(ms(10)));
    if (const int guard = edge_guard_ms(last.data(), m, rate, true)) mask(consumed_ - ms(guard), consumed_ + ramp());
}

std::size_t Scrubber::skip_silence(std::size_t n, std::int16_t* tail) noexcept {
    // The last 4 sub-blocks go through run(): their correlations, which the windows after
    // read, then hold exactly what process() would have left (the phase of zero's sign).
    const std::size_t piece = this->piece();
    const std::size_t pieces = n / piece;
    if (pieces <= kSkipPieces || piece_fill_ != 0) return 0;
    if (params_.guard_edges && consumed_ < std::min(ms(10), std::int64_t{delay()}))
        return 0;  // guard_start() still to decide
    for (int i = 0; i < n_aside_; ++i)  // set_masking(true) would still request it
        if (aside_[static_cast<std::size_t>(i)].second > masker_.output_position()) return 0;
    if (!masker_.settled() || !dtmf_.settled() || (tone_ && !tone_->settled()) ||
        (decimator_ && !decimator_->settled()))
        return 0;
    const std::int64_t blocks = static_cast<std::int64_t>(pieces - kSkipPieces);
    const std::int64_t samples = blocks * static_cast<std::int64_t>(piece);
    if (decimator_) decimator_->skip(static_cast<std::size_t>(samples));
    dtmf_.skip_blocks(blocks);
    if (tone_) tone_->skip_blocks(blocks);
    masker_.clear_runs();
    masker_.skip(samples);
    consumed_ += samples;
    stats_.samples += static_cast<std::uint64_t>(samples);
    std::array<std::int16_t, DtmfDetector::kSubBlock * 6> zeros{};  // a piece at 48 kHz
    for (std::size_t i = 0; i < kSkipPieces; ++i) run(zeros.data(), tail + i * piece, piece);
    return pieces * piece;
}

void Scrubber::analyse(const std::int16_t* in, std::size_t n) noexcept { run(in, nullptr, n); }

void Scrubber::run(const std::int16_t* in, std::int16_t* out, std::size_t n) noexcept {
    // Detection runs in pieces that end on detector sub-block boundaries, so the masker never
    // outputs a sample before every decision that could cover it was made, however the input
    // is chunked. Up to kBatch pieces are detected first; the masker then outputs them,
    // taking each piece's requests just before that piece's samples: the same output as
    // piece by piece, in one masker call when no request came (nearly always).
    const int piece = DtmfDetector::kSubBlock * factor_;
    // The pieces that made requests: where the piece starts in the batch, its requests, and
    // the input position ending it.
    struct Cut {
        std::size_t at, first, last;
        std::int64_t boundary;
    };
    std::array<Cut, kBatch> cuts;
    while (n > 0) {
        requests_.clear();
        int n_cuts = 0;
        const std::size_t first_event = events_.size();
        std::size_t done = 0;
        if (!tone_) {
            // DTMF only (the usual stream): the detector takes the whole batch in one call
            // (decimated first at 16/48 kHz); each request says at which sub-block end (its
            // piece's end) it was made, on the detector's clock.
            done = std::min<std::size_t>(n, static_cast<std::size_t>(kBatch * piece - piece_fill_));
            const std::int16_t* narrow = in;
            std::size_t n8 = done;
            std::array<std::int16_t, kBatch * DtmfDetector::kSubBlock + 1> decimated;  // 8 kHz
            std::int64_t lag = 0;  // the decimator's group delay less its group: offset_ + lag maps
            if (decimator_) {      // a decision's 8 kHz sample count onto the input consumed
                n8 = decimator_->process(in, done, decimated.data());
                narrow = decimated.data();
                lag = decimator_->delay() - (factor_ - 1);
            }
            dtmf_.process(narrow, n8, &events_, &requests_);
            for (std::size_t i = 0; i < requests_.size(); ++i) {
                const std::int64_t boundary = requests_[i].decided * factor_ + offset_ + lag;
                if (n_cuts > 0 && cuts[static_cast<std::size_t>(n_cuts - 1)].boundary == boundary) {
                    cuts[static_cast<std::size_t>(n_cuts - 1)].last = i + 1;
                    continue;
                }
                const std::int64_t start = std::max(boundary - piece, consumed_);
                cuts[static_cast<std::size_t>(n_cuts++)] = {static_cast<std::size_t>(start - consumed_), i, i + 1,
                                                             boundary};
            }
            piece_fill_ = static_cast<int>((static_cast<std::size_t>(piece_fill_) + done) % static_cast<std::size_t>(piece));
        } else {
            for (int p = 0; p < kBatch && done < n; ++p) {
                const std::size_t k =
                    std::min<std::size_t>(n - done, static_cast<std::size_t>(piece - piece_fill_));
                const std::size_t before = requests_.size();
                detect_piece(in + done, k);
                if (requests_.size() > before)
                    cuts[static_cast<std::size_t>(n_cuts++)] = {done, before, requests_.size(),
                                                                 consumed_ + static_cast<std::int64_t>(done + k)};
                done += k;
                piece_fill_ += static_cast<int>(k);
                if (piece_fill_ == piece) piece_fill_ = 0;
            }
        }
        forward(first_event);
        if (out != nullptr) {
            std::size_t at = 0;
            for (int c = 0; c < n_cuts; ++c) {
                const Cut& cut = cuts[static_cast<std::size_t>(c)];
                if (cut.at > at) masker_.process(in + at, out + at, cut.at - at);
                at = cut.at;
                if (!masking_) {
                    for (std::size_t i = cut.first; i < cut.last; ++i) set_aside(requests_[i]);
                    continue;
                }
                // Requests were made at the boundary T ending their piece. Whatever the
                // chunking, the masker has output less than T - delay by then (whole pieces:
                // T - piece - delay; one sample at a time: T - 1 - delay): cutting late
                // requests at T - delay, not at its current output position, keeps the
                // output independent of chunking.
                const std::int64_t not_before = cut.boundary - masker_.delay();
                for (std::size_t i = cut.first; i < cut.last; ++i) {
                    const auto [s, e] = input_span(requests_[i]);
                    if (!masker_.request(s, e, not_before)) ++stats_.late_masks;
                }
            }
            masker_.process(in + at, out + at, done - at);
            stats_.masked_samples = masker_.masked_samples();
        }
        consumed_ += static_cast<std::int64_t>(done);
        stats_.samples += done;
        in += done;
        if (out != nullptr) out += done;
        n -= done;
    }
}

std::pair<std::int64_t, std::int64_t> Scrubber::input_span(const MaskRequest& r) const noexcept {
    // The detector's span on the input clock, with the lead-in and the hang-over.
    return {r.start * factor_ + offset_ - lead_, r.end * factor_ + offset_ + hang_};
}

void Scrubber::set_aside(const MaskRequest& r) noexcept {
    const auto [s, e] = input_span(r);
    if (n_aside_ > 0) {
        auto& last = aside_[static_cast<std::size_t>(n_aside_ - 1)];
        if (s <= last.second) {  // the same streak, grown
            last = {std::min(last.first, s), std::max(last.second, e)};
            return;
        }
    }
    if (n_aside_ == static_cast<int>(aside_.size())) {  // the oldest is long output
        std::move(aside_.begin() + 1, aside_.end(), aside_.begin());
        --n_aside_;
    }
    aside_[static_cast<std::size_t>(n_aside_++)] = {s, e};
}

void Scrubber::detect_piece(const std::int16_t* in, std::size_t n) noexcept {
    const std::int16_t* narrow = in;
    std::size_t n8 = n;
    if (decimator_) {
        n8 = decimator_->process(in, n, narrow_.data());
        narrow = narrow_.data();
    }
    dtmf_.process(narrow, n8, &events_, &requests_);
    if (tone_) tone_->process(narrow, n8, &events_, params_.mask_tones ? &requests_ : nullptr);
}

bool Scrubber::mask(std::int64_t start, std::int64_t end) noexcept {
    if (!masking_) return false;
    // Best effort for the part already output: clipped here, not counted as a late mask.
    const bool whole = start >= masker_.output_position();
    start = std::max(start, masker_.output_position());
    if (end <= start) return false;
    masker_.request(start, end);
    return whole;
}

void Scrubber::finish_analysis() noexcept {
    // Trailing silence lets the detectors decide on the last samples, as flush() does.
    const std::int16_t zeros[64] = {};
    for (int left = DtmfDetector::kSubBlock * 8 * factor_; left > 0; left -= 64)  // 40 ms
        analyse(zeros, static_cast<std::size_t>(std::min(left, 64)));
    const std::size_t first_event = events_.size();
    dtmf_.flush(&events_);
    if (tone_) tone_->flush(&events_);
    forward(first_event);
}

void Scrubber::forward(std::size_t first_event) noexcept {
    // Map event times from the 8 kHz detector clock to the input clock.
    for (std::size_t i = first_event; i < events_.size(); ++i) {
        ToneEvent& e = events_[i];
        e.start = std::max<std::int64_t>(0, e.start * factor_ + offset_);
        e.end = std::max<std::int64_t>(e.start, e.end * factor_ + offset_);
        if (e.kind == EventKind::Dtmf)
            ++stats_.keypresses;
        else
            ++stats_.tones;
    }
}

void Scrubber::cut(std::int16_t* out) noexcept {
    if (params_.guard_edges && consumed_ > 0) guard_end();
    const std::size_t first_event = events_.size();
    dtmf_.cut(&events_);
    if (tone_) tone_->cut(&events_);
    forward(first_event);
    // The look-ahead out.
    const std::int16_t zeros[64] = {};
    masker_.clear_runs();
    for (std::size_t left = static_cast<std::size_t>(delay()); left > 0;) {
        const std::size_t k = std::min<std::size_t>(left, 64);
        masker_.process(zeros, out, k);
        out += k;
        left -= k;
    }
    masker_.close_spans();
}

void Scrubber::next_timeline() noexcept {
    // The detectors' clock goes on, and so does the piece under way (its sub-block is
    // completed by the new timeline's first samples): pieces stay aligned with sub-blocks.
    offset_ -= consumed_;
    clear_timeline();
}

void Scrubber::end_stream(std::int16_t* out) noexcept {
    flush(out);
    // Swapped out and back: reset() clears them, and no allocation is made.
    std::vector<ToneEvent> events;
    std::vector<MaskSpan> spans;
    events.swap(events_);
    spans.swap(masker_.finished_spans());
    const ScrubberStats stats = stats_;
    reset();
    events_.swap(events);
    masker_.finished_spans().swap(spans);
    stats_ = stats;
}

void Scrubber::flush(std::int16_t* out) noexcept {
    if (params_.guard_edges && consumed_ > 0) guard_end();
    // Push silence through the look-ahead: it lets the detectors decide on the stream's last
    // samples, and brings them out of the delay line.
    const std::int16_t zeros[64] = {};
    std::size_t left = static_cast<std::size_t>(delay());
    masker_.clear_runs();
    while (left > 0) {
        const std::size_t k = std::min<std::size_t>(left, 64);
        run(zeros, out, k);
        out += k;
        left -= k;
    }
    masker_.close_spans();
    const std::size_t first_event = events_.size();
    dtmf_.flush(&events_);
    if (tone_) tone_->flush(&events_);
    forward(first_event);
}

}  // namespace pcifilter
