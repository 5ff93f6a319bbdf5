"""Heat maps over video frames: upsampling as the evaluation does, a colormap, alpha blending,
the arg-max peak, key points, the instrument name and a colour bar drawn into the frame.

The map is upsampled to the frame with :func:`ipd.evaluation.action.upsample` (bilinear, each cell
where the network looks when its ``MapGrid`` is given, else corner to corner) and the peak is
:func:`ipd.evaluation.action.argmax_xy` of the upsampled map, so the cross drawn on a frame is
exactly the point the spatial metric scores. Colours map ``vmin..vmax`` (default the maps' range
``0..1``, fixed so that frames and models are comparable) through a matplotlib colormap; a pixel is
``(1 - alpha) * frame + alpha * colour``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from functools import cache

import cv2
import numpy as np
from matplotlib import colormaps

from ipd.errors import InputError
from ipd.evaluation.action import argmax_xy, upsample
from ipd.evaluation.predictions import MapGrid

KEYPOINT_RGB = (255, 0, 255)  # magenta dots (a colour jet never shows): annotated key points
PEAK_RGB = (255, 255, 255)  # white cross with a black outline: the map's arg-max
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def upsample_map(
    heat: np.ndarray, height: int, width: int, grid: MapGrid | None = None
) -> np.ndarray:
    """One ``(h, w)`` map upsampled bilinearly to ``(height, width)`` float32, as the evaluation
    (``grid``: where the cells sit, None: corner to corner).

    A map already of the frame's size is returned as float32 unchanged.
    """
    heat = np.asarray(heat, dtype=np.float32)
    if heat.ndim != 2:
        raise InputError(f"heat map must be (h, w), got shape {heat.shape}")
    if heat.shape == (height, width):
        return heat
    return upsample_maps(heat[None], height, width, grid)[0]


def upsample_maps(
    maps: np.ndarray, height: int, width: int, grid: MapGrid | None = None
) -> np.ndarray:
    """``(n, h, w)`` maps upsampled to ``(n, height, width)`` float32 in one call (cheaper than
    one call per map); maps already of that size are returned as they are."""
    maps = np.asarray(maps, dtype=np.float32)
    if maps.ndim != 3:
        raise InputError(f"maps must be (n, h, w), got shape {maps.shape}")
    if maps.shape[1:] == (height, width):
        return maps
    return upsample(maps, height, width, grid=grid)


def peak_xy(
    heat: np.ndarray, height: int, width: int, grid: MapGrid | None = None
) -> tuple[int, int]:
    """``(x, y)`` pixel of the maximum of ``(h, w)`` upsampled to the frame: the scored point."""
    return argmax_xy(upsample_map(heat, height, width, grid))


def colorize(
    values: np.ndarray, cmap: str = "jet", vmin: float = 0.0, vmax: float = 1.0
) -> np.ndarray:
    """Colours of ``values`` (any shape) as float RGB in ``[0, 1]``: shape ``(..., 3)``.

    Values are scaled linearly so that ``vmin -> 0`` and ``vmax -> 1`` and clipped to that range.
    """
    if not vmax > vmin:
        raise ValueError(f"vmax ({vmax}) must exceed vmin ({vmin})")
    scaled = np.clip((np.asarray(values, dtype=np.float64) - vmin) / (vmax - vmin), 0.0, 1.0)
    return colormaps[cmap](scaled)[..., :3]


def blend(
    frame: np.ndarray,
    heat: np.ndarray,
    alpha: float = 0.45,
    cmap: str = "jet",
    vmin: float = 0.0,
    vmax: float = 1.0,
) -> np.ndarray:
    """``round((1 - alpha) * frame + alpha * 255 * colour(heat))`` as uint8.

    Args:
        frame: ``(H, W, 3)`` uint8 RGB.
        heat: ``(H, W)`` map already at the frame's size.
        alpha: weight of the heat-map colour, in ``[0, 1]``.
        cmap: matplotlib colormap name.
        vmin: value drawn with the colormap's first colour.
        vmax: value drawn with its last colour.
    """
    frame = _check_frame(frame)
    if heat.shape != frame.shape[:2]:
        raise InputError(f"heat map {heat.shape} does not match frame {frame.shape[:2]}")
    colour = 255.0 * colorize(heat, cmap, vmin, vmax)
    mixed = (1.0 - alpha) * frame.astype(np.float64) + alpha * colour
    return np.clip(np.rint(mixed), 0, 255).astype(np.uint8)


def overlay(
    frame: np.ndarray,
    heat: np.ndarray,
    *,
    alpha: float = 0.45,
    cmap: str = "jet",
    vmin: float = 0.0,
    vmax: float = 1.0,
    keypoints: np.ndarray | None = None,
    peak: bool = True,
    label: str | None = None,
    caption: str | None = None,
    colorbar: bool = True,
    legend: bool = True,
    grid: MapGrid | None = None,
    min_width: int | None = None,
) -> np.ndarray:
    """One frame with its heat map, peak, key points and text: ``(H, W, 3)`` uint8.

    The map is blended at the frame's size (the peak is the scored pixel of that frame); with
    ``min_width``, a narrower result is then enlarged (bilinear) before the marks and text are
    drawn, so that they stay legible on small analysis frames; the output is then larger.

    Args:
        frame: ``(H, W, 3)`` uint8 RGB frame (e.g. the 256-px analysis frame).
        heat: ``(h, w)`` map of one class (any resolution; upsampled to ``H x W``).
        alpha: heat-map weight in the blend.
        cmap: matplotlib colormap name.
        vmin: value of the colormap's first colour (the colour bar's bottom).
        vmax: value of the colormap's last colour (the colour bar's top).
        keypoints: ``(n, 2)`` ground-truth ``(x, y)`` pixels of this frame, drawn as magenta dots.
        peak: draw the arg-max of the upsampled map as a white cross.
        label: text for the top-left corner (the instrument).
        caption: second line of text (model name, time).
        colorbar: draw a colour bar with ``vmin``/``vmax`` on the right edge.
        legend: explain the cross and the dots at the bottom (only when they are drawn).
        grid: where the map's cells sit in the frame's video (None: corner to corner).
        min_width: enlarge the output to at least this width (pixels), or None.
    """
    frame = _check_frame(frame)
    height, width = frame.shape[:2]
    full = upsample_map(heat, height, width, grid)
    out = np.ascontiguousarray(blend(frame, full, alpha, cmap, vmin, vmax))
    factor = 1.0
    if min_width is not None and width < min_width:
        factor = min_width / width
        size = (min_width, round(height * factor))
        out = np.ascontiguousarray(cv2.resize(out, size, interpolation=cv2.INTER_LINEAR))
        height, width = out.shape[:2]

    def shown(x: float, y: float) -> tuple[int, int]:
        """Frame pixel -> output pixel (pixel centres map onto pixel centres)."""
        return round((x + 0.5) * factor - 0.5), round((y + 0.5) * factor - 0.5)

    unit = max(1.0, min(height, width) / 256.0)  # decorations scale with the frame
    has_points = keypoints is not None and len(keypoints) > 0
    if has_points:
        radius = max(2, round(3 * unit))
        for x, y in np.asarray(keypoints, dtype=np.float64).reshape(-1, 2):
            centre = shown(x, y)
            cv2.circle(out, centre, radius + 1, (0, 0, 0), -1, cv2.LINE_AA)
            cv2.circle(out, centre, radius, KEYPOINT_RGB, -1, cv2.LINE_AA)
    if peak:
        _draw_peak(out, shown(*argmax_xy(full)), unit)
    lines = [text for text in (label, caption) if text]
    for i, text in enumerate(lines):
        _draw_text(out, text, (4, round((14 + 14 * i) * unit)), unit)
    if colorbar:
        _draw_colorbar(out, cmap, vmin, vmax, unit)
    if legend and (peak or has_points) and width >= 160:
        _draw_legend(out, peak, has_points, unit)
    return out


def overlay_sequence(
    frames: Iterable[np.ndarray],
    maps: Sequence[np.ndarray] | np.ndarray,
    *,
    frame_times: Iterable[float] | None = None,
    map_times: Sequence[float] | np.ndarray | None = None,
    keypoints: Sequence[np.ndarray | None] | None = None,
    title: str | None = None,
    label: str | None = None,
    **kwargs,
) -> Iterator[np.ndarray]:
    """Overlay maps on a stream of frames, one output frame per input frame (a generator).

    Without times, frame ``i`` takes ``maps[i]``. With ``frame_times`` and ``map_times`` (seconds),
    each frame takes the map whose time is nearest, so a 30-fps decoded video can be drawn with
    1.953-fps maps; the caption then shows the frame time. Each distinct map is upsampled once,
    and frames are consumed lazily, so memory stays bounded for long videos.

    Args:
        frames: ``(H, W, 3)`` uint8 frames (a list, an array or an iterator).
        maps: ``(T, h, w)`` maps of one class.
        frame_times: seconds of each frame (optional).
        map_times: ``(T,)`` seconds of the maps (required with ``frame_times``).
        keypoints: per frame ``(n, 2)`` ``(x, y)`` pixels or None (frames without annotation).
        title: first part of the caption (e.g. the model name).
        label: corner text (the instrument).
        **kwargs: passed to :func:`overlay` (alpha, cmap, vmin, vmax, colorbar, ...).

    Yields:
        ``(H, W, 3)`` uint8 frames.
    """
    if (frame_times is None) != (map_times is None):
        raise ValueError("give both frame_times and map_times, or neither")
    if map_times is not None:
        map_times = np.asarray(map_times, dtype=np.float64)
        if len(map_times) != len(maps):
            raise InputError(f"{len(map_times)} map times for {len(maps)} maps")
    pairs = (
        zip(frames, frame_times, strict=True)
        if frame_times is not None
        else ((frame, None) for frame in frames)
    )
    grid = kwargs.get("grid")
    cached: tuple[int, np.ndarray] | None = None
    for i, (frame, t) in enumerate(pairs):
        index = i if t is None else _nearest(map_times, float(t))
        if index >= len(maps):
            raise InputError(f"frame {i} has no map ({len(maps)} maps)")
        frame = _check_frame(frame)
        if cached is None or cached[0] != index:
            cached = (index, upsample_map(maps[index], *frame.shape[:2], grid))
        time_text = f"t = {t:.2f} s" if t is not None else None
        caption = "  ".join(part for part in (title, time_text) if part) or None
        points = keypoints[i] if keypoints is not None else None
        yield overlay(frame, cached[1], keypoints=points, label=label, caption=caption, **kwargs)


def _nearest(times: np.ndarray, t: float) -> int:
    right = int(np.clip(np.searchsorted(times, t), 1, max(1, len(times) - 1)))
    if len(times) == 1:
        return 0
    return right - 1 if abs(t - times[right - 1]) <= abs(times[right] - t) else right


def _check_frame(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise InputError(f"frame must be (H, W, 3) uint8 RGB, got {frame.shape} {frame.dtype}")
    return frame


def _draw_peak(out: np.ndarray, xy: tuple[int, int], unit: float) -> None:
    size, thick = round(11 * unit), max(1, round(unit))
    cv2.drawMarker(out, xy, (0, 0, 0), cv2.MARKER_TILTED_CROSS, size, thick + 2, cv2.LINE_AA)
    cv2.drawMarker(out, xy, PEAK_RGB, cv2.MARKER_TILTED_CROSS, size, thick, cv2.LINE_AA)


def _draw_text(out: np.ndarray, text: str, origin: tuple[int, int], unit: float) -> None:
    """White text on a dark box, readable on any heat-map colour."""
    scale, thick = 0.4 * unit, max(1, round(unit))
    (w, h), base = cv2.getTextSize(text, _FONT, scale, thick)
    x, y = origin
    box = out[max(0, y - h - 2) : y + base, max(0, x - 2) : x + w + 2]
    box[:] = (box * 0.35).astype(np.uint8)  # darken instead of covering the frame
    cv2.putText(out, text, origin, _FONT, scale, (255, 255, 255), thick, cv2.LINE_AA)


def bar_colours(cmap: str = "jet", height: int = 48) -> np.ndarray:
    """The distinct colours of the colour bar drawn on frames of ``height`` rows: ``(n, 3)``
    uint8 (to reserve them in a GIF palette)."""
    bar_h = max(8, height // 3)
    return np.unique(_bar(cmap, bar_h).reshape(-1, 3), axis=0)


@cache
def _bar(cmap: str, height: int) -> np.ndarray:
    """A vertical colour ramp, top = vmax: ``(height, 1, 3)`` uint8."""
    ramp = np.linspace(1.0, 0.0, height)[:, None]
    return np.rint(255 * colorize(ramp, cmap)).astype(np.uint8)


def _draw_colorbar(out: np.ndarray, cmap: str, vmin: float, vmax: float, unit: float) -> None:
    height, width = out.shape[:2]
    bar_h, bar_w = max(8, height // 3), max(3, round(6 * unit))
    x0, y0 = width - bar_w - max(2, round(3 * unit)), (height - bar_h) // 2
    out[y0 : y0 + bar_h, x0 : x0 + bar_w] = _bar(cmap, bar_h)
    cv2.rectangle(out, (x0 - 1, y0 - 1), (x0 + bar_w, y0 + bar_h), (0, 0, 0), 1)
    small = 0.8 * unit
    for value, y in ((vmax, y0 - 3), (vmin, y0 + bar_h + round(10 * unit))):
        text = f"{value:g}"
        (w, _), _ = cv2.getTextSize(text, _FONT, 0.4 * small, max(1, round(small)))
        _draw_text(out, text, (min(x0, width - w - 3), y), small)


def _draw_legend(out: np.ndarray, peak: bool, points: bool, unit: float) -> None:
    """Bottom-left key: the cross is the peak, the magenta dots are the annotated key points."""
    height = out.shape[0]
    x, y = round(4 * unit), height - round(6 * unit)
    glyph_w = round(14 * unit)
    for shown, text in ((peak, "peak"), (points, "key points")):
        if not shown:
            continue
        (w, _), _ = cv2.getTextSize(text, _FONT, 0.4 * unit, max(1, round(unit)))
        _draw_text(out, text, (x + glyph_w, y), unit)
        area = out[max(0, y - round(12 * unit)) : y + round(3 * unit), max(0, x - 2) : x + glyph_w]
        area[:] = (area * 0.35).astype(np.uint8)
        glyph = (x + glyph_w // 2, y - round(4 * unit))
        if text == "peak":
            _draw_peak(out, glyph, unit * 0.7)
        else:
            cv2.circle(out, glyph, max(2, round(3 * unit)), KEYPOINT_RGB, -1, cv2.LINE_AA)
        x += glyph_w + w + round(10 * unit)
