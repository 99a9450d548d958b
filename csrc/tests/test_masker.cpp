// SPDX-License-Identifier: Apache-2.0
// Masker: output is the input delayed; requested spans are replaced; the rest is bit-exact.
#include <stdexcept>
#include <vector>

#include "check.hpp"
#include "pcifilter/masker.hpp"

using namespace pcifilter;

int main() {
    MaskerParams p;
    p.ramp_ms = 0;
    Masker m(8000, 100, p);
    std::vector<std::int16_t> in(1000), out(1000);
    for (int i = 0; i < 1000; ++i) in[i] = static_cast<std::int16_t>(i + 1);
    CHECK(m.request(300, 400));
    m.process(in.data(), out.data(), 1000);
    for (int t = 0; t < 100; ++t) CHECK(out[t] == 0);  // pre-roll
    for (int t = 100; t < 1000; ++t) {
        const int src = t - 100;
        if (src >= 300 && src < 400)
            CHECK(out[t] == 0);
        else
            CHECK(out[t] == in[src]);
    }
    CHECK(m.finished_spans().size() == 1);
    CHECK(!m.request(100, 200));  // already output: too late, counted
    CHECK(m.late_requests() == 1);
    bool threw = false;
    try {
        MaskerParams bad;
        bad.mode = MaskMode::Tone;
        bad.tone_hz = 697;
        Masker x(8000, 10, bad);
    } catch (const std::invalid_argument&) {
        threw = true;
    }
    CHECK(threw);
    return CHECK_DONE();
}
