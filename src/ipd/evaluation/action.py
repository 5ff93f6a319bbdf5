"""Action metrics (SPEC 7, §4.3.3): temporal AUC and spatial pixel distance, plus the baselines.

Temporal: for each test video of instrument ``g``, the score of an annotated frame is the spatial
max of the (not upsampled) map for ``g`` (or the sound score for temporal-only models); a frame is
positive when it has at least one key point. ROC AUC (scikit-learn, ties count one half) over the
frames of one video; videos whose frames are all positive or all negative have no AUC and are
skipped (and listed). Then the mean over the videos of an instrument, then over instruments.

Spatial: for each positive frame the map for ``g`` is upsampled bilinearly to the frame size, each
cell placed where the network looks: cell ``(i, j)`` of a stride-``s`` network sees the input
around pixel ``(x, y) = (s j, s i)``, so it goes there (scaled to the frame), values between cells
are bilinear and beyond the last cell the edge value (:class:`MapGrid`). With
``corners=True``, or for predictions without their geometry, the map is stretched corner to corner
(``align_corners=True``) as the authors' scripts (``nn.UpsamplingBilinear2d``) did: that draws the
last cell of an 8-cell map of a 256-px input at pixel 255 although it looks at pixel 224. Its
arg-max pixel ``M = (x, y)`` (first maximum in row-major order when tied) scores
``min_l ||l - M||_2`` over the frame's key points ``l``, in pixels of the 256-px frame. Two
aggregations (SPEC 7): the row's figure (Table 4.8) is the **mean over all positive frames of all
test videos**, what the authors' ``scripts/YouTube8M/test.action.spatial.py`` writes as its
overall (``micro.csv``) number (:attr:`Summary.frame_mean`); per instrument the mean of per-video
means (videos without positive frames skipped; their ``classwise.csv``, Table 4.10), and the mean
over instruments of those (:attr:`Summary.overall`, ``spatial_px_macro`` in ``metrics.json``).
An instrument with no scored video gets None and is left out of the mean over instruments.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from sklearn.metrics import roc_auc_score

from ipd.errors import InputError
from ipd.evaluation.keypoints import VideoAnnotation
from ipd.evaluation.predictions import MapGrid, Prediction, match_frames


@dataclass(frozen=True)
class Summary:
    """One metric of one model, at every level of averaging.

    Attributes:
        overall: mean over instruments that have a value (None when none has).
        per_instrument: instrument -> mean over its scored videos (None: no scored video).
        per_video: video id -> its score (scored videos only).
        skipped: videos without a score (one frame class for AUC; no positive frame for pixels).
        per_frame: video id -> the scores of its frames (frame-level metrics: the spatial
            distance; empty for per-video metrics such as the AUC).
    """

    overall: float | None
    per_instrument: dict[str, float | None]
    per_video: dict[str, float]
    skipped: tuple[str, ...]
    per_frame: dict[str, tuple[float, ...]] = field(default_factory=dict)

    @property
    def frame_mean(self) -> float | None:
        """Mean over every scored frame of every video (the authors' overall spatial figure);
        None without frame scores."""
        frames = [x for values in self.per_frame.values() for x in values]
        return float(np.mean(frames)) if frames else None


@dataclass(frozen=True)
class RowResult:
    """The scores of one table row; a metric that does not apply is None."""

    temporal: Summary | None
    spatial: Summary | None


def video_auc(positives: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC of one video's frames, or None when they are all positive or all negative (or
    the model does not cover the class: NaN scores).

    Args:
        positives: ``(T,)`` bool, True where the frame has key points.
        scores: ``(T,)`` frame scores.
    """
    positives = np.asarray(positives, dtype=bool)
    if positives.all() or not positives.any() or np.isnan(scores).any():
        return None
    return float(roc_auc_score(positives, np.asarray(scores, dtype=np.float64)))


def upsample(
    maps: np.ndarray,
    height: int,
    width: int,
    align_corners: bool = True,
    grid: MapGrid | None = None,
) -> np.ndarray:
    """Bilinear upsampling of ``(n, h, w)`` maps to ``(n, height, width)`` float32.

    Args:
        grid: where the cells sit in the network input: with ``((y0, dy), (x0, dx)) =
            grid.cells(height, width)``, cell ``(i, j)`` lands on pixel ``(x0 + dx j,
            y0 + dy i)``, pixels between cells are bilinear, pixels beyond the first or last
            cell take the edge value. None: torch's resize of the whole map to the frame
            (``align_corners`` as in ``F.interpolate``).
    """
    if grid is not None:
        cells = grid.cells(height, width)
        rows = _linear_weights(height, maps.shape[-2], *cells[0])  # (height, h)
        cols = _linear_weights(width, maps.shape[-1], *cells[1])  # (width, w)
        return (rows @ np.asarray(maps, np.float64) @ cols.T).astype(np.float32)
    import torch  # imported here so that reading metrics or tables does not load torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(maps, dtype=np.float32))[:, None]
    y = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=align_corners)
    return y[:, 0].numpy()


