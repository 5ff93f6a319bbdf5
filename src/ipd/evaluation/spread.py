"""Uncertainty of the metrics: bootstrap confidence intervals over test videos and over seeds.

Two questions, two resamplings:

* **One run, other test videos** (:func:`video_ci95`, the demo's report): the row's figure
  recomputed on test sets drawn from the scored test videos with replacement, *stratified by
  instrument* (each instrument keeps its number of videos, so the mean over instruments stays
  defined). Temporal: the mean over instruments of the per-instrument mean AUCs; spatial: the
  mean over all positive frames of the drawn videos (the authors' aggregation, SPEC 7).
* **Same test set, other seeds** (:func:`describe`, ``ipd study``): the mean of the per-seed
  values recomputed on seeds drawn with replacement. It measures how much a result depends on the
  training path (initialisation, batch order, and float rounding, which differs between
  processors), not how it would generalise to other test videos.

Both are percentile intervals of ``resamples`` draws from a fixed random generator (the same
numbers on every run).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np

from ipd.evaluation.action import RowResult, Summary

RESAMPLES = 2000


def percentile_ci(draws: np.ndarray) -> tuple[float, float]:
    """The central 95 % of ``draws``: ``(2.5th, 97.5th)`` percentiles."""
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return float(lo), float(hi)


def describe(values: Sequence[float], resamples: int = RESAMPLES, seed: int = 0) -> dict:
    """``{"values", "mean", "std", "ci95"}`` of per-seed values; ``std`` with ``ddof=1`` (0 for
    one value); ``ci95``: bootstrap of the mean over seeds (module docstring)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise ValueError("describe needs at least one value")
    draws = x[np.random.default_rng(seed).integers(0, x.size, (resamples, x.size))].mean(axis=1)
    return {
        "values": [float(v) for v in x],
        "mean": float(x.mean()),
        "std": float(x.std(ddof=1)) if x.size > 1 else 0.0,
        "ci95": list(percentile_ci(draws)),
    }


def video_ci95(
    row: RowResult,
    instrument_of: Mapping[str, str],
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> dict[str, list[float] | None]:
    """``{"temporal_auc": [lo, hi] | None, "spatial_px": [lo, hi] | None}``: bootstrap over the
    row's scored test videos, stratified by instrument (module docstring)."""
    return {
        "temporal_auc": _video_draws(row.temporal, instrument_of, resamples, seed, False),
        "spatial_px": _video_draws(row.spatial, instrument_of, resamples, seed, True),
    }


def _video_draws(
    summary: Summary | None,
    instrument_of: Mapping[str, str],
    resamples: int,
    seed: int,
    frames: bool,
) -> list[float] | None:
    if summary is None or not summary.per_video:
        return None
    groups: dict[str, list[str]] = defaultdict(list)
    for vid in summary.per_video:
        groups[instrument_of[vid]].append(vid)
    rng = np.random.default_rng(seed)
    means, sums, counts = [], np.zeros(resamples), np.zeros(resamples)
    for instrument in sorted(groups):
        vids = groups[instrument]
        drawn = rng.integers(0, len(vids), (resamples, len(vids)))  # (resamples, videos)
        if frames:
            total = np.array([sum(summary.per_frame[v]) for v in vids])
            n = np.array([len(summary.per_frame[v]) for v in vids])
            sums += total[drawn].sum(axis=1)
            counts += n[drawn].sum(axis=1)
        else:
            scores = np.array([summary.per_video[v] for v in vids])
            means.append(scores[drawn].mean(axis=1))
    draws = sums / counts if frames else np.mean(means, axis=0)
    return list(percentile_ci(draws))
