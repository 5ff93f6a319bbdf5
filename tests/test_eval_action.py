"""Action metrics against hand-computed values (SPEC 7): AUC with ties and skipped videos, the
averaging order, bilinear upsampling and arg-max, min distance, the Center baseline."""

import numpy as np
import pytest

from ipd.errors import InputError
from ipd.evaluation.action import (
    argmax_xy,
    center_distance,
    center_xy,
    evaluate,
    evaluate_center,
    min_distance,
    spatial_distance,
    summarize,
    temporal_auc,
    upsample,
    video_auc,
)
from ipd.evaluation.keypoints import FrameRecord, VideoAnnotation
from ipd.evaluation.predictions import MapGrid, Prediction
from ipd.evaluation.tables import build_tables, row_to_json
from ipd.timebase import analysis_times

NAMES = ("Cello", "Flute", "Violin")


def _video(vid, instrument, keypoints, width=6, height=4, start=0.0):
    """keypoints: one list of (x, y) per frame ([] = negative frame)."""
    times = analysis_times(len(keypoints), start)
    frames = tuple(
        FrameRecord(vid, k, float(t), width, height, np.array(kp, dtype=float).reshape(-1, 2))
        for k, (t, kp) in enumerate(zip(times, keypoints, strict=True))
    )
    return VideoAnnotation(vid, instrument, frames)


def _flat_maps(scores, instrument, h=2, w=3):
    """Maps whose channel for ``instrument`` is constant ``scores[t]`` (other channels 0)."""
    maps = np.zeros((len(scores), len(NAMES), h, w), dtype=np.float32)
    maps[:, NAMES.index(instrument)] = np.asarray(scores, dtype=np.float32)[:, None, None]
    return maps


def _pred(vid, maps=None, scores=None, start=0.0, grid=None):
    n = len(maps) if maps is not None else len(scores)
    times = analysis_times(n, start)
    return Prediction(vid, times, NAMES, "test", maps=maps, scores=scores, grid=grid)


P, N = [(1.0, 1.0)], []  # a positive frame (one key point) and a negative frame


# ---- temporal AUC -------------------------------------------------------------------------------


def test_auc_with_a_tie_counts_the_tied_pair_as_one_half():
    # positives {0.9, 0.5, 0.3} vs negatives {0.5, 0.1}: pairs 1 + 1 + 0.5 + 1 + 0 + 1 = 4.5 of 6
    assert video_auc([1, 1, 0, 0, 1], [0.9, 0.5, 0.5, 0.1, 0.3]) == 0.75
    assert video_auc([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5]) == 0.5  # all tied


def test_auc_of_a_one_class_video_is_none():
    assert video_auc([1, 1, 1, 1], [0.1, 0.2, 0.3, 0.4]) is None
    assert video_auc([0, 0, 0, 0], [0.1, 0.2, 0.3, 0.4]) is None


def _temporal_world():
    """Violin: v1 AUC 1, v2 AUC 0.25, v3 all positive (skipped); Cello: v4 AUC 0.75 (a tie);
    Flute: v5 all negative (skipped) -> Flute has no value."""
    spec = {
        "v1": ("Violin", [P, P, N, N], [0.9, 0.8, 0.2, 0.1]),
        "v2": ("Violin", [P, N, P, N], [0.2, 0.4, 0.6, 0.8]),
        "v3": ("Violin", [P, P, P, P], [0.1, 0.2, 0.3, 0.4]),
        "v4": ("Cello", [P, P, N, N, P], [0.9, 0.5, 0.5, 0.1, 0.3]),
        "v5": ("Flute", [N, N, N, N], [0.9, 0.5, 0.5, 0.1]),
    }
    annotations = {vid: _video(vid, inst, kps) for vid, (inst, kps, _) in spec.items()}
    predictions = {vid: _pred(vid, _flat_maps(s, inst)) for vid, (inst, _, s) in spec.items()}
    return annotations, predictions


def test_temporal_averages_per_video_then_per_instrument_then_over_instruments():
    annotations, predictions = _temporal_world()
    result = temporal_auc(annotations, predictions, NAMES)
    assert result.per_video == {"v1": 1.0, "v2": 0.25, "v4": 0.75}
    assert result.skipped == ("v3", "v5")
    assert result.per_instrument == {"Cello": 0.75, "Flute": None, "Violin": 0.625}
    # mean over the two instruments with a value; the mean over videos would be 2/3
    assert result.overall == 0.6875


