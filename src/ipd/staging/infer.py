"""Running trained systems over cached features: S (sound) and O / A (maps) per video."""

from __future__ import annotations

import numpy as np
import torch

from ipd.features.reader import Features
from ipd.systems.sound import SoundTagger
from ipd.systems.video import FrameSystem
from ipd.timebase import analysis_times


@torch.no_grad()
def sound_scores(
    system: SoundTagger, feats: Features, windows: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Frame-level sound probabilities over a whole video.

    Returns:
        ``times (T',)`` seconds and ``scores (T', G)``: output ``k`` of the sound FCN is analysis
        frame ``k`` (t = k * 0.512 s).
    """
    mels = [torch.from_numpy(feats.logmel_all(w).T.copy())[None] for w in windows]
    length = min(m.shape[-1] for m in mels)
    frames, _ = system([m[..., :length] for m in mels])  # (1, G, T')
    scores = frames[0].T.contiguous().numpy()
    return analysis_times(len(scores)), scores


@torch.no_grad()
def frame_maps(
    system: FrameSystem, feats: Features, stream: str, batch_frames: int = 16
) -> tuple[np.ndarray, np.ndarray]:
    """Probability maps for every analysis frame of a video, in batches of ``batch_frames``.

    Returns:
        ``times (T,)`` seconds and ``maps (T, G, h, w)`` float32.
    """
    chunks = []
    for start in range(0, feats.num_frames, batch_frames):
        stop = min(start + batch_frames, feats.num_frames)
        if stream == "rgb":
            x = feats.rgb(start, stop).transpose(0, 3, 1, 2).astype(np.float32)
        else:
            x = feats.flow(start, stop)
        chunks.append(system.maps(torch.from_numpy(np.ascontiguousarray(x))).numpy())
    return feats.times.copy(), np.concatenate(chunks).astype(np.float32)
