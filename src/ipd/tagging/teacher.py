"""A MagnaTagATune tagger as the sound teacher: instrument activations from tag activations.

The label space says which tags mean an instrument (``mtt_tags`` in ``instruments.yaml``, e.g.
Violin -> violin, violins, fiddle). An instrument's activation is the **max** over its tags'
activations. An instrument with no tag in the model's vocabulary (Accordion for the released
model) is **not covered**: its column is NaN and ``covered`` is False, never a guess. Consumers
must mask uncovered instruments (NaN >= v is False, so a plain threshold would silently make them
negative).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ipd.errors import InputError
from ipd.labels import LabelSpace, load_label_space
from ipd.tagging.tagger import Clip2FrameTagger


@dataclass(frozen=True)
class InstrumentTagMap:
    """Which model outputs stand for each instrument.

    Attributes:
        instruments: instrument names in label-space order, ``G``.
        tag_indices: per instrument, the model output indices of its tags (empty: not covered).
        tags: per instrument, the tag names those indices point to.
        missing: per instrument, its listed tags the model does not have.
    """

    instruments: tuple[str, ...]
    tag_indices: tuple[tuple[int, ...], ...]
    tags: tuple[tuple[str, ...], ...]
    missing: tuple[tuple[str, ...], ...]

    @classmethod
    def from_labels(cls, labels: LabelSpace, model_tags: Sequence[str]) -> InstrumentTagMap:
        """Map every instrument's ``mtt_tags`` onto ``model_tags`` (exact, case-insensitive)."""
        position = {tag.strip().lower(): i for i, tag in enumerate(model_tags)}
        indices, names, missing = [], [], []
        for inst in labels.instruments:
            found = [t for t in inst.mtt_tags if t.lower() in position]
            indices.append(tuple(position[t.lower()] for t in found))
            names.append(tuple(found))
            missing.append(tuple(t for t in inst.mtt_tags if t.lower() not in position))
        return cls(tuple(labels.names), tuple(indices), tuple(names), tuple(missing))

    @property
    def covered(self) -> np.ndarray:
        """``(G,)`` True where the instrument has at least one tag in the model."""
        return np.array([bool(ix) for ix in self.tag_indices])

    @property
    def not_covered(self) -> list[str]:
        """Names of the instruments the model cannot say anything about."""
        return [name for name, ix in zip(self.instruments, self.tag_indices, strict=True) if not ix]

    def apply(self, activations: np.ndarray) -> np.ndarray:
        """Tag activations ``(..., N_tags)`` -> instruments ``(..., G)``, NaN where uncovered."""
        out = np.full((*activations.shape[:-1], len(self.instruments)), np.nan, np.float32)
        for g, ix in enumerate(self.tag_indices):
            if ix:
                out[..., g] = activations[..., list(ix)].max(axis=-1)
        return out

    def apply_torch(self, activations: torch.Tensor, dim: int = -1) -> torch.Tensor:
        """:meth:`apply` for a tensor whose tag axis is ``dim`` (e.g. ``(B, N, T)`` with dim 1)."""
        x = activations.movedim(dim, -1)
        nan = torch.full(x.shape[:-1], float("nan"), dtype=x.dtype, device=x.device)
        columns = [x[..., list(ix)].amax(dim=-1) if ix else nan for ix in self.tag_indices]
        return torch.stack(columns, dim=-1).movedim(-1, dim)


@dataclass
class InstrumentActivations:
    """Sound-teacher output for one file.

    Attributes:
        instruments: ``G`` names in label-space order.
        times: ``(T,)`` seconds of each analysis frame (``k * 0.512`` for stride 16).
        values: ``(T, G)`` activations in [0, 1]; NaN columns for uncovered instruments.
        covered: ``(G,)`` which columns carry information.
    """

    instruments: list[str]
    times: np.ndarray
    values: np.ndarray
    covered: np.ndarray


class Clip2FrameTeacher:
    """A clip2frame tagger (released or trained) turned into a per-instrument sound teacher.

    Typed arguments so that a config (jsonargparse) can build it:

    Args:
        clip2frame_dir: the authors' release folder (e.g. ``../shared/reference-data/clip2frame``).
        model: a file written by :meth:`Clip2FrameTagger.save` (instead of ``clip2frame_dir``).
        labels: label-space YAML (default: the repository's ``annotations/instruments.yaml``).
        accumulated: use the Gaussian-accumulated output (True, as trained) or the sharper
            pre-accumulation output.
    """

    def __init__(
        self,
        clip2frame_dir: str | None = None,
        model: str | None = None,
        labels: str | None = None,
        accumulated: bool = True,
    ) -> None:
        if (clip2frame_dir is None) == (model is None):
            raise InputError("sound teacher: give exactly one of clip2frame_dir or model")
        self.tagger = (
            Clip2FrameTagger.from_released(clip2frame_dir)
            if clip2frame_dir is not None
            else Clip2FrameTagger.load(model)
        )
        self.labels = load_label_space(labels)
        self.mapping = InstrumentTagMap.from_labels(self.labels, self.tagger.tags)
        self.accumulated = accumulated

    def __call__(self, y: np.ndarray) -> InstrumentActivations:
        """Instrument activations of mono 16-kHz audio ``y`` on the model's segment grid."""
        acts = self.tagger.tag_audio(y, accumulated=self.accumulated)
        return self._to_instruments(acts.times, acts.frame)

    def tag_file(self, path: str | Path) -> InstrumentActivations:
        """Instrument activations of an audio or video file."""
        acts = self.tagger.tag_file(path, accumulated=self.accumulated)
        return self._to_instruments(acts.times, acts.frame)

    def _to_instruments(self, times: np.ndarray, frame: np.ndarray) -> InstrumentActivations:
        return InstrumentActivations(
            list(self.mapping.instruments), times, self.mapping.apply(frame), self.mapping.covered
        )
