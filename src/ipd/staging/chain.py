"""The demo's chain as stages: a *world* rendered and extracted once, and *runs* that learn from it.

World (shared by every seed of a study)::

    synthesise (data/) -> extract (cache/) -> ImageNet stand-in (imagenet/, imagenet_boxes/)

Runs (one folder per seed)::

    pretrain Conv1-5 -> sound -> object -> teachers (S, O) -> action models -> evaluate

Each stage is a named function with its inputs and outputs in these folders; every stage resumes
(finished videos, images and checkpoints are kept), so running a chain again continues where it
stopped. ``ipd demo`` runs both parts in one folder; ``ipd study`` runs the world once and the
runs once per seed. The training configs are those of ``configs/demo`` (package data): they hold
the recipe only, and each stage names its data, teachers and run folder from the world and the
runs it is given (:func:`stage_args`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import yaml
from rich.console import Console

from ipd.data.targets import Target
from ipd.errors import InputError
from ipd.features.batch import extract_many
from ipd.features.params import ExtractParams
from ipd.staging.evaluate import Models, evaluate_split
from ipd.staging.teach import teach
from ipd.staging.train import selected_checkpoint, train
from ipd.synth.config import WorldConfig

CONFIGS = Path(str(files("ipd") / "configs" / "demo"))  # package data (a real folder)
ACTION_BASE = "action"  # configs/demo/action.yaml: the recipe every action_<target>.yaml adds to


@dataclass(frozen=True)
class World:
    """A rendered and extracted world: what every run reads, nothing a run writes."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def imagenet(self) -> Path:
        return self.root / "imagenet"

    @property
    def boxes(self) -> Path:
        return self.root / "imagenet_boxes"

    @property
    def teachers(self) -> Path:
        """Teachers that do not depend on a run's training (the released MagnaTagATune tagger)."""
        return self.root / "world_teachers"


@dataclass(frozen=True)
class Runs:
    """Where one training chain writes: checkpoints, teachers, evaluation."""

    root: Path

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def teachers(self) -> Path:
        return self.root / "teachers"

    @property
    def eval(self) -> Path:
        return self.root / "eval"


@dataclass(frozen=True)
class Action:
    """One action model to train: ``runs/action_<name>`` from ``configs/demo/action.yaml`` and
    the target file ``configs/demo/<config>.yaml``.

    ``overrides``: LightningCLI arguments after the chain's own (e.g. ``--model.v=0.3``; a path
    may start with ``{world}/`` or ``{runs}/``: the world's or the runs' folder).
    """

    name: str
    config: str
    overrides: tuple[str, ...] = field(default_factory=tuple)


DEMO_ACTIONS = tuple(Action(n, f"action_{n}") for n in ("VT", "ST05", "OT03", "SOT0503"))
Stage = tuple[str, Callable[[], object]]


def stage_configs(name: str) -> list[Path]:
    """The config files of a demo stage, in the order given: an action target file comes after
    the action recipe (``action.yaml``)."""
    configs = [CONFIGS / f"{name}.yaml"]
    return [CONFIGS / f"{ACTION_BASE}.yaml", *configs] if name.startswith("action_") else configs


def stage_config(name: str) -> dict:
    """A demo stage's configs merged (later files win) as a dict."""
    merged: dict = {}
    for path in stage_configs(name):
        _merge(merged, yaml.safe_load(path.read_text()) or {})
    return merged


def _merge(into: dict, update: dict) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def config_size(name: str) -> int:
    """``data.size`` of a demo stage config (the frame size its features are extracted at)."""
    return int(stage_config(name)["data"].get("size", 256))


def stage_args(
    name: str,
    paths: dict[str, Path],
    overrides: Sequence[str] = (),
    size: int | None = None,
    seed: int | None = None,
) -> list[str]:
    """LightningCLI arguments of one training stage: its demo configs, ``paths`` (``key ->
    path``, e.g. ``data.dataset``), ``size`` (frame stages), ``seed`` (``seed_everything``;
    None: the config's) and ``overrides`` last."""
    args = [a for path in stage_configs(name) for a in ("--config", str(path))]
    args += [f"--{key}={path}" for key, path in paths.items()]
    if "stream" in stage_config(name)["data"] and size is not None:  # frame stages
        args.append(f"--data.size={size}")
    if seed is not None:
        args.append(f"--seed_everything={seed}")
    return [*args, *overrides]


