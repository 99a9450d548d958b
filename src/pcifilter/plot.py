# SPDX-License-Identifier: Apache-2.0
"""Before/after picture of a scrub: waveform and spectrogram, masked spans shaded."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt


def plot_scrub(
    path: str | Path,
    before: npt.NDArray[np.int16],
    after: npt.NDArray[np.int16],
    sample_rate: int,
    spans: Sequence[tuple[int, int]],
    title: str = "",
) -> None:
    """Write a PNG: waveform and spectrogram of input and output, masked spans shaded."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError("plotting needs matplotlib: pip install 'pcifilter[plot]'") from exc
    t = np.arange(len(before)) / sample_rate
    fig, axes = plt.subplots(4, 1, figsize=(12, 9), sharex=True, constrained_layout=True)
    for row, (name, x) in enumerate((("input", before), ("output", after))):
        ax_w, ax_s = axes[2 * row], axes[2 * row + 1]
        ax_w.plot(t, x, lw=0.4, color="tab:blue")
        ax_w.set_ylim(-32768, 32767)
        ax_w.set_ylabel(f"{name}\nsample")
        nfft = 256 if sample_rate <= 8000 else 512
        with np.errstate(divide="ignore"):  # digital silence has zero power
            ax_s.specgram(
                x.astype(np.float64),
                NFFT=nfft,
                Fs=sample_rate,
                noverlap=nfft // 2,
                cmap="magma",
                vmin=-40,
            )
        ax_s.set_ylabel(f"{name}\nHz")
        ax_s.set_ylim(0, min(4000, sample_rate / 2))
        for ax in (ax_w, ax_s):
            for s, e in spans:
                ax.axvspan(s / sample_rate, e / sample_rate, color="tab:green", alpha=0.25, lw=0)
    axes[-1].set_xlabel("time (s)")
    total = sum(e - s for s, e in spans) / sample_rate
    fig.suptitle(f"{title}  (masked: {len(spans)} spans, {total:.2f} s, shaded)".strip())
    fig.savefig(path, dpi=110)
    plt.close(fig)
