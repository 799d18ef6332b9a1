"""An open folder of images and its annotations, saved beside the images.

Annotations live in ``<folder>/.sam3-canvas/<image file name>.json`` (one documented JSON file
per image, docs/annotation-format.md) and the label classes in ``.sam3-canvas/labels.json``.
Every save is atomic (temporary file, fsync, rename), so a killed process leaves either the old
or the new file, never a torn one. A file that cannot be read is moved aside (``.corrupt``), not
overwritten, and the user is told.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ..engine.images import image_size, is_image_file, list_images
from ..fsutil import atomic_write_text
from .document import Document, DocumentError
from .labels import LabelSet

ANNOTATION_DIR = ".sam3-canvas"


class SaveError(Exception):
    """Saving failed (disk full, read-only folder); the document stays in memory."""


class Project:
    def __init__(self, folder: str | os.PathLike, images: list[Path] | None = None):
        self.folder = Path(folder)
        self.images = images if images is not None else list_images(self.folder)
        self.dir = self.folder / ANNOTATION_DIR
        self._documents: dict[str, Document] = {}
        self.warnings: list[str] = []
        self.labels = self._load_labels()

    @classmethod
    def open(cls, path: str | os.PathLike) -> tuple["Project", int]:
        """A folder, or an image (its folder, positioned at it). Returns (project, index)."""
        path = Path(path)
        if path.is_dir():
            return cls(path), 0
        if path.is_file() and is_image_file(path):
            project = cls(path.parent)
            names = [p.name for p in project.images]
            return project, names.index(path.name) if path.name in names else 0
        raise FileNotFoundError(f"{path}: not a folder or an image")

    def annotation_path(self, image: Path) -> Path:
        return self.dir / f"{image.name}.json"

    def document(self, image: Path, size: tuple[int, int] | None = None,
                 image_key: str = "") -> Document:
        """The image's document: from memory, from its file, or new and empty."""
        cached = self._documents.get(image.name)
        if cached is not None:
            if image_key and not cached.image_key:
                cached.image_key = image_key
            return cached
        path = self.annotation_path(image)
        doc = None
        if path.is_file():
            try:
                doc = Document.load(path)
            except DocumentError as exc:
                aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
                os.replace(path, aside)
                self.warnings.append(f"{exc}; kept as {aside.name}, starting empty")
        if doc is None:
            width, height = size or image_size(image)
            doc = Document(image.name, width, height, image_key)
        self._documents[image.name] = doc
        return doc

    def reload(self) -> None:
        """Forget the documents and labels held in memory (after another writer, an import,
        changed the files); the next ``document()`` reads them again."""
        self._documents.clear()
        self.labels = self._load_labels()

    def has_annotations(self, image: Path) -> bool:
        doc = self._documents.get(image.name)
        if doc is not None:
            return bool(doc.instances)
        path = self.annotation_path(image)
        # without parsing the masks: an empty list is written exactly like this (Document.dumps)
        return path.is_file() and path.stat().st_size > 0 and \
            b'"instances": []' not in path.read_bytes()

    def save(self, doc: Document) -> Path:
        try:
            return atomic_write_text(self.dir / f"{doc.image_file}.json", doc.dumps())
        except OSError as exc:
            raise SaveError(f"could not save the annotations of {doc.image_file}: "
                            f"{exc.strerror or exc}; they are kept in memory and saved again "
                            "on the next change") from None

    def save_labels(self) -> Path:
        try:
            return atomic_write_text(self.dir / "labels.json", self.labels.dumps())
        except OSError as exc:
            raise SaveError(f"could not save the label classes: {exc.strerror or exc}") from None

    def _load_labels(self) -> LabelSet:
        path = self.dir / "labels.json"
        if path.is_file():
            try:
                return LabelSet.from_json(json.loads(path.read_text())["labels"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                self.warnings.append(f"{path}: cannot be read ({exc}); labels start empty")
        return LabelSet()