def world_stages(
    world: World,
    config: WorldConfig,
    workers: int = 2,
    size: int | None = None,
    object_crops: int = 300,
    object_boxes: int = 50,
    progress: bool = True,
) -> list[Stage]:
    """Render ``config`` into ``world.data``, extract its features at the configs' sizes, and
    render the ImageNet stand-in (``object_crops`` labelled crops per instrument for
    pretraining, ``object_boxes`` held-out boxed images per instrument for the hit rate)."""
    from ipd.synth.builder import build_dataset
    from ipd.synth.crops import build_box_images, build_crops

    def extract() -> None:
        rgb_size = size or config_size("object")
        flow_size = size or config_size(DEMO_ACTIONS[0].config)
        jobs = [(("audio", "flow"), flow_size), (("rgb",), rgb_size)]
        if rgb_size == flow_size:  # one decoding pass for all streams
            jobs = [(("audio", "rgb", "flow"), flow_size)]
        for streams, px in jobs:
            extract_dataset(
                world.data, world.cache, ExtractParams(size=px), streams, workers, progress
            )

    def stand_in() -> None:
        build_crops(world.imagenet, config, object_crops, 112, progress=progress, workers=workers)
        build_box_images(world.boxes, config, object_boxes, 256, progress=progress, workers=workers)

    return [
        (
            "synthesise the SynthIPA world",
            lambda: build_dataset(world.data, config, workers=workers, progress=progress),
        ),
        ("extract log-mel, RGB and optical-flow features", extract),
        ("render the ImageNet stand-in: instrument crops, held-out boxed images", stand_in),
    ]


def extract_dataset(
    dataset: Path,
    cache: Path,
    params: ExtractParams,
    streams: Sequence[str],
    workers: int = 2,
    progress: bool = True,
) -> None:
    """Extract ``streams`` of every video of a dataset (cached ones are skipped).

    Raises:
        InputError: a video failed (names it and how many failed).
    """
    from ipd.data.index import read_index

    items = [(e.video_id, e.path) for e in read_index(dataset)]
    report = extract_many(items, cache, params, workers, streams, progress=progress)
    if report.failed:
        video_id, message = report.failed[0]
        raise InputError(f"{message} ({len(report.failed)} videos failed feature extraction)")


def training_stages(
    world: World,
    runs: Runs,
    seed: int | None = None,
    overrides: Sequence[str] = (),
    size: int | None = None,
    actions: Sequence[Action] = DEMO_ACTIONS,
) -> list[Stage]:
    """Pretrain, sound, object, teachers, ``actions`` and the evaluation on the world's test
    split (metrics, hit rates, claims in ``runs.eval``).

    ``overrides`` go to every training stage, except ``--data.*`` ones to the pretraining stage
    (its data are images, not videos).
    """
    image_overrides = [o for o in overrides if not o.startswith("--data.")]
    videos = {"data.dataset": world.data, "data.cache": world.cache}

    def fit(stage: str, config: str, paths: dict, extra: Sequence[str] = ()) -> Callable[[], Path]:
        base = image_overrides if stage == "pretrain" else overrides
        return lambda: train(stage, stage_args(config, paths, [*base, *extra], size, seed))

    def run_folder(name: str) -> dict[str, Path]:
        return {"trainer.default_root_dir": runs.runs / name}

    def teachers() -> None:
        for kind in ("sound", "object"):
            ckpt = selected_checkpoint(runs.runs / kind)
            teach(kind, ckpt, world.data, world.cache, runs.teachers / kind, ("train", "val"))

    def evaluate() -> dict:
        models = Models.from_runs(runs.runs)
        return evaluate_split(models, world.data, runs.eval, cache=world.cache, boxes=world.boxes)

    pretrained = {"model.net.init_args.pretrained_early": runs.runs / "pretrain" / "checkpoints"
                  / "best.ckpt"}  # fmt: skip
    stages: list[Stage] = [
        ("pretrain the object model's Conv1-5 on the crops",
         fit("pretrain", "pretrain", {**run_folder("pretrain"), "data.folder": world.imagenet})),
        ("train the sound model", fit("sound", "sound", {**run_folder("sound"), **videos})),
        ("train the object model",
         fit("object", "object", {**run_folder("object"), **videos, **pretrained})),
        ("store the sound and object teachers", teachers),
    ]  # fmt: skip
    for action in actions:
        target = Target(stage_config(action.config)["model"]["target"])
        needs = {"sound": target.needs_sound, "object": target.needs_object}
        taught = {f"data.{kind}_teacher": runs.teachers / kind for kind in needs if needs[kind]}
        paths = {**run_folder(f"action_{action.name}"), **videos, **taught}
        extra = [_placed(o, world, runs) for o in action.overrides]
        stages.append(
            (f"train the {action.name} action model", fit("action", action.config, paths, extra))
        )
    stages.append(("evaluate, fuse and compare with the baselines", evaluate))
    return stages


def _placed(override: str, world: World, runs: Runs) -> str:
    return override.replace("{world}", str(world.root)).replace("{runs}", str(runs.root))


def run_stages(stages: Sequence[Stage], console: Console, title: str = "stage") -> object:
    """Run stages in order with a rule and the time of each; returns the last stage's result."""
    result = None
    for i, (name, run) in enumerate(stages, start=1):
        console.rule(f"[bold]{title} {i}/{len(stages)}: {name}")
        t0 = time.monotonic()
        result = run()
        console.print(f"{title} {i}/{len(stages)} done in {time.monotonic() - t0:.0f} s")
    return result
