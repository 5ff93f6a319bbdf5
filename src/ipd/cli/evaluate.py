"""``ipd evaluate``: every trained model on a test split -> metrics.json, tables, report."""

from __future__ import annotations

import argparse

from ipd.cli.options import add_executor_options, add_precision_option


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="evaluate trained models on a test split (metrics.json, tables, report)",
        description=(
            "Run the sound, object and action checkpoints over a dataset split (features are "
            "extracted when missing), fuse them (A, AxO, AxS, AxOxS), and evaluate against the "
            "split's key points: temporal AUC and spatial distance per instrument (Tables "
            "4.8-4.10, 4.12-4.13) with the Center / Sound / Object / SxO baselines, the sound "
            "model's frame AUC (4.6) and the object hit rate (4.7). Writes metrics.json, tables.md "
            "+ CSVs, claims.json and report/index.html under --out."
        ),
    )
    p.add_argument("--dataset", required=True, help="dataset folder (index.csv + annotations/)")
    p.add_argument("--runs", help="folder of run folders: sound/, object/, action_*/ (ipd demo)")
    p.add_argument("--sound", help="sound checkpoint")
    p.add_argument("--object", help="object checkpoint")
    p.add_argument("--action", action="append", default=[], help="action checkpoint (repeat)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--cache", help="feature cache (default: OUT/cache)")
    p.add_argument("--split", default="test", help="split with key points (default test)")
    p.add_argument("--labels", default=None, help="label-space YAML (default: annotations/)")
    p.add_argument(
        "--boxes",
        help="object hit rate (Table 4.7) on this VOC folder of images with "
        "boxes (Annotations/ + JPEGImages/; `ipd synth --object-boxes`) instead of the "
        "dataset's annotations/boxes, which are then scored too (hit_rate_frames.json)",
    )
    p.add_argument(
        "--corners",
        action="store_true",
        help="stretch each map over the frame corner to corner (align_corners=True), as the "
        "authors' scripts did, instead of placing each cell where the network looks (default); "
        "spatial distances and hit rates then measure that convention's offsets too",
    )
    p.add_argument(
        "--workers", type=int, default=2,
        help="feature-extraction processes (2); with --executor ray the predictions run as Ray "
        "tasks too",
    )  # fmt: skip
    add_executor_options(p)
    p.add_argument("--no-report", action="store_true", help="skip the HTML report")
    add_precision_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ipd.cli.options import executor_of
    from ipd.errors import InputError
    from ipd.precision import check_precision
    from ipd.staging.evaluate import Models, evaluate_split

    precision = check_precision(args.precision)
    executor = executor_of(args, args.workers) if args.executor == "ray" else None

    models = Models.from_runs(args.runs) if args.runs else Models()
    if args.sound:
        models.sound = Path(args.sound)
    if args.object:
        models.object = Path(args.object)
    for path in args.action:
        models.add_action(path)
    if models.sound is None and models.object is None and not models.actions:
        raise InputError("ipd evaluate: give --runs or at least one checkpoint")
    result = evaluate_split(
        models, args.dataset, args.out, cache=args.cache, split=args.split,
        labels=args.labels, workers=args.workers, boxes=args.boxes, corners=args.corners,
        precision=precision, executor=executor,
    )  # fmt: skip
    out = Path(args.out)
    print((out / "tables.md").read_text())
    for claim, holds, detail in result["claims"]:
        mark = {True: "holds", False: "FAILS", None: "n/a"}[holds]
        print(f"[{mark}] {claim}: {detail}")
    if not args.no_report:
        from ipd.staging.report import write_evaluation_report

        print(f"report: {write_evaluation_report(args.dataset, out, result, args.labels)}")
    print(f"metrics: {out / 'metrics.json'}")
    return 0
