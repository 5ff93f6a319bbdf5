"""A full disk and a read-only output folder: one line naming where and why, exit status 2,
and nothing half-written left behind. The folders are small tmpfs mounts (root, as in CI); where
mounting is not allowed the test is skipped with the reason. Also the real ``ipd`` executable:
no traceback for expected problems, ``--debug`` shows it."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import REPO


@contextmanager
def mounted(tmp_path: Path, options: str) -> Iterator[Path]:
    """A fresh tmpfs at a new folder under ``tmp_path``, unmounted afterwards."""
    point = tmp_path / f"mnt-{uuid.uuid4().hex[:8]}"
    point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not root'})")
    try:
        yield point
    finally:
        subprocess.run(["umount", str(point)], check=True)


def _leftovers(folder: Path) -> list[Path]:
    """Files under ``folder`` other than the stream folders' params.json."""
    return [p for p in folder.rglob("*") if p.is_file() and p.name != "params.json"]


def test_a_full_disk_is_one_line_and_leaves_nothing(media, ipd, tmp_path):
    with mounted(tmp_path, "size=64k") as disk:
        ran = ipd("extract", media["good"], "--cache", disk / "cache", "--size", 128)
        line = ran.one_line_error()
        assert line.startswith(f"error: {disk / 'cache'}/")
        assert line.endswith(
            "cannot write (no space left on device); nothing half-written was kept"
        )
        assert _leftovers(disk) == []  # no store, no hidden temporary one
        batch = ipd("extract", media["good"], media["silent_audio"], "--cache", disk / "cache",
                    "--size", 128, "--no-progress")  # fmt: skip
        assert batch.code == 1 and "skipped 2 of 2 video(s):" in batch.err
        assert batch.err.count("cannot write (no space left on device)") == 2
        assert _leftovers(disk) == []


def test_a_read_only_output_folder_is_one_line(media, ipd, tiny_ckpts, tmp_path):
    with mounted(tmp_path, "ro,size=1m") as folder:
        line = ipd("extract", media["good"], "--cache", folder / "cache").one_line_error()
        assert line == (
            f"error: {folder / 'cache'}: cannot write (read-only file system); "
            "nothing half-written was kept"
        )
        out = folder / "detections"
        line = ipd("detect", media["good"], "--out", out, "--action", tiny_ckpts["action"],
                   "--no-video").one_line_error()  # fmt: skip
        assert "cannot write (read-only file system)" in line
        assert list(folder.iterdir()) == []


def test_the_executable_prints_no_traceback_and_debug_does(media):
    def ipd(*argv):
        return subprocess.run([sys.executable, "-m", "ipd.cli.main", *map(str, argv)], cwd=REPO,
                              capture_output=True, text=True)  # fmt: skip

    done = ipd("extract", media["zero_bytes"], "--cache", media["zero_bytes"].parent / "c")
    assert done.returncode == 2
    assert done.stderr == f"error: {media['zero_bytes']}: empty file (0 bytes)\n"
    debug = ipd("--debug", "extract", media["zero_bytes"], "--cache", "c")
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.rstrip().endswith(
        f"InputError: {media['zero_bytes']}: empty file (0 bytes)"
    )


def test_the_one_line_names_the_folder_not_the_temporary_file():
    import errno

    from ipd.errors import output_problem

    full = OSError(errno.ENOSPC, "No space left on device", "/c/rgb-1/.v.zip.77.tmp")
    assert output_problem(full) == (
        "/c/rgb-1: cannot write (no space left on device); nothing half-written was kept"
    )
    chunk = OSError(errno.ENOSPC, "No space left on device", "/c/rgb-1/.v.zarr.77.tmp/rgb/c/0")
    assert output_problem(chunk) == output_problem(full)  # a chunk of a store being written
    denied = OSError(errno.EACCES, "Permission denied", "/c/x.json")
    assert output_problem(denied) == "/c/x.json: permission denied; nothing half-written was kept"
    assert output_problem(OSError(errno.EIO, "Input/output error", "/c/x")) is None
