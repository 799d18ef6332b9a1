"""Label classes changed for a whole folder: rename (or merge into another), delete (with
their instances, or relabelled), recolour.

These change every annotation file that holds the label, so they are not steps of one image's
undo history: the window asks first, says what will change, and drops the histories after (as
after an import). Each file is saved atomically; a file that cannot be read is reported and
left untouched, never rewritten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..document.annotation import Document, DocumentError
from .project import Project, SaveError


@dataclass
class LabelChange:
    instances: int = 0  # instances relabelled or deleted
    files: int = 0  # annotation files rewritten
    problems: list[str] = field(default_factory=list)  # files left as they were, and why


def count_label(project: Project, name: str) -> int:
    """Instances labelled ``name`` in the whole folder."""
    total = 0
    for doc in _documents(project, LabelChange()):
        total += sum(1 for i in doc.instances if i.label == name)
    return total


def rename_label(project: Project, old: str, new: str,
                 check: Callable[[], None] | None = None) -> LabelChange:
    """``old`` becomes ``new`` in the classes and in every instance (merged when ``new`` is
    already a class)."""
    change = _relabel(project, old, new.strip(), check)
    project.labels.rename(old, new)
    _save_labels(project, change)
    return change


def delete_label(project: Project, name: str, relabel_as: str | None = None,
                 check: Callable[[], None] | None = None) -> LabelChange:
    """Remove the class; its instances go too, or take ``relabel_as``."""
    if relabel_as:
        change = _relabel(project, name, relabel_as, check)
    else:
        change = LabelChange()
        for doc in _documents(project, change):
            if check is not None:
                check()
            kept = [i for i in doc.instances if i.label != name]
            if len(kept) != len(doc.instances):
                removed = len(doc.instances) - len(kept)
                doc.instances = kept
                if _save(project, doc, change):
                    change.instances += removed
    project.labels.remove(name)
    _save_labels(project, change)
    return change


def recolour_label(project: Project, name: str, colour: tuple[int, int, int]) -> LabelChange:
    change = LabelChange()
    project.labels.recolour(name, colour)
    _save_labels(project, change)
    return change


def _relabel(project: Project, old: str, new: str,
             check: Callable[[], None] | None) -> LabelChange:
    if not new:
        raise ValueError("a label needs a name")
    change = LabelChange()
    for doc in _documents(project, change):
        if check is not None:
            check()
        hits = [i for i in doc.instances if i.label == old]
        if not hits:
            continue
        for inst in hits:
            doc.replace(inst.with_label(new))
        if _save(project, doc, change):
            change.instances += len(hits)
    return change


def _documents(project: Project, change: LabelChange):
    """Every document of the folder that has a file, or is held in memory."""
    for image in project.images:
        if not project.annotation_path(image).is_file() and \
                image.name not in project.open_documents():
            continue
        try:
            yield project.document(image)
        except DocumentError as exc:
            change.problems.append(f"{exc}; left as it is")


def _save(project: Project, doc: Document, change: LabelChange) -> bool:
    try:
        project.save(doc)
    except SaveError as exc:
        change.problems.append(str(exc))
        return False
    change.files += 1
    return True


def _save_labels(project: Project, change: LabelChange) -> None:
    try:
        project.save_labels()
    except SaveError as exc:
        change.problems.append(str(exc))
