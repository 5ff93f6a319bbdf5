"""Static figures (matplotlib, no pyplot): models side by side (Fig. 4.6) and timelines (Fig. 3.5).

Both write an RGB PNG of ``figsize * dpi`` pixels (rounded down; no tight bounding box, so callers
and tests know its size), atomically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure  # no pyplot: no global state, no display needed
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from PIL import Image

from ipd.evaluation.action import argmax_xy
from ipd.evaluation.predictions import MapGrid
from ipd.files import atomic_path
from ipd.timebase import ANALYSIS_PERIOD
from ipd.viz.overlay import KEYPOINT_RGB, overlay, upsample_maps

_CELL_IN = 2.0  # inches per side-by-side cell (its longer side)
PLAYING_COLOUR = "#b43cb4"  # annotated playing frames: the magenta of the key-point dots, muted


def side_by_side_figure(
    path: str | Path,
    frames: np.ndarray,
    rows: Mapping[str, np.ndarray],
    *,
    times: Sequence[float] | None = None,
    keypoints: Sequence[np.ndarray | None] | None = None,
    instrument: str = "",
    title: str | None = None,
    column_notes: Sequence[str] | None = None,
    grids: Mapping[str, MapGrid | None] | None = None,
    alpha: float = 0.45,
    cmap: str = "jet",
    vmin: float = 0.0,
    vmax: float = 1.0,
    dpi: int = 100,
) -> Path:
    """Heat maps of several models on the same frames: rows = models, columns = frames.

    Args:
        path: output PNG.
        frames: ``(N, H, W, 3)`` uint8 frames (the columns).
        rows: model name -> its ``(N, h, w)`` maps of ``instrument`` at those frames (the rows, in
            order, e.g. VT, ST05, OT03, SOT0503, SOT0503xOxS).
        times: ``N`` frame times (s) for the column titles.
        keypoints: per column ``(n, 2)`` ``(x, y)`` ground-truth pixels (magenta dots) or None.
        instrument: the class shown (in the title).
        title: figure title (default: "<instrument>: action maps by training target").
        column_notes: a second title line per column (e.g. "playing", "not playing").
        grids: model name -> where its map cells sit (missing or None: corner to corner).
        alpha: heat-map weight.
        cmap: matplotlib colormap.
        vmin: value of the colour bar's bottom.
        vmax: value of the colour bar's top.
        dpi: pixels per inch of the PNG.

    Returns:
        ``path``; the PNG is ``figure_size(...) * dpi`` pixels.
    """
    frames = np.asarray(frames)
    n, height, width = frames.shape[:3]
    names = list(rows)
    size, adjust = _side_by_side_layout(len(names), n, height, width)
    fig = Figure(figsize=size)
    axes = np.asarray(fig.subplots(len(names), n, squeeze=False))
    for r, name in enumerate(names):
        grid = (grids or {}).get(name)
        maps = upsample_maps(rows[name], height, width, grid)  # once: drawn and arg-maxed
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(
                overlay(
                    frames[c],
                    maps[c],
                    alpha=alpha,
                    cmap=cmap,
                    vmin=vmin,
                    vmax=vmax,
                    peak=False,
                    colorbar=False,
                    legend=False,
                )
            )
            x, y = argmax_xy(maps[c])
            ax.plot([x], [y], marker="X", markersize=9, color="white", markeredgecolor="black")
            points = keypoints[c] if keypoints is not None else None
            if points is not None and len(points):
                points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
                ax.scatter(
                    points[:, 0],
                    points[:, 1],
                    s=14,
                    c=[np.array(KEYPOINT_RGB) / 255],
                    edgecolors="black",
                    linewidths=0.6,
                )
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlim(-0.5, width - 0.5)
            ax.set_ylim(height - 0.5, -0.5)
            if c == 0:
                ax.set_ylabel(name, fontsize=11, fontweight="bold")
            if r == 0:
                head = f"t = {times[c]:.2f} s" if times is not None else f"frame {c}"
                note = f"\n{column_notes[c]}" if column_notes is not None else ""
                ax.set_title(head + note, fontsize=9)
    fig.suptitle(title or f"{instrument}: action maps by training target", fontsize=12)
    fig.subplots_adjust(**adjust)
    bar_left = adjust["right"] + 0.15 / size[0]
    bar_ax = fig.add_axes(
        (bar_left, adjust["bottom"], 0.15 / size[0], adjust["top"] - adjust["bottom"])
    )
    bar = fig.colorbar(ScalarMappable(Normalize(vmin, vmax), cmap), cax=bar_ax)
    bar.set_label(f"{instrument} map value".strip())
    handles = [
        Line2D(
            [],
            [],
            ls="",
            marker="X",
            color="white",
            markeredgecolor="black",
            markersize=9,
            label="peak (arg-max, scored point)",
        ),
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            color=np.array(KEYPOINT_RGB) / 255,
            markeredgecolor="black",
            label="annotated key point",
        ),
    ]
    fig.legend(handles=handles, loc="lower center", ncols=2, frameon=False, fontsize=9)
    return save_png(fig, path, dpi)


def save_png(fig: Figure, path: str | Path, dpi: int) -> Path:
    """Render ``fig`` with Agg and write an RGB PNG atomically (no alpha: about 30 % smaller)."""
    fig.set_dpi(dpi)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    rgb = np.asarray(canvas.buffer_rgba())[..., :3]
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        Image.fromarray(rgb).save(handle, format="PNG")
    return Path(path)


def side_by_side_size(rows: int, columns: int, height: int, width: int) -> tuple[float, float]:
    """Figure size (inches) of :func:`side_by_side_figure`: cells keep the frame's aspect."""
    return _side_by_side_layout(rows, columns, height, width)[0]


