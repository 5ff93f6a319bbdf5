"""``ipd study``: the training chain over several seeds, claims judged on distributions; and
``ipd results``: a study's tables, or the README's results block rewritten from ``study.json``."""

from __future__ import annotations

import argparse
from pathlib import Path

DESCRIPTION = """\
Render and extract one SynthIPA world (OUT/world), then for each seed train the whole chain
(pretrain, sound, object, teachers, VT/ST05/OT03/SOT0503, evaluation) in OUT/seed_<k>, and write
OUT/study.json, OUT/study.md and OUT/report/index.html: every row's per-seed values with mean,
std and a bootstrap interval over seeds, and every claim of the demo report with the number of
seeds it holds in and the interval of its paired difference. Resumable: rerun the same command.

examples:
  ipd study --seeds 0-4 --out study
  ipd study --seeds 0-4 --out study \\
      --test-world "seed7=--seed 7 --soundfont /usr/share/sounds/sf3/MuseScore_General_Lite.sf3"
  ipd study --seeds 0-4 --out study --sweep both --mtt-teacher study/mtt_teacher.ckpt"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "study",
        help="train and evaluate the chain over several seeds; claims judged on distributions",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--seeds", default="0-4", help="training seeds: 0-4 or 0,1,2 (default 0-4)")
    p.add_argument("--out", type=Path, default=Path("study"), help="study folder (./study)")
    p.add_argument(
        "--synth", default="--preset demo --seed 0",
        help="`ipd synth` options of the world (default: '--preset demo --seed 0')",
    )  # fmt: skip
    p.add_argument(
        "--test-world", action="append", default=[], metavar="NAME=SYNTH_OPTIONS",
        help="also evaluate every seed's models on the test split of another world: the "
        "world's --synth options with these applied (repeatable)",
    )  # fmt: skip
    p.add_argument(
        "--sweep", choices=("v", "u", "both"),
        help="also train SOT with sound (v) and/or object (u) thresholds 0.1 ... 0.9",
    )  # fmt: skip
    p.add_argument(
        "--mtt-teacher", type=Path, metavar="CKPT",
        help="also train ST05 taught by the released MagnaTagATune tagger (a checkpoint from "
        "`ipd tag --clip2frame-dir DIR --export-teacher CKPT`)",
    )  # fmt: skip
    p.add_argument(
        "--train", default="",
        help="extra LightningCLI arguments for every training stage, e.g. '--trainer.max_epochs=2'",
    )  # fmt: skip
    p.add_argument("--workers", type=int, default=2, help="parallel processes for data stages")
    p.add_argument("--size", type=int, default=None, help="one frame size for every stage")
    p.add_argument("--object-crops", type=int, default=300, metavar="N",
                   help="ImageNet stand-in images per instrument (default: 300)")  # fmt: skip
    p.add_argument("--object-boxes", type=int, default=50, metavar="N",
                   help="held-out boxed images per instrument (default: 50)")  # fmt: skip
    p.set_defaults(func=run)

    r = sub.add_parser(
        "results",
        help="print a study's results as Markdown, or rewrite the results block of a file",
        description="Format study.json (from `ipd study`) as Markdown. With --into FILE, replace "
        "the part of FILE between '<!-- results:begin -->' and '<!-- results:end -->' with the "
        "short results table (how the README's table is made).",
    )
    r.add_argument("study", type=Path, help="a study.json")
    r.add_argument("--into", type=Path, metavar="FILE", help="rewrite this file's results block")
    r.set_defaults(func=run_results)


def run(args: argparse.Namespace) -> int:
    import shlex

    from ipd.cli.synth import world_config
    from ipd.errors import InputError
    from ipd.report.study import write_study_page
    from ipd.staging.study import THRESHOLDS, StudyPlan, parse_seeds, run_study

    world = world_config(shlex.split(args.synth))
    test_worlds = {}
    for spec in args.test_world:
        name, sep, options = spec.partition("=")
        if not sep or not name.isidentifier():
            raise InputError(f"--test-world {spec!r}: give NAME=SYNTH_OPTIONS, e.g. seed7=--seed 7")
        config = world_config([*shlex.split(args.synth), *shlex.split(options)], "--test-world")
        test_worlds[name] = config.replace(videos_per_class=(0, 0, config.videos_per_class[2]))
    plan = StudyPlan(
        seeds=parse_seeds(args.seeds), world=world, test_worlds=test_worlds,
        sweep_v=THRESHOLDS if args.sweep in ("v", "both") else (),
        sweep_u=THRESHOLDS if args.sweep in ("u", "both") else (),
        mtt_teacher=args.mtt_teacher, overrides=tuple(shlex.split(args.train)),
        workers=args.workers, size=args.size, object_crops=args.object_crops,
        object_boxes=args.object_boxes,
    )  # fmt: skip
    study = run_study(args.out, plan)
    page = write_study_page(study, args.out / "report")
    for claim in study["claims"]:
        print(f"{claim['name']}: holds in {claim['holds_in']} of {claim['of']} seeds")
    print(f"report: {page}")
    print(f"study: {args.out / 'study.json'}")
    return 0


def run_results(args: argparse.Namespace) -> int:
    import json

    from ipd.errors import InputError
    from ipd.files import write_text_atomic
    from ipd.report.study import readme_block, study_markdown, update_block

    try:
        study = json.loads(args.study.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise InputError(f"{args.study}: not a readable study.json ({err})") from None
    if args.into is None:
        print(study_markdown(study), end="")
        return 0
    text = args.into.read_text()
    write_text_atomic(args.into, update_block(text, readme_block(study), str(args.into)))
    print(f"rewrote the results block of {args.into} from {args.study}")
    return 0
