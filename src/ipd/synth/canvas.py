"""2-D drawing for the renderer: affine poses, textured RGBA sprites and sub-pixel primitives.

Objects are drawn as sprites (RGBA images in their own local frame) warped into the video frame, so
their texture moves with them: dense optical flow then sees motion inside an object, not only at
its edges. Lines and discs use OpenCV's fixed-point ``shift`` so positions are sub-pixel and slow
motion stays smooth. Coordinates are ``(x, y)`` = (column, row) in pixels; images are RGB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

SHIFT = 4  # fractional bits of OpenCV coordinates: positions are drawn to 1/16 px
_ONE = 1 << SHIFT


def affine(angle_deg: float = 0.0, tx: float = 0.0, ty: float = 0.0, sx: float = 1.0) -> np.ndarray:
    """``(2, 3)`` matrix: mirror x by ``sx`` (+1 or -1), rotate by ``angle_deg`` (clockwise on
    screen, since y points down), then translate by ``(tx, ty)``."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c * sx, -s, tx], [s * sx, c, ty]], dtype=np.float64)


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """``outer ∘ inner`` for ``(2, 3)`` affine matrices (apply ``inner`` first)."""
    m = np.vstack([outer, [0, 0, 1]]) @ np.vstack([inner, [0, 0, 1]])
    return m[:2]


def apply(m: np.ndarray, pts) -> np.ndarray:
    """Map points ``(..., 2)`` through the ``(2, 3)`` affine ``m``."""
    p = np.asarray(pts, dtype=np.float64)
    return p @ m[:, :2].T + m[:, 2]


def fixed(pts) -> np.ndarray:
    """Points to OpenCV fixed-point int32 (``SHIFT`` fractional bits)."""
    return np.round(np.asarray(pts, dtype=np.float64) * _ONE).astype(np.int32)


def colour(rgb) -> tuple[int, int, int]:
    """An OpenCV colour tuple from any RGB triple."""
    return tuple(int(round(float(c))) for c in rgb)


def line(img: np.ndarray, p0, p1, rgb, width: float) -> None:
    """Anti-aliased line of ``width`` px from ``p0`` to ``p1`` (round caps)."""
    a, b = fixed(p0), fixed(p1)
    cv2.line(img, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), colour(rgb),
             max(1, int(round(width))), cv2.LINE_AA, SHIFT)  # fmt: skip


def polyline(img: np.ndarray, pts, rgb, width: float) -> None:
    """Anti-aliased open polyline through ``pts`` ``(n, 2)``."""
    cv2.polylines(img, [fixed(pts).reshape(-1, 1, 2)], False, colour(rgb),
                  max(1, int(round(width))), cv2.LINE_AA, SHIFT)  # fmt: skip


def disc(img: np.ndarray, centre, radius: float, rgb) -> None:
    """Filled anti-aliased disc."""
    c = fixed(centre)
    cv2.circle(img, (int(c[0]), int(c[1])), max(1, int(round(radius * _ONE))), colour(rgb),
               -1, cv2.LINE_AA, SHIFT)  # fmt: skip


def polygon(img: np.ndarray, pts, rgb) -> None:
    """Filled anti-aliased polygon ``(n, 2)``."""
    cv2.fillPoly(img, [fixed(pts).reshape(-1, 1, 2)], colour(rgb), cv2.LINE_AA, SHIFT)


def ellipse_points(centre, axes, angle_deg: float = 0.0, n: int = 28) -> np.ndarray:
    """``(n, 2)`` outline of an ellipse with half-axes ``axes`` rotated by ``angle_deg``."""
    th = np.linspace(0, 2 * np.pi, n, endpoint=False)
    pts = np.stack([axes[0] * np.cos(th), axes[1] * np.sin(th)], axis=1)
    return apply(affine(angle_deg, centre[0], centre[1]), pts)


@dataclass
class Sprite:
    """A textured object in its local frame: ``rgba (h, w, 4)`` uint8, local ``(0, 0)`` at pixel
    ``origin``. Local coordinates are pixels of the video at the object's scale."""

    rgba: np.ndarray
    origin: tuple[float, float]

    def local_to_pixel(self) -> np.ndarray:
        return affine(0, self.origin[0], self.origin[1])


def paste(
    img: np.ndarray, sprite: Sprite, pose: np.ndarray, mask: np.ndarray | None = None
) -> None:
    """Alpha-composite ``sprite`` into ``img`` (in place) with ``pose`` = local -> frame affine.

    Only the destination region the sprite covers is warped, which keeps a frame to ~1 ms.
    ``mask`` (frame-sized uint8), when given, is set to 255 wherever the sprite shows (alpha above
    5 %, so anti-aliased rims count: boxes cover every pixel the object visibly changes).
    """
    h, w = sprite.rgba.shape[:2]
    # sprite pixel -> local -> frame
    m = compose(pose, np.linalg.inv(np.vstack([sprite.local_to_pixel(), [0, 0, 1]]))[:2])
    corners = apply(m, [[0, 0], [w, 0], [0, h], [w, h]])
    x0, y0 = np.floor(corners.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int) + 1
    H, W = img.shape[:2]
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
    if x1 <= x0 or y1 <= y0:
        return
    m_roi = m.copy()
    m_roi[:, 2] -= (x0, y0)
    warped = cv2.warpAffine(sprite.rgba, m_roi, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))  # fmt: skip
    alpha = warped[..., 3:4].astype(np.float32) * (1.0 / 255.0)
    roi = img[y0:y1, x0:x1]
    roi[:] = (roi * (1.0 - alpha) + warped[..., :3] * alpha + 0.5).astype(np.uint8)
    if mask is not None:
        mask[y0:y1, x0:x1][warped[..., 3] > 12] = 255


def add_glow(img: np.ndarray, blob: np.ndarray, centre, rgb, gain: float) -> None:
    """Add a soft light ``blob`` ``(h, w)`` float32 in [0, 1], coloured ``rgb``, centred at
    ``centre`` (integer placement: the blob is smooth, so a 1-px step is invisible to flow)."""
    bh, bw = blob.shape
    cx, cy = int(round(centre[0])), int(round(centre[1]))
    x0, y0 = cx - bw // 2, cy - bh // 2
    H, W = img.shape[:2]
    sx0, sy0 = max(0, -x0), max(0, -y0)
    dx0, dy0 = max(0, x0), max(0, y0)
    dx1, dy1 = min(W, x0 + bw), min(H, y0 + bh)
    if dx1 <= dx0 or dy1 <= dy0:
        return
    b = blob[sy0 : sy0 + dy1 - dy0, sx0 : sx0 + dx1 - dx0, None] * gain
    roi = img[dy0:dy1, dx0:dx1].astype(np.float32)
    roi += b * np.asarray(rgb, dtype=np.float32)
    img[dy0:dy1, dx0:dx1] = np.clip(roi, 0, 255).astype(np.uint8)
