"""HTML tables from ``metrics.json``: the layouts of Tables 4.8-4.10 and 4.12-4.13, extra tables.

The numbers are the strings of ``tables.md`` (:func:`ipd.evaluation.tables.format_auc`,
:func:`~ipd.evaluation.tables.format_px`). Every value cell carries ``data-row`` and ``data-col``
attributes (row name or instrument; metric key or model name) so tests and scripts can read the
table back. The best value of a row (per-instrument tables) or of a column (overall table) is bold,
as in ``tables.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from html import escape

from ipd.evaluation.names import BASELINES, TARGETS, parse_model_name
from ipd.evaluation.tables import build_tables, format_auc, format_px, is_fusion

_FUSION_ORDER = {"": 0, "xO": 1, "xS": 2, "xOxS": 3, "xSxO": 4}


def order_rows(names: Iterable[str]) -> list[str]:
    """Row names in the paper's order: baselines, VT, ST.., OT.., SOT.., then fused rows.

    Models of one target are sorted by thresholds (ST03, ST05, ST07); a fused row follows the
    fused rows of models before it (SOT0503xO, SOT0503xS, SOT0503xOxS); names the paper does not
    know keep their order at the end.
    """
    names = list(names)

    def key(item: tuple[int, str]) -> tuple:
        position, name = item
        if name in BASELINES:
            return (0, BASELINES.index(name))
        parsed = parse_model_name(name)
        if parsed is None:
            return (3, position)
        target, v, u, fusion = parsed
        model = (TARGETS.index(target), -1.0 if v is None else v, -1.0 if u is None else u)
        if not fusion:
            return (1, *model)
        return (2, *model, _FUSION_ORDER.get(fusion, len(fusion)))

    return [name for _, name in sorted(enumerate(names), key=key)]


def ordered_metrics(metrics: Mapping[str, dict]) -> dict[str, dict]:
    """``metrics`` with its rows in :func:`order_rows` order."""
    return {name: metrics[name] for name in order_rows(metrics)}


def metrics_tables_html(metrics: Mapping[str, dict]) -> list[tuple[str, str, str]]:
    """Every metrics table as ``(key, title, html)``; keys as :func:`build_tables`."""
    metrics = ordered_metrics(metrics)
    out = []
    for key, (title, header, rows) in build_tables(metrics).items():
        if key == "overall":
            # Table 4.8 holds no fused rows; the report lists them below the others so that one
            # table answers "does fusion help" (tables.md keeps them in Tables 4.12/4.13 only).
            fused = [n for n in metrics if is_fusion(n)]
            rows = rows + [
                [
                    n,
                    *parse_model_name(n)[1:3],
                    metrics[n].get("temporal_auc"),
                    metrics[n].get("spatial_px"),
                ]
                for n in fused
            ]
            title = title + (" with fused rows" if fused else "")
            intervals = {name: metrics[name].get("ci95") or {} for name in metrics}
            html = _overall_html(key, header, rows, intervals)
        else:
            spatial = "spatial" in key
            fmt, best = (format_px, min) if spatial else (format_auc, max)
            html = _instrument_html(key, header, rows, fmt, best)
        out.append((key, title, html))
    return out


def extra_table_html(title: str, table: Mapping[str, object]) -> str:
    """A free table: ``row -> value`` or ``row -> {column -> value}``.

    Numbers print with 3 decimals (AUCs and hit rates), None as ``NA``, strings as given.
    """
    key = slug(title)
    rows = list(table.items())
    nested = any(isinstance(v, Mapping) for _, v in rows)
    columns: list[str] = []
    if nested:
        for _, value in rows:
            columns += [c for c in value if c not in columns]
    else:
        columns = ["Value"]
    head = "".join(f"<th>{escape(str(c))}</th>" for c in ["", *columns])
    body = []
    for name, value in rows:
        values = value if nested else {"Value": value}
        cells = "".join(
            _cell(str(name), col, _format_any(values.get(col)), False) for col in columns
        )
        body.append(f"<tr><th>{escape(str(name))}</th>{cells}</tr>")
    return _table(key, head, body)


def claims_html(claims: Sequence[tuple[str, bool, str]]) -> str:
    """The paper's claims as a list: a green tick or a red cross, the claim, and its detail."""
    items = []
    for text, holds, detail in claims:
        mark, css = ("&#10004; holds", "ok") if holds else ("&#10008; fails", "fail")
        items.append(
            f'<li class="{css}" data-holds="{str(bool(holds)).lower()}">'
            f'<span class="badge">{mark}</span> {escape(text)}'
            f'<span class="detail">{escape(detail)}</span></li>'
        )
    return '<ul class="claims">' + "".join(items) + "</ul>"


