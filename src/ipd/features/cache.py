"""The feature store: one zarr v3 group per video per stream, keyed by the stream's parameters.

Layout (``CACHE`` is a local folder or an fsspec URL: ``s3://bucket/cache``, ``memory://c``)::

    CACHE/
      audio-<hash>/params.json         the parameters the hash was made from
      audio-<hash>/<video_id>.zarr/    logmel_<win>: (mel frames, 128) float32
      rgb-<hash>/<video_id>.zarr/      rgb: (T, H, W, 3) uint8
      flow-<hash>/<video_id>.zarr/     flow: (4T + 1, 2, H, W) int16, 1/64 px per unit

Chunks hold one analysis frame (16 mel frames, one RGB frame, four flows) so that a sub-clip reads
only its frames; shards group 16 chunks into one file, so a video-minute is ~8 files per array, not
thousands. Compression is Blosc zstd (level 3, bit-shuffled for integers, byte-shuffled for
log-mel). Flows are the float16 values of :func:`ipd.features.flow.round_member`, which are all
multiples of 1/64 px: stored as int16 counts of 1/64 px they read back exactly.

A store is valid once its group's ``meta`` attribute is written, which happens last (the marker).
On a local disk the store is written under a temporary name (``.<video_id>.zarr.<pid>.tmp``) and
renamed into place; a killed run leaves only that folder, which is never read and is removed by the
next run. On object stores (no rename) the store is written in place and the marker alone says it
is complete. The same input and parameters give byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import fsspec
import numpy as np
import zarr
from fsspec.implementations.local import LocalFileSystem
from zarr.codecs import BloscCodec
from zarr.storage import FsspecStore, LocalStore

from ipd import timebase
from ipd.features.audio import N_MELS
from ipd.features.params import FLOW_STEPS_PER_PX, ExtractParams
from ipd.files import name_the_file, write_bytes_atomic

META = "meta"  # the group attribute written last: its presence marks a complete store
SUFFIX = ".zarr"
SHARD_CHUNKS = 16  # chunks (analysis frames) per shard file


def _fs(location: str | Path) -> tuple[fsspec.AbstractFileSystem, str]:
    return fsspec.core.url_to_fs(str(location))


def is_local(location: str | Path) -> bool:
    """Whether ``location`` is on the local file system (a path or a ``file://`` URL)."""
    return isinstance(_fs(location)[0], LocalFileSystem)


def location(where: str | Path) -> str | Path:
    """A URL stays a string; anything else becomes a Path."""
    return str(where) if "://" in str(where) else Path(where)


def join(location: str | Path, *names: str) -> str | Path:
    """``location/name/...``: a Path for local paths, a URL string otherwise."""
    if isinstance(location, Path) or "://" not in str(location):
        return Path(location).joinpath(*names)
    return "/".join([str(location).rstrip("/"), *names])


def stream_dir(cache_dir: str | Path, stream: str, params: ExtractParams) -> str | Path:
    """The folder of ``stream`` for ``params``; writes its ``params.json`` on first use."""
    folder = join(cache_dir, params.stream_key(stream))
    note = join(folder, "params.json")
    fs, path = _fs(note)
    if not fs.isfile(path):
        text = json.dumps(params.stream_params(stream), indent=2, sort_keys=True) + "\n"
        if is_local(note):
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(path, text.encode())
        else:
            fs.pipe_file(path, text.encode())
    return folder


def feature_path(
    cache_dir: str | Path, stream: str, video_id: str, params: ExtractParams
) -> str | Path:
    """Where the store of ``video_id``'s ``stream`` lives (whether or not it exists yet)."""
    if not video_id or "/" in video_id or "\\" in video_id or video_id.startswith("."):
        raise ValueError(f"video id {video_id!r} cannot be a file name")
    return join(cache_dir, params.stream_key(stream), video_id + SUFFIX)


def source_stamp(path: str | Path) -> dict:
    """Size and modification time of a source file: a changed video is re-extracted."""
    st = Path(path).stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def digest(location: str | Path) -> str:
    """SHA-256 over the names and bytes of every file of a store: equal digests, identical
    stores (reruns and executors are compared by it)."""
    fs, root = _fs(location)
    sha = hashlib.sha256()
    for name in sorted(fs.find(root)):
        sha.update(name[len(root) :].encode() + b"\0")
        sha.update(fs.cat_file(name))
    return sha.hexdigest()


def _zarr_store(location: str | Path, read_only: bool) -> zarr.abc.store.Store:
    if is_local(location):
        return LocalStore(_fs(location)[1], read_only=read_only)
    return FsspecStore.from_url(str(location), read_only=read_only)


def read_meta(location: str | Path) -> dict | None:
    """The ``meta`` of a complete store, or None when missing, incomplete or unreadable."""
    fs, path = _fs(location)
    try:
        group = json.loads(fs.cat_file(f"{path}/zarr.json"))
    except (OSError, ValueError):
        return None
    meta = group.get("attributes", {}).get(META)
    return meta if isinstance(meta, dict) else None


def is_fresh(location: str | Path, source: str | Path | None = None) -> bool:
    """True when the store is complete and (if given) made from ``source`` as it is now."""
    meta = read_meta(location)
    if meta is None:
        return False
    if source is None:
        return True
    recorded = meta.get("source", {})
    return all(recorded.get(k) == v for k, v in source_stamp(source).items())


def list_cached(cache_dir: str | Path, stream: str, params: ExtractParams) -> list[str]:
    """Video ids with a complete ``stream`` store for ``params``, sorted."""
    fs, folder = _fs(join(cache_dir, params.stream_key(stream)))
    if not fs.isdir(folder):
        return []
    names = [name.rstrip("/").rsplit("/", 1)[-1] for name in fs.ls(folder, detail=False)]
    stores = [n for n in names if n.endswith(SUFFIX) and not n.startswith(".")]
    return sorted(
        n[: -len(SUFFIX)] for n in stores if read_meta(f"{fs.unstrip_protocol(folder)}/{n}")
    )


def remove_stale_temps(folder: str | Path) -> list[Path]:
    """Delete (local) temporary stores and files left by killed runs (their process is gone).
    Returns them."""
    if not is_local(folder):
        return []
    removed = []
    for tmp in Path(_fs(folder)[1]).glob(".*.tmp"):
        pid = tmp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and _alive(int(pid)):
            continue  # another extraction is writing it right now
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
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


def _codec(dtype: np.dtype) -> BloscCodec:
    shuffle = "shuffle" if np.dtype(dtype).kind == "f" else "bitshuffle"
    return BloscCodec(cname="zstd", clevel=3, shuffle=shuffle, typesize=np.dtype(dtype).itemsize)


class Rows:
    """An array of the store written by appending rows (axis 0), one whole shard at a time.

    Rows are buffered until a shard is full, so every shard file is written once.
    """

    def __init__(self, array: zarr.Array, shard_rows: int) -> None:
        self.array, self.shard_rows = array, shard_rows
        self._pending: list[np.ndarray] = []
        self._buffered = 0

    def append(self, rows: np.ndarray) -> None:
        """Add ``(n, *row_shape)`` rows."""
        rows = np.asarray(rows, dtype=self.array.dtype)
        if rows.shape[1:] != self.array.shape[1:]:
            raise ValueError(f"rows of shape {rows.shape[1:]}, expected {self.array.shape[1:]}")
        self._pending.append(rows)
        self._buffered += len(rows)
        if self._buffered >= self.shard_rows:
            self._flush(whole_shards_only=True)

    def finish(self) -> None:
        self._flush(whole_shards_only=False)

    def _flush(self, whole_shards_only: bool) -> None:
        if not self._pending:
            return
        rows = np.concatenate(self._pending)
        cut = len(rows) - len(rows) % self.shard_rows if whole_shards_only else len(rows)
        if cut:
            start = self.array.shape[0]
            self.array.resize((start + cut, *self.array.shape[1:]))
            self.array[start : start + cut] = rows[:cut]
        self._pending = [rows[cut:]] if cut < len(rows) else []
        self._buffered = len(rows) - cut


class StoreWriter:
    """Write one video's store of one stream. Use as a context manager.

    On a clean exit the arrays are finished and the ``meta`` marker written (on a local disk:
    then the temporary folder renamed into place); on any exception (including
    KeyboardInterrupt) what was written is deleted and nothing is read as valid.

    Example:
        >>> with StoreWriter(feature_path(cache, "rgb", "vid", params)) as w:
        ...     frames = w.rows("rgb", (144, 256, 3), np.uint8, chunk_rows=1)
        ...     frames.append(batch)                           # (n, 144, 256, 3)
        ...     w.meta = {"num_frames": 118, ...}
    """

    def __init__(self, location: str | Path) -> None:
        self.location = location
        self.local = is_local(location)
        fs, path = _fs(location)
        self._fs, self._path = fs, path
        if self.local:
            final = Path(path)
            self._target = final.with_name(f".{final.name}.{os.getpid()}.tmp")
        else:
            self._target = path
        self.meta: dict | None = None
        self._rows: list[Rows] = []

    def __enter__(self) -> StoreWriter:
        if self.local:
            shutil.rmtree(self._target, ignore_errors=True)
            store = LocalStore(self._target)
        else:
            if self._fs.exists(self._path):
                self._fs.rm(self._path, recursive=True)
            store = _zarr_store(self.location, read_only=False)
        try:
            self.group = zarr.create_group(store, overwrite=True, zarr_format=3)
        except OSError as err:
            name_the_file(err, self.location)
            raise
        return self

    def rows(
        self, name: str, row_shape: tuple[int, ...], dtype, chunk_rows: int, attributes=None
    ) -> Rows:
        """A new array ``name`` of ``(0, *row_shape)`` to append rows to; chunks of
        ``chunk_rows`` rows, shards of :data:`SHARD_CHUNKS` chunks."""
        shard_rows = chunk_rows * SHARD_CHUNKS
        array = self.group.create_array(
            name,
            shape=(0, *row_shape),
            chunks=(chunk_rows, *row_shape),
            shards=(shard_rows, *row_shape),
            dtype=dtype,
            compressors=_codec(dtype),
            fill_value=0,
            attributes=attributes or {},
        )
        self._rows.append(Rows(array, shard_rows))
        return self._rows[-1]

    # The arrays of the three streams (the layout in the module docstring), for every writer.

    def logmel_rows(self, win: int) -> Rows:
        """``logmel_<win>``: ``(mel frames, 128)`` float32, one analysis frame per chunk."""
        return self.rows(f"logmel_{win}", (N_MELS,), np.float32, timebase.SOUND_STRIDE)

    def rgb_rows(self, frame_size: tuple[int, int]) -> Rows:
        """``rgb``: ``(T, H, W, 3)`` uint8, one frame per chunk."""
        return self.rows("rgb", (*frame_size, 3), np.uint8, 1)

    def flow_rows(self, frame_size: tuple[int, int]) -> Rows:
        """``flow``: ``(4T + 1, 2, H, W)`` int16 counts of 1/64 px (append
        :func:`ipd.features.flow.to_counts` of the members), four flows per chunk."""
        return self.rows(
            "flow", (2, *frame_size), np.int16, timebase.FLOW_FACTOR,
            {"unit_px": 1 / FLOW_STEPS_PER_PX},
        )  # fmt: skip

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self._commit()
                return
            except BaseException as err:
                self._discard()
                name_the_file(err, self.location)
                raise
        self._discard()

    def _commit(self) -> None:
        if self.meta is None:
            raise ValueError("a store needs its meta before it is committed")
        for rows in self._rows:
            rows.finish()
        self.group.attrs[META] = self.meta  # the marker: written last
        if self.local:
            _replace_folder(self._target, Path(self._path))

    def _discard(self) -> None:
        if self.local:
            shutil.rmtree(self._target, ignore_errors=True)
        elif self._fs.exists(self._path):
            self._fs.rm(self._path, recursive=True)


def _replace_folder(new: Path, final: Path) -> None:
    """Rename the folder ``new`` onto ``final``; an old ``final`` is moved aside first and deleted
    after, so a reader sees the old store, no store, or the new one, never a mixture."""
    old = final.with_name(f".{final.name}.{os.getpid()}.old.tmp")
    if final.exists():
        os.replace(final, old)
    os.replace(new, final)
    shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(final.parent)


class StoreReader:
    """Read one video's store of one stream; arrays are opened on first use (and again after a
    fork or unpickling: DataLoader workers)."""

    def __init__(self, location: str | Path) -> None:
        self.location = location
        meta = read_meta(location)
        if meta is None:
            raise FileNotFoundError(f"{location}: no complete feature store")
        self.meta = meta
        self._arrays: dict[str, zarr.Array] = {}
        self._pid = os.getpid()

    def array(self, name: str) -> zarr.Array:
        if self._pid != os.getpid():
            self._arrays, self._pid = {}, os.getpid()
        if name not in self._arrays:
            store = _zarr_store(self.location, read_only=True)
            self._arrays[name] = zarr.open_array(store, path=name, mode="r", zarr_format=3)
        return self._arrays[name]

    def rows(self, name: str, start: int, stop: int) -> np.ndarray:
        """Rows ``[start, stop)`` of array ``name`` (clipped to its length)."""
        return self.array(name)[start:stop]

    def close(self) -> None:
        self._arrays = {}

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_arrays": {}}


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
