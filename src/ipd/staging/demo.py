"""``ipd demo``: the whole chain on SynthIPA, stage by stage, each stage resumable.

synthesise -> extract -> render the ImageNet stand-in (crops; boxed test images) -> pretrain
Conv1-5 -> train sound -> train object -> teach (S, O) -> train VT, ST, OT, SOT -> evaluate
(predictions, fusion, metrics, report). Every stage reads and writes named files under ``--out``,
so an interrupted demo resumes where it stopped: the synthesiser and extractor skip finished
videos, training resumes from ``last.ckpt``, teachers and predictions skip videos already computed
from the same checkpoint.
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
DEMO_PREFIX = "demo/"  # how the demo configs' paths start


@dataclass(frozen=True)
class DemoPaths:
    """Where each stage writes, under the demo folder."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def imagenet(self) -> Path:
        return self.root / "imagenet"

    @property
    def boxes(self) -> Path:
        return self.root / "imagenet_boxes"

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


def stage_config(name: str) -> dict:
    """A demo stage config (``configs/demo/<name>.yaml``) as a dict."""
    return yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())


def config_size(name: str) -> int:
    """``data.size`` of a demo stage config (the frame size its features are extracted at)."""
    return int(stage_config(name)["data"].get("size", 256))


def relocated(config: dict, root: Path, prefix: str = "") -> list[str]:
    """``--key=value`` overrides moving every ``demo/...`` path of ``config`` under ``root``.

    The demo configs name their inputs and outputs relative to ``demo/`` (the default ``--out``):
    ``data.cache: demo/cache`` becomes ``--data.cache=<root>/cache``.
    """
    args = []
    for key, value in config.items():
        if isinstance(value, dict):
            args += relocated(value, root, f"{prefix}{key}.")
        elif isinstance(value, str) and value.startswith(DEMO_PREFIX):
            args.append(f"--{prefix}{key}={root / value.removeprefix(DEMO_PREFIX)}")
    return args


def stage_args(
    paths: DemoPaths, name: str, overrides: list[str], size: int | None = None
) -> list[str]:
    """LightningCLI arguments of one training stage: its demo config with the demo's paths."""
    config = stage_config(name)
    args = ["--config", str(CONFIGS / f"{name}.yaml"), *relocated(config, paths.root)]
    if "stream" in config["data"] and size is not None:  # frame stages
        args.append(f"--data.size={size}")
    return [*args, *overrides]


def run_demo(
    out: str | Path,
    synth_args: list[str] | None = None,
    train_overrides: list[str] | None = None,
    workers: int = 2,
    size: int | None = None,
    object_crops: int = 300,
    object_boxes: int = 50,
    console: Console | None = None,
) -> dict:
    """Run every stage; returns the evaluation result (metrics, claims, extra tables).

    ``size`` forces one frame size on every stage; by default each stage's config decides
    (the demo's configs: 256-px RGB and flow). ``object_crops``: ImageNet stand-in images per
    instrument (pretraining); ``object_boxes``: held-out boxed images per instrument (the hit
    rate of Table 4.7). ``train_overrides`` go to every training stage, except ``--data.*`` ones to
    the pretraining stage (its data are images, not videos).
    """
    paths = DemoPaths(Path(out))
    console = console or Console()
    overrides = train_overrides or []
    image_overrides = [o for o in overrides if not o.startswith("--data.")]
    result: dict = {}

    def synthesise() -> None:
        argv = ["synth", "--out", str(paths.data), "--workers", str(workers), *(synth_args or [])]
        if ipd(argv) != 0:
            raise InputError(f"{paths.data}: synthesis failed")

    def stand_in() -> None:
        argv = ["synth", "--out", str(paths.imagenet), "--object-crops", str(object_crops),
                "--workers", str(workers), *(synth_args or [])]  # fmt: skip
        if ipd(argv) != 0:
            raise InputError(f"{paths.imagenet}: rendering the instrument crops failed")
        argv = ["synth", "--out", str(paths.boxes), "--object-boxes", str(object_boxes),
                "--workers", str(workers), *(synth_args or [])]  # fmt: skip
        if ipd(argv) != 0:
            raise InputError(f"{paths.boxes}: rendering the boxed instrument images failed")

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
        result.update(
            evaluate_split(models, paths.data, paths.eval, cache=paths.cache, boxes=paths.boxes)
        )

    stages: list[tuple[str, Callable[[], object]]] = [
        ("synthesise the SynthIPA demo set", synthesise),
        ("extract log-mel, RGB and optical-flow features", extract),
        ("render the ImageNet stand-in: instrument crops, held-out boxed images", stand_in),
        (
            "pretrain the object model's Conv1-5 on the crops",
            lambda: train("pretrain", stage_args(paths, "pretrain", image_overrides, size)),
        ),
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
