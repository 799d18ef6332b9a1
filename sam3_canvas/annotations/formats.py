"""The dataset formats, by name, with what each keeps (the CLI, the GUI and the docs use this)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import coco, labelme, mask_export, masks_import, voc, yolo


@dataclass(frozen=True)
class Format:
    name: str
    title: str
    keeps: str  # what survives the format, for the user
    polygons: bool  # whether masks become polygons (tolerance applies)
    reader: Callable  # (source, images_dir) -> ImportReport


FORMATS: dict[str, Format] = {
    "coco": Format("coco", "COCO instances JSON",
                   "RLE: every pixel, holes and parts. Polygons (--polygons): parts as separate "
                   "polygons, holes keyholed in, outline simplified by the tolerance",
                   False, lambda src, images: coco.import_coco(
                       Path(src) / coco.ANNOTATIONS if Path(src).is_dir() else src, images)),
    "yolo": Format("yolo", "YOLO segmentation (labels/*.txt + data.yaml)",
                   "one polygon per instance: parts joined by zero-width bridges, holes keyholed "
                   "in, outline simplified by the tolerance", True, yolo.import_yolo),
    "voc": Format("voc", "Pascal VOC (SegmentationClass + SegmentationObject PNGs)",
                  "every pixel, holes and parts; one label per pixel, so overlaps go to the "
                  "later instance", False, voc.import_voc),
    "labelme": Format("labelme", "labelme JSON (one file per image)",
                      "parts as polygons sharing a group_id, holes keyholed in, outline "
                      "simplified by the tolerance", True, labelme.import_labelme),
    "png": Format("png", "mask PNGs (per instance, semantic and instance-id maps)",
                  "every pixel, holes and parts; the maps keep the later instance where two "
                  "overlap, the per-instance files keep both", False, masks_import.import_masks),
}


def export(fmt: str, docs, labels, out: Path, images_dir: Path, polygons: bool = False,
           tolerance: float | None = None, copy_images: bool = False, progress=None,
           beside: bool = False, min_part_px: int = 1):
    """Write ``docs`` as a dataset in ``out`` (see ``export_target``: a folder holding files
    that are not a previous export of ours is refused unless ``beside``). ``progress(n)``
    after each image; an exception it raises cancels the export and leaves ``out`` as it was."""
    from .dataset import ExportReport
    from .export_target import Outcome, staged_export
    from .polygons import DEFAULT_TOLERANCE
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
    tolerance = DEFAULT_TOLERANCE if tolerance is None else tolerance
    outcome = Outcome()
    with staged_export(out, fmt, beside=beside, outcome=outcome) as tmp:
        if fmt == "coco":
            report = coco.export_coco(docs, labels, tmp, images_dir, polygons=polygons,
                                      tolerance=tolerance, copy_images=copy_images,
                                      progress=progress, min_part_px=min_part_px)
        elif fmt == "yolo":
            report = yolo.export_yolo(docs, labels, tmp, images_dir, tolerance, copy_images,
                                      progress, min_part_px)
        elif fmt == "voc":
            report = voc.export_voc(docs, labels, tmp, images_dir, copy_images, progress)
        elif fmt == "labelme":
            report = labelme.export_labelme(docs, labels, tmp, images_dir, tolerance, progress,
                                            min_part_px)
        else:
            summary = mask_export.export_masks(docs, labels, tmp, progress=progress,
                                               images_dir=images_dir)
            report = ExportReport(tmp, summary.images, summary.instances)
    report.folder = Path(out)
    report.outcome = outcome
    if not docs:
        report.warnings.append("no image has annotations: the dataset is empty")
    return report
