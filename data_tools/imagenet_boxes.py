"""ImageNet instrument boxes (PASCAL VOC XML) + images -> the object hit-rate evaluation set.

ImageNet's bounding boxes come as one VOC file per image (``n02672831_1234.xml``) whose objects
are named by WordNet id; the images are ``<wnid>/<wnid>_<n>.JPEG``. WordNet ids map to instruments
through ``data_tools/imagenet_wnids.csv`` (or ``--wnid-map``); an object already named with a
label (``Violin``) is kept as is, other objects are dropped.

Each image is resized so that its longer side is 256 px (the frames the object model sees) and
its boxes are scaled with it. Output, in the dataset folder (``annotations/FORMATS.md``):
``annotations/boxes/JPEGImages/<image_id>.jpg`` and ``annotations/boxes/Annotations/<image_id>.xml``
with object names = label names and boxes in pixels of the stored image.

Usage::

    python -m data_tools.imagenet_boxes --annotations Annotation/ --images images/ --out DATASET
"""

from __future__ import annotations

import argparse
import os
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from data_tools.common import Summary, atomic_write_text, find_files, load_labels, read_name_map
from ipd.errors import InputError
from ipd.features.video import resized_shape
from ipd.labels import LabelSpace

DEFAULT_WNID_MAP = Path(__file__).with_name("imagenet_wnids.csv")
IMAGE_SUFFIXES = (".JPEG", ".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class Box:
    """One VOC object: ``name`` and the box corners in pixels."""

    name: str
    xmin: float
    ymin: float
    xmax: float
    ymax: float
    difficult: int = 0
    truncated: int = 0


@dataclass(frozen=True)
class VocFile:
    """A parsed VOC annotation: the declared image size and its objects."""

    path: Path
    filename: str
    width: int
    height: int
    boxes: tuple[Box, ...]


def _number(path: Path, node: ET.Element, tag: str) -> float:
    text = node.findtext(tag)
    try:
        return float(text)
    except (TypeError, ValueError):
        raise InputError(f"{path}: <{tag}> is {text!r}, not a number") from None


def _flag(path: Path, node: ET.Element, tag: str) -> int:
    """An optional 0/1 VOC field (``difficult``, ``truncated``); absent means 0."""
    return int(_number(path, node, tag)) if node.find(tag) is not None else 0


def read_voc(path: Path) -> VocFile:
    """Parse one PASCAL VOC XML file.

    Raises:
        InputError: not XML, or a missing/non-numeric ``<size>`` or ``<bndbox>`` field.
    """
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as err:
        raise InputError(f"{path}: not a readable VOC XML file ({err})") from err
    size = root.find("size")
    if root.tag != "annotation" or size is None:
        raise InputError(f"{path}: expected <annotation> with a <size>")
    boxes = []
    for obj in root.iter("object"):
        bnd = obj.find("bndbox")
        if bnd is None or not (obj.findtext("name") or "").strip():
            raise InputError(f"{path}: an <object> without <name> or <bndbox>")
        boxes.append(
            Box(
                obj.findtext("name").strip(),
                *(_number(path, bnd, t) for t in ("xmin", "ymin", "xmax", "ymax")),
                difficult=_flag(path, obj, "difficult"),
                truncated=_flag(path, obj, "truncated"),
            )
        )
    return VocFile(
        path,
        (root.findtext("filename") or path.stem).strip(),
        int(_number(path, size, "width")),
        int(_number(path, size, "height")),
        tuple(boxes),
    )


def voc_xml(filename: str, width: int, height: int, boxes: list[Box], source: str) -> str:
    """A PASCAL VOC annotation document for ``boxes`` (pixels of the stored image)."""
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = "JPEGImages"
    ET.SubElement(root, "filename").text = filename
    src = ET.SubElement(root, "source")
    ET.SubElement(src, "database").text = "ImageNet"
    ET.SubElement(src, "annotation").text = source
    size = ET.SubElement(root, "size")
    for tag, value in (("width", width), ("height", height), ("depth", 3)):
        ET.SubElement(size, tag).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for b in boxes:
        obj = ET.SubElement(root, "object")
        ET.SubElement(obj, "name").text = b.name
        ET.SubElement(obj, "pose").text = "Unspecified"
        ET.SubElement(obj, "truncated").text = str(b.truncated)
        ET.SubElement(obj, "difficult").text = str(b.difficult)
        bnd = ET.SubElement(obj, "bndbox")
        for tag in ("xmin", "ymin", "xmax", "ymax"):
            ET.SubElement(bnd, tag).text = str(int(getattr(b, tag)))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def scale_box(box: Box, sx: float, sy: float, width: int, height: int, name: str) -> Box | None:
    """``box`` scaled by ``(sx, sy)``, rounded to whole pixels and clipped to the image.

    Returns ``None`` when nothing of the box is left (zero width or height).
    """
    x0, x1 = (min(max(round(v * sx), 0), width) for v in (box.xmin, box.xmax))
    y0, y1 = (min(max(round(v * sy), 0), height) for v in (box.ymin, box.ymax))
    if x1 <= x0 or y1 <= y0:
        return None
    return Box(name, x0, y0, x1, y1, box.difficult, box.truncated)


def convert(
    annotations: Path,
    images: Path,
    out: Path,
    wnid_map_path: Path | None = None,
    labels_path: Path | None = None,
    longer: int = 256,
) -> Summary:
    """Write ``out/annotations/boxes/{JPEGImages,Annotations}`` (module doc)."""
    labels = load_labels(labels_path)
    wnids = read_name_map(wnid_map_path or DEFAULT_WNID_MAP, labels)
    xmls = sorted(Path(annotations).rglob("*.xml")) if Path(annotations).is_dir() else []
    if not xmls:
        raise InputError(f"{annotations}: no VOC .xml files found")
    files = find_files(images, IMAGE_SUFFIXES)
    boxes_dir = Path(out) / "annotations" / "boxes"
    summary = Summary(f"ImageNet boxes ({annotations})")
    per_inst = Counter()
    for xml_path in xmls:
        voc = read_voc(xml_path)
        image_id = xml_path.stem
        wanted = [(b, _instrument(b.name, wnids, labels)) for b in voc.boxes]
        if not any(name for _, name in wanted):
            summary.skip("no instrument box", image_id)
            continue
        src = files.get(image_id) or files.get(Path(voc.filename).stem)
        image = cv2.imread(str(src), cv2.IMREAD_COLOR) if src is not None else None
        if image is None:
            summary.skip("image not found or unreadable", image_id)
            continue
        h, w = image.shape[:2]
        # boxes are in the declared size; a few ImageNet files declare a size the image lacks
        ref_w, ref_h = (voc.width, voc.height) if voc.width > 0 and voc.height > 0 else (w, h)
        if (ref_w, ref_h) != (w, h):
            summary.count("images whose XML size differs from the image (boxes scaled from XML)")
        out_h, out_w = resized_shape(h, w, longer)  # the frame size the object model sees
        kept = []
        for box, name in wanted:
            if name is None:
                summary.count("objects of other synsets dropped")
                continue
            scaled = scale_box(box, out_w / ref_w, out_h / ref_h, out_w, out_h, name)
            if scaled is None:
                summary.skip("empty box after clipping", f"{image_id}/{box.name}")
            else:
                kept.append(scaled)
        if not kept:
            summary.skip("no instrument box", image_id)
            continue
        _write_jpeg(boxes_dir / "JPEGImages" / f"{image_id}.jpg", image, out_w, out_h)
        atomic_write_text(
            boxes_dir / "Annotations" / f"{image_id}.xml",
            voc_xml(f"{image_id}.jpg", out_w, out_h, kept, xml_path.name),
        )
        summary.count("images")
        summary.count("boxes", len(kept))
        per_inst.update({b.name for b in kept})
    for name in labels.names:
        summary.count(f"images with {name}", per_inst[name])
    summary.note(f"wrote {boxes_dir}/JPEGImages and {boxes_dir}/Annotations")
    return summary


def _instrument(name: str, wnids: dict[str, str], labels: LabelSpace) -> str | None:
    if name in wnids:
        return wnids[name]
    try:
        return labels[name].name
    except KeyError:
        return None


def _write_jpeg(path: Path, image: np.ndarray, width: int, height: int) -> None:
    """Resize (area interpolation: no aliasing when shrinking) and save, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    small = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
    tmp = path.with_name(f".{path.stem}.tmp.jpg")
    if not cv2.imwrite(str(tmp), small, [cv2.IMWRITE_JPEG_QUALITY, 95]):
        raise InputError(f"{path}: cannot write the image")
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m data_tools.imagenet_boxes",
        description="ImageNet VOC boxes + images -> the object hit-rate evaluation set.",
    )
    parser.add_argument("--annotations", type=Path, required=True, help="folder of VOC .xml")
    parser.add_argument("--images", type=Path, required=True, help="folder of the images")
    parser.add_argument("--out", type=Path, required=True, help="dataset folder")
    parser.add_argument("--wnid-map", type=Path, help="CSV 'wnid,name' (default: the shipped one)")
    parser.add_argument("--labels", type=Path, help="label-space YAML (default: the repository's)")
    args = parser.parse_args(argv)
    try:
        summary = convert(args.annotations, args.images, args.out, args.wnid_map, args.labels)
    except InputError as err:
        parser.exit(2, f"error: {err}\n")
    print(summary.render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
