// SPDX-License-Identifier: Apache-2.0
// G.711: every code decodes to a value that encodes back to it (µ-law -0 aside), encode is
// monotonic, and the idle codes decode to silence. The buffer decoders (SIMD where the CPU
// has AVX2) give the per-code values for every code, at every length and alignment; the
// buffer encoders give the per-sample codes for every input. (Every input against an
// independent G.191 reference: tests/test_g711.py.)
#include <vector>

#include "check.hpp"
#include "pcifilter/g711.hpp"

using namespace pcifilter;

int main() {
    for (int c = 0; c < 256; ++c) {
        const auto code = static_cast<std::uint8_t>(c);
        if (code != 0x7F) CHECK(linear_to_ulaw(ulaw_to_linear(code)) == code);
        CHECK(linear_to_alaw(alaw_to_linear(code)) == code);
    }
    CHECK(ulaw_to_linear(kUlawSilence) == 0);
    CHECK(alaw_to_linear(kAlawSilence) == 8);
    int prev_u = -40000, prev_a = -40000;
    for (int x = -32768; x <= 32767; ++x) {
        const int u = ulaw_to_linear(linear_to_ulaw(static_cast<std::int16_t>(x)));
        const int a = alaw_to_linear(linear_to_alaw(static_cast<std::int16_t>(x)));
        CHECK(u >= prev_u);  // quantisation is monotonic
        CHECK(a >= prev_a);
        prev_u = u;
        prev_a = a;
    }
    std::vector<std::int16_t> all(65536);
    for (int x = -32768; x <= 32767; ++x) all[static_cast<std::size_t>(x + 32768)] = static_cast<std::int16_t>(x);
    std::vector<std::uint8_t> eu(all.size()), ea(all.size());
    encode_ulaw(all.data(), eu.data(), all.size());
    encode_alaw(all.data(), ea.data(), all.size());
    for (std::size_t i = 0; i < all.size(); ++i) {
        CHECK(eu[i] == linear_to_ulaw(all[i]));
        CHECK(ea[i] == linear_to_alaw(all[i]));
    }
    std::vector<std::uint8_t> codes(600);
    for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<std::uint8_t>(i * 7 + i / 256);
    std::vector<std::int16_t> u(codes.size()), a(codes.size());
    for (std::size_t start = 0; start < 33; ++start)
        for (std::size_t n = 0; start + n <= codes.size(); n += 1 + n / 8) {
            decode_ulaw(codes.data() + start, u.data(), n);
            decode_alaw(codes.data() + start, a.data(), n);
            for (std::size_t i = 0; i < n; ++i) {
                CHECK(u[i] == ulaw_to_linear(codes[start + i]));
                CHECK(a[i] == alaw_to_linear(codes[start + i]));
            }
        }
    return CHECK_DONE();
}
