"""MedleyDB: per-stem activation annotations -> frame labels on the 1.953125-fps analysis grid.

Inputs are MedleyDB's own files (found recursively, matched by track name):
- ``<Track>_ACTIVATION_CONF.lab``: CSV ``time,S01,S02,...``, one row every 2048/44100 s with each
  stem's activation confidence in [0, 1];
- ``<Track>_METADATA.yaml``: ``stems: {S01: {instrument: drum set, ...}, ...}``;
- optionally ``<Track>_MIX.wav`` (``--audio``): the track's audio (its length, its index row).

A stem is active where its confidence is >= 0.5 (MedleyDB's convention; ``--threshold``). An
instrument is active where any stem whose MedleyDB label is in its ``medleydb_labels`` is active,
which gives the dissertation's aggregations (Guitar = acoustic + clean electric + distorted electric
guitar; Saxophone = baritone + soprano + tenor saxophone). Each confidence sample stands for the
time up to halfway to its neighbours, so activity is a set of intervals.

Outputs, in the dataset folder:
- ``annotations/sound_activity.csv``: ``video_id,instrument,start_s,end_s`` (FORMATS.md), the
  active intervals; ``video_id`` is the MedleyDB track name;
- ``annotations/frame_labels.csv``: ``video_id,frame_index,timestamp_s,<one 0/1 column per
  instrument>`` for every analysis frame ``k`` at ``t = k * 0.512`` s; a label is 1 exactly when
  ``t`` falls in an interval of ``sound_activity.csv``;
- ``index.csv`` rows (``--split``, default ``test``) for tracks whose mix was found.

By default only tracks with at least one of the label space's instruments are kept (the
dissertation's 111 songs); ``--all-tracks`` keeps every track.

Usage::

    python -m data_tools.medleydb --annotations MedleyDB/Annotations --metadata MedleyDB/Audio \\
        --audio MedleyDB/Audio --out DATASET
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import yaml

from data_tools.common import (
    Summary,
    dataset_path,
    iter_csv,
    load_labels,
    merge_index,
    parse_float,
    row_error,
    write_csv,
)
from ipd.errors import InputError
from ipd.labels import LabelSpace
from ipd.timebase import analysis_times, num_analysis_frames

ACTIVATION_SUFFIX = "_ACTIVATION_CONF.lab"
METADATA_SUFFIX = "_METADATA.yaml"
MIX_SUFFIX = "_MIX.wav"
THRESHOLD = 0.5  # MedleyDB: a stem is active where its activation confidence is >= 0.5
STEM_ID = re.compile(r"^S\d+$")


def read_activation_conf(path: Path) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Parse ``<Track>_ACTIVATION_CONF.lab``.

    Returns:
        times ``(T,)`` seconds, strictly increasing; stem ids (``["S01", ...]``); confidences
        ``(T, S)`` in [0, 1].
    """
    rows = iter_csv(path)
    first = next(rows, None)
    if first is None:
        raise InputError(f"{path}: empty activation file")
    row, header = first
    if header[0].lower() != "time" or len(header) < 2 or not all(map(STEM_ID.match, header[1:])):
        raise row_error(path, row, "expected a header 'time,S01,S02,...'")
    values = []
    for row, fields in rows:
        if len(fields) != len(header):
            raise row_error(path, row, f"{len(fields)} fields, the header has {len(header)}")
        values.append([parse_float(path, row, header[i], x) for i, x in enumerate(fields)])
        if len(values) > 1 and values[-1][0] <= values[-2][0]:
            raise row_error(path, row, f"time {fields[0]} does not increase")
        if not all(-1e-6 <= v <= 1 + 1e-6 for v in values[-1][1:]):
            raise row_error(path, row, "activation confidence outside [0, 1]")
    if len(values) < 2:
        raise InputError(f"{path}: fewer than two activation rows")
    table = np.asarray(values, dtype=np.float64)
    return table[:, 0], header[1:], table[:, 1:]


