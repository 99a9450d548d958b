# SPDX-License-Identifier: Apache-2.0
"""How often the card-number sweep reads a card number where there is none, in synthetic
text with lines' ends among numbers (the hard-wrap rule joins groups across a line's end):
300 documents of each kind, `pcifilter._core.mask_card_numbers` on each; the numbers it
found are printed per kind. Kinds: words and numbers of 1-8 digits with spaces, dashes and
lines' ends between them; CSV rows of numbers; tables of 4-digit numbers, 1-3 a line.

    .venv/bin/python bench/card_wrap_report.py
"""

from __future__ import annotations

import random

from pcifilter import _core


def _document(rnd: random.Random, kind: str) -> bytes:
    if kind == "words and numbers":
        parts = []
        for _ in range(600):
            if rnd.random() < 0.5:
                parts.append(str(rnd.randrange(10 ** rnd.randint(1, 8))))
            else:
                parts.append(rnd.choice(["the", "card", "a", "total", "id"]))
            parts.append(rnd.choice([" ", " ", " ", "\r\n", "\n", "-"]))
        return "".join(parts).encode()
    if kind == "CSV rows":
        rows = (
            f"{rnd.randrange(10**6)},{rnd.randrange(10**4)} {rnd.randrange(10**4)},"
            f"{rnd.randrange(10**5)}\r\n"
            for _ in range(200)
        )
        return "".join(rows).encode()
    lines = (
        " ".join(str(rnd.randrange(1000, 10000)) for _ in range(rnd.randint(1, 3))) + "\n"
        for _ in range(300)
    )
    return "".join(lines).encode()


def main() -> None:
    rnd = random.Random(7)
    for kind in ("words and numbers", "CSV rows", "tables of 4-digit numbers"):
        found = sum(_core.mask_card_numbers(_document(rnd, kind))[1] for _ in range(300))
        print(f"{kind:28} {found} numbers read as cards in 300 documents")


if __name__ == "__main__":
    main()
