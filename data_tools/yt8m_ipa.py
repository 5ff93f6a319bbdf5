"""YT8M-IPA: the released ``.npy`` key points -> the project's COCO-style key-point JSON.

The release (github.com/ciaua/InstrumentPlayingDetection) stores one file per annotated frame,
``te/<Instrument>/<youtube_id>/<start>_<end>.<k>.npy``, an ``(n, 2)`` float array of key points as
``(row, col)`` in the frame resized so that its longer side is 256, or shape ``(0,)`` when no
playing action is visible. Frame ``k`` of a fragment is at ``t = start + k * 0.512`` s.

The JSON (``annotations/FORMATS.md``) keeps every frame: negatives get an image entry and no
annotation. Key points become ``(x, y) = (col, row)``. The release does not say how large the
original videos were, so ``width``/``height`` are ``null`` unless ``--videos`` points at the
downloaded videos. Frames listed in ``video_id.te.json`` but absent from the release are reported,
never invented.

Usage::

    python -m data_tools.yt8m_ipa --annotations REF/instrument_playing/yt8m_ipa \\
        --video-ids REF/instrument_playing/video_id.te.json --out DATASET [--videos DIR]
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from data_tools.common import (
    VIDEO_SUFFIXES,
    Summary,
    atomic_write_json,
    dataset_path,
    find_files,
    load_labels,
    merge_index,
)
from ipd.errors import InputError
from ipd.features.video import open_video, resized_shape
from ipd.labels import LabelSpace
from ipd.timebase import ANALYSIS_PERIOD

FRAME_NAME = re.compile(r"^(?P<start>\d+(?:\.\d+)?)_(?P<end>\d+(?:\.\d+)?)\.(?P<k>\d+)\.npy$")
SPLIT_FOLDERS = {"te": "test", "va": "val", "tr": "train"}  # the release has only ``te``


@dataclass(frozen=True)
class FrameFile:
    """One released annotation file: the frame ``k`` of fragment ``[start, end)`` of a video."""

    path: Path
    folder: str  # instrument folder name as released ("Drummer")
    video_id: str
    start: float
    end: float
    k: int

    @property
    def timestamp(self) -> float:
        """Seconds from the start of the video, ``start + k * 0.512`` (rounded to 1 us)."""
        return round(self.start + self.k * ANALYSIS_PERIOD, 6)


@dataclass(frozen=True)
class VideoSize:
    """What ``--videos`` tells about a video: pixel size and frame rate."""

    path: Path
    width: int
    height: int
    fps: float
    duration_s: float


def scan_release(root: Path) -> tuple[str, list[FrameFile]]:
    """List the frame files of a release folder (``yt8m_ipa`` or its ``te`` folder).

    Returns:
        The split name (``test`` for ``te``) and the files, sorted by folder, video, start, k.
    """
    root = Path(root)
    split_dirs = [root / d for d in SPLIT_FOLDERS if (root / d).is_dir()]
    if root.name in SPLIT_FOLDERS:
        split_dirs = [root]
    if len(split_dirs) != 1:
        raise InputError(f"{root}: expected exactly one of the folders {sorted(SPLIT_FOLDERS)}")
    split_dir = split_dirs[0]
    files = []
    for path in sorted(split_dir.glob("*/*/*")):
        if path.name.startswith("."):
            continue
        m = FRAME_NAME.match(path.name)
        if m is None:
            raise InputError(f"{path}: not a '<start>_<end>.<k>.npy' annotation file")
        files.append(
            FrameFile(
                path,
                path.parent.parent.name,
                path.parent.name,
                float(m["start"]),
                float(m["end"]),
                int(m["k"]),
            )
        )
    if not files:
        raise InputError(f"{split_dir}: no annotation files found")
    files.sort(key=lambda f: (f.folder, f.video_id, f.start, f.k))
    return SPLIT_FOLDERS[split_dir.name], files


def load_keypoints(path: Path) -> np.ndarray:
    """The ``(n, 2)`` float64 ``(row, col)`` key points of one file (``n = 0`` for a negative)."""
    try:
        a = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: not a readable .npy array ({err})") from err
    if a.size == 0:
        return np.zeros((0, 2), dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 2 or not np.issubdtype(a.dtype, np.number):
        raise InputError(f"{path}: expected an (n, 2) array of (row, col), got {a.shape} {a.dtype}")
    if not np.isfinite(a).all():
        raise InputError(f"{path}: key points contain NaN or infinity")
    return a.astype(np.float64)


def read_video_infos(folder: Path, video_ids: set[str]) -> dict[str, VideoSize]:
    """Pixel size and frame rate of the downloaded videos ``<video_id>.<ext>``, read with the
    project's decoder (``ipd.features.video.open_video``, decord) so sizes match extraction."""
    infos = {}
    files = find_files(folder, VIDEO_SUFFIXES)
    for vid in sorted(video_ids & set(files)):
        _, info = open_video(files[vid])
        fps = round(info.num_frames / info.duration, 3)
        infos[vid] = VideoSize(files[vid], info.width, info.height, fps, info.duration)
    return infos


