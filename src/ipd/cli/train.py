"""``ipd train {sound,object,action} --config FILE [--section.key value ...]``."""

from __future__ import annotations

import argparse

STAGE_HELP = """stages:
  sound     the sound tagger (log-mel -> per-instrument activity), trained on video tags
  pretrain  the object localiser on labelled instrument images (ImageNet or `ipd synth
            --object-crops`): Conv1-5 for `model.net.init_args.pretrained_early` of `object`
  object    the object localiser (RGB frame -> instrument maps), trained on video tags
  action    the action localiser (flow stack -> playing maps), target VT / ST / OT / SOT

Everything after the stage goes to the stage's LightningCLI: `ipd train sound --help` lists
every option; `--print_config` shows the resolved config. Rerunning a command resumes from the
run folder's checkpoints/last.ckpt."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train one stage from a YAML config (LightningCLI)",
        description=STAGE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    p.add_argument("stage", choices=("sound", "pretrain", "object", "action"), nargs="?")
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.add_argument("-h", "--help", action="store_true", help="this help (after a stage: its own)")
    p.set_defaults(func=run, parser=p)


def run(args: argparse.Namespace) -> int:
    if args.stage is None:
        args.parser.print_help()
        return 0 if args.help else 2
    if args.help:
        args.args = ["--help", *args.args]
    from lightning.fabric.utilities.rank_zero import rank_zero_only

    from ipd.staging.train import train

    best = train(args.stage, args.args)
    if rank_zero_only.rank == 0:  # under DDP every process gets here; one says it
        print(f"best checkpoint: {best}")
    return 0