def read_stem_instruments(path: Path) -> dict[str, list[str]]:
    """``<Track>_METADATA.yaml`` -> stem id -> its MedleyDB instrument label(s), lower case."""
    try:
        meta = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as err:
        raise InputError(f"{path}: not a readable YAML file ({err})") from err
    stems = meta.get("stems") if isinstance(meta, dict) else None
    if not isinstance(stems, dict):
        raise InputError(f"{path}: no 'stems' mapping")
    out = {}
    for stem_id, stem in stems.items():
        inst = stem.get("instrument") if isinstance(stem, dict) else None
        names = [inst] if isinstance(inst, str) else inst
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise InputError(f"{path}: stem {stem_id} has no instrument label")
        out[str(stem_id)] = [n.strip().lower() for n in names]
    return out


def instrument_intervals(
    times: np.ndarray,
    stems: list[str],
    conf: np.ndarray,
    stem_instruments: dict[str, list[str]],
    labels: LabelSpace,
    threshold: float = THRESHOLD,
) -> dict[str, list[tuple[float, float]]]:
    """Active ``[start, end)`` intervals (seconds) of each instrument with a stem in the track.

    Sample ``j`` covers ``[(t[j-1] + t[j]) / 2, (t[j] + t[j+1]) / 2)``; the first cell starts at
    ``max(0, t[0] - hop / 2)``, the last ends at ``t[-1] + hop / 2``. Boundaries are rounded to
    0.1 ms.
    """
    hop = float(np.median(np.diff(times)))
    edges = np.concatenate(
        [[max(0.0, times[0] - hop / 2)], (times[1:] + times[:-1]) / 2, [times[-1] + hop / 2]]
    )
    out = {}
    for inst in labels.instruments:
        wanted = {m.lower() for m in inst.medleydb_labels}
        cols = [i for i, s in enumerate(stems) if wanted & set(stem_instruments.get(s, []))]
        if not cols:
            continue
        active = (conf[:, cols] >= threshold).any(axis=1).astype(np.int8)
        change = np.flatnonzero(np.diff(np.concatenate([[0], active, [0]])))
        starts, ends = change[0::2], change[1::2]  # runs of active samples [start, end)
        out[inst.name] = [
            (round(float(edges[a]), 4), round(float(edges[b]), 4))
            for a, b in zip(starts, ends, strict=True)
        ]
    return out


def frame_labels(
    intervals: dict[str, list[tuple[float, float]]], names: list[str], n_frames: int
) -> np.ndarray:
    """``(n_frames, len(names))`` 0/1 labels: 1 when ``t = k * 0.512`` is in an interval."""
    t = analysis_times(n_frames)
    out = np.zeros((n_frames, len(names)), dtype=np.uint8)
    for g, name in enumerate(names):
        for start, end in intervals.get(name, []):
            out[(t >= start) & (t < end), g] = 1
    return out


