"""Rendering jobs in worker processes with a progress bar (videos, crops, boxed images)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed


def run_jobs(
    render: Callable[..., object],
    jobs: Sequence[tuple],
    workers: int,
    description: str,
    progress: bool = True,
) -> None:
    """``render(*job)`` for every job, in ``workers`` processes (1: in this one), in any order.

    ``render`` must be a module-level function (it is sent to spawned processes) whose result
    does not depend on the order or the process (each job seeds its own random numbers). The first
    failure cancels the jobs not yet started and is raised.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, disable=not progress or not jobs) as bar:
        task = bar.add_task(description, total=len(jobs))
        if workers <= 1 or len(jobs) <= 1:
            for job in jobs:
                render(*job)
                bar.advance(task)
            return
        ctx = multiprocessing.get_context("spawn")  # no forked OpenCV / PyAV state
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = [pool.submit(render, *job) for job in jobs]
            try:
                for future in as_completed(futures):
                    future.result()
                    bar.advance(task)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