def _linear_weights(size: int, cells: int, first: float, step: float) -> np.ndarray:
    """``(size, cells)`` linear-interpolation weights of pixels ``0 .. size-1`` from cells at
    ``first, first + step, ...`` (clamped to the first and last cell)."""
    pos = np.clip((np.arange(size) - first) / step, 0, cells - 1)
    low = np.floor(pos).astype(int)
    high = np.minimum(low + 1, cells - 1)
    weights = np.zeros((size, cells))
    np.add.at(weights, (np.arange(size), low), 1 - (pos - low))
    np.add.at(weights, (np.arange(size), high), pos - low)
    return weights


def argmax_xy(image: np.ndarray) -> tuple[int, int]:
    """``(x, y)`` = (column, row) of the maximum of ``(H, W)``; the first in row-major order."""
    row, col = np.unravel_index(int(np.argmax(image)), image.shape)
    return int(col), int(row)


def min_distance(point: tuple[float, float], keypoints: np.ndarray) -> float:
    """Smallest Euclidean distance (px) from ``point = (x, y)`` to ``(n, 2)`` key points (x, y)."""
    diff = np.asarray(keypoints, dtype=np.float64) - np.asarray(point, dtype=np.float64)
    return float(np.sqrt((diff**2).sum(axis=1)).min())


def center_xy(width: int, height: int) -> tuple[int, int]:
    """The Center baseline's point ``(width // 2, height // 2)`` (the authors' ``shape // 2``)."""
    return width // 2, height // 2


def summarize(
    per_video: Mapping[str, float | None],
    instrument_of: Mapping[str, str],
    instruments: Sequence[str],
    per_frame: Mapping[str, Sequence[float]] | None = None,
) -> Summary:
    """Average per video -> per instrument -> over instruments.

    Args:
        per_video: video id -> score, None for a skipped video.
        instrument_of: video id -> its instrument.
        instruments: every instrument of the label space (order of ``per_instrument``).
        per_frame: video id -> the scores of its frames, for :attr:`Summary.frame_mean`
            (frame-level metrics only).
    """
    by_instrument: dict[str, list[float]] = defaultdict(list)
    for vid, value in per_video.items():
        if value is not None:
            by_instrument[instrument_of[vid]].append(value)
    per_instrument = {
        name: float(np.mean(by_instrument[name])) if by_instrument[name] else None
        for name in instruments
    }
    valid = [v for v in per_instrument.values() if v is not None]
    return Summary(
        overall=float(np.mean(valid)) if valid else None,
        per_instrument=per_instrument,
        per_video={vid: v for vid, v in per_video.items() if v is not None},
        skipped=tuple(vid for vid, v in per_video.items() if v is None),
        per_frame={vid: tuple(v) for vid, v in (per_frame or {}).items() if len(v)},
    )


def temporal_auc(
    annotations: Mapping[str, VideoAnnotation],
    predictions: Mapping[str, Prediction],
    instruments: Sequence[str],
) -> Summary:
    """Temporal AUC of one model over the annotated videos (module docstring)."""
    per_video = {}
    for vid, ann in annotations.items():
        pred = _prediction(predictions, ann.video_id)
        index = match_frames(pred.times, ann.times, pred.where)
        scores = pred.frame_scores()[index, pred.channel(ann.instrument)]
        per_video[vid] = video_auc(ann.positives, scores)
    return summarize(per_video, _instrument_of(annotations), instruments)


