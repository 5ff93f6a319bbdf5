"""``ipd evaluate``: predictions of every trained model on a test split, fusion, metrics, report.

Reads a dataset (``index.csv`` + ``annotations/``), extracts the features it lacks, runs each model
once per video (predictions are stored and reused when their checkpoint is unchanged), evaluates
the rows of Tables 4.6-4.10 and 4.12-4.13, and writes ``metrics.json``, ``tables.md`` + CSVs,
``sound_auc.json``, ``hit_rate.json`` (Table 4.7: the object model on instrument images with
boxes, ``boxes``), ``hit_rate_frames.json`` (on the dataset's own boxed frames, when ``boxes`` is
another folder) and ``claims.json``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ipd.data.index import read_index
from ipd.errors import InputError
from ipd.evaluation.action import evaluate_rows
from ipd.evaluation.claims import check_claims
from ipd.evaluation.fusion import fuse_all
from ipd.evaluation.keypoints import load_keypoints
from ipd.evaluation.names import fusion_name, model_name
from ipd.evaluation.objects import hit_rate, read_voc_dir
from ipd.evaluation.predictions import Prediction, load_predictions
from ipd.evaluation.sound import read_sound_activity, sound_frame_auc
from ipd.evaluation.spread import video_ci95
from ipd.evaluation.tables import metrics_to_json, read_metrics, write_metrics, write_tables
from ipd.executors import Executor
from ipd.features import cache as feature_store
from ipd.features.batch import extract_many
from ipd.features.params import ExtractParams
from ipd.files import write_text_atomic
from ipd.inference import image_maps
from ipd.labels import LabelSpace, load_label_space
from ipd.staging.checkpoints import extract_params_of, load_system
from ipd.staging.teach import STREAMS, teach
from ipd.staging.train import selected_checkpoint
from ipd.systems.video import ActionLocaliser, ObjectLocaliser


@dataclass
class Models:
    """Checkpoints to evaluate; ``actions`` are named by their target (``VT``, ``ST05``, ...)."""

    sound: Path | None = None
    object: Path | None = None
    actions: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def from_runs(cls, runs: str | Path) -> Models:
        """Discover ``runs/{sound,object,action_*}/checkpoints/best.ckpt`` (the demo's layout;
        ``last.ckpt`` for a run that has not validated yet)."""
        runs = Path(runs)
        folders = sorted({p.parent.parent for p in runs.glob("*/checkpoints/*.ckpt")})
        best = {f.name: selected_checkpoint(f) for f in folders}
        if not best:
            raise InputError(f"{runs}: no */checkpoints/best.ckpt run folders")
        models = cls(sound=best.get("sound"), object=best.get("object"))
        for name, path in best.items():
            if name.startswith("action"):
                models.add_action(path, fallback=name.removeprefix("action_"))
        return models

    def add_action(self, path: str | Path, fallback: str | None = None) -> str:
        """Add an action checkpoint under its paper name (``ST05``); a second model with the same
        name (e.g. ST05 with another sound teacher) takes ``fallback`` (its run folder's name)."""
        system = load_system(ActionLocaliser, path)
        target = system.target
        name = model_name(
            target.value,
            system.v if target.needs_sound else None,
            system.u if target.needs_object else None,
        )
        if name in self.actions:
            name = fallback or f"{name}_{len(self.actions)}"
        self.actions[name] = Path(path)
        return name


def evaluate_split(
    models: Models,
    dataset: str | Path,
    out: str | Path,
    cache: str | Path | None = None,
    split: str = "test",
    labels: str | Path | None = None,
    workers: int = 1,
    progress: bool = True,
    boxes: str | Path | None = None,
    corners: bool = False,
    precision: str = "32",
    executor: Executor | None = None,
) -> dict:
    """Evaluate ``models`` on ``dataset``'s ``split``; returns the metrics table (row -> scores).

    ``boxes``: the object hit rate's images with boxes (a VOC folder: ``Annotations/`` +
    ``JPEGImages/``; default ``dataset/annotations/boxes``). ``corners``: upsample maps corner to
    corner as the authors' scripts, not with each cell where the network looks
    (:mod:`ipd.evaluation.action`). ``precision``: ``32`` or ``bf16`` for every network
    (:mod:`ipd.precision`). ``executor``: where feature extraction and the per-video
    predictions run (e.g. Ray); default: extraction in ``workers`` local processes, predictions
    in this process.
    """
    dataset, out = Path(dataset), Path(out)
    cache = feature_store.location(cache) if cache is not None else out / "cache"
    label_space = load_label_space(labels)
    names = label_space.names
    keypoints = dataset / "annotations" / f"keypoints_{split}.json"
    annotations = load_keypoints(keypoints, label_space)
    entries = read_index(dataset, split)
    video_ids = [e.video_id for e in entries]
    unknown = sorted({ann.video_id for ann in annotations.values()} - set(video_ids))
    if unknown:
        raise InputError(
            f"{keypoints}: annotates {len(unknown)} video(s) not in the {split} split of "
            f"{dataset / 'index.csv'}: {', '.join(unknown[:3])}"
        )

    preds: dict[str, dict[str, Prediction]] = {}
    for row, kind, ckpt in _runs(models):
        _ensure_features(ckpt, kind, entries, cache, workers, progress, executor)
        folder = out / "predictions" / row
        report = teach(
            kind, ckpt, dataset, cache, folder, (split,), labels, progress, precision, executor
        )
        if report.failed:
            raise InputError(f"{folder}: {len(report.failed)} videos failed: {report.failed[0][1]}")
        preds[row] = load_predictions(folder, video_ids)

    rows: dict[str, dict[str, Prediction] | None] = {"Center": None}
    sound, obj = preds.get("Sound"), preds.get("Object")
    if sound:
        rows["Sound"] = sound
    if obj:
        rows["Object"] = obj
    if sound and obj:
        rows["SxO"] = fuse_all(obj, sound)
    for name in models.actions:
        rows[name] = preds[name]
        if obj:
            rows[fusion_name(name, with_object=True)] = fuse_all(preds[name], obj)
        if sound:
            rows[fusion_name(name, with_sound=True)] = fuse_all(preds[name], sound)
        if obj and sound:
            rows[fusion_name(name, True, True)] = fuse_all(preds[name], obj, sound)
    results = evaluate_rows(annotations, rows, names, corners)
    instrument_of = {vid: ann.instrument for vid, ann in annotations.items()}
    table = metrics_to_json(results)
    for name, row in results.items():  # bootstrap over the test videos (ipd.evaluation.spread)
        table[name]["ci95"] = video_ci95(row, instrument_of)
    write_metrics(out / "metrics.json", table)
    metrics = read_metrics(out / "metrics.json")
    write_tables(metrics, out)

    extra = {}
    activity_csv = dataset / "annotations" / "sound_activity.csv"
    if sound and activity_csv.is_file():
        activity = read_sound_activity(activity_csv, label_space, ignore_unknown=True)
        extra["sound_auc"] = asdict(sound_frame_auc(sound, activity, names))
    if models.object is not None:
        box_sets = _box_sets(dataset, boxes)
        extra.update(_hit_rates(models.object, box_sets, label_space, corners, precision))
    for key, value in extra.items():
        write_text_atomic(out / f"{key}.json", json.dumps(value, indent=2) + "\n")
    claims = check_claims(metrics, **_claim_rows(models))
    write_text_atomic(
        out / "claims.json",
        json.dumps([{"claim": c, "holds": h, "detail": d} for c, h, d in claims], indent=2) + "\n",
    )
    return {"metrics": metrics, "extra": extra, "claims": claims, "predictions": preds}


def _runs(models: Models):
    if models.sound is not None:
        yield "Sound", "sound", models.sound
    if models.object is not None:
        yield "Object", "object", models.object
    for name, path in models.actions.items():
        yield name, "action", path


def _claim_rows(models: Models) -> dict[str, str]:
    """Pick the rows the claims compare: the paper's thresholds (ST05, OT03, SOT0503) when they
    ran, else the first model of each target (e.g. of a threshold sweep)."""
    rows = {"vt": "VT"} if "VT" in models.actions else {}
    for key, prefix, paper in (
        ("st", "ST", "ST05"),
        ("ot", "OT", "OT03"),
        ("sot", "SOT", "SOT0503"),
    ):
        found = [n for n in models.actions if n.startswith(prefix) and n[len(prefix) :].isdigit()]
        if paper in found:
            rows[key] = paper
        elif found:
            rows[key] = found[0]
    return rows


def _ensure_features(
    ckpt: Path,
    kind: str,
    entries,
    cache: Path,
    workers: int,
    progress: bool,
    executor: Executor | None = None,
):
    """Extract the stream a checkpoint needs for these videos (cached videos are skipped)."""
    params: ExtractParams = extract_params_of(ckpt)
    stream = STREAMS[kind]
    items = [(e.video_id, e.path) for e in entries]
    report = extract_many(
        items, cache, params, workers, (stream,), progress=progress, executor=executor
    )
    if report.failed:
        video_id, message = report.failed[0]
        raise InputError(f"{message} ({len(report.failed)} videos failed feature extraction)")


def _box_sets(dataset: Path, boxes: str | Path | None) -> dict[str, Path]:
    """The VOC folders the hit rate is measured on, by result name: ``hit_rate`` on ``boxes``
    (else on the dataset's own boxes, when it has them), ``hit_rate_frames`` on the dataset's
    own boxes too when ``boxes`` is another folder."""
    own = dataset / "annotations" / "boxes"
    has_own = (own / "Annotations").is_dir()
    if boxes is None:
        return {"hit_rate": own} if has_own else {}
    sets = {"hit_rate": Path(boxes)}
    if has_own and Path(boxes) != own:
        sets["hit_rate_frames"] = own
    return sets


def _hit_rates(
    checkpoint: Path,
    box_sets: dict[str, Path],
    labels: LabelSpace,
    corners: bool = False,
    precision: str = "32",
) -> dict:
    """:func:`_hit_rate` of one object checkpoint (loaded once) on each folder, as dicts."""
    if not box_sets:
        return {}
    system = load_system(ObjectLocaliser, checkpoint)
    size = extract_params_of(checkpoint).size
    return {
        key: asdict(_hit_rate(system, size, folder, labels, corners, precision))
        for key, folder in box_sets.items()
    }


def _hit_rate(
    system: ObjectLocaliser,
    size: int,
    boxes: Path,
    labels: LabelSpace,
    corners: bool = False,
    precision: str = "32",
):
    """Object hit rate (Table 4.7) on the VOC images, each resized (longer side ``size``) like
    the training frames; the maps' cells are placed where the network looks."""
    import cv2

    images = read_voc_dir(boxes / "Annotations", labels)
    maps, grids = {}, {}
    for image in images:
        path = boxes / "JPEGImages" / f"{image.image_id}.jpg"
        bgr = cv2.imread(str(path))
        if bgr is None:
            raise InputError(f"{path}: cannot read the image")
        h, w = bgr.shape[:2]
        scale = size / max(h, w)
        new = (max(1, round(w * scale)), max(1, round(h * scale)))
        rgb = cv2.cvtColor(cv2.resize(bgr, new, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
        maps[image.image_id] = image_maps(system, rgb, precision)
        if not corners:
            grids[image.image_id] = system.map_grid(new[1], new[0])
    return hit_rate(images, maps, labels.names, grids)
