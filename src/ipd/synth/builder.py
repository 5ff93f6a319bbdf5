"""Building a SynthIPA dataset folder: render every video (in parallel, resumably), then write the
index and annotation files from the per-video records.

Layout (``annotations/FORMATS.md``)::

    OUT/index.csv
    OUT/videos/<video_id>.mp4
    OUT/annotations/sound_activity.csv, keypoints_val.json, keypoints_test.json
    OUT/annotations/boxes/JPEGImages/<image_id>.jpg, Annotations/<image_id>.xml
    OUT/synth_config.json          the knobs that made it
    OUT/.synth/<video_id>.json     per-video records (a rerun skips videos that have one)
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ipd.errors import InputError
from ipd.files import write_text_atomic
from ipd.labels import LabelSpace, load_label_space
from ipd.synth import groundtruth as gt
from ipd.synth.audio import check_soundfont, soundtrack
from ipd.synth.config import WorldConfig
from ipd.synth.encode import write_mp4
from ipd.synth.jobs import run_jobs
from ipd.synth.motion import keypoints
from ipd.synth.render import instrument_boxes, render_frame
from ipd.synth.scene import Scene, VideoSpec, sample_scene, video_specs
from ipd.synth.validate import validate_config
from ipd.timebase import analysis_times, num_analysis_frames

RECORDS = ".synth"


@dataclass
class Summary:
    """What :func:`build_dataset` made."""

    out: Path
    videos: int = 0
    rendered: int = 0
    skipped: int = 0
    seconds: float = 0.0
    per_split: dict[str, int] = field(default_factory=dict)
    frames: dict[str, tuple[int, int]] = field(default_factory=dict)  # split -> (pos, neg)
    contexts: dict[str, int] = field(default_factory=dict)
    box_images: int = 0

    def lines(self) -> list[str]:
        """Human-readable summary, one fact per line."""
        splits = ", ".join(f"{k} {v}" for k, v in self.per_split.items())
        out = [f"SynthIPA in {self.out}: {self.videos} videos ({splits}); rendered "
               f"{self.rendered}, reused {self.skipped}, {self.seconds:.1f} s"]  # fmt: skip
        for split, (pos, neg) in self.frames.items():
            out.append(f"  keypoints_{split}.json: {pos + neg} analysis frames "
                       f"({pos} playing, {neg} not)")  # fmt: skip
        out.append(f"  boxes: {self.box_images} VOC images")
        ctx = ", ".join(f"{k} {v}" for k, v in sorted(self.contexts.items()))
        out.append(f"  videos with: {ctx}")
        return out


def load_labels(config: WorldConfig) -> LabelSpace:
    try:
        return load_label_space(config.labels or None)
    except (FileNotFoundError, ValueError) as err:
        raise InputError(str(err)) from err


def _prepare_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a folder (choose another --out)")
    try:
        for sub in ("videos", RECORDS, "annotations/boxes/JPEGImages"):
            (out / sub).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"{out}: cannot create the output folder ({err.strerror})") from err


def _record_path(out: Path, spec: VideoSpec) -> Path:
    return out / RECORDS / f"{spec.video_id}.json"


def _finished(out: Path, spec: VideoSpec, fingerprint: str) -> bool:
    """A video is done when its record (written last) matches the config and its files exist."""
    path = _record_path(out, spec)
    if not path.is_file():
        return False
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    files = [out / record["path"]]
    files += [out / "annotations/boxes/JPEGImages" / f"{b['image_id']}.jpg"
              for b in record.get("boxes", [])]  # fmt: skip
    return record.get("fingerprint") == fingerprint and all(f.is_file() for f in files)


def render_video(out: Path, config: WorldConfig, spec: VideoSpec) -> dict:
    """Render one video, its box images and its record (the worker's job; no shared state).

    Returns:
        The record (also written to ``OUT/.synth/<video_id>.json``).
    """
    cv2.setNumThreads(1)  # workers are processes; keep each one on one core
    labels = load_labels(config)
    scene = sample_scene(config, labels, spec)
    n_frames = int(round(config.duration_s * config.fps))
    frames = (render_frame(scene, i / config.fps) for i in range(n_frames))
    audio = soundtrack(scene, Path(config.soundfont), config.audio_rate)
    rel = f"videos/{spec.video_id}.mp4"
    write_mp4(out / rel, frames, config.fps, audio, config.audio_rate, config.crf)

    w256, h256, s = gt.frame_256(config.width, config.height)
    record = {
        "video_id": spec.video_id, "split": spec.split, "instrument": scene.instrument.name,
        "tags": [scene.instrument.name], "path": rel, "duration_s": config.duration_s,
        "fps": config.fps, "width": config.width, "height": config.height,
        "width256": w256, "height256": h256, "fingerprint": config.fingerprint(),
        "intervals": [[round(a, 4), round(b, 4)] for a, b in scene.timeline.intervals()],
        "context": _context(scene), "frames": [], "boxes": [],
    }  # fmt: skip
    if spec.split in ("val", "test"):
        times = analysis_times(num_analysis_frames(config.duration_s))
        for k, t in enumerate(times):
            kps = np.round(gt.to_256(keypoints(scene, float(t)), s), 2)
            record["frames"].append({"k": k, "t": round(float(t), 6), "keypoints": kps.tolist()})
    if spec.split == "test":
        record["boxes"] = _box_frames(out, config, scene, w256, h256, s)
    write_text_atomic(_record_path(out, spec), json.dumps(record, indent=1) + "\n")
    return record


def _context(scene: Scene) -> dict:
    return {
        "audience": scene.audience is not None, "lights": scene.lights is not None,
        "shake": scene.shake is not None, "passerby": scene.passerby is not None,
        "second_instrument": scene.second[0] if scene.second else None,
        "applause": [[round(a, 3), round(b, 3)] for a, b in scene.applause],
        "silences": [[round(x.start, 3), round(x.end, 3), x.activity.value]
                     for x in scene.timeline.silences],
        "program": scene.audio.program, "tempo_bpm": round(scene.timeline.tempo_bpm, 2),
    }  # fmt: skip


def _box_frames(out: Path, config: WorldConfig, scene: Scene, w256, h256, s) -> list[dict]:
    """Save ``config.box_frames`` analysis frames (evenly spread) as 256-px JPEGs with boxes."""
    n = num_analysis_frames(config.duration_s)
    ks = sorted({int(round(k)) for k in np.linspace(0, n - 1, config.box_frames + 2)[1:-1]})
    boxes = []
    for k in ks:
        t = float(analysis_times(k + 1)[k])
        image_id = f"{scene.spec.video_id}_{k:03d}"
        img = cv2.resize(render_frame(scene, t), (w256, h256), interpolation=cv2.INTER_AREA)
        path = out / "annotations/boxes/JPEGImages" / f"{image_id}.jpg"
        tmp = path.with_name(f".{image_id}.tmp.jpg")
        cv2.imwrite(str(tmp), cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        tmp.replace(path)
        objects = [{"name": name, "bbox": gt.box_to_256(box, s, w256, h256)}
                   for name, box in instrument_boxes(scene, t)]  # fmt: skip
        boxes.append({"image_id": image_id, "k": k, "t": round(t, 6), "objects": objects})
    return boxes


def build_dataset(out: str | Path, config: WorldConfig, workers: int = 1,
                  progress: bool = True) -> Summary:  # fmt: skip
    """Render the SynthIPA world described by ``config`` into ``out``.

    Videos already rendered with the same knobs are reused; the index and annotation files are
    (re)written at the end from all videos' records, so an interrupted run resumes where it stopped.

    Args:
        out: dataset folder (created if missing).
        config: the world's knobs (e.g. ``PRESETS["demo"]``).
        workers: videos rendered in parallel (processes).
        progress: show a progress bar.

    Raises:
        InputError: bad knob values, a missing / unreadable soundfont, fluidsynth missing,
            an unusable output folder.
    """
    start = time.perf_counter()
    out = Path(out)
    labels = load_labels(config)
    validate_config(config, labels)
    check_soundfont(config.soundfont)
    _prepare_out(out)
    specs = video_specs(config, labels)
    fingerprint = config.fingerprint()
    todo = [s for s in specs if not _finished(out, s, fingerprint)]
    run_jobs(render_video, [(out, config, spec) for spec in todo], workers,
             "rendering SynthIPA", progress)  # fmt: skip

    records = [json.loads(_record_path(out, s).read_text()) for s in specs]
    gt.write_index(out, records)
    gt.write_sound_activity(out, records)
    for split in ("val", "test"):
        gt.write_keypoints(out, records, labels, split)
    boxes = gt.write_boxes(out, records)
    write_text_atomic(out / "synth_config.json", json.dumps(config.to_dict(), indent=1) + "\n")
    return _summarise(out, records, len(todo), len(boxes), time.perf_counter() - start)


def _summarise(out: Path, records: list[dict], rendered: int, boxes: int, secs: float) -> Summary:
    summary = Summary(out=out, videos=len(records), rendered=rendered,
                      skipped=len(records) - rendered, seconds=secs, box_images=boxes)  # fmt: skip
    for r in records:
        summary.per_split[r["split"]] = summary.per_split.get(r["split"], 0) + 1
        for key in ("audience", "lights", "shake", "passerby"):
            summary.contexts[key] = summary.contexts.get(key, 0) + int(r["context"][key])
        second = int(r["context"]["second_instrument"] is not None)
        summary.contexts["second instrument"] = (
            summary.contexts.get("second instrument", 0) + second
        )
        if r["frames"]:
            pos, neg = summary.frames.get(r["split"], (0, 0))
            p = sum(1 for f in r["frames"] if f["keypoints"])
            summary.frames[r["split"]] = (pos + p, neg + len(r["frames"]) - p)
    return summary
