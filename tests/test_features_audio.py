"""Streaming audio decoding and log-mel equal the one-shot functions of ipd.features.audio."""

from __future__ import annotations

import numpy as np
import pytest
from test_features_media import index_frames, tone, write_video

from ipd.features.audio import (
    LogmelStream,
    NoAudioTrack,
    iter_audio,
    load_audio,
    logmel,
    multiscale_logmel,
)


def test_iter_audio_gives_exactly_the_samples_of_load_audio(tmp_path):
    path = write_video(
        tmp_path / "a.mkv", index_frames(20), 10, audio=tone(2.0, sr=48_000), sr=48_000
    )
    streamed = np.concatenate(list(iter_audio(path)))
    assert streamed.dtype == np.float32
    np.testing.assert_array_equal(streamed, load_audio(path))
    assert len(streamed) == 32_000


def test_logmel_stream_equals_one_shot_logmel_for_any_chunking():
    rng = np.random.default_rng(0)
    y = (0.1 * rng.standard_normal(16_000 * 19 + 77)).astype(np.float32)
    stream, blocks, pos = LogmelStream((512, 2048, 8192)), [], 0
    while pos < len(y):
        size = int(rng.integers(1, 30_000))
        blocks.append(stream.push(y[pos : pos + size]))
        pos += size
    blocks.append(stream.finish())
    blocks = [b for b in blocks if b is not None]
    # blocks are whole analysis frames (16 mel frames) except the last
    assert all(len(b[512]) % 16 == 0 for b in blocks[:-1])
    expected = multiscale_logmel(y)
    for win in (512, 2048, 8192):
        got = np.concatenate([b[win] for b in blocks])
        assert got.shape == (1 + len(y) // 512, 128) == expected[win].shape
        np.testing.assert_allclose(got, expected[win], rtol=1e-5, atol=1e-5)


def test_logmel_stream_of_a_short_signal():
    y = np.ones(1000, dtype=np.float32)
    stream = LogmelStream((512, 8192))
    assert stream.push(y) is None
    out = stream.finish()
    assert out[8192].shape == (2, 128)  # 1 + 1000 // 512
    np.testing.assert_allclose(out[512], logmel(y, 512), rtol=1e-5, atol=1e-5)


def test_video_without_audio_raises_no_audio_track(tmp_path):
    path = write_video(tmp_path / "silent.mp4", index_frames(5), 10)
    with pytest.raises(NoAudioTrack, match="silent.mp4: no audio track"):
        next(iter_audio(path))


def test_logmel_bytes_do_not_depend_on_the_blas_threads():
    """Two BLAS threads split librosa's mel projection differently from one and change the last
    bits (they do for this signal); the features are computed on one thread either way."""
    from threadpoolctl import threadpool_limits

    y = np.random.default_rng(0).standard_normal(16000 * 10).astype(np.float32) * 0.1
    with threadpool_limits(limits=1, user_api="blas"):
        one = multiscale_logmel(y)
    with threadpool_limits(limits=2, user_api="blas"):
        two = multiscale_logmel(y)
    for win in one:
        assert one[win].tobytes() == two[win].tobytes(), win
