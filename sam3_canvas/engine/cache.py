"""Embedding caches: a memory LRU bounded in bytes, and an optional disk cache in float16.

Encoding is the slow step (seconds on CPU for the real encoder); a prompt is tens of
milliseconds. The caches are keyed by (image content key, model identity), so the same photo
under another name hits, and another model or variant misses. Disk entries are written to a
temporary file and renamed into place, so a killed process or a full disk never leaves a half
entry that a later read would trust; a corrupt entry is deleted and treated as a miss. The
disk cache keeps its total size under a bound (2 GiB by default), least recently read out
first, even when several processes share the folder.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import sys
import threading
import time
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

Embeddings = dict[str, np.ndarray]

#: default bound of the disk cache (2 GiB): about 200 images for the tracker, 35 for a
#: text pack
DEFAULT_DISK_CACHE_BYTES = 2 << 30


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


class _FolderLock:
    """An exclusive lock between processes on one small file (``flock``; ``msvcrt`` on
    Windows). The file's text is the folder's generation: whoever changes the set of entries
    writes a new one, so another process sees that its index may be stale."""

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> _FolderLock:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o666)
        try:
            if sys.platform == "win32":
                import msvcrt
                os.lseek(self.fd, 0, os.SEEK_SET)
                msvcrt.locking(self.fd, msvcrt.LK_LOCK, 1)  # retries 10 s, then OSError
            else:
                import fcntl
                fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(self.fd)
            self.fd = None
            raise
        return self

    def __exit__(self, *exc) -> None:
        assert self.fd is not None
        try:
            if sys.platform == "win32":
                import msvcrt
                os.lseek(self.fd, 0, os.SEEK_SET)
                msvcrt.locking(self.fd, msvcrt.LK_UNLCK, 1)
            else:
                import fcntl
                fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)
            self.fd = None

    @property
    def _held(self) -> int:
        if self.fd is None:
            raise RuntimeError("the folder lock is not held")
        return self.fd

    def generation(self) -> str:
        os.lseek(self._held, 0, os.SEEK_SET)
        return os.read(self._held, 256).decode("ascii", "replace")

    def bump(self) -> str:
        token = f"{os.getpid()}-{time.time_ns()}-{secrets.token_hex(4)}"
        os.lseek(self._held, 0, os.SEEK_SET)
        os.ftruncate(self._held, 0)
        os.write(self._held, token.encode("ascii"))
        return token


class DiskCache:
    """Embeddings as float16 ``.npz`` files under ``root/<model>/<ab>/<image key>.npz``, their
    total size kept under ``max_bytes``, least recently used out first.

    A read touches the entry's mtime (atime is unreliable), so the mtime is its last use. An
    in-memory index (path -> size, last use) is built by one scan of the folder on the first
    write and kept up to date by this object's writes, reads and evictions, so a write costs
    no folder walk. Writers take a lock file in the folder and leave a new generation in it;
    a writer that finds another process's generation scans again before evicting, so the bound
    holds for any number of processes sharing the folder. The scan also removes temporary
    files (``.tmp-*``) that a killed write left, once they are a minute old. An entry larger
    than the whole budget is not written (but a lowered bound is enforced then: see
    :meth:`trim`); ``max_bytes <= 0`` writes (and reads) nothing.
    """

    LOCK_NAME = ".lock"
    TEMP_PREFIX = ".tmp-"
    STALE_TEMP_S = 60.0

    def __init__(self, root: str | os.PathLike, max_bytes: int = DEFAULT_DISK_CACHE_BYTES):
        self.root = Path(root)
        self.max_bytes = int(max_bytes)
        self._index: OrderedDict[Path, list[int]] | None = None  # path -> [size, last use ns]
        self._total = 0
        self._generation: str | None = None
        self._lock = threading.RLock()
        self._warned = False

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0

    @property
    def nbytes(self) -> int:
        """The entries' total size as this object last knew it (after a scan or a write)."""
        return self._total

    def path(self, image_key: str, model_key: str) -> Path:
        return self.root / model_key / image_key[:2] / f"{image_key}.npz"

    def _warn(self, message: str, *args) -> None:
        (log.debug if self._warned else log.warning)(message, *args)
        self._warned = True

    # -- reading ------------------------------------------------------------------------
    def load(self, image_key: str, model_key: str, dtypes: Mapping[str, Any]) -> Embeddings | None:
        if not self.enabled:
            return None
        path = self.path(image_key, model_key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                if set(data.files) != set(dtypes):
                    raise ValueError(f"entry holds {sorted(data.files)}")
                value = {name: np.ascontiguousarray(data[name].astype(dtypes[name], copy=False))
                         for name in dtypes}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            log.warning("dropping unreadable cache entry %s: %s", path, exc)
            path.unlink(missing_ok=True)
            with self._lock:
                self._forget(path)
            return None
        self._touch(path)
        return value

    def _touch(self, path: Path) -> None:
        """Record a use: the mtime for every process, the index for this one."""
        try:
            os.utime(path)
        except OSError as exc:  # a read-only cache still serves its entries
            self._warn("could not mark cache entry %s as used: %s", path, exc)
        with self._lock:
            if self._index is not None and path in self._index:
                self._index[path][1] = time.time_ns()
                self._index.move_to_end(path)

    def _forget(self, path: Path) -> None:
        if self._index is not None:
            entry = self._index.pop(path, None)
            if entry is not None:
                self._total -= entry[0]

    # -- the index ----------------------------------------------------------------------
    def scan(self) -> None:
        """Rebuild the index from the folder; remove stale temporary files."""
        found = []
        now = time.time()
        for folder, _, names in os.walk(self.root):
            for name in names:
                full = os.path.join(folder, name)
                try:
                    st = os.stat(full)
                    if name.startswith(self.TEMP_PREFIX):
                        if now - st.st_mtime > self.STALE_TEMP_S:
                            os.unlink(full)
                        continue
                except OSError:
                    continue
                if name.endswith(".npz"):
                    found.append((st.st_mtime_ns, Path(full), st.st_size))
        found.sort(key=lambda item: item[0])
        with self._lock:
            self._index = OrderedDict((path, [size, used]) for used, path, size in found)
            self._total = sum(size for _, _, size in found)

    def _evict(self, limit: int) -> None:
        """Delete least recently used entries until the total is at most ``limit``."""
        assert self._index is not None
        while self._total > limit and self._index:
            path, entry = next(iter(self._index.items()))
            try:
                mtime = os.stat(path).st_mtime_ns
            except FileNotFoundError:
                self._forget(path)
                continue
            if mtime > entry[1] + 1_000_000:  # read by another process since: look again
                entry[1] = mtime
                self._index.move_to_end(path)
                continue
            path.unlink(missing_ok=True)
            self._forget(path)

    def _sync(self, lock: _FolderLock) -> OrderedDict[Path, list[int]]:
        """The index, rescanned on first use or when another process changed the folder."""
        if self._index is None or lock.generation() != self._generation:
            self.scan()
        assert self._index is not None
        return self._index

    def trim(self) -> None:
        """Evict until the entries fit the bound (after the bound was lowered)."""
        if not self.enabled or not self.root.is_dir():
            return
        try:
            with self._lock, _FolderLock(self.root / self.LOCK_NAME) as lock:
                self._sync(lock)
                if self._total > self.max_bytes:
                    self._evict(self.max_bytes)
                    self._generation = lock.bump()
        except OSError as exc:
            self._warn("could not trim the embedding cache %s: %s", self.root, exc)
            with self._lock:
                self._index = None

    # -- writing ------------------------------------------------------------------------
    def save(self, image_key: str, model_key: str, value: Embeddings) -> bool:
        """Write one entry atomically, evicting the least recently used entries to make room.

        False (and nothing left behind) if the entry is larger than the budget, the cache is
        disabled, or the disk refuses.
        """
        if not self.enabled:
            return False
        data = None
        if sum(a.size for a in value.values()) * 2 <= self.max_bytes:
            buffer = io.BytesIO()
            halves: dict[str, Any] = {k: v.astype(np.float16) for k, v in value.items()}
            np.savez(buffer, **halves)
            data = buffer.getbuffer()
        if data is None or len(data) > self.max_bytes:
            self.trim()  # not written; but a lowered bound still shrinks the folder
            return False
        path = self.path(image_key, model_key)
        tmp = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with self._lock, _FolderLock(self.root / self.LOCK_NAME) as lock:
                index = self._sync(lock)
                self._forget(path)  # replaced: its old size no longer counts
                self._evict(self.max_bytes - len(data))
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f"{self.TEMP_PREFIX}{os.getpid()}-"
                                     f"{secrets.token_hex(4)}.npz")
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL |
                             getattr(os, "O_BINARY", 0), 0o666)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, path)
                tmp = None
                index[path] = [len(data), time.time_ns()]
                self._total += len(data)
                self._generation = lock.bump()
            return True
        except OSError as exc:
            self._warn("could not write cache entry %s: %s", path, exc)
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            with self._lock:
                self._index = None  # unsure what is on disk now: scan before the next write
            return False


class EmbeddingCache:
    """Memory first, then disk; a disk hit is promoted to memory."""

    def __init__(self, max_bytes: int = 1 << 30, disk_dir: str | os.PathLike | None = None,
                 disk_max_bytes: int = DEFAULT_DISK_CACHE_BYTES):
        self.memory = MemoryLRU(max_bytes)
        self.disk = DiskCache(disk_dir, disk_max_bytes) if disk_dir and disk_max_bytes > 0 \
            else None

    def get(self, image_key: str, model_key: str,
            dtypes: Mapping[str, Any]) -> tuple[Embeddings | None, str | None]:
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
