"""Paper-width models in the authors' release format, with random weights (same cost as theirs).

The authors' action and object weights are not in the reference data, so the benchmark writes
state dicts of their layout (``ipd.models.original`` shapes) with Xavier-uniform weights, zero
biases and identity batch norms, plus the scalers folder the sound model needs. ``ipd detect
--original-*`` and the reference pipeline load the same files.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from ipd.models.original import original_sound_shapes, original_vgg_shapes

WINDOWS = (512, 2048, 8192)  # the released sound model's scales


def write_models(folder: Path, seed: int = 0) -> dict[str, Path]:
    """Write ``action.torch``, ``object.torch``, ``sound.torch`` and ``scalers/`` into ``folder``.

    Returns:
        ``{"action", "object", "sound", "scalers"}`` paths.
    """
    folder.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    shapes = {
        "action": original_vgg_shapes(10),
        "object": original_vgg_shapes(3),
        "sound": original_sound_shapes()[0],
    }
    paths = {}
    for role, layout in shapes.items():
        state = {key: _init(key, shape, gen) for key, shape in layout.items()}
        paths[role] = folder / f"{role}.torch"
        torch.save(state, paths[role])
    scalers = folder / "scalers"
    scalers.mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    for win in WINDOWS:
        np.save(scalers / f"logmel_win{win}_mean.npy", rng.normal(1.0, 0.3, 128).astype(np.float32))
        np.save(scalers / f"logmel_win{win}_std.npy", rng.uniform(0.5, 1.5, 128).astype(np.float32))
    np.save(scalers / "mean_image.RGB.npy", np.array([123.51, 115.77, 102.72], dtype=np.float32))
    paths["scalers"] = scalers
    return paths


def _init(key: str, shape: tuple[int, ...], gen: torch.Generator) -> torch.Tensor:
    """Xavier-uniform conv weights, zero biases, identity batch-norm statistics."""
    if key.endswith("running_var") or (key.startswith(("bn", "fbn")) and key.endswith("weight")):
        return torch.ones(shape)
    if len(shape) == 4:  # a convolution's weight (out, in, kh, kw)
        fan_in = shape[1] * shape[2] * shape[3]
        fan_out = shape[0] * shape[2] * shape[3]
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        return (torch.rand(shape, generator=gen) * 2 - 1) * bound
    return torch.zeros(shape)
