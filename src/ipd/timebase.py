"""The one timebase shared by the sound, object and action models (SPEC section 2).

Audio at 16 kHz with hop 512 gives 31.25 mel frames/s; the sound model's total stride of 16 turns
that into 1.953125 analysis frames/s, one every 0.512 s. Analysis frame ``k`` of a video (or of a
fragment starting at ``start``) is at ``t = start + k * 0.512`` seconds. Optical flow is computed on
frames taken 4x as often (7.8125 fps, one every 0.128 s), so flow index ``4 * k`` sits at analysis
frame ``k``.
"""

from __future__ import annotations

import math

import numpy as np

SAMPLE_RATE = 16_000  # Hz, mono audio for every sound model
HOP = 512  # samples between mel frames
SOUND_STRIDE = 16  # mel frames per analysis frame (two max-pools of 4)
MEL_FPS = SAMPLE_RATE / HOP  # 31.25 mel frames/s
ANALYSIS_FPS = MEL_FPS / SOUND_STRIDE  # 1.953125 analysis frames/s
ANALYSIS_PERIOD = 1.0 / ANALYSIS_FPS  # 0.512 s
FLOW_FACTOR = 4  # flow frames per analysis frame
FLOW_FPS = ANALYSIS_FPS * FLOW_FACTOR  # 7.8125 fps
FLOW_PERIOD = 1.0 / FLOW_FPS  # 0.128 s
FLOWS_PER_STACK = 5  # flows per analysis frame: two before, itself, two after -> 10 channels


def num_analysis_frames(duration_s: float) -> int:
    """Number of analysis frames ``k`` with ``k * 0.512 < duration_s`` (10 s -> 20)."""
    if duration_s <= 0:
        return 0
    return math.ceil(round(duration_s / ANALYSIS_PERIOD, 9))


def analysis_times(n: int, start_s: float = 0.0) -> np.ndarray:
    """Timestamps (s) of analysis frames ``0..n-1``: ``start + k * 0.512``. Shape ``(n,)``."""
    return start_s + np.arange(n, dtype=np.float64) * ANALYSIS_PERIOD


def num_mel_frames(num_samples: int, hop: int = HOP) -> int:
    """Frames of a centred STFT (librosa's default): ``1 + num_samples // hop`` (10 s -> 313)."""
    return 1 + num_samples // hop


def mel_times(n: int) -> np.ndarray:
    """Timestamps (s) of mel frames ``0..n-1`` (centred frames: frame ``i`` at ``i * hop / sr``)."""
    return np.arange(n, dtype=np.float64) / MEL_FPS


def flow_times(n: int, start_s: float = 0.0) -> np.ndarray:
    """Timestamps (s) of the gray frames flow is computed on: ``start + j * 0.128``."""
    return start_s + np.arange(n, dtype=np.float64) * FLOW_PERIOD
