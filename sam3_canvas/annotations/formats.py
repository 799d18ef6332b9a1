"""The dataset formats, by name, with what each keeps (the CLI, the GUI and the docs use this)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

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
           tolerance: float | None = None, copy_images: bool = False, progress=None):
    from .polygons import DEFAULT_TOLERANCE
    tolerance = DEFAULT_TOLERANCE if tolerance is None else tolerance
    if fmt == "coco":
        return coco.export_coco(docs, labels, out, images_dir, polygons=polygons,
                                tolerance=tolerance, copy_images=copy_images, progress=progress)
    if fmt == "yolo":
        return yolo.export_yolo(docs, labels, out, images_dir, tolerance, copy_images, progress)
    if fmt == "voc":
        return voc.export_voc(docs, labels, out, images_dir, copy_images, progress)
    if fmt == "labelme":
        return labelme.export_labelme(docs, labels, out, images_dir, tolerance, progress)
    if fmt == "png":
        from .dataset import ExportReport, staged_folder
        with staged_folder(out) as tmp:
            summary = mask_export.export_masks(docs, labels, tmp, progress=progress)
        return ExportReport(Path(out), summary.images, summary.instances)
    raise ValueError(f"unknown format {fmt!r}: choose one of {', '.join(FORMATS)}")
