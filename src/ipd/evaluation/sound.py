"""Sound-model frame AUC (SPEC 7, Table 4.6 style).

Frame labels come from ``annotations/sound_activity.csv`` (``video_id,instrument,start_s,end_s``):
instrument ``g`` is audible at analysis time ``t`` when ``start_s <= t < end_s`` for one of its
intervals; a video with no interval of ``g`` is silent in ``g``. Every frame of every evaluated
video is one instance: one ROC AUC per class over all frames pooled (not per video, unlike the
action metric), then the mean over classes. A class whose frames are all positive or all negative
has no AUC (None) and is left out of the mean, as the paper leaves Accordion out for a model
without it.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from ipd.errors import InputError
from ipd.evaluation.predictions import Prediction
from ipd.evaluation.tables import format_auc, markdown_table
from ipd.labels import LabelSpace

Interval = tuple[str, float, float]  # (instrument name, start_s, end_s)
_COLUMNS = ("video_id", "instrument", "start_s", "end_s")


@dataclass(frozen=True)
class SoundResult:
    """Per-class frame AUC of a sound model.

    Attributes:
        mean: mean over classes with an AUC (None when none has).
        per_class: label name -> AUC over all frames, None when the frames hold one class.
        num_frames: frames pooled per class.
    """

    mean: float | None
    per_class: dict[str, float | None]
    num_frames: int


def read_sound_activity(
    path: str | Path, labels: LabelSpace, ignore_unknown: bool = False
) -> dict[str, list[Interval]]:
    """Read ``sound_activity.csv`` into video id -> intervals with label-space names.

    Args:
        path: the CSV file.
        labels: the label space; instrument names (or YouTube-8M names) are resolved with it.
        ignore_unknown: skip rows whose instrument is not in the label space instead of failing.

    Raises:
        InputError: missing file or column, non-numeric or reversed times, unknown instrument.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: sound-activity file not found")
    activity: dict[str, list[Interval]] = defaultdict(list)
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
        for line, row in enumerate(reader, start=2):
            try:
                name = labels.names[labels.index(row["instrument"])]
            except KeyError:
                if ignore_unknown:
                    continue
                raise InputError(
                    f"{path}: line {line}: instrument {row['instrument']!r} is not in the "
                    f"label space {labels.names}"
                ) from None
            try:
                start, end = float(row["start_s"]), float(row["end_s"])
            except (TypeError, ValueError):
                raise InputError(f"{path}: line {line}: start_s/end_s are not numbers") from None
            if not (np.isfinite(start) and np.isfinite(end)) or end < start:
                raise InputError(f"{path}: line {line}: interval [{start}, {end}) is invalid")
            activity[row["video_id"]].append((name, start, end))
    return dict(activity)


def frame_labels(
    intervals: Iterable[Interval], times: np.ndarray, label_names: tuple[str, ...]
) -> np.ndarray:
    """Frame-level sound labels at the analysis times.

    Args:
        intervals: ``(instrument, start_s, end_s)`` of one video.
        times: ``(T,)`` analysis timestamps (s).
        label_names: output channel order.

    Returns:
        ``(T, G)`` bool: ``[t, g]`` True when ``start <= times[t] < end`` for an interval of ``g``.
    """
    times = np.asarray(times, dtype=np.float64)
    lower = [n.lower() for n in label_names]
    labels = np.zeros((len(times), len(label_names)), dtype=bool)
    for name, start, end in intervals:
        if name.lower() in lower:
            labels[:, lower.index(name.lower())] |= (times >= start) & (times < end)
    return labels


def sound_frame_auc(
    predictions: Mapping[str, Prediction],
    activity: Mapping[str, list[Interval]],
    label_names: Iterable[str],
) -> SoundResult:
    """Per-class AUC over all frames of all videos in ``predictions``.

    Args:
        predictions: video id -> sound-model prediction (``scores``; maps are max-pooled).
        activity: video id -> intervals (:func:`read_sound_activity`); absent videos are silent.
        label_names: the classes to report, in table order (each must be a prediction channel).
    """
    label_names = tuple(label_names)
    all_labels, all_scores = [], []
    for vid, pred in predictions.items():
        channels = [pred.channel(name) for name in label_names]
        all_scores.append(pred.frame_scores()[:, channels])
        all_labels.append(frame_labels(activity.get(vid, []), pred.times, label_names))
    g = len(label_names)
    labels = np.concatenate(all_labels) if all_labels else np.zeros((0, g), dtype=bool)
    scores = np.concatenate(all_scores) if all_scores else np.zeros((0, g))
    per_class: dict[str, float | None] = {}
    for c, name in enumerate(label_names):
        y = labels[:, c]
        one_class = y.all() or not y.any()
        uncovered = bool(np.isnan(scores[:, c]).any())  # a class the sound model does not cover
        per_class[name] = None if one_class or uncovered else float(roc_auc_score(y, scores[:, c]))
    valid = [v for v in per_class.values() if v is not None]
    return SoundResult(
        mean=float(np.mean(valid)) if valid else None,
        per_class=per_class,
        num_frames=len(labels),
    )


def sound_auc_table(results: Mapping[str, SoundResult]) -> str:
    """Markdown in the layout of Table 4.6: a row per class, a column per sound model, Average."""
    names = list(results)
    classes = list(dict.fromkeys(c for r in results.values() for c in r.per_class))
    rows = [[c] + [results[n].per_class.get(c) for n in names] for c in classes]
    rows.append(["Average"] + [results[n].mean for n in names])
    title = "Sound model, frame-level AUC (Table 4.6)"
    return markdown_table(title, ["Instrument sound", *names], rows, format_auc, max)
