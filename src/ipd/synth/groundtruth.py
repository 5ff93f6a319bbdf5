"""Ground-truth files in the formats of ``annotations/FORMATS.md``.

Each rendered video leaves a *record* (a JSON-able dict, see
:func:`ipd.synth.builder.render_video`) with its tags, sound intervals, key points per analysis
frame and boxes; the writers here turn all records into ``index.csv``,
``annotations/sound_activity.csv``, ``annotations/keypoints_<split>.json`` and the PASCAL VOC
``annotations/boxes/Annotations/*.xml``. Key points and boxes are in pixels of the frame resized
so that its longer side is 256 (:func:`to_256`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from ipd.files import write_text_atomic
from ipd.labels import LabelSpace

EXTRACT_SIDE = 256  # px, longer side of the analysis frames (SPEC section 3)


def frame_256(width: int, height: int) -> tuple[int, int, float]:
    """``(w256, h256, scale)`` of a ``width x height`` frame resized to longer side 256."""
    s = EXTRACT_SIDE / max(width, height)
    return int(round(width * s)), int(round(height * s)), s


def to_256(pts: np.ndarray, scale: float) -> np.ndarray:
    """Video pixel coordinates -> 256-px frame coordinates (pixel centres stay centres, as in
    ``cv2.resize``: ``x' = (x + 0.5) * s - 0.5``)."""
    return (np.asarray(pts, dtype=np.float64) + 0.5) * scale - 0.5


def box_to_256(box, scale: float, w256: int, h256: int) -> list[int]:
    """An inclusive pixel box of the video -> the inclusive pixel box covering it at 256 px."""
    x0, y0, x1, y1 = box
    return [max(0, math.floor(x0 * scale)), max(0, math.floor(y0 * scale)),
            min(w256 - 1, math.ceil((x1 + 1) * scale) - 1),
            min(h256 - 1, math.ceil((y1 + 1) * scale) - 1)]  # fmt: skip


def write_index(out: Path, records: list[dict]) -> Path:
    """``index.csv``: video_id, split, tags, path, duration_s."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["video_id", "split", "tags", "path", "duration_s"])
    for r in records:
        w.writerow([r["video_id"], r["split"], ";".join(r["tags"]), r["path"],
                    f"{r['duration_s']:g}"])  # fmt: skip
    write_text_atomic(out / "index.csv", buf.getvalue())
    return out / "index.csv"


def write_sound_activity(out: Path, records: list[dict]) -> Path:
    """``annotations/sound_activity.csv``: video_id, instrument, start_s, end_s."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["video_id", "instrument", "start_s", "end_s"])
    for r in records:
        for start, end in r["intervals"]:
            w.writerow([r["video_id"], r["instrument"], f"{start:.3f}", f"{end:.3f}"])
    path = out / "annotations" / "sound_activity.csv"
    write_text_atomic(path, buf.getvalue())
    return path


def keypoints_json(records: list[dict], labels: LabelSpace, split: str) -> dict:
    """The COCO-style key-point document of one split (one image per analysis frame)."""
    doc = {
        "info": {
            "description": f"SynthIPA playing key points, {split} split",
            "frame_side_px": EXTRACT_SIDE,
        },  # fmt: skip
        "categories": [
            {
                "id": g + 1,
                "name": name,
                "supercategory": "instrument",
                "keypoints": ["contact"],
                "skeleton": [],
            }  # fmt: skip
            for g, name in enumerate(labels.names)
        ],
        "videos": [],
        "images": [],
        "annotations": [],
    }
    image_id = ann_id = 0
    for r in records:
        if r["split"] != split:
            continue
        c = labels.index(r["instrument"]) + 1
        doc["videos"].append({"id": r["video_id"], "category_id": c, "width": r["width"],
                              "height": r["height"], "fps": r["fps"]})  # fmt: skip
        for f in r["frames"]:
            image_id += 1
            doc["images"].append({
                "id": image_id, "file_name": f"{r['video_id']}@{f['t']:.3f}",
                "video_id": r["video_id"], "frame_index": f["k"], "timestamp": f["t"],
                "width": r["width256"], "height": r["height256"], "category_id": c,
            })  # fmt: skip
            for x, y in f["keypoints"]:
                ann_id += 1
                doc["annotations"].append({
                    "id": ann_id, "image_id": image_id, "category_id": c,
                    "keypoints": [x, y, 2], "num_keypoints": 1,
                    "bbox": [round(x - 1, 2), round(y - 1, 2), 2, 2], "area": 4, "iscrowd": 0,
                })  # fmt: skip
    return doc


def write_keypoints(out: Path, records: list[dict], labels: LabelSpace, split: str) -> Path:
    path = out / "annotations" / f"keypoints_{split}.json"
    write_text_atomic(path, json.dumps(keypoints_json(records, labels, split), indent=1) + "\n")
    return path


def voc_xml(image_id: str, width: int, height: int, objects: list[dict]) -> str:
    """One PASCAL VOC annotation; boxes are inclusive pixel indices of the stored image."""
    root = ET.Element("annotation")
    ET.SubElement(root, "folder").text = "JPEGImages"
    ET.SubElement(root, "filename").text = f"{image_id}.jpg"
    ET.SubElement(ET.SubElement(root, "source"), "database").text = "SynthIPA"
    size = ET.SubElement(root, "size")
    for key, value in (("width", width), ("height", height), ("depth", 3)):
        ET.SubElement(size, key).text = str(value)
    ET.SubElement(root, "segmented").text = "0"
    for obj in objects:
        o = ET.SubElement(root, "object")
        ET.SubElement(o, "name").text = obj["name"]
        ET.SubElement(o, "pose").text = "Unspecified"
        ET.SubElement(o, "truncated").text = "0"
        ET.SubElement(o, "difficult").text = "0"
        box = ET.SubElement(o, "bndbox")
        for key, value in zip(("xmin", "ymin", "xmax", "ymax"), obj["bbox"], strict=True):
            ET.SubElement(box, key).text = str(int(value))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def write_boxes(out: Path, records: list[dict]) -> list[Path]:
    """``annotations/boxes/Annotations/<image_id>.xml`` for every saved box frame."""
    paths = []
    for r in records:
        for b in r.get("boxes", []):
            path = out / "annotations" / "boxes" / "Annotations" / f"{b['image_id']}.xml"
            write_text_atomic(
                path, voc_xml(b["image_id"], r["width256"], r["height256"], b["objects"])
            )
            paths.append(path)
    return paths
