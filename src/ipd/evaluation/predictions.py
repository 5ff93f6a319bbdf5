"""The on-disk prediction format and the matching of predictions to annotated frames.

One ``<video_id>.npz`` per video and model (``np.savez_compressed``, loaded with
``allow_pickle=False``):

| key | shape, dtype | meaning |
| --- | --- | --- |
| ``times`` | ``(T,)`` float64 | analysis-frame timestamps, seconds from the start of the video |
| ``maps`` | ``(T, G, h, w)`` float32 in [0, 1] | spatial models (object, action, fusions) |
| ``scores`` | ``(T, G)`` float32 in [0, 1] | temporal-only models (the sound model) |
| ``video_id`` | 0-d str | the video id |
| ``label_names`` | ``(G,)`` str | output channel ``g`` -> label name |
| ``source`` | 0-d str | checkpoint identity (path, run id, ...) |
| ``grid`` | ``(4,)`` float64 | optional, with maps: ``stride, offset, H, W`` (``MapGrid``) |

At least one of ``maps`` and ``scores`` is present. A whole column of NaN in ``scores`` marks a
class the model does not cover (e.g. Accordion for the MagnaTagATune tagger). Frames are matched to
annotations by timestamp, never by position: an annotated frame at ``t`` takes the prediction whose
time is nearest to ``t``, which must be strictly within half an analysis period (0.256 s).

``grid`` says where the map cells are: cell ``(i, j)`` looks at the ``H x W`` network input
around pixel ``(x, y) = (offset + stride j, offset + stride i)`` (the VGG FCN: stride 32, offset
0). Without it, maps are stretched over the frame corner to corner, as the authors' scripts did.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ipd.errors import InputError
from ipd.files import write_npz_atomic
from ipd.timebase import ANALYSIS_PERIOD

_RANGE_SLACK = 1e-4  # float32 sigmoid outputs may overshoot [0, 1] by rounding


@dataclass(frozen=True)
class MapGrid:
    """Where the cells of a map sit in the network input (same on both axes).

    Attributes:
        stride: input pixels between neighbouring cells.
        offset: input pixel that cell 0 is centred on.
        height: network input height (px).
        width: network input width (px).
    """

    stride: float
    offset: float
    height: int
    width: int

    def cells(self, height: int, width: int) -> tuple[tuple[float, float], tuple[float, float]]:
        """``((y0, dy), (x0, dx))``: pixel of cell 0 and pixels between cells in a
        ``height x width`` frame of the video (the network input scaled to it)."""
        sy, sx = height / self.height, width / self.width
        return (self.offset * sy, self.stride * sy), (self.offset * sx, self.stride * sx)


@dataclass(frozen=True)
class Prediction:
    """One model's outputs for one video.

    Attributes:
        video_id: the video id.
        times: ``(T,)`` seconds.
        label_names: ``G`` label names in channel order.
        source: checkpoint identity, kept for provenance.
        maps: ``(T, G, h, w)`` float32 in [0, 1], or None for temporal-only models.
        scores: ``(T, G)`` float32 in [0, 1], or None for spatial models.
        grid: where the map cells sit in the network input (None: unknown).
        path: the file it was read from (for error messages), or None.
    """

    video_id: str
    times: np.ndarray
    label_names: tuple[str, ...]
    source: str
    maps: np.ndarray | None = None
    scores: np.ndarray | None = None
    grid: MapGrid | None = None
    path: Path | None = None

    @property
    def where(self) -> str:
        """What error messages name: the file, or the source and video."""
        return str(self.path) if self.path is not None else f"{self.source}:{self.video_id}"

    def frame_scores(self) -> np.ndarray:
        """Per-frame class scores ``(T, G)``: ``scores``, else the spatial max of ``maps``."""
        if self.scores is not None:
            return self.scores
        return self.maps.max(axis=(2, 3))

    def channel(self, name: str) -> int:
        """Output channel of the label ``name`` (case-insensitive)."""
        for g, label in enumerate(self.label_names):
            if label.lower() == name.lower():
                return g
        raise InputError(f"{self.where}: no output channel for {name!r} in {self.label_names}")


def validate(pred: Prediction) -> None:
    """Check shapes, ranges and timestamps; raise InputError naming ``pred.where``."""
    where = pred.where
    if pred.maps is None and pred.scores is None:
        raise InputError(f"{where}: prediction has neither 'maps' nor 'scores'")
    t, g = len(pred.times), len(pred.label_names)
    if pred.times.ndim != 1 or not np.all(np.isfinite(pred.times)):
        raise InputError(f"{where}: 'times' must be a finite 1-D array")
    if t > 1 and np.any(np.diff(pred.times) <= 0):
        raise InputError(f"{where}: 'times' must increase strictly")
    for key, value, ndim in (("maps", pred.maps, 4), ("scores", pred.scores, 2)):
        if value is None:
            continue
        if value.ndim != ndim or value.shape[:2] != (t, g):
            raise InputError(
                f"{where}: '{key}' has shape {value.shape}, expected ({t}, {g}, ...) "
                f"for {t} times and {g} labels"
            )
        finite = np.isfinite(value)
        if not finite.all():
            # NaN marks a class the model does not cover (e.g. Accordion for the MagnaTagATune
            # tagger): allowed only as whole columns of ``scores``, never as holes in a map.
            uncovered = np.isnan(value).reshape(t, g, -1).all(axis=(0, 2))
            holes = ~finite & ~uncovered.reshape(1, g, *([1] * (value.ndim - 2)))
            if key != "scores" or holes.any():
                raise InputError(f"{where}: '{key}' holds NaN or infinite values")
        covered = value[finite]
        if covered.size and (covered.min() < -_RANGE_SLACK or covered.max() > 1 + _RANGE_SLACK):
            raise InputError(f"{where}: '{key}' must lie in [0, 1]")
    grid = pred.grid
    if grid is not None and (min(grid.stride, grid.height, grid.width) <= 0 or pred.maps is None):
        raise InputError(f"{where}: 'grid' needs maps and a positive stride and input size")


def save_prediction(path: str | Path, pred: Prediction) -> Path:
    """Write ``pred`` atomically (temporary file in the same folder, then rename); the same
    prediction gives the same bytes.

    Returns:
        The written path.
    """
    path = Path(path)
    validate(pred)
    arrays = {
        "times": np.asarray(pred.times, dtype=np.float64),
        "video_id": np.array(pred.video_id),
        "label_names": np.array(pred.label_names, dtype=str),
        "source": np.array(pred.source),
    }
    if pred.maps is not None:
        arrays["maps"] = np.asarray(pred.maps, dtype=np.float32)
    if pred.scores is not None:
        arrays["scores"] = np.asarray(pred.scores, dtype=np.float32)
    if pred.grid is not None:
        g = pred.grid
        arrays["grid"] = np.array([g.stride, g.offset, g.height, g.width], dtype=np.float64)
    return write_npz_atomic(path, arrays)


def load_prediction(path: str | Path) -> Prediction:
    """Read one ``.npz`` prediction file (no pickles) and validate it."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: prediction file not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise InputError(f"{path}: not a readable .npz prediction ({err})") from err
    missing = [k for k in ("times", "video_id", "label_names", "source") if k not in arrays]
    if missing:
        raise InputError(f"{path}: prediction lacks {', '.join(missing)}")
    pred = Prediction(
        video_id=str(arrays["video_id"]),
        times=arrays["times"].astype(np.float64),
        label_names=tuple(str(n) for n in np.atleast_1d(arrays["label_names"])),
        source=str(arrays["source"]),
        maps=arrays["maps"].astype(np.float32) if "maps" in arrays else None,
        scores=arrays["scores"].astype(np.float32) if "scores" in arrays else None,
        grid=_grid(path, arrays["grid"]) if "grid" in arrays else None,
        path=path,
    )
    validate(pred)
    return pred


