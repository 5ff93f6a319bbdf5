"""Run a chapter-3 tagger over an audio or video file: tag activations with timestamps.

A :class:`Clip2FrameTagger` bundles what turns audio into tag activations: a
:class:`~ipd.models.clip2frame.Clip2Frame` network, its tag names, the STFT window of each input
scale and the per-scale standardization. It comes from the authors' release
(:meth:`Clip2FrameTagger.from_released`) or from a file written by
:meth:`Clip2FrameTagger.save` (a model the project trained).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch

from ipd.errors import InputError
from ipd.features.audio import load_audio, logmel, standardize
from ipd.models.clip2frame import Clip2Frame
from ipd.models.clip2frame_import import load_released_clip2frame
from ipd.models.weights_io import load_weights_only
from ipd.timebase import HOP, SAMPLE_RATE

Resolution = Literal["segment", "mel"]
FORMAT_VERSION = 1  # of the files written by Clip2FrameTagger.save


@dataclass
class TagActivations:
    """Tag activations of one file over time.

    Attributes:
        tags: tag names, ``N``.
        times: ``(T,)`` start time in seconds of each output frame (segment ``s`` starts at
            ``s * stride * 512 / 16000`` s: every 0.512 s for stride 16; mel frame ``i`` at
            ``i * 0.032`` s).
        frame: ``(T, N)`` activations in [0, 1] (after the Gaussian accumulation).
        clip: ``(N,)`` clip-level activations (the model's pooled output).
        period_s: seconds between output frames.
        source: the input file, or "" for raw audio.
        model: a short description of the model.
    """

    tags: list[str]
    times: np.ndarray
    frame: np.ndarray
    clip: np.ndarray
    period_s: float
    source: str = ""
    model: str = ""

    def top_tags(self, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` tags with the highest clip activation, best first."""
        order = np.argsort(-self.clip, kind="stable")[:k]
        return [(self.tags[i], float(self.clip[i])) for i in order]


@dataclass
class Clip2FrameTagger:
    """A clip2frame network with its tags and input standardization.

    Attributes:
        model: the network (set to eval mode by the tagger).
        tags: output names, one per class.
        windows: STFT window (samples) of each input scale, in model input order.
        mean: ``(scales, n_mels)`` per-band means.
        std: ``(scales, n_mels)`` per-band standard deviations.
        name: description written into the outputs.
        thresholds: ``(N,)`` per-tag decision thresholds, or None.
    """

    model: Clip2Frame
    tags: list[str]
    windows: tuple[int, ...]
    mean: np.ndarray
    std: np.ndarray
    name: str = "clip2frame"
    thresholds: np.ndarray | None = field(default=None)

    def __post_init__(self) -> None:
        if len(self.tags) != self.model.num_classes:
            raise ValueError(f"{len(self.tags)} tags for {self.model.num_classes} model outputs")
        expected = (self.model.num_scales, self.model.n_mels)
        if (
            len(self.windows) != expected[0]
            or expected != self.mean.shape
            or expected != self.std.shape
        ):
            raise ValueError(f"windows/mean/std do not match the model's {expected} inputs")
        self.model.eval()

    @classmethod
    def from_released(cls, folder: str | Path) -> Clip2FrameTagger:
        """The authors' released 188-tag MagnaTagATune model from its data folder."""
        released = load_released_clip2frame(folder)
        return cls(
            released.model,
            released.tags,
            released.windows,
            released.mean,
            released.std,
            name="clip2frame model.20160309_111546 (MagnaTagATune, 188 tags)",
            thresholds=released.thresholds,
        )

    def save(self, path: str | Path, config: dict | None = None) -> None:
        """Write weights, tags, windows and standardizers to one ``torch.save`` file.

        Args:
            path: output file (``.pt``).
            config: the :class:`Clip2Frame` constructor arguments (needed to rebuild the network).
        """
        torch.save(
            {
                "format": FORMAT_VERSION,
                "config": dict(config or {}),
                "state_dict": self.model.state_dict(),
                "tags": list(self.tags),
                "windows": list(self.windows),
                "mean": torch.from_numpy(self.mean),
                "std": torch.from_numpy(self.std),
                "name": self.name,
                "thresholds": None
                if self.thresholds is None
                else torch.from_numpy(self.thresholds),
            },
            path,
        )

    @classmethod
    def load(cls, path: str | Path) -> Clip2FrameTagger:
        """Read a file written by :meth:`save` (``weights_only``: no code is unpickled)."""
        path = Path(path)
        blob = load_weights_only(path, "tagger file")
        try:
            model = Clip2Frame(**blob["config"])
            model.load_state_dict(blob["state_dict"])
            return cls(
                model,
                list(blob["tags"]),
                tuple(int(w) for w in blob["windows"]),
                blob["mean"].numpy(),
                blob["std"].numpy(),
                name=str(blob.get("name", path.name)),
                thresholds=None if blob.get("thresholds") is None else blob["thresholds"].numpy(),
            )
        except (KeyError, TypeError, AttributeError, RuntimeError, ValueError) as err:
            raise InputError(f"{path}: not a saved clip2frame tagger ({err})") from err

    def features(self, y: np.ndarray) -> torch.Tensor:
        """Standardized log-mels of mono 16-kHz audio ``y``: ``(1, scales, n_mels, frames)``."""
        maps = [
            standardize(logmel(y, win), self.mean[s], self.std[s]).T
            for s, win in enumerate(self.windows)
        ]
        return torch.from_numpy(np.stack(maps)[None])

    @torch.no_grad()
    def tag_audio(
        self,
        y: np.ndarray,
        resolution: Resolution = "segment",
        method: Literal["upscale", "patch"] = "upscale",
        source: str = "",
        accumulated: bool = True,
    ) -> TagActivations:
        """Tag activations of mono 16-kHz audio ``y``.

        Args:
            y: ``(samples,)`` float audio at 16 kHz.
            resolution: ``"segment"`` (one value per ``total_stride`` mel frames: 0.512 s for the
                released model, the analysis frames of the shared timebase) or ``"mel"`` (one per
                mel frame, 0.032 s, by up-scaling or patching).
            method: how ``"mel"`` resolution is reached (see :meth:`Clip2Frame.frame_activations`).
            source: file name recorded in the result.
            accumulated: frame values after the Gaussian accumulation (the trained output) or
                before it (sharper in time; the authors' online demo showed these).
        """
        self.model.eval()
        x = self.features(y)
        out = self.model(x)
        stride = self.model.total_stride
        if resolution == "segment":
            frame = out.frame[0] if accumulated else out.pre_accumulation[0]
            step = stride
        elif resolution == "mel":
            frame, step = self.model.frame_activations(x, method, accumulated)[0], 1
        else:
            raise ValueError(f"resolution must be segment or mel, not {resolution!r}")
        period = step * HOP / SAMPLE_RATE
        return TagActivations(
            tags=list(self.tags),
            times=np.arange(frame.shape[1]) * period,
            frame=frame.T.numpy().astype(np.float32),
            clip=out.clip[0].numpy().astype(np.float32),
            period_s=period,
            source=source,
            model=self.name,
        )

    def tag_file(
        self,
        path: str | Path,
        resolution: Resolution = "segment",
        method: Literal["upscale", "patch"] = "upscale",
        accumulated: bool = True,
    ) -> TagActivations:
        """Tag activations of an audio or video file (decoded by :func:`load_audio`)."""
        y = load_audio(path)
        return self.tag_audio(y, resolution, method, source=str(path), accumulated=accumulated)
