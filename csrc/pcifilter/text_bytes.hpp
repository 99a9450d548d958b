// SPDX-License-Identifier: Apache-2.0
// Text in binary: the few operations on bytes that the signalling recognisers
// (signalling.hpp) and the maskers (redaction.hpp) share. Internal to the core.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace pcifilter::text_bytes {

inline std::uint8_t ascii_lower(std::uint8_t c) noexcept { return static_cast<std::uint8_t>(c >= 'A' && c <= 'Z' ? c + 32 : c); }
// Whether `word` (lower case) is at p[at], whatever the case of p's letters.
inline bool word_at(const std::uint8_t* p, std::size_t n, std::size_t at, const char* word) noexcept {
    const std::size_t k = std::strlen(word);
    if (at > n || k > n - at) return false;
    for (std::size_t i = 0; i < k; ++i)
        if (ascii_lower(p[at + i]) != static_cast<std::uint8_t>(word[i])) return false;
    return true;
}
// The first place from `at` that holds one of `stops`, or n.
inline std::size_t first_of(const std::uint8_t* p, std::size_t n, std::size_t at, const char* stops) noexcept {
    while (at < n && std::strchr(stops, p[at]) == nullptr) ++at;
    return at;
}
// p[a, b) as X's; whether that changed anything.
inline bool x_out(std::uint8_t* p, std::size_t a, std::size_t b) noexcept {
    bool changed = false;
    for (std::size_t i = a; i < b; ++i) changed |= p[i] != 'X', p[i] = 'X';
    return changed;
}

}  // namespace pcifilter::text_bytes
