"""``ipd detect`` over many videos as per-video tasks (:mod:`ipd.executors`): each worker
process loads the models once, then runs :func:`~ipd.detect.run.detect_video` per video."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path

from ipd.detect.models import Detector, load_detector
from ipd.detect.outputs import summary_line
from ipd.detect.run import DetectOptions, detect_video
from ipd.errors import InputError
from ipd.executors import Executor, crash_message, run_tasks


@dataclass(frozen=True)
class VideoDone:
    """One video's task: the lines to print, or the skip-list message of a bad input."""

    video_id: str
    lines: tuple[str, ...] = ()
    error: str | None = None


def detector_once(models: Mapping[str, object]) -> Detector:
    """:func:`load_detector` of these keyword arguments, once per process (again when one of
    the model files changes)."""
    key = tuple(sorted((name, _version(value)) for name, value in models.items()))
    return _load(key)


def _version(value):
    path = Path(value) if isinstance(value, (str, Path)) else None
    if path is not None and path.is_file():
        stat = path.stat()
        return (str(value), stat.st_mtime_ns, stat.st_size)
    return value


@lru_cache(maxsize=1)
def _load(key: tuple) -> Detector:
    models = {name: value[0] if isinstance(value, tuple) else value for name, value in key}
    return load_detector(**models)


def detect_many(
    items: Sequence[tuple[str, Path]],
    models: Mapping[str, object],
    options: DetectOptions,
    executor: Executor,
) -> Iterator[VideoDone]:
    """Detect in every ``(video_id, path)``, yielding each video's result as it finishes.

    Args:
        items: ``(video_id, path)`` pairs with unique ids.
        models: the keyword arguments of :func:`load_detector` (paths, so workers load them).
        options: what to write (the decoder gets one thread in worker processes).
        executor: where the tasks run.
    """
    if not executor.in_process(len(items)):
        options = dataclasses.replace(options, threads=1)  # the processes use every core
    task = partial(detect_one, dict(models), options)
    yield from run_tasks(task, items, executor, _crashed, _one_thread)


def detect_one(
    models: Mapping[str, object], options: DetectOptions, item: tuple[str, Path]
) -> VideoDone:
    """One task: the detector on one video; bad input becomes the result's ``error``."""
    video_id, path = item
    try:
        result = detect_video(path, detector_once(models), options, video_id)
    except InputError as err:
        return VideoDone(video_id, error=str(err))
    lines = [f"note: {video_id}: {note}" for note in result.notes]
    lines += [summary_line(result.detections, options.threshold), f"  -> {options.out / video_id}"]
    return VideoDone(video_id, tuple(lines))


def _crashed(item: tuple[str, Path], err: BaseException) -> VideoDone:
    return VideoDone(item[0], error=crash_message(str(item[1]), err))


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)  # each worker process is one CPU of the pool
