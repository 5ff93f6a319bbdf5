"""Batches of videos: worker processes, resume (fresh streams are skipped), a report of failures.

A bad input (missing, not a video, no frames, ...) is reported and skipped; the batch goes on. Each
stream of each video is written atomically, so a killed batch loses at most the videos in progress.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ipd.errors import InputError, output_problem
from ipd.executors import Executor, crash_message, progress_bar, run_tasks
from ipd.features import cache
from ipd.features.extract import extract_video
from ipd.features.params import STREAMS, ExtractParams


@dataclass
class Report:
    """What a batch did. ``failed`` holds ``(video_id, one-line message)``."""

    done: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> int:
        """Videos that have their features now (extracted in this run or already cached)."""
        return len(self.done) + len(self.cached)


def unique_video_ids(
    paths: Sequence[str | Path], taken: Iterable[str] = ()
) -> list[tuple[str, Path]]:
    """``(video_id, path)`` for video files: a cache-safe id from each file name, made unique
    with a hash of the path where two files (``a.mp4``, ``a.mkv``), or a file and an id in
    ``taken``, share a stem."""
    taken = set(taken)
    items = []
    for path in map(Path, paths):
        stem = re.sub(r"[^\w.+-]", "_", path.stem).lstrip(".") or "video"
        if stem in taken:
            stem = f"{stem}-{hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]}"
        taken.add(stem)
        items.append((stem, path))
    return items


def _run_one(item: tuple[str, str | Path], cache_dir, params, streams, force, threads) -> dict:
    video_id, path = item
    try:
        result = extract_video(path, video_id, cache_dir, params, streams, force, threads)
        result["status"] = "done" if result["written"] else "cached"
    except InputError as err:
        result = {"video_id": video_id, "status": "failed", "error": str(err), "notes": []}
    except Exception as err:  # a broken file can make any decoder raise anything: report, go on
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        full_disk = output_problem(err) if isinstance(err, OSError) else None  # or read-only
        message = full_disk or f"{path}: {type(err).__name__}: {first}"
        result = {"video_id": video_id, "status": "failed", "error": message, "notes": []}
    return result


def _init_worker() -> None:
    import cv2

    cv2.setNumThreads(1)  # the pool already uses every core; nested threads only contend


def extract_many(
    items: Iterable[tuple[str, str | Path]],
    cache_dir: str | Path,
    params: ExtractParams | None = None,
    workers: int = 1,
    streams: Sequence[str] = STREAMS,
    force: bool = False,
    progress: bool = True,
    executor: Executor | None = None,
) -> Report:
    """Extract many videos, skipping fresh ones and reporting (not raising) bad inputs.

    Args:
        items: ``(video_id, path)`` pairs; ids must be unique.
        cache_dir: the cache root (with Ray on several machines: a folder every one sees).
        params: extraction parameters (defaults: the paper's).
        workers: processes; 1 runs in this process.
        streams: any of ``audio``, ``rgb``, ``flow``.
        force: re-extract even fresh streams.
        progress: show a progress bar on stderr.
        executor: where the per-video tasks run (default: local, ``workers`` processes; its
            own ``workers`` wins when given).
    """
    executor = executor or Executor("local", workers)
    params = params or ExtractParams()
    items = list(items)
    ids = [vid for vid, _ in items]
    if len(set(ids)) != len(ids):
        dup = sorted({v for v in ids if ids.count(v) > 1})
        raise InputError(f"duplicate video ids in the dataset index: {', '.join(dup[:5])}")
    for stream in streams:
        cache.remove_stale_temps(cache.stream_dir(cache_dir, stream, params))
    report, t0 = Report(), time.perf_counter()
    # one decoding thread per worker process: the processes already use every core
    threads = 0 if executor.in_process(len(items)) else 1
    task = partial(_run_one, cache_dir=cache_dir, params=params, streams=streams, force=force,
                   threads=threads)  # fmt: skip
    with progress_bar(progress, len(items), "extract") as advance:
        for result in run_tasks(task, items, executor, _crashed, _init_worker):
            status = result["status"]
            if status == "failed":
                report.failed.append((result["video_id"], result["error"]))
            else:
                (report.done if status == "done" else report.cached).append(result["video_id"])
            report.notes += result["notes"]
            advance(result["video_id"])
    for ids_ in (report.done, report.cached, report.failed):
        ids_.sort()  # workers finish in any order
    report.seconds = time.perf_counter() - t0
    return report


def _crashed(item: tuple[str, str | Path], err: BaseException) -> dict:
    """The result of a video whose worker died (e.g. a decoder crash) or raised."""
    video_id, path = item
    error = crash_message(str(path), err)
    return {"video_id": video_id, "status": "failed", "error": error, "notes": []}


def default_workers() -> int:
    """Half the cores (flow is CPU-bound; leave room for decoding threads), at least 1."""
    return max(1, (os.cpu_count() or 2) // 2)
