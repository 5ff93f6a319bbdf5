"""``ipd convert-cache``: a feature cache of per-frame zips (before the zarr store) converted into
stores that read the same values."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ipd.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "convert-cache",
        help="convert a feature cache of per-video zips into the zarr store",
        description="Write CACHE/<stream>-<hash>/<video_id>.zarr for every <video_id>.zip of a "
        "cache made by an earlier ipd (one zip per video and stream). The values read back are "
        "the same; zips whose store exists are skipped, so a stopped conversion resumes. "
        "Damaged zips are listed and left as they are.",
    )
    p.add_argument("cache", type=Path, help="the cache folder (as given to `ipd extract --cache`)")
    p.add_argument(
        "--delete-zips", action="store_true",
        help="remove each zip once its store is written (default: keep them)",
    )  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ipd.executors import progress_bar
    from ipd.features.convert import convert_cache, legacy_zips

    if not args.cache.is_dir():
        raise InputError(f"{args.cache}: no such cache folder")
    total = len(legacy_zips(args.cache))
    with progress_bar(sys.stderr.isatty(), total, "convert") as advance:
        report = convert_cache(args.cache, args.delete_zips, advance)
    print(
        f"{len(report.done)} zips converted, {len(report.skipped)} already had a store, "
        f"{len(report.failed)} failed"
    )
    for path, reason in report.failed:
        print(f"  skipped {path}: {reason}", file=sys.stderr)
    return 1 if report.failed else 0
