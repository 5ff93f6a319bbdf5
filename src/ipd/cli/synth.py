"""``ipd synth``: render the SynthIPA synthetic world into a dataset folder.

Every knob of :class:`ipd.synth.config.WorldConfig` is an option (built from the dataclass, so the
CLI and the config never disagree); a preset supplies the values that are not given.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

from ipd.errors import InputError
from ipd.synth.config import PRESETS, WorldConfig

DESCRIPTION = """\
Render SynthIPA, a synthetic world of short music videos (H.264 + AAC mp4) of the label space's
instruments, with the ground truth of the real pipeline: index.csv (video tags + splits),
annotations/sound_activity.csv, per-analysis-frame playing key points (keypoints_val.json,
keypoints_test.json; t = k * 0.512 s) and PASCAL VOC instrument boxes of test frames.

Each video alternates played phrases (the instrument sounds; the player's motion is at the
contact points, in time with the notes) and silent stretches (the instrument stays in view; the
player sways, walks, lifts or adjusts it), with distractors away from the instrument (audience,
stage lights, camera shake; class-correlated by --context-bias), a passer-by, sometimes a second
silent instrument, and background noise. Same --seed, same bytes; reruns skip finished videos.

presets:
  tiny   9 instruments x 1 train/val/test video, 6 s, 160x90 at 10 fps (unit tests, ~5 s)
  demo   9 instruments x (8 train, 2 val, 3 test) videos, 20 s, 320x180 at 15 fps (~70 s, 2 workers)
Options below override the preset; see docs/synthipa.md for what each knob is for."""


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``ipd synth`` on the ``ipd`` sub-command parser."""
    parser = subparsers.add_parser(
        "synth",
        help="render the SynthIPA synthetic instrument-playing video dataset",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, required=True, help="dataset folder to write")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="demo",
                        help="starting values of all knobs (default: demo)")  # fmt: skip
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                        help="videos or images rendered in parallel (processes; default: 2)",
                        )  # fmt: skip
    parser.add_argument(
        "--size",
        metavar="WxH",
        type=_size,
        help="frame size in px, even numbers (tiny 160x90, demo 320x180)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    crops = parser.add_argument_group(
        "ImageNet stand-in (docs/synthipa.md): instead of videos, write object-centric crops"
    )
    crops.add_argument("--object-crops", type=int, metavar="N",
                       help="write N labelled crops per instrument (train/val image folders, "
                            "for `ipd train pretrain`) instead of the video dataset")  # fmt: skip
    crops.add_argument("--object-boxes", type=int, metavar="N",
                       help="write N held-out images per instrument with the instrument's box "
                            "(PASCAL VOC JPEGImages/ + Annotations/: the test set of Table "
                            "4.7's hit rate, `ipd evaluate --boxes`) instead of the video "
                            "dataset")  # fmt: skip
    crops.add_argument("--crop-size", type=int, metavar="PX",
                       help="side of the square images (default: 112 for --object-crops, 256, "
                            "the demo's frame size, for --object-boxes)")  # fmt: skip
    knobs = parser.add_argument_group("world knobs (default: the preset's value)")
    flags = build_config_flags()
    for f in dataclasses.fields(WorldConfig):
        if f.name not in flags:
            continue
        flag = flags[f.name]
        kind = type(f.default)
        extra: dict = {"dest": f.name, "default": None, "help": f.metadata["help"]}
        if kind is tuple:
            items = f.default or ("",)
            extra["type"] = type(items[0])
            extra["nargs"] = len(f.default) if f.default and f.name != "instruments" else "+"
            extra["metavar"] = _metavar(f.name, extra["nargs"])
        else:
            extra["type"] = kind
            if f.name.startswith("p_") or f.name == "context_bias":
                extra["metavar"] = "P"
            elif f.name == "duration_s":
                extra["metavar"] = "SECONDS"
        knobs.add_argument(flag, **extra)
    parser.set_defaults(func=run)
    return parser


def build_config_flags() -> dict[str, str]:
    """CLI option of each :class:`WorldConfig` field that has its own (width / height: --size)."""
    flags = {}
    for f in dataclasses.fields(WorldConfig):
        flag = f.metadata.get("flag", "")
        if flag is not None:
            flags[f.name] = flag or "--" + f.name.replace("_", "-")
    return flags


def _metavar(name: str, nargs) -> tuple[str, ...] | str:
    if name == "videos_per_class":
        return ("TRAIN", "VAL", "TEST")
    if nargs == 2:
        return ("LOW", "HIGH")
    return "NAME"


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WxH, e.g. 320x180") from None
    return w, h


def config_from_args(args: argparse.Namespace) -> WorldConfig:
    """The preset with every given option applied."""
    changes = {}
    for f in dataclasses.fields(WorldConfig):
        value = getattr(args, f.name, None)
        if value is not None:
            changes[f.name] = tuple(value) if isinstance(value, list) else value
    if args.size is not None:
        changes["width"], changes["height"] = args.size
    return PRESETS[args.preset].replace(**changes)


def world_config(argv: list[str], option: str = "--synth") -> WorldConfig:
    """The world that ``ipd synth ARGV`` would render (``--preset``, ``--seed``, knobs): for
    commands that take synthesis options as one string (``ipd demo --synth``)."""
    parser = argparse.ArgumentParser(prog=f"ipd ... {option}", add_help=False)
    add_parser(parser.add_subparsers())
    try:
        args = parser.parse_args(["synth", "--out", "unused", *argv])
    except SystemExit:
        raise InputError(f"{option} {' '.join(argv)!r}: not valid `ipd synth` options") from None
    if args.object_crops is not None or args.object_boxes is not None:
        raise InputError(f"{option}: --object-crops / --object-boxes are chosen by the command")
    return config_from_args(args)


def run(args: argparse.Namespace) -> int:
    from ipd.synth.builder import build_dataset

    if args.workers < 1:
        raise InputError(f"--workers {args.workers}: need at least 1")
    config = config_from_args(args)
    if args.object_crops is not None and args.object_boxes is not None:
        raise InputError(f"{args.out}: give --object-crops or --object-boxes, not both")
    if args.object_crops is not None:
        from ipd.synth.crops import build_crops

        summary = build_crops(args.out, config, args.object_crops, args.crop_size or 112,
                              progress=not args.no_progress, workers=args.workers)  # fmt: skip
        print("\n".join(summary.lines()))
        return 0
    if args.object_boxes is not None:
        from ipd.synth.crops import build_box_images

        summary = build_box_images(args.out, config, args.object_boxes, args.crop_size or 256,
                                   progress=not args.no_progress, workers=args.workers)  # fmt: skip
        print("\n".join(summary.lines()))
        return 0
    summary = build_dataset(args.out, config, workers=args.workers, progress=not args.no_progress)
    print("\n".join(summary.lines()))
    return 0
