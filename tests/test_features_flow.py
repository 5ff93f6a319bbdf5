"""Optical flow: known motion, stack ordering and centring, edges, storage precision."""

from __future__ import annotations

import fractions

import numpy as np
import pytest
from test_features_media import shifted, texture, write_video

from ipd.features.extract import extract_video
from ipd.features.flow import flow_function, iter_members, member_range, stacks, to_member
from ipd.features.params import ExtractParams
from ipd.features.reader import open_features


@pytest.mark.parametrize("algorithm", ["farneback", "dis", "tvl1"])
def test_translation_gives_its_displacement(algorithm):
    image = texture(96, 128, seed=1)
    flow = flow_function(algorithm)(image, shifted(image, 1.5, -0.75))
    assert flow.shape == (96, 128, 2) and flow.dtype == np.float32
    mean = flow[16:-16, 16:-16].reshape(-1, 2).mean(axis=0)  # interior: no border effects
    np.testing.assert_allclose(mean, [1.5, -0.75], atol=0.2)


def _fake_flow(gray0: np.ndarray, gray1: np.ndarray) -> np.ndarray:
    """x = id of the first frame, y = 100 + id of the second (ids are the gray values)."""
    out = np.empty((*gray0.shape, 2), dtype=np.float32)
    out[..., 0], out[..., 1] = gray0[0, 0], 100 + gray1[0, 0]
    return out


def test_members_are_flows_minus_two_to_4t_minus_two_with_zero_edges():
    grays = [np.full((2, 3), j, dtype=np.uint8) for j in range(10)]  # gray frames j = 0..9
    members = np.stack(list(iter_members(grays, num_frames=3, flow_fn=_fake_flow)))
    assert members.shape == (13, 2, 2, 3)  # 4T + 1 flows: j = -2 .. 10
    xs, ys = members[:, 0, 0, 0].tolist(), members[:, 1, 0, 0].tolist()
    # member i = flow j = i - 2 from frame j to j + 1; before frame 0 and after frame 9: zeros
    assert xs == [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0]
    assert ys == [0, 0, 101, 102, 103, 104, 105, 106, 107, 108, 109, 0, 0]


def test_members_stop_after_gray_frame_4t_minus_1():
    grays = [np.full((2, 2), j, dtype=np.uint8) for j in range(40)]  # more than needed
    members = list(iter_members(grays, num_frames=2, flow_fn=_fake_flow))
    assert len(members) == 9
    assert [m[0, 0, 0] for m in members] == [0, 0, 0, 1, 2, 3, 4, 5, 6]  # flow 6 = frame 6 -> 7


def test_stacks_interleave_x_and_y_centred_on_the_frame():
    members = np.zeros((13, 2, 1, 1), dtype=np.float16)
    members[:, 0, 0, 0] = np.arange(13)  # x = member index
    members[:, 1, 0, 0] = -np.arange(13)  # y = minus member index
    out = stacks(members)
    assert out.shape == (3, 10, 1, 1) and out.dtype == np.float32
    # stack k = members 4k .. 4k+4 = flows 4k-2 .. 4k+2
    assert out[1, :, 0, 0].tolist() == [4, -4, 5, -5, 6, -6, 7, -7, 8, -8]
    assert list(member_range(1, 3)) == list(range(4, 13))


def test_stacks_convert_float16_exactly_as_numpy():
    members = np.random.default_rng(0).normal(0, 40, (9, 2, 6, 7)).astype(np.float16)
    members[0, 0, 0, :3] = [np.float16(65504), np.float16(6e-8), np.float16(-0.0)]  # max, subnormal
    expected = np.stack([members[4 * k : 4 * k + 5].reshape(10, 6, 7) for k in range(2)])
    np.testing.assert_array_equal(stacks(members), expected.astype(np.float32))


def test_stored_flow_is_clipped_and_rounded_to_1_64_px():
    flow = np.array([[[200.0, -300.0], [0.3, 40.01]]], dtype=np.float32)  # (1, 2, 2)
    member = to_member(flow)
    assert member.dtype == np.float16 and member.shape == (2, 1, 2)
    assert member[0].ravel().tolist() == [127.0, 0.296875]  # 19 / 64
    assert member[1].ravel().tolist() == [-128.0, 40.0]  # 40.015625 -> float16 step 1/32 above 32


def test_motion_between_two_frames_shows_in_exactly_the_expected_channels(tmp_path):
    # 7.8125 fps: video frame i is gray frame j = i. The texture moves 4 px right between
    # frames 6 and 7 only, so only flow j = 6 (member 8) is non-zero: stack 1 holds it in its
    # last flow (channels 8, 9), stack 2 in its first (channels 0, 1).
    base = texture(96, 128, seed=2)
    frames = [base] * 7 + [shifted(base, 4, 0)] * 5
    rgb = np.stack([np.repeat(f[..., None], 3, axis=2) for f in frames])
    path = write_video(tmp_path / "jump.mp4", rgb, fractions.Fraction(125, 16))
    params = ExtractParams(size=64)  # 128 px -> 64 px: the 4-px motion becomes 2 px
    extract_video(path, "jump", tmp_path / "cache", params, streams=("flow",))
    with open_features(tmp_path / "cache", "jump", ("flow",), params) as feats:
        assert feats.num_frames == 3  # 12 frames = 1.536 s
        stacks_ = feats.flow()
    interior = stacks_[:, :, 8:-8, 8:-8].mean(axis=(2, 3))  # (3, 10) mean per channel
    expected = np.zeros((3, 10))
    expected[1, 8] = expected[2, 0] = 2.0
    np.testing.assert_allclose(interior, expected, atol=0.2)
