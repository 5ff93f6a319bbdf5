"""Decoded feature members kept in memory across epochs, in a bounded number of memory maps.

Training reads every member of a video again in every epoch; keeping the decoded arrays saves the
zip inflation (flow) or PNG decoding (RGB) of every later epoch. They are copied into anonymous
memory maps of ``CHUNK`` bytes, filled one after the other and dropped oldest first, and only
``(map, offset, dtype, shape)`` is kept per member, a view being made at each read. Kept as
thousands of arrays (or views) instead, their small C allocations, made among a training step's
large temporary tensors, pinned the C heap: the process grew by 1.5 GB per epoch while keeping
0.3 GB. A dropped map is returned to the system as soon as no view of it is left.
"""

from __future__ import annotations

import mmap
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

CHUNK = 64 * 2**20  # bytes per memory map
ALIGN = 64  # byte alignment of each kept array


class DecodedMembers:
    """A memory store of decoded members, at most ``max_bytes`` of maps (oldest map dropped first).

    Keys are ``(file, member)``; arrays come back read-only. A member larger than a map is
    returned without being kept. The store is per process: it is not pickled (DataLoader
    workers start with an empty one).
    """

    def __init__(self, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.max_bytes = max_bytes
        self.chunk = min(CHUNK, max_bytes)
        self._arrays: dict[tuple[str, str], tuple] = {}  # key -> (map, offset, dtype, shape)
        # map id -> (map, bytes used, keys stored in it); the last one is being filled
        self._maps: OrderedDict[int, tuple[mmap.mmap, int, list]] = OrderedDict()
        self._next_id = 0

    def get(self, key: tuple[str, str], decode: Callable[[], np.ndarray]) -> np.ndarray:
        """The array kept under ``key``, decoded (and kept, if it fits a map) on first use."""
        place = self._arrays.get(key)
        if place is not None:
            return _view(*place)
        array = decode()
        if array.nbytes > self.chunk:
            return array
        place = self._place(array.nbytes, array.dtype, array.shape, key)
        kept = _view(*place, writeable=True)
        kept[...] = array
        self._arrays[key] = place
        kept.flags.writeable = False
        return kept

    def _place(self, nbytes: int, dtype: np.dtype, shape: tuple, key) -> tuple:
        """Where an array of ``nbytes`` goes: ``(map, offset, dtype, shape)`` in the map being
        filled (a new map when it is full)."""
        if self._maps:
            map_id = next(reversed(self._maps))
            buffer, used, keys = self._maps[map_id]
            start = -(-used // ALIGN) * ALIGN
        if not self._maps or start + nbytes > self.chunk:
            while self._maps and (len(self._maps) + 1) * self.chunk > self.max_bytes:
                self._drop_oldest()
            map_id, self._next_id = self._next_id, self._next_id + 1
            buffer, start, keys = mmap.mmap(-1, self.chunk, flags=mmap.MAP_PRIVATE), 0, []
        keys.append(key)
        self._maps[map_id] = (buffer, start + nbytes, keys)
        return buffer, start, dtype, shape

    def _drop_oldest(self) -> None:
        _, (_, _, keys) = self._maps.popitem(last=False)
        for key in keys:
            del self._arrays[key]

    @property
    def nbytes(self) -> int:
        """Bytes of the kept arrays."""
        return sum(
            dtype.itemsize * int(np.prod(shape)) for _, _, dtype, shape in self._arrays.values()
        )

    def __len__(self) -> int:
        return len(self._arrays)

    def __getstate__(self) -> dict:
        return {"max_bytes": self.max_bytes}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["max_bytes"])


def _view(
    buffer: mmap.mmap, offset: int, dtype: np.dtype, shape: tuple, writeable: bool = False
) -> np.ndarray:
    """The array at ``offset`` of a map (a new view at each read, see the module docstring)."""
    count = int(np.prod(shape))
    view = np.frombuffer(buffer, dtype=dtype, count=count, offset=offset).reshape(shape)
    view.flags.writeable = writeable
    return view