def _grid(path: Path, value: np.ndarray) -> MapGrid:
    if value.shape != (4,) or not np.all(np.isfinite(value)):
        raise InputError(f"{path}: 'grid' must be 4 finite numbers (stride, offset, H, W)")
    return MapGrid(float(value[0]), float(value[1]), int(value[2]), int(value[3]))


def load_predictions(folder: str | Path, video_ids: Iterable[str]) -> dict[str, Prediction]:
    """Read ``folder/<video_id>.npz`` for each of ``video_ids``.

    Raises:
        InputError: the folder or a video's file is missing, or a file names another video.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: prediction folder not found")
    preds = {}
    for vid in video_ids:
        path = folder / f"{vid}.npz"
        if not path.is_file():
            raise InputError(f"{path}: no prediction for video {vid}")
        pred = load_prediction(path)
        if pred.video_id != vid:
            raise InputError(f"{path}: holds video {pred.video_id!r}, expected {vid!r}")
        preds[vid] = pred
    return preds


def match_frames(
    pred_times: np.ndarray,
    wanted_times: np.ndarray,
    where: str,
    period: float = ANALYSIS_PERIOD,
) -> np.ndarray:
    """Index of the prediction nearest to each wanted time, within half an analysis period.

    Args:
        pred_times: ``(T,)`` increasing prediction timestamps (s).
        wanted_times: ``(N,)`` timestamps (s) of annotated frames (or of another model's frames).
        where: what to name in the error (the prediction file or source).
        period: the analysis period (s); a match must be strictly closer than ``period / 2``.

    Returns:
        ``(N,)`` int64 indices into ``pred_times``.

    Raises:
        InputError: a wanted time has no prediction within ``period / 2``.
    """
    pred_times = np.asarray(pred_times, dtype=np.float64)
    wanted_times = np.asarray(wanted_times, dtype=np.float64)
    if len(pred_times) == 0:
        if len(wanted_times):
            raise InputError(f"{where}: prediction has no frames")
        return np.zeros(0, dtype=np.int64)
    right = np.clip(np.searchsorted(pred_times, wanted_times), 1, len(pred_times) - 1)
    left = right - 1
    if len(pred_times) == 1:
        left = right = np.zeros_like(right)
    nearer_left = np.abs(wanted_times - pred_times[left]) <= np.abs(
        pred_times[right] - wanted_times
    )
    index = np.where(nearer_left, left, right)
    gap = np.abs(pred_times[index] - wanted_times)
    bad = np.flatnonzero(gap >= period / 2)
    if bad.size:
        i = bad[0]
        raise InputError(
            f"{where}: no prediction within {period / 2:.3f} s of frame t={wanted_times[i]:.3f} s "
            f"(nearest {pred_times[index[i]]:.3f} s; {bad.size} frame(s) unmatched)"
        )
    return index.astype(np.int64)
