"""Where a batch job reads its images and writes its annotation files: a local folder, or any
URL fsspec opens (``s3://``, ``gs://``, ``az://``, ``file://``, ``memory://``...).

A :class:`Folder` is only its URL, so it travels to Ray workers as it is and each process opens
its own filesystem. Writes never leave a partial file: locally through the project's atomic
write (temporary file, fsync, rename); elsewhere to a temporary name that is then moved over
the target (on object stores an object appears whole or not at all anyway).
"""

from __future__ import annotations

import posixpath
import secrets
from dataclasses import dataclass
from pathlib import Path

from ..engine.images import is_image_file, list_images
from ..fsutil import atomic_write_text


def _is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def _local_path(url: str) -> Path:
    return Path(url[len("file://"):] if url.startswith("file://") else url)


@dataclass(frozen=True)
class Folder:
    """A folder by URL (or local path): list its images, read and write its files."""

    url: str

    @property
    def is_local(self) -> bool:
        return _is_local(self.url)

    @property
    def path(self) -> Path:
        """The local folder (only for a local URL)."""
        if not self.is_local:
            raise ValueError(f"{self.url} is not a local folder")
        return _local_path(self.url)

    def child(self, name: str) -> Folder:
        if self.is_local:
            return Folder(str(self.path / name))
        return Folder(self.url.rstrip("/") + "/" + name)

    def where(self, name: str) -> str:
        """The file ``name`` inside, as the user would write it (for messages)."""
        return str(self.path / name) if self.is_local else self.url.rstrip("/") + "/" + name

    def _fs(self):
        import fsspec
        fs, root = fsspec.core.url_to_fs(self.url)
        return fs, root.rstrip("/")

    def exists(self) -> bool:
        if self.is_local:
            return self.path.is_dir()
        fs, root = self._fs()
        return bool(fs.isdir(root))

    def images(self) -> list[str]:
        """Image file names directly inside, in the order the app lists them."""
        if self.is_local:
            return [p.name for p in list_images(self.path)]
        fs, root = self._fs()
        names = [posixpath.basename(str(entry["name"]).rstrip("/"))
                 for entry in fs.ls(root, detail=True) if entry.get("type") == "file"]
        return sorted((n for n in names if is_image_file(Path(n))), key=str.lower)

    def read_bytes(self, name: str) -> bytes:
        """The file's bytes; ``FileNotFoundError`` or another ``OSError`` otherwise."""
        if self.is_local:
            return (self.path / name).read_bytes()
        fs, root = self._fs()
        return bytes(fs.cat_file(f"{root}/{name}"))

    def read_text(self, name: str) -> str | None:
        """The file as UTF-8 text, or None when there is no such file."""
        try:
            return self.read_bytes(name).decode("utf-8")
        except FileNotFoundError:
            return None

    def write_text(self, name: str, text: str) -> str:
        """Write whole or not at all; returns where it went."""
        if self.is_local:
            return str(atomic_write_text(self.path / name, text))
        fs, root = self._fs()
        target = f"{root}/{name}"
        tmp = f"{root}/.{name}.{secrets.token_hex(4)}.tmp"
        fs.makedirs(root, exist_ok=True)
        fs.pipe_file(tmp, text.encode("utf-8"))
        try:
            fs.mv(tmp, target)
        except BaseException:
            fs.rm_file(tmp)
            raise
        return self.where(name)
