"""``ipd configs``: where the shipped training configs are, or a copy of them to edit."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "configs",
        help="list the shipped training configs (paper/, demo/), or copy them to edit",
        description="The training configs ship with the package (in a checkout: configs/). "
        "Without options, print their folder and files; with --copy DIR, copy them into DIR "
        "(files already there are kept) for `ipd train STAGE --config DIR/paper/...`.",
    )
    p.add_argument("--copy", type=Path, metavar="DIR", help="copy paper/ and demo/ into DIR")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import shutil
    from importlib.resources import files

    source = Path(str(files("ipd") / "configs"))
    configs = sorted(source.rglob("*.yaml"))
    if args.copy is None:
        print(source)
        for path in configs:
            print(f"  {path.relative_to(source)}")
        return 0
    for path in configs:
        target = args.copy / path.relative_to(source)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    print(f"copied {len(configs)} configs to {args.copy}")
    return 0
