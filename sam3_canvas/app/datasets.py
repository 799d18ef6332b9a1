"""Exporting a project's annotations, and importing a dataset into a project's own files."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..annotations import formats
from ..annotations.dataset import ImportReport
from ..document.annotation import Document, DocumentError, Instance
from .project import Project


@dataclass
class Annotated:
    """The documents to export, and the annotation files that could not be read."""

    documents: list[Document] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def annotated_documents(project: Project) -> Annotated:
    """Every annotated image's document. A file that cannot be read is listed in
    ``unreadable`` and left exactly as it is (an export only reads)."""
    found = Annotated()
    for image in project.images:
        if not project.has_annotations(image):
            continue
        try:
            found.documents.append(project.document(image))
        except DocumentError as exc:
            found.unreadable.append(f"{exc}; left out of the export, the file is unchanged")
    return found


def export_documents(project: Project, docs: list[Document], fmt: str, out: str | Path,
                     unreadable: Sequence[str] = (), **options):
    """Export ``docs``; the unreadable files are reported first among the warnings."""
    labels = copy.deepcopy(project.labels)
    report = formats.export(fmt, docs, labels, Path(out), project.folder, **options)
    report.warnings[:0] = list(unreadable)
    report.unreadable = len(unreadable)
    return report


def export_project(project: Project, fmt: str, out: str | Path, **options):
    found = annotated_documents(project)
    return export_documents(project, found.documents, fmt, out, found.unreadable, **options)


def _source_key(inst: Instance) -> tuple | None:
    source = inst.source or {}
    if source.get("kind") != "import":
        return None
    return tuple(sorted((k, str(v)) for k, v in source.items()))


#: what an import does with what an earlier import of the same dataset brought in
IMPORT_MODES = {
    "skip-existing": "skip the annotations already imported (a rerun adds only what is new)",
    "replace": "replace the annotations an earlier import of the same files brought in",
    "append": "add everything again, beside what is there",
}


def _file_key(inst: Instance) -> tuple | None:
    source = inst.source or {}
    if source.get("kind") != "import":
        return None
    return (source.get("format"), source.get("file"))


def import_into_project(project: Project, fmt: str, source: str | Path,
                        progress=None, mode: str = "skip-existing") -> ImportReport:
    """Read a dataset and add its instances to the project's documents (saved at once).

    Imported instances go after the ones already there. ``mode`` says what happens to what an
    earlier import of the same dataset brought in (see ``IMPORT_MODES``): by default an
    instance already imported (same format, file and annotation) is skipped, so running an
    import again, or after it was killed, never duplicates anything; ``replace`` drops the
    instances an earlier import of the same files made and imports them anew; ``append``
    adds everything again. Instances made in the app are never touched. Images of another size
    than the dataset says, and images whose own annotation file cannot be read, are reported
    and skipped (that file is left as it is)."""
    if fmt not in formats.FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(formats.FORMATS)}")
    if mode not in IMPORT_MODES:
        raise ValueError(f"unknown import mode {mode!r}: choose one of {', '.join(IMPORT_MODES)}")
    report = formats.FORMATS[fmt].reader(source, project.folder)
    for name in report.labels:
        if str(name).strip():
            project.labels.add(str(name))
    kept = []
    for n, imported in enumerate(report.documents, 1):
        image = project.folder / imported.image_file
        try:
            doc = project.document(image)
        except DocumentError as exc:
            report.problems.append(f"{exc}; nothing imported for {imported.image_file}, the "
                                   "file is unchanged")
            continue
        if (doc.width, doc.height) != (imported.width, imported.height):
            report.problems.append(f"{imported.image_file}: the dataset says {imported.width} x "
                                   f"{imported.height}, the image is {doc.width} x {doc.height}")
            continue
        removed = []
        if mode == "replace":
            files = {_file_key(i) for i in imported.instances} - {None}
            removed = [i for i in doc.instances if _file_key(i) in files]
            for inst in removed:
                doc.remove(inst.id)
            report.replaced += len(removed)
        present = {_source_key(i) for i in doc.instances} - {None}
        added = []
        for inst in imported.instances:
            if mode == "skip-existing" and _source_key(inst) in present:
                report.skipped += 1
                continue
            label = str(inst.label).strip() or "object"  # a dataset's blank class name
            project.labels.add(label)
            added.append(Instance(doc.next_id(), label, inst.rle, inst.score, inst.source))
        if added or removed:
            for inst in added:
                doc.insert(inst)
            project.save(doc)
            imported.instances = added
            kept.append(imported)
        if progress:
            progress(n, len(report.documents))
    project.save_labels()
    report.documents = kept  # what was imported (the project's documents hold the rest too)
    return report
