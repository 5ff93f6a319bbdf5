"""Chapter-3 tagging metrics on hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from ipd.evaluation.tagging_metrics import (
    ap_per_class,
    ap_per_clip,
    auc_per_class,
    auc_per_clip,
    binarize,
    clip_level_scores,
    frame_level_scores,
    pseudo_clips,
    search_thresholds,
)

# 4 clips x 2 tags. Tag 0: positives score 0.9, 0.3; negatives 0.8, 0.1 -> 3 of 4 pairs ordered.
TARGETS = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
SCORES = np.array([[0.9, 0.2], [0.8, 0.6], [0.3, 0.4], [0.1, 0.5]])


def test_clip_auc_and_ap_per_class():
    assert auc_per_class(TARGETS, SCORES).tolist() == [0.75, 0.75]
    # ranking + - + -: precision 1/1 and 2/3 at the positives -> AP 5/6
    assert ap_per_class(TARGETS, SCORES) == pytest.approx([5 / 6, 5 / 6])


def test_clip_auc_and_ap_per_clip_skip_undefined_clips():
    auc = auc_per_clip(TARGETS, SCORES)
    # clip 0: 0.9 (+) > 0.2 (-); clip 1: 0.6 (+) < 0.8 (-); clips 2, 3 hold one class only
    assert auc[:2].tolist() == [1.0, 0.0] and np.isnan(auc[2:]).all()
    ap = ap_per_clip(TARGETS, SCORES)
    assert ap[:2].tolist() == [1.0, 0.5] and np.isnan(ap[2:]).all()
    assert clip_level_scores(TARGETS, SCORES) == pytest.approx(
        {"auc_class": 0.75, "auc_clip": 0.5, "map_class": 5 / 6, "map_clip": 0.75}
    )


def test_frame_precision_recall_f1_micro_and_macro():
    targets = np.array([[1, 0], [1, 1], [1, 0], [0, 0]])
    predicted = np.array([[1, 1], [0, 1], [0, 1], [0, 1]])
    # tag 0: TP 1, FP 0, FN 2 -> P 1, R 1/3, F1 0.5; tag 1: TP 1, FP 3, FN 0 -> P 1/4, R 1, F1 0.4
    # micro: TP 2, FP 3, FN 2 -> P 0.4, R 0.5, F1 4/9
    assert frame_level_scores(targets, predicted) == pytest.approx(
        {
            "precision_micro": 0.4,
            "recall_micro": 0.5,
            "f1_micro": 4 / 9,
            "precision_macro": 0.625,
            "recall_macro": 2 / 3,
            "f1_macro": 0.45,
        }
    )


def test_binarize_is_strictly_above_the_threshold():
    scores = np.array([[0.3, 0.5], [0.31, 0.49]])
    assert binarize(scores, np.array([0.3, 0.49])).tolist() == [[0, 1], [1, 0]]


def test_threshold_search_finds_the_f1_best_threshold():
    # tag 0: positives 0.9, 0.7, 0.45; negatives 0.6, 0.3, 0.1. F1 of "score > t":
    #   t in [0.7, 0.9): 0.5   [0.6, 0.7): 0.8   [0.45, 0.6): 2/3   [0.3, 0.45): 6/7 (best)
    #   [0.1, 0.3): 0.75   [0, 0.1): 2/3   -> the smallest best candidate is 0.300
    # tag 1: the only positive scores 0.2 and negatives 0.1 -> any t in [0.1, 0.2) is perfect
    scores = np.array([[0.9, 0.05], [0.7, 0.1], [0.45, 0.2], [0.6, 0.1], [0.3, 0.0], [0.1, 0.0]])
    targets = np.array([[1, 0], [1, 0], [1, 1], [0, 0], [0, 0], [0, 0]])
    found = search_thresholds(scores, targets)
    assert found.thresholds.tolist() == [0.3, 0.1]
    assert found.f1 == pytest.approx([6 / 7, 1.0])
    assert binarize(scores, found.thresholds)[:, 0].tolist() == [1, 1, 1, 1, 0, 0]


def test_threshold_search_agrees_with_brute_force():
    rng = np.random.default_rng(0)
    targets = (rng.random((300, 3)) < [0.2, 0.5, 0.05]).astype(int)
    scores = np.clip(0.3 * targets + rng.random((300, 3)) * 0.7, 0, 1).round(3)
    found = search_thresholds(scores, targets, num_candidates=200)
    for j in range(3):
        f1 = [
            f1_score(targets[:, j], scores[:, j] > c, zero_division=0) for c in np.arange(200) / 200
        ]
        assert found.f1[j] == pytest.approx(max(f1))
        assert found.thresholds[j] == np.argmax(f1) / 200


def test_pseudo_clips_of_320_frames():
    frames = 700  # -> clips of 320, 320 and 60 frames
    scores = np.zeros((frames, 2))
    scores[:320, 0] = 1.0
    scores[640:, 1] = 0.5
    labels = np.zeros((frames, 2), dtype=int)
    labels[650, 1] = 1  # one positive frame makes the last clip positive
    clip_scores, clip_labels = pseudo_clips(scores, labels)
    assert clip_scores.tolist() == [[1.0, 0.0], [0.0, 0.0], [0.0, 0.5]]
    assert clip_labels.tolist() == [[0, 0], [0, 0], [0, 1]]
    clip_scores, _ = pseudo_clips(scores, labels, length=350, pool="max")
    assert clip_scores.tolist() == [[1.0, 0.0], [0.0, 0.5]]


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError):
        auc_per_class(TARGETS, SCORES[:3])


def test_frame_level_micro_with_a_single_tag_counts_only_positive_decisions():
    # One tag: predictions 1, 0, 1, 1 against labels 1, 0, 0, 0 -> TP 1, FP 2, FN 0.
    scores = frame_level_scores(np.array([[1], [0], [0], [0]]), np.array([[1], [0], [1], [1]]))
    assert scores["precision_micro"] == pytest.approx(1 / 3)
    assert scores["recall_micro"] == pytest.approx(1.0)
    assert scores["f1_micro"] == pytest.approx(0.5)
    assert scores["f1_macro"] == pytest.approx(0.5)
