"""Chapter-3 evaluation of a tagger (``ipd tag-eval``; SPEC section 7, dissertation §3.2-3.3).

- **Clip level** on a clip-tagged split (MagnaTagATune test: folders d-f): AUC and AP per class and
  per clip from the model's clip output (:func:`~ipd.evaluation.tagging_metrics.clip_level_scores`).
- **Frame level** on a dataset with ``annotations/frame_labels.csv`` (MedleyDB, written by
  ``data_tools.medleydb``): model frames are matched to label rows by timestamp (within half a
  model period). Per-tag thresholds are chosen by F1 over K = 1000 candidates on the *validation*
  tracks cut into 320-mel-frame pseudo-clips (clip labels = max of frame labels, clip scores = the
  model's pooling of frame scores), so only clip-level information is used, then applied to the
  test frames; the all-positive baseline (every frame positive) is reported beside it.

Model outputs are matched to dataset classes by name (case-insensitive), else through the class's
``mtt_tags`` (the max over them), so the released 188-tag model is evaluated on 50 tags or on the
9 instruments of ``annotations/instruments.yaml`` directly.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ipd.errors import InputError
from ipd.evaluation.tagging_metrics import (
    NUM_CANDIDATES,
    PSEUDO_CLIP_FRAMES,
    ap_per_class,
    auc_per_class,
    binarize,
    clip_level_scores,
    frame_level_scores,
    pseudo_clips,
    search_thresholds,
)
from ipd.labels import LabelSpace, load_label_space
from ipd.tagging.tagger import Clip2FrameTagger, TagActivations
from ipd.timebase import HOP, SAMPLE_RATE

MEL_PERIOD = HOP / SAMPLE_RATE  # 0.032 s per mel frame
ScoreFile = Callable[[Path], TagActivations]


@dataclass(frozen=True)
class ColumnMap:
    """Which model outputs stand for each evaluated class.

    Attributes:
        names: evaluated class names (dataset order; classes the model lacks are left out).
        indices: per class, the model output indices whose max is its score.
        missing: dataset classes with no model output.
    """

    names: tuple[str, ...]
    indices: tuple[tuple[int, ...], ...]
    missing: tuple[str, ...]

    @classmethod
    def build(cls, labels: LabelSpace, model_tags: Sequence[str]) -> ColumnMap:
        position = {t.strip().lower(): i for i, t in enumerate(model_tags)}
        names, indices, missing = [], [], []
        for inst in labels.instruments:
            keys = [inst.name] if inst.name.lower() in position else list(inst.mtt_tags)
            found = tuple(position[k.lower()] for k in keys if k.lower() in position)
            if found:
                names.append(inst.name)
                indices.append(found)
            else:
                missing.append(inst.name)
        return cls(tuple(names), tuple(indices), tuple(missing))

    def only(self, names: set[str]) -> ColumnMap:
        """The classes whose lower-case name is in ``names`` (e.g. the frame-label columns)."""
        keep = [i for i, n in enumerate(self.names) if n.lower() in names]
        dropped = tuple(n for n in self.names if n.lower() not in names)
        return ColumnMap(
            tuple(self.names[i] for i in keep),
            tuple(self.indices[i] for i in keep),
            self.missing + dropped,
        )

    def apply(self, scores: np.ndarray) -> np.ndarray:
        """``(..., model outputs) -> (..., len(names))`` (max over each class's outputs)."""
        return np.stack([scores[..., list(ix)].max(axis=-1) for ix in self.indices], axis=-1)


def clip_level_result(names: Sequence[str], targets: np.ndarray, scores: np.ndarray) -> dict:
    """Mean clip-level AUC/AP (per class and per clip) and the per-class values.

    Args:
        names: class names, ``N``.
        targets: ``(clips, N)`` 0/1 clip tags.
        scores: ``(clips, N)`` clip-level outputs.
    """
    auc, ap = auc_per_class(targets, scores), ap_per_class(targets, scores)
    per_class = {
        n: {"auc": _num(a), "ap": _num(p), "positives": int(t)}
        for n, a, p, t in zip(names, auc, ap, np.asarray(targets).sum(0), strict=True)
    }
    summary = {k: _num(v) for k, v in clip_level_scores(targets, scores).items()}
    return {"clips": len(targets), **summary, "per_class": per_class}


def frame_level_result(
    names: Sequence[str],
    val_tracks: Sequence[tuple[np.ndarray, np.ndarray]],
    test_tracks: Sequence[tuple[np.ndarray, np.ndarray]],
    pseudo_clip_length: int,
    pool: str = "mean",
    num_candidates: int = NUM_CANDIDATES,
) -> dict:
    """Thresholds from validation pseudo-clips, scores on the test frames, and the baseline.

    Args:
        names: class names, ``N``.
        val_tracks: per validation track ``(scores, labels)``, each ``(frames, N)``.
        test_tracks: per test track ``(scores, labels)``, each ``(frames, N)``.
        pseudo_clip_length: frames per pseudo-clip (320 mel frames = 20 frames of 0.512 s).
        pool: how pseudo-clip scores pool frames (the model's clip pooling).
    """
    if not val_tracks or not test_tracks:
        raise InputError("frame-level evaluation needs validation and test tracks with labels")
    cut = [pseudo_clips(s, y, pseudo_clip_length, pool) for s, y in val_tracks]
    clip_scores, clip_labels = (np.concatenate([c[i] for c in cut]) for i in (0, 1))
    found = search_thresholds(clip_scores, clip_labels, num_candidates)
    scores = np.concatenate([s for s, _ in test_tracks])
    labels = np.concatenate([y for _, y in test_tracks])
    per_class = {
        n: {"threshold": float(t), "val_pseudo_clip_f1": float(f), "test_positives": int(p)}
        for n, t, f, p in zip(names, found.thresholds, found.f1, labels.sum(0), strict=True)
    }
    return {
        "val_tracks": len(val_tracks),
        "val_pseudo_clips": int(sum(len(c[0]) for c in cut)),
        "test_tracks": len(test_tracks),
        "test_frames": len(labels),
        "model": frame_level_scores(labels, binarize(scores, found.thresholds)),
        "all_positive": frame_level_scores(labels, np.ones_like(labels)),
        "per_class": per_class,
    }


def _num(x: float) -> float | None:
    return None if x != x else float(x)  # NaN (undefined) -> JSON null


def read_frame_labels(path: str | Path) -> dict[str, tuple[np.ndarray, list[str], np.ndarray]]:
    """``annotations/frame_labels.csv`` -> video id -> ``(times (F,), class names, (F, C) 0/1)``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: frame labels not found")
    rows: dict[str, list[tuple[float, list[int]]]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None) or []
        if header[:3] != ["video_id", "frame_index", "timestamp_s"] or len(header) < 4:
            raise InputError(f"{path}: expected 'video_id,frame_index,timestamp_s,<classes>'")
        for fields in reader:
            try:
                if len(fields) != len(header) or any(v not in ("0", "1") for v in fields[3:]):
                    raise ValueError("fields")
                row = (float(fields[2]), [int(v) for v in fields[3:]])
                rows.setdefault(fields[0], []).append(row)
            except ValueError:
                raise InputError(
                    f"{path}, row {reader.line_num}: malformed frame-label row"
                ) from None
    out = {}
    for vid, items in rows.items():
        items.sort(key=lambda r: r[0])
        out[vid] = (np.array([t for t, _ in items]), header[3:], np.array([y for _, y in items]))
    return out


def align(model_times: np.ndarray, period: float, label_times: np.ndarray) -> np.ndarray:
    """Index of the model frame within ``period / 2`` of each label time, ``-1`` where none.

    Args:
        model_times: ``(T,)`` start times (s) of the model's frames, every ``period`` s.
        label_times: ``(F,)`` label timestamps (s).
    """
    idx = np.rint((np.asarray(label_times) - model_times[0]) / period).astype(np.int64)
    ok = (idx >= 0) & (idx < len(model_times))
    near = np.zeros(len(idx), bool)
    near[ok] = np.abs(model_times[idx[ok]] - label_times[ok]) <= period / 2 + 1e-9
    return np.where(near, idx, -1)


def frame_tracks(
    score_file: ScoreFile,
    columns: ColumnMap,
    entries: Sequence,
    labels: dict[str, tuple[np.ndarray, list[str], np.ndarray]],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per index entry with frame labels: ``(scores, labels)`` on the matched frames."""
    tracks = []
    for entry in entries:
        if entry.video_id not in labels:
            continue
        times, classes, y = labels[entry.video_id]
        lower = [c.lower() for c in classes]
        missing = [n for n in columns.names if n.lower() not in lower]
        if missing:
            raise InputError(f"frame labels of {entry.video_id} have no column for {missing}")
        acts = score_file(entry.path)
        idx = align(acts.times, acts.period_s, times)
        keep = idx >= 0
        cols = [lower.index(n.lower()) for n in columns.names]
        tracks.append((columns.apply(acts.frame)[idx[keep]], y[keep][:, cols]))
    return tracks


def pseudo_clip_frames(label_times: np.ndarray) -> int:
    """Labelled frames per 320-mel-frame pseudo-clip (20 on the 0.512-s grid)."""
    step = float(np.median(np.diff(label_times))) if len(label_times) > 1 else MEL_PERIOD
    return max(1, round(PSEUDO_CLIP_FRAMES * MEL_PERIOD / step))


def learned_sigmas(tagger: Clip2FrameTagger) -> np.ndarray | None:
    """``(N,)`` learned Gaussian sigmas (segments) of an adaptive model, else None."""
    acc = tagger.model.accumulation
    if acc is None or not isinstance(acc.log_sigma, torch.nn.Parameter):
        return None
    return acc.sigma.detach().numpy().astype(np.float64)


def load_tagger(
    clip2frame_dir: Path | None = None, model: Path | None = None, checkpoint: Path | None = None
) -> Clip2FrameTagger:
    """The released model folder, a :meth:`Clip2FrameTagger.save` file, or a SoundTagger ckpt."""
    if clip2frame_dir is not None:
        return Clip2FrameTagger.from_released(clip2frame_dir)
    if model is not None:
        return Clip2FrameTagger.load(model)
    if checkpoint is None:
        raise InputError("give --clip2frame-dir, --model or --checkpoint")
    return tagger_from_checkpoint(checkpoint)


def tagger_from_checkpoint(path: str | Path) -> Clip2FrameTagger:
    """A :class:`Clip2FrameTagger` around a clip2frame net trained by ``ipd train sound``.

    Tags are the names of the label space the run trained on (``data.labels``), windows the
    run's extraction windows, standardization the system's buffers.
    """
    from ipd.models.clip2frame import Clip2Frame
    from ipd.staging.checkpoints import extract_params_of, load_system, read_checkpoint
    from ipd.systems.sound import SoundTagger

    system = load_system(SoundTagger, path)
    if not isinstance(system.net, Clip2Frame):
        raise InputError(f"{path}: the sound net is {type(system.net).__name__}, not Clip2Frame")
    data = read_checkpoint(path).get("datamodule_hyper_parameters", {})
    try:
        space = load_label_space(data.get("labels"))
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read its label space ({err})") from err
    return Clip2FrameTagger(
        system.net,
        space.names,
        extract_params_of(path).windows,
        system.mel_mean.numpy().astype(np.float64),
        system.mel_std.numpy().astype(np.float64),
        name=f"SoundTagger {Path(path).name}",
    )


def _cell(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def markdown(result: dict) -> str:
    """Markdown tables of a :func:`clip_level_result` / :func:`frame_level_result` report."""
    lines = [f"# Tagging evaluation: {result.get('model', '')}", ""]
    clip = result.get("clip_level")
    if clip:
        lines += [
            f"## Clip level ({clip['split']} split, {clip['clips']} clips)",
            "",
            "| AUC per class | AUC per clip | MAP per class | MAP per clip |",
            "| --- | --- | --- | --- |",
            "| "
            + " | ".join(_cell(clip[k]) for k in ("auc_class", "auc_clip", "map_class", "map_clip"))
            + " |",
            "",
            "| tag | AUC | AP | positives |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {n} | {_cell(v['auc'])} | {_cell(v['ap'])} | {v['positives']} |"
            for n, v in clip["per_class"].items()
        ]
        lines.append("")
    frame = result.get("frame_level")
    if frame:
        keys = [f"{m}_{a}" for m in ("precision", "recall", "f1") for a in ("micro", "macro")]
        lines += [
            f"## Frame level ({frame['test_tracks']} test tracks, {frame['test_frames']} frames; "
            f"thresholds from {frame['val_pseudo_clips']} validation pseudo-clips)",
            "",
            "| | " + " | ".join(k.replace("_", " ") for k in keys) + " |",
            "| --- |" + " --- |" * len(keys),
        ]
        for row, name in (("model", "model"), ("all_positive", "all positive")):
            lines.append(f"| {name} | " + " | ".join(_cell(frame[row][k]) for k in keys) + " |")
        lines += [
            "",
            "| tag | threshold | val pseudo-clip F1 | test positives |",
            "| --- | --- | --- | --- |",
        ]
        lines += [
            f"| {n} | {v['threshold']:.3f} | {v['val_pseudo_clip_f1']:.3f} "
            f"| {v['test_positives']} |"
            for n, v in frame["per_class"].items()
        ]
        lines.append("")
    lines += [f"- {note}" for note in result.get("notes", [])]
    return "\n".join(lines).rstrip() + "\n"