def read_video_ids(path: Path) -> dict[str, list[str]]:
    """``video_id.te.json``: instrument folder name -> list of YouTube ids (repeats kept)."""
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: not a readable JSON file ({err})") from err
    ok = isinstance(raw, dict) and all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in raw.values()
    )
    if not ok:
        raise InputError(f"{path}: expected an object mapping instrument -> list of video ids")
    return raw


def build_coco(
    files: list[FrameFile],
    labels: LabelSpace,
    infos: dict[str, VideoSize] | None = None,
    source: str = "",
) -> dict:
    """The COCO-style key-point dataset of ``annotations/FORMATS.md`` for ``files``.

    Args:
        files: released frame files (``scan_release``).
        labels: the label space; folder names resolve through names or YouTube-8M names.
        infos: sizes of downloaded videos; without an entry ``width``/``height``/``fps`` are null.
        source: where the files came from (recorded in ``info``).
    """
    infos = infos or {}
    folder_cat = {}
    for folder in sorted({f.folder for f in files}):
        try:
            folder_cat[folder] = labels.index(folder) + 1
        except KeyError as err:
            raise InputError(
                f"{folder}: instrument folder not in the label space ({err})"
            ) from None
    categories = [
        {
            "id": g + 1,
            "name": name,
            "supercategory": "instrument",
            "keypoints": ["contact"],
            "skeleton": [],
        }
        for g, name in enumerate(labels.names)
    ]
    videos, images, annotations = {}, [], []
    for f in sorted(files, key=lambda f: (folder_cat[f.folder], f.video_id, f.start, f.k)):
        cat = folder_cat[f.folder]
        info = infos.get(f.video_id)
        size = resized_shape(info.height, info.width)[::-1] if info else (None, None)
        # A video annotated for two instruments gets one entry per instrument (same id).
        videos.setdefault(
            (f.video_id, cat),
            {
                "id": f.video_id,
                "category_id": cat,
                "width": info.width if info else None,
                "height": info.height if info else None,
                "fps": info.fps if info else None,
            },
        )
        image_id = len(images) + 1
        images.append(
            {
                "id": image_id,
                "file_name": f"{f.video_id}@{f.timestamp:.3f}",
                "video_id": f.video_id,
                "frame_index": f.k,
                "timestamp": f.timestamp,
                "fragment_s": [f.start, f.end],
                "width": size[0],
                "height": size[1],
                "category_id": cat,
            }
        )
        for row, col in load_keypoints(f.path).tolist():
            x, y = col, row  # the release stores (row, col); COCO wants (x, y)
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": cat,
                    "keypoints": [x, y, 2],
                    "num_keypoints": 1,
                    "bbox": [x - 1, y - 1, 2, 2],
                    "area": 4,
                    "iscrowd": 0,
                }
            )
    return {
        "info": {
            "description": "YT8M-IPA playing-action key points (Liu, Yang & Jeng)",
            "source": source,
            "coordinates": "x = column, y = row, pixels of the frame resized to longer side 256",
            "analysis_period_s": ANALYSIS_PERIOD,
        },
        "categories": categories,
        "videos": list(videos.values()),
        "images": images,
        "annotations": annotations,
    }


