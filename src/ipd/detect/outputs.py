"""What ``ipd detect`` writes per video: the scores table (CSV and JSON) and the summary line.

Peak locations follow the evaluation (``ipd.evaluation.action``): the fused map of each instrument
is upsampled bilinearly, each cell where the network looks (its ``MapGrid``), to the frame resized
so that its longer side is 256 px, and its first arg-max is the peak ``(x, y)`` = (column, row)
in that frame. In original-video pixels the peak is the centre of that pixel scaled back:
``x_src = (x + 0.5) * W_src / W_256 - 0.5`` (same for ``y``), rounded to 0.1 px.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ipd.evaluation.action import upsample
from ipd.evaluation.predictions import MapGrid
from ipd.features.video import resized_shape
from ipd.files import atomic_path

EVAL_SIZE = 256  # the frame key points and peaks are measured in (annotations/FORMATS.md)
PEAK_BATCH = 16  # frames upsampled at once (9 maps of 256 x 144 float32 each: ~1.3 MB per frame)


def peaks(
    maps: np.ndarray, frame_shape: tuple[int, int], grid: MapGrid | None = None
) -> np.ndarray:
    """Arg-max of each upsampled map: ``(T, G, h, w)`` -> ``(T, G, 2)`` int ``(x, y)``.

    Args:
        maps: probability maps.
        frame_shape: ``(H, W)`` of the frame to upsample to (pixels of the 256-px frame).
        grid: where the cells sit in the network input (None: corner to corner).
    """
    height, width = frame_shape
    t, g = maps.shape[:2]
    out = np.zeros((t, g, 2), dtype=np.int64)
    for start in range(0, t, PEAK_BATCH):
        part = maps[start : start + PEAK_BATCH]
        big = upsample(part.reshape(-1, *maps.shape[2:]), height, width, grid=grid)
        flat = big.reshape(len(big), -1).argmax(axis=1)  # first maximum, row-major
        rows, cols = np.divmod(flat, width)
        out[start : start + len(part)] = np.stack([cols, rows], axis=-1).reshape(-1, g, 2)
    return out


def to_source_pixels(
    xy: np.ndarray, frame_shape: tuple[int, int], source_shape: tuple[int, int]
) -> np.ndarray:
    """Pixel ``(x, y)`` of the resized frame -> original-video pixels (float, 0.1 px).

    The centre of the resized pixel, scaled, clipped to ``[0, W_src - 1] x [0, H_src - 1]`` (an
    enlarged small video puts the first pixel centre slightly outside otherwise).

    Args:
        xy: ``(..., 2)`` pixel coordinates of the ``frame_shape`` = ``(H, W)`` frame.
        frame_shape: ``(H, W)`` of the resized frame.
        source_shape: ``(H_src, W_src)`` of the video.
    """
    height, width = source_shape
    scale = np.array([width / frame_shape[1], height / frame_shape[0]], dtype=np.float64)
    xy = (np.asarray(xy, dtype=np.float64) + 0.5) * scale - 0.5
    return np.round(np.clip(xy, 0, [width - 1, height - 1]), 1)


@dataclass
class Detections:
    """Per-frame, per-instrument results of one video.

    Attributes:
        video_id: the video id.
        names: ``G`` instrument names in channel order.
        times: ``(T,)`` seconds of the analysis frames.
        score: ``(T, G)`` fused score (spatial max of the fused map).
        action: ``(T, G)`` spatial max of the action map.
        object: ``(T, G)`` spatial max of the object map, or None.
        sound: ``(T, G)`` sound score, or None (no sound model, or no audio track).
        peak: ``(T, G, 2)`` int peak ``(x, y)`` in the 256-px frame.
        peak_source: ``(T, G, 2)`` peak ``(x, y)`` in original-video pixels.
        info: JSON-ready description (source video, fusion, models, notes, settings).
    """

    video_id: str
    names: tuple[str, ...]
    times: np.ndarray
    score: np.ndarray
    action: np.ndarray
    object: np.ndarray | None
    sound: np.ndarray | None
    peak: np.ndarray
    peak_source: np.ndarray
    info: dict = field(default_factory=dict)

    def playing_share(self, threshold: float) -> np.ndarray:
        """``(G,)`` fraction of analysis frames whose fused score is ``>= threshold``."""
        if len(self.times) == 0:
            return np.zeros(len(self.names))
        return (self.score >= threshold).mean(axis=0)

    def top(self, threshold: float, count: int = 3) -> list[tuple[str, float]]:
        """Up to ``count`` instruments with the largest playing share (ties: higher mean score)."""
        share = self.playing_share(threshold)
        order = np.lexsort((-self.score.mean(axis=0), -share))
        return [(self.names[g], float(share[g])) for g in order[:count] if share[g] > 0]


def summary_line(det: Detections, threshold: float) -> str:
    """One line: frames, fusion, and the top instruments with their share of playing frames."""
    top = det.top(threshold)
    playing = ", ".join(f"{name} {share:.0%}" for name, share in top)
    found = (
        f"playing (score >= {threshold:g}): {playing}"
        if top
        else f"no instrument scores >= {threshold:g}"
    )
    source = det.info.get("source", {})
    audio = "" if source.get("has_audio", True) else " (no audio track)"
    return (
        f"{det.video_id}: {len(det.times)} frames ({source.get('duration_s', 0):.1f} s), "
        f"{det.info.get('fusion', '?')}{audio}; {found}"
    )


CSV_COLUMNS = (
    "frame", "time_s", "instrument", "score", "action", "object", "sound",
    "x_256", "y_256", "x", "y",
)  # fmt: skip


def write_csv(path: str | Path, det: Detections) -> Path:
    """One row per analysis frame and instrument (``CSV_COLUMNS``); empty cells: model absent."""

    def cell(values: np.ndarray | None, k: int, g: int) -> str:
        return "" if values is None else f"{values[k, g]:.6f}"

    def rows():
        for k, t in enumerate(det.times):
            for g, name in enumerate(det.names):
                yield (
                    k, f"{t:.3f}", name, cell(det.score, k, g), cell(det.action, k, g),
                    cell(det.object, k, g), cell(det.sound, k, g),
                    int(det.peak[k, g, 0]), int(det.peak[k, g, 1]),
                    f"{det.peak_source[k, g, 0]:.1f}", f"{det.peak_source[k, g, 1]:.1f}",
                )  # fmt: skip

    def write(handle) -> None:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(rows())

    return _atomic(path, write, newline="")


def to_json(det: Detections, threshold: float) -> dict:
    """The JSON document: ``info`` plus per-instrument columns over ``times``."""

    def column(values: np.ndarray | None, g: int):
        return None if values is None else [round(float(v), 6) for v in values[:, g]]

    share = det.playing_share(threshold)
    instruments = {
        name: {
            "score": column(det.score, g),
            "action": column(det.action, g),
            "object": column(det.object, g),
            "sound": column(det.sound, g),
            "peak_256": det.peak[:, g].tolist(),
            "peak": det.peak_source[:, g].tolist(),
            "playing_share": round(float(share[g]), 4),
        }
        for g, name in enumerate(det.names)
    }
    return {
        "video_id": det.video_id,
        **det.info,
        "threshold": threshold,
        "top": [{"instrument": n, "playing_share": round(s, 4)} for n, s in det.top(threshold)],
        "num_frames": len(det.times),
        "times": [round(float(t), 3) for t in det.times],
        "instruments": instruments,
    }


def write_json(path: str | Path, det: Detections, threshold: float) -> Path:
    """``scores.json``: indented, with each per-frame column on one line."""
    doc = to_json(det, threshold)
    inline: dict[str, str] = {}

    def mark(value) -> str:  # a placeholder, replaced by the compact column after dumping
        key = f"@column{len(inline)}@"
        inline[f'"{key}"'] = json.dumps(value, separators=(",", ":"))
        return key

    doc["times"] = mark(doc["times"])
    for columns in doc["instruments"].values():
        for name, value in columns.items():
            if isinstance(value, list):
                columns[name] = mark(value)
    text = json.dumps(doc, indent=1)
    for key, value in inline.items():
        text = text.replace(key, value, 1)
    return _atomic(path, lambda handle: handle.write(text + "\n"))


def frame_shape_256(source_shape: tuple[int, int]) -> tuple[int, int]:
    """``(H, W)`` of the 256-px frame of a ``(H_src, W_src)`` video (longer side 256)."""
    return resized_shape(source_shape[0], source_shape[1], EVAL_SIZE)


def _atomic(path: str | Path, write, newline: str | None = None) -> Path:
    """Write a text file through a temporary file and a rename (never a half-written file)."""
    with atomic_path(path) as tmp, tmp.open("w", newline=newline) as handle:
        write(handle)
    return Path(path)
