"""Reading weight files safely: ``torch.load(weights_only=True)``, never a general unpickle.

Below both the project's networks (``VGGFCN.load_early_weights``) and the importer of the
authors' weights (:mod:`ipd.models.original`), so neither imports the other for it.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import Tensor

from ipd.errors import InputError
from ipd.files import check_input_file

CHECKPOINT_KEY = "state_dict.model"  # the authors' checkpoint wrapper
LIGHTNING_KEY = "state_dict"  # a Lightning checkpoint's weights


def load_weights_only(path: str | Path, what: str = "checkpoint") -> object:
    """``torch.load(path, weights_only=True)`` on the CPU, with one-line errors in our words.

    Only tensors, numbers, strings and containers of them load; a file that asks to build any
    other Python object (a foreign checkpoint, or a malicious pickle) is refused before anything
    in it runs.

    Args:
        path: the file.
        what: what the file should be, for the messages (``checkpoint``, ``tagger file``).

    Raises:
        InputError: missing, a folder, empty, refused (objects beyond weights), or not a PyTorch
            file (truncated or another kind of file).
    """
    path = check_input_file(path, what)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        found = re.search(r"Unsupported (?:global|class):? (?:GLOBAL )?([\w.]+)", str(err))
        if found:
            raise InputError(
                f"{path}: refused: the file asks to build Python objects ({found.group(1)}), "
                f"not only weights (a foreign or malicious file); nothing in it was run"
            ) from None
        raise InputError(f"{path}: not a PyTorch {what} (not a pickle of weights)") from None
    except Exception:  # torch raises zip, EOF, struct and runtime errors for broken files
        raise InputError(
            f"{path}: not a readable PyTorch {what} (truncated, or another kind of file)"
        ) from None


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """Read a state dict file with ``torch.load(weights_only=True)`` on the CPU.

    Unwraps the authors' ``{"state_dict.model": ...}`` checkpoints and Lightning checkpoints
    (``{"state_dict": ...}``, e.g. of ``ipd train pretrain``).

    Raises:
        InputError: missing file, not a PyTorch file, or not a mapping of names to tensors.
    """
    path = Path(path)
    obj = load_weights_only(path, "weights file")
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
