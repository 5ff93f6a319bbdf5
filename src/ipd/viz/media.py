"""Write frame arrays as browser-playable video (MP4/H.264, WebM/VP9 with PyAV) and GIF (Pillow).

Every writer takes an iterable of ``(H, W, 3)`` uint8 RGB frames, so a long video can be streamed
frame by frame, and writes atomically: a temporary file in the target folder, renamed when
complete, so an interrupted run never leaves a truncated file under the final name.

H.264 in ``yuv420p`` needs even sizes: an odd last row or column is repeated (the picture is
padded, not cropped). The frame rate may be fractional; the analysis rate 1.953125 fps is stored
exactly as 125/64.
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from ipd.errors import InputError
from ipd.files import atomic_path

# Encoder settings: small files for a report, fast enough on a 2-core machine.
_CODECS = {
    ".mp4": ("mp4", "libx264", {"crf": "23", "preset": "veryfast"}),
    ".webm": (
        "webm",
        "libvpx-vp9",
        {"crf": "33", "b": "0", "deadline": "realtime", "cpu-used": "8"},
    ),
}


def write_mp4(path: str | Path, frames: Iterable[np.ndarray], fps: float | Fraction) -> Path:
    """Write H.264 (yuv420p, ``+faststart``) MP4; returns the path. See :func:`write_video`."""
    return write_video(path, frames, fps, container=".mp4")


def write_webm(path: str | Path, frames: Iterable[np.ndarray], fps: float | Fraction) -> Path:
    """Write VP9 WebM (a royalty-free fallback for browsers without H.264)."""
    return write_video(path, frames, fps, container=".webm")


def write_video(
    path: str | Path, frames: Iterable[np.ndarray], fps: float | Fraction, container: str = ".mp4"
) -> Path:
    """Encode ``frames`` to ``path`` atomically.

    Args:
        path: output file.
        frames: ``(H, W, 3)`` uint8 RGB frames, all of one size (streamed; not kept in memory).
        fps: frames per second (e.g. ``ANALYSIS_FPS`` = 1.953125).
        container: ``.mp4`` (H.264) or ``.webm`` (VP9).

    Returns:
        ``path``.

    Raises:
        InputError: no frames, frames of different sizes or not uint8 RGB.
    """
    path = Path(path)
    fmt, codec, options = _CODECS[container]
    rate = _rate(fps)
    with atomic_path(path) as tmp:
        count = 0
        extra = {"movflags": "+faststart"} if fmt == "mp4" else {}
        with av.open(str(tmp), "w", format=fmt, options=extra) as out:
            stream = None
            for frame in frames:
                frame = _even(_check(path, frame))
                if stream is None:
                    stream = out.add_stream(codec, rate=rate, options=options)
                    stream.height, stream.width = frame.shape[:2]
                    stream.pix_fmt = "yuv420p"
                elif frame.shape[:2] != (stream.height, stream.width):
                    raise InputError(
                        f"{path}: frame {count} is {frame.shape[1]}x{frame.shape[0]}, "
                        f"earlier frames {stream.width}x{stream.height}"
                    )
                out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
                count += 1
            if stream is None:
                raise InputError(f"{path}: no frames to write")
            out.mux(stream.encode(None))
    return path


def write_gif(
    path: str | Path,
    frames: Iterable[np.ndarray],
    fps: float | Fraction,
    loop: int = 0,
    colours: np.ndarray | None = None,
) -> Path:
    """Write an animated GIF atomically (Pillow), one 256-colour palette for all frames.

    The palette is fitted to a sample of the frames (fast octree) and the frames are mapped to
    it without dithering: no flicker between frames, and about a third of the dithered size.
    ``colours`` are kept exactly (e.g. a colour bar's ramp, which covers too few pixels to win
    palette entries on its own).

    Args:
        path: output file.
        frames: ``(H, W, 3)`` uint8 RGB frames of one size (held in memory while writing).
        fps: frames per second; GIF stores delays in 10-ms steps (1.953 fps -> 510 ms).
        loop: 0 = loop forever.
        colours: ``(n, 3)`` uint8 RGB colours to reserve, ``n <= 128``.
    """
    path = Path(path)
    rgb = [Image.fromarray(_check(path, frame)) for frame in frames]
    if not rgb:
        raise InputError(f"{path}: no frames to write")
    sizes = {image.size for image in rgb}
    if len(sizes) > 1:
        raise InputError(f"{path}: frames of different sizes {sorted(sizes)}")
    palette = _palette(rgb, colours)
    images = [image.quantize(palette=palette, dither=Image.Dither.NONE) for image in rgb]
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        images[0].save(
            handle,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=round(1000.0 / float(fps)),
            loop=loop,
        )
    return path


def _palette(images: list[Image.Image], colours: np.ndarray | None) -> Image.Image:
    """A ``P`` image whose palette is ``colours`` plus colours fitted to up to 8 frames."""
    reserved = np.zeros((0, 3), np.uint8) if colours is None else np.asarray(colours, np.uint8)
    reserved = np.unique(reserved.reshape(-1, 3), axis=0)
    if len(reserved) > 128:
        raise ValueError(f"at most 128 reserved GIF colours, got {len(reserved)}")
    sample = images[:: max(1, len(images) // 8)][:8]
    width, height = sample[0].size
    mosaic = Image.new("RGB", (width, height * len(sample)))
    for i, image in enumerate(sample):
        mosaic.paste(image, (0, i * height))
    fitted = mosaic.quantize(256 - len(reserved), method=Image.Quantize.FASTOCTREE)
    entries = np.asarray(fitted.getpalette()[: 3 * (256 - len(reserved))], np.uint8).reshape(-1, 3)
    table = np.concatenate([entries, reserved]).astype(np.uint8)
    table = np.concatenate([table, np.zeros((256 - len(table), 3), np.uint8)])
    palette = Image.new("P", (1, 1))
    palette.putpalette(table.reshape(-1).tolist())
    return palette


def _rate(fps: float | Fraction) -> Fraction:
    rate = Fraction(fps).limit_denominator(1001)
    if rate <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return rate


def _check(path: Path, frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise InputError(
            f"{path}: frames must be (H, W, 3) uint8 RGB, got {frame.shape} {frame.dtype}"
        )
    return frame


def _even(frame: np.ndarray) -> np.ndarray:
    """Repeat the last row/column when a side is odd (yuv420p subsamples chroma by 2)."""
    height, width = frame.shape[:2]
    if height % 2 == 0 and width % 2 == 0:
        return np.ascontiguousarray(frame)
    return np.pad(frame, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")
