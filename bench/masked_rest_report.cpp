// SPDX-License-Identifier: Apache-2.0
// What masked_rest_may_hold_card (redaction.hpp: the rest of a WebSocket client's frame a
// TCP run begins in, its key not captured) costs on 1 MiB, the most a rest can be, of:
// random bytes (TLS), one byte repeated (every key fits: taken to hold a card at once),
// digits, this library's own X's (a body replaced before the capture's last sweep: not
// read), X's then random bytes, HTTP replies in clear (no masked frame's rest) and their
// JSON bodies alone (a time in ms in each). Best of 20 calls each, and what it answered.
//
//   g++ -O3 -std=c++17 -Icsrc bench/masked_rest_report.cpp csrc/pcifilter/redaction.cpp -o build/masked_rest
//   build/masked_rest
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "pcifilter/redaction.hpp"

using namespace pcifilter;

int main() {
    constexpr std::size_t n = std::size_t{1} << 20;
    std::mt19937 rng(1);
    std::vector<std::uint8_t> random(n), same(n, 0x31), digits(n), xs(n, 'X'), xs_then_random(n);
    for (auto& c : random) c = static_cast<std::uint8_t>(rng());
    for (auto& c : digits) c = static_cast<std::uint8_t>('0' + rng() % 10);
    for (std::size_t i = 0; i < n; ++i) xs_then_random[i] = i < n / 2 ? 'X' : random[i];
    // HTTP replies in clear, a time in ms in each: the text before frames found by chance
    // (the last bytes of a gzip'd body), and the same JSON bodies alone
    std::vector<std::uint8_t> replies, bodies;
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 44\r\n\r\n";
    for (long at = 1733100000000; replies.size() < n; at += 977) {
        const std::string body = "{\"status\": \"ok\", \"at\": " + std::to_string(at) + ", \"n\": 7}";
        replies.insert(replies.end(), head.begin(), head.end());
        replies.insert(replies.end(), body.begin(), body.end());
        bodies.insert(bodies.end(), body.begin(), body.end());
    }
    replies.resize(n);
    bodies.resize(n);
    struct Case {
        const char* name;
        const std::vector<std::uint8_t>* bytes;
    };
    WebSocketFrames scratch;
    std::printf("| 1 MiB of | best of 20 | may hold a card |\n|---|---|---|\n");
    for (const Case c : {Case{"random bytes", &random}, Case{"one byte repeated", &same}, Case{"digits", &digits},
                         Case{"X's", &xs}, Case{"X's, then random bytes", &xs_then_random},
                         Case{"HTTP replies in clear, a time in ms in each", &replies},
                         Case{"their JSON bodies alone", &bodies}}) {
        double best = 1e9;
        bool held = false;
        for (int k = 0; k < 20; ++k) {
            const auto t0 = std::chrono::steady_clock::now();
            held = masked_rest_may_hold_card(c.bytes->data(), c.bytes->size(), scratch);
            const auto t1 = std::chrono::steady_clock::now();
            best = std::min(best, std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
        std::printf("| %s | %.2f ms | %s |\n", c.name, best, held ? "yes" : "no");
    }
}
