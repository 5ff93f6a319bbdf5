"""Fusion after training (SPEC 6, §4.1.3): point-wise products of trained outputs.

``A x O`` multiplies the action and object maps pixel by pixel; ``A x S`` multiplies every pixel of
class ``g`` at frame ``t`` by the sound score ``S[t, g]`` (S broadcast over space), as the authors'
``pred * inst * so[:, :, None, None]``. The same product gives the ``Sound x Object`` baseline
(``fuse(object, sound)``). Frames are aligned by timestamp on the first prediction's times.
Maps on another grid (a model run at another frame size) are resampled bilinearly onto the first
prediction's grid. A class a model does not cover (a NaN column of ``scores``, e.g. Accordion for
the MagnaTagATune tagger) multiplies by 1: the product keeps the other models' evidence for it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ipd.errors import InputError
from ipd.evaluation.action import upsample
from ipd.evaluation.predictions import Prediction, match_frames, validate


def fuse(first: Prediction, *others: Prediction, source: str | None = None) -> Prediction:
    """Point-wise product of predictions of one video, on the frames of ``first``.

    Args:
        first: the prediction whose frames (times) the result keeps, e.g. the action model's.
        *others: object predictions (``maps``, same ``(h, w)`` as ``first``) and/or sound
            predictions (``scores`` only, broadcast over space).
        source: provenance of the result (default: the sources joined with `` x ``).

    Returns:
        A prediction with ``maps (T, G, h, w)`` when any input has maps, else ``scores (T, G)``.

    Raises:
        InputError: different videos or label orders, map sizes that differ, or a frame of
            ``first`` with no frame of another input within half an analysis period.
    """
    validate(first)
    product = _values(first)
    map_size = first.maps.shape[2:] if first.maps is not None else None
    for other in others:
        validate(other)
        if other.video_id != first.video_id:
            raise InputError(f"{other.where}: video {other.video_id!r}, not {first.video_id!r}")
        if tuple(n.lower() for n in other.label_names) != tuple(
            n.lower() for n in first.label_names
        ):
            raise InputError(
                f"{other.where}: labels {other.label_names} differ from {first.label_names} "
                f"of {first.where}"
            )
        index = match_frames(other.times, first.times, other.where)
        value = _values(other)[index]
        if other.maps is not None:
            if map_size is not None and value.shape[2:] != map_size:
                # Models run at other frame sizes (e.g. the object model at 256 px, the action
                # model at 128 px): resample onto the first map's grid, bilinearly with the
                # corners aligned, as the evaluation upsamples maps to the frame.
                t, g = value.shape[:2]
                flat = upsample(value.reshape(t * g, *value.shape[2:]), *map_size)
                value = flat.reshape(t, g, *map_size)
            map_size = value.shape[2:]
        product = _broadcast(product) * _broadcast(value)
    spatial = any(p.maps is not None for p in (first, *others))
    if not spatial and product.ndim == 4:
        product = product[:, :, 0, 0]  # scores x scores: back to (T, G)
    product = product.astype(np.float32)
    # The product's cells are those of the first input with maps (the others were resampled).
    mapped = next((p for p in (first, *others) if p.maps is not None), None)
    placed = mapped is not None and product.ndim == 4
    return Prediction(
        video_id=first.video_id,
        times=first.times,
        label_names=first.label_names,
        source=source or " x ".join(p.source for p in (first, *others)),
        maps=product if product.ndim == 4 else None,
        scores=product if product.ndim == 2 else None,
        grid=mapped.grid if placed else None,
    )


def fuse_all(
    first: Mapping[str, Prediction],
    *others: Mapping[str, Prediction],
    source: str | None = None,
) -> dict[str, Prediction]:
    """:func:`fuse` for every video of ``first`` (each other mapping must hold those videos)."""
    fused = {}
    for vid, pred in first.items():
        parts = []
        for other in others:
            if vid not in other:
                raise InputError(f"{pred.where}: no matching prediction of video {vid} to fuse")
            parts.append(other[vid])
        fused[vid] = fuse(pred, *parts, source=source)
    return fused


def _values(pred: Prediction) -> np.ndarray:
    """Maps when present (spatial models), else scores (the sound model; uncovered -> 1)."""
    if pred.maps is not None:
        return pred.maps
    return np.where(np.isnan(pred.scores), np.float32(1.0), pred.scores)


def _broadcast(x: np.ndarray) -> np.ndarray:
    """``(T, G)`` scores as ``(T, G, 1, 1)`` so they scale every pixel of their class."""
    return x[:, :, None, None] if x.ndim == 2 else x
