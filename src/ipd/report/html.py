"""The self-contained HTML report: ``report/index.html`` + ``report/media/...``.

It opens from disk in any browser: relative links only, inline CSS, no script, font or style
sheet from elsewhere. :func:`write_report` shows an evaluation (tables, claims, and per test video
a timeline, the models side by side and overlays); :func:`write_video_page` shows one video of
``ipd detect`` (no metrics: timeline, overlays and a table of peaks).
"""

from __future__ import annotations

import datetime
import json
import shutil
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

from ipd.evaluation.names import OBJECT, SOUND, parse_model_name
from ipd.files import write_text_atomic
from ipd.report import pictures as pics
from ipd.report.pictures import Overlay, ReportVideo, VideoMedia
from ipd.report.style import CSS
from ipd.report.tables import claims_html, extra_table_html, metrics_tables_html, order_rows, slug

__all__ = ["ReportVideo", "write_report", "write_video_page", "pick_overlay_model"]

_MIME = {".mp4": "video/mp4", ".webm": "video/webm"}


def write_report(
    out_dir: Path,
    metrics: dict,
    videos: list[ReportVideo],
    *,
    title: str,
    extra_tables: dict[str, dict] | None = None,
    claims: list[tuple[str, bool, str]] | None = None,
    overlay_model: str | None = None,
    side_by_side: tuple[str, ...] = ("VT", "ST05", "OT03", "SOT0503"),
    max_videos: int | None = None,
    gif: bool = True,
    mp4: bool = True,
    webm: bool = False,
    timeline_models: tuple[str, ...] | None = None,
) -> Path:
    """Write the evaluation report folder; returns ``out_dir/index.html``.

    Args:
        out_dir: the report folder (created; ``media/`` and a copy of ``metrics.json`` inside).
        metrics: parsed ``metrics.json`` (row name -> scores); rows are shown in the paper's order.
        videos: test videos to draw (the first ``max_videos`` of them).
        title: page title.
        extra_tables: title -> ``{row: value}`` or ``{row: {column: value}}`` (e.g. sound-model
            frame AUC, object hit rate per instrument).
        claims: ``(claim, holds, detail)`` triples, shown first.
        overlay_model: the model drawn in the overlays and timelines; default
            :func:`pick_overlay_model` (the best spatial model with maps).
        side_by_side: rows of the side-by-side figure (those present); the overlay model is
            appended when it is a fused row not among them.
        max_videos: draw at most this many videos.
        gif: write overlay GIFs.
        mp4: write overlay MP4s (H.264).
        webm: also write VP9 WebM as a second ``<source>`` (Debian's Chromium plays H.264).
        timeline_models: action rows drawn as A curves (default: the overlay model).
    """
    out_dir = Path(out_dir)
    shown = videos[:max_videos] if max_videos is not None else list(videos)
    model = overlay_model or pick_overlay_model(metrics, shown, side_by_side)
    rows = list(side_by_side)
    if model is not None and model not in rows and _is_fused(model):
        rows.append(model)
    lines = [f"<h1>{escape(title)}</h1>", _nav(bool(claims), bool(shown))]
    if claims:
        lines += [
            '<section id="claims"><h2>The paper\'s claims on this data</h2>',
            claims_html(claims),
            "</section>",
        ]
    lines.append(_tables_section(metrics, extra_tables or {}))
    if shown:
        lines.append('<section id="videos"><h2>Test videos</h2>' + _VIDEO_INTRO)
        for i, video in enumerate(shown):
            folder = out_dir / "media" / f"{i:03d}_{slug(video.video_id)}"
            media = _render_video(
                video, folder, out_dir, model, rows, timeline_models, gif, mp4, webm
            )
            lines.append(_video_section(video, media, f"v{i:03d}"))
        lines.append("</section>")
    write_text_atomic(out_dir / "metrics.json", json.dumps(metrics, indent=2) + "\n")
    return _write_page(out_dir, title, lines)


