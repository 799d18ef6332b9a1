"""What every dataset format shares: reports, staged output folders, finding images.

Exports are written into a temporary folder beside the destination and moved into place when
complete, so an interrupted or failed export never leaves a half-written dataset (a previous
export in the same place stays until the new one is whole). Imports never stop at the first
bad annotation: each problem is reported with its file and annotation, the rest is imported.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ..app.document import Document
from ..engine.images import IMAGE_SUFFIXES, image_size


class DatasetError(Exception):
    """A dataset cannot be read or written at all (the message names the file)."""


@dataclass
class ExportReport:
    folder: Path
    images: int = 0
    instances: int = 0
    warnings: list[str] = field(default_factory=list)  # per instance: what the format lost


@dataclass
class ImportReport:
    documents: list[Document] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # per file / annotation: what was skipped

    @property
    def instances(self) -> int:
        return sum(len(d.instances) for d in self.documents)


@contextlib.contextmanager
def staged_folder(out: str | os.PathLike):
    """Yield a temporary folder; on success it replaces ``out`` in one rename."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


def outline(doc: Document, inst, tolerance: float, report: ExportReport,
            too_small: str = "left out"):
    """The instance's polygons for a polygon format; what the outline loses (holes too small
    to draw, or the whole instance) is added to the report's warnings, per instance."""
    from .polygons import mask_to_polygons

    found = mask_to_polygons(inst.mask(), tolerance)
    if not found.parts:
        report.warnings.append(f"{doc.image_file} instance {inst.id}: too small for a polygon, "
                               f"{too_small}")
    elif found.holes > found.holes_kept:
        report.warnings.append(f"{doc.image_file} instance {inst.id} ({inst.label}): "
                               f"{found.holes - found.holes_kept} of {found.holes} holes too "
                               "small for a polygon, filled")
    return found


def find_image(folder: Path, name: str) -> Path | None:
    """The image called ``name`` in ``folder`` (by file name, or by stem with any image
    suffix, as YOLO and VOC refer to images)."""
    candidate = folder / Path(name).name
    if candidate.is_file():
        return candidate
    stem = Path(name).stem
    for suffix in IMAGE_SUFFIXES:
        for variant in (suffix, suffix.upper()):
            path = folder / f"{stem}{variant}"
            if path.is_file():
                return path
    return None


def new_document(image: Path) -> Document:
    width, height = image_size(image)
    return Document(image.name, width, height)
