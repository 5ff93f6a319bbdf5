"""``ipd tag``: frame-level tag activations of audio or video files with a chapter-3 model.

Writes, per input ``NAME.ext`` (two inputs with one name: a path hash is added to the second):
``OUT/NAME.tags.csv`` (time_s + one column per tag),
``OUT/NAME.tags.json`` (activations, timestamps, clip-level tags) and ``OUT/NAME.tags.png`` (top
tags over time), and prints the clip-level top tags. Several inputs: a bad one is skipped and
listed at the end, the rest are tagged.

``--export-teacher CKPT`` writes a sound-system checkpoint around the chosen model with outputs
mapped to the label space's instruments (see :mod:`ipd.tagging.teacher_net`), for
``ipd teach sound --checkpoint CKPT``; no input files are needed then.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "tag",
        help="frame-level music tags of audio/video files (chapter-3 clip2frame model)",
        description=(
            "Tag activations over time for audio or video files. Use the authors' released "
            "188-tag MagnaTagATune model with --clip2frame-dir (the folder holding "
            "model.20160309_111546.npz, standardizers/ and tag_list.top188.txt, e.g. "
            "../shared/reference-data/clip2frame) or a trained tagger file with --model."
        ),
    )
    parser.add_argument("inputs", nargs="*", type=Path, metavar="AUDIO_OR_VIDEO")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--clip2frame-dir", type=Path, help="the released clip2frame folder")
    source.add_argument("--model", type=Path, help="a tagger file written by Clip2FrameTagger.save")
    parser.add_argument("--out", type=Path, default=Path("tags"), help="output folder (./tags)")
    parser.add_argument("--top", type=int, default=10, help="tags in the plot and summary (10)")
    parser.add_argument(
        "--resolution",
        choices=("segment", "mel"),
        default="segment",
        help="one value per model segment (0.512 s, default) or per mel frame (0.032 s)",
    )
    parser.add_argument(
        "--method",
        choices=("upscale", "patch"),
        default="upscale",
        help="how --resolution mel is reached: repeat segments or run shifted inputs",
    )
    parser.add_argument(
        "--no-accumulation",
        action="store_true",
        help="frame values before the Gaussian accumulation (sharper in time)",
    )
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG")
    parser.add_argument(
        "--export-teacher",
        type=Path,
        metavar="CKPT",
        help="write a sound-teacher checkpoint (instrument outputs) for `ipd teach sound`",
    )
    parser.add_argument("--labels", type=Path, help="label-space YAML for --export-teacher")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    import torch

    from ipd.cli.batch import run_each
    from ipd.errors import InputError
    from ipd.features.batch import unique_video_ids
    from ipd.tagging.plots import plot_top_tags
    from ipd.tagging.tagger import Clip2FrameTagger
    from ipd.tagging.writers import write_csv, write_json

    if args.export_teacher is not None:
        from ipd.tagging.teacher_net import write_teacher_checkpoint

        path = write_teacher_checkpoint(
            args.export_teacher, args.clip2frame_dir, args.model, args.labels,
            accumulated=not args.no_accumulation,
        )  # fmt: skip
        print(f"wrote sound-teacher checkpoint {path}")
        if not args.inputs:
            return 0
    if not args.inputs:
        raise InputError("ipd tag: give audio/video files to tag (or --export-teacher CKPT)")
    if args.clip2frame_dir is not None:
        tagger = Clip2FrameTagger.from_released(args.clip2frame_dir)
    else:
        tagger = Clip2FrameTagger.load(args.model)
    args.out.mkdir(parents=True, exist_ok=True)

    def one(item: tuple[str, Path]) -> None:
        name, path = item
        acts = tagger.tag_file(
            path, args.resolution, args.method, accumulated=not args.no_accumulation
        )
        stem = args.out / f"{name}.tags"
        written = [
            write_csv(acts, f"{stem}.csv"),
            write_json(acts, f"{stem}.json", top=args.top),
        ]
        if not args.no_plot:
            written.append(plot_top_tags(acts, f"{stem}.png", k=args.top))
        top = ", ".join(f"{tag} {score:.2f}" for tag, score in acts.top_tags(args.top))
        print(f"{path}: {top}")
        print(f"  wrote {', '.join(str(p) for p in written)}")

    with torch.no_grad():
        return run_each(unique_video_ids(args.inputs), one)
