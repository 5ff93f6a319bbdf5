"""Caches written before the zarr store (one zip per video and stream, one member per frame),
converted into stores with the same values: ``ipd convert-cache CACHE``.

A zip's ``meta.json`` becomes the store's ``meta``; its members (``logmel_<win>/<k>.npy`` float32,
``rgb/<k>.png``, ``flow/<i>.npy`` float16) become the arrays :mod:`ipd.features.extract` writes.
Members are read with ``allow_pickle=False``. A converted video reads exactly as the zip did
(tested); its store is what a fresh extraction writes, up to the audio's last bits where the zip
was made before log-mel ran on one BLAS thread.

Example:
    >>> report = convert_cache("cache")          # every */<video_id>.zip without a store
    >>> report.done, report.skipped, report.failed
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ipd.features import cache, flow

STREAM_OF_FOLDER = re.compile(r"^(audio|rgb|flow)-[0-9a-f]{12}$")


@dataclass
class ConvertReport:
    """Zips converted, skipped (a complete store exists) and failed (``(zip, reason)``)."""

    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def legacy_zips(cache_dir: str | Path) -> list[Path]:
    """The ``<stream>-<hash>/<video_id>.zip`` files of a local cache, sorted."""
    root = Path(cache_dir)
    folders = [p for p in sorted(root.iterdir()) if p.is_dir() and STREAM_OF_FOLDER.match(p.name)]
    return [z for folder in folders for z in sorted(folder.glob("*.zip"))
            if not z.name.startswith(".")]  # fmt: skip


def convert_cache(
    cache_dir: str | Path,
    delete: bool = False,
    advance: Callable[[str], None] | None = None,
) -> ConvertReport:
    """Convert every zip of ``cache_dir`` that has no complete store beside it.

    Args:
        cache_dir: a local cache folder.
        delete: remove each zip once its store is committed (and skipped zips whose store exists).
        advance: called with each zip's name when it is done (progress).
    """
    if not Path(cache_dir).is_dir():
        raise FileNotFoundError(f"{cache_dir}: no such cache folder")
    report = ConvertReport()
    for path in legacy_zips(cache_dir):
        target = path.with_suffix(cache.SUFFIX)
        if cache.is_fresh(target):
            report.skipped.append(path)
        else:
            try:
                convert_zip(path, target)
                report.done.append(path)
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
                report.failed.append((path, _reason(err)))
                continue
            finally:
                if advance is not None:
                    advance(path.name)
        if delete:
            path.unlink()
    return report


def convert_zip(path: str | Path, target: str | Path) -> None:
    """Write the store ``target`` with the contents of the feature zip ``path``.

    Raises:
        ValueError: the zip is incomplete (no ``meta.json``) or of an unknown stream.
    """
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        if "meta.json" not in names:
            raise ValueError("no meta.json: an incomplete zip")
        meta = json.loads(zf.read("meta.json"))
        stream = meta.get("stream")
        with cache.StoreWriter(target) as writer:
            if stream == "audio":
                for win in meta["windows"]:
                    rows = writer.logmel_rows(win)
                    for name in _members(names, f"logmel_{win}/", ".npy"):
                        rows.append(_npy(zf, name))
            elif stream == "rgb":
                rows = writer.rgb_rows(tuple(meta["frame_size"]))
                for name in _members(names, "rgb/", ".png"):
                    rows.append(_png(zf, name)[None])
            elif stream == "flow":
                rows = writer.flow_rows(tuple(meta["frame_size"]))
                for name in _members(names, "flow/", ".npy"):
                    rows.append(flow.to_counts(_npy(zf, name))[None])
            else:
                raise ValueError(f"unknown stream {stream!r} in meta.json")
            writer.meta = meta


def _members(names: set[str], prefix: str, suffix: str) -> list[str]:
    """``prefix<k>suffix`` members in order of ``k``; a gap means a damaged zip."""
    found = sorted(n for n in names if n.startswith(prefix) and n.endswith(suffix))
    expected = [f"{prefix}{k:06d}{suffix}" for k in range(len(found))]
    if found != expected:
        raise ValueError(f"members {prefix}* are not numbered 0 .. {len(found) - 1}")
    return found


def _npy(zf: zipfile.ZipFile, name: str) -> np.ndarray:
    with zf.open(name) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def _png(zf: zipfile.ZipFile, name: str) -> np.ndarray:
    data = np.frombuffer(zf.read(name), dtype=np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"{name}: not a readable PNG")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _reason(err: BaseException) -> str:
    if isinstance(err, zipfile.BadZipFile):
        return "not a readable zip file"
    if isinstance(err, OSError):
        return (err.strerror or str(err)).lower()
    return str(err)
