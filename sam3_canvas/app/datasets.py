"""Exporting a project's annotations, and importing a dataset into a project's own files."""

from __future__ import annotations

import copy
from pathlib import Path

from ..annotations import formats
from ..annotations.dataset import ImportReport
from .document import Instance
from .project import Project


def annotated_documents(project: Project):
    return [project.document(p) for p in project.images if project.has_annotations(p)]


def export_project(project: Project, fmt: str, out: str | Path, **options):
    labels = copy.deepcopy(project.labels)
    return formats.export(fmt, annotated_documents(project), labels, Path(out), project.folder,
                          **options)


def import_into_project(project: Project, fmt: str, source: str | Path) -> ImportReport:
    """Read a dataset and add its instances to the project's documents (saved at once).

    Imported instances are appended after the ones already there; images of another size than
    the dataset says are reported and skipped."""
    if fmt not in formats.FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(formats.FORMATS)}")
    report = formats.FORMATS[fmt].reader(source, project.folder)
    for name in report.labels:
        project.labels.add(name)
    kept = []
    for imported in report.documents:
        doc = project.document(project.folder / imported.image_file)
        if (doc.width, doc.height) != (imported.width, imported.height):
            report.problems.append(f"{imported.image_file}: the dataset says {imported.width} x "
                                   f"{imported.height}, the image is {doc.width} x {doc.height}")
            continue
        for inst in imported.instances:
            project.labels.add(inst.label)
            doc.insert(Instance(doc.next_id(), inst.label, inst.rle, inst.score, inst.source))
        project.save(doc)
        kept.append(imported)
    project.save_labels()
    report.documents = kept  # what was imported (the project's documents hold the rest too)
    return report
