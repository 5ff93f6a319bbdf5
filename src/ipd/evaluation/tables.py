"""Row names, ``metrics.json`` and the Markdown/CSV tables of Tables 4.8-4.10 and 4.12-4.13.

Row names follow the paper: baselines ``Center``, ``Sound``, ``Object``, ``SxO``; action models
``<target><v code><u code>`` (``VT``, ``ST05``, ``OT03``, ``SOT0503``; a threshold's code is its
decimal digits without the point: 0.5 -> ``05``, 0.25 -> ``025``, 1 -> ``10``); fusions append
``xO`` and/or ``xS`` (``SOT0503xO``, ``SOT0503xS``, ``SOT0503xOxS``).

``metrics.json`` maps a row name to::

    {"temporal_auc": float | null,      # mean over instruments (null: not applicable)
     "spatial_px": float | null,        # pixels of the 256-px frame, mean over all positive
                                        # frames of all videos (the authors' overall figure)
     "spatial_px_macro": float | null,  # mean over instruments of the per-instrument means
     "per_instrument": {name: {"temporal_auc": float | null, "spatial_px": float | null}},
     "skipped_videos": {"temporal": [video ids without an AUC], "spatial": [without positives]},
     "ci95": {"temporal_auc": [lo, hi] | null, "spatial_px": [lo, hi] | null}}  # optional

``ci95`` (written by ``ipd evaluate``): 95 % bootstrap intervals over the test videos
(:func:`ipd.evaluation.spread.video_ci95`).

An instrument with no scored video is null and is left out of the row's mean. ``spatial_px``
follows the authors' ``scripts/YouTube8M/test.action.spatial.py`` (its ``micro.csv``); per
instrument both aggregations agree (mean of per-video means, their ``classwise.csv``). Tables,
claims and reports use ``spatial_px``; the per-instrument tables' "Average" row is the mean over
instruments (``spatial_px_macro``), the mean of the column above it.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path

from ipd.errors import InputError
from ipd.evaluation.action import RowResult, Summary
from ipd.evaluation.names import (  # noqa: F401  (re-exported: the naming API lives with tables)
    BASELINES,
    CENTER,
    OBJECT,
    SOUND,
    SXO,
    TARGETS,
    fusion_name,
    model_name,
    parse_model_name,
    threshold_code,
)
from ipd.files import write_text_atomic

_KEYS = ("temporal_auc", "spatial_px")  # in every row and per-instrument cell
_ROW_KEYS = ("spatial_px_macro",)  # in rows (optional: older metrics files lack it)


def row_to_json(row: RowResult) -> dict:
    """One ``metrics.json`` row (schema in the module docstring)."""
    summaries = {"temporal_auc": row.temporal, "spatial_px": row.spatial}
    names: list[str] = []
    for summary in summaries.values():
        for name in summary.per_instrument if summary is not None else ():
            if name not in names:
                names.append(name)
    return {
        "temporal_auc": _overall(row.temporal),
        "spatial_px": row.spatial.frame_mean if row.spatial is not None else None,
        "spatial_px_macro": _overall(row.spatial),
        "per_instrument": {
            name: {
                key: s.per_instrument.get(name) if s is not None else None
                for key, s in summaries.items()
            }
            for name in names
        },
        "skipped_videos": {
            "temporal": list(row.temporal.skipped) if row.temporal is not None else [],
            "spatial": list(row.spatial.skipped) if row.spatial is not None else [],
        },
    }


def metrics_to_json(rows: Mapping[str, RowResult]) -> dict:
    """Row name -> row, in the given order."""
    return {name: row_to_json(row) for name, row in rows.items()}


def write_metrics(path: str | Path, metrics: Mapping[str, RowResult] | Mapping[str, dict]) -> Path:
    """Write ``metrics.json`` atomically from :class:`RowResult` rows or their JSON form."""
    data = {
        name: row_to_json(row) if isinstance(row, RowResult) else row
        for name, row in metrics.items()
    }
    validate_metrics(data, str(path))
    write_text_atomic(path, json.dumps(data, indent=2) + "\n")
    return Path(path)


def read_metrics(path: str | Path) -> dict[str, dict]:
    """Read and validate ``metrics.json``."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: metrics file not found")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: not valid JSON ({err})") from err
    validate_metrics(data, str(path))
    return data


