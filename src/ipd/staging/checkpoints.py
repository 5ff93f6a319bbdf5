"""Loading trained systems back from their checkpoints (weights-only, never unpickling code)."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Mapping
from pathlib import Path

from ipd.errors import InputError
from ipd.features.params import ExtractParams
from ipd.models.weights_io import load_weights_only
from ipd.systems.sound import SoundTagger
from ipd.systems.video import ActionLocaliser, ObjectLocaliser

SYSTEMS = (SoundTagger, ObjectLocaliser, ActionLocaliser)


def checkpoint_identity(path: str | Path) -> str:
    """``<path>#sha256:<16 hex>``: what teacher and prediction files record as their source."""
    path = Path(path)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"{path.resolve()}#sha256:{digest.hexdigest()[:16]}"


def load_system(cls: type, path: str | Path):
    """``cls.load_from_checkpoint`` on CPU with ``weights_only=True``, in eval mode.

    A network configured with ``pretrained_early`` (the file Conv1-5 started from) is rebuilt
    without it: the checkpoint holds all weights, so that file need not exist any more.

    Raises:
        InputError (one line): missing, unreadable or refused file (:func:`load_weights_only`),
            not a Lightning checkpoint, a checkpoint of another model (named), or weights that do
            not fit.
    """
    path = Path(path)
    checkpoint = read_checkpoint(path)
    found = system_of(checkpoint)
    if found is not None and found is not cls:
        raise InputError(
            f"{path}: a checkpoint of the {found.role} ({found.__name__}), "
            f"not of the {cls.role} ({cls.__name__})"
        )
    try:
        system = cls.load_from_checkpoint(
            path, map_location="cpu", weights_only=True, **_without_pretrained(checkpoint)
        )
    except Exception as err:  # Lightning/jsonargparse raise many types for a wrong file
        reason = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise InputError(f"{path}: does not load as the {cls.role} ({reason})") from err
    return system.eval()


def read_checkpoint(path: str | Path) -> dict:
    """A Lightning checkpoint of ``ipd train`` (weights only), checked for its two parts.

    Raises:
        InputError: as :func:`load_weights_only`, or a weights file that is not such a checkpoint
            (e.g. the authors' released weights, which take the ``--original-*`` options).
    """
    checkpoint = load_weights_only(path)
    if not isinstance(checkpoint, Mapping) or "state_dict" not in checkpoint:
        raise InputError(
            f"{path}: not a checkpoint of `ipd train` (no Lightning state_dict; the authors' "
            f"released weights load with `ipd detect --original-*`)"
        )
    return dict(checkpoint)


def system_of(checkpoint: Mapping) -> type | None:
    """The system a checkpoint was saved from, told by its hyper-parameter names (None when
    they fit no system, or several)."""
    names = {k for k in checkpoint.get("hyper_parameters") or {} if not k.startswith("_")}
    fits = [
        cls for cls in SYSTEMS if names and names <= set(inspect.signature(cls.__init__).parameters)
    ]
    return fits[0] if len(fits) == 1 else None


def _without_pretrained(checkpoint: Mapping) -> dict:
    """``{"net": config}`` with ``pretrained_early`` cleared, or ``{}`` when it is not set."""
    net = (checkpoint.get("hyper_parameters") or {}).get("net")
    if not isinstance(net, dict) or not (net.get("init_args") or {}).get("pretrained_early"):
        return {}
    return {"net": {**net, "init_args": {**net["init_args"], "pretrained_early": None}}}


def extract_params_of(path: str | Path) -> ExtractParams:
    """The feature-extraction settings a checkpoint was trained on (from its datamodule hparams)."""
    data = read_checkpoint(path).get("datamodule_hyper_parameters") or {}
    kwargs = {k: data[k] for k in ("windows", "size", "flow") if k in data}
    if "windows" in kwargs:
        kwargs["windows"] = tuple(kwargs["windows"])
    return ExtractParams(**kwargs)
