"""Per-video feature extraction into the cache (batches: :mod:`ipd.features.batch`).

One video gives up to three stores (see :mod:`ipd.features.cache`): audio log-mel maps, RGB
frames at the analysis rate, optical-flow members at 4x that rate. RGB and flow come from one
decoding pass; audio is decoded separately. Every stream is written atomically on its own, so a
failure or a kill never loses the streams already finished, and a rerun skips what is fresh.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from ipd import timebase
from ipd.features import cache, flow
from ipd.features import stream as visual
from ipd.features.audio import LogmelStream, NoAudioTrack, iter_audio
from ipd.features.params import STREAMS, ExtractParams
from ipd.files import check_input_file


def extract_video(
    path: str | Path,
    video_id: str,
    cache_dir: str | Path,
    params: ExtractParams | None = None,
    streams: Sequence[str] = STREAMS,
    force: bool = False,
    threads: int = 0,
) -> dict:
    """Extract the ``streams`` of one video into ``cache_dir`` (skipping fresh ones).

    ``threads`` is the number of video-decoding threads (0: FFmpeg's choice; worker processes
    use 1).

    Returns:
        ``{"video_id", "written": [...], "cached": [...], "notes": [...]}``; a video without an
        audio track gets a note and no audio (its rgb and flow are still extracted).

    Raises:
        InputError: missing file, not a video, no frames, one frame; undecodable audio; or no audio
            track when audio was the only stream asked for.
    """
    params = params or ExtractParams()
    path = check_input_file(path, "video file")
    out = {"video_id": video_id, "written": [], "cached": [], "notes": []}
    todo = []
    for stream in streams:
        fresh = cache.is_fresh(cache.feature_path(cache_dir, stream, video_id, params), path)
        (out["cached"] if fresh and not force else todo).append(stream)
    visual = [s for s in todo if s in ("rgb", "flow")]
    if visual:
        _extract_visual(path, video_id, cache_dir, params, visual, threads)
        out["written"] += visual
    if "audio" in todo:
        try:
            _extract_audio(path, video_id, cache_dir, params)
            out["written"].append("audio")
        except NoAudioTrack as err:
            if not visual and not out["cached"]:
                raise
            out["notes"].append(f"{err}: audio skipped, video streams extracted")
    return out


def _base_meta(path: Path, video_id: str, params: ExtractParams, stream: str) -> dict:
    return {
        "video_id": video_id,
        "stream": stream,
        "source": {"file": path.name, **cache.source_stamp(path)},
        "params": params.stream_params(stream),
    }


def _extract_visual(
    path: Path,
    video_id: str,
    cache_dir: str | Path,
    params: ExtractParams,
    streams: list[str],
    threads: int = 0,
) -> None:
    """RGB frames and/or flow members of one video in a single decoding pass
    (:mod:`ipd.features.stream`, the pass ``ipd detect`` runs too)."""
    plan = visual.plan_visual(path, params, with_flow="flow" in streams)
    fn = flow.flow_function(params.flow) if plan.with_flow else None
    with VisualWriter(cache_dir, video_id, params, streams, path, plan) as writer:
        for batch in visual.iter_batches(path, plan, fn, BATCH, threads):
            writer.add(batch)


BATCH = 16  # analysis frames per written batch


class VisualWriter:
    """Writes the batches of one decoding pass into the cache's rgb and/or flow stores.

    Flows are rounded by :func:`ipd.features.flow.round_member` and stored as int16 counts of
    1/64 px. The stores are committed only by a normal exit
    (:class:`ipd.features.cache.StoreWriter`): a pass that stops part-way leaves nothing read as
    valid.

    Example:
        >>> with VisualWriter(cache_dir, "vid", params, ("rgb", "flow"), path, plan) as w:
        ...     for batch in iter_batches(path, plan, fn, 16):
        ...         w.add(batch)
    """

    def __init__(
        self,
        cache_dir: str | Path,
        video_id: str,
        params: ExtractParams,
        streams: Sequence[str],
        path: Path,
        plan: visual.VisualPlan,
    ) -> None:
        self.cache_dir, self.video_id, self.params = cache_dir, video_id, params
        self.streams, self.path, self.plan = tuple(streams), path, plan
        self._stack = ExitStack()
        self._writers: dict[str, cache.StoreWriter] = {}
        self._rows: dict[str, cache.Rows] = {}
        self._members = 0
        self._sources: list[tuple[int, float]] = []

    def __enter__(self) -> VisualWriter:
        for s in self.streams:
            cache.stream_dir(self.cache_dir, s, self.params)
            target = cache.feature_path(self.cache_dir, s, self.video_id, self.params)
            self._writers[s] = self._stack.enter_context(cache.StoreWriter(target))
        if "rgb" in self._writers:
            self._rows["rgb"] = self._writers["rgb"].rgb_rows(self.plan.shape)
        if "flow" in self._writers:
            self._rows["flow"] = self._writers["flow"].flow_rows(self.plan.shape)
        return self

    def add(self, batch: visual.FrameBatch) -> None:
        """Store the batch's frames and the flows that begin in it."""
        self._sources += batch.sources
        if "rgb" in self._rows:
            self._rows["rgb"].append(batch.rgb)
        if "flow" in self._rows:
            members = batch.members
            self._rows["flow"].append(flow.to_counts(flow.round_member(members)))
            self._members += len(members)

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self._write_meta()
        self._stack.__exit__(exc_type, exc, tb)

    def _write_meta(self) -> None:
        plan, info, sources = self.plan, self.plan.info, self._sources
        common = {
            "num_frames": plan.num_frames,
            "times": timebase.analysis_times(plan.num_frames).tolist(),
            "frame_size": list(plan.shape),
            "source_size": [info.height, info.width],
            "source_frames": info.num_frames,
            "duration_s": info.duration,
        }
        if "flow" in self._writers:
            self._writers["flow"].meta = {
                **_base_meta(self.path, self.video_id, self.params, "flow"),
                **common,
                "num_members": self._members,
                "member_flow_index": "j = i - 2 (gray frame j -> j + 1)",
                "gray_times": plan.times.tolist(),
                "gray_source_index": [o for o, _ in sources],
                "gray_source_time": [t for _, t in sources],
            }
        if "rgb" in self._writers:
            self._writers["rgb"].meta = {
                **_base_meta(self.path, self.video_id, self.params, "rgb"),
                **common,
                "source_index": [o for o, _ in sources[:: plan.step]],
                "source_time": [t for _, t in sources[:: plan.step]],
            }


