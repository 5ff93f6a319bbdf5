"""Read COCO-style playing key points (``annotations/FORMATS.md``) into per-video frame records.

One COCO ``images`` entry is one annotated analysis frame (positive or negative), carrying its
video id, timestamp (s) and the size of the 256-px frame the key points are measured in. Each
``annotations`` entry holds key points as ``[x, y, v]`` triples (x = column, y = row, pixels of the
256-px frame). A frame is **positive** when it has at least one labelled key point (``v > 0``).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pycocotools.coco import COCO

from ipd.errors import InputError
from ipd.labels import LabelSpace

_IMAGE_FIELDS = ("id", "video_id", "timestamp", "width", "height", "category_id")


@dataclass(frozen=True)
class FrameRecord:
    """One annotated analysis frame.

    Attributes:
        video_id: the video it belongs to.
        frame_index: analysis-frame index ``k`` (informational; matching uses ``timestamp``).
        timestamp: seconds from the start of the video.
        width: frame width in pixels of the 256-px frame.
        height: frame height in pixels of the 256-px frame.
        keypoints: ``(n, 2)`` float64 array of ``(x, y)`` pixels; ``n = 0`` on a negative frame.
    """

    video_id: str
    frame_index: int
    timestamp: float
    width: int
    height: int
    keypoints: np.ndarray

    @property
    def positive(self) -> bool:
        """True when a playing action is visible (at least one key point)."""
        return len(self.keypoints) > 0


@dataclass(frozen=True)
class VideoAnnotation:
    """The annotated frames of one test video of one instrument, sorted by time.

    Attributes:
        video_id: the video id.
        instrument: the video's instrument (a label name).
        frames: the annotated frames, increasing ``timestamp``.
    """

    video_id: str
    instrument: str
    frames: tuple[FrameRecord, ...]

    @property
    def times(self) -> np.ndarray:
        """Timestamps (s) of the annotated frames. Shape ``(T,)``."""
        return np.array([f.timestamp for f in self.frames], dtype=np.float64)

    @property
    def positives(self) -> np.ndarray:
        """Temporal AUC labels: True where the frame has key points. Shape ``(T,)``."""
        return np.array([f.positive for f in self.frames], dtype=bool)


def load_keypoints(
    path: str | Path, labels: LabelSpace | None = None
) -> dict[str, VideoAnnotation]:
    """Read a ``keypoints_<split>.json`` file with pycocotools.

    Args:
        path: the COCO-style JSON (format in ``annotations/FORMATS.md``).
        labels: when given, every category must be ``{"id": g + 1, "name": labels.names[g]}``.

    Returns:
        Video id -> its annotation, in the order the videos first appear in ``images``; a video
        annotated for several instruments appears once per instrument, as ``"<video_id>/<name>"``.

    Raises:
        InputError: unreadable JSON, missing fields, inconsistent categories, duplicate frames or
            key points outside their frame.
    """
    path = Path(path)
    dataset = _read_json(path)
    coco = COCO()
    coco.dataset = dataset
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress lines
        try:
            coco.createIndex()
        except (KeyError, TypeError) as err:
            raise InputError(f"{path}: not a COCO key-point file ({err!r} missing)") from err

    names = _category_names(path, coco, labels)
    # A video may be annotated once per instrument (YT8M-IPA has one Cello + Saxophone video):
    # the unit of evaluation is (video, instrument).
    frames: dict[tuple[str, str], list[FrameRecord]] = defaultdict(list)
    for image in coco.loadImgs(coco.getImgIds()):
        missing = [key for key in _IMAGE_FIELDS if key not in image]
        if missing:
            raise InputError(f"{path}: image {image.get('id')!r} lacks {', '.join(missing)}")
        vid = str(image["video_id"])
        name = names.get(image["category_id"])
        if name is None:
            raise InputError(f"{path}: image {image['id']} has unknown category_id")
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[image["id"]]))
        frames[(vid, name)].append(_frame(path, image, vid, anns))

    instruments_of: dict[str, list[str]] = defaultdict(list)
    for vid, name in frames:
        instruments_of[vid].append(name)
    _check_videos_entry(path, dataset, instruments_of, names)
    videos = {}
    for (vid, name), records in frames.items():
        records.sort(key=lambda f: f.timestamp)
        times = np.array([f.timestamp for f in records])
        if np.any(np.diff(times) <= 1e-6):
            raise InputError(f"{path}: video {vid} has two annotated frames at the same time")
        key = vid if len(instruments_of[vid]) == 1 else f"{vid}/{name}"
        videos[key] = VideoAnnotation(vid, name, tuple(records))
    return videos


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise InputError(f"{path}: key-point annotation file not found")
    try:
        dataset = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(dataset, dict) or not isinstance(dataset.get("images"), list):
        raise InputError(f"{path}: expected a COCO mapping with an 'images' list")
    for key in ("annotations", "categories"):
        if not isinstance(dataset.get(key), list):
            raise InputError(f"{path}: expected a COCO mapping with a '{key}' list")
    return dataset


def _category_names(path: Path, coco: COCO, labels: LabelSpace | None) -> dict[int, str]:
    names = {}
    for cat in coco.loadCats(coco.getCatIds()):
        if "id" not in cat or "name" not in cat:
            raise InputError(f"{path}: a category lacks 'id' or 'name'")
        cid, name = int(cat["id"]), str(cat["name"])
        if labels is not None:
            g = cid - 1  # FORMATS.md: category id = label-space index + 1
            if not 0 <= g < len(labels) or labels.names[g].lower() != name.lower():
                raise InputError(
                    f"{path}: category {cid} {name!r} does not match the label space "
                    f"{labels.names} (id must be index + 1)"
                )
            name = labels.names[g]
        names[cid] = name
    return names


def _frame(path: Path, image: dict, vid: str, anns: list[dict]) -> FrameRecord:
    t = float(image["timestamp"])
    if image["width"] is None or image["height"] is None:
        raise InputError(
            f"{path}: image {image['id']} has no frame size (for YT8M-IPA, rerun "
            "`python -m data_tools.yt8m_ipa` with --videos so the sizes are read from the videos)"
        )
    width, height = int(image["width"]), int(image["height"])
    if not math.isfinite(t) or width <= 0 or height <= 0:
        raise InputError(f"{path}: image {image['id']} has a bad timestamp or frame size")
    points = []
    for ann in anns:
        if ann.get("category_id", image["category_id"]) != image["category_id"]:
            raise InputError(f"{path}: annotation {ann.get('id')} and its image differ in category")
        kp = ann.get("keypoints")
        if not isinstance(kp, list) or len(kp) % 3 != 0:
            raise InputError(f"{path}: annotation {ann.get('id')} has no [x, y, v] key points")
        for x, y, visibility in zip(kp[0::3], kp[1::3], kp[2::3], strict=True):
            if visibility > 0:  # COCO: v = 0 means "not labelled"
                points.append((float(x), float(y)))
    keypoints = np.array(points, dtype=np.float64).reshape(-1, 2)
    if not np.all(np.isfinite(keypoints)):
        raise InputError(f"{path}: image {image['id']} has a non-finite key point")
    outside = (keypoints < 0).any(axis=1) | (keypoints > [width, height]).any(axis=1)
    if outside.any():
        x, y = keypoints[outside][0]
        raise InputError(
            f"{path}: image {image['id']} has a key point ({x:g}, {y:g}) outside its "
            f"{width} x {height} frame"
        )
    return FrameRecord(vid, int(image.get("frame_index", -1)), t, width, height, keypoints)


def _check_videos_entry(
    path: Path, dataset: dict, instruments_of: dict[str, list[str]], names: dict[int, str]
) -> None:
    """The optional top-level ``videos`` list must agree with the frames' categories."""
    for video in dataset.get("videos", []) or []:
        vid = str(video.get("id"))
        name = names.get(video.get("category_id"))
        if vid in instruments_of and name is not None and name not in instruments_of[vid]:
            raise InputError(
                f"{path}: video {vid} is {name} in 'videos' but {instruments_of[vid]} in 'images'"
            )
