"""Per-video feature extraction into the cache (batches: :mod:`ipd.features.batch`).

One video gives up to three zips (see :mod:`ipd.features.cache`): audio log-mel maps, RGB frames at
the analysis rate, optical-flow members at 4x that rate. RGB and flow come from one decoding pass;
audio is decoded separately. Every stream is written atomically on its own, so a failure or a kill
never loses the streams already finished, and a rerun skips what is fresh.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from ipd import timebase
from ipd.features import cache, flow, video
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
    """RGB frames and/or flow members of one video in a single decoding pass."""
    _, info = video.open_video(path)  # decord's frame index: duration, size; rejects bad files
    num = timebase.num_analysis_frames(info.duration)  # T
    shape = video.resized_shape(info.height, info.width, params.size)
    if "flow" in streams:
        # gray frames j = 0 .. 4T-1 that exist (t < duration); later ones repeat the last
        in_video = math.ceil(round(info.duration / timebase.FLOW_PERIOD, 9))
        times = timebase.flow_times(min(in_video, timebase.FLOW_FACTOR * num))
        step = timebase.FLOW_FACTOR  # analysis frame k is gray frame 4k
    else:
        times, step = timebase.analysis_times(num), 1
    sources: list[tuple[int, float]] = []  # (decoded frame ordinal, its time) per sampled frame

    def sampled():
        for frame, ordinal, ftime in video.iter_frames_at(path, times, shape, threads):
            sources.append((ordinal, ftime))
            yield frame

    common = {
        "num_frames": num,
        "times": timebase.analysis_times(num).tolist(),
        "frame_size": list(shape),
        "source_size": [info.height, info.width],
        "source_frames": info.num_frames,
        "duration_s": info.duration,
    }
    with ExitStack() as stack:
        writers = {
            s: stack.enter_context(
                cache.ZipWriter(cache.feature_path(cache_dir, s, video_id, params))
            )
            for s in streams
        }
        for s in streams:
            cache.stream_dir(cache_dir, s, params)
        frames = _tee_rgb(sampled(), writers.get("rgb"), step)
        if "flow" in writers:
            grays = (_gray(f) for f in frames)
            fn = flow.flow_function(params.flow)
            count = 0
            for i, member in enumerate(flow.iter_members(grays, num, fn)):
                writers["flow"].add_array(f"flow/{i:06d}.npy", member)
                count += 1
            writers["flow"].add_json(
                cache.META,
                {
                    **_base_meta(path, video_id, params, "flow"),
                    **common,
                    "num_members": count,
                    "member_flow_index": "j = i - 2 (gray frame j -> j + 1)",
                    "gray_times": times.tolist(),
                    "gray_source_index": [o for o, _ in sources],
                    "gray_source_time": [t for _, t in sources],
                },
            )
        else:
            for _ in frames:
                pass
        if "rgb" in writers:
            writers["rgb"].add_json(
                cache.META,
                {
                    **_base_meta(path, video_id, params, "rgb"),
                    **common,
                    "source_index": [o for o, _ in sources[::step]],
                    "source_time": [t for _, t in sources[::step]],
                },
            )


def _tee_rgb(frames, writer: cache.ZipWriter | None, step: int):
    """Pass frames through, storing every ``step``-th one as analysis frame ``j // step``."""
    for j, frame in enumerate(frames):
        if writer is not None and j % step == 0:
            writer.add_png(f"rgb/{j // step:06d}.png", frame)
        yield frame


def _gray(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _extract_audio(path: Path, video_id: str, cache_dir: str | Path, params: ExtractParams) -> None:
    """Multi-scale log-mel of one video, streamed: 16 mel frames (one analysis frame) per member."""
    chunks = iter_audio(path)
    first = next(chunks)  # fail (no audio track, unreadable) before creating any file
    target = cache.feature_path(cache_dir, "audio", video_id, params)
    cache.stream_dir(cache_dir, "audio", params)
    stream = LogmelStream(params.windows)
    samples = 0
    with cache.ZipWriter(target) as writer:

        def store(block: dict[int, np.ndarray] | None, first_frame: int) -> None:
            if block is None:
                return
            for win, mel in block.items():
                for lo in range(0, len(mel), timebase.SOUND_STRIDE):
                    k = (first_frame + lo) // timebase.SOUND_STRIDE
                    part = mel[lo : lo + timebase.SOUND_STRIDE]
                    # float32 log-mel deflates by ~5% only: store it plain, reads are faster
                    writer.add_array(f"logmel_{win}/{k:06d}.npy", part, compress=False)

        for chunk in _prepend(first, chunks):
            samples += len(chunk)
            start = stream.num_frames
            store(stream.push(chunk), start)
        start = stream.num_frames
        store(stream.finish(), start)
        mel_frames = stream.num_frames
        num = math.ceil(mel_frames / timebase.SOUND_STRIDE)
        writer.add_json(
            cache.META,
            {
                **_base_meta(path, video_id, params, "audio"),
                "num_samples": samples,
                "duration_s": samples / timebase.SAMPLE_RATE,
                "num_mel_frames": mel_frames,
                "mel_times": f"i * {timebase.HOP / timebase.SAMPLE_RATE} s (centred frames)",
                "num_frames": num,
                "times": timebase.analysis_times(num).tolist(),
                "windows": list(params.windows),
                "member": "logmel_<win>/<k>.npy: mel frames [16k, 16k + 16) of analysis frame k",
            },
        )


def _prepend(first, rest):
    yield first
    yield from rest
