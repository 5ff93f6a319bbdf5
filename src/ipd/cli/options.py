"""Options several subcommands share, declared once."""

from __future__ import annotations

import argparse

from ipd.executors import EXECUTORS


def add_precision_option(parser: argparse.ArgumentParser) -> None:
    """``--precision 32|bf16`` (Lightning's names; ``32-true``, ``bf16-mixed`` too), checked
    against the hardware by :func:`ipd.precision.check_precision` when the command runs."""
    parser.add_argument(
        "--precision", default="32", metavar="{32,bf16}",
        help="network precision: 32 (default) or bf16 where the processor (AVX512-BF16, AMX) "
        "or GPU has it natively",
    )  # fmt: skip


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    """``--executor local|ray`` and ``--address``: where the per-video tasks run
    (:mod:`ipd.executors`); :func:`executor_of` reads them."""
    parser.add_argument(
        "--executor", default="local", choices=EXECUTORS,
        help="local (default): this machine's processes; ray: one task per video on a Ray "
        "cluster, retried when a worker dies (needs Ray: pip install 'ipd[ray]')",
    )  # fmt: skip
    parser.add_argument(
        "--address", metavar="ADDR",
        help="Ray cluster to join (auto: the one `ray start` runs here; ray://host:10001); "
        "default: start a local one with --workers CPUs",
    )  # fmt: skip


def executor_of(args: argparse.Namespace, workers: int = 1):
    """The :class:`~ipd.executors.Executor` the options ask for; with ``--executor ray`` and no
    Ray installed, an :class:`~ipd.errors.InputError` saying how to get it."""
    import importlib.util

    from ipd.errors import InputError
    from ipd.executors import RAY_MISSING, Executor

    if args.executor == "ray" and importlib.util.find_spec("ray") is None:
        raise InputError(RAY_MISSING)
    return Executor(args.executor, workers, args.address)
