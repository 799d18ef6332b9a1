"""An open folder of images and its annotations, saved beside the images.

Annotations live in ``<folder>/.sam3-canvas/<image file name>.json`` (one documented JSON file
per image, docs/annotation-format.md) and the label classes in ``.sam3-canvas/labels.json``.
Every save is atomic (temporary file, fsync, rename), so a killed process leaves either the old
or the new file, never a torn one; the temporary files a killed save left are removed when the
folder is opened again. A file that cannot be read is never overwritten: readers that only read
(export, import, detect) report it and leave it alone; the app moves it aside (``.corrupt-*``)
and tells the user before it starts the image anew.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ..document.annotation import ANNOTATION_DIR, Document, DocumentError
from ..document.labels import LabelSet
from ..engine.errors import Sam3CanvasError
from ..engine.images import image_size, is_image_file, list_images
from ..fsutil import atomic_write_text, describe_os_error, remove_stale_temporaries
from ..video.frames import frame_key, parse_frame_key


class SaveError(Sam3CanvasError):
    """Saving failed (disk full, read-only folder); the file on disk is unchanged."""


def _why(exc: OSError) -> str:
    return describe_os_error(exc)


class Project:
    def __init__(self, folder: str | os.PathLike, images: list[Path] | None = None):
        self.folder = Path(folder)
        self.images = images if images is not None else list_images(self.folder)
        self.video: Path | None = None  # the clip, when the images are its frames
        self.frame_size: tuple[int, int] | None = None  # (width, height) of its frames
        self.dir = self.folder / ANNOTATION_DIR
        self._documents: dict[str, Document] = {}
        self.warnings: list[str] = []
        self.labels = self._load_labels()
        if self.dir.is_dir():
            remove_stale_temporaries(self.dir)  # left by a save that was killed
            for frames in self.dir.glob("*.frames"):  # a clip's frame files
                remove_stale_temporaries(frames)

    @classmethod
    def for_video(cls, video: Path, frame_count: int,
                  frame_size: tuple[int, int] | None = None) -> Project:
        """The clip's folder with the clip's frames as its images (``clip.mp4#000012``...):
        the app annotates them as it annotates photos, one document per frame."""
        project = cls(video.parent, images=[frame_key(video, i) for i in range(frame_count)])
        project.video = video
        project.frame_size = frame_size
        return project

    @classmethod
    def open(cls, path: str | os.PathLike) -> tuple[Project, int]:
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
        frame = parse_frame_key(image)
        if frame is not None:
            return self.frame_annotation_path(*frame)
        return self.dir / f"{image.name}.json"

    def frame_annotation_path(self, video: Path, frame: int) -> Path:
        """A clip's frames have a file each: ``.sam3-canvas/<clip>.frames/<frame>.json``."""
        return self.dir / f"{video.name}.frames" / f"{frame:06d}.json"

    def frame_document(self, video: Path, frame: int, size: tuple[int, int]) -> Document:
        """Frame ``frame`` of the clip ``video`` (in this folder): from memory, its file, or
        new; an unreadable file raises :class:`DocumentError` and stays as it is."""
        return self.document(frame_key(video, frame), size)

    def open_frame_documents(self, video: Path) -> list[Document]:
        """The clip's frame documents held in memory (some may not be saved yet)."""
        return [d for d in self._documents.values()
                if d.frame is not None and d.image_file == video.name]

    def known_frames(self, video: Path) -> list[int]:
        """Frames of ``video`` with a document on disk or in memory (maybe not saved yet)."""
        frames = set(self.annotated_frames(video))
        frames |= {d.frame for d in self.open_frame_documents(video) if d.frame is not None}
        return sorted(frames)

    def annotated_frames(self, video: Path) -> list[int]:
        """The frames of ``video`` that have an annotation file, in order."""
        folder = self.dir / f"{video.name}.frames"
        if not folder.is_dir():
            return []
        return sorted(int(p.stem) for p in folder.glob("*.json") if p.stem.isdigit())

    def document(self, image: Path, size: tuple[int, int] | None = None,
                 image_key: str = "", move_corrupt: bool = False) -> Document:
        """The image's document: from memory, from its file, or new and empty.

        An annotation file that cannot be read raises :class:`DocumentError` and stays as it
        is; with ``move_corrupt`` (the app, which tells the user) it is renamed aside and the
        image starts empty."""
        cached = self._documents.get(image.name)
        if cached is not None:
            if image_key and not cached.image_key:
                cached.image_key = image_key
            return cached
        path = self.annotation_path(image)
        frame = parse_frame_key(image)
        doc = None
        if path.is_file():
            try:
                doc = Document.load(path)
            except DocumentError as exc:
                if not move_corrupt:
                    raise
                aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
                try:
                    os.replace(path, aside)
                except OSError as move:
                    raise DocumentError(f"{exc}; it cannot be moved aside ({_why(move)}), so "
                                        "this image cannot be annotated here") from None
                self.warnings.append(f"{exc}; kept as {aside.name}, starting empty")
        if doc is None and frame is not None:
            size = size or self.frame_size
            if size is None:
                raise ValueError(f"{image.name}: a frame's document needs the frame's size")
            doc = Document(frame[0].name, size[0], size[1], image_key, frame=frame[1])
        elif doc is None:
            width, height = size or image_size(image)
            doc = Document(image.name, width, height, image_key)
        self._documents[image.name] = doc
        return doc

    def open_documents(self) -> set[str]:
        """Image names whose documents are held in memory (open, or read this session)."""
        return set(self._documents)

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
        try:
            return path.is_file() and path.stat().st_size > 0 and \
                b'"instances": []' not in path.read_bytes()
        except OSError:
            return False

    @staticmethod
    def document_key(doc: Document) -> str:
        """The name a document goes by: its image's file name, or a frame's key."""
        return doc.image_file if doc.frame is None else \
            frame_key(Path(doc.image_file), doc.frame).name

    def document_path(self, doc: Document) -> Path:
        """Where ``doc`` is saved."""
        return self.dir / f"{doc.image_file}.json" if doc.frame is None else \
            self.frame_annotation_path(Path(doc.image_file), doc.frame)

    def save(self, doc: Document) -> Path:
        path = self.document_path(doc)
        try:
            return atomic_write_text(path, doc.dumps())
        except OSError as exc:
            raise SaveError(f"could not save the annotations of {doc.image_file} in "
                            f"{self.dir}: {_why(exc)}") from None

    def save_labels(self) -> Path:
        try:
            return atomic_write_text(self.dir / "labels.json", self.labels.dumps())
        except OSError as exc:
            raise SaveError(f"could not save the label classes in {self.dir}: "
                            f"{_why(exc)}") from None

    def _load_labels(self) -> LabelSet:
        path = self.dir / "labels.json"
        if path.is_file():
            try:
                return LabelSet.from_json(json.loads(path.read_text())["labels"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                self.warnings.append(f"{path}: cannot be read ({exc}); labels start empty")
        return LabelSet()
