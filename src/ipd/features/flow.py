"""Dense optical flow and the 10-channel flow stacks of the action model (SPEC section 3).

Gray frames are sampled every 0.128 s (7.8125 fps): gray frame ``j`` at ``t = j * 0.128``. Flow
``j`` goes from gray frame ``j`` to ``j + 1``. Analysis frame ``k`` (``t = k * 0.512``) gets the
stack of the 5 flows ``j = 4k-2 .. 4k+2``, channels ``(x0, y0, x1, y1, ..., x4, y4)``, clipped to
[-128, 127] pixels of the resized frame. Like the authors (frame sequence padded in 'edge' mode),
frames before the first and after the last sampled frame repeat it, so those flows are zero.

The cache stores each flow once: flow member ``i`` holds flow ``j = i - 2``, so the stack of
analysis frame ``k`` is members ``4k .. 4k+4`` and a video with ``T`` analysis frames has ``4T + 1``
members.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import cv2
import numpy as np

from ipd.features.params import FARNEBACK, FLOW_CLIP, FLOW_STEPS_PER_PX
from ipd.timebase import FLOW_FACTOR, FLOWS_PER_STACK

FlowFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
EDGE = FLOWS_PER_STACK // 2  # flows before (and after) the centre flow of a stack: 2


def flow_function(algorithm: str) -> FlowFn:
    """A function ``(gray0, gray1) -> (H, W, 2) float32`` flow from ``gray0`` to ``gray1``, pixels.

    Args:
        algorithm: ``farneback`` (the paper's parameters), ``dis`` (cv2.DISOpticalFlow, medium
            preset) or ``tvl1`` (cv2.optflow.DualTVL1OpticalFlow, opencv-contrib defaults).
    """
    if algorithm == "farneback":
        args = tuple(FARNEBACK.values())

        def farneback(gray0: np.ndarray, gray1: np.ndarray) -> np.ndarray:
            return cv2.calcOpticalFlowFarneback(gray0, gray1, None, *args)

        return farneback
    if algorithm == "dis":
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        return lambda gray0, gray1: dis.calc(gray0, gray1, None)
    if algorithm == "tvl1":
        tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()
        return lambda gray0, gray1: tvl1.calc(gray0, gray1, None)
    raise ValueError(f"unknown flow algorithm {algorithm!r}")


def to_member(flow: np.ndarray) -> np.ndarray:
    """``(H, W, 2)`` float32 flow -> ``(2, H, W)`` float16 as stored in the cache.

    Values are clipped to [-128, 127] and rounded to multiples of 1/64 px (error <= 1/128 px, far
    below any algorithm's accuracy), which float16 holds exactly below 32 px (above: steps of 1/32
    px up to 64, 1/16 px up to 128). The rounding makes deflate ~4x more effective on flow.
    """
    return round_member(np.clip(flow, *FLOW_CLIP).transpose(2, 0, 1))


def round_member(flow: np.ndarray) -> np.ndarray:
    """A clipped ``(2, H, W)`` flow (as :func:`iter_flows` yields it) rounded to the stored
    ``(2, H, W)`` float16 (see :func:`to_member`)."""
    return (np.round(flow * FLOW_STEPS_PER_PX) / FLOW_STEPS_PER_PX).astype(np.float16)


def to_counts(members: np.ndarray) -> np.ndarray:
    """Rounded float16 members ``(..., 2, H, W)`` -> int16 counts of 1/64 px, as the store keeps
    them: every value of :func:`round_member` is a multiple of 1/64 in [-128, 127], so the counts
    (-8192 .. 8128) give the float16 values back exactly (:func:`from_counts`)."""
    return np.rint(members.astype(np.float32) * FLOW_STEPS_PER_PX).astype(np.int16)


def from_counts(stacks_or_members: np.ndarray) -> np.ndarray:
    """Float32 counts of 1/64 px -> pixels, in place (a power of two: exact)."""
    stacks_or_members *= 1 / FLOW_STEPS_PER_PX
    return stacks_or_members


def num_members(num_frames: int) -> int:
    """Stored flows for ``num_frames`` analysis frames: ``4T + 1`` (flows ``-2 .. 4T-2``)."""
    return FLOW_FACTOR * num_frames + 1 if num_frames > 0 else 0


def member_range(start: int, stop: int) -> range:
    """Members needed for the stacks of analysis frames ``[start, stop)``."""
    return range(FLOW_FACTOR * start, FLOW_FACTOR * (stop - 1) + FLOWS_PER_STACK)


def stacks(members: np.ndarray) -> np.ndarray:
    """Stacks from consecutive flow members.

    Args:
        members: ``(4n + 1, 2, H, W)`` flows, member ``4k`` being the first of stack ``k``.

    Returns:
        ``(n, 10, H, W)`` float32; channel ``2m`` is x and ``2m + 1`` is y of flow ``4k - 2 + m``.
    """
    n = (len(members) - 1) // FLOW_FACTOR
    first = FLOW_FACTOR * np.arange(n)[:, None] + np.arange(FLOWS_PER_STACK)  # (n, 5) members
    windows = members[first].reshape(n, 2 * FLOWS_PER_STACK, *members.shape[2:])
    # torch converts float16 exactly as numpy does, an order of magnitude faster (vectorised):
    # half of a training step's data loading was this conversion. Imported here: extraction
    # never builds stacks, and each extraction worker process saves torch's ~2-3 s import.
    import torch

    return torch.from_numpy(windows).float().numpy()


def iter_flows(
    grays: Iterable[np.ndarray], num_frames: int, flow_fn: FlowFn
) -> Iterator[np.ndarray]:
    """The ``4T + 1`` flows ``j = -2 .. 4T-2`` of a video from its sampled gray frames, streaming.

    Each flow is computed once and only the previous gray frame is kept in memory. Values are
    clipped to [-128, 127] pixels as the authors did, and not rounded (:func:`iter_members` gives
    the stored, rounded form).

    Args:
        grays: gray frames ``j = 0, 1, ...`` (``(H, W)`` uint8); at most ``4T`` are used. Fewer
            (a video ending early) means the last one is repeated, i.e. zero flows after it.
        num_frames: ``T``, analysis frames of the video.
        flow_fn: from :func:`flow_function`.

    Yields:
        ``(2, H, W)`` float32 flows, the ``i``-th being flow ``j = i - 2``.
    """
    total = num_members(num_frames)
    zero = None
    emitted = 0
    prev = None
    for j, gray in enumerate(grays):
        if zero is None:
            zero = np.zeros((2, *gray.shape), dtype=np.float32)
            for _ in range(EDGE):  # flows -2, -1: the first frame repeated
                yield zero
                emitted += 1
        if prev is not None:
            yield np.clip(flow_fn(prev, gray), *FLOW_CLIP).transpose(2, 0, 1)  # flow j - 1
            emitted += 1
        prev = gray
        if j + 1 >= FLOW_FACTOR * num_frames:  # gray frame 4T - 1 closes flow 4T - 2
            break
    if zero is None:
        return
    while emitted < total:  # after the last sampled frame: repeated, zero flow
        yield zero
        emitted += 1


def iter_members(
    grays: Iterable[np.ndarray], num_frames: int, flow_fn: FlowFn
) -> Iterator[np.ndarray]:
    """The flows of :func:`iter_flows` as stored in the cache: ``(2, H, W)`` float16 members
    ``i = 0 .. 4T`` (flow ``j = i - 2``), rounded by :func:`round_member`."""
    for flow in iter_flows(grays, num_frames, flow_fn):
        yield round_member(flow)
