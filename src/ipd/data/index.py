"""The dataset index (``index.csv``, annotations/FORMATS.md): videos, their split and tags."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ipd.errors import InputError
from ipd.labels import LabelSpace

SPLITS = ("train", "val", "test")
COLUMNS = ("video_id", "split", "tags", "path")
# A video id names files (features, teachers, predictions): no folders, no hidden names.
SAFE_ID = re.compile(r"[\w+-][\w.+-]*")


@dataclass(frozen=True)
class VideoEntry:
    """One row of ``index.csv``; ``path`` is resolved against the dataset folder."""

    video_id: str
    split: str
    tags: tuple[str, ...]
    path: Path
    duration_s: float | None = None

    def tag_vector(self, labels: LabelSpace) -> np.ndarray:
        """Multi-hot video tags ``(G,)`` float32 in label-space order."""
        vec = np.zeros(len(labels), dtype=np.float32)
        for tag in self.tags:
            vec[labels.index(tag)] = 1.0
        return vec


def _video_path(root: Path, text: str) -> Path | None:
    """A row's video path: absolute as given, or relative to (and inside) the dataset folder;
    None for a relative path that climbs out of it (``../``)."""
    given = Path(text)
    if given.is_absolute():
        return given.resolve()
    video = (root / given).resolve()
    return video if video.is_relative_to(root.resolve()) else None


def read_index(dataset: str | Path, split: str | None = None) -> list[VideoEntry]:
    """Rows of ``dataset/index.csv`` (all splits, or one).

    Raises:
        InputError: missing file or column, unknown split, or a malformed row (names file and row).
    """
    dataset = Path(dataset)
    path = dataset / "index.csv" if dataset.is_dir() else dataset
    root = path.parent
    if not path.is_file():
        raise InputError(f"{path}: dataset index not found")
    if split is not None and split not in SPLITS:
        raise InputError(f"{path}: unknown split {split!r} (choose from {', '.join(SPLITS)})")
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InputError(f"{path}: missing column(s) {', '.join(missing)}")
        entries = []
        for line, row in enumerate(reader, start=2):
            if row["split"] not in SPLITS:
                raise InputError(f"{path}:{line}: unknown split {row['split']!r}")
            if not SAFE_ID.fullmatch(row["video_id"]):
                raise InputError(
                    f"{path}:{line}: video_id {row['video_id']!r} cannot be a file name "
                    f"(letters, digits, _ . + - only, not starting with a dot)"
                )
            video = _video_path(root, row["path"])
            if video is None:
                raise InputError(f"{path}:{line}: path {row['path']!r} leaves the dataset folder")
            duration = row.get("duration_s") or None
            entries.append(
                VideoEntry(
                    video_id=row["video_id"],
                    split=row["split"],
                    tags=tuple(t.strip() for t in row["tags"].split(";") if t.strip()),
                    path=video,
                    duration_s=float(duration) if duration else None,
                )
            )
    if split is not None:
        entries = [e for e in entries if e.split == split]
    return entries
