"""Procedural textures and the sprite builder.

Optical flow (Farneback) only sees motion where the image has gradients, so every surface that can
move (instruments, clothes, audience, backdrop) carries a pattern: wood grain, metal speckle, cloth
stripes / checks, brick, curtains. Colours are jittered per video; nothing here depends on the
instrument class except the palette a body plan asks for.
"""

from __future__ import annotations

import colorsys
from enum import Enum

import cv2
import numpy as np

from ipd.synth.canvas import Sprite, affine, apply, ellipse_points, fixed


class Pattern(Enum):
    """Surface patterns a texture can have."""

    PLAIN = "plain"  # colour + fine grain
    GRAIN = "grain"  # wood: stretched noise along x
    METAL = "metal"  # brushed metal: grain + a specular band
    STRIPES = "stripes"
    CHECKS = "checks"
    DOTS = "dots"
    BRICK = "brick"
    CURTAIN = "curtain"
    BLOBS = "blobs"


CLOTH_PATTERNS = (Pattern.STRIPES, Pattern.CHECKS, Pattern.DOTS, Pattern.PLAIN, Pattern.BLOBS)


def jitter(rng: np.random.Generator, rgb, hue: float = 0.03, sat: float = 0.15, val: float = 0.15):
    """``rgb`` (0..255) with hue / saturation / value randomly moved (within-class variation)."""
    h, s, v = colorsys.rgb_to_hsv(*(np.asarray(rgb, dtype=float) / 255.0))
    h = (h + rng.uniform(-hue, hue)) % 1.0
    s = float(np.clip(s * (1 + rng.uniform(-sat, sat)), 0, 1))
    v = float(np.clip(v * (1 + rng.uniform(-val, val)), 0, 1))
    return np.array(colorsys.hsv_to_rgb(h, s, v)) * 255.0


def random_colour(rng: np.random.Generator, sat=(0.2, 0.8), val=(0.25, 0.9)) -> np.ndarray:
    """A random RGB colour (0..255) with saturation and value in the given ranges."""
    return np.array(colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(*sat), rng.uniform(*val))) * 255


def smooth_noise(rng: np.random.Generator, h: int, w: int, scale: float) -> np.ndarray:
    """Zero-mean, unit-std low-pass noise ``(h, w)`` float32 with features ~``scale`` px."""
    small = rng.standard_normal((max(2, int(h / scale) + 2), max(2, int(w / scale) + 2)))
    big = cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return (big - big.mean()) / (big.std() + 1e-6)