def slug(text: str) -> str:
    """A file- and id-safe form of ``text`` (letters, digits, ``-``, ``_``, ``.``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "item"


def _overall_html(
    key: str, header: list[str], rows: list[list], intervals: Mapping[str, Mapping] | None = None
) -> str:
    """The overall table; with ``intervals`` (row -> ``metrics.json``'s ``ci95``) each value is
    followed by its bootstrap interval over the test videos (a cell without ``data-col``)."""
    intervals = intervals or {}
    shown = any(intervals.values())
    best_auc = max((r[3] for r in rows if r[3] is not None), default=None)
    best_px = min((r[4] for r in rows if r[4] is not None), default=None)
    names = list(header)
    if shown:
        names[4:4], names[6:6] = ["95 % CI"], ["95 % CI"]
    head = "".join(f"<th>{escape(h)}</th>" for h in names)
    body = []
    for name, v, u, auc, px in rows:
        thresholds = "".join(f"<td>{'NA' if t is None else f'{t:g}'}</td>" for t in (v, u))
        auc_text, px_text = format_auc(auc), format_px(px)
        ci = intervals.get(name, {})
        body.append(
            f"<tr><th>{escape(name)}</th>{thresholds}"
            + _cell(
                name, "temporal_auc", auc_text, auc is not None and auc_text == format_auc(best_auc)
            )
            + (_interval(ci.get("temporal_auc"), format_auc) if shown else "")
            + _cell(name, "spatial_px", px_text, px is not None and px_text == format_px(best_px))
            + (_interval(ci.get("spatial_px"), format_px) if shown else "")
            + "</tr>"
        )
    return _table(key, head, body)


def _interval(bounds: Sequence[float] | None, fmt: Callable[[float | None], str]) -> str:
    text = "" if not bounds else f"[{fmt(bounds[0])}, {fmt(bounds[1])}]"
    return f'<td class="ci">{escape(text)}</td>'


def _instrument_html(
    key: str, header: list[str], rows: list[list], fmt: Callable, best: Callable
) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for label, *values in rows:
        present = [x for x in values if x is not None]
        top = fmt(best(present)) if len(present) > 1 else None
        cells = "".join(
            _cell(label, col, fmt(x), x is not None and fmt(x) == top)
            for col, x in zip(header[1:], values, strict=True)
        )
        css = ' class="average"' if label == "Average" else ""
        body.append(f"<tr{css}><th>{escape(label)}</th>{cells}</tr>")
    return _table(key, head, body)


def _cell(row: str, col: str, text: str, bold: bool) -> str:
    shown = f"<strong>{escape(text)}</strong>" if bold else escape(text)
    css = ' class="na"' if text == "NA" else ""
    return f'<td data-row="{escape(row)}" data-col="{escape(col)}"{css}>{shown}</td>'


def _table(key: str, head: str, body: list[str]) -> str:
    return (  # wide tables (many fused rows) scroll instead of overflowing the page
        f'<div class="scroll"><table data-table="{escape(key)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _format_any(value: object) -> str:
    if value is None:
        return "NA"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_auc(value)
    return str(value)
