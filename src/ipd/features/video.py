"""Video decoding with decord: probe, timestamp-based frame sampling, resizing (SPEC section 3).

The authors sampled frames with moviepy's ``iter_frames(fps)``: the frame shown at time ``t`` is the
last decoded frame whose timestamp is ``<= t``. We use each frame's own timestamp (decord reads it
from the container), so variable-frame-rate videos sample correctly; a time before the first frame
gets the first frame. Times are on the container's timeline (the same one the audio uses).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ipd.errors import InputError

# Frame timestamps come back as float32 seconds (about 0.25 ms resolution at 1 h); a frame exactly
# at t must count as "<= t", and a 10.000000x-s video must count as 10 s.
TIME_TOLERANCE = 1e-3  # s, below any frame interval (4 ms at 240 fps)
DECODE_CHUNK = 16  # frames decoded per decord call: bounds memory at 16 full-size frames


@dataclass(frozen=True)
class VideoInfo:
    """What the decoder says about a video.

    Attributes:
        path: the file.
        starts: ``(frames,)`` float64 presentation time of each decoded frame, seconds.
        duration: end of the last frame, seconds, rounded to 1 ms (the decoder is the
            authority, not index.csv).
        height: decoded frame height, pixels.
        width: decoded frame width, pixels.
    """

    path: Path
    starts: np.ndarray
    duration: float
    height: int
    width: int

    @property
    def num_frames(self) -> int:
        return len(self.starts)


def open_video(path: str | Path, num_threads: int = 1):
    """Open ``path`` with decord and check it is a usable video.

    Returns:
        ``(reader, info)``: a ``decord.VideoReader`` and its :class:`VideoInfo`.

    Raises:
        InputError: missing file, not a video, no frames, a single frame (no motion to measure).
    """
    import decord

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: empty file (0 bytes)")
    try:
        reader = decord.VideoReader(str(path), num_threads=num_threads)
        n = len(reader)
        stamps = reader.get_frame_timestamp(range(n)) if n else np.zeros((0, 2))
    except Exception as err:  # decord raises RuntimeError or DECORDError with a C++ trace
        raise InputError(f"{path}: {_why_unreadable(path)}") from err
    if n == 0:
        raise InputError(f"{path}: video has no frames")
    if n == 1:
        raise InputError(f"{path}: video has a single frame (need at least 2 for motion)")
    stamps = np.asarray(stamps, dtype=np.float64)
    height, width = reader[0].shape[:2]
    reader.seek(0)
    duration = round(float(max(stamps[-1, 1], stamps[-1, 0])), 3)  # ms: undo float32 noise
    if duration <= 0:
        raise InputError(f"{path}: video has zero duration")
    info = VideoInfo(path, stamps[:, 0], duration, int(height), int(width))
    return reader, info


def _why_unreadable(path: Path) -> str:
    """A one-line reason decord could not open ``path``, from PyAV's view of the file."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return "no video track (not a video file)"
    except Exception as err:
        return f"not a readable video ({str(err).strip().splitlines()[0] or type(err).__name__})"
    return "video track cannot be decoded"


def sample_indices(starts: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Index of the frame shown at each time: the last frame with ``start <= t``.

    Args:
        starts: ``(frames,)`` frame timestamps, seconds, ascending.
        times: ``(n,)`` sampling times, seconds.

    Returns:
        ``(n,)`` int64 frame indices (0 for times before the first frame).
    """
    idx = np.searchsorted(starts, np.asarray(times) + TIME_TOLERANCE, side="right") - 1
    return np.clip(idx, 0, len(starts) - 1).astype(np.int64)


def resized_shape(height: int, width: int, size: int = 256) -> tuple[int, int]:
    """``(H, W)`` with the longer side ``size``, aspect kept: ``round(side * size / longer)``."""
    longer = max(height, width)
    return max(1, round(height * size / longer)), max(1, round(width * size / longer))


def resize(frame: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Resize an ``(h, w, 3)`` uint8 frame to ``shape`` = ``(H, W)``.

    Area interpolation when shrinking (no aliasing), bilinear when enlarging a small video.
    """
    if frame.shape[:2] == shape:
        return np.ascontiguousarray(frame)
    shrink = shape[0] <= frame.shape[0] and shape[1] <= frame.shape[1]
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return cv2.resize(frame, (shape[1], shape[0]), interpolation=interp)


def iter_frames(
    reader, indices: np.ndarray, shape: tuple[int, int], chunk: int = DECODE_CHUNK, path=None
) -> Iterator[np.ndarray]:
    """Yield the frames at ``indices`` (ascending, repeats allowed), resized to ``shape``.

    Each distinct frame is decoded once; at most ``chunk`` full-size frames are held at a time.

    Yields:
        ``(H, W, 3)`` uint8 RGB frames, one per entry of ``indices``.

    Raises:
        InputError: the decoder fails part-way (a corrupt or truncated file); names ``path``.
    """
    indices = np.asarray(indices, dtype=np.int64)
    unique, inverse = np.unique(indices, return_inverse=True)
    pos = 0  # next entry of ``indices`` to yield
    for lo in range(0, len(unique), chunk):
        wanted = unique[lo : lo + chunk].tolist()
        try:
            batch = reader.get_batch(wanted).asnumpy()
        except Exception as err:  # decord reports corrupt data as RuntimeError/DECORDError
            raise InputError(
                f"{path or 'video'}: decoding failed near frame {wanted[0]} ({_first_line(err)})"
            ) from err
        resized = [resize(frame, shape) for frame in batch]
        while pos < len(indices) and inverse[pos] < lo + len(batch):
            yield resized[inverse[pos] - lo]
            pos += 1


def _first_line(err: Exception) -> str:
    """The message of a decord error without its ``[time] file.cc:line:`` prefix and trace."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return re.sub(r"^\[[\d:]+\] \S+:\d+: ", "", text)
