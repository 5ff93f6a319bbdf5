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
from pathlib import Path

from ipd.data.index import read_index
from ipd.errors import InputError
from ipd.evaluation.predictions import Prediction, load_prediction, save_prediction
from ipd.features.reader import open_features
from ipd.files import write_text_atomic
from ipd.inference import all_maps, sound_scores
from ipd.labels import load_label_space
from ipd.staging.checkpoints import checkpoint_identity, extract_params_of, load_system
from ipd.systems.sound import SoundTagger
from ipd.systems.video import ActionLocaliser, ObjectLocaliser

KINDS = ("sound", "object", "action")


@dataclass
class TeachReport:
    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


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
    """
    if kind not in KINDS:
        raise InputError(f"{kind}: unknown teacher kind (choose from {', '.join(KINDS)})")
    cls = {"sound": SoundTagger, "object": ObjectLocaliser, "action": ActionLocaliser}[kind]
    system = load_system(cls, checkpoint)
    params = extract_params_of(checkpoint)
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
    from rich.progress import track

    for entry in track(entries, description=f"teach {kind}", disable=not progress):
        path = out / f"{entry.video_id}.npz"
        if path.is_file() and _same_source(path, source):
            report.skipped.append(entry.video_id)
            continue
        try:
            stream = {"sound": "audio", "object": "rgb", "action": "flow"}[kind]
            with open_features(cache, entry.video_id, (stream,), params) as feats:
                if kind == "sound":
                    times, scores = sound_scores(system, feats, params.windows, precision=precision)
                    pred = Prediction(entry.video_id, times, names, source, scores=scores)
                else:
                    times, maps = (
                        feats.times.copy(),
                        all_maps(system, feats, stream, precision=precision),
                    )
                    grid = system.map_grid(*feats.frame_size)
                    pred = Prediction(entry.video_id, times, names, source, maps=maps, grid=grid)
            save_prediction(path, pred)
            report.written.append(entry.video_id)
        except InputError as err:
            report.failed.append((entry.video_id, str(err)))
    return report


def _same_source(path: Path, source: str) -> bool:
    """The stored prediction came from ``source`` (and, with maps, says where its cells are:
    files written before the grid was stored are recomputed)."""
    try:
        pred = load_prediction(path)
    except InputError:
        return False
    return pred.source == source and (pred.maps is None or pred.grid is not None)
