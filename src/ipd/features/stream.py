"""Decode once, flow once: a video's analysis frames as batches, made in a worker thread.

One sequential decoding pass samples the gray frames of the flow grid (7.8125 fps; every 4th one
is an analysis frame, 1.953125 fps), each flow is computed once (neighbouring stacks share four of
their five flows) and the stacks are cut from a sliding window of flows, so memory holds one batch,
not the video. :func:`prefetch` runs the pass in a thread while the caller runs the networks on the
previous batch (OpenCV, FFmpeg and PyTorch release the GIL), through a bounded queue.

The same pass feeds ``ipd detect`` (flows unrounded, as the authors fed their network) and the
feature cache (:mod:`ipd.features.extract` rounds them for storage).

Example:
    >>> plan = plan_visual("v.mp4", ExtractParams())
    >>> for batch in prefetch(iter_batches("v.mp4", plan, flow_function("farneback"), 8)):
    ...     batch.rgb.shape, batch.flow.shape   # (n, H, W, 3) uint8, (n, 10, H, W) float32
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ipd import timebase
from ipd.features import flow as flows
from ipd.features.params import ExtractParams
from ipd.features.video import VideoInfo, iter_frames_at, open_video, resized_shape

QUEUE_DEPTH = 2  # batches computed ahead of the networks (~2 x 12 MB at 256 px, batch 8)


@dataclass(frozen=True)
class VisualPlan:
    """What one decoding pass samples.

    Attributes:
        info: the decoder's view of the video (duration, size, frame timestamps).
        num_frames: ``T`` analysis frames.
        shape: ``(H, W)`` of the resized frames.
        times: ``(n,)`` sampling times, seconds: the gray frames ``j = 0 .. min(in video, 4T) - 1``
            of the flow grid (``with_flow``), else the ``T`` analysis times.
        with_flow: whether flows are computed (every 4th sampled frame is an analysis frame).
    """

    info: VideoInfo
    num_frames: int
    shape: tuple[int, int]
    times: np.ndarray
    with_flow: bool

    @property
    def step(self) -> int:
        """Sampled frames per analysis frame: 4 with flow, else 1."""
        return timebase.FLOW_FACTOR if self.with_flow else 1


@dataclass
class FrameBatch:
    """Analysis frames ``start .. start + n - 1`` of a video.

    Attributes:
        start: first analysis frame.
        rgb: ``(n, H, W, 3)`` uint8 frames.
        window: ``(4n + 1, 2, H, W)`` float32 flows ``4 start - 2 .. 4 (start + n) - 2``,
            unrounded (None without flow); the last one is shared with the next batch.
        last: whether this is the video's last batch.
        sources: ``(decoded frame ordinal, its time)`` of each frame sampled for this batch.
    """

    start: int
    rgb: np.ndarray
    window: np.ndarray | None
    last: bool
    sources: list[tuple[int, float]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rgb)

    @property
    def flow(self) -> np.ndarray:
        """``(n, 10, H, W)`` float32 flow stacks of the batch's frames."""
        if self.window is None:
            raise ValueError("this pass computed no flow")
        return flows.stacks(self.window)

    @property
    def members(self) -> np.ndarray:
        """The flows that begin in this batch: ``(4n, 2, H, W)``, ``4n + 1`` in the last batch
        (flow ``4T - 2``); over all batches each of the ``4T + 1`` flows once."""
        if self.window is None:
            raise ValueError("this pass computed no flow")
        return self.window if self.last else self.window[:-1]


def plan_visual(path: str | Path, params: ExtractParams, with_flow: bool = True) -> VisualPlan:
    """Probe ``path`` (nothing decoded) and decide which frames the pass samples.

    Raises:
        InputError: missing file, not a video, no frames, one frame.
    """
    _, info = open_video(path)
    num = timebase.num_analysis_frames(info.duration)  # T
    shape = resized_shape(info.height, info.width, params.size)
    if with_flow:
        # gray frames j = 0 .. 4T-1 that exist (t < duration); later ones repeat the last
        in_video = math.ceil(round(info.duration / timebase.FLOW_PERIOD, 9))
        times = timebase.flow_times(min(in_video, timebase.FLOW_FACTOR * num))
    else:
        times = timebase.analysis_times(num)
    return VisualPlan(info, num, shape, times, with_flow)


def iter_batches(
    path: str | Path,
    plan: VisualPlan,
    flow_fn: flows.FlowFn | None,
    batch: int,
    threads: int = 0,
) -> Iterator[FrameBatch]:
    """The analysis frames of ``path`` in batches of ``batch`` (the last may be shorter).

    Args:
        path: the video.
        plan: from :func:`plan_visual` (``flow_fn`` is required when it has flow).
        flow_fn: from :func:`ipd.features.flow.flow_function`.
        batch: analysis frames per batch.
        threads: decoder threads (0: FFmpeg's choice).

    Yields:
        :class:`FrameBatch` es covering frames ``0 .. T - 1`` in order.

    Raises:
        InputError: the video stops decoding part-way.
    """
    step, num = plan.step, plan.num_frames
    rgb: list[np.ndarray] = []
    sources: list[tuple[int, float]] = []

    def sampled() -> Iterator[np.ndarray]:
        frames = iter_frames_at(path, plan.times, plan.shape, threads)
        for j, (frame, ordinal, ftime) in enumerate(frames):
            sources.append((ordinal, ftime))
            if j % step == 0:
                rgb.append(frame)
            yield frame

    def cut(start: int, n: int, members: list[np.ndarray] | None, last: bool) -> FrameBatch:
        frames = np.stack(rgb[:n])
        del rgb[:n]
        taken = sources[:] if last else sources[: n * step]
        del sources[: len(taken)]
        window = None
        if members is not None:
            window = np.stack(members[: timebase.FLOW_FACTOR * n + 1])
        return FrameBatch(start, frames, window, last, taken)

    if not plan.with_flow:
        frames = sampled()
        for start in range(0, num, batch):
            n = min(batch, num - start)
            while len(rgb) < n and next(frames, None) is not None:
                pass
            yield cut(start, n, None, start + n >= num)
        return
    if flow_fn is None:
        raise ValueError("a plan with flow needs a flow function")
    grays = (cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) for frame in sampled())
    pending: list[np.ndarray] = []  # flows 4 start - 2 .. (members of the next stacks)
    start = 0
    for member in flows.iter_flows(grays, num, flow_fn):
        pending.append(member)
        if len(pending) == timebase.FLOW_FACTOR * batch + 1 and start + batch < num:
            yield cut(start, batch, pending, last=False)
            del pending[: timebase.FLOW_FACTOR * batch]  # the shared flow stays
            start += batch
    if start < num:
        yield cut(start, num - start, pending, last=True)


def prefetch(batches: Iterator, depth: int = QUEUE_DEPTH) -> Iterator:
    """Run ``batches`` in a worker thread, at most ``depth`` items ahead of the caller.

    An exception in the worker is raised in the caller at the item where it happened; a caller
    that stops early (``close``, an exception, ``break``) stops the worker at its next item.
    """
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in batches:
                if not put(item):
                    return
        except BaseException as err:  # noqa: BLE001 - handed to the caller, raised there
            put(_Failure(err))
            return
        finally:
            close = getattr(batches, "close", None)
            if close is not None and stop.is_set():
                close()
        put(done)

    worker = threading.Thread(target=work, name="ipd-frames", daemon=True)
    worker.start()
    try:
        while True:
            item = items.get()
            if item is done:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        worker.join()


@dataclass
class _Failure:
    error: BaseException
