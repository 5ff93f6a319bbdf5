"""Per-video pictures of the report: what to draw for one :class:`ReportVideo`, and where.

Predictions are matched to the video's frames by timestamp (nearest, within half an analysis
period, :func:`ipd.evaluation.predictions.match_frames`), and annotated key points to frames the
same way, so a frame shows exactly the map and key points the evaluation scores there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ipd.evaluation.keypoints import VideoAnnotation
from ipd.evaluation.names import OBJECT, SOUND
from ipd.evaluation.predictions import Prediction, match_frames
from ipd.report.tables import slug
from ipd.timebase import ANALYSIS_FPS
from ipd.viz.figures import TimelinePanel, side_by_side_figure, timeline_figure
from ipd.viz.media import write_gif, write_mp4, write_webm
from ipd.viz.overlay import (
    KEYPOINT_RGB,
    PEAK_RGB,
    bar_colours,
    overlay_sequence,
    peak_xy,
    upsample_maps,
)


@dataclass
class ReportVideo:
    """One video of the report and everything drawn for it.

    Attributes:
        video_id: the video id.
        instrument: the video's instrument (label name): the class shown.
        frames: ``(T, H, W, 3)`` uint8 analysis frames (256-px, from the RGB cache).
        times: ``(T,)`` seconds of those frames.
        predictions: row name -> this video's prediction (``Sound``, ``Object``, ``VT``,
            ``ST05``, ``OT03``, ``SOT0503``, ``SOT0503xOxS``, ...; maps and/or scores).
        annotation: key points ``(x, y)`` in the 256-px frame per annotated frame, or None.
        sound_truth: ``(T,)`` bool: the instrument sounds at ``times[k]``, or None.
    """

    video_id: str
    instrument: str
    frames: np.ndarray
    times: np.ndarray
    predictions: dict[str, Prediction]
    annotation: VideoAnnotation | None = None
    sound_truth: np.ndarray | None = None


@dataclass
class Overlay:
    """The overlay files of one (instrument, model), paths relative to the page."""

    instrument: str
    model: str
    gif: str | None = None
    mp4: str | None = None
    webm: str | None = None


@dataclass
class VideoMedia:
    """Files written for one video, paths relative to the page (None: not drawn)."""

    timeline: str | None = None
    side_by_side: str | None = None
    side_by_side_models: list[str] = field(default_factory=list)
    overlays: list[Overlay] = field(default_factory=list)


def maps_at(pred: Prediction, instrument: str, times: np.ndarray) -> np.ndarray:
    """The ``(T, h, w)`` maps of ``instrument`` at the frames nearest to ``times`` (seconds)."""
    index = match_frames(pred.times, times, pred.where)
    return pred.maps[index, pred.channel(instrument)]


def frame_keypoints(video: ReportVideo) -> list[np.ndarray | None]:
    """Per frame of ``video``: its annotated key points in frame pixels, or None (not annotated).

    Key points are scaled from the annotation's frame size to the frames' size (usually 1:1).
    """
    points: list[np.ndarray | None] = [None] * len(video.times)
    if video.annotation is None or not video.annotation.frames:
        return points
    height, width = video.frames.shape[1:3]
    where = f"annotation of {video.video_id}"
    index = match_frames(video.times, video.annotation.times, where)
    for k, record in zip(index, video.annotation.frames, strict=True):
        scale = np.array([width / record.width, height / record.height])
        points[k] = np.asarray(record.keypoints, dtype=np.float64).reshape(-1, 2) * scale
    return points


def pick_columns(video: ReportVideo, count: int = 5) -> list[int]:
    """Frames for the side-by-side figure: evenly spaced over the annotated playing frames when
    there are enough, else evenly over the video."""
    points = frame_keypoints(video)
    playing = [k for k, p in enumerate(points) if p is not None and len(p)]
    pool = playing if len(playing) >= count else list(range(len(video.times)))
    if len(pool) <= count:
        return pool
    return [pool[round(i)] for i in np.linspace(0, len(pool) - 1, count)]


def timeline_panel(video: ReportVideo, instrument: str, models: Sequence[str]) -> TimelinePanel:
    """S, O and A (``models``) of ``instrument`` over time, with the ground truth when known."""
    panel = TimelinePanel(instrument)
    named = [(SOUND, "S: sound model"), (OBJECT, "O: object model (spatial max)")]
    named += [(m, None) for m in models if m not in (SOUND, OBJECT)]
    for name, label in named:
        pred = video.predictions.get(name)
        if pred is None:
            continue
        if label is None:  # an action or fused row; a temporal-only one has no spatial max
            label = f"A: {name} (spatial max)" if pred.maps is not None else f"{name}: score"
        panel.curves[label] = (pred.times, pred.frame_scores()[:, pred.channel(instrument)])
    if instrument.lower() == video.instrument.lower():
        if video.sound_truth is not None:
            panel.sound_truth = (video.times, np.asarray(video.sound_truth, dtype=bool))
        if video.annotation is not None:
            panel.positives = (video.annotation.times, video.annotation.positives)
    return panel


def write_timeline(
    video: ReportVideo, path: Path, instruments: Sequence[str], models: Sequence[str]
) -> Path:
    """Timeline PNG of ``instruments`` (one panel each)."""
    panels = [timeline_panel(video, name, models) for name in instruments]
    title = f"{video.video_id}: scores over time against ground truth"
    return timeline_figure(path, panels, title=title)


def write_side_by_side(video: ReportVideo, path: Path, models: Sequence[str]) -> Path:
    """Side-by-side PNG: rows = ``models`` (with maps), columns = :func:`pick_columns` frames."""
    columns = pick_columns(video)
    times = video.times[columns]
    points = frame_keypoints(video)
    notes = [
        "not annotated" if points[k] is None else ("playing" if len(points[k]) else "not playing")
        for k in columns
    ]
    rows = {m: maps_at(video.predictions[m], video.instrument, times) for m in models}
    return side_by_side_figure(
        path,
        video.frames[columns],
        rows,
        times=times,
        keypoints=[points[k] for k in columns],
        instrument=video.instrument,
        title=f"{video.video_id} ({video.instrument}): action maps by model",
        column_notes=notes,
        grids={m: video.predictions[m].grid for m in models},
    )


def write_overlays(
    video: ReportVideo,
    folder: Path,
    instrument: str,
    model: str,
    *,
    gif: bool = True,
    mp4: bool = True,
    webm: bool = False,
    min_width: int | None = 384,
) -> dict[str, Path]:
    """Overlay of ``model``'s ``instrument`` maps on every frame, as GIF/MP4/WebM files.

    Frames narrower than ``min_width`` are enlarged after blending so that text stays legible.

    Returns:
        format (``gif``, ``mp4``, ``webm``) -> written path.
    """
    height, width = video.frames.shape[1:3]
    pred = video.predictions[model]
    maps = upsample_maps(maps_at(pred, instrument, video.times), height, width, pred.grid)
    show_points = instrument.lower() == video.instrument.lower()
    frames = list(
        overlay_sequence(
            video.frames,
            maps,
            frame_times=video.times,
            map_times=video.times,
            keypoints=frame_keypoints(video) if show_points else None,
            title=model,
            label=instrument,
            min_width=min_width,
        )
    )
    fps = frame_rate(video.times)
    stem = folder / f"overlay_{slug(instrument)}_{slug(model)}"
    written = {}
    if gif:
        marks = np.array([KEYPOINT_RGB, PEAK_RGB, (0, 0, 0)], np.uint8)
        keep = np.concatenate([bar_colours("jet", frames[0].shape[0]), marks])
        written["gif"] = write_gif(stem.with_suffix(".gif"), frames, fps, colours=keep)
    if mp4:
        written["mp4"] = write_mp4(stem.with_suffix(".mp4"), frames, fps)
    if webm:
        written["webm"] = write_webm(stem.with_suffix(".webm"), frames, fps)
    return written


def peak_rows(
    video: ReportVideo, instruments: Sequence[str], models: Sequence[str]
) -> list[list[str]]:
    """Per (instrument, model): max score, its time (s) and the peak ``(x, y)`` then, in pixels
    of ``video.frames``."""
    height, width = video.frames.shape[1:3]
    rows = []
    for instrument in instruments:
        for model in models:
            pred = video.predictions[model]
            g = pred.channel(instrument)
            scores = pred.frame_scores()[:, g]
            k = int(np.argmax(scores))
            where = "NA"
            if pred.maps is not None:
                x, y = peak_xy(pred.maps[k, g], height, width, pred.grid)
                where = f"({x}, {y})"
            rows.append([instrument, model, f"{scores[k]:.3f}", f"{pred.times[k]:.2f}", where])
    return rows


def frame_rate(times: np.ndarray) -> float:
    """Frames per second of ``times`` (the analysis rate when it cannot be told)."""
    if len(times) < 2:
        return ANALYSIS_FPS
    step = float(np.median(np.diff(times)))
    return ANALYSIS_FPS if step <= 0 else 1.0 / step


def has_maps(video: ReportVideo, model: str) -> bool:
    """True when ``video`` has a prediction of ``model`` with maps."""
    pred = video.predictions.get(model)
    return pred is not None and pred.maps is not None


def relative(path: Path, page_dir: Path) -> str:
    """``path`` relative to the page's folder, with forward slashes (a URL path)."""
    return path.relative_to(page_dir).as_posix()


def models_in(predictions: Mapping[str, Prediction], wanted: Sequence[str]) -> list[str]:
    """The names of ``wanted`` that have predictions with maps, in order, once each."""
    seen: list[str] = []
    for name in wanted:
        pred = predictions.get(name)
        if pred is not None and pred.maps is not None and name not in seen:
            seen.append(name)
    return seen
