"""YouTube-8M instrument subset: downloaded videos + fold lists + labels -> ``index.csv``.

Inputs (see ``docs/real-data.md``):
- a folder of downloaded videos named ``<youtube_id>.<ext>`` (``python -m data_tools.download``);
- ``tag_list.instrument.csv``: ``name,yt8m_label_index,video_count`` rows (the authors' file);
- the fold lists ``fold.tr.txt`` / ``fold.va.txt``: one YouTube id per line;
- a CSV ``video_id,labels`` with the video-level YouTube-8M label indices of each video, separated
  by spaces or ``;`` (YouTube-8M ships them as the ``labels`` feature of its video-level
  TFRecords, next to an ``id`` that maps to the YouTube id; see the docs).

Output, in the dataset folder: ``index.csv`` (``annotations/FORMATS.md``; splits ``train``/``val``,
tags = the label-space names of the instrument labels) and ``subclips.csv``, the training window
of §4.2.4: the first 60 s of each video cut into 12 consecutive 5-s sub-clips (10 analysis frames
each); a video shorter than 60 s keeps the sub-clips that fit.

Usage::

    python -m data_tools.yt8m_index --videos DIR --tag-list tag_list.instrument.csv \\
        --train fold.tr.txt --val fold.va.txt --video-labels labels.csv --out DATASET
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from data_tools.common import (
    VIDEO_SUFFIXES,
    Summary,
    dataset_path,
    find_files,
    iter_csv,
    load_labels,
    merge_index,
    probe_duration,
    read_id_list,
    row_error,
    write_csv,
)
from ipd.errors import InputError
from ipd.labels import LabelSpace

WINDOW_S = 60.0  # training uses the first minute of each video (§4.2.4)
SUBCLIP_S = 5.0  # ... as 12 consecutive 5-s sub-clips of 10 analysis frames
SUBCLIP_COLUMNS = ("video_id", "split", "subclip", "start_s", "end_s")


def read_tag_list(path: Path, labels: LabelSpace, summary: Summary | None = None) -> dict[int, str]:
    """``tag_list.instrument.csv`` -> YouTube-8M label index -> label-space name.

    The file is the authority for the indices (they must match the labels CSV, i.e. one
    YouTube-8M vocabulary version); an index that differs from the label space's ``yt8m_label``
    (the authors' vocabulary) is reported in ``summary``, not an error.

    Raises:
        InputError: a malformed row or a name outside the label space.
    """
    mapping: dict[int, str] = {}
    for row, fields in iter_csv(path):
        if len(fields) < 2:
            raise row_error(path, row, "expected 'name,label_index[,video_count]'")
        if not fields[1].isdigit():
            if row == 1:
                continue  # a header line
            raise row_error(path, row, f"label index {fields[1]!r} is not an integer")
        try:
            inst = labels[fields[0]]
        except KeyError:
            raise row_error(path, row, f"{fields[0]!r} is not in the label space") from None
        if inst.yt8m_label >= 0 and inst.yt8m_label != int(fields[1]) and summary is not None:
            summary.note(
                f"{path.name} gives {fields[0]} index {fields[1]}, {labels.source} says "
                f"{inst.yt8m_label}: make sure the labels CSV uses {path.name}'s vocabulary"
            )
        mapping[int(fields[1])] = inst.name
    if not mapping:
        raise InputError(f"{path}: no instrument rows")
    return mapping


def read_video_labels(path: Path) -> dict[str, list[int]]:
    """``video_id,labels`` rows -> YouTube-8M label indices per video (header line optional)."""
    out: dict[str, list[int]] = {}
    for row, fields in iter_csv(path):
        if len(fields) != 2 or not fields[0]:
            raise row_error(path, row, "expected 'video_id,labels' (labels separated by spaces)")
        tokens = [t for t in re.split(r"[\s;|]+", fields[1]) if t]
        if not all(t.isdigit() for t in tokens):
            if row == 1:
                continue  # a header line
            raise row_error(path, row, f"labels {fields[1]!r} are not YouTube-8M label indices")
        values = sorted({int(t) for t in tokens})
        if fields[0] in out and out[fields[0]] != values:
            raise row_error(path, row, f"{fields[0]} appears again with other labels")
        out[fields[0]] = values
    return out


def subclips(duration_s: float | None) -> list[tuple[float, float]]:
    """``(start, end)`` of the 5-s training sub-clips inside the first 60 s (all 12 if unknown)."""
    limit = WINDOW_S if duration_s is None else min(duration_s, WINDOW_S)
    n = int(limit // SUBCLIP_S + 1e-9)
    return [(i * SUBCLIP_S, (i + 1) * SUBCLIP_S) for i in range(n)]


def build_index(
    videos: Path,
    tag_list: Path,
    folds: dict[str, Path],
    video_labels: Path,
    out: Path,
    labels_path: Path | None = None,
    probe: bool = True,
) -> Summary:
    """Write ``out/index.csv`` (splits of ``folds``) and ``out/subclips.csv``.

    Args:
        videos: folder of ``<youtube_id>.<ext>`` files (searched recursively).
        tag_list: the instrument label mapping.
        folds: split name -> fold list (``{"train": fold.tr.txt, "val": fold.va.txt}``).
        video_labels: ``video_id,labels`` CSV with YouTube-8M label indices.
        out: the dataset folder.
        labels_path: label-space YAML (default: the repository's).
        probe: read each video's duration (PyAV, header only); off: ``duration_s`` left empty.
    """
    labels = load_labels(labels_path)
    summary = Summary(f"YouTube-8M instrument index ({videos})")
    names = read_tag_list(tag_list, labels, summary)
    video_tags = read_video_labels(video_labels)
    files = find_files(videos, VIDEO_SUFFIXES)
    rows, clips, seen = [], [], {}
    for split, fold in folds.items():
        ids = read_id_list(fold)
        summary.count(f"{split}: ids in {fold.name}", len(ids))
        for vid in ids:
            if vid in seen:
                summary.skip(f"listed again (first in {seen[vid]})", vid)
                continue
            seen[vid] = split
            if vid not in files:
                summary.skip("no downloaded video", vid)
                continue
            if vid not in video_tags:
                summary.skip("no row in the labels CSV", vid)
                continue
            duration = None
            if probe:
                try:
                    duration = probe_duration(files[vid])
                except InputError:
                    summary.skip("unreadable video", vid)
                    continue
            windows = subclips(duration)
            if not windows:
                summary.skip("shorter than one 5-s sub-clip", vid)
                continue
            tags = sorted({names[i] for i in video_tags[vid] if i in names}, key=labels.index)
            if not tags:
                summary.count(f"{split}: videos without an instrument label")
            rows.append(
                {
                    "video_id": vid,
                    "split": split,
                    "tags": ";".join(tags),
                    "path": dataset_path(files[vid], out),
                    "duration_s": "" if duration is None else round(duration, 3),
                }
            )
            clips += [(vid, split, i, s, e) for i, (s, e) in enumerate(windows)]
            summary.count(f"{split}: videos indexed")
            for tag in tags:
                summary.count(f"{split}: videos tagged {tag}")
    summary.count("videos in the folder not in any fold list", len(set(files) - set(seen)))
    kept = merge_index(out / "index.csv", rows, folds)
    write_csv(out / "subclips.csv", SUBCLIP_COLUMNS, clips)
    summary.count("training sub-clips (5 s, first 60 s)", len(clips))
    summary.note(f"wrote {out / 'index.csv'} ({len(rows)} rows; kept {kept} of other splits)")
    summary.note(f"wrote {out / 'subclips.csv'}")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m data_tools.yt8m_index",
        description="Build the YouTube-8M instrument training/validation index.csv.",
    )
    parser.add_argument("--videos", type=Path, required=True, help="folder of <id>.<ext> videos")
    parser.add_argument("--tag-list", type=Path, required=True, help="tag_list.instrument.csv")
    parser.add_argument("--train", type=Path, help="training fold list (fold.tr.txt)")
    parser.add_argument("--val", type=Path, help="validation fold list (fold.va.txt)")
    parser.add_argument(
        "--video-labels",
        type=Path,
        required=True,
        help="CSV 'video_id,labels' with space-separated YouTube-8M label indices",
    )
    parser.add_argument("--out", type=Path, required=True, help="dataset folder")
    parser.add_argument("--labels", type=Path, help="label-space YAML (default: the repository's)")
    parser.add_argument("--no-probe", action="store_true", help="do not read video durations")
    args = parser.parse_args(argv)
    folds = {s: p for s, p in (("train", args.train), ("val", args.val)) if p is not None}
    if not folds:
        parser.error("give --train and/or --val")
    try:
        summary = build_index(
            args.videos,
            args.tag_list,
            folds,
            args.video_labels,
            args.out,
            args.labels,
            probe=not args.no_probe,
        )
    except InputError as err:
        parser.exit(2, f"error: {err}\n")
    print(summary.render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
