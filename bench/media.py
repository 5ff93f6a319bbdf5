"""The benchmark's test videos, made by FFmpeg's test sources (no download, same on every machine).

A moving test pattern (``testsrc2``: scrolling colour bars, a moving square, a running clock) at
640 x 360, 30 fps, H.264, with a beeping 44.1-kHz stereo AAC track.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def make_video(path: Path, seconds: float, size: str = "640x360", fps: int = 30) -> Path:
    """Write ``path`` (skipped when it exists) and return it.

    Raises:
        RuntimeError: FFmpeg is not installed (``make system-deps`` installs it).
    """
    if path.is_file():
        return path
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("the benchmark needs the ffmpeg executable (make system-deps)")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}")
    subprocess.run(
        ["ffmpeg", "-nostdin", "-y", "-v", "error",
         "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}",
         "-f", "lavfi", "-i", "sine=frequency=660:beep_factor=3:sample_rate=44100",
         "-t", str(seconds), "-ac", "2",
         "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-f", "mp4", str(partial)],
        check=True,
    )  # fmt: skip
    partial.rename(path)
    return path