def convert(
    annotations: Path,
    out: Path,
    metadata: Path | None = None,
    audio: Path | None = None,
    split: str = "test",
    threshold: float = THRESHOLD,
    all_tracks: bool = False,
    labels_path: Path | None = None,
) -> Summary:
    """Write ``sound_activity.csv``, ``frame_labels.csv`` and ``index.csv`` rows (module doc)."""
    import soundfile  # only to read the mix length

    labels = load_labels(labels_path)
    labs = _by_track(annotations, ACTIVATION_SUFFIX)
    metas = _by_track(metadata or annotations, METADATA_SUFFIX)
    mixes = _by_track(audio, MIX_SUFFIX) if audio is not None else {}
    if not labs:
        raise InputError(f"{annotations}: no *{ACTIVATION_SUFFIX} files found")
    summary = Summary(f"MedleyDB activations ({annotations}), threshold {threshold}")
    activity, frames, rows = [], [], []
    for track, lab in sorted(labs.items()):
        if track not in metas:
            summary.skip("no metadata YAML", track)
            continue
        times, stems, conf = read_activation_conf(lab)
        stem_instruments = read_stem_instruments(metas[track])
        for stem in sorted(set(stems) - set(stem_instruments)):
            summary.skip("stem not in the metadata (ignored)", f"{track}/{stem}")
        intervals = instrument_intervals(times, stems, conf, stem_instruments, labels, threshold)
        if not intervals and not all_tracks:
            summary.skip("none of the instruments", track)
            continue
        hop = float(np.median(np.diff(times)))
        duration = times[-1] + hop / 2
        if track in mixes:
            try:
                duration = soundfile.info(str(mixes[track])).duration
            except (RuntimeError, OSError) as err:  # soundfile raises LibsndfileError(RuntimeError)
                raise InputError(f"{mixes[track]}: cannot read the mix ({err})") from err
            rows.append(
                {
                    "video_id": track,
                    "split": split,
                    "tags": ";".join(name for name, spans in intervals.items() if spans),
                    "path": dataset_path(mixes[track], out),
                    "duration_s": round(duration, 3),
                }
            )
        elif audio is not None:
            summary.skip("no mix audio (not in index.csv)", track)
        n = num_analysis_frames(duration)
        labs_k = frame_labels(intervals, labels.names, n)
        activity += [(track, i, s, e) for i, spans in intervals.items() for s, e in spans]
        t = analysis_times(n)
        frames += [(track, k, round(float(t[k]), 3), *labs_k[k].tolist()) for k in range(n)]
        summary.count("tracks")
        summary.count("analysis frames", n)
        for name in intervals:
            summary.count(f"tracks with a {name} stem")
        for g, name in enumerate(labels.names):
            summary.count(f"active frames of {name}", int(labs_k[:, g].sum()))
    ann = out / "annotations"
    write_csv(ann / "sound_activity.csv", ("video_id", "instrument", "start_s", "end_s"), activity)
    write_csv(
        ann / "frame_labels.csv", ("video_id", "frame_index", "timestamp_s", *labels.names), frames
    )
    summary.note(f"wrote {ann / 'sound_activity.csv'} and {ann / 'frame_labels.csv'}")
    if rows:
        merge_index(out / "index.csv", rows, [split])
        summary.note(f"wrote {out / 'index.csv'} ({len(rows)} {split} rows)")
    return summary


def _by_track(folder: Path, suffix: str) -> dict[str, Path]:
    """Track name -> file ``<Track><suffix>`` under ``folder`` (recursive)."""
    if not Path(folder).is_dir():
        raise InputError(f"{folder}: not a directory")
    return {p.name[: -len(suffix)]: p for p in sorted(Path(folder).rglob(f"*{suffix}"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m data_tools.medleydb",
        description="MedleyDB activation confidences -> frame labels on the 0.512-s grid.",
    )
    parser.add_argument(
        "--annotations", type=Path, required=True, help="folder with *_ACTIVATION_CONF.lab"
    )
    parser.add_argument("--metadata", type=Path, help="folder with *_METADATA.yaml (default: same)")
    parser.add_argument("--audio", type=Path, help="folder with *_MIX.wav (for index.csv)")
    parser.add_argument("--out", type=Path, required=True, help="dataset folder")
    parser.add_argument(
        "--split", default="test", choices=("train", "val", "test"), help="index.csv split"
    )
    parser.add_argument("--threshold", type=float, default=THRESHOLD, help="active if conf >= this")
    parser.add_argument("--all-tracks", action="store_true", help="keep tracks without instruments")
    parser.add_argument("--labels", type=Path, help="label-space YAML (default: the repository's)")
    args = parser.parse_args(argv)
    try:
        summary = convert(
            args.annotations,
            args.out,
            args.metadata,
            args.audio,
            args.split,
            args.threshold,
            args.all_tracks,
            args.labels,
        )
    except InputError as err:
        parser.exit(2, f"error: {err}\n")
    print(summary.render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
