"""Frame sampling on the shared timebase: timestamps, counts, sizes (tiny videos made here)."""

from __future__ import annotations

import math

import librosa
import numpy as np
import pytest
from test_features_media import decode_index, index_frames, tone, write_video

from ipd.features.audio import load_audio
from ipd.features.extract import extract_video
from ipd.features.params import ExtractParams
from ipd.features.reader import open_features
from ipd.features.video import open_video, resized_shape, sample_indices


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ((360, 640), (144, 256)),
        ((1080, 1920), (144, 256)),
        ((480, 854), (144, 256)),  # 480 * 256 / 854 = 143.9
        ((30, 100), (77, 256)),  # 76.8 rounds up
        ((64, 48), (256, 192)),  # portrait
    ],
)
def test_resized_shape_keeps_aspect_with_longer_side_256(source, expected):
    assert resized_shape(*source) == expected


def test_sample_indices_take_the_last_frame_not_after_t():
    starts = np.array([0.0, 0.04, 0.08, 0.12], dtype=np.float32).astype(np.float64)  # as decord
    times = np.array([0.0, 0.038, 0.04, 0.0785, 0.5, -1.0])
    assert sample_indices(starts, times).tolist() == [0, 0, 1, 1, 3, 0]


@pytest.mark.parametrize("fps", [25, 15])
def test_frames_come_from_the_right_times(tmp_path, fps):
    n = 3 * fps  # 3 s -> T = ceil(3 / 0.512) = 6
    path = write_video(tmp_path / f"v{fps}.mp4", index_frames(n), fps)
    extract_video(path, "v", tmp_path / "cache", streams=("rgb", "flow"))
    with open_features(tmp_path / "cache", "v", streams=("rgb", "flow")) as feats:
        assert feats.num_frames == 6
        shown = [decode_index(frame) for frame in feats.rgb()]
        gray_index = feats.meta["flow"]["gray_source_index"]
    # frame shown at t = k * 0.512 is floor(t * fps): 25 fps -> 12.8 k (k = 5 hits frame 64 exactly)
    expected = {25: [0, 12, 25, 38, 51, 64], 15: [0, 7, 15, 23, 30, 38]}[fps]
    assert shown == expected
    # gray frames for flow every 0.128 s: j = 0 .. 4T-1 = 23 (all before the end at 3 s)
    assert gray_index == [math.floor(j * 0.128 * fps + 1e-9) for j in range(24)]


def test_variable_frame_rate_uses_frame_timestamps(tmp_path):
    pts_ms = [0, 100, 500, 530, 1100, 1200, 1300, 1400, 1500, 1600]
    path = write_video(tmp_path / "vfr.mp4", index_frames(10), 25, pts_ms=pts_ms)
    extract_video(path, "vfr", tmp_path / "cache", streams=("rgb",))
    with open_features(tmp_path / "cache", "vfr", streams=("rgb",)) as feats:
        # ends at 1.64 s -> T = 4 at t = 0, 0.512, 1.024, 1.536 -> frames at 0, 500, 530, 1500 ms
        assert feats.num_frames == 4
        assert [decode_index(f) for f in feats.rgb()] == [0, 2, 3, 8]
        assert feats.meta["rgb"]["source_time"] == pytest.approx([0.0, 0.5, 0.53, 1.5], abs=1e-4)
    # decord's frame index (the probe) agrees with the frames PyAV decoded
    starts = open_video(path)[1].starts
    assert sample_indices(starts, feats.times).tolist() == feats.meta["rgb"]["source_index"]


def test_ten_second_video_shapes_on_the_timebase(tmp_path):
    audio = tone(10.0)
    path = write_video(tmp_path / "ten.mkv", index_frames(250), 25, audio=audio)
    result = extract_video(path, "ten", tmp_path / "cache")
    assert sorted(result["written"]) == ["audio", "flow", "rgb"]
    with open_features(tmp_path / "cache", "ten") as feats:
        assert feats.num_frames == 20
        assert feats.times[[0, 1, 19]].tolist() == [0.0, 0.512, 19 * 0.512]
        assert feats.frame_size == (192, 256)
        for win in (512, 2048, 8192):
            assert feats.logmel_all(win).shape == (313, 128)
        assert feats.logmel(512, 19, 20).shape == (313 - 16 * 19, 128)  # 9 frames at the end
        rgb, flow = feats.rgb(), feats.flow()
    assert rgb.shape == (20, 192, 256, 3) and rgb.dtype == np.uint8
    assert flow.shape == (20, 10, 192, 256) and flow.dtype == np.float32


def test_portrait_video_keeps_its_aspect(tmp_path):
    # 48 x 64: a size decord 0.6 decodes wrongly (4 channels); frames are decoded with PyAV
    frames = index_frames(10, height=64, width=48)
    path = write_video(tmp_path / "portrait.mp4", frames, 10)
    extract_video(path, "p", tmp_path / "cache", ExtractParams(size=128), streams=("rgb", "flow"))
    with open_features(tmp_path / "cache", "p", ("rgb", "flow"), ExtractParams(size=128)) as feats:
        assert feats.frame_size == (128, 96)
        assert [decode_index(f) for f in feats.rgb()] == [0, 5]  # t = 0.512 s at 10 fps
        assert feats.flow().shape == (2, 10, 128, 96)


def test_logmel_equals_librosa_on_the_same_audio(tmp_path):
    path = write_video(tmp_path / "a.mkv", index_frames(40), 10, audio=tone(4.0, seed=3))
    extract_video(path, "a", tmp_path / "cache", streams=("audio",))
    y = load_audio(path)
    assert len(y) == 64_000  # 4 s of PCM at 44.1 kHz -> 16 kHz exactly
    with open_features(tmp_path / "cache", "a", streams=("audio",)) as feats:
        for win in (512, 2048, 8192):
            mel = librosa.feature.melspectrogram(
                y=y, sr=16_000, n_fft=win, hop_length=512, n_mels=128
            )
            expected = np.log1p(10_000 * mel).T
            got = feats.logmel_all(win)
            assert got.shape == expected.shape == (126, 128)
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-4)
