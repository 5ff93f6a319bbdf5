"""Pictures of the chapter-3 tagger: top tags over time (Fig. 3.7 / Appendix A) and the learned
Gaussian widths against training counts (Fig. 3.4)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

from ipd.tagging.tagger import TagActivations


def plot_top_tags(acts: TagActivations, path: str | Path, k: int = 10) -> Path:
    """Heat map of the ``k`` best clip-level tags over time, with their clip activations as bars.

    Rows are tags (best on top), columns are output frames at their timestamps (seconds).
    """
    top = np.argsort(-acts.clip, kind="stable")[:k]
    names = [acts.tags[i] for i in top]
    end = acts.times[-1] + acts.period_s if len(acts.times) else acts.period_s
    fig = Figure(figsize=(12, 0.35 * len(top) + 1.6))
    ax_map, ax_bar = fig.subplots(1, 2, width_ratios=(5, 1), sharey=True)
    image = ax_map.imshow(
        acts.frame[:, top].T,
        aspect="auto",
        interpolation="nearest",
        cmap="magma",
        vmin=0.0,
        vmax=1.0,
        extent=(0.0, end, len(top) - 0.5, -0.5),
    )
    ax_map.set_yticks(range(len(top)), names)
    ax_map.set_xlabel("time (s)")
    ax_map.set_title(Path(acts.source).name or "tag activations over time")
    ax_bar.barh(range(len(top)), acts.clip[top], color="tab:blue")
    ax_bar.set_xlim(0.0, 1.0)
    ax_bar.set_xlabel("clip")
    fig.colorbar(image, ax=ax_bar, fraction=0.3, pad=0.1)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return Path(path)


def plot_sigmas(
    sigma: np.ndarray, counts: np.ndarray, tags: Sequence[str], path: str | Path, label: int = 10
) -> Path:
    """Learned Gaussian sigma per tag against its training count (log scale), Fig. 3.4 style.

    Args:
        sigma: ``(N,)`` standard deviations (segments) of the accumulation layer.
        counts: ``(N,)`` training clips per tag (or any frequency measure, e.g. inverse rank).
        tags: ``N`` names; the ``label`` largest and smallest sigmas are annotated.
        path: output image.
    """
    fig = Figure(figsize=(7, 5))
    ax = fig.subplots()
    ax.scatter(counts, sigma, s=12)
    order = np.argsort(sigma)
    for i in (*order[:label], *order[-label:]):
        ax.annotate(tags[i], (counts[i], sigma[i]), fontsize=7)
    ax.set_xscale("log")
    ax.set_xlabel("training count")
    ax.set_ylabel("learned sigma (segments)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return Path(path)
