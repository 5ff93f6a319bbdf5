"""Writing a video file: H.264 (libx264, yuv420p) + AAC audio in mp4, with PyAV.

Encoding is single-threaded, bit-exact in the colour conversion, without x264's look-ahead, and
writes no creation time, so the same frames and audio give the same bytes (checked by the tests).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import Interpolation

AAC_FRAME = 1024  # samples per AAC frame
EXACT = Interpolation.BILINEAR | Interpolation.ACCURATE_RND | Interpolation.BITEXACT
# The x264 bundled with PyAV encoded the same frames to different bytes now and then (about 1 run in
# 10, more with an audio stream) while macroblock-tree rate control and the look-ahead were on;
# without them 260 of 260 encodes were identical. Costs a little compression, nothing else.
X264_DETERMINISTIC = "threads=1:no-mbtree=1:rc-lookahead=0"


def write_mp4(path: str | Path, frames: Iterable[np.ndarray], fps: float, audio: np.ndarray,
              sample_rate: int, crf: int = 23) -> None:  # fmt: skip
    """Encode RGB ``frames`` (each ``(H, W, 3)`` uint8, even H and W) and mono float ``audio``.

    The file appears atomically: it is written to a temporary name next to ``path`` and renamed.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    rate = Fraction(fps).limit_denominator(1001)
    try:
        with av.open(str(tmp), "w", format="mp4") as container:
            video = None
            for i, frame in enumerate(frames):
                if video is None:
                    video = container.add_stream("libx264", rate=rate)
                    video.height, video.width = frame.shape[:2]
                    video.pix_fmt = "yuv420p"
                    video.options = {"crf": str(crf), "preset": "veryfast", "threads": "1",
                                     "x264-params": X264_DETERMINISTIC}  # fmt: skip
                    video.codec_context.thread_count = 1
                    video.codec_context.thread_type = "NONE"
                    sound = container.add_stream("aac", rate=sample_rate)
                    sound.layout = "mono"
                vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                # convert here, single-threaded and bit-exact (PyAV's implicit conversion lets
                # swscale pick its threads)
                vf = vf.reformat(format="yuv420p", interpolation=EXACT, threads=1)
                vf.pts = i
                for packet in video.encode(vf):
                    container.mux(packet)
            if video is None:
                raise ValueError(f"{path}: no frames to encode")
            for packet in video.encode():
                container.mux(packet)
            samples = np.ascontiguousarray(audio, dtype=np.float32)
            for start in range(0, len(samples), AAC_FRAME):
                chunk = samples[start : start + AAC_FRAME][None]
                af = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
                af.sample_rate = sample_rate
                af.pts = start
                for packet in sound.encode(af):
                    container.mux(packet)
            for packet in sound.encode():
                container.mux(packet)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
