"""``ipd demo``: the whole chain on SynthIPA in one folder, stage by stage, each stage resumable.

synthesise -> extract -> render the ImageNet stand-in (crops; boxed test images) -> pretrain
Conv1-5 -> train sound -> train object -> teach (S, O) -> train VT, ST, OT, SOT -> evaluate
(predictions, fusion, metrics, report). The stages are those of :mod:`ipd.staging.chain` with the
world and the runs in one folder (``--out``): ``data/``, ``cache/``, ``imagenet/``,
``imagenet_boxes/``, ``runs/``, ``teachers/``, ``eval/``. An interrupted demo resumes where it
stopped: the synthesiser and extractor skip finished videos, training resumes from
``last.ckpt``, teachers and predictions skip videos already computed from the same checkpoint.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from ipd.staging.chain import Runs, World, run_stages, training_stages, world_stages
from ipd.synth.config import PRESETS, WorldConfig


def run_demo(
    out: str | Path,
    config: WorldConfig | None = None,
    train_overrides: Sequence[str] = (),
    workers: int = 2,
    size: int | None = None,
    object_crops: int = 300,
    object_boxes: int = 50,
    console: Console | None = None,
) -> dict:
    """Run every stage; returns the evaluation result (metrics, claims, extra tables).

    ``config``: the world to render (default: the demo preset, seed 0). ``size`` forces one
    frame size on every stage; by default each stage's config decides (the demo's configs:
    256-px RGB and flow). ``object_crops``: ImageNet stand-in images per instrument
    (pretraining); ``object_boxes``: held-out boxed images per instrument (the hit rate of Table
    4.7). ``train_overrides`` go to every training stage, except ``--data.*`` ones to the
    pretraining stage (its data are images, not videos).
    """
    world, runs = World(Path(out)), Runs(Path(out))
    console = console or Console()
    stages = [
        *world_stages(world, config or PRESETS["demo"], workers, size, object_crops, object_boxes),
        *training_stages(world, runs, None, train_overrides, size),
    ]
    start = time.monotonic()
    result = run_stages(stages, console)
    return {**result, "seconds": time.monotonic() - start}
