"""Reading cached features: :func:`open_features` and random access to sub-clips.

Example:
    >>> feats = open_features("cache", "vid001", streams=("rgb", "flow"))
    >>> feats.num_frames, feats.frame_size        # T analysis frames, (H, W) pixels
    >>> feats.flow(10, 20).shape                  # (10, 10, H, W) float32, t = 5.12 .. 9.728 s
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ipd import timebase
from ipd.errors import InputError
from ipd.features import cache, flow
from ipd.features.params import STREAMS, ExtractParams


class Features:
    """The cached streams of one video. Only the members a call needs are read.

    Attributes:
        video_id: the video.
        num_frames: ``T`` analysis frames (from the video streams when present, else from audio).
        times: ``(T,)`` float64 seconds, ``t_k = k * 0.512``.
        frame_size: ``(H, W)`` of the resized frames (None with audio only).
        meta: ``{stream: meta.json}`` of each open stream.
    """

    def __init__(self, video_id: str, readers: dict[str, cache.StoreReader]) -> None:
        self.video_id = video_id
        self._readers = readers
        self.meta = {s: r.meta for s, r in readers.items()}
        visual = [self.meta[s] for s in ("rgb", "flow") if s in self.meta]
        source = visual[0] if visual else self.meta["audio"]
        self.num_frames: int = int(source["num_frames"])
        self.times = timebase.analysis_times(self.num_frames)
        self.frame_size = tuple(visual[0]["frame_size"]) if visual else None

    def _reader(self, stream: str) -> cache.StoreReader:
        if stream not in self._readers:
            raise KeyError(f"{self.video_id}: stream {stream!r} was not opened")
        return self._readers[stream]

    def _span(self, start: int, stop: int | None, limit: int) -> tuple[int, int]:
        stop = limit if stop is None else min(stop, limit)
        if start < 0 or start > stop:
            raise IndexError(f"{self.video_id}: frames [{start}, {stop}) outside [0, {limit})")
        return start, stop

    def logmel(self, win: int, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Mel frames ``[16 start, 16 stop)`` of window ``win``: analysis frames ``[start, stop)``.

        Returns:
            ``(16 * (stop - start) or fewer at the end, 128)`` float32 log-mel.
        """
        reader = self._reader("audio")
        if win not in reader.meta["windows"]:
            raise KeyError(
                f"{self.video_id}: no log-mel window {win} (have {reader.meta['windows']})"
            )
        start, stop = self._span(start, stop, reader.meta["num_frames"])
        stride = timebase.SOUND_STRIDE
        return reader.rows(f"logmel_{win}", stride * start, stride * stop)

    def logmel_all(self, win: int) -> np.ndarray:
        """The whole log-mel map of window ``win``: ``(mel_frames, 128)`` float32."""
        return self.logmel(win)

    def rgb(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Analysis frames ``[start, stop)``: ``(n, H, W, 3)`` uint8 RGB."""
        reader = self._reader("rgb")
        start, stop = self._span(start, stop, self.num_frames)
        return reader.rows("rgb", start, stop)

    def flow(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Flow stacks of analysis frames ``[start, stop)``: ``(n, 10, H, W)`` float32 pixels.

        Channels ``(x0, y0, ..., x4, y4)`` are the flows ``4k-2 .. 4k+2`` (see :mod:`.flow`).
        """
        reader = self._reader("flow")
        start, stop = self._span(start, stop, self.num_frames)
        if stop == start:
            return np.zeros((0, 10, *self.frame_size), dtype=np.float32)
        members = flow.member_range(start, stop)
        counts = reader.rows("flow", members.start, members.stop)  # int16, 1/64 px
        return flow.from_counts(flow.stacks(counts))

    def close(self) -> None:
        for reader in self._readers.values():
            reader.close()

    def __enter__(self) -> Features:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_features(
    cache_dir: str | Path,
    video_id: str,
    streams: Sequence[str] = STREAMS,
    params: ExtractParams | None = None,
) -> Features:
    """Open the cached ``streams`` of ``video_id`` extracted with ``params`` (default: paper's).

    ``cache_dir`` is a local folder or an fsspec URL (see :mod:`ipd.features.cache`).

    Raises:
        InputError: a stream is not in the cache for these parameters (run ``ipd extract``).
    """
    params = params or ExtractParams()
    readers = {}
    for stream in streams:
        if stream not in STREAMS:
            raise ValueError(f"unknown stream {stream!r}: choose from {STREAMS}")
        path = cache.feature_path(cache_dir, stream, video_id, params)
        try:
            readers[stream] = cache.StoreReader(path)
        except FileNotFoundError:
            raise InputError(
                f"{path}: no {stream} features for {video_id} with these parameters "
                "(run `ipd extract` with the same settings)"
            ) from None
    if not readers:
        raise ValueError("open_features needs at least one stream")
    return Features(video_id, readers)
