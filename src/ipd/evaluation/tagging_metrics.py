"""Chapter-3 tagging metrics (SPEC section 7; Liu & Yang 2016, §3.2.1 and §4).

Clip level, on ``(clips, tags)`` score and 0/1 target matrices:

- AUC and AP **per class** (one value per tag over the clips, then the mean) and **per clip**
  (one value per clip over the tags, then the mean). A tag (or clip) whose targets are all 0 or
  all 1 has no AUC/AP: it is NaN in the per-item array and left out of the mean, as the authors did.

Frame level, on ``(frames, tags)`` 0/1 decisions: precision, recall and F1, micro (pooled over all
tags) and macro (mean over tags; a tag with no positive prediction has precision 0 and a tag with
no positive target recall 0, sklearn's ``zero_division=0``).

Thresholds: per tag, the candidate of ``{0, 1/K, ..., (K-1)/K}`` (K = 1000) that maximises F1, a
frame being positive when its score is **strictly above** the threshold (the authors'
``prediction - threshold > 0``); ties go to the smallest threshold. Only clip-level information is
assumed: MedleyDB validation tracks are cut into 320-frame pseudo-clips whose labels are the max of
their frame labels (:func:`pseudo_clips`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

PSEUDO_CLIP_FRAMES = 320  # mel frames per pseudo-clip (10.24 s)
NUM_CANDIDATES = 1000


def _per_column(metric, targets: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """``metric(targets[:, j], scores[:, j])`` per column, NaN where the targets hold one class."""
    targets, scores = _check(targets, scores)
    out = np.full(targets.shape[1], np.nan)
    for j in range(targets.shape[1]):
        column = targets[:, j]
        if 0 < column.sum() < len(column):
            out[j] = metric(column, scores[:, j])
    return out


def _check(targets: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    targets, scores = np.asarray(targets), np.asarray(scores, dtype=np.float64)
    if targets.shape != scores.shape or targets.ndim != 2:
        raise ValueError(
            f"targets {targets.shape} and scores {scores.shape}: need equal 2-D shapes"
        )
    return (targets > 0).astype(np.int64), scores


def auc_per_class(targets: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC AUC of each tag over the clips: ``(clips, tags) -> (tags,)``, NaN if undefined."""
    return _per_column(roc_auc_score, targets, scores)


