"""``ipd study``: the training chain over several seeds on one world, and its results as
distributions.

One world is rendered and extracted once (``OUT/world/``: :func:`ipd.staging.chain.world_stages`);
each seed trains and evaluates the whole chain in ``OUT/seed_<k>/`` (pretrain, sound, object,
teachers, the action models, evaluation: :func:`ipd.staging.chain.training_stages` with
``seed_everything = k``). Extra axes, by option: further test worlds (another world seed and
soundfont; only their test split is evaluated, with each seed's models), the sound and object
thresholds of SOT (one axis at a time), and ST05 taught by the released MagnaTagATune tagger
instead of the trained sound model. Everything resumes: a finished seed is marked
(``seed_<k>/complete.json``) and skipped, an unfinished one continues stage by stage.

``OUT/study.json``::

    {"seeds": [0, 1, ...], "date": ISO date, "machine": {...}, "ci": how the CIs are made,
     "world": {"config": {...}, "test_videos": n},
     "rows": {row: {"temporal_auc": stat | null, "spatial_px": stat | null,
                    "spatial_px_macro": stat | null}},
     "hit_rate": stat, "hit_rate_frames": stat,
     "claims": [{"name", "kind": "ordering" | "bar", "unit", "holds_in", "of",
                 "paired_diff" (orderings) | "margin" (bars): stat, "ci_excludes_zero"}],
     "test_worlds": {name: {"config", "rows", "claims", "hit_rate_frames"}},
     "sweeps": {"v" | "u": [{"threshold", "row", "temporal_auc": stat, "spatial_px": stat}]},
     "teachers": {row: {"temporal_auc": stat, "spatial_px": stat}},   # ST05 vs ST05_mtt
     "seconds_per_seed": {seed: s}}

where ``stat = {"values": per seed, "mean", "std", "ci95": [lo, hi]}``
(:func:`ipd.evaluation.spread.describe`: bootstrap of the mean over seeds). A claim's
``paired_diff`` is, per seed, the difference of its two rows in the claim's direction (positive:
it holds); a bar's ``margin`` is the value minus the bar. ``study.md`` holds the same as tables
(:mod:`ipd.report.study`).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from ipd.data.index import read_index
from ipd.errors import InputError
from ipd.evaluation.claims import TEMPORAL, AucBar, CenterGainBar, ClaimSpec, claim_specs
from ipd.evaluation.names import model_name
from ipd.evaluation.spread import RESAMPLES, describe
from ipd.evaluation.tables import read_metrics
from ipd.files import write_text_atomic
from ipd.machine import machine_info
from ipd.staging.chain import (
    DEMO_ACTIONS,
    Action,
    Runs,
    World,
    extract_dataset,
    run_stages,
    training_stages,
    world_stages,
)
from ipd.staging.checkpoints import extract_params_of
from ipd.staging.evaluate import Models, evaluate_split
from ipd.staging.teach import teach
from ipd.synth.config import WorldConfig

THRESHOLDS = (0.1, 0.3, 0.5, 0.7, 0.9)  # the sensitivity sweep's values (Table 4.14 style)
PAPER_V, PAPER_U = 0.5, 0.3  # SOT0503
MTT_ROW = "ST05_mtt"


@dataclass(frozen=True)
class StudyPlan:
    """What a study runs.

    Attributes:
        seeds: training seeds (``seed_everything``), one chain each.
        world: the world every seed trains and is tested on.
        test_worlds: further worlds, by name, whose test split each seed's models are evaluated
            on (e.g. another world seed rendered with another soundfont).
        sweep_v: sound thresholds of extra SOT models (object threshold 0.3).
        sweep_u: object thresholds of extra SOT models (sound threshold 0.5).
        mtt_teacher: a sound-teacher checkpoint of the released MagnaTagATune tagger
            (``ipd tag --export-teacher``): adds ST05 taught by it (row ``ST05_mtt``).
        overrides: LightningCLI arguments for every training stage.
        workers, size, object_crops, object_boxes: as ``ipd demo``.
    """

    seeds: tuple[int, ...]
    world: WorldConfig
    test_worlds: dict[str, WorldConfig] = field(default_factory=dict)
    sweep_v: tuple[float, ...] = ()
    sweep_u: tuple[float, ...] = ()
    mtt_teacher: Path | None = None
    overrides: tuple[str, ...] = ()
    workers: int = 2
    size: int | None = None
    object_crops: int = 300
    object_boxes: int = 50

    def actions(self) -> list[Action]:
        """The demo's four action models, then the sweeps' SOT models, then ST05 with the
        MagnaTagATune teacher."""
        actions = list(DEMO_ACTIONS)
        names = {a.name for a in actions}
        sweeps = [(v, PAPER_U) for v in self.sweep_v] + [(PAPER_V, u) for u in self.sweep_u]
        for v, u in sweeps:
            name = model_name("SOT", v, u)
            if name not in names:
                names.add(name)
                actions.append(Action(name, "action_SOT0503", (f"--model.v={v}", f"--model.u={u}")))
        if self.mtt_teacher is not None:
            teacher = f"--data.sound_teacher={{world}}/world_teachers/{MTT_ROW}"
            actions.append(Action(MTT_ROW, "action_ST05", (teacher,)))
        return actions

    def key(self) -> dict:
        """What a finished seed must have run (its ``complete.json`` records it)."""
        return {
            "actions": [a.name for a in self.actions()],
            "test_worlds": sorted(self.test_worlds),
            "overrides": list(self.overrides),
            "size": self.size,
        }


def parse_seeds(text: str) -> tuple[int, ...]:
    """``0-4`` -> (0, 1, 2, 3, 4); ``0,2,5`` -> (0, 2, 5); ``3`` -> (3,)."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            if "-" in part.strip()[1:]:
                lo, hi = part.split("-", 1) if not part.startswith("-") else ("", "")
                seeds += range(int(lo), int(hi) + 1)
            else:
                seeds.append(int(part))
    except ValueError:
        raise InputError(f"--seeds {text}: give seeds as 0-4 or 0,1,2") from None
    if not seeds or len(set(seeds)) != len(seeds) or min(seeds) < 0:
        raise InputError(f"--seeds {text}: give distinct seeds >= 0, e.g. 0-4")
    return tuple(seeds)


