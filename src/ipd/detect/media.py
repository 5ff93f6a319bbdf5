"""The pictures of one detected video: the heat-map overlay video and the HTML report page.

The overlay video is drawn at the **source frame rate** (capped by ``--overlay-fps``, default 30),
frames resized so that the longer side is ``--overlay-size`` (default 480 px): each frame shows the
fused map of one instrument from the analysis frame nearest in time (analysis frame ``k`` covers
``k * 0.512 +- 0.256`` s), so the video plays smoothly while the maps change every 0.512 s.
Frames are decoded, drawn and encoded one at a time (memory does not grow with the length).
The report page shows a bounded number of analysis frames (evenly spaced over long videos).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ipd.detect.outputs import Detections
from ipd.errors import InputError
from ipd.evaluation.predictions import Prediction
from ipd.features.video import iter_frames_at, resized_shape

if TYPE_CHECKING:
    from ipd.detect.run import DetectOptions

REPORT_FRAMES = 120  # analysis frames on the report page at most (about one minute)


def overlay_instrument(det: Detections, threshold: float, wanted: str | None = None) -> int:
    """Channel the overlay shows: ``wanted``, else the top instrument (largest playing share,
    then largest mean fused score).

    Raises:
        InputError: ``wanted`` is not an output of the models.
    """
    if wanted is not None:
        lowered = [n.lower() for n in det.names]
        if wanted.lower() not in lowered:
            raise InputError(f"--instrument {wanted}: not one of {', '.join(det.names)}")
        return lowered.index(wanted.lower())
    top = det.top(threshold, count=1)
    if top:
        return det.names.index(top[0][0])
    return int(np.argmax(det.score.mean(axis=0))) if len(det.times) else 0


def overlay_times(duration: float, source_fps: float, max_fps: float) -> tuple[np.ndarray, float]:
    """Frame times (s) and rate of the overlay video: the source rate, at most ``max_fps``."""
    fps = min(source_fps, max_fps) if source_fps > 0 else max_fps
    count = max(1, math.ceil(round(duration * fps, 6)))
    return np.arange(count, dtype=np.float64) / fps, fps


def write_overlay_video(
    path: Path,
    source: Path,
    det: Detections,
    fused: Prediction,
    channel: int,
    size: int,
    max_fps: float,
) -> Path:
    """Encode the overlay video of ``fused`` maps for ``channel`` over the source frames."""
    from ipd.viz.media import write_mp4
    from ipd.viz.overlay import overlay_sequence

    info = det.info["source"]
    times, fps = overlay_times(info["duration_s"], info["fps"], max_fps)
    shape = resized_shape(info["height"], info["width"], size)
    frames = (frame for frame, _, _ in iter_frames_at(source, times, shape, threads=0))
    drawn = overlay_sequence(
        frames,
        fused.maps[:, channel],
        frame_times=times,
        map_times=fused.times,
        label=f"{det.names[channel]} ({det.info['fusion']})",
        grid=fused.grid,
    )
    return write_mp4(path, drawn, fps)


def report_frames(num_frames: int, limit: int = REPORT_FRAMES) -> np.ndarray:
    """Indices of the analysis frames shown on the report page: all, or ``limit`` evenly spaced."""
    if num_frames <= limit:
        return np.arange(num_frames)
    return np.unique(np.linspace(0, num_frames - 1, limit).round().astype(np.int64))


def write_media(
    folder: Path,
    source: Path,
    det: Detections,
    preds: dict[str, Prediction],
    shown: dict[int, np.ndarray],
    options: DetectOptions,
) -> dict[str, Path]:
    """Overlay video (``overlay.mp4``) and report page (``index.html``) as the options ask.

    ``shown``: the analysis frames of :func:`report_frames` (``{k: (H, W, 3) uint8}``).
    """
    files = {}
    channel = overlay_instrument(det, options.threshold, options.instrument)
    if options.video:
        files["video"] = write_overlay_video(
            folder / "overlay.mp4", source, det, preds["fused"], channel,
            options.overlay_size, options.overlay_fps,
        )  # fmt: skip
        info = det.info["source"]
        _, fps = overlay_times(info["duration_s"], info["fps"], options.overlay_fps)
        det.info["overlay"] = {
            "file": files["video"].name,
            "instrument": det.names[channel],
            "fps": round(fps, 3),
            "size": dict(zip(("height", "width"), resized_shape(
                info["height"], info["width"], options.overlay_size), strict=True)),
        }  # fmt: skip
    if options.report:
        files["report"] = write_report(folder, det, preds, shown, options, channel)
    return files


def write_report(
    folder: Path,
    det: Detections,
    preds: dict[str, Prediction],
    shown: dict[int, np.ndarray],
    options: DetectOptions,
    channel: int,
) -> Path:
    """The HTML page of this video (``ipd.report``) on at most ``REPORT_FRAMES`` frames.

    Rows use the paper's names (``Sound``, ``Object``, the action model, e.g. ``SOT0503``, and its
    fusion, e.g. ``SOT0503xOxS``). The page shows the overlay instrument and the other top
    instruments (three at most); its frames are the 256-px frames, so its peaks are those of
    ``scores.csv``.
    """
    from ipd.features.video import resize
    from ipd.report.html import ReportVideo, write_video_page

    keep = report_frames(len(det.times))
    height, width = det.info["frame_256"]["height"], det.info["frame_256"]["width"]
    frames = np.stack([resize(shown[k], (height, width)) for k in keep])
    action = det.info["action_model"]
    names = {"sound": "Sound", "object": "Object", "action": action}
    names["fused"] = action + det.info["fusion"][1:]  # "AxOxS" -> "SOT0503xOxS"
    rows = {names[role]: _subset(pred, keep) for role, pred in preds.items()}
    shown = [det.names[channel]] + [
        n for n, _ in det.top(options.threshold) if n != det.names[channel]
    ]
    video = ReportVideo(
        video_id=det.video_id, instrument=det.names[channel], frames=frames,
        times=det.times[keep], predictions=rows,
    )  # fmt: skip
    title = f"{det.video_id}: {names['fused']}"
    if not det.info["source"]["has_audio"]:
        title += " (no audio track)"
    if len(keep) < len(det.times):
        title += f" ({len(keep)} of {len(det.times)} analysis frames)"
    overlays = tuple(dict.fromkeys((names["fused"], action)))
    return write_video_page(
        folder, video, title=title, labels=shown[:3], overlay_models=overlays, gif=False
    )


def _subset(pred: Prediction, keep: np.ndarray) -> Prediction:
    return Prediction(
        pred.video_id,
        pred.times[keep],
        pred.label_names,
        pred.source,
        maps=None if pred.maps is None else pred.maps[keep],
        scores=None if pred.scores is None else pred.scores[keep],
        grid=pred.grid,
    )