def _extract_audio(path: Path, video_id: str, cache_dir: str | Path, params: ExtractParams) -> None:
    """Multi-scale log-mel of one video, streamed: one array of ``(mel frames, 128)`` float32 per
    window, 16 mel frames (one analysis frame) per chunk."""
    chunks = iter_audio(path)
    first = next(chunks)  # fail (no audio track, unreadable) before creating any file
    target = cache.feature_path(cache_dir, "audio", video_id, params)
    cache.stream_dir(cache_dir, "audio", params)
    stream = LogmelStream(params.windows)
    samples = 0
    with cache.StoreWriter(target) as writer:
        rows = {win: writer.logmel_rows(win) for win in params.windows}

        def store(block: dict[int, np.ndarray] | None) -> None:
            for win, mel in (block or {}).items():
                rows[win].append(mel)

        for chunk in _prepend(first, chunks):
            samples += len(chunk)
            store(stream.push(chunk))
        store(stream.finish())
        mel_frames = stream.num_frames
        num = math.ceil(mel_frames / timebase.SOUND_STRIDE)
        writer.meta = {
            **_base_meta(path, video_id, params, "audio"),
            "num_samples": samples,
            "duration_s": samples / timebase.SAMPLE_RATE,
            "num_mel_frames": mel_frames,
            "mel_times": f"i * {timebase.HOP / timebase.SAMPLE_RATE} s (centred frames)",
            "num_frames": num,
            "times": timebase.analysis_times(num).tolist(),
            "windows": list(params.windows),
            "array": "logmel_<win>: mel frames; analysis frame k is rows [16k, 16k + 16)",
        }


def _prepend(first, rest):
    yield first
    yield from rest
