"""Reading weight files safely: ``torch.load(weights_only=True)``, never a general unpickle.

Below both the project's networks (``VGGFCN.load_early_weights``) and the importer of the
authors' weights (:mod:`ipd.models.original`), so neither imports the other for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor

from ipd.errors import InputError

CHECKPOINT_KEY = "state_dict.model"  # the authors' checkpoint wrapper
LIGHTNING_KEY = "state_dict"  # a Lightning checkpoint's weights


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """Read a state dict file with ``torch.load(weights_only=True)`` on the CPU.

    Unwraps the authors' ``{"state_dict.model": ...}`` checkpoints and Lightning checkpoints
    (``{"state_dict": ...}``, e.g. of ``ipd train pretrain``).

    Raises:
        InputError: missing file, not a PyTorch file, or not a mapping of names to tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises pickle, zip and runtime errors for foreign files
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise InputError(f"{path}: not a PyTorch state dict ({reason})") from err
    for wrapper in (CHECKPOINT_KEY, LIGHTNING_KEY):
        if isinstance(obj, Mapping) and wrapper in obj:
            obj = obj[wrapper]
    if not isinstance(obj, Mapping):
        raise InputError(f"{path}: not a state dict (a {type(obj).__name__})")
    for key, value in obj.items():
        if not isinstance(key, str) or not isinstance(value, Tensor):
            raise InputError(
                f"{path}: not a state dict (entry {key!r} is a {type(value).__name__})"
            )
    return dict(obj)
