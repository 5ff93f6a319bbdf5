"""``ipd demo``: the main job — the whole chain on the SynthIPA demo set, with a report."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="run the whole chain on synthetic data and write the report (the main job)",
        description=(
            "Synthesise the SynthIPA demo set, extract features, pretrain the object model's "
            "Conv1-5 on an ImageNet stand-in (instrument crops), train the sound and object "
            "models, store their outputs as teachers, train the VT, ST, OT and SOT action models, "
            "fuse, evaluate on the test split and write the report. Resumable: rerun the same "
            "command after an interruption. Training settings: configs/demo/*.yaml."
        ),
    )
    p.add_argument("--out", default="demo", help="demo folder (default: ./demo)")
    p.add_argument("--workers", type=int, default=2, help="parallel processes for data stages")
    p.add_argument(
        "--size", type=int, default=None,
        help="one frame size for every stage (default: each config's data.size)",
    )  # fmt: skip
    p.add_argument(
        "--synth", default="--preset demo --seed 0",
        help="arguments for `ipd synth` (default: '--preset demo --seed 0')",
    )  # fmt: skip
    p.add_argument(
        "--object-crops", type=int, default=300, metavar="N",
        help="ImageNet stand-in images per instrument for pretraining (default: 300)",
    )  # fmt: skip
    p.add_argument(
        "--object-boxes", type=int, default=50, metavar="N",
        help="held-out boxed instrument images per instrument for the object hit rate "
        "(Table 4.7; default: 50)",
    )  # fmt: skip
    p.add_argument(
        "--train", default="",
        help="extra LightningCLI arguments for every training stage, e.g. '--trainer.max_epochs=2'"
        " (--data.* ones go to the video stages only: pretraining reads images)",
    )  # fmt: skip
    p.add_argument("--no-report", action="store_true", help="skip the HTML report")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import shlex
    from pathlib import Path

    from ipd.cli.synth import world_config
    from ipd.staging.chain import Runs, World
    from ipd.staging.demo import run_demo

    result = run_demo(
        args.out, world_config(shlex.split(args.synth)), train_overrides=shlex.split(args.train),
        workers=args.workers, size=args.size, object_crops=args.object_crops,
        object_boxes=args.object_boxes,
    )  # fmt: skip
    world, runs = World(Path(args.out)), Runs(Path(args.out))
    print((runs.eval / "tables.md").read_text())
    for claim, holds, detail in result["claims"]:
        mark = {True: "holds", False: "FAILS", None: "n/a"}[holds]
        print(f"[{mark}] {claim}: {detail}")
    print(f"demo finished in {result['seconds'] / 60:.1f} min")
    if not args.no_report:
        from ipd.staging.report import write_evaluation_report

        report = write_evaluation_report(world.data, runs.eval, result, None, cache=world.cache)
        print(f"report: {report}")
    print(f"metrics: {runs.eval / 'metrics.json'}")
    return 0
