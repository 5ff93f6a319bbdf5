"""The feature cache: one zip per video per stream, keyed by the stream's parameters.

Layout::

    CACHE/
      audio-<hash>/params.json        the parameters the hash was made from
      audio-<hash>/<video_id>.zip     meta.json + logmel_<win>/<k>.npy (16 mel frames, float32)
      rgb-<hash>/<video_id>.zip       meta.json + rgb/<k>.png (one analysis frame each)
      flow-<hash>/<video_id>.zip      meta.json + flow/<i>.npy (one flow each, float16, deflated)

Members are small, so reading a sub-clip opens only its members. Writes are atomic: a zip is
written under a temporary name, fsynced, then renamed (``os.replace``); a killed run leaves only a
``.<video_id>.zip.<pid>.tmp`` file, which is never read and is removed by the next run. Member
timestamps are fixed so that the same input and parameters give byte-identical files.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from ipd.features.memory import DecodedMembers
from ipd.features.params import ExtractParams
from ipd.files import ZIP_TIME, name_the_file

# zlib level 3: on flow, 7% larger than the default level 6 at half its time (which otherwise
# costs as much as the Farneback flow itself).
DEFLATE_LEVEL = 3
META = "meta.json"


def stream_dir(cache_dir: str | Path, stream: str, params: ExtractParams) -> Path:
    """The folder of ``stream`` for ``params``; writes its ``params.json`` on first use."""
    folder = Path(cache_dir) / params.stream_key(stream)
    note = folder / "params.json"
    if not note.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(params.stream_params(stream), indent=2, sort_keys=True) + "\n"
        _atomic_write_bytes(note, text.encode())
    return folder


def feature_path(cache_dir: str | Path, stream: str, video_id: str, params: ExtractParams) -> Path:
    """Where the zip of ``video_id``'s ``stream`` lives (whether or not it exists yet)."""
    if not video_id or "/" in video_id or "\\" in video_id or video_id.startswith("."):
        raise ValueError(f"video id {video_id!r} cannot be a file name")
    return Path(cache_dir) / params.stream_key(stream) / f"{video_id}.zip"


def source_stamp(path: str | Path) -> dict:
    """Size and modification time of a source file: a changed video is re-extracted."""
    st = Path(path).stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def read_meta(path: str | Path) -> dict | None:
    """The ``meta.json`` of a finished zip, or None when missing or unreadable."""
    try:
        with zipfile.ZipFile(path) as zf:
            return json.loads(zf.read(META))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return None


def is_fresh(path: str | Path, source: str | Path | None = None) -> bool:
    """True when the zip is complete and (if given) made from ``source`` as it is now."""
    meta = read_meta(path)
    if meta is None:
        return False
    if source is None:
        return True
    recorded = meta.get("source", {})
    return all(recorded.get(k) == v for k, v in source_stamp(source).items())


def list_cached(cache_dir: str | Path, stream: str, params: ExtractParams) -> list[str]:
    """Video ids with a finished ``stream`` for ``params``, sorted."""
    folder = Path(cache_dir) / params.stream_key(stream)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.zip") if not p.name.startswith("."))


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Delete temporary files left by killed runs (their process is gone). Returns them."""
    removed = []
    for tmp in Path(folder).glob(".*.tmp"):
        pid = tmp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and _alive(int(pid)):
            continue  # another extraction is writing it right now
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ZipWriter:
    """Write one feature zip atomically. Use as a context manager.

    On a clean exit the zip is fsynced and renamed into place; on any exception (including
    KeyboardInterrupt) the temporary file is deleted and nothing appears under the final name.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")

    def __enter__(self) -> ZipWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self.tmp, "wb")  # noqa: SIM115 - closed in __exit__
        self.zf = zipfile.ZipFile(self.file, "w")
        return self

    def add_bytes(self, name: str, data: bytes, compress: bool = True) -> None:
        info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        try:
            self.zf.writestr(info, data, compresslevel=DEFLATE_LEVEL if compress else None)
        except OSError as err:
            name_the_file(err, self.path)
            raise

    def add_array(self, name: str, array: np.ndarray, compress: bool = True) -> None:
        """Store ``array`` as a ``.npy`` member."""
        buf = io.BytesIO()
        np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
        self.add_bytes(name, buf.getvalue(), compress)

    def add_png(self, name: str, rgb: np.ndarray) -> None:
        """Store an ``(H, W, 3)`` uint8 RGB image losslessly as PNG (smaller than deflated npy)."""
        ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        if not ok:
            raise RuntimeError(f"{self.path}: PNG encoding of {name} failed")
        self.add_bytes(name, data.tobytes(), compress=False)

    def add_json(self, name: str, obj: dict) -> None:
        self.add_bytes(name, (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode())

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._close(sync=exc_type is None)
        except BaseException as err:
            self.tmp.unlink(missing_ok=True)  # e.g. the disk filled up while closing
            if exc_type is None:
                name_the_file(err, self.path)
                raise
            return  # the error that stopped the writing is the one to report
        if exc_type is not None:
            self.tmp.unlink(missing_ok=True)
            return
        os.replace(self.tmp, self.path)
        _fsync_dir(self.path.parent)

    def _close(self, sync: bool) -> None:
        try:
            self.zf.close()
            if sync:
                self.file.flush()
                os.fsync(self.file.fileno())
        finally:
            self.file.close()


class ZipReader:
    """Read members of a feature zip; reopens itself after a fork (DataLoader workers).

    With ``decoded`` (shared by the readers of a dataset), decoded members are kept in memory.
    """

    def __init__(self, path: str | Path, decoded: DecodedMembers | None = None) -> None:
        self.path = Path(path)
        self.decoded = decoded
        self._zf: zipfile.ZipFile | None = None
        self._pid = -1
        self.meta = json.loads(self.zip.read(META))

    @property
    def zip(self) -> zipfile.ZipFile:
        if self._zf is None or self._pid != os.getpid():
            self._zf, self._pid = zipfile.ZipFile(self.path), os.getpid()
        return self._zf

    def _kept(self, name: str, decode: Callable[[str], np.ndarray]) -> np.ndarray:
        if self.decoded is None:
            return decode(name)
        return self.decoded.get((str(self.path), name), lambda: decode(name))

    def array(self, name: str) -> np.ndarray:
        """A ``.npy`` member (read-only when kept in memory)."""
        return self._kept(name, self._read_array)

    def png(self, name: str) -> np.ndarray:
        """A ``.png`` member as ``(H, W, 3)`` uint8 RGB (read-only when kept in memory)."""
        return self._kept(name, self._read_png)

    def _read_array(self, name: str) -> np.ndarray:
        with self.zip.open(name) as f:
            return np.lib.format.read_array(f, allow_pickle=False)

    def _read_png(self, name: str) -> np.ndarray:
        data = np.frombuffer(self.zip.read(name), dtype=np.uint8)
        return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        if self._zf is not None and self._pid == os.getpid():
            self._zf.close()
        self._zf = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_zf": None, "_pid": -1}


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
