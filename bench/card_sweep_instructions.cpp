// SPDX-License-Identifier: Apache-2.0
// Instructions the card-number sweep over plain bytes takes (mask_card_numbers_in), counted
// by callgrind on 4 MiB of random letters, digits, spaces, dashes, colons and line ends
// (digit runs and lines' ends everywhere: a worst case for the separators' tests); with
// `wide`, the characters as UTF-16 (a 0 byte after each: the wide sweep's input). Build it
// against two trees to compare them; the count of numbers found is printed.
//
//   g++ -O2 -g -std=c++17 -Icsrc bench/card_sweep_instructions.cpp csrc/pcifilter/redaction.cpp -o build/card_sweep
//   valgrind --tool=callgrind --callgrind-out-file=build/cg.cards build/card_sweep [wide]
//   callgrind_annotate --inclusive=yes build/cg.cards | grep 'mask_card_numbers_in'
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "pcifilter/redaction.hpp"

int main(int argc, char** argv) {
    const bool wide = argc > 1 && std::strcmp(argv[1], "wide") == 0;
    std::mt19937 rng(3);
    const char alphabet[] = "abcdefXYZ0123456789   --::\n";
    std::vector<std::uint8_t> text(4 << 20);
    for (std::size_t i = 0; i < text.size(); i += wide ? 2 : 1)
        text[i] = static_cast<std::uint8_t>(alphabet[rng() % (sizeof alphabet - 1)]);
    std::printf("%zu card numbers found\n", pcifilter::mask_card_numbers_in(text.data(), text.size()));
}
