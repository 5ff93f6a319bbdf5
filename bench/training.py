"""Action-model training throughput: milliseconds per training step, and how much of a step is
data loading (the DataLoader producing the batch) and how much is computing (forward, backward,
optimiser step).

The timed run is the demo's action stage as ``ipd train action`` builds it
(``configs/demo/action.yaml`` + ``action_VT.yaml``: the real ``ActionLocaliser``, ``FrameData``
and stage trainer; VT needs no teachers), on a world small enough to render and extract in well
under a minute. Run as a script it prints the result as JSON::

    python -m bench.training /tmp/bench-training

Steps run with torch's current thread count (default: one per core). On a machine busy with
other processes those threads wait for each other: measured on 2 cores at load 5, a step took
~1.3-1.9 s with 2 threads and ~0.2 s with ``OMP_NUM_THREADS=1``.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from pathlib import Path

from lightning.pytorch.profilers import Profiler

from ipd.data.index import read_index
from ipd.features.params import ExtractParams
from ipd.staging.chain import extract_dataset, stage_args, stage_config
from ipd.staging.train import build_cli
from ipd.synth import PRESETS, build_dataset

CONFIG = "action_VT"  # configs/demo/action.yaml + action_VT.yaml
# The tiny preset without its test videos: 9 training and 9 validation videos of 6 s, rendered
# and extracted in ~50 s on a busy 2-core machine (the demo preset takes minutes). Its 160x90
# frames are extracted at the config's 256-px longer side, as the demo's 320x180 ones are, so a
# batch has the demo's shape: 10 sub-clips x 2 frames x 10 flow channels x 144 x 256 px.
WORLD = PRESETS["tiny"].replace(videos_per_class=(1, 1, 0))
WARMUP = 10  # untimed first steps: allocator growth, and the first reads of most flow members
FETCH = "[_TrainingEpochLoop].train_dataloader_next"  # Lightning's name for the DataLoader's next()
BATCH = "run_training_batch"  # Lightning's name for forward + backward + optimiser step


class StepClock(Profiler):
    """Start and stop times (``time.perf_counter`` seconds) of every DataLoader fetch and every
    training batch of a fit; other profiled actions are ignored."""

    def __init__(self) -> None:
        super().__init__()
        self.intervals: dict[str, list[tuple[float, float]]] = {FETCH: [], BATCH: []}
        self._started: dict[str, float] = {}

    def start(self, action_name: str) -> None:
        if action_name in self.intervals:
            self._started[action_name] = time.perf_counter()

    def stop(self, action_name: str) -> None:
        if action_name in self.intervals:
            self.intervals[action_name].append(
                (self._started.pop(action_name), time.perf_counter())
            )

    def summary(self) -> str:
        return ""  # nothing to print at the end of the fit


def training_throughput(work: Path, steps: int = 30) -> dict:
    """Time ``steps`` training steps of the demo's action model (VT) after :data:`WARMUP` steps.

    Renders the world and extracts its flow into ``work`` (both skipped when already there), then
    fits in ``work/run`` (replaced at each call). No epoch ends among the timed steps (see
    :func:`_train_args`), so no checkpoint save or new DataLoader iterator is timed. Measured on
    a 2-core machine at load 5: ~50 s of rendering and extraction (skipped when ``work`` has
    them), then 40 steps and the fit's setup: ~15 s with one torch thread, ~90 s with two.

    Args:
        work: folder for the world (``data/``), its features (``cache/``) and the run (``run/``).
        steps: timed training steps.

    Returns:
        ``{"ms_per_step", "data_ms_per_step", "data_share", "compute_ms_per_step", "steps",
        "batch_size", "frames_per_step", "config", "workers"}``: mean milliseconds from the end
        of one training batch to the end of the next, of it spent in the DataLoader's ``next()``
        (``data_share``: their ratio, 0-1) and in forward + backward + optimiser step; the rest
        of a step is Lightning's bookkeeping (hooks, logging). ``batch_size`` is sub-clips per
        step, ``frames_per_step`` analysis frames per step, ``workers`` DataLoader processes.
    """
    work = Path(work)
    data, cache = _prepare_world(work)
    run = work / "run"
    shutil.rmtree(run, ignore_errors=True)  # a fresh fit, never a resumed one
    cli = build_cli("action", _train_args(data, cache, run, WARMUP + steps))
    # What Trainer(profiler=clock) would set: the stage CLI builds the trainer itself.
    cli.trainer.profiler = clock = StepClock()
    cli.trainer.fit(cli.model, datamodule=cli.datamodule)
    dm = cli.datamodule
    return {
        **_step_means(clock.intervals[FETCH], clock.intervals[BATCH], WARMUP),
        "batch_size": dm.clips_per_batch,
        "frames_per_step": dm.clips_per_batch * dm.clip_frames,
        "config": "demo action VT",
        "workers": dm.num_workers,
    }


def _prepare_world(work: Path) -> tuple[Path, Path]:
    """Render :data:`WORLD` into ``work/data`` and extract the flow the config reads into
    ``work/cache`` (finished videos and features are reused). Returns ``(data, cache)``."""
    data, cache = work / "data", work / "cache"
    config = stage_config(CONFIG)["data"]
    build_dataset(data, WORLD, workers=2, progress=False)
    params = ExtractParams(size=config["size"], flow=config["flow"])
    extract_dataset(data, cache, params, ("flow",), workers=2, progress=False)
    return data, cache


def _train_args(data: Path, cache: Path, run: Path, max_steps: int) -> list[str]:
    """``ipd train action`` arguments of the demo's VT stage, fitting ``max_steps`` steps.

    The departures from the demo, none of which changes a step: no progress bar and no sanity
    validation, and more random sub-clips per video and epoch (``clips_per_video``) so that all
    ``max_steps`` fall in the first epoch (the tiny world has 9 training videos: 8 sub-clips
    each would end an epoch every 8 steps).
    """
    clips_per_batch = stage_config(CONFIG)["data"]["clips_per_batch"]
    train_videos = len(read_index(data, "train"))
    clips_per_video = math.ceil(clips_per_batch * (max_steps + 1) / train_videos)
    paths = {"data.dataset": data, "data.cache": cache, "trainer.default_root_dir": run}
    overrides = [
        f"--trainer.max_steps={max_steps}",
        f"--data.clips_per_video={clips_per_video}",
        "--trainer.num_sanity_val_steps=0",
        "--trainer.enable_progress_bar=false",
    ]
    return stage_args(CONFIG, paths, overrides)


def _step_means(
    fetches: list[tuple[float, float]], batches: list[tuple[float, float]], warmup: int
) -> dict:
    """Mean step, data and compute milliseconds of the batches after the first ``warmup``.

    Step ``k`` runs from the end of batch ``k - 1`` to the end of batch ``k``; its data time is
    the fetch between the two batches (Lightning fetches one batch ahead, so it is batch
    ``k + 1``'s, of the same cost), its compute time batch ``k``'s own.

    Args:
        fetches: ``(start, stop)`` seconds of every DataLoader ``next()``, in order.
        batches: ``(start, stop)`` seconds of every training batch, in order.
        warmup: untimed first batches (at least 1: step 0 has no previous batch).

    Raises:
        RuntimeError: a timed step with other than one fetch (an epoch end among them).
    """
    step = data = compute = 0.0
    timed = batches[warmup - 1 :]
    for (_, previous_end), (start, end) in zip(timed, timed[1:], strict=False):
        between = [b - a for a, b in fetches if previous_end <= a and b <= start]
        if len(between) != 1:
            raise RuntimeError(f"{len(between)} DataLoader fetches in one step: an epoch ended")
        step, data, compute = step + end - previous_end, data + between[0], compute + end - start
    n = len(timed) - 1
    return {
        "ms_per_step": 1000 * step / n,
        "data_ms_per_step": 1000 * data / n,
        "data_share": data / step,
        "compute_ms_per_step": 1000 * compute / n,
        "steps": n,
    }


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench-training")
    print(json.dumps(training_throughput(folder), indent=1))
