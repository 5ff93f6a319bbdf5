"""Object-model hit rate on PASCAL VOC boxes (SPEC 7, Table 4.7 style, §4.3.2).

For an image and an instrument boxed in it, the object map of that instrument is upsampled
bilinearly to the image size (``<size>`` of the XML), each cell where the network looks when the
map's ``MapGrid`` is given (as the spatial metric, :mod:`.action`), and its arg-max pixel
``(x, y)`` (first maximum in row-major order) is a **hit** when it falls inside a box of that
instrument, bounds included: ``xmin <= x <= xmax`` and ``ymin <= y <= ymax``, in the pixel grid
of the arg-max (box coordinates are used as written, as the authors did). Each (image, boxed
instrument) pair is one trial; the hit rate of a class is hits / trials, and the mean is over
classes with at least one trial.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ipd.errors import InputError
from ipd.evaluation.action import argmax_xy, upsample
from ipd.evaluation.predictions import MapGrid
from ipd.evaluation.tables import format_auc, markdown_table
from ipd.labels import LabelSpace


@dataclass(frozen=True)
class Box:
    """One instrument box, pixels of the stored image."""

    label: str
    xmin: float
    ymin: float
    xmax: float
    ymax: float

    def contains(self, x: float, y: float) -> bool:
        """True when ``(x, y)`` lies inside the box, bounds included."""
        return self.xmin <= x <= self.xmax and self.ymin <= y <= self.ymax


@dataclass(frozen=True)
class BoxImage:
    """The VOC annotation of one image.

    Attributes:
        image_id: the XML file's stem (``JPEGImages/<image_id>.jpg`` is the image).
        width: image width (px).
        height: image height (px).
        boxes: the instrument boxes.
        path: the XML file.
    """

    image_id: str
    width: int
    height: int
    boxes: tuple[Box, ...]
    path: Path


@dataclass(frozen=True)
class HitRate:
    """Hit rate per class and its mean over classes with trials (None: no trial)."""

    mean: float | None
    per_class: dict[str, float | None]
    hits: dict[str, int]
    trials: dict[str, int]


def read_voc(path: str | Path, labels: LabelSpace | None = None) -> BoxImage:
    """Parse one PASCAL VOC XML file.

    Args:
        path: the XML file.
        labels: when given, object names are resolved to label-space names (unknown: error).

    Raises:
        InputError: unreadable XML, missing ``size``/``bndbox`` fields, bad numbers or labels.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: VOC annotation not found")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise InputError(f"{path}: not valid XML ({err})") from err
    width = int(_number(path, root, "size/width"))
    height = int(_number(path, root, "size/height"))
    if width <= 0 or height <= 0:
        raise InputError(f"{path}: image size {width}x{height} is not positive")
    boxes = []
    for i, obj in enumerate(root.findall("object")):
        name = (obj.findtext("name") or "").strip()
        if not name:
            raise InputError(f"{path}: object #{i} has no <name>")
        if labels is not None:
            try:
                name = labels.names[labels.index(name)]
            except KeyError:
                raise InputError(f"{path}: object {name!r} is not in {labels.names}") from None
        xmin, ymin, xmax, ymax = (
            _number(path, obj, f"bndbox/{key}") for key in ("xmin", "ymin", "xmax", "ymax")
        )
        if xmax < xmin or ymax < ymin:
            raise InputError(f"{path}: object #{i} ({name}) has an empty box")
        boxes.append(Box(name, xmin, ymin, xmax, ymax))
    return BoxImage(path.stem, width, height, tuple(boxes), path)


def read_voc_dir(folder: str | Path, labels: LabelSpace | None = None) -> list[BoxImage]:
    """Parse every ``*.xml`` of a VOC ``Annotations`` folder, sorted by file name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: VOC Annotations folder not found")
    return [read_voc(p, labels) for p in sorted(folder.glob("*.xml"))]


def is_hit(
    class_map: np.ndarray,
    boxes: Sequence[Box],
    width: int,
    height: int,
    grid: MapGrid | None = None,
) -> bool:
    """Whether the arg-max of ``(h, w)`` upsampled to ``height x width`` is in one of ``boxes``
    (``grid``: where the cells sit in the network input; None: corner to corner)."""
    x, y = argmax_xy(upsample(class_map[None], height, width, grid=grid)[0])
    return any(box.contains(x, y) for box in boxes)


def hit_rate(
    images: Sequence[BoxImage],
    maps: Mapping[str, np.ndarray],
    label_names: Sequence[str],
    grids: Mapping[str, MapGrid] | None = None,
) -> HitRate:
    """Object hit rate per class.

    Args:
        images: the VOC annotations (:func:`read_voc_dir`).
        maps: image id -> the object model's ``(G, h, w)`` maps for that image.
        label_names: output channel order of the maps (and the classes reported).
        grids: image id -> where the map cells sit in the network input (missing: corner to
            corner).

    Raises:
        InputError: an image without maps, or maps with the wrong number of channels.
    """
    lower = [n.lower() for n in label_names]
    hits = dict.fromkeys(label_names, 0)
    trials = dict.fromkeys(label_names, 0)
    for image in images:
        if image.image_id not in maps:
            raise InputError(f"{image.path}: no object-model maps for image {image.image_id}")
        image_maps = np.asarray(maps[image.image_id])
        if image_maps.ndim != 3 or image_maps.shape[0] != len(label_names):
            raise InputError(
                f"{image.path}: maps of shape {image_maps.shape}, "
                f"expected ({len(label_names)}, h, w)"
            )
        for name in dict.fromkeys(box.label for box in image.boxes):
            if name.lower() not in lower:
                continue  # an instrument outside the label space has no channel to test
            g = lower.index(name.lower())
            boxes = [b for b in image.boxes if b.label.lower() == name.lower()]
            trials[label_names[g]] += 1
            grid = (grids or {}).get(image.image_id)
            hits[label_names[g]] += is_hit(image_maps[g], boxes, image.width, image.height, grid)
    per_class = {n: hits[n] / trials[n] if trials[n] else None for n in label_names}
    valid = [v for v in per_class.values() if v is not None]
    return HitRate(
        mean=float(np.mean(valid)) if valid else None,
        per_class=per_class,
        hits=hits,
        trials=trials,
    )


def _number(path: Path, element: ET.Element, tag: str) -> float:
    text = element.findtext(tag)
    if text is None:
        raise InputError(f"{path}: missing <{tag}>")
    try:
        return float(text.strip())
    except ValueError:
        raise InputError(f"{path}: <{tag}> is not a number ({text.strip()!r})") from None


def hit_rate_table(results: Mapping[str, HitRate]) -> str:
    """Markdown in the layout of Table 4.7: a row per class, a column per object model, Average."""
    names = list(results)
    classes = list(dict.fromkeys(c for r in results.values() for c in r.per_class))
    rows = [[c] + [results[n].per_class.get(c) for n in names] for c in classes]
    rows.append(["Average"] + [results[n].mean for n in names])
    title = "Object model, hit rate (Table 4.7)"
    return markdown_table(title, ["Instrument object", *names], rows, format_auc, max)
