"""What every dataset format shares: reports, outlines, finding images.

Exporters write into a staging folder that ``export_target.staged_export`` puts in place, so an
interrupted or failed export never leaves a half-written dataset and never deletes a file it
did not write. Imports never stop at the first bad annotation: each problem is reported with
its file and annotation, the rest is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..app.document import Document
from ..engine.errors import Sam3CanvasError
from ..engine.images import IMAGE_SUFFIXES, image_size


class DatasetError(Sam3CanvasError):
    """A dataset cannot be read or written at all (the message names the file)."""


@dataclass
class ExportReport:
    folder: Path
    images: int = 0
    instances: int = 0
    warnings: list[str] = field(default_factory=list)  # per instance: what the format lost
    unreadable: int = 0  # annotation files left out because they cannot be read
    outcome: object = None  # export_target.Outcome: what a previous export there lost

    def replaced_note(self) -> str:
        """One line on the previous export this one replaced, or ""."""
        out = self.outcome
        if out is None or not (out.replaced or out.removed):
            return ""
        what = f"the previous {out.previous_format} export" if out.previous_format else \
            "the previous export"
        removed = f", {len(out.removed)} of its files removed" if out.removed else ""
        return f"replaced {what} there ({len(out.replaced)} files rewritten{removed})"


@dataclass
class ImportReport:
    documents: list[Document] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # per file / annotation: what was skipped
    skipped: int = 0  # instances an earlier import of the same source already brought in
    replaced: int = 0  # instances of an earlier import removed by a "replace" import

    @property
    def instances(self) -> int:
        return sum(len(d.instances) for d in self.documents)


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


def checked_size(width, height) -> tuple[int, int]:
    """An image size from a dataset file as two positive ints within the pixel limit, or
    ValueError (a width of -3 or 1e9 must not reach numpy)."""
    from ..engine.images import pixel_limit
    try:
        w, h = float(width), float(height)
    except (TypeError, ValueError):
        raise ValueError(f"image size {width!r} x {height!r} is not two numbers") from None
    if not (w.is_integer() and h.is_integer() and w > 0 and h > 0):
        raise ValueError(f"image size {width!r} x {height!r} is not two positive integers")
    if w * h > pixel_limit():
        raise ValueError(f"image size {int(w)} x {int(h)} is over the "
                         f"{pixel_limit() / 1e6:.0f} MP limit")
    return int(w), int(h)


def new_document(image: Path) -> Document:
    width, height = image_size(image)
    return Document(image.name, width, height)
