"""Batch work in the CLI: each input in turn; bad inputs are skipped, listed once at the end.

A single input that fails raises its :class:`~ipd.errors.InputError` (``ipd.cli.main`` prints it
as one line and exits 2); in a batch the rest still runs and the exit status is 0 when at least
one input succeeded, 1 when none did.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TypeVar

from ipd.errors import InputError

Item = TypeVar("Item")


def run_each(items: Sequence[Item], work: Callable[[Item], object]) -> int:
    """``work(item)`` for every item; returns the exit status of the batch.

    Messages of :class:`InputError` name their file already, so each skipped input is printed
    once as it happens (``skipped: <message>``) and once in the closing list.
    """
    failed = []
    for item in items:
        try:
            work(item)
        except InputError as err:
            if len(items) == 1:
                raise
            failed.append(str(err))
            print(f"skipped: {err}", file=sys.stderr)
    report_skipped(failed, len(items))
    return 0 if len(failed) < len(items) else 1


def report_skipped(messages: Sequence[str], total: int, what: str = "input") -> None:
    """``skipped N of M input(s):`` and one indented line per message, on stderr."""
    if not messages:
        return
    print(f"skipped {len(messages)} of {total} {what}(s):", file=sys.stderr)
    for message in messages:
        print(f"  {message}", file=sys.stderr)
