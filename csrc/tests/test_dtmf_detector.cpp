// SPDX-License-Identifier: Apache-2.0
// DtmfDetector through a G.711 round trip (the spandsp habit): all 16 keys found once with
// edges within 5 ms, in any chunking; nothing in silence; no allocation-free path throws.
#include <cmath>
#include <random>
#include <vector>

#include "check.hpp"
#include "pcifilter/dtmf_detector.hpp"
#include "pcifilter/g711.hpp"
#include "pcifilter/levels.hpp"

using namespace pcifilter;

int main() {
    const char* keys = "123A456B789C*0#D";
    std::vector<std::int16_t> x;
    std::vector<std::int64_t> starts;
    x.assign(800, 0);
    for (int k = 0; k < 16; ++k) {
        const double lo = DtmfDetector::kFreqs[k / 4], hi = DtmfDetector::kFreqs[4 + k % 4];
        const double a = dbm0_to_amplitude(-20.0);
        starts.push_back(static_cast<std::int64_t>(x.size()));
        for (int n = 0; n < 480; ++n) {
            const double v = a * (std::sin(2 * M_PI * lo * n / 8000) + std::sin(2 * M_PI * hi * n / 8000));
            x.push_back(ulaw_to_linear(linear_to_ulaw(static_cast<std::int16_t>(std::lround(v)))));
        }
        x.insert(x.end(), 480 + 13 * k, 0);
    }
    for (std::size_t chunk : {std::size_t(1), std::size_t(7), std::size_t(160), x.size()}) {
        DtmfDetector det;
        std::vector<ToneEvent> events;
        std::vector<MaskRequest> masks;
        for (std::size_t i = 0; i < x.size(); i += chunk)
            det.process(x.data() + i, std::min(chunk, x.size() - i), &events, &masks);
        det.flush(&events);
        CHECK(events.size() == 16);
        for (std::size_t i = 0; i < events.size() && i < 16; ++i) {
            CHECK(events[i].digit == keys[i]);
            CHECK(std::llabs(events[i].start - starts[i]) <= 40);
            CHECK(std::llabs(events[i].end - (starts[i] + 480)) <= 40);
        }
        CHECK(!masks.empty());
    }
    DtmfDetector quiet;
    std::vector<std::int16_t> silence(8000, 0);
    std::vector<ToneEvent> none;
    quiet.process(silence.data(), silence.size(), &none, nullptr);
    quiet.flush(&none);
    CHECK(none.empty());
    return CHECK_DONE();
}
