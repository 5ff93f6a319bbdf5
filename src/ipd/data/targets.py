"""Training targets of the action model (SPEC 5, dissertation §4.1.2, Figs. 4.1-4.2).

Teachers are stored as real values; binarisation happens here, at training time, so several
thresholds share one teacher run:

    S^v[g, t]       = [S[g, t] >= v]
    O^u[g, t, i, j] = [O[g, t, i, j] >= u]

and the four targets, for an action map ``A[g, t, i, j]``:

    VT:  BCE(max_ij A, V[g])                 video tags, every frame of a tagged video positive
    ST:  BCE(max_ij A, S^v[g, t])            temporal supervision
    OT:  BCE(A,        O^u[g, t, i, j])      spatial supervision, per pixel
    SOT: BCE(A,        S^v[g, t] * O^u)      both; no video tags needed
"""

from __future__ import annotations

from enum import Enum

import torch


class Target(str, Enum):
    """Which supervision trains the action model."""

    VT = "VT"
    ST = "ST"
    OT = "OT"
    SOT = "SOT"

    @property
    def pooled(self) -> bool:
        """True when the loss compares the spatially max-pooled map (VT, ST)."""
        return self in (Target.VT, Target.ST)

    @property
    def needs_sound(self) -> bool:
        return self in (Target.ST, Target.SOT)

    @property
    def needs_object(self) -> bool:
        return self in (Target.OT, Target.SOT)


def binarize(x: torch.Tensor, threshold: float) -> torch.Tensor:
    """``[x >= threshold]`` as float (the boundary counts as positive, eqs. 4.1-4.2)."""
    return (x >= threshold).to(torch.float32)


def action_target(
    target: Target,
    *,
    tags: torch.Tensor | None = None,
    sound: torch.Tensor | None = None,
    objects: torch.Tensor | None = None,
    v: float = 0.5,
    u: float = 0.3,
) -> torch.Tensor:
    """The target tensor for one batch of analysis frames.

    Args:
        target: VT, ST, OT or SOT.
        tags: video tags per frame ``(frames, G)`` in {0, 1} (VT).
        sound: sound-model probabilities ``(frames, G)`` (ST, SOT).
        objects: object-model maps ``(frames, G, h, w)`` (OT, SOT), on the action map's grid.
        v: sound threshold.
        u: object threshold.

    Returns:
        ``(frames, G)`` for VT/ST (compare with the max-pooled map) or ``(frames, G, h, w)`` for
        OT/SOT (compare per pixel).
    """
    if target is Target.VT:
        return _required(tags, "tags", target).to(torch.float32)
    if target is Target.ST:
        return binarize(_required(sound, "sound", target), v)
    object_target = binarize(_required(objects, "objects", target), u)
    if target is Target.OT:
        return object_target
    sound_target = binarize(_required(sound, "sound", target), v)
    return sound_target[:, :, None, None] * object_target


def _required(x: torch.Tensor | None, name: str, target: Target) -> torch.Tensor:
    if x is None:
        raise ValueError(f"target {target.value} needs the {name} teacher")
    return x
