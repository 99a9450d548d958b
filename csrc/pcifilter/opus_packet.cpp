// SPDX-License-Identifier: Apache-2.0
#include "pcifilter/opus_packet.hpp"

namespace pcifilter {
namespace {

constexpr int kMaxFrameBytes = 1275;   // §3.4 R2
constexpr int kMaxPacketSamples = 5760;  // 120 ms at 48 kHz (§3.4 R5)

// §3.2.1: a frame length is one byte below 252, else two (4 × second + first).
int parse_size(const std::uint8_t* p, std::size_t len, int* size) {
    if (len < 1) return -1;
    if (p[0] < 252) {
        *size = p[0];
        return 1;
    }
    if (len < 2) return -1;
    *size = 4 * p[1] + p[0];
    return 2;
}

}  // namespace

bool parse_opus_packet(const std::uint8_t* data, std::size_t len, OpusPacketInfo* out) noexcept {
    if (len < 1) return false;  // §3.4 R1
    OpusPacketInfo info;
    const std::uint8_t toc = data[0];
    info.config = toc >> 3;
    info.stereo = (toc & 0x04) != 0;
    info.code = toc & 0x03;
    // §3.1 Table 2: configurations to mode, bandwidth and frame duration.
    static const int kSilkBw[3] = {4000, 6000, 8000};
    static const int kCeltBw[4] = {4000, 8000, 12000, 20000};
    info.mode = opus_toc_mode(toc);
    if (info.mode == OpusMode::Silk) {
        info.bandwidth_hz = kSilkBw[info.config / 4];
        static const int kSilk[4] = {480, 960, 1920, 2880};
        info.samples_per_frame = kSilk[info.config & 3];
    } else if (info.mode == OpusMode::Hybrid) {
        info.bandwidth_hz = info.config < 14 ? 12000 : 20000;
        info.samples_per_frame = (info.config & 1) ? 960 : 480;
    } else {
        info.bandwidth_hz = kCeltBw[(info.config - 16) / 4];
        info.samples_per_frame = 120 << (info.config & 3);
    }
    const std::uint8_t* p = data + 1;
    long rest = static_cast<long>(len) - 1;
    int sizes[48];
    int count = 0;
    long last = rest;
    switch (info.code) {
        case 0:  // one frame
            count = 1;
            break;
        case 1:  // two frames of equal size (§3.4 R3)
            count = 2;
            if (rest & 1) return false;
            last = rest / 2;
            sizes[0] = static_cast<int>(last);
            break;
        case 2: {  // two frames, the first one's size coded (§3.4 R4)
            count = 2;
            const int bytes = parse_size(p, static_cast<std::size_t>(rest), &sizes[0]);
            if (bytes < 0) return false;
            rest -= bytes;
            if (sizes[0] > rest) return false;
            p += bytes;
            last = rest - sizes[0];
            break;
        }
        default: {  // code 3: a count byte, optional padding, CBR or VBR sizes
            if (rest < 1) return false;
            const std::uint8_t ch = *p++;
            --rest;
            count = ch & 0x3F;
            if (count <= 0 || info.samples_per_frame * count > kMaxPacketSamples) return false;  // R5
            if (ch & 0x40) {  // padding: 255 means 254 bytes and another length byte
                std::uint8_t b = 0;
                do {
                    if (rest <= 0) return false;
                    b = *p++;
                    --rest;
                    const int add = b == 255 ? 254 : b;
                    rest -= add;
                    info.padding += static_cast<std::size_t>(add);
                } while (b == 255);
            }
            if (rest < 0) return false;  // R6/R7
            if (ch & 0x80) {  // VBR
                last = rest;
                for (int i = 0; i < count - 1; ++i) {
                    const int bytes = parse_size(p, static_cast<std::size_t>(rest), &sizes[i]);
                    if (bytes < 0) return false;
                    rest -= bytes;
                    if (sizes[i] > rest) return false;
                    p += bytes;
                    last -= bytes + sizes[i];
                }
                if (last < 0) return false;
            } else {  // CBR: the rest divides evenly (R6)
                last = rest / count;
                if (last * count != rest) return false;
                for (int i = 0; i < count - 1; ++i) sizes[i] = static_cast<int>(last);
            }
        }
    }
    if (last > kMaxFrameBytes) return false;  // R2
    sizes[count - 1] = static_cast<int>(last);
    info.frame_count = count;
    std::size_t at = static_cast<std::size_t>(p - data);
    for (int i = 0; i < count; ++i) {
        info.frame_offset[static_cast<std::size_t>(i)] = at;
        info.frame_size[static_cast<std::size_t>(i)] = static_cast<std::uint16_t>(sizes[i]);
        at += static_cast<std::size_t>(sizes[i]);
    }
    *out = info;
    return true;
}

}  // namespace pcifilter
