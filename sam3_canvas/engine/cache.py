"""Embedding caches: a memory LRU bounded in bytes, and an optional disk cache in float16.

Encoding is the slow step (seconds on CPU for the real encoder); a prompt is tens of
milliseconds. The caches are keyed by (image content key, model identity), so the same photo
under another name hits, and another model or variant misses. Disk entries are written to a
temporary file and renamed into place, so a killed process or a full disk never leaves a half
entry that a later read would trust; a corrupt entry is deleted and treated as a miss.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

Embeddings = dict[str, np.ndarray]


def _nbytes(value: Embeddings) -> int:
    return sum(a.nbytes for a in value.values())


class MemoryLRU:
    """Least-recently-used map whose total size stays under ``max_bytes``."""

    def __init__(self, max_bytes: int):
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[str, Embeddings] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> Embeddings | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: str, value: Embeddings) -> None:
        size = _nbytes(value)
        with self._lock:
            if key in self._items:
                self._bytes -= _nbytes(self._items.pop(key))
            if size > self.max_bytes:
                return  # larger than the whole budget: never kept
            self._items[key] = value
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, old = self._items.popitem(last=False)
                self._bytes -= _nbytes(old)

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


class DiskCache:
    """Embeddings as float16 ``.npz`` files under ``root/<model>/<ab>/<image key>.npz``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def path(self, image_key: str, model_key: str) -> Path:
        return self.root / model_key / image_key[:2] / f"{image_key}.npz"

    def load(self, image_key: str, model_key: str, dtypes: dict[str, type]) -> Embeddings | None:
        path = self.path(image_key, model_key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                if set(data.files) != set(dtypes):
                    raise ValueError(f"entry holds {sorted(data.files)}")
                return {name: np.ascontiguousarray(data[name].astype(dtypes[name], copy=False))
                        for name in dtypes}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            log.warning("dropping unreadable cache entry %s: %s", path, exc)
            path.unlink(missing_ok=True)
            return None

    def save(self, image_key: str, model_key: str, value: Embeddings) -> bool:
        """Write one entry atomically; False (and nothing left behind) if the disk refuses."""
        path = self.path(image_key, model_key)
        tmp_name = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=path.parent)
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **{k: v.astype(np.float16) for k, v in value.items()})
            os.replace(tmp_name, path)
            return True
        except OSError as exc:
            log.warning("could not write cache entry %s: %s", path, exc)
            if tmp_name is not None:
                Path(tmp_name).unlink(missing_ok=True)
            return False


class EmbeddingCache:
    """Memory first, then disk; a disk hit is promoted to memory."""

    def __init__(self, max_bytes: int = 1 << 30, disk_dir: str | os.PathLike | None = None):
        self.memory = MemoryLRU(max_bytes)
        self.disk = DiskCache(disk_dir) if disk_dir else None

    def get(self, image_key: str, model_key: str,
            dtypes: dict[str, type]) -> tuple[Embeddings | None, str | None]:
        """(embeddings, "memory" | "disk") on a hit, (None, None) on a miss."""
        key = f"{model_key}:{image_key}"
        value = self.memory.get(key)
        if value is not None:
            return value, "memory"
        if self.disk is not None:
            value = self.disk.load(image_key, model_key, dtypes)
            if value is not None:
                self.memory.put(key, value)
                return value, "disk"
        return None, None

    def put(self, image_key: str, model_key: str, value: Embeddings) -> None:
        self.memory.put(f"{model_key}:{image_key}", value)
        if self.disk is not None:
            self.disk.save(image_key, model_key, value)

    def contains(self, image_key: str, model_key: str) -> bool:
        if f"{model_key}:{image_key}" in self.memory:
            return True
        return self.disk is not None and self.disk.path(image_key, model_key).is_file()
