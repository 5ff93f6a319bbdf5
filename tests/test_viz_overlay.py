"""Heat-map overlays: the peak is the evaluation's arg-max; hand-computed blends; streaming."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from ipd.errors import InputError
from ipd.evaluation.action import argmax_xy, upsample
from ipd.evaluation.predictions import MapGrid
from ipd.viz.overlay import (
    KEYPOINT_RGB,
    PEAK_RGB,
    blend,
    colorize,
    overlay,
    overlay_sequence,
    peak_xy,
)


def _plain(frame, heat, **kwargs):
    """Overlay without text, bar or legend (only what a test asks for)."""
    options = {"colorbar": False, "legend": False, "peak": False} | kwargs
    return overlay(frame, heat, **options)


def test_peak_marker_sits_on_the_evaluations_argmax():
    # 5x5 map upsampled (align_corners=True) to 65x65: input (row r, col c) -> pixel (16c, 16r).
    heat = np.zeros((5, 5), np.float32)
    heat[1, 3] = 1.0
    assert argmax_xy(upsample(heat[None], 65, 65)[0]) == (48, 16)
    assert peak_xy(heat, 65, 65) == (48, 16)
    frame = np.full((65, 65, 3), 100, np.uint8)
    out = _plain(frame, heat, alpha=0.0, peak=True)  # alpha 0: the frame itself, plus the cross
    assert tuple(out[16, 48]) == PEAK_RGB
    assert tuple(out[50, 10]) == (100, 100, 100)  # far from the cross: untouched
    changed = np.argwhere(np.any(out != 100, axis=2))
    assert np.abs(changed - [16, 48]).max() <= 8  # the whole cross is around the peak
    # With the network's grid (stride 10 on this 65 x 65 input), cell (1, 3) sits at (30, 10):
    # the cross goes where the spatial metric then scores.
    grid = MapGrid(10, 0, 65, 65)
    assert peak_xy(heat, 65, 65, grid) == (30, 10)
    placed = _plain(frame, heat, alpha=0.0, peak=True, grid=grid)
    assert tuple(placed[10, 30]) == PEAK_RGB and tuple(placed[16, 48]) == (100, 100, 100)


def test_peak_and_keypoints_follow_an_enlarged_frame():
    heat = np.zeros((5, 5), np.float32)
    heat[1, 3] = 1.0
    frame = np.full((65, 65, 3), 100, np.uint8)
    points = np.array([[8.0, 56.0]])
    out = _plain(frame, heat, alpha=0.0, peak=True, keypoints=points, min_width=130)
    assert out.shape == (130, 130, 3)
    # Pixel centres scale onto pixel centres: x' = (x + 0.5) * 2 - 0.5.
    assert tuple(out[32, 96]) == PEAK_RGB or tuple(out[33, 97]) == PEAK_RGB
    assert tuple(out[112, 16]) == KEYPOINT_RGB or tuple(out[113, 17]) == KEYPOINT_RGB


def test_ties_take_the_first_pixel_in_row_major_order():
    heat = np.ones((2, 2), np.float32)
    assert peak_xy(heat, 4, 6) == (0, 0)


def test_blend_values_on_a_2x2_example():
    frame = np.full((2, 2, 3), 100, np.uint8)
    heat = np.array([[0.0, 1.0], [-0.5, 2.0]], np.float32)  # outside [0, 1] clips to the ends
    out = blend(frame, heat, alpha=0.5, cmap="jet")
    # jet(0) = (0, 0, 0.5), jet(1) = (0.5, 0, 0): 0.5 * 100 + 0.5 * 127.5 = 113.75 -> 114.
    blue, red = [50, 50, 114], [114, 50, 50]
    assert out.tolist() == [[blue, red], [blue, red]]


def test_colour_scale_uses_vmin_and_vmax():
    values = np.array([0.2, 0.6, 0.4])
    rgb = colorize(values, "gray", vmin=0.2, vmax=0.6)
    assert rgb[0].tolist() == [0.0, 0.0, 0.0]
    assert rgb[1].tolist() == [1.0, 1.0, 1.0]
    assert rgb[2, 0] * 255 == pytest.approx(128)  # halfway: LUT entry 128 of 256
    with pytest.raises(ValueError):
        colorize(values, vmin=1.0, vmax=1.0)


def test_overlay_upsamples_a_small_map_and_keeps_the_frame_size():
    frame = np.zeros((48, 64, 3), np.uint8)
    heat = np.array([[0.0, 1.0]], np.float32)  # one row: left blue, right red
    out = _plain(frame, heat, alpha=1.0)
    assert out.shape == (48, 64, 3)
    assert out[20, 0].tolist() == [0, 0, 128]  # jet(0) = (0, 0, 0.5)
    assert out[20, 63].tolist() == [128, 0, 0]  # jet(1) = (0.5, 0, 0)


def test_text_and_colour_bar_are_drawn():
    frame = np.full((144, 256, 3), 90, np.uint8)
    heat = np.zeros((4, 4), np.float32)
    bare = _plain(frame, heat, alpha=0.0)
    full = overlay(frame, heat, alpha=0.0, label="Violin", caption="SOT0503")
    assert np.array_equal(bare, frame)
    assert np.any(full[:30, :60] != 90)  # label in the top-left corner
    right = full[40:100, 240:252]
    assert right[..., 0].max() > 200 and right[..., 2].max() > 200  # jet bar: red top, blue bottom


def test_sequence_picks_the_nearest_map_by_time():
    frames = [np.zeros((64, 64, 3), np.uint8) for _ in range(10)]
    maps = np.stack([np.zeros((2, 2)), np.ones((2, 2))]).astype(np.float32)
    times = np.arange(10) * 0.1  # 10 fps against maps at 0 and 0.512 s
    out = list(
        overlay_sequence(
            frames, maps, frame_times=times, map_times=[0.0, 0.512], alpha=1.0, cmap="gray",
            colorbar=False, legend=False, peak=False,
        )
    )  # fmt: skip
    values = [int(f[60, 60, 0]) for f in out]  # away from the time caption
    assert values == [0, 0, 0, 255, 255, 255, 255, 255, 255, 255]  # 0.3 s is nearer to 0.512


def test_sequence_is_lazy():
    def frames():
        for _ in range(3):
            yield np.zeros((8, 8, 3), np.uint8)
        raise AssertionError("read beyond what was asked")

    maps = np.zeros((100, 2, 2), np.float32)
    taken = list(itertools.islice(overlay_sequence(frames(), maps), 3))
    assert len(taken) == 3


def test_bad_input():
    with pytest.raises(InputError):
        overlay(np.zeros((8, 8), np.uint8), np.zeros((2, 2)))
    with pytest.raises(InputError):
        list(overlay_sequence([np.zeros((8, 8, 3), np.uint8)] * 3, np.zeros((2, 2, 2))))
    with pytest.raises(ValueError):
        list(overlay_sequence([], np.zeros((1, 2, 2)), frame_times=[0.0]))