def _side_by_side_layout(
    rows: int, columns: int, height: int, width: int
) -> tuple[tuple[float, float], dict[str, float]]:
    """Figure size and ``subplots_adjust`` fractions, from margins fixed in inches."""
    scale = _CELL_IN / max(height, width)
    cell_w, cell_h = width * scale, height * scale
    wspace, hspace = 0.04, 0.06
    grid_w = columns * cell_w + (columns - 1) * wspace * cell_w
    grid_h = rows * cell_h + (rows - 1) * hspace * cell_h
    left, right, top, bottom = 0.45, 1.1, 0.95, 0.45  # ylabel; colour bar; titles; legend
    fig_w, fig_h = left + grid_w + right, top + grid_h + bottom
    adjust = {
        "left": left / fig_w,
        "right": (left + grid_w) / fig_w,
        "top": 1 - top / fig_h,
        "bottom": bottom / fig_h,
        "wspace": wspace,
        "hspace": hspace,
    }
    return (fig_w, fig_h), adjust


@dataclass
class TimelinePanel:
    """One instrument's curves and ground truth for :func:`timeline_figure`.

    Attributes:
        instrument: the class shown.
        curves: legend label -> ``(times, values)``: seconds and scores in ``[0, 1]``, e.g.
            ``"S: sound model"``, ``"O: object model (spatial max)"``,
            ``"A: SOT0503 (spatial max)"``.
        sound_truth: ``(times, active)``: the instrument sounds at those times (bool), or None.
        positives: ``(times, positive)`` of annotated frames: key points present (bool), or None.
    """

    instrument: str
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    sound_truth: tuple[np.ndarray, np.ndarray] | None = None
    positives: tuple[np.ndarray, np.ndarray] | None = None