def test_temporal_uses_the_spatial_max_and_the_video_instrument_channel():
    ann = {"v": _video("v", "Violin", [P, N, P, N])}
    maps = np.zeros((4, 3, 2, 3), dtype=np.float32)
    maps[:, NAMES.index("Violin"), 1, 2] = [0.9, 0.1, 0.8, 0.2]  # one pixel carries the score
    maps[:, NAMES.index("Cello")] = np.array([0, 1, 0, 1])[:, None, None]  # wrong channel: ignored
    assert temporal_auc(ann, {"v": _pred("v", maps)}, NAMES).overall == 1.0


def test_temporal_matches_frames_by_timestamp_not_position():
    ann = {"v": _video("v", "Violin", [P, N, P, N], start=30.0)}
    # the prediction covers 29.488 ... 32.048 s: annotated frames are its indices 1..4
    scores = np.zeros((6, 3), dtype=np.float32)
    scores[:, 2] = [0.0, 0.9, 0.1, 0.8, 0.2, 1.0]
    result = temporal_auc(ann, {"v": _pred("v", scores=scores, start=29.488)}, NAMES)
    assert result.overall == 1.0
    with pytest.raises(InputError, match="no prediction within 0.256 s"):
        temporal_auc(ann, {"v": _pred("v", scores=scores, start=28.0)}, NAMES)


def test_summarize_leaves_an_instrument_without_videos_out():
    s = summarize({"a": 0.5, "b": None}, {"a": "Cello", "b": "Violin"}, NAMES)
    assert s.per_instrument == {"Cello": 0.5, "Flute": None, "Violin": None}
    assert s.overall == 0.5
    assert summarize({"b": None}, {"b": "Violin"}, NAMES).overall is None


# ---- spatial distance ---------------------------------------------------------------------------

# A 2x3 map upsampled (align_corners=True) to a 4x6 frame: columns sample the map at 0, .4, .8,
# 1.2, 1.6, 2 and rows at 0, 1/3, 2/3, 1. Row 0 becomes [0, .4, .8, .9, .7, .5]: arg-max (3, 0).
MAP = np.array([[0.0, 1.0, 0.5], [0.0, 0.0, 0.0]], dtype=np.float32)


def test_upsample_to_the_frame_is_bilinear_with_aligned_corners():
    up = upsample(MAP[None], 4, 6)[0]
    np.testing.assert_allclose(up[0], [0.0, 0.4, 0.8, 0.9, 0.7, 0.5], atol=1e-6)
    np.testing.assert_allclose(up[:, 3], [0.9, 0.6, 0.3, 0.0], atol=1e-6)
    assert argmax_xy(up) == (3, 0)
    # the half-pixel convention (align_corners=False) samples at -.25->0, .25, .75, 1.25, ...
    half = upsample(MAP[None], 4, 6, align_corners=False)[0]
    np.testing.assert_allclose(half[0], [0.0, 0.25, 0.75, 0.875, 0.625, 0.5], atol=1e-6)


def test_upsample_places_each_cell_where_the_network_looks():
    # Cells 2 px apart from pixel 0: columns x = 0..5 sample the map at 0, .5, 1, 1.5, 2, 2 (edge
    # value beyond the last cell); rows y = 0..3 at 0, .5, 1, 1. Row 0 = [0, .5, 1, .75, .5, .5].
    up = upsample(MAP[None], 4, 6, grid=MapGrid(stride=2, offset=0, height=4, width=6))[0]
    np.testing.assert_allclose(up[0], [0.0, 0.5, 1.0, 0.75, 0.5, 0.5], atol=1e-6)
    np.testing.assert_allclose(up[:, 2], [1.0, 0.5, 0.0, 0.0], atol=1e-6)
    assert argmax_xy(up) == (2, 0)  # the cell's own pixel; corner to corner gives (3, 0)
    # cell 0 on pixel 1: pixel 0 takes the edge value, the peak moves one pixel right and down
    shifted = upsample(MAP[None], 4, 6, grid=MapGrid(stride=2, offset=1, height=4, width=6))[0]
    np.testing.assert_allclose(shifted[0], [0.0, 0.0, 0.5, 1.0, 0.75, 0.5], atol=1e-6)


