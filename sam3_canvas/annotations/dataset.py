"""What every dataset format shares: reports, outlines, finding images.

Exporters write into a staging folder that ``export_target.staged_export`` puts in place, so an
interrupted or failed export never leaves a half-written dataset and never deletes a file it
did not write. Imports never stop at the first bad annotation: each problem is reported with
its file and annotation, the rest is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..document.annotation import Document
from ..engine.errors import Sam3CanvasError
from ..engine.images import IMAGE_SUFFIXES, image_size
from .export_target import Outcome


class DatasetError(Sam3CanvasError):
    """A dataset cannot be read or written at all (the message names the file)."""


@dataclass
class Losses:
    """What a polygon format's readers will not draw, over a whole export."""

    parts: int = 0
    holes: int = 0
    pixels: int = 0
    instances: int = 0  # instances outlined
    iou_sum: float = 0.0

    @property
    def mean_iou(self) -> float:
        return self.iou_sum / self.instances if self.instances else 1.0


@dataclass
class ExportReport:
    folder: Path
    images: int = 0
    instances: int = 0
    warnings: list[str] = field(default_factory=list)  # per instance: what the format lost
    unreadable: int = 0  # annotation files left out because they cannot be read
    outcome: Outcome | None = None  # what a previous export in the same place lost
    lost: Losses = field(default_factory=Losses)  # polygon formats: what the readers lose

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
            consumer, min_part_px: int = 1, joined: bool = False,
            too_small: str = "left out"):
    """The instance's polygons for a polygon format's readers (``consumer``); what those
    readers will not draw (parts, holes, pixels) is added to the report's warnings, per
    instance, with the counts in ``report.lost``."""
    from .polygons import mask_to_polygons

    found = mask_to_polygons(inst.mask(), tolerance, consumer, min_part_px, joined)
    where = f"{doc.image_file} instance {inst.id} ({inst.label})"
    if not found.parts:
        report.warnings.append(f"{where}: too small for a polygon, {too_small}")
        report.lost.parts += found.parts_found
        return found
    said = []
    if found.lost_parts:
        sizes = ", ".join(str(s) for s in sorted(found.lost_parts, reverse=True)[:5])
        said.append(f"{len(found.lost_parts)} of {found.parts_found} separate parts lost "
                    f"({sizes} px)")
    if found.filled_holes:
        sizes = ", ".join(str(s) for s in sorted(found.filled_holes, reverse=True)[:5])
        said.append(f"{len(found.filled_holes)} of {found.holes} holes filled ({sizes} px)")
    if said:
        report.warnings.append(f"{where}: {'; '.join(said)} (IoU {found.iou:.3f} as "
                               f"{consumer.name} draws it)")
    report.lost.parts += len(found.lost_parts)
    report.lost.holes += len(found.filled_holes)
    report.lost.pixels += found.lost_px
    report.lost.instances += 1
    report.lost.iou_sum += found.iou
    return found


def unique_stems(docs: list[Document], images_dir: Path | None = None) -> dict[str, str]:
    """A file stem per image for formats that name their files by stem (YOLO, VOC, labelme,
    mask PNGs), so that two images sharing a stem never overwrite each other's annotations:
    of the images in the folder that share a stem, the first by name (``a.jpg``) keeps it,
    the others get ``<stem>_<ext>`` (``a_png``). ``find_image`` reads them back the same way."""
    names = {d.image_file for d in docs}
    if images_dir is not None and Path(images_dir).is_dir():
        names |= {p.name for p in Path(images_dir).iterdir() if p.suffix.lower()
                  in IMAGE_SUFFIXES}
    first: dict[str, str] = {}
    for name in sorted(names, key=lambda n: (n.lower(), n)):
        first.setdefault(Path(name).stem, name)
    out = {}
    for doc in docs:
        path = Path(doc.image_file)
        out[doc.image_file] = path.stem if first[path.stem] == doc.image_file else \
            f"{path.stem}_{path.suffix.lstrip('.').lower()}"
    return out


def glob_escape(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)


def find_image(folder: Path, name: str) -> Path | None:
    """The image called ``name`` in ``folder`` (by file name, or by stem with any image
    suffix, as YOLO and VOC refer to images; or by a stem ``unique_stems`` made, such as
    ``a_png`` for ``a.png``)."""
    candidate = folder / Path(name).name
    if candidate.is_file():
        return candidate
    stem = Path(name).stem
    same_stem = sorted((p for p in folder.glob(f"{glob_escape(stem)}.*")
                        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()),
                       key=lambda p: (p.name.lower(), p.name))
    if same_stem:
        return same_stem[0]  # the one unique_stems gave the bare stem
    base, _, ext = stem.rpartition("_")
    if base and f".{ext}" in IMAGE_SUFFIXES:
        for variant in (ext, ext.upper()):
            path = folder / f"{base}.{variant}"
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
