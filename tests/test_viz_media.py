"""MP4/WebM/GIF writers: re-decoded frame counts, sizes, rates and colours; atomic, bad input."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from ipd.errors import InputError
from ipd.timebase import ANALYSIS_FPS
from ipd.viz.media import write_gif, write_mp4, write_webm


def _frames(n: int, height: int, width: int) -> list[np.ndarray]:
    """Uniform frames of increasing grey level 20, 50, 80, ... (order is visible after decoding)."""
    return [np.full((height, width, 3), 20 + 30 * i, np.uint8) for i in range(n)]


def _decode(path) -> tuple[list[np.ndarray], Fraction]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    return frames, rate


def test_mp4_decodes_to_the_frames_written(tmp_path):
    path = write_mp4(tmp_path / "a.mp4", iter(_frames(7, 33, 50)), ANALYSIS_FPS)  # a generator
    decoded, rate = _decode(path)
    assert len(decoded) == 7
    assert decoded[0].shape == (34, 50, 3)  # odd height padded to even for yuv420p
    assert rate == Fraction(125, 64)  # 1.953125 fps stored exactly
    grey = [float(f[:33].mean()) for f in decoded]
    assert np.allclose(grey, [20 + 30 * i for i in range(7)], atol=4)
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        assert container.streams.video[0].format.name == "yuv420p"
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp4"]  # no temporary file left


def test_webm_decodes(tmp_path):
    decoded, _ = _decode(write_webm(tmp_path / "a.webm", _frames(5, 32, 48), 2.0))
    assert len(decoded) == 5 and decoded[0].shape == (32, 48, 3)


def test_gif_has_every_frame_and_the_delay(tmp_path):
    path = write_gif(tmp_path / "a.gif", _frames(5, 20, 30), ANALYSIS_FPS)
    with Image.open(path) as image:
        assert image.n_frames == 5
        assert image.size == (30, 20)
        assert image.info["duration"] == 510  # 512 ms in GIF's 10-ms steps
        image.seek(3)
        assert np.asarray(image.convert("RGB"))[5, 5].tolist() == [110, 110, 110]


def test_bad_frames_leave_no_file(tmp_path):
    mixed = _frames(2, 20, 30) + _frames(1, 22, 30)
    with pytest.raises(InputError, match="b.mp4"):
        write_mp4(tmp_path / "b.mp4", mixed, 2.0)
    with pytest.raises(InputError, match="no frames"):
        write_mp4(tmp_path / "c.mp4", [], 2.0)
    with pytest.raises(InputError, match="no frames"):
        write_gif(tmp_path / "c.gif", [], 2.0)
    with pytest.raises(InputError, match="uint8"):
        write_gif(tmp_path / "d.gif", [np.zeros((4, 4, 3), np.float32)], 2.0)
    with pytest.raises(InputError, match="sizes"):
        write_gif(tmp_path / "e.gif", mixed, 2.0)
    assert list(tmp_path.iterdir()) == []


def test_gif_keeps_reserved_colours_exact(tmp_path):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (4, 40, 60, 3), dtype=np.uint8)  # 2400 noisy colours a frame
    ramp = np.stack([np.arange(0, 256, 8), 255 - np.arange(0, 256, 8), np.full(32, 77)], axis=1)
    frames[:, :32, 0] = ramp.astype(np.uint8)  # a 32-colour bar in one column
    path = write_gif(tmp_path / "r.gif", frames, 2.0, colours=ramp)
    with Image.open(path) as image:
        image.seek(2)
        assert np.array_equal(np.asarray(image.convert("RGB"))[:32, 0], ramp)
