"""One video through the detector: features -> S, O, A -> fusion -> outputs (SPEC 6).

Features go to the feature cache (``ipd.features``; a rerun reuses them), the models run over them
in bounded memory (:mod:`ipd.inference`), the chosen fusion multiplies the outputs, and the
writers of :mod:`ipd.detect.outputs` and :mod:`ipd.detect.media` store the results under
``OUT/<video_id>/``. A video without an audio track (or with unusable audio) runs the action and
object models only and says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ipd import timebase
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
from ipd.features.audio import AudioError, NoAudioTrack
from ipd.features.batch import unique_video_ids
from ipd.features.extract import extract_video
from ipd.features.reader import open_features
from ipd.files import check_input_file
from ipd.inference import align_sound, all_maps, neutral_uncovered, sound_scores

FUSIONS = ("A", "AxO", "AxS", "AxOxS")


@dataclass
class DetectOptions:
    """How to run and what to write.

    Attributes:
        out: output folder (``OUT/<video_id>/`` per video).
        cache: feature cache folder (default ``OUT/cache``).
        fusion: ``A``, ``AxO``, ``AxS``, ``AxOxS`` or ``auto`` (the richest the models and the
            video allow).
        threshold: fused score at or above which a frame counts as playing (summary, shares).
        instrument: the instrument the overlay video shows (default: the video's top one).
        video: write the heat-map overlay video.
        report: write the HTML report page.
        overlay_size: longer side of the overlay video, pixels.
        overlay_fps: maximum frame rate of the overlay video (the source's rate when lower).
        threads: video-decoding threads for the extraction (0: FFmpeg's choice).
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

    @property
    def cache_dir(self) -> Path:
        return self.cache if self.cache is not None else self.out / "cache"


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


def extract(
    path: Path, video_id: str, detector: Detector, options: DetectOptions
) -> tuple[bool, list[str]]:
    """Extract (or reuse) rgb, flow and, with a sound model, audio.

    Returns:
        ``(sound_usable, notes)``: whether the audio features exist (False without a sound
        model), and what went wrong with the audio.

    Raises:
        InputError: the video itself is unusable (missing, not a video, no frames).
    """
    params, cache = detector.params, options.cache_dir
    extract_video(path, video_id, cache, params, ("rgb", "flow"), threads=options.threads)
    if detector.sound is None:
        return False, []
    try:
        extract_video(path, video_id, cache, params, ("audio",), threads=options.threads)
    except NoAudioTrack:
        return False, ["no audio track: running the action and object models only"]
    except AudioError as err:
        return False, [f"audio unusable ({err}): running the action and object models only"]
    return True, []


def detect_video(
    path: str | Path, detector: Detector, options: DetectOptions, video_id: str | None = None
) -> VideoResult:
    """Run the detector on one video and write its outputs under ``options.out / video_id``.

    Raises:
        InputError: an unusable video (one line naming the file).
    """
    path = Path(path)
    video_id = video_id or unique_video_ids([path])[0][0]
    check_video_file(path)
    clock = _Clock()
    has_audio, notes = extract(path, video_id, detector, options)
    notes = list(detector.notes) + notes
    clock.lap("features")
    preds, meta, more = predict(video_id, detector, options.cache_dir, has_audio)
    notes += more
    fusion, note = choose_fusion(options.fusion, "object" in preds, "sound" in preds)
    notes += [note] if note else []
    parts = [preds[{"O": "object", "S": "sound"}[c]] for c in fusion.split("x")[1:]]
    preds["fused"] = fuse(preds["action"], *parts, source=fusion)
    clock.lap("models")
    info = {
        "source": _source_info(path, meta, has_audio),
        "analysis": {
            "period_s": timebase.ANALYSIS_PERIOD,
            "frame_size": {"width": meta["frame_size"][1], "height": meta["frame_size"][0]},
            "flow": detector.params.flow,
            "windows": list(detector.params.windows),
        },
        "fusion": fusion,
        "action_model": detector.action_name,
        "models": {role: src for role, src in detector.sources.items() if role in preds},
        "notes": notes,
    }
    det = detections(video_id, detector.names, preds, tuple(meta["source_size"]), info)
    folder = options.out / video_id
    files = {"csv": write_csv(folder / "scores.csv", det)}
    for role, pred in preds.items():
        files[role] = save_prediction(folder / "predictions" / f"{role}.npz", pred)
    clock.lap("scores")
    from ipd.detect.media import write_media

    files.update(write_media(folder, path, det, preds, detector.params, options))
    clock.lap("media")
    info["seconds"] = clock.laps
    files["json"] = write_json(folder / "scores.json", det, options.threshold)
    return VideoResult(video_id, det, files, notes)


def predict(
    video_id: str, detector: Detector, cache: Path, has_audio: bool
) -> tuple[dict[str, Prediction], dict, list[str]]:
    """A, O and S of one video from its cached features (bounded memory, :mod:`ipd.inference`).

    Returns:
        ``({"action": A, "object": O?, "sound": S?}, rgb meta.json, notes)``; every prediction
        is on the video's ``T`` analysis frames.
    """
    notes: list[str] = []
    streams = ("rgb", "flow", "audio") if has_audio else ("rgb", "flow")
    names, sources = detector.names, detector.sources
    with open_features(cache, video_id, streams, detector.params) as feats:
        times = feats.times.copy()
        preds = {
            "action": Prediction(
                video_id, times, names, sources["action"],
                maps=all_maps(detector.action, feats, "flow"),
                grid=detector.action.map_grid(*feats.frame_size),
            )
        }  # fmt: skip
        if detector.object is not None:
            preds["object"] = Prediction(
                video_id, times, names, sources["object"],
                maps=all_maps(detector.object, feats, "rgb"),
                grid=detector.object.map_grid(*feats.frame_size),
            )  # fmt: skip
        if has_audio:
            _, scores = sound_scores(detector.sound, feats, detector.params.windows)
            scores, note = align_sound(scores, feats.num_frames)
            notes += [note] if note else []
            scores, note = neutral_uncovered(scores, names)
            notes += [note] if note else []
            preds["sound"] = Prediction(video_id, times, names, sources["sound"], scores=scores)
        return preds, feats.meta["rgb"], notes


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


def _source_info(path: Path, meta: dict, has_audio: bool) -> dict:
    height, width = meta["source_size"]
    return {
        "path": str(path.resolve()),
        "width": width,
        "height": height,
        "duration_s": meta["duration_s"],
        "fps": round(meta["source_frames"] / meta["duration_s"], 3),
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


def check_video_file(path: Path) -> None:
    """Fail early with one line for a missing, empty or special file (the extractor checks the
    rest)."""
    check_input_file(path, "video file")