def texture(rng: np.random.Generator, pattern: Pattern, h: int, w: int, a, b=None, period=6.0):
    """An ``(h, w, 3)`` float32 RGB texture mixing colours ``a`` and ``b`` in ``pattern``.

    ``period`` is the pattern's spatial period in pixels. A fine grain (+-4 levels) is always added
    so that even plain surfaces give the flow something to track.
    """
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b if b is not None else a * 0.7, dtype=np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    phase = rng.uniform(0, 2 * np.pi)
    if pattern is Pattern.PLAIN:
        t = 0.5 + 0.15 * smooth_noise(rng, h, w, period * 2)
    elif pattern is Pattern.GRAIN:
        n = cv2.resize(rng.standard_normal((max(2, h), max(2, w // 12))).astype(np.float32), (w, h))
        t = 0.5 + 0.5 * np.sin(yy * 2 * np.pi / period + 2.5 * n + phase)
    elif pattern is Pattern.METAL:
        band = np.exp(-(((yy / max(h, 1)) - rng.uniform(0.25, 0.45)) ** 2) / 0.01)
        t = 0.35 + 0.55 * band + 0.08 * smooth_noise(rng, h, w, 2)
    elif pattern is Pattern.STRIPES:
        ang = rng.uniform(0, np.pi)
        t = 0.5 + 0.5 * np.sign(np.sin((xx * np.cos(ang) + yy * np.sin(ang)) * 2 * np.pi / period))
    elif pattern is Pattern.CHECKS:
        t = ((np.floor(xx / period) + np.floor(yy / period)) % 2).astype(np.float32)
    elif pattern is Pattern.DOTS:
        t = ((np.mod(xx, period) - period / 2) ** 2 + (np.mod(yy, period) - period / 2) ** 2) < (
            period / 3
        ) ** 2
        t = t.astype(np.float32)
    elif pattern is Pattern.BRICK:
        row = np.floor(yy / period)
        xs = xx + (row % 2) * period
        mortar = (np.mod(yy, period) < 1.2) | (np.mod(xs, 2 * period) < 1.2)
        t = np.where(mortar, 1.0, 0.15 * smooth_noise(rng, h, w, period))
    elif pattern is Pattern.CURTAIN:
        t = 0.5 + 0.45 * np.sin(xx * 2 * np.pi / period + 1.5 * smooth_noise(rng, h, w, period * 4))
    else:  # BLOBS
        t = (smooth_noise(rng, h, w, period) > 0.3).astype(np.float32)
        t = cv2.GaussianBlur(t, (0, 0), 1.0)
    t = np.clip(t, 0, 1)[..., None]
    img = a * (1 - t) + b * t
    img += rng.normal(0, 4.0, (h, w, 1)).astype(np.float32)
    return np.clip(img, 0, 255)


class SpriteBuilder:
    """Paints textured parts into an RGBA canvas whose local ``(0, 0)`` is at ``origin``.

    Args:
        rng: the video's generator (textures are random).
        extent: ``(xmin, ymin, xmax, ymax)`` of the object in local pixels.
    """

    def __init__(self, rng: np.random.Generator, extent: tuple[float, float, float, float]):
        self.rng = rng
        x0, y0, x1, y1 = extent
        self.origin = (-x0 + 2.0, -y0 + 2.0)
        self.w, self.h = int(np.ceil(x1 - x0)) + 4, int(np.ceil(y1 - y0)) + 4
        self.rgb = np.zeros((self.h, self.w, 3), np.float32)
        self.alpha = np.zeros((self.h, self.w), np.float32)
        self._to_px = affine(0, *self.origin)

    def _mask(self, draw) -> np.ndarray:
        m = np.zeros((self.h, self.w), np.uint8)
        draw(m)
        return m.astype(np.float32) / 255.0

    def _fill(self, m: np.ndarray, tex) -> None:
        if not isinstance(tex, np.ndarray) or tex.ndim != 3:
            tex = np.broadcast_to(np.asarray(tex, np.float32), (self.h, self.w, 3))
        m3 = m[..., None]
        self.rgb = self.rgb * (1 - m3) + tex * m3
        self.alpha = np.maximum(self.alpha, m)

    def texture(self, pattern: Pattern, a, b=None, period: float = 6.0) -> np.ndarray:
        """A canvas-sized texture to fill parts with."""
        return texture(self.rng, pattern, self.h, self.w, a, b, period)

    def polygon(self, pts, tex) -> None:
        """Fill the local polygon ``pts`` ``(n, 2)`` with ``tex`` (texture or colour)."""
        p = fixed(apply(self._to_px, pts)).reshape(-1, 1, 2)
        self._fill(self._mask(lambda m: cv2.fillPoly(m, [p], 255, cv2.LINE_AA, 4)), tex)

    def ellipse(self, centre, axes, tex, angle: float = 0.0) -> None:
        """Fill an ellipse (local centre, half-axes, rotation in degrees)."""
        self.polygon(ellipse_points(centre, axes, angle, n=48), tex)

    def line(self, p0, p1, width: float, tex) -> None:
        """A thick line between local points."""
        a, b = fixed(apply(self._to_px, [p0, p1]))
        w = max(1, int(round(width)))
        self._fill(
            self._mask(
                lambda m: cv2.line(
                    m, tuple(map(int, a)), tuple(map(int, b)), 255, w, cv2.LINE_AA, 4
                )
            ),  # fmt: skip
            tex,
        )

    def build(self) -> Sprite:
        rgba = np.dstack([np.clip(self.rgb, 0, 255), self.alpha * 255.0])
        return Sprite(np.round(rgba).astype(np.uint8), self.origin)
