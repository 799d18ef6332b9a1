"""Model identity from content: the sha256 of every graph file and of its external data.

The embedding caches key entries by (image, model identity), so the identity must change
whenever any byte of the weights changes: a graph file and every external-data file beside it
(``X.onnx_data``, ``X.onnx.data`` and any ``location`` the graph's initializers name) are
hashed in full. Hashing a 2 GB encoder takes a second or two, so each file's digest is
remembered by (absolute path, size, mtime_ns): in this process, and in a small JSON memo file
(``model-identities.json`` in the embedding cache folder) for the next one. The trade-off: a
file rewritten in place with the same size and a restored mtime (``os.utime``) keeps its old
digest; copying, downloading or re-exporting a file always moves its mtime.

A memo file that is corrupt or cannot be written is ignored with a log line, never fatal.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger(__name__)

BLOCK = 4 << 20  # hash in 4 MiB blocks
SMALL_GRAPH = 64 << 20  # graphs under this may name external data; larger ones hold it inline
MEMO_NAME = "model-identities.json"
_VERSION = 1


def hash_file(path: str | os.PathLike) -> str:
    """sha256 hex digest of a whole file, read in 4 MiB blocks."""
    digest = hashlib.sha256()
    buffer = bytearray(BLOCK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as fh:
        while True:
            n = fh.readinto(buffer)
            if not n:
                break
            digest.update(view[:n])
    return digest.hexdigest()


def external_locations(graph: str | os.PathLike) -> list[str]:
    """The external-data ``location`` values that a graph's tensors name (sorted, distinct)."""
    import onnx

    model = onnx.load(str(graph), load_external_data=False)
    found: set[str] = set()

    def tensors(g):
        yield from g.initializer
        for sparse in g.sparse_initializer:
            yield sparse.values
            yield sparse.indices
        for node in g.node:
            for attr in node.attribute:
                if attr.HasField("t"):
                    yield attr.t
                yield from attr.tensors
                if attr.HasField("g"):
                    yield from tensors(attr.g)
                for sub in attr.graphs:
                    yield from tensors(sub)

    for tensor in tensors(model.graph):
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            for entry in tensor.external_data:
                if entry.key == "location" and entry.value:
                    found.add(entry.value)
    return sorted(found)


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


class IdentityMemo:
    """File digests remembered by (absolute path, size, mtime_ns), optionally in a JSON file.

    ``path=None`` keeps them in this process only. One instance per memo file is shared by the
    whole process (:func:`memo_for`); a new instance reads the file again, as a new process
    would.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path else None
        self._lock = threading.RLock()
        self._files: dict[str, dict] | None = None  # loaded lazily from the memo file

    # -- the memo file ------------------------------------------------------------------
    def _entries(self) -> dict[str, dict]:
        if self._files is None:
            self._files = {}
            if self.path is not None and self.path.is_file():
                try:
                    doc = json.loads(self.path.read_text(encoding="utf-8"))
                    files = doc.get("files", {}) if doc.get("version") == _VERSION else {}
                    self._files = {str(k): v for k, v in files.items()
                                   if isinstance(v, dict) and isinstance(v.get("sha256"), str)}
                except (OSError, ValueError, AttributeError) as exc:
                    log.warning("ignoring unreadable model identity memo %s: %s", self.path, exc)
        return self._files

    def _save(self) -> None:
        if self.path is None:
            return
        from ..fsutil import atomic_write_text

        try:  # keep what another process added meanwhile, drop files that are gone
            merged = IdentityMemo(self.path)._entries() if self.path.is_file() else {}
        except Exception:  # noqa: BLE001 - a bad file was already logged
            merged = {}
        merged.update(self._files or {})
        live = {}
        for key, entry in merged.items():
            try:
                if _stamp(Path(key)) == (entry.get("size"), entry.get("mtime_ns")):
                    live[key] = entry
            except OSError:
                continue
        try:
            atomic_write_text(self.path, json.dumps({"version": _VERSION, "files": live},
                                                    indent=1, sort_keys=True))
        except OSError as exc:
            log.warning("could not write the model identity memo %s: %s", self.path, exc)

    # -- digests ------------------------------------------------------------------------
    def _lookup(self, path: Path) -> tuple[str, dict | None, tuple[int, int]]:
        key = str(path.resolve())
        stamp = _stamp(path)
        entry = self._entries().get(key)
        if entry is not None and (entry.get("size"), entry.get("mtime_ns")) != stamp:
            entry = None
        return key, entry, stamp

    def digest(self, path: str | os.PathLike) -> str:
        """The sha256 of ``path``, read only if its (path, size, mtime_ns) is new."""
        return self._record(Path(path))["sha256"]

    def _record(self, path: Path, want_locations: bool = False) -> dict:
        with self._lock:
            key, entry, stamp = self._lookup(path)
            if entry is not None and (not want_locations or "external" in entry):
                return entry
        digest = entry["sha256"] if entry is not None else hash_file(path)
        record = {"size": stamp[0], "mtime_ns": stamp[1], "sha256": digest}
        if want_locations:
            record["external"] = []
            if stamp[0] < SMALL_GRAPH:
                try:
                    record["external"] = external_locations(path)
                except Exception as exc:  # noqa: BLE001 - onnxruntime reports a bad graph
                    log.debug("could not list external data of %s: %s", path, exc)
        with self._lock:
            if _stamp(path) == stamp:  # unchanged while we read it
                self._entries()[key] = record
                self._save()
        return record

    def identity(self, graph: str | os.PathLike) -> str:
        """One identity for a graph and all its external-data files (16 hex digits)."""
        graph = Path(graph)
        record = self._record(graph, want_locations=True)
        data = {graph.with_name(graph.name + "_data"), graph.with_name(graph.name + ".data")}
        data.update(graph.parent / location for location in record.get("external", []))
        combined = hashlib.sha256(f"graph:{record['sha256']}\n".encode())
        for path in sorted(data):
            if path.is_file() and path.resolve() != graph.resolve():
                combined.update(f"data:{path.name}:{self.digest(path)}\n".encode())
        return combined.hexdigest()[:16]


_MEMOS: dict[str | None, IdentityMemo] = {}
_MEMOS_LOCK = threading.Lock()


def memo_for(path: str | os.PathLike | None) -> IdentityMemo:
    """The process-wide memo for a memo file (``None``: in-process only)."""
    key = str(Path(path).absolute()) if path else None
    with _MEMOS_LOCK:
        memo = _MEMOS.get(key)
        if memo is None:
            memo = _MEMOS[key] = IdentityMemo(path)
        return memo


def memo_path(cache_dir: str | os.PathLike | None) -> Path | None:
    """Where the identity memo lives for an embedding cache folder (``None`` without one)."""
    return Path(cache_dir) / MEMO_NAME if cache_dir else None


def model_identity(graph: str | os.PathLike, memo: str | os.PathLike | None = None) -> str:
    """The content identity of an ONNX graph and its external data; ``memo`` is the JSON memo
    file that remembers digests across processes (``None``: this process only)."""
    return memo_for(memo).identity(graph)


__all__ = ["BLOCK", "MEMO_NAME", "IdentityMemo", "external_locations", "hash_file",
           "memo_for", "memo_path", "model_identity"]
