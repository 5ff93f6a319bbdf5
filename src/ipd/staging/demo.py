"""``ipd demo``: the whole chain on SynthIPA, stage by stage, each stage resumable.

synthesise -> extract -> train sound -> train object -> teach (S, O) -> train VT, ST, OT, SOT
-> evaluate (predictions, fusion, metrics, report). Every stage reads and writes named files under
``--out``, so an interrupted demo resumes where it stopped: the synthesiser and extractor skip
finished videos, training resumes from ``last.ckpt``, teachers and predictions skip videos already
computed from the same checkpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from rich.console import Console

from ipd.cli.main import main as ipd
from ipd.errors import InputError
from ipd.staging.evaluate import Models, evaluate_split
from ipd.staging.teach import teach
from ipd.staging.train import selected_checkpoint, train

CONFIGS = Path(__file__).resolve().parents[3] / "configs" / "demo"
ACTIONS = ("VT", "ST05", "OT03", "SOT0503")


@dataclass(frozen=True)
class DemoPaths:
    """Where each stage writes, under the demo folder."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def teachers(self) -> Path:
        return self.root / "teachers"

    @property
    def eval(self) -> Path:
        return self.root / "eval"


def config_size(name: str) -> int:
    """``data.size`` of a demo stage config (the frame size its features are extracted at)."""
    config = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())
    return int(config["data"].get("size", 256))


def stage_args(
    paths: DemoPaths, name: str, overrides: list[str], size: int | None = None
) -> list[str]:
    """LightningCLI arguments of one training stage: its demo config with the demo's paths."""
    args = [
        "--config", str(CONFIGS / f"{name}.yaml"),
        f"--trainer.default_root_dir={paths.runs / name}",
        f"--data.dataset={paths.data}",
        f"--data.cache={paths.cache}",
    ]  # fmt: skip
    if name != "sound" and size is not None:
        args.append(f"--data.size={size}")
    if name.startswith("action_"):
        target = name.removeprefix("action_")
        if "S" in target.replace("VT", ""):
            args.append(f"--data.sound_teacher={paths.teachers / 'sound'}")
        if "O" in target:
            args.append(f"--data.object_teacher={paths.teachers / 'object'}")
    return [*args, *overrides]


def run_demo(
    out: str | Path,
    synth_args: list[str] | None = None,
    train_overrides: list[str] | None = None,
    workers: int = 2,
    size: int | None = None,
    console: Console | None = None,
) -> dict:
    """Run every stage; returns the evaluation result (metrics, claims, extra tables).

    ``size`` forces one frame size on every stage; by default each stage's config decides
    (the demo's configs: 256-px RGB and flow).
    """
    paths = DemoPaths(Path(out))
    console = console or Console()
    overrides = train_overrides or []
    result: dict = {}

    def synthesise() -> None:
        argv = ["synth", "--out", str(paths.data), "--workers", str(workers), *(synth_args or [])]
        if ipd(argv) != 0:
            raise InputError(f"{paths.data}: synthesis failed")

    def extract() -> None:
        rgb_size = size or config_size("object")
        flow_size = size or config_size(f"action_{ACTIONS[0]}")
        jobs = [("audio,flow", flow_size), ("rgb", rgb_size)]
        if rgb_size == flow_size:  # one decoding pass for all streams
            jobs = [("audio,rgb,flow", flow_size)]
        for streams, px in jobs:
            argv = ["extract", str(paths.data), "--cache", str(paths.cache), "--size", str(px)]
            if ipd([*argv, "--streams", streams, "--workers", str(workers)]) != 0:
                raise InputError(f"{paths.cache}: feature extraction failed")

    def teachers() -> None:
        for kind in ("sound", "object"):
            ckpt = selected_checkpoint(paths.runs / kind)
            teach(kind, ckpt, paths.data, paths.cache, paths.teachers / kind, ("train", "val"))

    def evaluate() -> None:
        models = Models.from_runs(paths.runs)
        result.update(evaluate_split(models, paths.data, paths.eval, cache=paths.cache))

    stages: list[tuple[str, Callable[[], object]]] = [
        ("synthesise the SynthIPA demo set", synthesise),
        ("extract log-mel, RGB and optical-flow features", extract),
        (
            "train the sound model",
            lambda: train("sound", stage_args(paths, "sound", overrides, size)),
        ),
        (
            "train the object model",
            lambda: train("object", stage_args(paths, "object", overrides, size)),
        ),
        ("store the sound and object teachers", teachers),
    ]
    for name in ACTIONS:
        stages.append(
            (f"train the {name} action model",
             lambda n=name: train("action", stage_args(paths, f"action_{n}", overrides, size)))
        )  # fmt: skip
    stages.append(("evaluate, fuse and compare with the baselines", evaluate))

    start = time.monotonic()
    for i, (title, run) in enumerate(stages, start=1):
        console.rule(f"[bold]stage {i}/{len(stages)}: {title}")
        t0 = time.monotonic()
        run()
        console.print(f"stage {i}/{len(stages)} done in {time.monotonic() - t0:.0f} s")
    result["seconds"] = time.monotonic() - start
    return result
