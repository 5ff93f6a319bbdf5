"""Video probing, timestamp-based frame sampling and resizing (SPEC section 3).

The authors sampled frames with moviepy's ``iter_frames(fps)``: the frame shown at time ``t`` is the
last decoded frame whose timestamp is ``<= t``. We use each frame's own timestamp, so
variable-frame-rate videos sample correctly; a time before the first frame gets the first frame.
Times are on the container's timeline (the same one the audio uses).

decord probes a video (:func:`open_video`: its frame index gives every frame's timestamp, hence the
duration and the number of analysis frames). The extraction pass decodes with PyAV instead
(:func:`iter_frames_at`): one sequential pass, exact timestamps, memory bounded by one frame.
decord's background decoder keeps decoding ahead of a slow consumer such as optical flow and
buffers frames without bound (dmlc/decord#208: 1 GB for one minute at 360p), and parking it with
``seek`` either returns wrong frames (seek to the next frame) or triples decoding time (seek 0).

Frames are analysed upright: a phone video stores its frames sideways with a display rotation (the
display matrix, or the old ``rotate`` tag); the frame size (:func:`open_video`) and every decoded
frame (:func:`iter_frames_at`) have that rotation applied, as a player shows them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ipd.errors import InputError
from ipd.files import check_input_file

# Frame timestamps come back as float32 seconds (about 0.25 ms resolution at 1 h); a frame exactly
# at t must count as "<= t", and a 10.000000x-s video must count as 10 s.
TIME_TOLERANCE = 1e-3  # s, below any frame interval (4 ms at 240 fps)


@dataclass(frozen=True)
class VideoInfo:
    """What the decoder says about a video.

    Attributes:
        path: the file.
        starts: ``(frames,)`` float64 presentation time of each decoded frame, seconds.
        duration: end of the last frame, seconds, rounded to 1 ms (the decoder is the
            authority, not index.csv).
        height: displayed frame height, pixels (the display rotation applied).
        width: displayed frame width, pixels.
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
    """Open ``path`` with decord and check it is a usable video (nothing is decoded).

    PyAV reads the header first, so a file that is not a video gets one clear line (decord would
    print its own C++ error first). The frame size comes from that header too: decord 0.6
    mis-decodes some small sizes (48 x 64 gives 4 channels).

    Returns:
        ``(reader, info)``: a ``decord.VideoReader`` and its :class:`VideoInfo`.

    Raises:
        InputError: missing file, not a video, no frames, a single frame (no motion to measure).
    """
    import decord

    path = check_input_file(path, "video file")
    height, width = _frame_size(path)
    decord.logging.set_level(decord.logging.QUIET)  # its FFmpeg would print "partial file"
    try:
        reader = decord.VideoReader(str(path), num_threads=num_threads)
        n = len(reader)
        stamps = reader.get_frame_timestamp(range(n)) if n else np.zeros((0, 2))
    except Exception as err:  # decord raises RuntimeError or DECORDError with a C++ trace
        raise InputError(
            f"{path}: truncated or damaged video (its frames cannot be indexed)"
        ) from err
    if n == 0:
        raise InputError(f"{path}: video has no frames")
    if n == 1:
        raise InputError(f"{path}: video has a single frame (need at least 2 for motion)")
    stamps = np.asarray(stamps, dtype=np.float64)
    duration = round(float(max(stamps[-1, 1], stamps[-1, 0])), 3)  # ms: undo float32 noise
    if duration <= 0:
        raise InputError(f"{path}: video has zero duration")
    info = VideoInfo(path, stamps[:, 0], duration, height, width)
    return reader, info


def _frame_size(path: Path) -> tuple[int, int]:
    """``(height, width)`` of the first video stream as displayed (rotation applied)."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(f"{path}: no video track (not a video file)")
            stream = container.streams.video[0]
            height, width = int(stream.codec_context.height), int(stream.codec_context.width)
            turns = quarter_turns(_first_frame_rotation(container, stream))
    except av.error.FFmpegError as err:
        reason = getattr(err, "strerror", None) or type(err).__name__
        raise InputError(f"{path}: not a readable video ({reason.lower()})") from err
    if height <= 0 or width <= 0:
        raise InputError(f"{path}: video stream has no frame size")
    return (width, height) if turns % 2 else (height, width)


def _first_frame_rotation(container, stream) -> float:
    """The display rotation of the first decodable frame, degrees (0 when there is none)."""
    try:
        frame = next(container.decode(stream), None)
    except av_errors():
        return 0.0  # a stream that does not decode is reported later, by the decoder
    return float(frame.rotation) if frame is not None else 0.0


def av_errors() -> tuple[type[BaseException], ...]:
    """The exceptions a broken stream makes PyAV raise while decoding."""
    import av

    return (av.error.FFmpegError, IndexError, OSError)


def quarter_turns(rotation: float) -> int:
    """Counter-clockwise quarter turns (0-3) that show a frame of display ``rotation`` upright.

    FFmpeg's display-matrix angle is counter-clockwise (a phone held upright records
    ``rotation = 90`` or ``-90``): ``np.rot90(frame, quarter_turns(rotation))`` is what a player
    shows, the same as ``ffmpeg``'s autorotation.
    """
    return round(rotation / 90) % 4


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


def iter_frames_at(
    path: str | Path, times: np.ndarray, shape: tuple[int, int], threads: int = 0
) -> Iterator[tuple[np.ndarray, int, float]]:
    """Decode ``path`` once and yield the frame shown at each of ``times``, resized to ``shape``.

    Args:
        path: the video.
        times: ``(n,)`` ascending sampling times, seconds.
        shape: ``(H, W)`` output size (see :func:`resized_shape`).
        threads: decoder threads (0: FFmpeg's choice; 1 inside worker processes).

    Yields:
        ``(frame, index, time)``: ``(H, W, 3)`` uint8 RGB, upright (display rotation applied),
        the decoded frame's ordinal and its timestamp (s). Times after the last frame get the
        last frame.

    Raises:
        InputError: the file cannot be decoded, or decoding fails part-way.
    """
    import av

    times = np.asarray(times, dtype=np.float64)
    errors = av_errors()  # looked up now: a generator closed at exit must not import
    j, shown, ordinal = 0, None, -1  # shown: last frame with time <= times[j] (+ tolerance)
    last = None  # (ordinal, converted frame): a frame sampled twice is converted once

    def emit():
        nonlocal last
        if last is None or last[0] != shown[1]:
            rgb = shown[0].to_ndarray(format="rgb24")
            turns = quarter_turns(shown[0].rotation)
            rgb = resize(np.rot90(rgb, turns) if turns else rgb, shape)
            last = (shown[1], rgb)
        return last[1], shown[1], shown[2]

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            stream.thread_count = threads
            step = 1.0 / float(stream.average_rate or 25)
            for frame in container.decode(stream):
                ordinal += 1
                ftime = frame.time if frame.time is not None else (ordinal * step)
                while j < len(times) and ftime > times[j] + TIME_TOLERANCE:
                    if shown is None:  # t before the first frame: the first frame
                        shown = (frame, ordinal, ftime)
                    yield emit()
                    j += 1
                if j >= len(times):
                    return
                shown = (frame, ordinal, ftime)
    except errors as err:
        raise InputError(f"{path}: decoding failed after frame {ordinal} ({err})") from err
    if shown is None:
        raise InputError(f"{path}: video has no frames")
    while j < len(times):
        yield emit()
        j += 1
