"""Tiny test videos written with PyAV (shared by the feature, cache and extract tests).

Video is lossless (x264 at qp 0 in 4:4:4) so pixel content survives to within +-2 levels; ``.mkv``
files carry PCM audio so the decoded sample count is exact (AAC in ``.mp4`` adds priming samples).
"""

from __future__ import annotations

import fractions
from pathlib import Path

import av
import cv2
import numpy as np


def write_video(
    path: Path,
    frames: list[np.ndarray] | np.ndarray,
    fps: float | fractions.Fraction,
    audio: np.ndarray | None = None,
    sr: int = 44_100,
    pts_ms: list[int] | None = None,
) -> Path:
    """Write RGB ``frames`` ``(n, h, w, 3)`` uint8 at ``fps`` (or at ``pts_ms`` for VFR)."""
    rate = fractions.Fraction(fps).limit_denominator(1000)
    time_base = fractions.Fraction(1, 1000) if pts_ms is not None else 1 / rate
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv444p"
        stream.options = {"qp": "0", "preset": "ultrafast"}
        stream.codec_context.time_base = time_base
        if audio is not None:
            pcm = str(path).endswith(".mkv")
            astream = container.add_stream("pcm_s16le" if pcm else "aac", rate=sr, layout="mono")
        for i, img in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            frame.pts, frame.time_base = (pts_ms[i] if pts_ms is not None else i), time_base
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
        if audio is not None:
            fmt = "s16" if pcm else "fltp"
            y = (
                (np.clip(audio, -1, 1) * 32767).astype(np.int16)
                if pcm
                else audio.astype(np.float32)
            )
            for k in range(0, len(y), 1024):
                aframe = av.AudioFrame.from_ndarray(
                    y[None, k : k + 1024], format=fmt, layout="mono"
                )
                aframe.sample_rate, aframe.pts = sr, k
                for packet in astream.encode(aframe):
                    container.mux(packet)
            for packet in astream.encode():
                container.mux(packet)
    return Path(path)


def index_frames(n: int, height: int = 48, width: int = 64) -> np.ndarray:
    """Frames encoding their index mod 256: left half ``16 (i % 16)``, right ``16 (i // 16 % 16)``.

    Steps of 16 gray levels survive any codec rounding; :func:`decode_index` reads them back.
    """
    frames = np.zeros((n, height, width, 3), dtype=np.uint8)
    for i in range(n):
        frames[i, :, : width // 2] = 16 * (i % 16) + 8
        frames[i, :, width // 2 :] = 16 * (i // 16 % 16) + 8
    return frames


def decode_index(frame: np.ndarray) -> int:
    """Inverse of :func:`index_frames` for a (possibly resized) frame."""
    h, w = frame.shape[:2]
    low = int(frame[h // 2, w // 4].mean()) // 16
    high = int(frame[h // 2, 3 * w // 4].mean()) // 16
    return 16 * high + low


def texture(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Smooth random gray texture ``(height, width)`` uint8 (blurred noise: trackable by flow)."""
    noise = np.random.default_rng(seed).uniform(0, 255, (height, width)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 2.0)
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min()) * 255
    return smooth.astype(np.uint8)


def shifted(image: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """``image`` translated by ``(dx, dy)`` pixels (positive: content moves right/down)."""
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    h, w = image.shape[:2]
    return cv2.warpAffine(
        image, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
    )


def tone(seconds: float, sr: int = 44_100, seed: int = 0) -> np.ndarray:
    """A 440-Hz tone plus a little noise, mono float32."""
    t = np.arange(round(seconds * sr)) / sr
    noise = np.random.default_rng(seed).normal(0, 0.02, t.shape)
    return (0.3 * np.sin(2 * np.pi * 440 * t) + noise).astype(np.float32)


def test_index_frames_survive_encoding(tmp_path):
    import decord

    path = write_video(tmp_path / "idx.mp4", index_frames(40), 25)
    decoded = decord.VideoReader(str(path)).get_batch(list(range(40))).asnumpy()
    assert [decode_index(f) for f in decoded] == list(range(40))


def test_shifted_moves_content_right_and_down():
    img = np.zeros((20, 20), dtype=np.uint8)
    img[5, 5] = 255
    out = shifted(img, 3, 2)
    assert np.unravel_index(np.argmax(out), out.shape) == (7, 8)
