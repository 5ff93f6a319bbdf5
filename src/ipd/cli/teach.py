"""``ipd teach {sound,object} --checkpoint CKPT --dataset D --cache C --out DIR``."""

from __future__ import annotations

import argparse

from ipd.cli.options import add_executor_options, add_precision_option


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "teach",
        help="store a trained sound/object model's outputs for the action stage",
        description=(
            "Run a trained sound or object checkpoint over every video of a dataset's feature "
            "cache and store S (T x G) or O (T x G x h x w) per video, with the checkpoint "
            "identity, so the action stage reads them instead of recomputing. Reruns skip videos "
            "already written from the same checkpoint."
        ),
    )
    p.add_argument("kind", choices=("sound", "object", "action"))
    p.add_argument("--checkpoint", required=True, help="checkpoint written by `ipd train`")
    p.add_argument("--dataset", required=True, help="dataset folder with index.csv")
    p.add_argument("--cache", required=True, help="feature cache folder (`ipd extract`)")
    p.add_argument("--out", required=True, help="output folder (one .npz per video)")
    p.add_argument("--splits", default="train,val,test", help="comma-separated splits to run")
    p.add_argument("--labels", default=None, help="label-space YAML (default: annotations/)")
    add_precision_option(p)
    p.add_argument(
        "--workers", type=int, default=1,
        help="parallel processes, one network thread each (1: this process, all threads)",
    )  # fmt: skip
    add_executor_options(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ipd.cli.batch import report_skipped
    from ipd.cli.options import executor_of
    from ipd.precision import check_precision
    from ipd.staging.teach import teach

    report = teach(
        args.kind, args.checkpoint, args.dataset, args.cache, args.out,
        splits=[s for s in args.splits.split(",") if s], labels=args.labels,
        precision=check_precision(args.precision), progress=not args.no_progress,
        executor=executor_of(args, args.workers),
    )  # fmt: skip
    print(f"{args.kind} teacher: {len(report.written)} written, {len(report.skipped)} up to date")
    total = len(report.written) + len(report.skipped) + len(report.failed)
    report_skipped([err for _, err in report.failed], total, "video")
    return 1 if report.failed and not (report.written or report.skipped) else 0