def check_against_list(
    files: list[FrameFile], listed: dict[str, list[str]], summary: Summary
) -> None:
    """Report listed videos and frames that the release lacks (nothing is invented).

    The expected frames of a listed video are every (fragment, k) seen anywhere in the release.
    """
    grid = sorted({(f.start, f.end, f.k) for f in files})
    have = Counter((f.folder, f.video_id) for f in files)
    for folder, ids in sorted(listed.items()):
        expected = len(ids) * len(grid)
        found = sum(have[(folder, vid)] for vid in set(ids))
        summary.set(f"{folder}: frames listed / found", f"{expected} / {found}")
        for vid, n in Counter(ids).items():
            if n > 1:
                summary.note(
                    f"{folder}: {vid} is listed {n} times in the id list but is one video, so "
                    f"{(n - 1) * len(grid)} of the listed frames do not exist"
                )
            if have[(folder, vid)] == 0:
                summary.skip("listed video without annotations", f"{folder}/{vid}")
            elif have[(folder, vid)] < len(grid):
                summary.skip("listed video with missing frames", f"{folder}/{vid}")
        for vid in sorted({v for (fo, v) in have if fo == folder} - set(ids)):
            summary.note(f"{folder}/{vid} has annotations but is not in the id list")
    for folder in sorted({f.folder for f in files} - set(listed)):
        summary.note(f"instrument folder {folder} is not in the id list")
    shared = Counter(v for ids in listed.values() for v in set(ids))
    for vid, n in sorted(shared.items()):
        if n > 1:
            owners = [f for f, ids in listed.items() if vid in ids]
            summary.note(f"{vid} is a test video of {n} instruments ({', '.join(owners)})")


def convert(
    annotations: Path,
    out: Path,
    video_ids: Path | None = None,
    videos: Path | None = None,
    labels_path: Path | None = None,
) -> Summary:
    """Write ``out/annotations/keypoints_<split>.json`` (and ``out/index.csv`` with ``videos``)."""
    labels = load_labels(labels_path)
    split, files = scan_release(annotations)
    summary = Summary(f"YT8M-IPA ({annotations})")
    infos = None
    if videos is not None:
        infos = read_video_infos(videos, {f.video_id for f in files})
        for vid in sorted({f.video_id for f in files} - set(infos)):
            summary.skip("no downloaded video (size left null)", vid)
    coco = build_coco(files, labels, infos, source=str(annotations))
    json_path = Path(out) / "annotations" / f"keypoints_{split}.json"
    atomic_write_json(json_path, coco)

    per_cat = Counter(im["category_id"] for im in coco["images"])
    positives = {a["image_id"] for a in coco["annotations"]}
    summary.count("videos", len({v["id"] for v in coco["videos"]}))
    summary.count("(video, instrument) pairs", len(coco["videos"]))
    summary.count("frames", len(coco["images"]))
    summary.count("positive frames", len(positives))
    summary.count("negative frames", len(coco["images"]) - len(positives))
    summary.count("key points", len(coco["annotations"]))
    for g, name in enumerate(labels.names):
        summary.count(f"frames of {name}", per_cat.get(g + 1, 0))
    if video_ids is not None:
        check_against_list(files, read_video_ids(video_ids), summary)
    if infos:
        tags: dict[str, set[str]] = {}
        for v in coco["videos"]:
            tags.setdefault(v["id"], set()).add(labels.names[v["category_id"] - 1])
        rows = [
            {
                "video_id": vid,
                "split": split,
                "tags": ";".join(sorted(tags[vid])),
                "path": dataset_path(info.path, Path(out)),
                "duration_s": round(info.duration_s, 3),
            }
            for vid, info in sorted(infos.items())
        ]
        merge_index(Path(out) / "index.csv", rows, [split])
        summary.count(f"index.csv rows ({split})", len(rows))
    summary.note(f"wrote {json_path}")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m data_tools.yt8m_ipa",
        description="Convert the released YT8M-IPA .npy key points to COCO-style JSON.",
    )
    add = parser.add_argument
    add("--annotations", type=Path, required=True, help="the release's yt8m_ipa (or te) folder")
    add("--out", type=Path, required=True, help="dataset folder (annotations/keypoints_test.json)")
    add("--video-ids", type=Path, help="video_id.te.json: check the release against the list")
    add("--videos", type=Path, help="downloaded <id>.<ext> videos: sizes, fps, index.csv rows")
    add("--labels", type=Path, help="label-space YAML (default: the repository's)")
    args = parser.parse_args(argv)
    try:
        summary = convert(args.annotations, args.out, args.video_ids, args.videos, args.labels)
    except InputError as err:
        parser.exit(2, f"error: {err}\n")
    print(summary.render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
