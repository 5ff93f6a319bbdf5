"""``ipd detect VIDEO... --out DIR``: which instrument is played, when and where, in any video.

Runs the action model (and the object and sound models when given) on each video, fuses their
outputs and writes, per video, ``DIR/<video_id>/``: ``scores.csv`` and ``scores.json`` (per
analysis frame, every 0.512 s: fused, A, O, S scores and the peak location in the 256-px frame and
in video pixels), ``predictions/{action,object,sound,fused}.npz``, ``overlay.mp4`` (heat map of
the top or the chosen instrument) and ``index.html``. Models: our checkpoints (``ipd train``) or
the authors' released state dicts (``--original-*`` with ``--scalers``); see docs/detect.md.

Exit status: a single video that fails prints one line and exits 2; with several videos a bad one
is skipped and listed, and the exit status is 0 when at least one video was processed, else 1.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ipd.cli.options import add_executor_options, add_precision_option


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "detect",
        help="detect instrument-playing actions in videos (scores, peaks, overlay, report)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("videos", nargs="+", type=Path, metavar="VIDEO")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    models = p.add_argument_group("models (ours: ipd train checkpoints; or the authors' weights)")
    models.add_argument("--action", type=Path, metavar="CKPT", help="action checkpoint")
    models.add_argument("--object", type=Path, metavar="CKPT", help="object checkpoint")
    models.add_argument("--sound", type=Path, metavar="CKPT", help="sound checkpoint")
    models.add_argument("--original-action", type=Path, metavar="PTH", help="authors' action Net")
    models.add_argument("--original-object", type=Path, metavar="PTH", help="authors' object Net")
    models.add_argument("--original-sound", type=Path, metavar="PTH", help="authors' sound Net")
    models.add_argument(
        "--scalers", type=Path, metavar="DIR",
        help="the authors' scalers folder (logmel_win*_{mean,std}.npy, mean_image.RGB.npy)",
    )  # fmt: skip
    models.add_argument("--labels", type=Path, help="label-space YAML (default: annotations/)")
    p.add_argument(
        "--fusion", default="auto", choices=("A", "AxO", "AxS", "AxOxS", "auto"),
        help="product of model outputs to report (auto: every model given; S only with audio)",
    )  # fmt: skip
    p.add_argument("--size", type=int, help="longer frame side, px (default: the action model's)")
    p.add_argument("--flow", choices=("farneback", "dis", "tvl1"), help="flow algorithm")
    p.add_argument(
        "--cache", type=Path, metavar="DIR",
        help="also store the features in this cache (for ipd teach/evaluate; default: not stored)",
    )  # fmt: skip
    add_precision_option(p)
    p.add_argument("--threshold", type=float, default=0.5, help="playing if fused score >= (0.5)")
    p.add_argument("--instrument", help="instrument shown in the overlay (default: the top one)")
    p.add_argument("--overlay-size", type=int, default=480, help="overlay longer side, px (480)")
    p.add_argument("--overlay-fps", type=float, default=30.0, help="overlay max frame rate (30)")
    p.add_argument("--no-video", action="store_true", help="skip the overlay video")
    p.add_argument("--no-report", action="store_true", help="skip the HTML page")
    p.add_argument(
        "--workers", type=int, default=1,
        help="videos at once, in processes of one thread each (1: one by one in this process)",
    )  # fmt: skip
    add_executor_options(p)
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    import sys

    from ipd.cli.batch import report_skipped
    from ipd.cli.options import executor_of
    from ipd.detect.batch import detect_many, detector_once
    from ipd.detect.run import DetectOptions, check_fusion
    from ipd.errors import InputError
    from ipd.features.batch import unique_video_ids
    from ipd.precision import check_precision, kernel_path

    precision = check_precision(args.precision)
    executor = executor_of(args, args.workers)
    models = dict(
        action=args.action, object=args.object, sound=args.sound,
        original_action=args.original_action, original_object=args.original_object,
        original_sound=args.original_sound, scalers=args.scalers, labels=args.labels,
        size=args.size, flow=args.flow,
    )  # fmt: skip
    detector = detector_once(models)  # worker processes load their own copy from the files
    check_fusion(args.fusion, detector)
    if args.instrument is not None:
        try:  # the label's own name (YouTube-8M names such as "Drummer" are accepted too)
            args.instrument = detector.names[detector.labels.index(args.instrument)]
        except KeyError as err:
            raise InputError(f"--instrument {args.instrument}: {err.args[0]}") from err
    options = DetectOptions(
        out=args.out, cache=args.cache, fusion=args.fusion, threshold=args.threshold,
        instrument=args.instrument, video=not args.no_video, report=not args.no_report,
        overlay_size=args.overlay_size, overlay_fps=args.overlay_fps, precision=precision,
    )  # fmt: skip
    for note in detector.notes:
        print(f"note: {note}")
    if precision != "32":
        print(f"note: networks in {kernel_path(precision)}")
    items = unique_video_ids(args.videos)

    failed = []  # each skipped video is printed as it happens and once in the closing list
    for done in detect_many(items, models, options, executor):
        if done.error is None:
            print("\n".join(done.lines), flush=True)
        elif len(items) == 1:
            raise InputError(done.error)  # one video: one line, exit 2 (ipd.cli.main)
        else:
            failed.append(done.error)
            print(f"skipped: {done.error}", file=sys.stderr)
    report_skipped(failed, len(items))
    return 0 if len(failed) < len(items) else 1
