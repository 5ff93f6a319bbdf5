"""MagnaTagATune: ``annotations_final.csv`` + the mp3 folders -> a clip-tagged dataset folder.

Input is the dataset's own ``annotations_final.csv``: TAB-separated (fields may be double-quoted),
header ``clip_id<TAB>tag1<TAB>...<TAB>tag188<TAB>mp3_path``, one row per 29-s clip with 0/1 per
tag and the clip's path relative to the audio folder, e.g.
``f/american_bach_soloists-j_s__bach_solo_cantatas-01-bwv54__i_aria-30-59.mp3``.

Split convention (Dieleman & Schrauwen 2014, Choi et al. 2016, followed by Liu & Yang 2016 and
dissertation §3.2.1): the audio is spread over 16 sub-folders named by one hex digit ``0``..``f``;
the first 12 (``0``..``b``) are training, the 13th (``c``) validation, the 14th-16th (``d``..``f``)
test.

Tags: the ``--top`` most frequent over all clips (50 by default, 188 = all; ties keep the file's
column order), or the tags of a ``--tags`` list file (one per line, e.g. the authors'
``tag_list.top50.txt``), in that order.

Outputs, in the dataset folder:
- ``index.csv`` (annotations/FORMATS.md): ``video_id`` = ``clip_id``, split, the clip's kept tags
  ``;``-joined, the mp3 path; clips whose mp3 is missing are skipped (counted in the summary);
- ``labels.yaml``: a label space with one class per kept tag in output order (``name`` and
  ``mtt_tags: [name]``), for ``--labels`` / ``data.labels`` in training and ``ipd tag-eval``;
- ``tag_counts.csv``: ``tag,train_clips,val_clips,test_clips`` (training counts for Fig. 3.4);
- ``summary.txt``: what was written and skipped (also printed).

Usage::

    python -m data_tools.magnatagatune --annotations annotations_final.csv --audio mp3 --out MTT
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import yaml

from data_tools.common import (
    Summary,
    atomic_write_text,
    dataset_path,
    merge_index,
    row_error,
    write_csv,
)
from ipd.errors import InputError

SPLIT_OF_FOLDER = {f"{d:x}": "train" for d in range(12)} | {"c": "val"}
SPLIT_OF_FOLDER |= {f: "test" for f in "def"}
SPLITS = ("train", "val", "test")
DEFAULT_TOP = 50


def read_annotations(path: str | Path) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """Parse ``annotations_final.csv``.

    Returns:
        ``(tags, clip_ids, mp3_paths, targets)`` with ``targets`` ``(clips, tags)`` uint8 0/1.

    Raises:
        InputError: missing file, bad header, or a malformed row (names the file and line).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader, None)
        if not header or header[0].strip() != "clip_id" or header[-1].strip() != "mp3_path":
            raise InputError(
                f"{path}: expected a TAB-separated header 'clip_id<TAB>...<TAB>mp3_path'"
            )
        tags = [t.strip() for t in header[1:-1]]
        check_tags(path, tags)
        ids, mp3s, rows, seen = [], [], [], set()
        for fields in reader:
            row = reader.line_num
            if not "".join(fields).strip():
                continue
            if len(fields) != len(header):
                raise row_error(path, row, f"{len(fields)} fields, the header has {len(header)}")
            clip_id, mp3 = fields[0].strip(), fields[-1].strip()
            if not clip_id or clip_id in seen:
                raise row_error(path, row, f"empty or repeated clip_id {clip_id!r}")
            values = [v.strip() for v in fields[1:-1]]
            bad = next((t for t, v in zip(tags, values, strict=True) if v not in ("0", "1")), None)
            if bad is not None:
                raise row_error(path, row, f"tag {bad!r} is not 0 or 1")
            if mp3 and mp3.split("/")[0].lower() not in SPLIT_OF_FOLDER:
                raise row_error(path, row, f"mp3_path {mp3!r} is not in a folder 0..f")
            seen.add(clip_id)
            ids.append(clip_id)
            mp3s.append(mp3)
            rows.append([v == "1" for v in values])
    targets = np.asarray(rows, dtype=np.uint8).reshape(len(rows), len(tags))
    return tags, ids, mp3s, targets


def check_tags(path: Path, tags: list[str]) -> None:
    """Tags must be non-empty, unique and free of ``;`` (the index.csv tag separator)."""
    for tag in tags:
        if not tag or ";" in tag:
            raise InputError(f"{path}: tag {tag!r} is empty or contains ';' (index.csv separator)")
    repeated = sorted({t for t in tags if tags.count(t) > 1})
    if repeated:
        raise InputError(f"{path}: repeated tags {repeated}")