def run_study(out: str | Path, plan: StudyPlan, console: Console | None = None) -> dict:
    """Run (or resume) the study and write ``study.json`` and ``study.md``; returns the study."""
    from ipd.report.study import write_study_markdown

    out, console = Path(out), console or Console()
    world = World(out / "world")
    stages = world_stages(
        world, plan.world, plan.workers, plan.size, plan.object_crops, plan.object_boxes
    )
    if plan.mtt_teacher is not None:
        stages.append(
            (
                "store the MagnaTagATune tagger's sound teacher",
                lambda: _mtt_teacher(world, Path(plan.mtt_teacher), plan.workers),
            )
        )
    for name, config in plan.test_worlds.items():
        stages += _test_world_stage(World(out / f"world_{name}"), name, config, plan.workers)
    run_stages(stages, console, "world")
    for seed in plan.seeds:
        _run_seed(out, world, plan, seed, console)
    study = summarise_study(out, plan)
    write_text_atomic(out / "study.json", json.dumps(study, indent=1) + "\n")
    write_study_markdown(study, out / "study.md")
    return study


def _test_world_stage(world: World, name: str, config: WorldConfig, workers: int) -> list:
    from ipd.synth.builder import build_dataset

    return [
        (
            f"synthesise the test world {name!r}",
            lambda: build_dataset(world.data, config, workers=workers),
        )
    ]


def _mtt_teacher(world: World, checkpoint: Path, workers: int) -> None:
    """The released tagger's outputs on the world's train and val videos (features at its own
    log-mel windows), shared by every seed: the tagger is not trained here."""
    if not checkpoint.is_file():
        raise InputError(
            f"{checkpoint}: MagnaTagATune teacher checkpoint not found "
            "(make it with `ipd tag --clip2frame-dir DIR --export-teacher CKPT`)"
        )
    extract_dataset(world.data, world.cache, extract_params_of(checkpoint), ("audio",), workers)
    teach("sound", checkpoint, world.data, world.cache, world.teachers / MTT_ROW, ("train", "val"))


def _run_seed(out: Path, world: World, plan: StudyPlan, seed: int, console: Console) -> None:
    runs = Runs(out / f"seed_{seed}")
    marker = runs.root / "complete.json"
    if marker.is_file() and json.loads(marker.read_text()).get("plan") == plan.key():
        console.print(f"seed {seed}: finished earlier ({marker})")
        return
    stages = training_stages(world, runs, seed, plan.overrides, plan.size, plan.actions())
    for name in plan.test_worlds:
        test_world = World(out / f"world_{name}")
        stages.append(
            (
                f"evaluate on the test world {name!r}",
                lambda w=test_world, n=name: evaluate_split(
                    Models.from_runs(runs.runs), w.data, runs.root / f"eval_{n}", cache=w.cache
                ),
            )
        )
    start = time.monotonic()
    run_stages(stages, console, f"seed {seed}: stage")
    record = {"plan": plan.key(), "seconds": round(time.monotonic() - start, 1)}
    write_text_atomic(marker, json.dumps(record, indent=1) + "\n")


