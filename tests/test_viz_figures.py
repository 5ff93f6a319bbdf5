"""Figures: PNGs of the announced size that show what they should (colours of the parts)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ipd.viz.figures import (
    TimelinePanel,
    _runs,
    side_by_side_figure,
    side_by_side_size,
    timeline_figure,
    timeline_size,
)


def _count(image: np.ndarray, rgb: tuple[int, int, int], tol: int = 6) -> int:
    return int(np.all(np.abs(image.astype(int) - rgb) <= tol, axis=2).sum())


def test_side_by_side_png(tmp_path):
    rng = np.random.default_rng(0)
    frames = rng.integers(60, 200, (3, 48, 64, 3), dtype=np.uint8)
    rows = {name: rng.random((3, 4, 4)).astype(np.float32) for name in ("VT", "ST05", "SOT0503")}
    points = [np.array([[10.0, 20.0]]), None, np.zeros((0, 2))]
    path = side_by_side_figure(
        tmp_path / "s.png", frames, rows, times=[0.0, 0.512, 1.024], keypoints=points,
        instrument="Violin", column_notes=["playing", "not annotated", "not playing"], dpi=50,
    )  # fmt: skip
    image = np.asarray(Image.open(path).convert("RGB"))
    width, height = side_by_side_size(3, 3, 48, 64)
    assert image.shape[:2] == (int(height * 50), int(width * 50))  # Agg rounds down
    assert _count(image, (255, 0, 255), tol=30) > 0  # the magenta key point
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 500  # heat maps, not a blank page


def test_timeline_png(tmp_path):
    times = np.arange(12) * 0.512
    panel = TimelinePanel(
        "Flute",
        {"S: sound model": (times, np.linspace(0, 1, 12))},
        sound_truth=(times, times > 2),
        positives=(times[::2], np.arange(6) % 2 == 0),
    )
    bare = TimelinePanel("Violin", {"A: VT (spatial max)": (times, np.full(12, 0.5))})
    path = timeline_figure(tmp_path / "t.png", [panel, bare], dpi=60)
    image = np.asarray(Image.open(path).convert("RGB"))
    width, height = timeline_size(2)
    assert image.shape[:2] == (int(height * 60), int(width * 60))
    assert _count(image, (31, 119, 180)) > 200  # tab:blue: the S curve and the sound truth
    assert _count(image, (180, 60, 180)) > 50  # annotated playing frames


def test_runs_cover_half_a_step_each_side():
    times = np.array([0.0, 0.512, 1.024, 1.536])
    spans = _runs(times, np.array([True, True, False, True]))
    assert spans == [pytest.approx((-0.256, 1.024)), pytest.approx((1.28, 0.512))]
    assert _runs(times, np.zeros(4, bool)) == []
