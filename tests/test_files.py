"""Atomic writes: the old file or the whole new one, never a half-written file or a stray temp."""

from __future__ import annotations

import os
import stat

import pytest

from ipd.files import atomic_path, write_bytes_atomic, write_text_atomic


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "metrics.json"
    write_text_atomic(path, "old\n")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half of the new")
        raise RuntimeError("killed")
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_a_write_replaces_the_file_with_shareable_permissions(tmp_path):
    path = tmp_path / "sub" / "image.jpg"  # the folder is made
    old = os.umask(0o022)
    try:
        write_bytes_atomic(path, b"\xff\xd8")
    finally:
        os.umask(old)
    assert path.read_bytes() == b"\xff\xd8"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    write_bytes_atomic(path, b"new")
    assert path.read_bytes() == b"new" and len(list(path.parent.iterdir())) == 1