def timeline_figure(
    path: str | Path,
    panels: Sequence[TimelinePanel],
    *,
    title: str | None = None,
    width_in: float = 10.0,
    dpi: int = 100,
) -> Path:
    """Scores over time against ground truth, one panel per instrument (Fig. 3.5 style).

    Each panel has a ground-truth strip (top: when the instrument sounds, and which annotated
    frames show playing; left out when the panel has no ground truth) above the model curves
    (scores 0..1 against time in seconds).

    Returns:
        ``path``; the PNG is ``timeline_size(len(panels), width_in) * dpi`` pixels.
    """
    fig = Figure(figsize=timeline_size(len(panels), width_in))
    outer = fig.add_gridspec(len(panels), 1, hspace=0.45)
    colours = ["tab:blue", "tab:orange", "tab:red", "tab:green", "tab:purple", "tab:brown"]
    end = max([_last_time(p) for p in panels] + [ANALYSIS_PERIOD])
    for i, panel in enumerate(panels):
        if panel.sound_truth is not None or panel.positives is not None:
            inner = outer[i].subgridspec(2, 1, height_ratios=[1, 3], hspace=0.12)
            top = fig.add_subplot(inner[0])
            ax = fig.add_subplot(inner[1], sharex=top)
            _truth_strip(top, panel)
        else:  # no ground truth (ipd detect): the curves only
            ax = top = fig.add_subplot(outer[i])
        top.set_title(panel.instrument, loc="left", fontsize=11, fontweight="bold")
        for k, (label, (times, values)) in enumerate(panel.curves.items()):
            ax.plot(
                times,
                values,
                color=colours[k % len(colours)],
                lw=1.6,
                marker=".",
                ms=4,
                label=label,
            )
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlim(0.0, end)
        ax.set_ylabel("score")
        ax.grid(alpha=0.3)
        if panel.curves:
            ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8, frameon=False)
        ax.set_xlabel("time (s)")
    fig.suptitle(title or "Scores over time against ground truth", fontsize=12)
    fig.subplots_adjust(
        left=0.07, right=0.76, top=1 - 0.45 / fig.get_figheight(), bottom=0.55 / fig.get_figheight()
    )
    return save_png(fig, path, dpi)


def timeline_size(panels: int, width_in: float = 10.0) -> tuple[float, float]:
    """Figure size (inches) of :func:`timeline_figure` with ``panels`` panels."""
    return width_in, 0.8 + 3.0 * max(1, panels)


def _truth_strip(ax, panel: TimelinePanel) -> None:
    """Row 1: sound activity (truth); row 0: annotated frames (magenta: key points, grey: none)."""
    ax.set_ylim(-0.5, 1.5)
    ax.set_yticks([0, 1], ["playing", "sound"], fontsize=8)
    ax.tick_params(labelbottom=False)
    if panel.sound_truth is not None:
        times, active = (np.asarray(a) for a in panel.sound_truth)
        ax.broken_barh(_runs(times, active.astype(bool)), (0.65, 0.7), color="tab:blue")
    if panel.positives is not None:
        times, positive = (np.asarray(a) for a in panel.positives)
        positive = positive.astype(bool)
        ax.broken_barh(_runs(times, ~positive), (-0.35, 0.7), color="0.85")
        ax.broken_barh(_runs(times, positive), (-0.35, 0.7), color=PLAYING_COLOUR)
    ax.grid(axis="x", alpha=0.3)
    handles = [
        Patch(color=colour, label=label)
        for shown, colour, label in (
            (panel.sound_truth is not None, "tab:blue", "instrument sounds"),
            (panel.positives is not None, PLAYING_COLOUR, "annotated: playing"),
            (panel.positives is not None, "0.85", "annotated: not playing"),
        )
        if shown
    ]
    if handles:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.005, 1.25),
            fontsize=8,
            frameon=False,
        )


def _runs(times: np.ndarray, mask: np.ndarray) -> list[tuple[float, float]]:
    """``(start, width)`` spans covering the samples where ``mask`` is True (+- half a step)."""
    if len(times) == 0:
        return []
    step = float(np.median(np.diff(times))) if len(times) > 1 else ANALYSIS_PERIOD
    spans: list[tuple[float, float]] = []
    for t, on in zip(times, mask, strict=True):
        if not on:
            continue
        start = float(t) - step / 2
        if spans and abs(spans[-1][0] + spans[-1][1] - start) < 1e-6:
            spans[-1] = (spans[-1][0], spans[-1][1] + step)
        else:
            spans.append((start, step))
    return spans


def _last_time(panel: TimelinePanel) -> float:
    times = [t for t, _ in panel.curves.values()]
    times += [p[0] for p in (panel.sound_truth, panel.positives) if p is not None]
    ends = [float(np.max(t)) + ANALYSIS_PERIOD / 2 for t in times if len(t)]
    return max(ends, default=0.0)
