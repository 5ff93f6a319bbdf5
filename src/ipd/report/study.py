"""A study's results (``study.json``, :mod:`ipd.staging.study`) as Markdown tables, a strip plot
of the per-seed values and an HTML page; and the README's results block, regenerated from it.

Every table says where its numbers come from: date, processor, number of seeds, how the
intervals were made. Nothing here computes a result; it only formats ``study.json``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

from ipd.errors import InputError
from ipd.files import write_text_atomic
from ipd.report.tables import order_rows

BLOCK = re.compile(r"(<!-- results:begin[^>]*-->\n).*?(<!-- results:end -->)", re.S)
PLOT_ROWS = (
    "Center",
    "Sound",
    "Object",
    "SxO",
    "VT",
    "ST05",
    "OT03",
    "SOT0503",
    "SOT0503xO",
    "SOT0503xS",
    "SOT0503xOxS",
)


def fmt_stat(stat: Mapping | None, digits: int) -> str:
    """``mean ± std [lo, hi]`` (``–`` when not applicable)."""
    if stat is None:
        return "–"
    lo, hi = stat["ci95"]
    return (
        f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"
    )


def provenance(study: Mapping) -> str:
    """One line: date, processor, seeds, what the intervals are."""
    machine = study.get("machine", {})
    flags = ", ".join(machine.get("flags", [])) or "no AVX2/AVX-512 flags read"
    return (
        f"{study['date']}, {machine.get('cpu', 'unknown CPU')} ({flags}), "
        f"torch {machine.get('torch', '?')} on {machine.get('threads', '?')} threads; "
        f"{len(study['seeds'])} seeds ({', '.join(map(str, study['seeds']))}); "
        f"mean ± std [{study['ci']}]"
    )


def rows_table(rows: Mapping[str, Mapping], names: Sequence[str] | None = None) -> str:
    """Markdown: one line per row with temporal AUC and spatial px (both aggregations)."""
    names = [n for n in order_rows(rows) if names is None or n in names]
    lines = [
        "| row | temporal AUC | spatial px (all frames) | spatial px (mean over instruments) |",
        "| --- | --- | --- | --- |",
    ]
    for name in names:
        row = rows[name]
        cells = (
            fmt_stat(row.get("temporal_auc"), 3),
            fmt_stat(row.get("spatial_px"), 1),
            fmt_stat(row.get("spatial_px_macro"), 1),
        )
        lines.append(f"| {name} | {' | '.join(cells)} |")
    return "\n".join(lines)


def claims_table(claims: Sequence[Mapping]) -> str:
    """Markdown: each claim, in how many seeds it holds, its paired difference (or margin over
    the bar) with the interval, and whether the interval excludes zero."""
    lines = [
        "| claim | holds in | paired difference / margin over the bar | CI excludes 0 |",
        "| --- | --- | --- | --- |",
    ]
    for claim in claims:
        stat = claim.get("paired_diff") or claim.get("margin")
        digits = 1 if claim.get("unit") == "px" else 3
        holds = "n/a" if claim["holds_in"] is None else f"{claim['holds_in']} of {claim['of']}"
        excludes = {True: "yes", False: "**no**", None: "n/a"}[claim["ci_excludes_zero"]]
        lines.append(f"| {claim['name']} | {holds} | {fmt_stat(stat, digits)} | {excludes} |")
    return "\n".join(lines)


def study_markdown(study: Mapping, heading: str = "##") -> str:
    """All of a study as Markdown sections."""
    parts = [
        f"{heading} Results over seeds",
        f"{provenance(study)}. World: {_world_line(study['world'])}.",
        rows_table(study["rows"]),
    ]
    if study.get("hit_rate"):
        parts.append(
            f"Object hit rate (held-out boxed images, Table 4.7): "
            f"{fmt_stat(study['hit_rate'], 3)}; on the boxed test frames: "
            f"{fmt_stat(study.get('hit_rate_frames'), 3)}."
        )
    parts += [f"{heading}# Claims", claims_table(study["claims"])]
    for name, other in study.get("test_worlds", {}).items():
        parts += [
            f"{heading}# Second test world: {name}",
            f"The same models on the test split of {_world_line(other)}.",
            rows_table(other["rows"], PLOT_ROWS),
            claims_table(other["claims"]),
        ]
    for axis, entries in study.get("sweeps", {}).items():
        label = {"v": "sound threshold v (u = 0.3)", "u": "object threshold u (v = 0.5)"}[axis]
        lines = [
            f"{heading}# Threshold sweep: {label}",
            "",
            "| threshold | row | temporal AUC | spatial px |",
            "| --- | --- | --- | --- |",
        ]
        for e in entries:
            lines.append(
                f"| {e['threshold']:g} | {e['row']} | {fmt_stat(e['temporal_auc'], 3)} "
                f"| {fmt_stat(e['spatial_px'], 1)} |"
            )
        parts.append("\n".join(lines))
    if study.get("teachers"):
        parts += [
            f"{heading}# Sound teacher: trained sound model vs the MagnaTagATune tagger",
            rows_table(study["teachers"]),
        ]
    return "\n\n".join(parts) + "\n"


def write_study_markdown(study: Mapping, path: str | Path) -> Path:
    write_text_atomic(path, study_markdown(study))
    return Path(path)


def readme_block(study: Mapping) -> str:
    """The README's short results: the headline rows, the claims, the hit rate."""
    headline = ("Center", "VT", "ST05", "OT03", "SOT0503", "SOT0503xO", "SOT0503xOxS")
    parts = [
        f"Generated by `ipd results` from `study.json` ({provenance(study)}):",
        rows_table(study["rows"], headline),
        claims_table(study["claims"]),
    ]
    if study.get("hit_rate"):
        parts.append(f"Object hit rate on held-out boxed images: {fmt_stat(study['hit_rate'], 3)}.")
    return "\n\n".join(parts) + "\n"


