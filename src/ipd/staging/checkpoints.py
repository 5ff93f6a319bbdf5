"""Loading trained systems back from their checkpoints (weights-only, never unpickling code)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from ipd.errors import InputError
from ipd.features.params import ExtractParams


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
        InputError: missing or unreadable checkpoint, or one of another system class.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: checkpoint not found")
    try:
        system = cls.load_from_checkpoint(
            path, map_location="cpu", weights_only=True, **_without_pretrained(path)
        )
    except Exception as err:  # Lightning/jsonargparse raise many types for a wrong file
        raise InputError(f"{path}: not a {cls.__name__} checkpoint ({err})") from err
    return system.eval()


def _without_pretrained(path: Path) -> dict:
    """``{"net": config}`` with ``pretrained_early`` cleared, or ``{}`` when it is not set."""
    hparams = torch.load(path, map_location="cpu", weights_only=True).get("hyper_parameters")
    net = (hparams or {}).get("net")
    if not isinstance(net, dict) or not (net.get("init_args") or {}).get("pretrained_early"):
        return {}
    return {"net": {**net, "init_args": {**net["init_args"], "pretrained_early": None}}}


def extract_params_of(path: str | Path) -> ExtractParams:
    """The feature-extraction settings a checkpoint was trained on (from its datamodule hparams)."""
    ckpt = torch.load(Path(path), map_location="cpu", weights_only=True)
    data = ckpt.get("datamodule_hyper_parameters") or {}
    kwargs = {k: data[k] for k in ("windows", "size", "flow") if k in data}
    if "windows" in kwargs:
        kwargs["windows"] = tuple(kwargs["windows"])
    return ExtractParams(**kwargs)
