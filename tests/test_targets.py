"""Targets VT/ST/OT/SOT against hand-computed tensors (SPEC 5), thresholds at the boundary."""

import pytest
import torch

from ipd.data.targets import Target, action_target, binarize

# Two frames, two classes; sound values sit exactly on v = 0.5 to test ">=".
SOUND = torch.tensor([[0.5, 0.49], [0.9, 0.1]])
# Object maps (frames=2, G=2, h=2, w=2); u = 0.3 with a value exactly on it.
OBJECTS = torch.tensor(
    [
        [[[0.3, 0.2], [0.0, 1.0]], [[0.29, 0.31], [0.3, 0.0]]],
        [[[0.1, 0.1], [0.1, 0.1]], [[0.9, 0.9], [0.0, 0.3]]],
    ]
)
TAGS = torch.tensor([[1.0, 0.0], [1.0, 0.0]])


def test_binarize_counts_the_boundary_as_positive():
    x = torch.tensor([0.29999, 0.3, 0.30001, 1.0, 0.0])
    assert binarize(x, 0.3).tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


def test_vt_is_the_video_tags():
    assert torch.equal(action_target(Target.VT, tags=TAGS), TAGS)


def test_st_binarizes_sound_with_v():
    expected = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    assert torch.equal(action_target(Target.ST, sound=SOUND, v=0.5), expected)
    # A lower threshold lets 0.49 and 0.1 through.
    expected_low = torch.tensor([[1.0, 1.0], [1.0, 1.0]])
    assert torch.equal(action_target(Target.ST, sound=SOUND, v=0.1), expected_low)


def test_ot_binarizes_objects_per_pixel_with_u():
    expected = torch.tensor(
        [
            [[[1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]],
            [[[0.0, 0.0], [0.0, 0.0]], [[1.0, 1.0], [0.0, 1.0]]],
        ]
    )
    assert torch.equal(action_target(Target.OT, objects=OBJECTS, u=0.3), expected)


def test_sot_is_sound_times_object():
    # S^v = [[1, 0], [1, 0]]: class 1 is silent in both frames, so its object pixels vanish.
    expected = torch.tensor(
        [
            [[[1.0, 0.0], [0.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]],
            [[[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]],
        ]
    )
    got = action_target(Target.SOT, sound=SOUND, objects=OBJECTS, v=0.5, u=0.3)
    assert torch.equal(got, expected)


def test_pooling_and_teacher_needs():
    assert [t.pooled for t in Target] == [True, True, False, False]
    assert [t.needs_sound for t in Target] == [False, True, False, True]
    assert [t.needs_object for t in Target] == [False, False, True, True]


def test_missing_teacher_is_a_clear_error():
    with pytest.raises(ValueError, match="SOT needs the objects teacher"):
        action_target(Target.SOT, sound=SOUND)
