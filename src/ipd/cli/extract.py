"""``ipd extract``: audio log-mel, RGB frames and flow stacks of videos into the feature cache.

Inputs are a dataset folder (its ``index.csv``, optionally one ``--split``) or video files
(id = file name without suffix; two files with one name get a path hash added). Exit status: a
single video file that fails exits 2 with one line naming the file and the problem; a batch
skips bad videos, lists them at the end, and exits 0 when at least one video has its features
(1 when none has), so one broken download does not stop a pipeline.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ipd.cli.options import add_executor_options


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "extract",
        help="extract audio/RGB/flow features of videos into a cache",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="+", type=Path, help="a dataset folder or video files")
    parser.add_argument(
        "--cache",
        required=True,
        help="feature store: a folder or an fsspec URL (s3://bucket/cache)",
    )
    parser.add_argument("--split", help="only videos of this split (dataset folder input)")
    parser.add_argument(
        "--streams", default="audio,rgb,flow", help="comma-separated: audio,rgb,flow (default all)"
    )
    parser.add_argument("--size", type=int, default=256, help="longer frame side, px (256)")
    parser.add_argument(
        "--windows", default="512,2048,8192", help="log-mel STFT windows, samples (512,2048,8192)"
    )
    parser.add_argument(
        "--flow", default="farneback", choices=("farneback", "dis", "tvl1"), help="flow algorithm"
    )
    parser.add_argument("--workers", type=int, default=1, help="parallel processes (1)")
    add_executor_options(parser)
    parser.add_argument("--force", action="store_true", help="re-extract even cached videos")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)
    return parser


def collect_items(inputs: list[Path], split: str | None = None) -> list[tuple[str, Path]]:
    """``(video_id, path)`` pairs from dataset folders (``index.csv``) and video files (ids from
    the file names, made unique as ``ipd detect`` makes them)."""
    import csv

    from ipd.errors import InputError
    from ipd.features.batch import unique_video_ids

    items, files = [], []
    for inp in inputs:
        if inp.is_dir():
            index = inp / "index.csv"
            if not index.is_file():
                raise InputError(
                    f"{inp}: a dataset folder needs an index.csv (annotations/FORMATS.md)"
                )
            with open(index, newline="") as f:
                rows = list(csv.DictReader(f))
            missing = {"video_id", "path"} - set(rows[0] if rows else {"video_id", "path"})
            if missing:
                raise InputError(f"{index}: missing column(s) {', '.join(sorted(missing))}")
            for row in rows:
                if split is None or row.get("split") == split:
                    items.append((row["video_id"], inp / row["path"]))
        else:
            files.append(inp)  # a missing file is reported by the extractor
    return items + unique_video_ids(files, taken=(vid for vid, _ in items))


def run(args: argparse.Namespace) -> int:
    from ipd.cli.batch import report_skipped
    from ipd.cli.options import executor_of
    from ipd.errors import InputError
    from ipd.features.batch import extract_many
    from ipd.features.extract import extract_video
    from ipd.features.params import STREAMS, ExtractParams

    streams = tuple(s.strip() for s in args.streams.split(",") if s.strip())
    unknown = [s for s in streams if s not in STREAMS]
    if unknown or not streams:
        raise InputError(f"--streams {args.streams}: choose from {','.join(STREAMS)}")
    try:
        windows = tuple(int(w) for w in args.windows.split(","))
        params = ExtractParams(windows=windows, size=args.size, flow=args.flow)
    except ValueError as err:
        raise InputError(f"bad extraction parameters: {err}") from err
    executor = executor_of(args, args.workers)
    items = collect_items(args.inputs, args.split)
    if not items:
        raise InputError(f"{args.inputs[0]}: no videos to extract (split {args.split!r})")

    single = len(args.inputs) == 1 and not args.inputs[0].is_dir()
    if single:  # one video: errors propagate (one line, exit 2 from ipd.cli.main)
        video_id, path = items[0]
        result = extract_video(path, video_id, args.cache, params, streams, args.force)
        for note in result["notes"]:
            print(f"note: {note}", file=sys.stderr)
        done = ", ".join(result["written"]) or "nothing (all cached)"
        print(f"{video_id}: extracted {done} -> {args.cache}")
        return 0

    report = extract_many(
        items,
        args.cache,
        params,
        args.workers,
        streams,
        args.force,
        not args.no_progress,
        executor,
    )
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    print(
        f"extracted {len(report.done)}, already cached {len(report.cached)}, "
        f"failed {len(report.failed)} of {len(items)} videos in {report.seconds:.1f} s"
        f" -> {args.cache}"
    )
    report_skipped([message for _, message in report.failed], len(items), "video")
    return 0 if report.ok else 1