def update_block(text: str, block: str, where: str) -> str:
    """``text`` with the part between ``<!-- results:begin -->`` and ``<!-- results:end -->``
    replaced by ``block``."""
    if not BLOCK.search(text):
        raise InputError(f"{where}: no '<!-- results:begin -->' ... '<!-- results:end -->' block")
    return BLOCK.sub(lambda m: m.group(1) + "\n" + block + "\n" + m.group(2), text, count=1)


def strip_plot(study: Mapping, path: str | Path) -> Path:
    """Per-seed values of each headline row (dots), their mean and interval (bar), temporal AUC
    and spatial px side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = study["rows"]
    names = [n for n in PLOT_ROWS if n in rows]
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.45 * len(names) + 1.5), sharey=True)
    for ax, key, label in (
        (axes[0], "temporal_auc", "temporal AUC (higher is better)"),
        (axes[1], "spatial_px", "spatial px, all frames (lower is better)"),
    ):
        for y, name in enumerate(names):
            stat = rows[name].get(key)
            if stat is None:
                continue
            ax.scatter(
                stat["values"],
                [y] * len(stat["values"]),
                s=18,
                color="#4477aa",
                alpha=0.8,
                zorder=3,
            )
            lo, hi = stat["ci95"]
            ax.plot([lo, hi], [y, y], color="#222222", lw=2.5, alpha=0.5)
            ax.plot([stat["mean"]], [y], marker="|", color="#cc3311", ms=14, mew=2)
        ax.set_xlabel(label)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(names)), names)
    axes[0].invert_yaxis()
    fig.suptitle(
        f"{len(study['seeds'])} seeds: dots per seed, red mean, grey 95 % interval", fontsize=10
    )
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path


def write_study_page(study: Mapping, out_dir: str | Path) -> Path:
    """``out_dir/index.html``: the strip plot and the study's tables."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    strip_plot(study, out_dir / "seeds.png")
    body = "".join(_markdown_html(part) for part in study_markdown(study).split("\n\n"))
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>ipd study</title>"
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}</style>"
        f"</head><body><h1>ipd study</h1><img src='seeds.png' alt='per-seed values'>{body}"
        "</body></html>\n"
    )
    write_text_atomic(out_dir / "index.html", page)
    return out_dir / "index.html"


def _markdown_html(part: str) -> str:
    """The few Markdown forms :func:`study_markdown` writes (headings, tables, paragraphs)."""
    lines = part.strip().splitlines()
    if not lines:
        return ""
    if lines[0].startswith("#"):
        level = len(lines[0]) - len(lines[0].lstrip("#"))
        return f"<h{level}>{escape(lines[0].lstrip('# '))}</h{level}>"
    if lines[0].startswith("|"):
        cells = [[c.strip().strip("*") for c in line.strip("|").split("|")] for line in lines]
        head = "".join(f"<th>{escape(c)}</th>" for c in cells[0])
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in cells[2:]
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    return f"<p>{escape(' '.join(lines))}</p>"


def _world_line(world: Mapping) -> str:
    config = world["config"]
    font = Path(config.get("soundfont", "")).name
    return (
        f"SynthIPA seed {config.get('seed')}, soundfont {font}, "
        f"{world.get('test_videos', '?')} test videos"
    )
