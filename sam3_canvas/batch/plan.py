"""From what the user named (folders, images, URLs) to the list of images a job goes through."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from pathlib import Path

from ..document.annotation import ANNOTATION_DIR
from ..engine.images import is_image_file
from ..fsutil import remove_stale_temporaries
from .boxes import BoxSet
from .storage import Folder


@dataclass
class Plan:
    tasks: list = field(default_factory=list)  # steps.Task
    problems: list[tuple[str, str]] = field(default_factory=list)  # (what, why)
    #: folders of images whose annotations are the app's own (labels.json is kept there)
    projects: list[Folder] = field(default_factory=list)


def split(path: str) -> tuple[Folder, str | None]:
    """(folder, image name) for an image, (folder, None) for a folder."""
    if "://" in path and not path.startswith("file://"):
        parent, name = posixpath.split(path.rstrip("/"))
        if is_image_file(Path(name)):
            return Folder(parent), name
        return Folder(path.rstrip("/")), None
    local = Path(Folder(path).path)
    if local.is_file():
        return Folder(str(local.parent)), local.name
    return Folder(str(local)), None


def plan(paths: list[str], out: str | None = None, boxes: BoxSet | None = None) -> Plan:
    """Every image of the folders and every image named, with where its annotation file goes
    (``out``, or the folder's ``.sam3-canvas/`` as in the app). With ``boxes``, only the
    images the box dataset lists, each with its boxes."""
    from .steps import Task
    found = Plan()
    seen: set[tuple[str, str]] = set()
    for path in paths:
        folder, name = split(str(path))
        try:
            names = [name] if name is not None else folder.images()
        except OSError as exc:
            found.problems.append((str(path), f"{path}: not a folder of images or an image "
                                              f"({exc.strerror or exc})"))
            continue
        if name is not None and not is_image_file(Path(name)):
            found.problems.append((str(path), f"{path}: not an image or a folder"))
            continue
        if not names:
            found.problems.append((str(path), f"{path}: the folder holds no images"))
            continue
        annotations = Folder(out) if out else folder.child(ANNOTATION_DIR)
        if not out and folder not in found.projects:
            found.projects.append(folder)
        if annotations.is_local and annotations.path.is_dir():
            remove_stale_temporaries(annotations.path)  # left by a killed save
        for image in names:
            if (folder.url, image) in seen:
                continue
            seen.add((folder.url, image))
            listed = boxes.for_image(image) if boxes is not None else ()
            if listed is None:
                continue  # the box dataset does not list it: nothing to do
            found.tasks.append(Task(folder, annotations, image, tuple(listed)))
    return found
