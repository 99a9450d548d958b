// SPDX-License-Identifier: Apache-2.0
// Tests of a stream's edges for the guards that mask them: where a stream (or a file, or a
// sender's pause) starts or ends inside a keypress, the part of it there can be too short
// for the detector (it finds 15 ms and more) and still be a tone to a listener. The core
// scrubber guards a stream's start and end with them; the RTP stream filter its pauses,
// restarts and losses too.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pcifilter {

// A keypress's level at an edge, for the guards (the detector's mask level,
// DtmfParams::mask_min_level_dbm0's default).
constexpr double kEdgeLevelDbm0 = -45.0;
// Sound at an edge: a keypress of -25 dBm0 a tone is -22 dBm0 over both; a sender's VAD
// pauses on audio quieter than this. A keypress under speech is not found by its tones
// there (they do not hold most of the sound), so an edge on sound is guarded whatever it is.
constexpr double kSoundDbm0 = -27.0;
// How long an edge on sound is masked: a keypress's usual length (one that starts a stream
// on sound may end up to that far in, and the detector, starting afresh, may not find it).
constexpr int kEdgeOnSoundMs = 120;
// How long an edge that sounds like a keypress is masked.
constexpr int kEdgeGuardMs = 15;

// Sum of squares of x[0, n).
double energy(const std::int16_t* x, std::size_t n) noexcept;
// Whether x[0, n) is at -27 dBm0 or more (kSoundDbm0).
bool sound_at(const std::int16_t* x, std::size_t n) noexcept;
// Whether x[0, m) sounds like (part of) a keypress: one row and one column frequency each
// hold a tenth of its energy or more, together 40 %.
bool keypress_like(const std::int16_t* x, std::size_t m, int rate) noexcept;
// Whether a stream's first (`at_end`: last) audio, `n` samples, looks like the end (start)
// of a keypress: over its first (last) 10 ms, or over the sound it starts (ends) with when
// that is shorter, in 2.5 ms blocks at a keypress's level.
bool keypress_at_edge(const std::int16_t* x, std::size_t n, int rate, bool at_end) noexcept;
// Whether x[0, n) ends in a sound that starts in its last 1 ms at a keypress's level (-45
// dBm0 or more over that 1 ms, 20 dB and more above the 1.5 ms before it): a keypress whose
// first 1-8 samples come before a pause or a stream's end, too few to tell by their
// frequencies. A voice does not pause on such an onset.
bool onset_at_end(const std::int16_t* x, std::size_t n, int rate) noexcept;
// Whether the first (`at_end`: last) 2.5 ms of x[0, n) are at a keypress's level.
bool loud_at_edge(const std::int16_t* x, std::size_t n, int rate, bool at_end) noexcept;
// Whether any 2.5 ms block of x[0, n) is at a keypress's level (-45 dBm0 or more).
bool loud_anywhere(const std::int16_t* x, std::size_t n, int rate) noexcept;

}  // namespace pcifilter
