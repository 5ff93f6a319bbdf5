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
from pathlib import Path

from ipd.errors import InputError, output_problem
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
) -> Report:
    """Extract many videos, skipping fresh ones and reporting (not raising) bad inputs.

    Args:
        items: ``(video_id, path)`` pairs; ids must be unique.
        cache_dir: the cache root.
        params: extraction parameters (defaults: the paper's).
        workers: processes; 1 runs in this process.
        streams: any of ``audio``, ``rgb``, ``flow``.
        force: re-extract even fresh streams.
        progress: show a progress bar on stderr.
    """
    params = params or ExtractParams()
    items = list(items)
    ids = [vid for vid, _ in items]
    if len(set(ids)) != len(ids):
        dup = sorted({v for v in ids if ids.count(v) > 1})
        raise InputError(f"duplicate video ids in the dataset index: {', '.join(dup[:5])}")
    for stream in streams:
        cache.remove_stale_temps(cache.stream_dir(cache_dir, stream, params))
    report, t0 = Report(), time.perf_counter()
    with _progress(progress, len(items)) as advance:
        for result in _results(items, cache_dir, params, streams, force, workers):
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


def _results(items, cache_dir, params, streams, force, workers):
    if workers <= 1 or len(items) <= 1:
        for item in items:
            yield _run_one(item, cache_dir, params, streams, force, 0)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ctx = mp.get_context("spawn")  # no fork after OpenCV/FFmpeg threads exist
    with ProcessPoolExecutor(min(workers, len(items)), ctx, initializer=_init_worker) as pool:
        # one decoding thread per worker: the processes already use every core
        jobs = {pool.submit(_run_one, it, cache_dir, params, streams, force, 1): it for it in items}
        for job in as_completed(jobs):
            try:
                yield job.result()
            except Exception as err:  # a worker died (e.g. a decoder crash): report, go on
                video_id, path = jobs[job]
                error = f"{path}: worker process failed ({type(err).__name__})"
                yield {"video_id": video_id, "status": "failed", "error": error, "notes": []}


class _progress:
    """Context manager yielding ``advance(video_id)``; a rich progress bar on stderr if enabled."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total, self.bar = enabled and total > 0, total, None

    def __enter__(self):
        if not self.enabled:
            return lambda _vid: None
        from rich.console import Console
        from rich.progress import Progress

        self.bar = Progress(console=Console(stderr=True), transient=False)
        self.bar.start()
        task = self.bar.add_task("extract", total=self.total)
        return lambda vid: self.bar.update(task, advance=1, description=f"extract {vid}")

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def default_workers() -> int:
    """Half the cores (flow is CPU-bound; leave room for decoding threads), at least 1."""
    return max(1, (os.cpu_count() or 2) // 2)
