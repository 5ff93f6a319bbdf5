"""``ipd``: the entry point. Each subcommand module has ``add_parser(subparsers)`` which sets
``func`` to the function that runs it; heavy imports happen inside those functions."""

from __future__ import annotations

import argparse
import sys

from ipd import __version__
from ipd.cli import (
    configs,
    convert,
    demo,
    detect,
    evaluate,
    extract,
    picture,
    study,
    synth,
    tag,
    tag_eval,
    teach,
    train,
)
from ipd.errors import InputError, output_problem

COMMANDS = (
    demo,
    study,
    synth,
    extract,
    convert,
    train,
    teach,
    evaluate,
    detect,
    tag,
    tag_eval,
    configs,
    picture,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ipd",
        description="Weakly-supervised instrument-playing action detection in music videos.",
    )
    parser.add_argument("--version", action="version", version=f"ipd {__version__}")
    parser.add_argument(
        "--debug", action="store_true",
        help="show the full traceback of an error (anywhere on the command line)",
    )  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; bad input is one line on stderr and exit status 2 (``--debug``: raise)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv
    args = build_parser().parse_args([a for a in argv if a != "--debug"])
    try:
        return int(args.func(args) or 0)
    except InputError as err:
        if debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        problem = output_problem(err)
        if debug or problem is None:
            raise
        print(f"error: {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
