"""Sub-clips: the training and validation samples of every stage (SPEC 5, §4.2.4).

A sub-clip is ``clip_frames`` consecutive analysis frames (10 frames = 5.12 s by default) taken
from the first ``max_seconds`` (60 s) of a video, at starts ``0, clip_frames, 2 clip_frames, ...``.
The authors cut each 60-s video into 12 fragments of 5 s and sampled 10 frames at
``start + k * 0.512`` inside each fragment, restarting the grid every 5 s; on our single uniform
grid (``t = k * 0.512``) the first 60 s hold 11 complete 10-frame sub-clips.
"""

from __future__ import annotations

from ipd.timebase import num_analysis_frames


def subclip_starts(
    num_frames: int, clip_frames: int = 10, max_seconds: float | None = 60.0
) -> list[int]:
    """First analysis frame of every complete sub-clip.

    Args:
        num_frames: analysis frames of the video.
        clip_frames: frames per sub-clip.
        max_seconds: only frames with ``t < max_seconds`` are used (None: the whole video).

    Returns:
        Starts ``[0, clip_frames, ...]``; a video shorter than one sub-clip gives ``[0]`` when it
        has at least one frame (its only, shorter, sub-clip), else ``[]``.
    """
    usable = num_frames
    if max_seconds is not None:
        usable = min(num_frames, num_analysis_frames(max_seconds))
    starts = list(range(0, usable - clip_frames + 1, clip_frames))
    if not starts and usable > 0:
        starts = [0]
    return starts
