"""``ipd tag-eval``: chapter-3 clip-level and frame-level metrics of a tagger.

Writes ``OUT/tag_eval.json`` and ``OUT/tag_eval.md`` (tables) and, for a model with learned
Gaussian widths and a ``tag_counts.csv``, ``OUT/sigmas.png`` (Fig. 3.4). See docs/tagging.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ipd.files import write_text_atomic


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "tag-eval",
        help="clip/frame-level tagging metrics (chapter 3: AUC, MAP, frame P/R/F1)",
        description=(
            "Clip-level AUC and AP (per class, per clip) on a clip-tagged split, and frame-level "
            "precision/recall/F1 on a dataset with annotations/frame_labels.csv, with per-tag "
            "thresholds chosen on validation pseudo-clips (320 mel frames, K = 1000 candidates)."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--clip2frame-dir", type=Path, help="the released clip2frame folder")
    source.add_argument("--model", type=Path, help="a tagger file written by Clip2FrameTagger.save")
    source.add_argument("--checkpoint", type=Path, help="a SoundTagger checkpoint (clip2frame net)")
    parser.add_argument("--dataset", type=Path, help="clip-tagged dataset folder (index.csv)")
    parser.add_argument("--split", default="test", help="clip-level split of --dataset (test)")
    parser.add_argument(
        "--labels", type=Path, help="classes of --dataset (default: DATASET/labels.yaml if present)"
    )
    parser.add_argument(
        "--frames-dataset",
        type=Path,
        help="dataset with annotations/frame_labels.csv and val/test rows (default: --dataset "
        "when it has frame labels)",
    )
    parser.add_argument(
        "--frame-labels",
        type=Path,
        help="label space of the frame-label columns (default: annotations/instruments.yaml)",
    )
    parser.add_argument(
        "--val-list", type=Path, help="frame-dataset ids (one a line) used as validation tracks"
    )
    parser.add_argument("--tag-counts", type=Path, help="tag_counts.csv (default: DATASET's)")
    parser.add_argument(
        "--max-clips", type=int, help="evaluate only the first N clips (quick look)"
    )
    parser.add_argument("--out", type=Path, default=Path("tag_eval"), help="output folder")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    import torch

    with torch.no_grad():  # not torch.set_grad_enabled(False): that would outlive the command
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    import json

    from ipd.errors import InputError
    from ipd.tagging.evaluate import load_tagger, markdown

    tagger = load_tagger(args.clip2frame_dir, args.model, args.checkpoint)
    frames = args.frames_dataset
    if (
        frames is None
        and args.dataset
        and (args.dataset / "annotations/frame_labels.csv").is_file()
    ):
        frames = args.dataset
    if args.dataset is None and frames is None:
        raise InputError("ipd tag-eval: give --dataset and/or --frames-dataset")
    result: dict = {"model": tagger.name, "notes": []}
    if args.dataset is not None:
        result["clip_level"] = _clip_level(tagger, args, result["notes"])
    if frames is not None:
        result["frame_level"] = _frame_level(tagger, frames, args)
    args.out.mkdir(parents=True, exist_ok=True)
    _sigma_plot(tagger, args, result)
    write_text_atomic(args.out / "tag_eval.json", json.dumps(result, indent=1) + "\n")
    text = markdown(result)
    write_text_atomic(args.out / "tag_eval.md", text)
    print(text)
    print(f"wrote {args.out / 'tag_eval.json'}, {args.out / 'tag_eval.md'}")
    return 0


def _clip_level(tagger, args: argparse.Namespace, notes: list[str]) -> dict:
    import numpy as np

    from ipd.data.index import read_index
    from ipd.errors import InputError
    from ipd.labels import load_label_space
    from ipd.tagging.evaluate import ColumnMap, clip_level_result

    labels_path = args.labels
    if labels_path is None and (args.dataset / "labels.yaml").is_file():
        labels_path = args.dataset / "labels.yaml"
    space = load_label_space(labels_path)
    columns = ColumnMap.build(space, tagger.tags)
    if not columns.names:
        raise InputError(f"{labels_path}: none of its classes is a model output")
    if columns.missing:
        notes.append(f"classes without a model output (not evaluated): {list(columns.missing)}")
    entries = read_index(args.dataset, args.split)[: args.max_clips]
    if not entries:
        raise InputError(f"{args.dataset}: no {args.split} rows in index.csv")
    keep = [space.index(n) for n in columns.names]
    targets, scores = [], []
    for entry in entries:
        try:
            clip = tagger.tag_file(entry.path).clip
        except InputError as err:  # MagnaTagATune has a few empty mp3s: skip them, say so
            notes.append(f"skipped {entry.video_id}: {err}")
            continue
        targets.append(entry.tag_vector(space)[keep])
        scores.append(columns.apply(clip))
    out = clip_level_result(columns.names, np.stack(targets), np.stack(scores))
    return {"split": args.split, **out}


def _frame_level(tagger, frames: Path, args: argparse.Namespace) -> dict:
    from ipd.data.index import read_index
    from ipd.errors import InputError
    from ipd.labels import load_label_space
    from ipd.tagging.evaluate import (
        ColumnMap,
        frame_level_result,
        frame_tracks,
        pseudo_clip_frames,
        read_frame_labels,
    )

    labels = read_frame_labels(frames / "annotations" / "frame_labels.csv")
    classes = {c.lower() for _, names, _ in labels.values() for c in names}
    space = load_label_space(args.frame_labels)
    columns = ColumnMap.build(space, tagger.tags).only(classes)
    if not columns.names:
        raise InputError(f"{frames}: no frame-label column is covered by the model's outputs")
    entries = read_index(frames)
    if args.val_list is not None:
        ids = set(args.val_list.read_text().split())
        val = [e for e in entries if e.video_id in ids]
        test = [e for e in entries if e.video_id not in ids and e.split == "test"]
    else:
        val = [e for e in entries if e.split == "val"]
        test = [e for e in entries if e.split == "test"]
    score = tagger.tag_file
    first = next(iter(labels.values()))[0]
    out = frame_level_result(
        columns.names,
        frame_tracks(score, columns, val, labels),
        frame_tracks(score, columns, test, labels),
        pseudo_clip_frames(first),
        tagger.model.final_pool,
    )
    return {"dataset": str(frames), **out}


def _sigma_plot(tagger, args: argparse.Namespace, result: dict) -> None:
    import csv

    import numpy as np

    from ipd.tagging.evaluate import learned_sigmas
    from ipd.tagging.plots import plot_sigmas

    sigma = learned_sigmas(tagger)
    counts_path = args.tag_counts or (args.dataset / "tag_counts.csv" if args.dataset else None)
    if sigma is None or counts_path is None or not counts_path.is_file():
        return
    with counts_path.open(newline="") as handle:
        counts = {r["tag"]: int(r["train_clips"]) for r in csv.DictReader(handle)}
    pick = [i for i, t in enumerate(tagger.tags) if counts.get(t, 0) > 0]
    if not pick:
        return
    tags = [tagger.tags[i] for i in pick]
    path = plot_sigmas(
        sigma[pick], np.array([counts[t] for t in tags]), tags, args.out / "sigmas.png"
    )
    result["sigmas"] = {t: float(sigma[i]) for t, i in zip(tags, pick, strict=True)}
    result["notes"].append(f"learned sigma vs training count: {path}")
