"""``ipd picture``: the README's picture from an evaluation report."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "picture",
        help="one video's side-by-side heat maps from an evaluation report, as a small PNG",
        description="Copy the side-by-side figure (rows: action models; columns: frames) of one "
        "test video of an `ipd evaluate` / `ipd demo` report to a small PNG, e.g. "
        "`ipd picture demo/eval/report --out docs/demo-heatmaps.png`.",
    )
    p.add_argument("report", type=Path, help="the report folder (demo/eval/report)")
    p.add_argument("--out", type=Path, required=True, help="the PNG to write")
    p.add_argument("--video", default="", help="part of the video's name (default: the first)")
    p.add_argument("--width", type=int, default=960, help="width in pixels (960)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ipd.report.readme import readme_picture

    path = readme_picture(args.report, args.out, args.video, args.width)
    print(f"wrote {path}")
    return 0
