"""An ImageNet stand-in: object-centric, image-labelled crops of SynthIPA instruments.

The paper's object model starts Conv1-5 from a network trained on ImageNet, whose instrument
images are object-centric photos labelled per image, and Table 4.7 tests its localisation on
ImageNet's instrument images that come with boxes. No such weights or images can be fetched
here, so the demo draws the same kinds of data from SynthIPA: for each instrument, frames of
scenes no video of the world uses, cropped to a square around the played instrument (1.1-1.6 x
its longer side, centre jittered by up to 15 %, mirrored with probability 1/2).

* :func:`build_crops` (pretraining, scene indices from ``FIRST_SCENE`` on): resized to ``size``
  px; only the image's instrument name is kept, as in an image-classification set.
* :func:`build_box_images` (the hit-rate test, scene indices from ``BOX_FIRST_SCENE`` on, so
  disjoint from the videos and from the pretraining crops): the instrument's box is kept, in
  PASCAL VOC layout, and borders outside the frame are black instead of reflected (a reflected
  copy of the instrument would be a second, unboxed instrument).

Layouts::

    CROPS/train/<Label>/<label>_<index>.jpg    # torchvision ImageFolder style
    CROPS/val/<Label>/<label>_<index>.jpg
    CROPS/crops_config.json                    # the world knobs, size and counts that made it

    BOXES/JPEGImages/<label>_<index>.jpg       # PASCAL VOC, as the test frames' boxes
    BOXES/Annotations/<label>_<index>.xml
    BOXES/boxes_config.json
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from ipd.errors import InputError
from ipd.files import write_bytes_atomic, write_text_atomic
from ipd.synth.config import WorldConfig
from ipd.synth.jobs import run_jobs

TRIES = 20  # random instants tried per crop before giving up on a scene (instrument out of view)
FIRST_SCENE = 1_000_000  # scene index of crop 0: disjoint from the world's videos (0, 1, ...)
BOX_FIRST_SCENE = 2_000_000  # scene index of box image 0: disjoint from videos and crops


@dataclass(frozen=True)
class CropSummary:
    """What :func:`build_crops` or :func:`build_box_images` made."""

    out: Path
    per_split: dict[str, int]
    rendered: int
    reused: int
    what: str = "instrument crops"

    def lines(self) -> list[str]:
        splits = ", ".join(f"{k} {v}" for k, v in self.per_split.items())
        return [f"{self.what} in {self.out}: {splits}; rendered {self.rendered}, "
                f"reused {self.reused}"]  # fmt: skip


def crop_around(frame: np.ndarray, box, size: int, rng: np.random.Generator) -> np.ndarray:
    """A ``(size, size, 3)`` square crop around ``box = [x0, y0, x1, y1]`` (inclusive px).

    The square's side is 1.1-1.6 x the box's longer side, its centre moved by up to 15 % of the
    side; borders outside the frame are reflected; mirrored with probability 1/2.
    """
    return crop_with_box(frame, box, size, rng)[0]


def crop_with_box(
    frame: np.ndarray, box, size: int, rng: np.random.Generator, border: int = cv2.BORDER_REFLECT
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """:func:`crop_around` (same random draws) and the box in the crop's pixels.

    Returns:
        the ``(size, size, 3)`` crop and ``(xmin, ymin, xmax, ymax)``: the crop pixels the box's
        pixels overlap, inclusive, clipped to the crop (mirrored with the crop).
    """
    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(x1 - x0 + 1, y1 - y0 + 1) * rng.uniform(1.1, 1.6)
    cx = (x0 + x1) / 2 + rng.uniform(-0.15, 0.15) * side
    cy = (y0 + y1) / 2 + rng.uniform(-0.15, 0.15) * side
    s = size / side
    tx, ty = size / 2 - cx * s, size / 2 - cy * s
    affine = np.float32([[s, 0, tx], [0, s, ty]])
    crop = cv2.warpAffine(frame, affine, (size, size), flags=cv2.INTER_AREA, borderMode=border)

    def span(lo: float, hi: float, t: float) -> tuple[int, int]:
        # source pixel k covers [k - 0.5, k + 0.5]; crop pixel i overlaps (a, b) if i is in it
        a, b = (lo - 0.5) * s + t, (hi + 0.5) * s + t
        first, last = int(np.floor(a - 0.5)) + 1, int(np.ceil(b + 0.5)) - 1
        return max(first, 0), min(last, size - 1)

    (bx0, bx1), (by0, by1) = span(x0, x1, tx), span(y0, y1, ty)
    if rng.random() < 0.5:
        crop = np.ascontiguousarray(crop[:, ::-1])
        bx0, bx1 = size - 1 - bx1, size - 1 - bx0
    return crop, (bx0, by0, bx1, by1)


def build_crops(
    out: str | Path,
    config: WorldConfig,
    per_class: int,
    size: int = 112,
    val_fraction: float = 1 / 6,
    progress: bool = True,
    workers: int = 1,
) -> CropSummary:
    """Render ``per_class`` crops of every instrument of ``config`` into ``out`` (resumable).

    Crop ``i`` of class ``g`` comes from the training scene of class ``g`` of the world
    ``config`` numbered ``FIRST_SCENE + i`` (its own seeded RNG, so the same arguments give the
    same images, and no video of the world shows the same scene); the last
    ``val_fraction`` of each class goes to ``val``. Existing images are kept, so an interrupted
    run resumes; a folder made with other arguments is refused. ``workers`` processes render in
    parallel (the same images as one).

    Raises:
        InputError: bad counts or size, or ``out`` made with other arguments.
    """
    if per_class < 2:
        raise InputError(f"{out}: need at least 2 crops per instrument, got {per_class}")
    out, labels, classes = _start(out, config, size)
    n_val = max(1, round(per_class * val_fraction))
    stamp = {"world": config.to_dict(), "per_class": per_class, "size": size, "val": n_val}
    _stamp(out / "crops_config.json", stamp)

    jobs = []
    for g in classes:
        name = labels.instruments[g].name
        for i in range(per_class):
            split = "val" if i >= per_class - n_val else "train"
            jobs.append((config, size, g, i, out / split / name / f"{name.lower()}_{i:04d}.jpg"))
    todo = _render(_render_crop, jobs, "rendering instrument crops", progress, workers)
    per_split = {s: sum(1 for *_, p in jobs if p.parts[-3] == s) for s in ("train", "val")}
    return CropSummary(out, per_split, len(todo), len(jobs) - len(todo))


def build_box_images(
    out: str | Path,
    config: WorldConfig,
    per_class: int,
    size: int = 256,
    progress: bool = True,
    workers: int = 1,
) -> CropSummary:
    """Render ``per_class`` boxed instrument images per instrument into ``out`` (resumable).

    The stand-in of ImageNet's instrument images with boxes, on which Table 4.7 measures the
    object model's hit rate (``ipd evaluate --boxes``): image ``i`` of class ``g`` is a crop
    (as :func:`build_crops`, black borders) of the training scene ``BOX_FIRST_SCENE + i`` of
    class ``g``, written as ``JPEGImages/<label>_<i>.jpg`` with the played instrument's box in
    ``Annotations/<label>_<i>.xml``. Same arguments, same images (with any number of
    ``workers``); other arguments are refused.

    Raises:
        InputError: bad counts or size, or ``out`` made with other arguments.
    """
    if per_class < 1:
        raise InputError(f"{out}: need at least 1 image per instrument, got {per_class}")
    out, labels, classes = _start(out, config, size)
    _stamp(out / "boxes_config.json",
           {"world": config.to_dict(), "per_class": per_class, "size": size})  # fmt: skip
    jobs = []
    for g in classes:
        stem = labels.instruments[g].name.lower()
        jobs += [(config, size, g, i, out / "JPEGImages" / f"{stem}_{i:04d}.jpg")
                 for i in range(per_class)]  # fmt: skip
    todo = _render(_render_box_image, jobs, "rendering boxed instrument images", progress, workers)
    return CropSummary(out, {"images": len(jobs)}, len(todo), len(jobs) - len(todo),
                       "boxed instrument images")  # fmt: skip


def _render_crop(config: WorldConfig, size: int, g: int, i: int, path: Path) -> None:
    """Crop ``i`` of class ``g`` (:func:`build_crops`); its own RNG, so any process may draw it."""
    labels = _labels(config)
    rng = np.random.default_rng([config.seed, g, i, size])
    frame, box = _played_view(config, labels, g, FIRST_SCENE + i, rng, path)
    _write_jpeg(path, crop_around(frame, box, size, rng))


def _render_box_image(config: WorldConfig, size: int, g: int, i: int, path: Path) -> None:
    """Boxed image ``i`` of class ``g`` (:func:`build_box_images`) and its VOC annotation."""
    from ipd.synth.groundtruth import voc_xml

    labels = _labels(config)
    rng = np.random.default_rng([config.seed, g, i, size, 1])
    frame, box = _played_view(config, labels, g, BOX_FIRST_SCENE + i, rng, path)
    crop, (x0, y0, x1, y1) = crop_with_box(frame, box, size, rng, cv2.BORDER_CONSTANT)
    name = labels.instruments[g].name
    xml = voc_xml(path.stem, size, size, [{"name": name, "bbox": [x0, y0, x1, y1]}])
    write_text_atomic(path.parents[1] / "Annotations" / f"{path.stem}.xml", xml)
    _write_jpeg(path, crop)  # last: an image on disk means its annotation is too


@lru_cache(maxsize=4)
def _labels(config: WorldConfig):
    """The world's label space (read once per process)."""
    from ipd.synth.builder import load_labels

    return load_labels(config)


