"""COCO instances JSON: masks as RLE (exact) or as polygons (holes keyholed in).

Export writes ``annotations.json`` (and, on request, the images under ``images/``). Import reads
polygons, compressed and uncompressed RLE, ``iscrowd`` 0 and 1, through pycocotools; each
annotation that cannot be used (unknown category, RLE whose size disagrees with the image,
degenerate polygon) is reported with the file and its id, the rest is imported.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import numpy as np

from ..app.document import Document, Instance
from ..app.labels import LabelSet
from ..fsutil import atomic_write_text
from . import rle as rle_codec
from .dataset import ExportReport, ImportReport, checked_size, find_image, outline
from .polygons import DEFAULT_TOLERANCE, check_points, polygons_to_mask

ANNOTATIONS = "annotations.json"


def export_coco(docs: list[Document], labels: LabelSet, out: str | Path, images_dir: Path,
                polygons: bool = False, tolerance: float = DEFAULT_TOLERANCE,
                copy_images: bool = False, progress=None) -> ExportReport:
    report = ExportReport(Path(out))
    for doc in docs:
        for inst in doc.instances:
            labels.add(inst.label)
    categories = [{"id": labels.class_id(n), "name": n, "supercategory": ""} for n in labels.names]
    images, annotations = [], []
    tmp = Path(out)  # a staging folder: formats.export moves it into place
    for image_id, doc in enumerate(docs, 1):
        images.append({"id": image_id, "file_name": doc.image_file, "width": doc.width,
                       "height": doc.height})
        if copy_images:
            (tmp / "images").mkdir(exist_ok=True)
            shutil.copy2(images_dir / doc.image_file, tmp / "images" / doc.image_file)
        for inst in doc.instances:
            entry = {"id": len(annotations) + 1, "image_id": image_id,
                     "category_id": labels.class_id(inst.label), "iscrowd": 0,
                     "area": inst.area, "bbox": list(inst.bbox)}
            if inst.score is not None:
                entry["score"] = inst.score
            if polygons:
                found = outline(doc, inst, tolerance, report, too_small="written as RLE")
                entry["segmentation"] = [[round(float(v), 2) for v in p.reshape(-1)]
                                         for p in found.parts] if found.parts else inst.rle
            else:
                entry["segmentation"] = inst.rle
            annotations.append(entry)
        report.images += 1
        report.instances += len(doc.instances)
        if progress:
            progress(report.images)
    data = {"info": {"description": "exported by sam3-canvas",
                     "date_created": time.strftime("%Y-%m-%d")},
            "licenses": [], "images": images, "annotations": annotations,
            "categories": categories}
    atomic_write_text(tmp / ANNOTATIONS, json.dumps(data))
    return report


def import_coco(path: str | Path, images_dir: Path) -> ImportReport:
    path = Path(path)
    report = ImportReport()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        images = {int(i["id"]): i for i in data["images"]}
        categories = {int(c["id"]): str(c["name"]) for c in data.get("categories", [])}
        annotations = data.get("annotations", [])
        if not isinstance(annotations, list):
            raise TypeError("'annotations' is not a list")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError,
            ValueError, AttributeError) as exc:
        report.problems.append(f"{path}: not a readable COCO file ({exc})")
        return report
    report.labels = [categories[k] for k in sorted(categories)]
    docs: dict[int, Document] = {}
    for image_id, info in images.items():
        image = find_image(images_dir, str(info.get("file_name", "")))
        if image is None:
            report.problems.append(f"{path}: image {image_id} ({info.get('file_name')}) is not "
                                   f"in {images_dir}; its annotations are skipped")
            continue
        try:
            width, height = checked_size(info.get("width"), info.get("height"))
        except ValueError as exc:
            report.problems.append(f"{path}: image {image_id}: {exc}; its annotations are "
                                   "skipped")
            continue
        docs[image_id] = Document(image.name, width, height)
    for ann in annotations:
        if not isinstance(ann, dict):
            report.problems.append(f"{path}: an annotation is not an object ({ann!r:.40})")
            continue
        where = f"{path}: annotation {ann.get('id', '?')}"
        doc = docs.get(ann.get("image_id"))
        if doc is None:
            if ann.get("image_id") not in images:
                report.problems.append(f"{where}: refers to unknown image {ann.get('image_id')}")
            continue
        label = categories.get(ann.get("category_id"))
        if label is None:
            report.problems.append(f"{where}: unknown category {ann.get('category_id')}")
            continue
        try:
            mask = _annotation_mask(ann.get("segmentation"), doc.height, doc.width)
        except (ValueError, TypeError) as exc:
            report.problems.append(f"{where}: {exc}")
            continue
        if not mask.any():
            report.problems.append(f"{where}: the mask is empty")
            continue
        source = {"kind": "import", "format": "coco", "file": path.name, "id": ann.get("id"),
                  "iscrowd": int(ann.get("iscrowd", 0))}
        doc.insert(Instance(doc.next_id(), label, rle_codec.encode(mask),
                            score=ann.get("score"), source=source))
    report.documents = list(docs.values())
    return report


def _annotation_mask(segmentation, height: int, width: int) -> np.ndarray:
    if isinstance(segmentation, list):
        polygons = [p for p in segmentation if isinstance(p, list)]
        if not polygons or any(len(p) < 6 or len(p) % 2 for p in polygons):
            raise ValueError("a polygon needs at least three points (six numbers)")
        return polygons_to_mask([check_points(p, width, height).reshape(-1, 2)
                                 for p in polygons], width, height)
    if isinstance(segmentation, dict) and "counts" in segmentation:
        size = [int(v) for v in segmentation.get("size", [])]
        if size != [height, width]:
            raise ValueError(f"RLE size {size} disagrees with the image ({height} x {width})")
        rle_codec.validate(segmentation)  # before pycocotools, which has no bounds checks
        return rle_codec.decode(segmentation)
    raise ValueError("segmentation is neither polygons nor RLE")