def read_tag_list(path: str | Path) -> list[str]:
    """Tags one per line (blank lines skipped), e.g. ``tag_list.top50.txt``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: tag list not found")
    tags = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not tags:
        raise InputError(f"{path}: empty tag list")
    check_tags(path, tags)
    return tags


def choose_tags(
    tags: list[str], targets: np.ndarray, top: int | None, wanted: list[str] | None
) -> list[int]:
    """Column indices of the kept tags, in output order (see the module docstring)."""
    if wanted is not None:
        missing = [t for t in wanted if t not in tags]
        if missing:
            raise InputError(f"tags {missing} are not columns of annotations_final.csv")
        return [tags.index(t) for t in wanted]
    if top is None or not 1 <= top <= len(tags):
        raise InputError(f"--top must be between 1 and {len(tags)}, got {top}")
    counts = targets.sum(axis=0)
    return [int(j) for j in np.argsort(-counts, kind="stable")[:top]]


def split_of(mp3_path: str) -> str:
    """``train`` / ``val`` / ``test`` from the hex sub-folder of an mp3 path."""
    return SPLIT_OF_FOLDER[mp3_path.split("/")[0].lower()]


def convert(
    annotations: str | Path,
    audio: str | Path,
    out: str | Path,
    top: int | None = DEFAULT_TOP,
    tag_list: str | Path | None = None,
) -> Summary:
    """Write ``index.csv``, ``labels.yaml``, ``tag_counts.csv`` and ``summary.txt`` into ``out``."""
    annotations, audio, out = Path(annotations), Path(audio), Path(out)
    if not audio.is_dir():
        raise InputError(f"{audio}: not a directory")
    tags, ids, mp3s, targets = read_annotations(annotations)
    wanted = read_tag_list(tag_list) if tag_list is not None else None
    keep = choose_tags(tags, targets, top, wanted)
    kept_tags = [tags[j] for j in keep]
    summary = Summary(f"MagnaTagATune -> {out}")
    summary.set("clips in annotations", len(ids))
    summary.set("tags kept", len(kept_tags))
    rows, counts = [], {s: np.zeros(len(keep), dtype=np.int64) for s in SPLITS}
    for clip_id, mp3, target in zip(ids, mp3s, targets[:, keep], strict=True):
        if not mp3:
            summary.skip("no mp3_path", clip_id)
            continue
        path = audio / mp3
        if not path.is_file():
            summary.skip("mp3 not found", clip_id)
            continue
        split = split_of(mp3)
        counts[split] += target
        summary.count(f"{split} clips")
        if not target.any():
            summary.count(f"{split} clips without a kept tag")
        clip_tags = ";".join(t for t, on in zip(kept_tags, target, strict=True) if on)
        rows.append(
            {
                "video_id": clip_id,
                "split": split,
                "tags": clip_tags,
                "path": dataset_path(path, out),
                "duration_s": "",
            }
        )
    if not rows:
        raise InputError(f"{audio}: none of the mp3 files of {annotations} was found")
    out.mkdir(parents=True, exist_ok=True)
    merge_index(out / "index.csv", rows, SPLITS)
    space = {"instruments": [{"name": t, "mtt_tags": [t]} for t in kept_tags]}
    header = f"# MagnaTagATune tags from {annotations.name}, in output order\n"
    atomic_write_text(out / "labels.yaml", header + yaml.safe_dump(space, sort_keys=False))
    write_csv(
        out / "tag_counts.csv",
        ("tag", "train_clips", "val_clips", "test_clips"),
        ([t, *(int(counts[s][i]) for s in SPLITS)] for i, t in enumerate(kept_tags)),
    )
    summary.note(f"wrote index.csv ({len(rows)} rows), labels.yaml, tag_counts.csv")
    summary.note("split by mp3 folder: 0-b train, c val, d-f test")
    atomic_write_text(out / "summary.txt", summary.render() + "\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m data_tools.magnatagatune",
        description=(
            "MagnaTagATune annotations_final.csv + mp3 folders -> index.csv (folders 0-b train, "
            "c val, d-f test), labels.yaml, tag_counts.csv."
        ),
    )
    parser.add_argument("--annotations", type=Path, required=True, help="annotations_final.csv")
    parser.add_argument("--audio", type=Path, required=True, help="folder holding 0/ ... f/")
    parser.add_argument("--out", type=Path, required=True, help="dataset folder")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument(
        "--top", type=int, default=DEFAULT_TOP, help="keep the N most frequent tags (50; 188 = all)"
    )
    choice.add_argument("--tags", type=Path, help="tag list file, one per line (overrides --top)")
    args = parser.parse_args(argv)
    try:
        summary = convert(args.annotations, args.audio, args.out, args.top, args.tags)
    except InputError as err:
        parser.exit(2, f"error: {err}\n")
    print(summary.render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
