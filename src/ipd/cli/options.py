"""Options several subcommands share, declared once."""

from __future__ import annotations

import argparse


def add_precision_option(parser: argparse.ArgumentParser) -> None:
    """``--precision 32|bf16`` (Lightning's names; ``32-true``, ``bf16-mixed`` too), checked
    against the hardware by :func:`ipd.precision.check_precision` when the command runs."""
    parser.add_argument(
        "--precision", default="32", metavar="{32,bf16}",
        help="network precision: 32 (default) or bf16 where the processor (AVX512-BF16, AMX) "
        "or GPU has it natively",
    )  # fmt: skip
