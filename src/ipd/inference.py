"""One inference path for the three models, used by ``ipd teach``, ``ipd evaluate`` (predictions
and the object hit rate) and ``ipd detect``: one batching rule, memory bounded by the batch, not
by the video.

The sound FCN is run over windows of mel frames with enough context on both sides for its
receptive field (36 mel frames for the chapter-4 model), so every kept output sees exactly the
input it would see in one pass over the whole track; windows start on multiples of 16 mel frames
(one analysis frame) so the two pools of 4 keep their grid. A track of at most ``SOUND_CHUNK``
analysis frames (131 s) is one pass; a longer one equals the one-pass result up to float32
rounding of the convolution kernels (~1e-6 on probabilities; in float64 they agree to 1e-12). The
object and action models run on batches of ``FRAME_BATCH`` frames. Inputs come from a
:class:`ipd.features.reader.Features` reader (``ipd teach``, ``ipd evaluate``), the streaming pass
of :mod:`ipd.features.stream` (``ipd detect``: :func:`batch_maps` on each batch) or anything with
the same ``logmel`` / ``rgb`` / ``flow`` methods. ``precision`` is ``"32"`` or ``"bf16"``
(:mod:`ipd.precision`, checked by the caller); outputs are float32 either way.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch

from ipd import timebase
from ipd.features.reader import Features
from ipd.precision import autocast
from ipd.systems.sound import SoundTagger
from ipd.systems.video import FrameSystem

SOUND_CHUNK = 256  # analysis frames per sound window (~2 min of audio, ~50 MB of activations)
FRAME_BATCH = 8  # frames per object/action pass: +0.28 GB at paper widths (docs/detect.md)


def sound_context(net: torch.nn.Module) -> int | None:
    """Analysis frames of context a sound window needs on each side, or None (no geometry known).

    The chapter-4 ``SoundFCN`` exposes its geometry (stride 16, receptive field 36 mel frames):
    ``ceil(36 / 16) + 1 = 4`` analysis frames. Nets without it (the chapter-3 clip2frame teacher,
    whose Gaussian layer reaches 128 outputs each way) are run in one pass.
    """
    geometry = getattr(net, "geometry", None)
    if geometry is None or geometry.stride != timebase.SOUND_STRIDE:
        return None
    return math.ceil(geometry.receptive_field / geometry.stride) + 1


@torch.no_grad()
def sound_scores(
    system: SoundTagger,
    feats: Features,
    windows: tuple[int, ...],
    chunk: int = SOUND_CHUNK,
    precision: str = "32",
) -> tuple[np.ndarray, np.ndarray]:
    """Frame-level sound probabilities of a whole track, window by window.

    Args:
        system: the sound system (standardizes its raw log-mel input).
        feats: cached features with the ``audio`` stream.
        windows: the log-mel windows in the model's scale order.
        chunk: analysis frames computed per window (memory grows with it, not with the video).
        precision: ``32`` or ``bf16``.

    Returns:
        ``times (T',)`` seconds (``k * 0.512``) and ``scores (T', G)`` float32, as
        :func:`one_pass_sound_scores` gives them: output ``k`` is analysis frame ``k``.
    """
    context = sound_context(system.net)
    num = int(feats.meta["audio"]["num_frames"])  # analysis frames holding mel frames
    if context is None or num <= chunk:
        return one_pass_sound_scores(system, feats, windows, precision)
    parts = []
    for start in range(0, num, chunk):
        stop = min(start + chunk, num)
        lo, hi = max(0, start - context), min(num, stop + context)
        mels = [torch.from_numpy(feats.logmel(w, lo, hi).T.copy())[None] for w in windows]
        length = min(m.shape[-1] for m in mels)
        with autocast(precision):
            frames, _ = system([m[..., :length] for m in mels])  # (1, G, outputs of [lo, hi))
        frames = frames.float()
        # The last window keeps the net's ragged tail (ceil-like output length at the end).
        keep = frames[0, :, start - lo :] if stop == num else frames[0, :, start - lo : stop - lo]
        parts.append(keep.T.contiguous().numpy())
    scores = np.concatenate(parts)
    return timebase.analysis_times(len(scores)), scores


@torch.no_grad()
def one_pass_sound_scores(
    system: SoundTagger, feats: Features, windows: tuple[int, ...], precision: str = "32"
) -> tuple[np.ndarray, np.ndarray]:
    """Frame-level sound probabilities of a whole track in one pass: ``times (T',)``, ``scores
    (T', G)``."""
    mels = [torch.from_numpy(feats.logmel_all(w).T.copy())[None] for w in windows]
    length = min(m.shape[-1] for m in mels)
    with autocast(precision):
        frames, _ = system([m[..., :length] for m in mels])  # (1, G, T')
    scores = frames[0].float().T.contiguous().numpy()
    return timebase.analysis_times(len(scores)), scores


def iter_maps(
    system: FrameSystem,
    feats: Features,
    stream: str,
    batch: int = FRAME_BATCH,
    precision: str = "32",
) -> Iterator[tuple[int, np.ndarray]]:
    """Probability maps of every analysis frame, batch by batch.

    Args:
        system: an object (``stream="rgb"``) or action (``stream="flow"``) system.
        feats: cached features holding ``stream``.
        stream: ``rgb`` or ``flow``.
        batch: frames per forward pass.
        precision: ``32`` or ``bf16``.

    Yields:
        ``(start, maps)``: maps ``(n, G, h, w)`` float32 of analysis frames ``start .. start+n-1``.
    """
    for start in range(0, feats.num_frames, batch):
        stop = min(start + batch, feats.num_frames)
        x = rgb_input(feats.rgb(start, stop)) if stream == "rgb" else feats.flow(start, stop)
        yield start, batch_maps(system, x, precision)


def all_maps(
    system: FrameSystem,
    feats: Features,
    stream: str,
    batch: int = FRAME_BATCH,
    precision: str = "32",
) -> np.ndarray:
    """``(T, G, h, w)`` float32 maps of a video (small: ~1.4 KB per frame at 256 px, 9 classes)."""
    chunks = [maps for _, maps in iter_maps(system, feats, stream, batch, precision)]
    return np.concatenate(chunks).astype(np.float32, copy=False)


@torch.no_grad()
def batch_maps(system: FrameSystem, x: np.ndarray, precision: str = "32") -> np.ndarray:
    """``(n, G, h, w)`` float32 probability maps of ``(n, C, H, W)`` float32 network inputs."""
    with autocast(precision):
        maps = system.maps(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
    return maps.float().numpy()


def rgb_input(frames: np.ndarray) -> np.ndarray:
    """``(n, H, W, 3)`` uint8 frames -> ``(n, 3, H, W)`` float32 object-model input."""
    return frames.transpose(0, 3, 1, 2).astype(np.float32)


def image_maps(system: FrameSystem, rgb: np.ndarray, precision: str = "32") -> np.ndarray:
    """``(G, h, w)`` float32 maps of one ``(H, W, 3)`` uint8 RGB image (the object hit rate)."""
    return batch_maps(system, rgb_input(rgb[None]), precision)[0]


def align_sound(scores: np.ndarray, num_frames: int) -> tuple[np.ndarray, str | None]:
    """Sound scores ``(T', G)`` on the video's ``T`` analysis frames.

    The sound FCN's output length follows the audio (``floor((floor(M/4) + 1) / 4) + 1`` for
    ``M`` mel frames), which can exceed the video's ``T`` by one, or fall short when the audio
    track ends early. Extra outputs are dropped; missing ones are 0 (no sound), with a note.
    """
    scores = np.asarray(scores[:num_frames], dtype=np.float32)
    if len(scores) >= num_frames:
        return scores, None
    missing = num_frames - len(scores)
    pad = np.zeros((missing, scores.shape[1]), dtype=np.float32)
    note = (
        f"audio ends {missing * timebase.ANALYSIS_PERIOD:.2f} s before the video: "
        f"sound scores 0 for the last {missing} frames"
    )
    return np.concatenate([scores, pad]), note


def neutral_uncovered(scores: np.ndarray, names: tuple[str, ...]) -> tuple[np.ndarray, str | None]:
    """NaN sound channels (instruments a clip2frame teacher does not cover) become 1.

    1 leaves the action (and object) maps unchanged in a fusion with ``S``.
    """
    missing = np.flatnonzero(np.isnan(scores).any(axis=0))
    if missing.size == 0:
        return scores, None
    listed = ", ".join(names[g] for g in missing)
    return np.nan_to_num(scores, nan=1.0), f"the sound model does not cover {listed}: S = 1"
