"""An ImageNet stand-in: object-centric, image-labelled crops of SynthIPA instruments.

The paper's object model starts Conv1-5 from a network trained on ImageNet, whose instrument
images are object-centric photos labelled per image. No such weights or images can be fetched
here, so the demo pretrains on the same kind of data drawn from SynthIPA: for each instrument,
frames of scenes no video of the world uses (scene indices from ``FIRST_SCENE`` on), cropped to a
square around the played instrument (1.1-1.6 x its longer side, centre jittered by up to 15 %,
mirrored with probability 1/2) and resized to ``size`` px. Only the image's instrument name is
kept, as in an image-classification set; the crop box itself is not stored.

Layout (torchvision ``ImageFolder`` style, one folder per label name)::

    OUT/train/<Label>/<label>_<index>.jpg
    OUT/val/<Label>/<label>_<index>.jpg
    OUT/crops_config.json          # the world knobs, size and counts that made the folder
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ipd.errors import InputError
from ipd.files import write_bytes_atomic, write_text_atomic
from ipd.synth.config import WorldConfig

TRIES = 20  # random instants tried per crop before giving up on a scene (instrument out of view)
FIRST_SCENE = 1_000_000  # scene index of crop 0: disjoint from the world's videos (0, 1, ...)


@dataclass(frozen=True)
class CropSummary:
    """What :func:`build_crops` made."""

    out: Path
    per_split: dict[str, int]
    rendered: int
    reused: int

    def lines(self) -> list[str]:
        splits = ", ".join(f"{k} {v}" for k, v in self.per_split.items())
        return [f"instrument crops in {self.out}: {splits}; rendered {self.rendered}, "
                f"reused {self.reused}"]  # fmt: skip


def crop_around(frame: np.ndarray, box, size: int, rng: np.random.Generator) -> np.ndarray:
    """A ``(size, size, 3)`` square crop around ``box = [x0, y0, x1, y1]`` (inclusive px).

    The square's side is 1.1-1.6 x the box's longer side, its centre moved by up to 15 % of the
    side; borders outside the frame are reflected; mirrored with probability 1/2.
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(x1 - x0 + 1, y1 - y0 + 1) * rng.uniform(1.1, 1.6)
    cx = (x0 + x1) / 2 + rng.uniform(-0.15, 0.15) * side
    cy = (y0 + y1) / 2 + rng.uniform(-0.15, 0.15) * side
    s = size / side
    affine = np.float32([[s, 0, size / 2 - cx * s], [0, s, size / 2 - cy * s]])
    crop = cv2.warpAffine(frame, affine, (size, size), flags=cv2.INTER_AREA,
                          borderMode=cv2.BORDER_REFLECT)  # fmt: skip
    return np.ascontiguousarray(crop[:, ::-1]) if rng.random() < 0.5 else crop


def build_crops(
    out: str | Path,
    config: WorldConfig,
    per_class: int,
    size: int = 112,
    val_fraction: float = 1 / 6,
    progress: bool = True,
) -> CropSummary:
    """Render ``per_class`` crops of every instrument of ``config`` into ``out`` (resumable).

    Crop ``i`` of class ``g`` comes from the training scene of class ``g`` of the world
    ``config`` numbered ``FIRST_SCENE + i`` (its own seeded RNG, so the same arguments give the
    same images, and no video of the world shows the same scene); the last
    ``val_fraction`` of each class goes to ``val``. Existing images are kept, so an interrupted
    run resumes; a folder made with other arguments is refused.

    Raises:
        InputError: bad counts or size, or ``out`` made with other arguments.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from ipd.synth.builder import load_labels
    from ipd.synth.render import instrument_boxes, render_frame
    from ipd.synth.scene import VideoSpec, sample_scene

    if per_class < 2:
        raise InputError(f"{out}: need at least 2 crops per instrument, got {per_class}")
    if size < 32:
        raise InputError(f"{out}: crop size {size} px is below the network's 32-px stride")
    out = Path(out)
    labels = load_labels(config)
    wanted = {n.lower() for n in config.instruments}
    classes = [g for g, inst in enumerate(labels.instruments)
               if not wanted or inst.name.lower() in wanted]  # fmt: skip
    n_val = max(1, round(per_class * val_fraction))
    stamp = {"world": config.to_dict(), "per_class": per_class, "size": size, "val": n_val}
    stamp_path = out / "crops_config.json"
    if stamp_path.is_file() and json.loads(stamp_path.read_text()) != stamp:
        raise InputError(f"{out}: made with other crop settings ({stamp_path}); use a new folder")
    write_text_atomic(stamp_path, json.dumps(stamp, indent=1) + "\n")

    jobs = []
    for g in classes:
        name = labels.instruments[g].name
        for i in range(per_class):
            split = "val" if i >= per_class - n_val else "train"
            jobs.append((g, i, out / split / name / f"{name.lower()}_{i:04d}.jpg"))
    todo = [job for job in jobs if not job[2].is_file()]
    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, disable=not progress or not todo) as bar:
        task = bar.add_task("rendering instrument crops", total=len(todo))
        for g, i, path in todo:
            spec = VideoSpec(path.stem, "train", g, FIRST_SCENE + i)
            scene = sample_scene(config, labels, spec)
            rng = np.random.default_rng([config.seed, g, i, size])
            for _ in range(TRIES):
                t = rng.uniform(0, config.duration_s)
                boxes = instrument_boxes(scene, t)
                if boxes and boxes[0][0] == labels.instruments[g].name:
                    break
            else:
                raise InputError(f"{path}: instrument never in view in {TRIES} tries")
            crop = crop_around(render_frame(scene, t), boxes[0][1], size, rng)
            ok, data = cv2.imencode(".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR),
                                    [cv2.IMWRITE_JPEG_QUALITY, 92])  # fmt: skip
            if not ok:
                raise InputError(f"{path}: JPEG encoding failed")
            write_bytes_atomic(path, data.tobytes())
            bar.advance(task)
    per_split = {s: sum(1 for *_, p in jobs if p.parts[-3] == s) for s in ("train", "val")}
    return CropSummary(out, per_split, len(todo), len(jobs) - len(todo))
