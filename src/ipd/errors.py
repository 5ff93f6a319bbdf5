"""Errors a user can fix. The CLI prints their message as one line and exits non-zero."""

from __future__ import annotations

import errno
from pathlib import Path

# OSErrors of the place written to or read from (not of the program): one line, like bad input
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}
DENIED_ERRNOS = {errno.EACCES, errno.EPERM}


class InputError(ValueError):
    """Bad input (missing file, not a video, no frames, ...). The message names the file."""


def _temporary(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")


def output_problem(err: OSError) -> str | None:
    """One line for a full disk, a quota, a read-only folder or a denied permission (None for
    other errors): the file or folder (not the hidden temporary file) and the reason."""
    if err.errno not in WRITE_ERRNOS | DENIED_ERRNOS:
        return None
    where = Path(err.filename) if err.filename else None
    if where is not None:  # a hidden temporary file or store: name the folder it is written in
        hidden = [i for i, part in enumerate(where.parts) if _temporary(part)]
        if hidden:
            where = Path(*where.parts[: hidden[0]])
    reason = (err.strerror or type(err).__name__).lower()
    if err.errno in DENIED_ERRNOS:  # reading or writing: say only what the system said
        return f"{where or 'a file'}: {reason}; nothing half-written was kept"
    return f"{where or 'output'}: cannot write ({reason}); nothing half-written was kept"
