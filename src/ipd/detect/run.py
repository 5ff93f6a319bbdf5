"""One video through the detector: one decoding pass -> S, O, A -> fusion -> outputs (SPEC 6).

The video is decoded once and its flows computed once, in a worker thread, while the object and
action models run on the previous batch of analysis frames (:mod:`ipd.features.stream`,
:mod:`ipd.inference`); meanwhile another thread turns the audio track into log-mel maps in memory
(3 MB per minute), and the sound model then runs on windows of them. Memory holds a batch of
frames, not the video. Nothing is read from a feature cache; with ``cache`` set the features are
also stored there (for ``ipd teach``, ``ipd evaluate`` or training). The chosen fusion multiplies
the outputs and the writers of :mod:`ipd.detect.outputs` and :mod:`ipd.detect.media` store the
results under ``OUT/<video_id>/``. A video without an audio track (or with unusable audio) runs the
action and object models only and says so.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ipd import timebase
from ipd.detect.media import report_frames, write_media
from ipd.detect.models import Detector
from ipd.detect.outputs import (
    Detections,
    frame_shape_256,
    peaks,
    to_source_pixels,
    write_csv,
    write_json,
)
from ipd.errors import InputError
from ipd.evaluation.fusion import fuse
from ipd.evaluation.predictions import Prediction, save_prediction
from ipd.features import cache
from ipd.features.audio import AudioError, LogmelTrack, NoAudioTrack, decode_logmel
from ipd.features.batch import unique_video_ids
from ipd.features.extract import VisualWriter, extract_video
from ipd.features.flow import flow_function
from ipd.features.reader import open_features
from ipd.features.stream import VisualPlan, iter_batches, plan_visual, prefetch
from ipd.inference import (
    FRAME_BATCH,
    align_sound,
    batch_maps,
    neutral_uncovered,
    rgb_input,
    sound_scores,
)

FUSIONS = ("A", "AxO", "AxS", "AxOxS")


@dataclass
class DetectOptions:
    """How to run and what to write.

    Attributes:
        out: output folder (``OUT/<video_id>/`` per video).
        cache: also store the features in this cache folder (default: not stored).
        fusion: ``A``, ``AxO``, ``AxS``, ``AxOxS`` or ``auto`` (the richest the models and the
            video allow).
        threshold: fused score at or above which a frame counts as playing (summary, shares).
        instrument: the instrument the overlay video shows (default: the video's top one).
        video: write the heat-map overlay video.
        report: write the HTML report page.
        overlay_size: longer side of the overlay video, pixels.
        overlay_fps: maximum frame rate of the overlay video (the source's rate when lower).
        threads: video-decoding threads (0: FFmpeg's choice).
        precision: ``32`` or ``bf16`` (:mod:`ipd.precision`; checked by the caller).
    """

    out: Path
    cache: Path | None = None
    fusion: str = "auto"
    threshold: float = 0.5
    instrument: str | None = None
    video: bool = True
    report: bool = True
    overlay_size: int = 480
    overlay_fps: float = 30.0
    threads: int = 0
    precision: str = "32"


@dataclass
class VideoResult:
    """What one video produced: its detections, written files and notes."""

    video_id: str
    detections: Detections
    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def check_fusion(requested: str, detector: Detector) -> None:
    """Reject a fusion whose models were not given (before any video is processed).

    Raises:
        InputError: unknown fusion, or ``O`` / ``S`` asked for without that model.
    """
    if requested == "auto":
        return
    if requested not in FUSIONS:
        raise InputError(f"--fusion {requested}: choose from {', '.join(FUSIONS)} or auto")
    if "O" in requested and detector.object is None:
        raise InputError(f"--fusion {requested} needs an object model (--object/--original-object)")
    if "S" in requested and detector.sound is None:
        raise InputError(f"--fusion {requested} needs a sound model (--sound/--original-sound)")


def choose_fusion(requested: str, has_object: bool, has_sound: bool) -> tuple[str, str | None]:
    """The fusion to use for one video and a note when the request had to be reduced.

    ``auto`` takes every available output. A request that includes ``S`` for a video without
    usable audio drops ``S`` (the action model needs no audio).
    """
    if requested == "auto":
        return "A" + ("xO" if has_object else "") + ("xS" if has_sound else ""), None
    if "S" in requested and not has_sound:
        reduced = requested.replace("xS", "")
        return reduced, f"fusion {requested} needs the sound track: using {reduced}"
    return requested, None


def detect_video(
    path: str | Path, detector: Detector, options: DetectOptions, video_id: str | None = None
) -> VideoResult:
    """Run the detector on one video and write its outputs under ``options.out / video_id``.

    Raises:
        InputError: an unusable video (one line naming the file).
    """
    path = Path(path)
    video_id = video_id or unique_video_ids([path])[0][0]
    clock = _Clock()
    plan = plan_visual(path, detector.params)  # checks the file: one line when it is unusable
    # The audio track (decoding, log-mel; mostly waiting on FFmpeg and NumPy, which release the
    # GIL) is read in a thread while the video pass runs.
    with ThreadPoolExecutor(1, thread_name_prefix="ipd-audio") as pool:
        reading = pool.submit(audio_features, path, video_id, detector, options)
        preds, shown = predict_stream(path, video_id, plan, detector, options)
        clock.lap("video")
        audio, notes = reading.result()
    notes = list(detector.notes) + notes
    clock.lap("audio")
    if audio is not None:
        preds["sound"], more = predict_sound(video_id, audio, plan.num_frames, detector, options)
        notes += more
    clock.lap("sound")
    fusion, note = choose_fusion(options.fusion, "object" in preds, "sound" in preds)
    notes += [note] if note else []
    parts = [preds[{"O": "object", "S": "sound"}[c]] for c in fusion.split("x")[1:]]
    preds["fused"] = fuse(preds["action"], *parts, source=fusion)
    info = {
        "source": _source_info(path, plan, audio is not None),
        "analysis": {
            "period_s": timebase.ANALYSIS_PERIOD,
            "frame_size": {"width": plan.shape[1], "height": plan.shape[0]},
            "flow": detector.params.flow,
            "windows": list(detector.params.windows),
            "precision": options.precision,
        },
        "fusion": fusion,
        "action_model": detector.action_name,
        "models": {role: src for role, src in detector.sources.items() if role in preds},
        "notes": notes,
    }
    det = detections(video_id, detector.names, preds, (plan.info.height, plan.info.width), info)
    folder = options.out / video_id
    files = {"csv": write_csv(folder / "scores.csv", det)}
    for role, pred in preds.items():
        files[role] = save_prediction(folder / "predictions" / f"{role}.npz", pred)
    clock.lap("scores")
    files.update(write_media(folder, path, det, preds, shown, options))
    clock.lap("media")
    info["seconds"] = clock.laps
    files["json"] = write_json(folder / "scores.json", det, options.threshold)
    return VideoResult(video_id, det, files, notes)


def audio_features(
    path: Path, video_id: str, detector: Detector, options: DetectOptions
) -> tuple[LogmelTrack | None, list[str]]:
    """The log-mel maps of the video's audio (stored in ``options.cache`` too when set).

    Returns:
        ``(track, notes)``: None without a sound model or without usable audio (with a note).
    """
    if detector.sound is None:
        return None, []
    windows = detector.params.windows
    try:
        if options.cache is None:
            return decode_logmel(path, windows), []
        extract_video(path, video_id, options.cache, detector.params, ("audio",))
        with open_features(options.cache, video_id, ("audio",), detector.params) as feats:
            return LogmelTrack({w: feats.logmel_all(w) for w in windows}), []
    except NoAudioTrack:
        return None, ["no audio track: running the action and object models only"]
    except AudioError as err:
        return None, [f"audio unusable ({err}): running the action and object models only"]


def predict_stream(
    path: Path, video_id: str, plan: VisualPlan, detector: Detector, options: DetectOptions
) -> tuple[dict[str, Prediction], dict[int, np.ndarray]]:
    """A and O of every analysis frame from one decoding pass (flows in a worker thread).

    Returns:
        ``({"action": A, "object": O?}, shown)``: ``shown`` the frames the report page shows
        (``{k: (H, W, 3) uint8}``, at most ``REPORT_FRAMES``; empty without a report).
    """
    keep = set(report_frames(plan.num_frames).tolist()) if options.report else set()
    shown: dict[int, np.ndarray] = {}
    action, objects = [], []
    batches = iter_batches(
        path, plan, flow_function(detector.params.flow), FRAME_BATCH, options.threads
    )
    with ExitStack() as stack:
        writer = _cache_writer(stack, path, video_id, plan, detector, options)
        for batch in prefetch(batches):
            if writer is not None:
                writer.add(batch)
            action.append(batch_maps(detector.action, batch.flow, options.precision))
            if detector.object is not None:
                rgb = rgb_input(batch.rgb)
                objects.append(batch_maps(detector.object, rgb, options.precision))
            shown.update((k, f) for k, f in enumerate(batch.rgb, batch.start) if k in keep)
    times, names, sources = (
        timebase.analysis_times(plan.num_frames),
        detector.names,
        detector.sources,
    )
    preds = {
        "action": Prediction(
            video_id, times, names, sources["action"], maps=np.concatenate(action),
            grid=detector.action.map_grid(*plan.shape),
        )
    }  # fmt: skip
    if detector.object is not None:
        preds["object"] = Prediction(
            video_id, times, names, sources["object"], maps=np.concatenate(objects),
            grid=detector.object.map_grid(*plan.shape),
        )  # fmt: skip
    return preds, shown


def predict_sound(
    video_id: str, audio: LogmelTrack, num_frames: int, detector: Detector, options: DetectOptions
) -> tuple[Prediction, list[str]]:
    """S on the video's ``T`` analysis frames (windows of 256 frames) and what to note."""
    notes = []
    _, scores = sound_scores(
        detector.sound, audio, detector.params.windows, precision=options.precision
    )
    scores, note = align_sound(scores, num_frames)
    notes += [note] if note else []
    scores, note = neutral_uncovered(scores, detector.names)
    notes += [note] if note else []
    times = timebase.analysis_times(num_frames)
    source = detector.sources["sound"]
    return Prediction(video_id, times, detector.names, source, scores=scores), notes


def _cache_writer(
    stack: ExitStack,
    path: Path,
    video_id: str,
    plan: VisualPlan,
    detector: Detector,
    options: DetectOptions,
) -> VisualWriter | None:
    """A writer of the rgb and flow streams into ``options.cache`` (None: not asked, or fresh)."""
    if options.cache is None:
        return None
    todo = [
        s
        for s in ("rgb", "flow")
        if not cache.is_fresh(cache.feature_path(options.cache, s, video_id, detector.params), path)
    ]
    if not todo:
        return None
    writer = VisualWriter(options.cache, video_id, detector.params, todo, path, plan)
    return stack.enter_context(writer)


def detections(
    video_id: str,
    names: tuple[str, ...],
    preds: dict[str, Prediction],
    source_shape: tuple[int, int],
    info: dict,
) -> Detections:
    """Per-frame scores of every model and the fused map's peaks (256-px and video pixels)."""
    shape_256 = frame_shape_256(source_shape)
    peak = peaks(preds["fused"].maps, shape_256, preds["fused"].grid)
    info["frame_256"] = {"width": shape_256[1], "height": shape_256[0]}
    return Detections(
        video_id=video_id,
        names=names,
        times=preds["action"].times,
        score=preds["fused"].frame_scores(),
        action=preds["action"].frame_scores(),
        object=preds["object"].frame_scores() if "object" in preds else None,
        sound=preds["sound"].scores if "sound" in preds else None,
        peak=peak,
        peak_source=to_source_pixels(peak, shape_256, source_shape),
        info=info,
    )


def _source_info(path: Path, plan: VisualPlan, has_audio: bool) -> dict:
    info = plan.info
    return {
        "path": str(path.resolve()),
        "width": info.width,
        "height": info.height,
        "duration_s": info.duration,
        "fps": round(info.num_frames / info.duration, 3),
        "has_audio": has_audio or _has_audio_track(path),
    }


class _Clock:
    """Wall-clock seconds of each step (written to scores.json)."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 3)
        self._last = now


def _has_audio_track(path: Path) -> bool:
    import av

    try:
        with av.open(str(path)) as container:
            return bool(container.streams.audio)
    except av.error.FFmpegError:
        return False
