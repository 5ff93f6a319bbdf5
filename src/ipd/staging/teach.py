"""``ipd teach``: store a trained sound or object model's outputs for every video of a dataset.

The action stage reads these files instead of recomputing the teachers; binarisation happens at
training time from the stored real values, so several thresholds share one teacher run. Each file
is a prediction (``ipd.evaluation.predictions``) whose ``source`` names the checkpoint and its hash;
a rerun skips videos already written from the same checkpoint and redoes the others.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path

from ipd.data.index import read_index
from ipd.errors import InputError
from ipd.evaluation.predictions import Prediction, load_prediction, save_prediction
from ipd.executors import Executor, crash_message, progress_bar, run_tasks
from ipd.features import cache as feature_store
from ipd.features.params import ExtractParams
from ipd.features.reader import open_features
from ipd.files import write_text_atomic
from ipd.inference import all_maps, sound_scores
from ipd.labels import load_label_space
from ipd.staging.checkpoints import checkpoint_identity, extract_params_of, load_system
from ipd.systems.sound import SoundTagger
from ipd.systems.video import ActionLocaliser, ObjectLocaliser

KINDS = ("sound", "object", "action")
SYSTEMS = {"sound": SoundTagger, "object": ObjectLocaliser, "action": ActionLocaliser}
STREAMS = {"sound": "audio", "object": "rgb", "action": "flow"}


@dataclass
class TeachReport:
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class TeachJob:
    """What every per-video task of one teacher run shares (small and picklable: a worker
    process loads the checkpoint itself, once, see :func:`teacher_system`)."""

    kind: str
    checkpoint: Path
    cache: str | Path  # a folder or an fsspec URL
    out: Path
    params: ExtractParams
    names: tuple[str, ...]
    source: str
    precision: str = "32"


def teach(
    kind: str,
    checkpoint: str | Path,
    dataset: str | Path,
    cache: str | Path,
    out: str | Path,
    splits: Sequence[str] = ("train", "val", "test"),
    labels: str | Path | None = None,
    progress: bool = True,
    precision: str = "32",
    executor: Executor | None = None,
) -> TeachReport:
    """Write ``out/<video_id>.npz``: sound ``scores (T, G)``, object/action ``maps (T, G, h, w)``.

    Args:
        kind: ``sound``, ``object`` or ``action`` (the system class of the checkpoint).
        checkpoint: a checkpoint written by ``ipd train``.
        dataset: folder with ``index.csv``.
        cache: the feature cache (extracted with the checkpoint's settings).
        out: output folder.
        splits: which splits of the index to run.
        labels: label-space YAML (names the output channels).
        progress: show a progress bar.
        precision: ``32`` or ``bf16`` (:mod:`ipd.precision`; bf16 predictions name it in their
            source, so they never stand in for fp32 ones).
        executor: where the per-video tasks run (default: one after another in this process).
            Worker processes run the network on one thread each, so their files equal those of
            a local run on one thread (other thread counts change the last float bit).
    """
    if kind not in KINDS:
        raise InputError(f"{kind}: unknown teacher kind (choose from {', '.join(KINDS)})")
    checkpoint = Path(checkpoint)
    teacher_system(kind, checkpoint)  # a bad checkpoint stops the run here, in one line
    source = checkpoint_identity(checkpoint) + ("" if precision == "32" else f"@{precision}")
    names = tuple(load_label_space(labels).names)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(
        out / "teacher.json",
        json.dumps({"kind": kind, "source": source, "labels": list(names)}, indent=2) + "\n",
    )
    entries = [e for split in splits for e in read_index(dataset, split)]
    report = TeachReport()
    todo = []
    for entry in entries:
        path = out / f"{entry.video_id}.npz"
        if path.is_file() and _same_source(path, source):
            report.skipped.append(entry.video_id)
        else:
            todo.append(entry.video_id)
    job = TeachJob(kind, checkpoint, feature_store.location(cache), out,
                   extract_params_of(checkpoint), names, source, precision)  # fmt: skip
    executor = executor or Executor()
    with progress_bar(progress, len(todo), f"teach {kind}") as advance:
        crashed = partial(_crashed, out=out)
        for video_id, error in run_tasks(
            partial(teach_video, job), todo, executor, crashed, _one_thread
        ):
            if error is None:
                report.written.append(video_id)
            else:
                report.failed.append((video_id, error))
            advance(video_id)
    order = {video_id: i for i, video_id in enumerate(todo)}  # tasks finish in any order
    report.written.sort(key=order.__getitem__)
    report.failed.sort(key=lambda failure: order[failure[0]])
    return report


def teach_video(job: TeachJob, video_id: str) -> tuple[str, str | None]:
    """One task: ``job.out/<video_id>.npz`` from the video's cached features.

    Returns:
        ``(video_id, None)`` when written, ``(video_id, one-line message)`` for bad input.
    """
    try:
        system = teacher_system(job.kind, job.checkpoint)
        stream = STREAMS[job.kind]
        with open_features(job.cache, video_id, (stream,), job.params) as feats:
            if job.kind == "sound":
                times, scores = sound_scores(
                    system, feats, job.params.windows, precision=job.precision
                )
                pred = Prediction(video_id, times, job.names, job.source, scores=scores)
            else:
                times = feats.times.copy()
                maps = all_maps(system, feats, stream, precision=job.precision)
                grid = system.map_grid(*feats.frame_size)
                pred = Prediction(video_id, times, job.names, job.source, maps=maps, grid=grid)
        save_prediction(job.out / f"{video_id}.npz", pred)
    except InputError as err:
        return video_id, str(err)
    return video_id, None


def teacher_system(kind: str, checkpoint: str | Path):
    """The checkpoint's system, loaded once per process (and again when the file changes)."""
    path = Path(checkpoint)
    stat = path.stat() if path.is_file() else None  # a missing file: load_system says so
    version = (str(path.resolve()), stat.st_mtime_ns, stat.st_size) if stat else None
    return _load(kind, path, version)


@lru_cache(maxsize=2)
def _load(kind: str, checkpoint: Path, _version: tuple[str, int, int] | None):
    return load_system(SYSTEMS[kind], checkpoint)


def _one_thread() -> None:
    """Worker processes: the network on one thread (each worker is one CPU of the pool)."""
    import torch

    torch.set_num_threads(1)


def _crashed(video_id: str, err: BaseException, out: Path) -> tuple[str, str]:
    return video_id, crash_message(str(out / f"{video_id}.npz"), err)


def _same_source(path: Path, source: str) -> bool:
    """The stored prediction came from ``source`` (and, with maps, says where its cells are:
    files written before the grid was stored are recomputed)."""
    try:
        pred = load_prediction(path)
    except InputError:
        return False
    return pred.source == source and (pred.maps is None or pred.grid is not None)