def write_video_page(
    out_dir: Path,
    video: ReportVideo,
    *,
    title: str,
    labels: list[str],
    overlay_models: tuple[str, ...] | None = None,
    gif: bool = True,
    mp4: bool = True,
    extra_media: Mapping[str, Path] | None = None,
) -> Path:
    """Write a page for one video without metrics (``ipd detect``); returns ``index.html``.

    Args:
        out_dir: the page folder (``media/`` inside).
        video: the video; ``annotation``/``sound_truth`` are drawn when given.
        title: page title.
        labels: instruments to show (one timeline panel and one overlay per model each).
        overlay_models: predictions drawn as overlays and A curves (default: every prediction
            with maps except the object model, or the object model when it is the only one).
        gif: write overlay GIFs.
        mp4: write overlay MP4s.
        extra_media: caption -> an existing file (``.mp4``, ``.webm``, ``.gif``, ``.png``), e.g.
            a full-frame-rate overlay video; copied into ``media/`` and shown.
    """
    out_dir = Path(out_dir)
    folder = out_dir / "media"
    folder.mkdir(parents=True, exist_ok=True)
    models = list(overlay_models) if overlay_models is not None else _default_overlays(video)
    models = pics.models_in(video.predictions, models)
    labels = list(dict.fromkeys(labels))  # once each, in order
    lines = [f"<h1>{escape(title)}</h1>"]
    timeline = pics.write_timeline(video, folder / "timeline.png", labels, models)
    lines.append(
        _figure(pics.relative(timeline, out_dir), "Scores over time", _TIMELINE_CAPTION, "timeline")
    )
    scored = [m for m in (SOUND, OBJECT, *models) if m in video.predictions]
    lines.append("<h2>Peaks</h2>" + _peak_table(pics.peak_rows(video, labels, scored)))
    media = VideoMedia()
    for label in labels:
        for model in models:
            files = pics.write_overlays(video, folder, label, model, gif=gif, mp4=mp4)
            media.overlays.append(_overlay_entry(label, model, files, out_dir))
    lines.append("<h2>Heat maps over the video</h2>" + _overlays_html(media.overlays))
    for caption, source in (extra_media or {}).items():
        target = folder / f"extra_{slug(caption)}{Path(source).suffix.lower()}"
        shutil.copyfile(source, target)
        lines.append(_media_element(pics.relative(target, out_dir), caption))
    return _write_page(out_dir, title, lines)


def pick_overlay_model(
    metrics: Mapping[str, dict], videos: Sequence[ReportVideo], fallback: Sequence[str] = ()
) -> str | None:
    """The action or fused row with the smallest spatial distance that every video has maps for;
    else the last of ``fallback`` with maps; else any prediction with maps; None if none has."""

    def everywhere(name: str) -> bool:
        return bool(videos) and all(pics.has_maps(v, name) for v in videos)

    scored = [
        (row["spatial_px"], name)
        for name, row in metrics.items()
        if parse_model_name(name) is not None
        and row.get("spatial_px") is not None
        and everywhere(name)
    ]
    if scored:
        return min(scored)[1]
    for name in reversed(list(fallback)):
        if everywhere(name):
            return name
    candidates = [n for n in order_rows(videos[0].predictions) if everywhere(n)] if videos else []
    return candidates[-1] if candidates else None


def _render_video(
    video, folder, page_dir, model, rows, timeline_models, gif, mp4, webm
) -> VideoMedia:
    folder.mkdir(parents=True, exist_ok=True)
    media = VideoMedia()
    curves = list(timeline_models) if timeline_models is not None else ([model] if model else [])
    path = pics.write_timeline(video, folder / "timeline.png", [video.instrument], curves)
    media.timeline = pics.relative(path, page_dir)
    present = pics.models_in(video.predictions, rows)
    if present:
        path = pics.write_side_by_side(video, folder / "side_by_side.png", present)
        media.side_by_side, media.side_by_side_models = pics.relative(path, page_dir), present
    if model is not None and pics.has_maps(video, model) and (gif or mp4 or webm):
        files = pics.write_overlays(
            video, folder, video.instrument, model, gif=gif, mp4=mp4, webm=webm
        )
        media.overlays.append(_overlay_entry(video.instrument, model, files, page_dir))
    return media


def _overlay_entry(instrument: str, model: str, files: dict, page_dir: Path) -> Overlay:
    rel = {fmt: pics.relative(p, page_dir) for fmt, p in files.items()}
    return Overlay(instrument, model, rel.get("gif"), rel.get("mp4"), rel.get("webm"))


def _tables_section(metrics: Mapping[str, dict], extra: Mapping[str, dict]) -> str:
    parts = ['<section id="tables"><h2>Results</h2>', _TABLES_INTRO]
    for key, table_title, html in metrics_tables_html(metrics):
        parts.append(f'<h3 id="table-{key}">{escape(table_title)}</h3>{html}')
    for table_title, table in extra.items():
        parts.append(f"<h3>{escape(table_title)}</h3>{extra_table_html(table_title, table)}")
    parts.append('<p class="note">The numbers: <a href="metrics.json">metrics.json</a>.</p>')
    return "".join(parts) + "</section>"


def _video_section(video: ReportVideo, media: VideoMedia, anchor: str) -> str:
    name = f"{escape(video.video_id)} &mdash; {escape(video.instrument)}"
    parts = [f'<article id="{anchor}"><h3>{name}</h3>']
    if media.timeline:
        parts.append(_figure(media.timeline, "Scores over time", _TIMELINE_CAPTION, "timeline"))
    if media.side_by_side:
        caption = f"Rows: {', '.join(media.side_by_side_models)}; columns: frames. " + _SIDE_CAPTION
        parts.append(_figure(media.side_by_side, "Models side by side", caption, "side-by-side"))
    if media.overlays:
        parts.append(_overlays_html(media.overlays))
    return "".join(parts) + "</article>"