def summarise_study(out: str | Path, plan: StudyPlan) -> dict:
    """``study.json`` (module docstring) from the seeds' evaluation folders."""
    out = Path(out)
    seeds = plan.seeds
    main = [read_metrics(out / f"seed_{s}" / "eval" / "metrics.json") for s in seeds]
    study = {
        "seeds": list(seeds),
        "date": dt.date.today().isoformat(),
        "machine": machine_info(),
        "ci": f"95 % percentile bootstrap of the mean over the {len(seeds)} seeds "
        f"({RESAMPLES} resamples); the test videos are the same for every seed",
        "world": {
            "config": plan.world.to_dict(),
            "test_videos": _test_videos(World(out / "world")),
        },
        "rows": rows_stats(main),
        "claims": claims_stats(main),
        "seconds_per_seed": {str(s): _seconds(out / f"seed_{s}") for s in seeds},
    }
    for key in ("hit_rate", "hit_rate_frames"):
        values = [_hit_rate(out / f"seed_{s}" / "eval" / f"{key}.json") for s in seeds]
        study[key] = describe(values) if None not in values else None
    study["test_worlds"] = {}
    for name, config in plan.test_worlds.items():
        tables = [read_metrics(out / f"seed_{s}" / f"eval_{name}" / "metrics.json") for s in seeds]
        frames = [_hit_rate(out / f"seed_{s}" / f"eval_{name}" / "hit_rate.json") for s in seeds]
        study["test_worlds"][name] = {
            "config": config.to_dict(),
            "test_videos": _test_videos(World(out / f"world_{name}")),
            "rows": rows_stats(tables),
            "claims": claims_stats(tables),
            "hit_rate_frames": describe(frames) if None not in frames else None,
        }
    study["sweeps"] = _sweeps(study["rows"], plan)
    study["teachers"] = {
        row: study["rows"][row] for row in ("ST05", MTT_ROW) if plan.mtt_teacher is not None
    }
    return study


def rows_stats(tables: Sequence[dict]) -> dict:
    """Row -> metric -> :func:`describe` of its per-seed values (rows every table has; None
    where the metric does not apply)."""
    names = [n for n in tables[0] if all(n in t for t in tables)]
    stats = {}
    for name in names:
        stats[name] = {}
        for key in ("temporal_auc", "spatial_px", "spatial_px_macro"):
            values = [t[name].get(key) for t in tables]
            stats[name][key] = None if None in values else describe(values)
    return stats


def claims_stats(tables: Sequence[dict]) -> list[dict]:
    """Each claim of :func:`ipd.evaluation.claims.claim_specs` over the seeds' tables."""
    claims = []
    for spec in claim_specs():
        margins = [spec.margin(t) for t in tables]
        entry: dict = {"name": spec.text, "of": len(tables)}
        bar = isinstance(spec, AucBar | CenterGainBar)
        entry["kind"] = "bar" if bar else "ordering"
        entry["unit"] = _unit(spec)
        if None in margins:
            entry.update(holds_in=None, ci_excludes_zero=None)
            claims.append(entry)
            continue
        stat = describe(margins)
        entry["holds_in"] = sum(spec.holds(m) for m in margins)
        entry["margin" if bar else "paired_diff"] = stat
        lo, hi = stat["ci95"]
        entry["ci_excludes_zero"] = bool(lo > 0 or hi < 0)
        claims.append(entry)
    return claims


def _unit(spec: ClaimSpec) -> str:
    """The unit of a claim's margin: ``AUC``, ``px`` or ``fraction`` (of Center's distance)."""
    if isinstance(spec, CenterGainBar):
        return "fraction"
    if isinstance(spec, AucBar):
        return "AUC"
    return "AUC" if spec.key == TEMPORAL else "px"


def _sweeps(rows: dict, plan: StudyPlan) -> dict:
    sweeps = {}
    for axis, values in (("v", plan.sweep_v), ("u", plan.sweep_u)):
        if not values:
            continue
        entries = []
        for t in sorted(set(values) | {PAPER_V if axis == "v" else PAPER_U}):
            v, u = (t, PAPER_U) if axis == "v" else (PAPER_V, t)
            name = model_name("SOT", v, u)
            stats = rows.get(name, {})
            entries.append(
                {
                    "threshold": t,
                    "row": name,
                    "temporal_auc": stats.get("temporal_auc"),
                    "spatial_px": stats.get("spatial_px"),
                }
            )
        sweeps[axis] = entries
    return sweeps


def _hit_rate(path: Path) -> float | None:
    return json.loads(path.read_text()).get("mean") if path.is_file() else None


def _seconds(root: Path) -> float | None:
    marker = root / "complete.json"
    return json.loads(marker.read_text()).get("seconds") if marker.is_file() else None


def _test_videos(world: World) -> int:
    return len(read_index(world.data, "test"))
