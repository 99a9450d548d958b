// SPDX-License-Identifier: Apache-2.0
// Opus packets (RFC 6716 §3): the TOC byte and the frame packing, read in place.
//
// Gives the mode (SILK, hybrid, CELT), audio bandwidth, frame duration, channel count and the
// offset and size of each of the (up to 48) frames, for codes 0-3, CBR and VBR, with padding.
// Invalid packets (§3.4: R1-R7) are refused, exactly where libopus's opus_packet_parse
// refuses them (tests/test_opus_packet.py compares the two on random packets).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace pcifilter {

enum class OpusMode : std::uint8_t { Silk, Hybrid, Celt };

struct OpusPacketInfo {
    int config = 0;                  // 0-31
    OpusMode mode = OpusMode::Silk;
    int bandwidth_hz = 0;            // audio bandwidth: 4000, 6000, 8000, 12000 or 20000
    bool stereo = false;
    int code = 0;                    // frame packing, 0-3
    int frame_count = 0;             // 1-48
    int samples_per_frame = 0;       // at 48 kHz: 120 (2.5 ms) to 2880 (60 ms)
    std::size_t padding = 0;         // code 3 padding bytes (not counting the length bytes)
    std::array<std::uint16_t, 48> frame_size{};
    std::array<std::size_t, 48> frame_offset{};
};

// The coding mode a TOC byte names (§3.1 Table 2: configurations 0-11 SILK, 12-15 hybrid,
// 16-31 CELT).
constexpr OpusMode opus_toc_mode(std::uint8_t toc) noexcept {
    return (toc >> 3) < 12 ? OpusMode::Silk : (toc >> 3) < 16 ? OpusMode::Hybrid : OpusMode::Celt;
}

// The audio bandwidth (Hz) of the SILK layer a TOC byte names: 4000, 6000 or 8000 for SILK
// configurations (narrow-, medium-, wideband), 8000 for hybrid ones (their SILK layer is
// wideband), 0 for CELT.
constexpr int opus_toc_silk_bandwidth_hz(std::uint8_t toc) noexcept {
    return (toc >> 3) < 4 ? 4000 : (toc >> 3) < 8 ? 6000 : (toc >> 3) < 16 ? 8000 : 0;
}

// True and `out` filled for a valid packet; false for an invalid one.
bool parse_opus_packet(const std::uint8_t* data, std::size_t len, OpusPacketInfo* out) noexcept;

}  // namespace pcifilter
