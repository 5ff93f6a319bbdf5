"""The dataset index (``index.csv``, annotations/FORMATS.md): videos, their split and tags."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ipd.errors import InputError
from ipd.labels import LabelSpace

SPLITS = ("train", "val", "test")
COLUMNS = ("video_id", "split", "tags", "path")


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
            if not row["video_id"]:
                raise InputError(f"{path}:{line}: empty video_id")
            duration = row.get("duration_s") or None
            entries.append(
                VideoEntry(
                    video_id=row["video_id"],
                    split=row["split"],
                    tags=tuple(t.strip() for t in row["tags"].split(";") if t.strip()),
                    path=(root / row["path"]).resolve(),
                    duration_s=float(duration) if duration else None,
                )
            )
    if split is not None:
        entries = [e for e in entries if e.split == split]
    return entries
