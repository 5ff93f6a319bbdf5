"""The evaluation report: the tables of ``ipd evaluate`` plus pictures of some test videos."""

from __future__ import annotations

from pathlib import Path

from ipd.data.index import read_index
from ipd.evaluation.fusion import fuse
from ipd.evaluation.keypoints import load_keypoints
from ipd.evaluation.sound import frame_labels, read_sound_activity
from ipd.features import cache as feature_store
from ipd.features.batch import extract_many
from ipd.features.params import ExtractParams
from ipd.features.reader import open_features
from ipd.labels import load_label_space

REPORT_SIZE = 256  # the report shows frames at the evaluation's 256-px size


def write_evaluation_report(
    dataset: str | Path,
    out: str | Path,
    result: dict,
    labels: str | Path | None = None,
    cache: str | Path | None = None,
    split: str = "test",
    videos_per_instrument: int = 1,
) -> Path:
    """``out/report/index.html`` for the result of :func:`ipd.staging.evaluate.evaluate_split`."""
    from ipd.report.html import ReportVideo, write_report

    dataset, out = Path(dataset), Path(out)
    cache = feature_store.location(cache) if cache is not None else out / "cache"
    label_space = load_label_space(labels)
    annotations = load_keypoints(dataset / "annotations" / f"keypoints_{split}.json", label_space)
    preds = result["predictions"]
    chosen = _pick_videos(read_index(dataset, split), videos_per_instrument)
    params = ExtractParams(size=REPORT_SIZE)
    extract_many([(e.video_id, e.path) for e in chosen], cache, params, streams=("rgb",))
    activity_csv = dataset / "annotations" / "sound_activity.csv"
    activity = (
        read_sound_activity(activity_csv, label_space, ignore_unknown=True)
        if activity_csv.is_file()
        else {}
    )
    videos = []
    for entry in chosen:
        vid = entry.video_id
        with open_features(cache, vid, ("rgb",), params) as feats:
            frames, times = feats.rgb(), feats.times.copy()
        instrument = entry.tags[0]
        rows = _video_rows(preds, vid)
        truth = frame_labels(activity.get(vid, []), times, tuple(label_space.names))
        videos.append(
            ReportVideo(
                video_id=vid,
                instrument=instrument,
                frames=frames,
                times=times,
                predictions=rows,
                annotation=annotations.get(vid),
                sound_truth=truth[:, label_space.index(instrument)],
            )
        )
    found = result.get("extra", {})
    titles = {
        "sound_auc": "Sound model, frame-level AUC (Table 4.6)",
        "hit_rate": "Object model, hit rate (Table 4.7)",
        "hit_rate_frames": "Object model, hit rate on the boxed test frames",
    }
    extra = {title: {**found[key]["per_class"], "Average": found[key]["mean"]}
             for key, title in titles.items() if key in found}  # fmt: skip
    overlay = next((n for n in ("SOT0503xOxS", "SOT0503") if n in rows), None) if videos else None
    return write_report(
        out / "report",
        result["metrics"],
        videos,
        title=f"Instrument-playing action detection: {dataset.name} ({split})",
        extra_tables=extra,
        claims=result.get("claims"),
        overlay_model=overlay,
    )


def _pick_videos(entries, per_instrument: int):
    """The first ``per_instrument`` tagged videos of each instrument, in index order."""
    counts: dict[str, int] = {}
    chosen = []
    for entry in entries:
        if not entry.tags:
            continue
        tag = entry.tags[0]
        if counts.get(tag, 0) < per_instrument:
            counts[tag] = counts.get(tag, 0) + 1
            chosen.append(entry)
    return chosen


def _video_rows(preds: dict, vid: str) -> dict:
    """This video's predictions per row, with the fusions the report shows."""
    rows = {name: p[vid] for name, p in preds.items() if vid in p}
    sound, obj = rows.get("Sound"), rows.get("Object")
    for name in [n for n in rows if n not in ("Sound", "Object")]:
        if obj is not None and sound is not None:
            rows[f"{name}xOxS"] = fuse(rows[name], obj, sound)
    if obj is not None and sound is not None:
        rows["SxO"] = fuse(obj, sound)
    return {k: rows[k] for k in sorted(rows, key=lambda k: (k.count("x"), k))}