def auc_per_clip(targets: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC AUC of each clip over the tags: ``(clips, tags) -> (clips,)``, NaN if undefined."""
    return _per_column(roc_auc_score, np.asarray(targets).T, np.asarray(scores).T)


def ap_per_class(targets: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Average precision of each tag over the clips: ``(clips, tags) -> (tags,)``."""
    return _per_column(average_precision_score, targets, scores)


def ap_per_clip(targets: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Average precision of each clip over the tags: ``(clips, tags) -> (clips,)``."""
    return _per_column(average_precision_score, np.asarray(targets).T, np.asarray(scores).T)


def _nanmean(values: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN -> NaN, on purpose
        return float(np.nanmean(values))


def clip_level_scores(targets: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """Mean AUC and AP (MAP), per class and per clip, of clip-level predictions.

    Returns:
        ``{"auc_class", "auc_clip", "map_class", "map_clip"}``; NaN when nothing is defined.
    """
    return {
        "auc_class": _nanmean(auc_per_class(targets, scores)),
        "auc_clip": _nanmean(auc_per_clip(targets, scores)),
        "map_class": _nanmean(ap_per_class(targets, scores)),
        "map_clip": _nanmean(ap_per_clip(targets, scores)),
    }


def binarize(scores: np.ndarray, thresholds: np.ndarray | float) -> np.ndarray:
    """``scores > thresholds`` as 0/1 int; ``thresholds`` is a scalar or ``(tags,)``."""
    return (np.asarray(scores) > np.asarray(thresholds)).astype(np.int64)


def frame_level_scores(targets: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Precision, recall and F1, micro and macro, of 0/1 frame decisions ``(frames, tags)``.

    Returns:
        ``{"precision_micro", "precision_macro", "recall_micro", "recall_macro", "f1_micro",
        "f1_macro"}``.
    """
    targets, predicted = _check(targets, predicted)
    y, p = targets.astype(bool), predicted.astype(bool)
    # Counted here rather than by sklearn: a single tag, (frames, 1), would be read as a binary
    # problem and its "micro" average would count the negative class too.
    tp, fp, fn = (y & p).sum(0), (~y & p).sum(0), (y & ~p).sum(0)  # (tags,)
    out = {}
    for average, (t, f_p, f_n) in (
        ("micro", (tp.sum(), fp.sum(), fn.sum())),
        ("macro", (tp, fp, fn)),
    ):
        precision = np.divide(t, t + f_p, out=np.zeros(np.shape(t)), where=(t + f_p) > 0)
        recall = np.divide(t, t + f_n, out=np.zeros(np.shape(t)), where=(t + f_n) > 0)
        denom = precision + recall
        f1 = np.divide(2 * precision * recall, denom, out=np.zeros(np.shape(t)), where=denom > 0)
        out |= {
            f"precision_{average}": np.mean(precision),
            f"recall_{average}": np.mean(recall),
            f"f1_{average}": np.mean(f1),
        }
    return {k: float(v) for k, v in out.items()}


@dataclass(frozen=True)
class Thresholds:
    """Per-tag F1-best thresholds.

    Attributes:
        thresholds: ``(tags,)`` chosen threshold per tag.
        f1: ``(tags,)`` F1 at that threshold on the search data (0 for a tag with no positive).
    """

    thresholds: np.ndarray
    f1: np.ndarray


def search_thresholds(
    scores: np.ndarray, targets: np.ndarray, num_candidates: int = NUM_CANDIDATES
) -> Thresholds:
    """Per tag, the candidate ``c in {0, 1/K, ..., (K-1)/K}`` maximising F1 of ``scores > c``.

    Counts come from sorted scores (``O(n log n + K log n)`` per tag), not one pass per candidate.

    Args:
        scores: ``(items, tags)`` scores in [0, 1] (frames, or pseudo-clips).
        targets: ``(items, tags)`` 0/1 labels.
        num_candidates: K.
    """
    targets, scores = _check(targets, scores)
    candidates = np.arange(num_candidates) / num_candidates
    best, best_f1 = np.zeros(scores.shape[1]), np.zeros(scores.shape[1])
    for j in range(scores.shape[1]):
        everything = np.sort(scores[:, j])
        positives = np.sort(scores[targets[:, j] == 1, j])
        predicted = len(everything) - np.searchsorted(everything, candidates, side="right")
        true_pos = len(positives) - np.searchsorted(positives, candidates, side="right")
        denom = predicted + len(positives)
        f1 = np.divide(2.0 * true_pos, denom, out=np.zeros(len(candidates)), where=denom > 0)
        k = int(np.argmax(f1))  # first maximum: the smallest threshold among ties
        best[j], best_f1[j] = candidates[k], f1[k]
    return Thresholds(best, best_f1)


def pseudo_clips(
    frame_scores: np.ndarray,
    frame_labels: np.ndarray,
    length: int = PSEUDO_CLIP_FRAMES,
    pool: Literal["mean", "max"] = "mean",
) -> tuple[np.ndarray, np.ndarray]:
    """Cut one track into clips of ``length`` frames with clip-level scores and labels.

    Scores are pooled like the model's clip output (``pool``); a clip is positive for a tag when
    any of its frames is. The last, shorter clip is kept when it is non-empty.

    Args:
        frame_scores: ``(frames, tags)`` frame-level scores.
        frame_labels: ``(frames, tags)`` 0/1 frame labels.

    Returns:
        ``(clip_scores, clip_labels)``, each ``(ceil(frames / length), tags)``.
    """
    labels, scores = _check(frame_labels, frame_scores)
    if len(scores) == 0 or length < 1 or pool not in ("mean", "max"):
        raise ValueError(f"need frames, length >= 1 and pool mean/max (got {length}, {pool!r})")
    starts = range(0, len(scores), length)
    reduce = np.mean if pool == "mean" else np.max
    clip_scores = np.stack([reduce(scores[s : s + length], axis=0) for s in starts])
    clip_labels = np.stack([labels[s : s + length].max(axis=0) for s in starts])
    return clip_scores, clip_labels
