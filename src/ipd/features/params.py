"""The parameters that define each feature stream, and the cache key derived from them.

Each stream (``audio``, ``rgb``, ``flow``) is keyed by its own parameters only, so changing the flow
algorithm recomputes flow but never audio. :meth:`ExtractParams.stream_params` lists everything that
changes a stream's content (including fixed constants and the storage format version): bump
``FORMAT_VERSION`` when the stored layout or the extraction code changes its output.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from ipd import timebase
from ipd.features.audio import DEFAULT_WINDOWS, LOG_SCALE, N_MELS

STREAMS = ("audio", "rgb", "flow")
FLOW_ALGORITHMS = ("farneback", "dis", "tvl1")
FORMAT_VERSION = 1

# The authors' Farneback settings (reference-data README): positional arguments of
# cv2.calcOpticalFlowFarneback after (prev, next, flow).
FARNEBACK = {
    "pyr_scale": 0.5,
    "levels": 3,
    "winsize": 15,
    "iterations": 3,
    "poly_n": 5,
    "poly_sigma": 1.2,
    "flags": 0,
}
FLOW_CLIP = (-128.0, 127.0)  # pixels of the resized frame
FLOW_STEPS_PER_PX = 64  # stored flow is rounded to 1/64 px (see ipd.features.flow.to_member)


@dataclass(frozen=True)
class ExtractParams:
    """What to extract. Defaults are the paper's (chapter 4).

    Attributes:
        windows: STFT window lengths (samples at 16 kHz) of the log-mel scales.
        size: longer side of the resized RGB and flow frames, pixels.
        flow: optical-flow algorithm: ``farneback`` (paper), ``dis`` (fast) or ``tvl1``.
    """

    windows: tuple[int, ...] = DEFAULT_WINDOWS
    size: int = 256
    flow: str = "farneback"

    def __post_init__(self) -> None:
        object.__setattr__(self, "windows", tuple(int(w) for w in self.windows))
        if self.flow not in FLOW_ALGORITHMS:
            raise ValueError(f"flow algorithm {self.flow!r}: choose one of {FLOW_ALGORITHMS}")
        if self.size < 16:
            raise ValueError(f"size {self.size}: the longer side must be at least 16 px")
        if not self.windows or any(w < timebase.HOP for w in self.windows):
            raise ValueError(f"windows {self.windows}: each must be >= the hop ({timebase.HOP})")

    def stream_params(self, stream: str) -> dict:
        """Everything that determines the content of ``stream`` (JSON-serialisable)."""
        if stream == "audio":
            return {
                "stream": "audio",
                "format": FORMAT_VERSION,
                "sample_rate": timebase.SAMPLE_RATE,
                "hop": timebase.HOP,
                "n_mels": N_MELS,
                "log_scale": LOG_SCALE,
                "windows": list(self.windows),
                "mono": "mean",
                "resampler": "soxr_hq",
                "stft_pad": "constant",
            }
        frames = {
            "format": FORMAT_VERSION,
            "size": self.size,
            "resize": "cv2.INTER_AREA (shrink), INTER_LINEAR (enlarge)",
            "sampling": "last frame with timestamp <= t",
            "orientation": "upright (display rotation applied)",
        }
        if stream == "rgb":
            return {"stream": "rgb", "fps": timebase.ANALYSIS_FPS, **frames}
        if stream == "flow":
            algo = {"farneback": FARNEBACK, "dis": {"preset": "medium"}, "tvl1": {}}[self.flow]
            return {
                "stream": "flow",
                "fps": timebase.FLOW_FPS,
                "gray": "cv2.COLOR_RGB2GRAY",
                "algorithm": self.flow,
                "algorithm_params": algo,
                "clip": list(FLOW_CLIP),
                "dtype": "float16",
                "rounding_px": 1 / FLOW_STEPS_PER_PX,
                "edges": "repeat first/last sampled frame",
                **frames,
            }
        raise ValueError(f"unknown stream {stream!r}: choose from {STREAMS}")

    def stream_key(self, stream: str) -> str:
        """Short hash of :meth:`stream_params`: the name of the stream's cache folder."""
        text = json.dumps(self.stream_params(stream), sort_keys=True)
        return f"{stream}-{hashlib.sha1(text.encode()).hexdigest()[:12]}"
