"""Write :class:`~ipd.tagging.tagger.TagActivations` as CSV and JSON (timestamps included)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from ipd.files import atomic_path, write_text_atomic
from ipd.tagging.tagger import TagActivations


def write_csv(acts: TagActivations, path: str | Path) -> Path:
    """One row per output frame: ``time_s`` then one column per tag (model output order)."""
    path = Path(path)
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["time_s", *acts.tags])
        for t, row in zip(acts.times, acts.frame, strict=True):
            writer.writerow([f"{t:.3f}", *(f"{v:.5f}" for v in row)])
    return path


def write_json(acts: TagActivations, path: str | Path, top: int = 10) -> Path:
    """Everything in one JSON document.

    Keys: ``source``, ``model``, ``period_s``, ``tags``, ``clip`` (tag -> clip activation),
    ``top_tags`` (the ``top`` best ``[tag, activation]`` pairs), ``times_s`` (``T``) and
    ``frame`` (``T`` rows of ``N`` activations, aligned with ``times_s`` and ``tags``).
    """
    path = Path(path)
    doc = {
        "source": acts.source,
        "model": acts.model,
        "period_s": acts.period_s,
        "tags": acts.tags,
        "clip": {tag: round(float(v), 5) for tag, v in zip(acts.tags, acts.clip, strict=True)},
        "top_tags": [[tag, round(v, 5)] for tag, v in acts.top_tags(top)],
        "times_s": [round(float(t), 3) for t in acts.times],
        "frame": [[round(float(v), 5) for v in row] for row in acts.frame],
    }
    write_text_atomic(path, json.dumps(doc, indent=1))
    return path
