"""Where the per-video tasks of a batch run: this process, a local process pool, or Ray.

The embarrassingly parallel stages (``ipd extract``, ``ipd teach``, ``ipd detect`` over many
videos, the predictions of ``ipd evaluate``) hand :func:`run_tasks` one picklable task and the
items (one per video); it yields each task's result as the task finishes, so a progress bar
advances as work completes. A task reports bad input in its result (it catches its own
:class:`~ipd.errors.InputError`), so a result is never retried. What reaches the executor is a
crash: a local pool reports it at once; Ray first reruns the task on another worker (up to
``RAY_RETRIES`` times for a dead worker process, never for an exception the task raised), then
reports it. Either way the caller turns it into a line of its skip list.

Tasks write their outputs atomically (temporary file, then rename), so a worker killed mid-task
leaves nothing that is read as valid, and its retry writes the file again from the start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ipd.errors import InputError

Item = TypeVar("Item")
Result = TypeVar("Result")

EXECUTORS = ("local", "ray")
RAY_MISSING = "ray is not installed: pip install 'ipd[ray]'"
RAY_RETRIES = 3  # reruns of a task whose worker process died (Ray's max_retries)


@dataclass(frozen=True)
class Executor:
    """Where tasks run.

    Attributes:
        kind: ``local`` (a process pool on this machine; one worker: this process) or ``ray``.
        workers: local processes; with Ray and no ``address``, the CPUs of the local cluster
            started for the run (one task per CPU).
        address: a Ray cluster to join (``auto``: the one ``ray start`` runs on this machine;
            ``ray://host:10001``); None starts a local cluster, or uses the one this process
            has already started.
    """

    kind: str = "local"
    workers: int = 1
    address: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in EXECUTORS:
            raise InputError(f"executor {self.kind}: choose from {', '.join(EXECUTORS)}")
        if self.address is not None and self.kind != "ray":
            raise InputError(f"--address {self.address}: a Ray address needs --executor ray")

    def in_process(self, count: int) -> bool:
        """True when ``count`` tasks would run one after another in this process."""
        return self.kind == "local" and (self.workers <= 1 or count <= 1)


def run_tasks(
    task: Callable[[Item], Result],
    items: Sequence[Item],
    executor: Executor,
    crashed: Callable[[Item, BaseException], Result],
    initializer: Callable[[], None] | None = None,
) -> Iterator[Result]:
    """``task(item)`` for every item, yielded in the order the tasks finish.

    Args:
        task: a picklable callable (a module-level function or a ``functools.partial`` of one);
            it returns a small result and catches bad input itself.
        items: one per task (e.g. ``(video_id, path)``).
        executor: where to run.
        crashed: the result to yield for an item whose task raised or whose worker died (in this
            process an exception propagates instead, as in a plain loop).
        initializer: run once in each worker process before its tasks (e.g. one thread for
            OpenCV); not in this process.
    """
    if executor.in_process(len(items)):
        for item in items:
            yield task(item)
    elif executor.kind == "local":
        yield from _pool(task, items, executor.workers, crashed, initializer)
    else:
        yield from _ray(task, items, executor, crashed, initializer)


def _pool(task, items, workers, crashed, initializer):
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = mp.get_context("spawn")  # no fork after OpenCV/FFmpeg/torch threads exist
    with ProcessPoolExecutor(min(workers, len(items)), ctx, initializer=initializer) as pool:
        jobs = {pool.submit(task, item): item for item in items}
        for job in as_completed(jobs):
            try:
                yield job.result()
            except Exception as err:  # the task raised, or its worker died: report, go on
                yield crashed(jobs[job], err)


def import_ray():
    """The ``ray`` module; :class:`InputError` saying how to install it when it is missing."""
    try:
        import ray
    except ImportError:
        raise InputError(RAY_MISSING) from None
    return ray


def _ray(task, items, executor, crashed, initializer):
    ray = import_ray()
    if not ray.is_initialized():  # left running until the process exits (ray's atexit hook)
        if executor.address:
            ray.init(address=executor.address, logging_level=logging.WARNING)
        else:
            ray.init(
                num_cpus=max(1, executor.workers),
                include_dashboard=False,
                logging_level=logging.WARNING,
            )
    remote = ray.remote(num_cpus=1, max_retries=RAY_RETRIES, retry_exceptions=False)(_call)
    task_ref = ray.put(task)  # shipped to the object store once, not with every task
    pending = {remote.remote(task_ref, item, initializer): item for item in items}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        for ref in done:
            item = pending.pop(ref)
            try:
                yield ray.get(ref)
            except Exception as err:  # retries used up, or the task raised: report, go on
                yield crashed(item, getattr(err, "cause", None) or err)


_initialized: set[Callable] = set()  # initializers already run in this (worker) process


def _call(task, item, initializer):
    """A Ray task: ``task(item)`` after the worker's one-time ``initializer``."""
    if initializer is not None and initializer not in _initialized:
        initializer()
        _initialized.add(initializer)
    return task(item)


def crash_message(what: str, err: BaseException) -> str:
    """``<what>: worker process failed (<error type>)``: the skip-list line of a crash."""
    return f"{what}: worker process failed ({type(err).__name__})"


class progress_bar:
    """Context manager yielding ``advance(video_id)``; a rich progress bar on stderr if enabled,
    labelled ``<label> <video_id>`` with the last video done."""

    def __init__(self, enabled: bool, total: int, label: str) -> None:
        self.enabled, self.total, self.label, self.bar = enabled and total > 0, total, label, None

    def __enter__(self):
        if not self.enabled:
            return lambda _vid: None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=False)
        self.bar.start()
        task = self.bar.add_task(self.label, total=self.total)
        return lambda vid: self.bar.update(task, advance=1, description=f"{self.label} {vid}")

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()
