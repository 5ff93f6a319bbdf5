"""Prediction files (atomic, no pickles) and timestamp matching within half an analysis period."""

import numpy as np
import pytest

from ipd.errors import InputError
from ipd.evaluation.predictions import (
    MapGrid,
    Prediction,
    load_prediction,
    load_predictions,
    match_frames,
    save_prediction,
)
from ipd.timebase import ANALYSIS_PERIOD, analysis_times

NAMES = ("Cello", "Violin")


def _pred(**kw) -> Prediction:
    rng = np.random.default_rng(0)
    base = {
        "video_id": "vid1",
        "times": analysis_times(3, start_s=5.0),
        "label_names": NAMES,
        "source": "runs/sot/best.ckpt",
        "maps": rng.random((3, 2, 2, 3)).astype(np.float32),
    }
    return Prediction(**{**base, **kw})


def test_round_trip_keeps_every_field(tmp_path):
    pred = _pred(scores=np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], dtype=np.float32))
    path = save_prediction(tmp_path / "out" / "vid1.npz", pred)
    back = load_prediction(path)
    assert back.video_id == "vid1"
    assert back.label_names == NAMES
    assert back.source == "runs/sot/best.ckpt"
    np.testing.assert_array_equal(back.times, pred.times)  # float64 kept bit for bit
    np.testing.assert_allclose(back.times, [5.0, 5.512, 6.024], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(back.maps, pred.maps)
    np.testing.assert_array_equal(back.scores, pred.scores)
    assert back.path == path
    assert back.grid is None  # not stored: maps are then stretched corner to corner
    assert sorted(p.name for p in path.parent.iterdir()) == ["vid1.npz"]  # no temporary left


def test_map_grid_round_trip_and_bad_grids(tmp_path):
    grid = MapGrid(stride=32.0, offset=0.0, height=144, width=256)
    back = load_prediction(save_prediction(tmp_path / "vid1.npz", _pred(grid=grid)))
    assert back.grid == grid
    with pytest.raises(InputError, match="'grid' needs maps and a positive stride"):
        save_prediction(tmp_path / "bad.npz", _pred(grid=MapGrid(0.0, 0.0, 144, 256)))
    scores = np.zeros((3, 2), np.float32)
    with pytest.raises(InputError, match="'grid' needs maps"):
        save_prediction(tmp_path / "bad.npz", _pred(maps=None, scores=scores, grid=grid))
    path = tmp_path / "short.npz"
    arrays = dict(np.load(tmp_path / "vid1.npz"))
    np.savez(path, **{**arrays, "grid": np.array([32.0, 0.0])})
    with pytest.raises(InputError, match=r"short.npz: 'grid' must be 4 finite numbers"):
        load_prediction(path)


def test_frame_scores_are_scores_or_the_spatial_max():
    maps = np.zeros((1, 2, 2, 3), dtype=np.float32)
    maps[0, 0, 1, 2] = 0.7
    maps[0, 1, 0, 0] = 0.2
    pred = _pred(times=np.array([0.0]), maps=maps)
    np.testing.assert_allclose(pred.frame_scores(), [[0.7, 0.2]])
    sound = _pred(times=np.array([0.0]), maps=None, scores=np.array([[0.3, 0.9]], np.float32))
    np.testing.assert_allclose(sound.frame_scores(), [[0.3, 0.9]])


def test_files_needing_pickle_are_refused(tmp_path):
    path = tmp_path / "vid1.npz"
    np.savez(path, times=np.array([0.0]), video_id=np.array(["vid1"], dtype=object))
    with pytest.raises(InputError, match=r"vid1\.npz: not a readable \.npz prediction"):
        load_prediction(path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"maps": None}, "neither 'maps' nor 'scores'"),
        ({"maps": np.full((3, 2, 2, 3), 1.5, np.float32)}, "'maps' must lie in \\[0, 1\\]"),
        ({"maps": np.zeros((3, 3, 2, 3), np.float32)}, "'maps' has shape \\(3, 3, 2, 3\\)"),
        ({"times": np.array([0.0, 1.0, 0.5])}, "'times' must increase"),
    ],
)
def test_invalid_predictions_are_refused_when_saving(tmp_path, change, message):
    with pytest.raises(InputError, match=message):
        save_prediction(tmp_path / "vid1.npz", _pred(**change))


def test_load_predictions_names_the_missing_file(tmp_path):
    save_prediction(tmp_path / "vid1.npz", _pred())
    assert list(load_predictions(tmp_path, ["vid1"])) == ["vid1"]
    with pytest.raises(InputError, match=r"vid2\.npz: no prediction for video vid2"):
        load_predictions(tmp_path, ["vid1", "vid2"])


def test_match_takes_the_nearest_time_within_half_a_period():
    pred_times = analysis_times(4)  # 0, 0.512, 1.024, 1.536
    wanted = np.array([0.2, 0.512, 0.3, 1.7])  # off by 0.2, 0, -0.212, +0.164
    np.testing.assert_array_equal(match_frames(pred_times, wanted, "p"), [0, 1, 1, 3])


@pytest.mark.parametrize("wanted", [10.512 + 0.3, 10.512 + ANALYSIS_PERIOD / 2, 10.0 - 0.26])
def test_match_at_or_beyond_half_a_period_raises(wanted):
    with pytest.raises(InputError, match=r"preds/v\.npz: no prediction within 0\.256 s"):
        match_frames(np.array([10.0, 10.512]), np.array([10.0, wanted]), "preds/v.npz")


def test_match_beyond_the_last_frame_raises_and_empty_prediction_raises():
    with pytest.raises(InputError, match="t=2.100 s"):
        match_frames(analysis_times(4), np.array([0.0, 2.1]), "p")
    with pytest.raises(InputError, match="no frames"):
        match_frames(np.zeros(0), np.array([0.0]), "p")
    np.testing.assert_array_equal(match_frames(np.array([3.0]), np.array([3.1]), "p"), [0])