def validate_metrics(data: object, where: str) -> None:
    """Raise InputError unless ``data`` follows the ``metrics.json`` schema."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: metrics must map row names to scores")
    for name, row in data.items():
        if not isinstance(row, dict) or not isinstance(row.get("per_instrument"), dict):
            raise InputError(f"{where}: row {name!r} lacks a 'per_instrument' mapping")
        cells = [(row, _KEYS + _ROW_KEYS)]
        cells += [(cell, _KEYS) for cell in row["per_instrument"].values()]
        for cell, keys in cells:
            for key in keys:
                if key in _ROW_KEYS and key not in cell:  # metrics written before the key
                    continue
                value = cell.get(key, "missing") if isinstance(cell, dict) else "missing"
                if value is not None and not (
                    isinstance(value, int | float) and math.isfinite(value)
                ):
                    raise InputError(f"{where}: row {name!r}: '{key}' must be a number or null")


def format_auc(value: float | None) -> str:
    """AUC as the tables print it: 3 decimals, ``NA`` when not applicable."""
    return "NA" if value is None else f"{value:.3f}"


def format_px(value: float | None) -> str:
    """Pixels as the tables print them: 1 decimal, ``NA`` when not applicable."""
    return "NA" if value is None else f"{value:.1f}"


def is_fusion(name: str) -> bool:
    """True for fused action rows (``...xO``, ``...xS``); the SxO baseline is not one."""
    parsed = parse_model_name(name)
    return parsed is not None and bool(parsed[3])


def build_tables(metrics: Mapping[str, dict]) -> dict[str, tuple[str, list[str], list[list]]]:
    """The tables as ``key -> (title, header, rows)`` with raw values (None: not applicable).

    Keys: ``overall`` (Table 4.8), ``temporal_per_instrument`` (4.9), ``spatial_per_instrument``
    (4.10), and when fused rows exist ``fusion_temporal`` (4.12) and ``fusion_spatial`` (4.13).
    """
    plain = [n for n in metrics if not is_fusion(n)]
    tables = {"overall": ("Action detection (Table 4.8 layout)", *_overall_table(metrics, plain))}
    for key, metric, title in (
        ("temporal_per_instrument", "temporal_auc", "Temporal AUC per instrument (Table 4.9)"),
        ("spatial_per_instrument", "spatial_px", "Spatial pixels per instrument (Table 4.10)"),
    ):
        tables[key] = (title, *_instrument_table(metrics, plain, metric))
    fused = [n for n in metrics if is_fusion(n)]
    if fused:
        columns = []
        for name in fused:
            base = name[: len(name) - len(parse_model_name(name)[3])]
            columns += [c for c in (base, name) if c in metrics and c not in columns]
        for key, metric, title in (
            ("fusion_temporal", "temporal_auc", "Fusion, temporal AUC (Table 4.12)"),
            ("fusion_spatial", "spatial_px", "Fusion, spatial pixels (Table 4.13)"),
        ):
            tables[key] = (title, *_instrument_table(metrics, columns, metric))
    return tables


def _overall_table(metrics: Mapping[str, dict], names: list[str]) -> tuple[list[str], list[list]]:
    header = ["Model", "Sound threshold", "Object threshold", "Temporal (AUC)", "Spatial (pixel)"]
    rows = []
    for name in names:
        parsed = parse_model_name(name)
        v, u = (parsed[1], parsed[2]) if parsed else (None, None)
        row = metrics[name]
        rows.append([name, v, u, row.get("temporal_auc"), row.get("spatial_px")])
    return header, rows


def _instrument_table(
    metrics: Mapping[str, dict], names: list[str], metric: str
) -> tuple[list[str], list[list]]:
    columns = [n for n in names if metrics[n].get(metric) is not None]
    instruments: list[str] = []
    for name in columns:
        instruments += [i for i in metrics[name]["per_instrument"] if i not in instruments]
    rows = [
        [inst] + [metrics[n]["per_instrument"].get(inst, {}).get(metric) for n in columns]
        for inst in instruments
    ]
    average = {"spatial_px": "spatial_px_macro"}.get(metric, metric)
    rows.append(["Average"] + [metrics[n].get(average, metrics[n][metric]) for n in columns])
    return ["Instrument", *columns], rows


def to_markdown(metrics: Mapping[str, dict]) -> str:
    """All tables as Markdown; the best model per instrument row is bold."""
    parts = []
    for key, (title, header, rows) in build_tables(metrics).items():
        if key == "overall":
            cells = [
                [
                    name,
                    *("NA" if t is None else f"{t:g}" for t in (v, u)),
                    format_auc(a),
                    format_px(d),
                ]
                for name, v, u, a, d in rows
            ]
            parts.append(_markdown(title, header, cells))
        else:
            spatial = "spatial" in key
            fmt, best = (format_px, min) if spatial else (format_auc, max)
            parts.append(markdown_table(title, header, rows, fmt, best))
    return "\n\n".join(parts) + "\n"


def markdown_table(
    title: str, header: list[str], rows: list[list], fmt: Callable, best: Callable | None = None
) -> str:
    """A ``[label, value, ...]`` table as Markdown, values through ``fmt`` (``NA`` for None).

    ``best`` (``max`` or ``min``) bolds the best value of each row when the row compares several.
    """
    cells = []
    for label, *values in rows:
        present = [x for x in values if x is not None]
        text = [fmt(x) for x in values]
        if best is not None and len(present) > 1:
            top = fmt(best(present))
            bold = [x is not None and t == top for t, x in zip(text, values, strict=True)]
            text = [f"**{t}**" if b else t for t, b in zip(text, bold, strict=True)]
        cells.append([label, *text])
    return _markdown(title, header, cells)


def _markdown(title: str, header: list[str], cells: list[list[str]]) -> str:
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |"]
    lines.append("| " + " | ".join(["---"] * len(header)) + " |")
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def to_csv(header: list[str], rows: list[list]) -> str:
    """One table as CSV with full-precision numbers; empty cells where not applicable."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if x is None else x for x in row] for row in rows])
    return buffer.getvalue()


def write_tables(metrics: Mapping[str, dict], out_dir: str | Path) -> dict[str, Path]:
    """Write ``tables.md`` and one ``<key>.csv`` per table into ``out_dir``; return the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out_dir / "tables.md"}
    write_text_atomic(paths["markdown"], to_markdown(metrics))
    for key, (_title, header, rows) in build_tables(metrics).items():
        paths[key] = out_dir / f"{key}.csv"
        write_text_atomic(paths[key], to_csv(header, rows))
    return paths


def _overall(summary: Summary | None) -> float | None:
    return summary.overall if summary is not None else None