def _overlays_html(overlays: Sequence[Overlay]) -> str:
    parts = ['<div class="overlays">']
    for item in overlays:
        what = f"{escape(item.model)} &middot; {escape(item.instrument)}"
        if item.gif:
            parts.append(
                f'<figure class="overlay"><img src="{escape(item.gif)}" '
                f'alt="overlay GIF {escape(item.model)}" loading="eager">'
                f"<figcaption>{what} (GIF)</figcaption></figure>"
            )
        sources = [(s, _MIME[Path(s).suffix]) for s in (item.mp4, item.webm) if s]
        if sources:
            tags = "".join(f'<source src="{escape(s)}" type="{t}">' for s, t in sources)
            parts.append(
                f'<figure class="overlay"><video controls loop muted preload="auto">{tags}'
                f"</video><figcaption>{what} (video: pause and step with the controls)"
                f"</figcaption></figure>"
            )
    parts.append(f'<p class="note">{_OVERLAY_CAPTION}</p></div>')
    return "".join(parts)


def _media_element(src: str, caption: str) -> str:
    suffix = Path(src).suffix
    if suffix in _MIME:
        source = f'<source src="{escape(src)}" type="{_MIME[suffix]}">'
        inner = f'<video controls loop muted preload="auto">{source}</video>'
    else:
        inner = f'<img src="{escape(src)}" alt="{escape(caption)}">'
    return f"<figure>{inner}<figcaption>{escape(caption)}</figcaption></figure>"


def _figure(src: str, alt: str, caption: str, css: str) -> str:
    return (
        f'<figure class="{css}"><img src="{escape(src)}" alt="{escape(alt)}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def _peak_table(rows: list[list[str]]) -> str:
    header = ["Instrument", "Model", "Max score", "At (s)", "Map peak (x, y), px of the frame"]
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table data-table="peaks"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _nav(claims: bool, videos: bool) -> str:
    links = ([("claims", "Claims")] if claims else []) + [("tables", "Results")]
    links += [("videos", "Test videos")] if videos else []
    return "<nav>" + " &middot; ".join(f'<a href="#{a}">{t}</a>' for a, t in links) + "</nav>"


def _default_overlays(video: ReportVideo) -> list[str]:
    with_maps = [n for n in order_rows(video.predictions) if pics.has_maps(video, n)]
    actions = [n for n in with_maps if n != OBJECT]
    return actions or with_maps


def _is_fused(name: str) -> bool:
    parsed = parse_model_name(name)
    return parsed is not None and bool(parsed[3])


def _write_page(out_dir: Path, title: str, body: list[str]) -> Path:
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        + "\n".join(body)
        + f"<footer>Written by ipd on {stamp}. Opens from disk; needs no server.</footer>"
        "</body></html>\n"
    )
    path = out_dir / "index.html"
    write_text_atomic(path, page)
    return path


_TABLES_INTRO = (
    '<p class="note">Temporal: ROC AUC of the frame scores against "key points visible" per '
    "video, averaged per instrument, then over instruments (higher is better). Spatial: distance "
    "in pixels of the 256-px frame from the map's arg-max to the nearest key point on playing "
    "frames (lower is better): the mean over all playing frames of all test videos (the authors' "
    "overall figure; per instrument, the mean of per-video means). NA: the metric does not "
    "apply. Bold: the best of a row or column. [lo, hi]: 95 % bootstrap interval over the test "
    "videos (drawn with replacement within each instrument): how much the number depends on "
    "which test videos were drawn, for this one trained model; other seeds or processors train "
    "other models (ipd study measures that spread)."
    "</p>"
)
_VIDEO_INTRO = (
    '<p class="note">Per video: the scores over time against the ground truth, the models side '
    "by side on the same frames, and the heat map of one model over the whole video.</p>"
)
_TIMELINE_CAPTION = (
    "Top strip: ground truth (blue: the instrument sounds; magenta: an annotated frame with "
    "playing key points; grey: annotated, not playing). Below: S is the sound model's score, O "
    "the object model's and A the action model's map maximum per frame, 0..1 against time (s)."
)
_SIDE_CAPTION = (
    "Each cell is the map of the video's instrument over the frame (colour bar: map value 0..1); "
    "the white cross is the map's arg-max, the point the spatial metric scores, and magenta dots "
    "are the annotated key points."
)
_OVERLAY_CAPTION = (
    "Heat map of the model for the instrument named in the corner (colour bar on the right: map "
    "value 0..1), white cross: the map's arg-max; magenta dots: annotated key points (when known)."
)
