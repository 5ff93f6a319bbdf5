"""The bad, odd and good inputs of the robustness suite, generated on the spot (ffmpeg's test
sources, PyAV for exact timestamps): nothing is downloaded or committed.

Every video is small (160 x 90 unless the case is about size) and about 2 s long at 10 fps, so a
whole command runs on it in a second or two.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np

from tests.test_features_media import index_frames, write_video

SECONDS = 2.0
VIDEO = ["-f", "lavfi", "-i", "testsrc2=size={size}:rate=10"]
TONE = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000"]
SILENCE = ["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono"]
H264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
HTML_NAME = 'take <i>one<i> & "two".mp4'  # spaces, HTML and quotes in a file name


def ffmpeg(out: Path, *args: str, seconds: float = SECONDS) -> Path:
    """``ffmpeg -y ARGS -t seconds OUT``, quietly; the file it wrote."""
    command = ["ffmpeg", "-nostdin", "-v", "error", "-y", *args, "-t", str(seconds), str(out)]
    subprocess.run(command, check=True)
    return out


def video(size: str = "160x90") -> list[str]:
    return [arg.format(size=size) for arg in VIDEO]


def make_media(root: Path) -> dict[str, Path]:
    """Every case of the suite in ``root``, by name (see ``CASES`` in the tests)."""
    if shutil.which("ffmpeg") is None:
        import pytest

        pytest.skip("ffmpeg executable not installed (make test installs it)")
    root.mkdir(parents=True, exist_ok=True)
    m: dict[str, Path] = {}
    m["good"] = ffmpeg(root / "good.mp4", *video(), *TONE, *H264, "-c:a", "aac")
    m["zero_bytes"] = root / "zero.mp4"
    m["zero_bytes"].write_bytes(b"")
    m["text"] = root / "notes.mp4"
    m["text"].write_text("this is a text file, not a video\n")
    whole = ffmpeg(root / "whole.mp4", *video(), *TONE, *H264, "-c:a", "aac", "-movflags",
                   "+faststart", seconds=4.0)  # fmt: skip
    m["truncated"] = root / "truncated.mp4"
    m["truncated"].write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    whole.unlink()
    m["audio_only"] = ffmpeg(root / "audio_only.mp4", *TONE, "-c:a", "aac")
    m["no_audio"] = ffmpeg(root / "no_audio.mp4", *video(), *H264)
    m["silent_audio"] = ffmpeg(root / "silent.mp4", *video(), *SILENCE, *H264, "-c:a", "aac")
    m["one_frame"] = ffmpeg(root / "one_frame.mp4", *video(), *H264, "-frames:v", "1")
    m["shorter_than_a_flow_stack"] = ffmpeg(root / "short.mp4", *video(), *H264, seconds=0.3)
    pts_ms = [0, 100, 500, 530, 1100, 1200, 1300, 1400, 1500, 1600]  # 10 frames, uneven gaps
    m["variable_frame_rate"] = write_video(root / "vfr.mp4", index_frames(10), 25, pts_ms=pts_ms)
    m["portrait"] = ffmpeg(root / "portrait.mp4", *video("90x160"), *H264)
    landscape = ffmpeg(root / "sideways.mp4", *video(), *H264)
    m["rotated_phone"] = root / "phone.mp4"  # stored 160 x 90, shown 90 x 160 (rotate 90)
    rotate = ["-i", str(landscape), "-c", "copy", "-metadata:s:v:0", "rotate=90"]
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *rotate, str(m["rotated_phone"])],
                   check=True)  # fmt: skip
    m["uhd_4k"] = ffmpeg(root / "uhd.mp4", *video("3840x2160"), *H264, "-r", "4", seconds=1.0)
    m["grayscale"] = ffmpeg(root / "gray.mkv", *video(), "-c:v", "ffv1", "-pix_fmt", "gray")
    m["mpeg4_in_avi"] = ffmpeg(root / "old.avi", *video("161x91"), *TONE, "-c:v", "mpeg4",
                               "-c:a", "pcm_s16le")  # fmt: skip
    m["html_name"] = shutil.copy(m["good"], root / HTML_NAME)
    same = root / "same"
    same.mkdir()
    m["same_stem_mp4"] = shutil.copy(m["good"], same / "clip.mp4")
    m["same_stem_mkv"] = ffmpeg(same / "clip.mkv", *video("128x72"), *TONE, *H264, "-c:a", "aac")
    m["fifo"] = root / "pipe.mp4"
    os.mkfifo(m["fifo"])
    m["folder"] = root / "folder.mp4"
    m["folder"].mkdir()
    m["missing"] = root / "missing.mp4"
    return {k: Path(v) for k, v in m.items()}


def first_frame(path: Path) -> np.ndarray:
    """The first decoded frame as stored, ``(H, W, 3)`` uint8 (no rotation applied)."""
    import av

    with av.open(str(path)) as container:
        return next(container.decode(video=0)).to_ndarray(format="rgb24")