def test_cells_spread_over_the_corners_equal_torchs_aligned_corners():
    maps = np.random.default_rng(3).random((4, 5, 8)).astype(np.float32)
    # 5 x 8 cells 36 px apart on a 145 x 253 frame: rows at 0 .. 144, columns at 0 .. 252, the
    # pixels torch's align_corners=True puts them on (cell i at i (H - 1) / (h - 1)).
    grid = MapGrid(stride=36, offset=0, height=145, width=253)
    np.testing.assert_allclose(
        upsample(maps, 145, 253, grid=grid), upsample(maps, 145, 253), atol=1e-5
    )


def test_spatial_distance_places_cells_by_the_grid_or_corner_to_corner():
    # A 256 x 144 frame, its 8 x 5 map from a stride-32 network: the last cell (4, 7) looks at
    # pixel (224, 128). Placed there, it is on the key point (0 px); stretched corner to corner it
    # is drawn at (255, 143): sqrt(31^2 + 15^2) = 34.438 px away.
    ann = {"v1": _video("v1", "Violin", [[(224, 128)]], width=256, height=144)}
    maps = np.zeros((1, 3, 5, 8), dtype=np.float32)
    maps[0, 2, 4, 7] = 1.0
    grid = MapGrid(stride=32, offset=0, height=144, width=256)
    placed = {"v1": _pred("v1", maps, grid=grid)}
    assert spatial_distance(ann, placed, NAMES).overall == 0.0
    assert spatial_distance(ann, placed, NAMES, corners=True).overall == pytest.approx(34.438, 1e-4)
    unplaced = {"v1": _pred("v1", maps)}  # no grid stored: corner to corner
    assert spatial_distance(ann, unplaced, NAMES).overall == pytest.approx(34.438, 1e-4)
    # the same network on a 512 x 288 input, annotated on the 256-px frame: cells 16 px apart
    assert grid.cells(144, 256) == ((0.0, 32.0), (0.0, 32.0))
    assert MapGrid(32, 0, 288, 512).cells(144, 256) == ((0.0, 16.0), (0.0, 16.0))


def test_argmax_tie_takes_the_first_in_row_major_order():
    tied = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    assert argmax_xy(upsample(tied[None], 4, 6)[0]) == (0, 0)


def test_min_distance_to_several_key_points():
    # from (3, 0): to (6, 4) is 5, to (0, 0) is 3
    assert min_distance((3, 0), np.array([[6.0, 4.0], [0.0, 0.0]])) == 3.0
    assert min_distance((3, 0), np.array([[6.0, 4.0]])) == 5.0


def test_spatial_distance_per_video_instrument_and_overall():
    # v1 (Violin): frame 0 positive, key points (6, 4) and (0, 0) -> 3; frame 1 negative
    # (ignored); frame 2 positive with the max in the bottom-right corner (5, 3), key point (1, 0)
    # -> 5. Video mean 4. v2 (Violin): no positive frame -> skipped.
    # v3 (Cello): map row 1 = [0, .5, .25] -> frame row 3 = [0, .2, .4, .45, .35, .25] (rows above
    # are 2/3, 1/3, 0 of it): arg-max (3, 3); key point (0, 3) -> 3.
    ann = {
        "v1": _video("v1", "Violin", [[(6, 4), (0, 0)], N, [(1, 0)]]),
        "v2": _video("v2", "Violin", [N, N]),
        "v3": _video("v3", "Cello", [[(0, 3)]]),
    }
    corner = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 1.0]], dtype=np.float32)
    v1 = np.zeros((3, 3, 2, 3), dtype=np.float32)
    v1[0, 2], v1[1, 2], v1[2, 2] = MAP, MAP, corner
    v1[0, 0] = corner  # the Cello channel must not be used for a Violin video
    v3 = np.zeros((1, 3, 2, 3), dtype=np.float32)
    v3[0, 0] = [[0.0, 0.0, 0.0], [0.0, 0.5, 0.25]]
    preds = {"v1": _pred("v1", v1), "v2": _pred("v2", v1[:2]), "v3": _pred("v3", v3)}
    assert argmax_xy(upsample(v3[:, 0], 4, 6)[0]) == (3, 3)
    result = spatial_distance(ann, preds, NAMES)
    assert result.per_video == {"v1": 4.0, "v3": 3.0}
    assert result.skipped == ("v2",)
    assert result.per_instrument == {"Cello": 3.0, "Flute": None, "Violin": 4.0}
    assert result.overall == 3.5  # mean over instruments
    assert result.frame_mean == pytest.approx((3 + 5 + 3) / 3)  # mean over the 3 positive frames