def _start(out: str | Path, config: WorldConfig, size: int):
    """The output folder, the world's label space and its instrument indices to render."""
    from ipd.synth.builder import load_labels

    if size < 32:
        raise InputError(f"{out}: image size {size} px is below the network's 32-px stride")
    labels = load_labels(config)
    wanted = {n.lower() for n in config.instruments}
    classes = [g for g, inst in enumerate(labels.instruments)
               if not wanted or inst.name.lower() in wanted]  # fmt: skip
    return Path(out), labels, classes


def _stamp(path: Path, stamp: dict) -> None:
    """Record the settings that made a folder; refuse a folder made with others."""
    if path.is_file() and json.loads(path.read_text()) != stamp:
        raise InputError(f"{path.parent}: made with other settings ({path}); use a new folder")
    write_text_atomic(path, json.dumps(stamp, indent=1) + "\n")


def _played_view(config: WorldConfig, labels, g: int, scene_index: int, rng, path: Path):
    """A frame of training scene ``scene_index`` of class ``g`` with its played instrument in
    view, and that instrument's box ``[x0, y0, x1, y1]`` (tries ``TRIES`` random instants)."""
    from ipd.synth.render import instrument_boxes, render_frame
    from ipd.synth.scene import VideoSpec, sample_scene

    scene = sample_scene(config, labels, VideoSpec(path.stem, "train", g, scene_index))
    for _ in range(TRIES):
        t = rng.uniform(0, config.duration_s)
        boxes = instrument_boxes(scene, t)
        if boxes and boxes[0][0] == labels.instruments[g].name:
            return render_frame(scene, t), boxes[0][1]
    raise InputError(f"{path}: instrument never in view in {TRIES} tries")


def _write_jpeg(path: Path, rgb: np.ndarray) -> None:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, 92])  # fmt: skip
    if not ok:
        raise InputError(f"{path}: JPEG encoding failed")
    write_bytes_atomic(path, data.tobytes())


def _render(render, jobs: list, description: str, progress: bool, workers: int) -> list:
    """``render(*job)`` for every job whose image (its last item) is missing; the jobs rendered."""
    todo = [job for job in jobs if not job[-1].is_file()]
    run_jobs(render, todo, workers, description, progress)
    return todo
