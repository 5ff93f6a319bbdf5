"""Files in and out: an input checked to be a readable regular file, and atomic writes (a file
is either absent, the old version, or the whole new version)."""

from __future__ import annotations

import os
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ipd.errors import InputError

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # zip member timestamps: the same input gives the same bytes


def check_input_file(
    path: str | Path, what: str = "file", error: type[InputError] = InputError
) -> Path:
    """``path`` if it is a non-empty regular file; else ``error`` with one line naming it.

    A folder, a pipe or a device given where a file is expected is refused before anything
    opens it (opening a FIFO would wait forever for a writer).

    Args:
        path: the input.
        what: what it should be, for the message (``video file``, ``checkpoint``).
        error: the :class:`InputError` subclass to raise.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except OSError as err:
        raise error(f"{path}: cannot be read ({err.strerror.lower()})") from None
    if stat.S_ISDIR(mode):
        raise error(f"{path}: a folder, not a {what}")
    if not stat.S_ISREG(mode):
        raise error(f"{path}: not a regular file (a pipe, socket or device), not a {what}")
    if path.stat().st_size == 0:
        raise error(f"{path}: empty file (0 bytes)")
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``.

    Write the whole file to the yielded path inside the ``with`` block. When the block raises
    (or the process is killed), ``path`` keeps its previous content and the temporary file is
    removed (a kill leaves a hidden ``.<name>.*.tmp`` file, never read). The new file gets the
    usual permissions (``0666`` minus the umask), not ``mkstemp``'s ``0600``: outputs are for
    sharing.

    Example::

        with atomic_path(out / "metrics.json") as tmp:
            tmp.write_text(text)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        name_the_file(err, path)
        raise


def name_the_file(err: BaseException, path: str | Path) -> None:
    """Raise an OSError that names no file (a write that filled the disk) again naming
    ``path``, so that the one-line message can say where; return for any other error."""
    if isinstance(err, OSError) and err.filename is None and err.errno is not None:
        raise OSError(err.errno, err.strerror, str(path)) from err


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_npz_atomic(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
    """``np.savez_compressed`` with fixed member timestamps, atomically: a rerun on the same
    input writes the same bytes (``np.savez`` stamps each member with the current time), and
    ``np.load`` reads it as usual."""
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
    return Path(path)
