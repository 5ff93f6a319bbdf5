"""Fusion products A x O, A x S, A x O x S and S x O against hand-computed values (SPEC 6)."""

import numpy as np
import pytest

from ipd.errors import InputError
from ipd.evaluation.fusion import fuse, fuse_all
from ipd.evaluation.predictions import MapGrid, Prediction
from ipd.timebase import analysis_times

NAMES = ("Cello", "Violin")
# two frames, two classes, 1x2 maps
A = np.array([[[[0.5, 1.0]], [[0.2, 0.4]]], [[[1.0, 0.0]], [[0.8, 0.6]]]], dtype=np.float32)
O = np.array([[[[0.5, 0.5]], [[1.0, 0.25]]], [[[0.5, 1.0]], [[0.5, 0.5]]]], dtype=np.float32)
S = np.array([[0.5, 0.25], [1.0, 0.5]], dtype=np.float32)


def _pred(source, maps=None, scores=None, times=None, vid="v", names=NAMES):
    n = len(maps) if maps is not None else len(scores)
    times = analysis_times(n) if times is None else np.asarray(times, dtype=np.float64)
    return Prediction(vid, times, names, source, maps=maps, scores=scores)


def test_action_times_object():
    fused = fuse(_pred("A", A), _pred("O", O))
    expected = [[[[0.25, 0.5]], [[0.2, 0.1]]], [[[0.5, 0.0]], [[0.4, 0.3]]]]
    np.testing.assert_allclose(fused.maps, expected)
    assert fused.scores is None and fused.source == "A x O"
    np.testing.assert_array_equal(fused.times, analysis_times(2))


def test_the_product_keeps_the_map_grid():
    grid = MapGrid(stride=32, offset=0, height=32, width=64)  # 1 x 2 maps of a 32 x 64 input
    action = Prediction("v", analysis_times(2), NAMES, "A", maps=A, grid=grid)
    sound = _pred("S", scores=S)
    assert fuse(action, sound).grid == grid
    assert fuse(sound, action).grid == grid  # the grid of the input with maps
    assert fuse(sound, sound).grid is None


def test_action_times_sound_broadcasts_over_space():
    fused = fuse(_pred("A", A), _pred("S", scores=S))
    # frame 0: Cello x 0.5, Violin x 0.25; frame 1: Cello x 1, Violin x 0.5
    expected = [[[[0.25, 0.5]], [[0.05, 0.1]]], [[[1.0, 0.0]], [[0.4, 0.3]]]]
    np.testing.assert_allclose(fused.maps, expected)


def test_action_times_object_times_sound_and_sound_times_object():
    fused = fuse(_pred("A", A), _pred("O", O), _pred("S", scores=S), source="SOT0503xOxS")
    expected = [[[[0.125, 0.25]], [[0.05, 0.025]]], [[[0.5, 0.0]], [[0.2, 0.15]]]]
    np.testing.assert_allclose(fused.maps, expected)
    assert fused.source == "SOT0503xOxS"
    sxo = fuse(_pred("O", O), _pred("S", scores=S))
    np.testing.assert_allclose(sxo.maps, O * S[:, :, None, None])
    # temporal score of S x O = S times the spatial max of O
    np.testing.assert_allclose(sxo.frame_scores(), [[0.25, 0.25], [1.0, 0.25]])


def test_scores_times_scores_stay_scores():
    fused = fuse(_pred("S", scores=S), _pred("S2", scores=S))
    assert fused.maps is None
    np.testing.assert_allclose(fused.scores, S * S)


def test_other_inputs_are_aligned_on_the_first_ones_timestamps():
    # the sound model covers the whole video (an extra frame before, times off by 0.1 s)
    s_long = np.array([[0.0, 0.0], [0.5, 0.25], [1.0, 0.5], [0.0, 0.0]], dtype=np.float32)
    sound = _pred("S", scores=s_long, times=analysis_times(4, start_s=-0.412))
    fused = fuse(_pred("A", A), sound)
    np.testing.assert_allclose(fused.maps, A * S[:, :, None, None])
    far = _pred("S", scores=S, times=analysis_times(2, start_s=0.3))
    with pytest.raises(InputError, match="no prediction within 0.256 s"):
        fuse(_pred("A", A), far)


def test_mismatches_are_errors():
    with pytest.raises(InputError, match="video 'w'"):
        fuse(_pred("A", A), _pred("O", O, vid="w"))
    with pytest.raises(InputError, match="labels"):
        fuse(_pred("A", A), _pred("O", O, names=("Violin", "Cello")))


def test_maps_on_another_grid_are_resampled_onto_the_first():
    # An object map 1 x 3 (a model run at a larger frame size) with a ramp 0, 0.5, 1 lands on the
    # action's 1 x 2 grid as 0, 1 (bilinear, corners aligned, as the evaluation upsamples).
    ramp = np.tile(np.array([0.0, 0.5, 1.0], np.float32), (2, 2, 1, 1))
    fused = fuse(_pred("A", A), _pred("O", ramp))
    np.testing.assert_allclose(fused.maps, A * np.array([0.0, 1.0], np.float32), atol=1e-6)


def test_fuse_all_over_videos():
    first = {"v": _pred("A", A)}
    fused = fuse_all(first, {"v": _pred("O", O)}, source="VTxO")
    np.testing.assert_allclose(fused["v"].maps, A * O)
    with pytest.raises(InputError, match="no matching prediction of video v"):
        fuse_all(first, {})