def test_center_baseline_on_known_frames():
    assert center_xy(6, 4) == (3, 2)
    assert center_xy(5, 3) == (2, 1)  # odd sizes round down, as the authors' shape // 2
    assert center_xy(256, 144) == (128, 72)
    ann = {
        # 256x144: centre (128, 72); key points 5 px (3-4-5) and 10 px away -> frame score 5
        "a": _video("a", "Violin", [[(131, 76), (138, 72)], N, [(128, 72)]], 256, 144),
        "b": _video("b", "Cello", [[(0, 2)]]),  # 6x4: centre (3, 2) -> 3
        "c": _video("c", "Cello", [[(3, 6)]]),  # -> 4
    }
    result = center_distance(ann, NAMES)
    assert result.per_video == {"a": 2.5, "b": 3.0, "c": 4.0}
    assert result.per_instrument == {"Cello": 3.5, "Flute": None, "Violin": 2.5}
    assert result.overall == 3.0
    row = evaluate_center(ann, NAMES)
    assert row.temporal is None and row.spatial == result


def test_the_row_figure_is_the_mean_over_all_positive_frames_as_the_authors_script():
    # Center at (3, 2) of 6x4 frames. Violin: one video, three positive frames at 1, 2 and 3 px
    # (video mean 2); Cello: one video, one positive frame at 8 px. The authors' overall figure
    # (micro.csv) is the mean over the four frames, (1 + 2 + 3 + 8) / 4 = 3.5; the mean over
    # instruments of the per-instrument means is (2 + 8) / 2 = 5.
    ann = {
        "a": _video("a", "Violin", [[(4, 2)], [(5, 2)], N, [(3, 5)]]),
        "b": _video("b", "Cello", [[(3, 10)]]),
    }
    row = evaluate_center(ann, NAMES)
    assert row.spatial.per_video == {"a": 2.0, "b": 8.0}
    assert row.spatial.per_instrument == {"Cello": 8.0, "Flute": None, "Violin": 2.0}
    assert row.spatial.frame_mean == 3.5
    assert row.spatial.overall == 5.0
    cells = row_to_json(row)
    assert cells["spatial_px"] == 3.5 and cells["spatial_px_macro"] == 5.0
    assert cells["per_instrument"]["Violin"]["spatial_px"] == 2.0
    assert cells["temporal_auc"] is None
    # The per-instrument table's "Average" row is the mean of its column (the macro figure).
    _title, _header, rows = build_tables({"Center": cells})["spatial_per_instrument"]
    assert rows[-1] == ["Average", 5.0]


def test_evaluate_gives_spatial_only_for_models_with_maps():
    annotations, predictions = _temporal_world()
    row = evaluate(annotations, predictions, NAMES)
    assert row.temporal.overall == 0.6875
    # every video with a positive frame gets a distance; v5 (all negative) has none
    assert sorted(row.spatial.per_video) == ["v1", "v2", "v3", "v4"]
    assert row.spatial.skipped == ("v5",)
    sound = {vid: _pred(vid, scores=p.frame_scores()) for vid, p in predictions.items()}
    sound_row = evaluate(annotations, sound, NAMES)
    assert sound_row.spatial is None and sound_row.temporal == row.temporal
    with pytest.raises(InputError, match="needs 'maps'"):
        spatial_distance(annotations, sound, NAMES)


def test_an_annotated_video_without_prediction_is_an_error():
    annotations, predictions = _temporal_world()
    del predictions["v2"]
    with pytest.raises(InputError, match="video v2: annotated but has no prediction"):
        evaluate(annotations, predictions, NAMES)