def spatial_distance(
    annotations: Mapping[str, VideoAnnotation],
    predictions: Mapping[str, Prediction],
    instruments: Sequence[str],
    corners: bool = False,
) -> Summary:
    """Spatial distance (px) of one model with maps over the annotated videos (``corners``: the
    authors' corner-to-corner upsampling instead of cells where the network looks)."""
    per_video, per_frame = {}, {}
    for vid, ann in annotations.items():
        pred = _prediction(predictions, ann.video_id)
        if pred.maps is None:
            raise InputError(f"{pred.where}: a spatial metric needs 'maps'")
        frames = [f for f in ann.frames if f.positive]
        if not frames:
            per_video[vid] = None
            continue
        index = match_frames(pred.times, np.array([f.timestamp for f in frames]), pred.where)
        maps = pred.maps[index, pred.channel(ann.instrument)]  # (n, h, w)
        grid = None if corners else pred.grid
        distances = []
        for frame, heat in zip(frames, maps, strict=True):
            full = upsample(heat[None], frame.height, frame.width, grid=grid)[0]
            distances.append(min_distance(argmax_xy(full), frame.keypoints))
        per_video[vid] = float(np.mean(distances))
        per_frame[vid] = distances
    return summarize(per_video, _instrument_of(annotations), instruments, per_frame)


def center_distance(
    annotations: Mapping[str, VideoAnnotation], instruments: Sequence[str]
) -> Summary:
    """Spatial distance (px) of the Center baseline (always the frame centre)."""
    per_video, per_frame = {}, {}
    for vid, ann in annotations.items():
        distances = [
            min_distance(center_xy(f.width, f.height), f.keypoints)
            for f in ann.frames
            if f.positive
        ]
        per_video[vid] = float(np.mean(distances)) if distances else None
        per_frame[vid] = distances
    return summarize(per_video, _instrument_of(annotations), instruments, per_frame)


def evaluate(
    annotations: Mapping[str, VideoAnnotation],
    predictions: Mapping[str, Prediction],
    instruments: Sequence[str],
    corners: bool = False,
) -> RowResult:
    """Both metrics of one model: temporal always, spatial when every prediction has maps.

    Use it for the action models (VT, ST, OT, SOT), their fusions, and the baselines Sound
    (scores: temporal only), Object (maps) and SxO (``fuse(object, sound)``).
    """
    temporal = temporal_auc(annotations, predictions, instruments)
    has_maps = all(
        _prediction(predictions, ann.video_id).maps is not None for ann in annotations.values()
    )
    spatial = spatial_distance(annotations, predictions, instruments, corners) if has_maps else None
    return RowResult(temporal=temporal, spatial=spatial)


def evaluate_center(
    annotations: Mapping[str, VideoAnnotation], instruments: Sequence[str]
) -> RowResult:
    """The Center baseline row: spatial only."""
    return RowResult(temporal=None, spatial=center_distance(annotations, instruments))


def evaluate_rows(
    annotations: Mapping[str, VideoAnnotation],
    rows: Mapping[str, Mapping[str, Prediction] | None],
    instruments: Sequence[str],
    corners: bool = False,
) -> dict[str, RowResult]:
    """Evaluate every table row: name -> its predictions, or None for the Center baseline.

    Example: ``{"Center": None, "Sound": sound, "Object": obj, "SxO": fuse_all(obj, sound),
    "SOT0503": sot, "SOT0503xOxS": fuse_all(sot, obj, sound)}``.
    """
    return {
        name: evaluate_center(annotations, instruments)
        if preds is None
        else evaluate(annotations, preds, instruments, corners)
        for name, preds in rows.items()
    }


def _prediction(predictions: Mapping[str, Prediction], vid: str) -> Prediction:
    if vid not in predictions:
        raise InputError(f"video {vid}: annotated but has no prediction")
    return predictions[vid]


def _instrument_of(annotations: Mapping[str, VideoAnnotation]) -> dict[str, str]:
    return {vid: ann.instrument for vid, ann in annotations.items()}
