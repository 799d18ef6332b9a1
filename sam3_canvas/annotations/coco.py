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
from typing import Any

import numpy as np

from ..document import rle as rle_codec
from ..document.annotation import Document, Instance
from ..document.labels import LabelSet
from ..document.records import InstanceSource, SourceKind
from ..fsutil import atomic_write_text
from .dataset import ExportReport, ImportReport, checked_size, find_image, outline
from .polygons import DEFAULT_TOLERANCE, check_points, polygons_to_mask
from .rasterisers import COCO

ANNOTATIONS = "annotations.json"


def _coco_source(inst: Instance) -> InstanceSource:
    """What a COCO file said of the instance: imported from one, or masked from its box."""
    source = inst.source
    return source if source.get("kind") in ("import", "boxes") and \
        source.get("format") == "coco" else {}


class _Ids:
    """Ids kept from an imported COCO file where they are unambiguous, new ones after them."""

    def __init__(self):
        self.used: set[int] = set()
        self.pending: list = []

    def keep(self, wanted) -> int | None:
        if isinstance(wanted, int) and not isinstance(wanted, bool) and wanted > 0 and \
                wanted not in self.used:
            self.used.add(wanted)
            return wanted
        return None

    def new(self) -> int:
        value = max(self.used, default=0) + 1
        self.used.add(value)
        return value


def _shared(values) -> object:
    """The one value all of ``values`` have, or None."""
    found = set(values)
    return found.pop() if len(found) == 1 else None


def export_coco(docs: list[Document], labels: LabelSet, out: str | Path, images_dir: Path,
                polygons: bool = False, tolerance: float = DEFAULT_TOLERANCE,
                copy_images: bool = False, progress=None, min_part_px: int = 1) -> ExportReport:
    """``annotations.json``. What an imported COCO file said is kept: image, category and
    annotation ids (where unambiguous), ``iscrowd`` (crowd regions stay RLE) and
    ``supercategory``. Polygon ``area`` and ``bbox`` are those of the polygons as
    pycocotools reads them; coordinates are clamped to the image."""
    report = ExportReport(Path(out))
    for doc in docs:
        for inst in doc.instances:
            labels.add(inst.label)
    category_ids, categories = _Ids(), {}  # type: _Ids, dict[str, dict[str, Any]]
    for name in labels.names:
        sources = [_coco_source(i) for d in docs for i in d.instances if i.label == name]
        wanted = _shared(s.get("category_id") for s in sources) if sources and \
            all(s for s in sources) else None
        categories[name] = {"id": category_ids.keep(wanted), "name": name,
                            "supercategory": str(_shared(s.get("supercategory", "")
                                                         for s in sources if s) or "")}
    for category in categories.values():
        category["id"] = category["id"] or category_ids.new()
    image_ids, annotation_ids = _Ids(), _Ids()
    kept_image = {}
    for doc in docs:
        sources = [_coco_source(i) for i in doc.instances]
        wanted = _shared(s.get("image_id") for s in sources) if sources and all(sources) \
            else None
        kept_image[doc.image_file] = image_ids.keep(wanted)
    kept_ann = {(doc.image_file, inst.id): annotation_ids.keep(_coco_source(inst).get("id"))
                for doc in docs for inst in doc.instances}
    images: list[dict] = []
    annotations: list[dict[str, Any]] = []
    tmp = Path(out)  # a staging folder: formats.export moves it into place
    for doc in docs:
        image_id = kept_image[doc.image_file] or image_ids.new()
        images.append({"id": image_id, "file_name": doc.image_file, "width": doc.width,
                       "height": doc.height})
        if copy_images:
            (tmp / "images").mkdir(exist_ok=True)
            shutil.copy2(images_dir / doc.image_file, tmp / "images" / doc.image_file)
        for inst in doc.instances:
            crowd = int(_coco_source(inst).get("iscrowd", 0) or 0)
            entry: dict[str, Any] = {
                     "id": kept_ann[(doc.image_file, inst.id)] or annotation_ids.new(),
                     "image_id": image_id, "category_id": categories[inst.label]["id"],
                     "iscrowd": 1 if crowd else 0, "area": inst.area, "bbox": list(inst.bbox)}
            if inst.score is not None:
                entry["score"] = inst.score
            if polygons and not crowd:  # crowd regions are RLE in COCO
                found = outline(doc, inst, tolerance, report, COCO, min_part_px,
                                too_small="written as RLE")
                if found.parts:
                    written = [np.round(np.clip(p, 0, [doc.width, doc.height]), 2)
                               for p in found.parts]
                    entry["segmentation"] = [p.reshape(-1).tolist() for p in written]
                    # area and bbox of what was written, as pycocotools reads it back
                    entry["area"], entry["bbox"] = rle_codec.merged_polygons(
                        written, doc.height, doc.width)
                else:
                    entry["segmentation"] = inst.rle
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
            "categories": sorted(categories.values(), key=lambda c: c["id"])}
    atomic_write_text(tmp / ANNOTATIONS, json.dumps(data))
    return report


def import_coco(path: str | Path, images_dir: Path) -> ImportReport:
    path = Path(path)
    report = ImportReport()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        images = {int(i["id"]): i for i in data["images"]}
        categories = {int(c["id"]): str(c["name"]) for c in data.get("categories", [])}
        supercategories = {int(c["id"]): str(c.get("supercategory") or "")
                           for c in data.get("categories", [])}
        annotations = data.get("annotations", [])
        if not isinstance(annotations, list):
            raise TypeError("'annotations' is not a list")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError,
            ValueError, AttributeError, OverflowError) as exc:
        report.problems.append(f"{path}: not a readable COCO file ({exc})")
        return report
    for cid, name in list(categories.items()):
        if not name.strip():
            report.problems.append(f"{path}: category {cid} has no name; its annotations are "
                                   "skipped")
            del categories[cid]
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
        ann_image, category_id = _id(ann.get("image_id")), _id(ann.get("category_id"))
        doc = docs.get(ann_image) if ann_image is not None else None
        if doc is None or ann_image is None:
            if ann_image not in images:
                report.problems.append(f"{where}: refers to unknown image {ann.get('image_id')!r}")
            continue
        label = categories.get(category_id) if category_id is not None else None
        if label is None or category_id is None:
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
        source = coco_identity(ann, path.name, ann_image, category_id,
                               supercategories.get(category_id, ""))
        doc.insert(Instance(doc.next_id(), label, rle_codec.encode(mask),
                            score=ann.get("score"), source=source))
    report.documents = list(docs.values())
    return report


def coco_identity(ann: dict, file: str, image_id: int, category_id: int,
                  supercategory: str, kind: SourceKind = "import") -> InstanceSource:
    """What a COCO annotation is called in its file, kept so that an export to COCO writes
    the same ids (annotation, image, category), ``iscrowd`` and ``supercategory`` back."""
    return {"kind": kind, "format": "coco", "file": file,
            "id": _id(ann.get("id")), "iscrowd": 1 if ann.get("iscrowd") in (1, True, "1")
            else 0, "image_id": image_id, "category_id": category_id,
            "supercategory": supercategory}


def _id(value) -> int | None:
    """A COCO id as an int, or None for anything else (a list, a dict, NaN, 1e300...)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _annotation_mask(segmentation, height: int, width: int) -> np.ndarray:
    if isinstance(segmentation, list):
        polygons = [p for p in segmentation if isinstance(p, list)]
        if not polygons or any(len(p) < 6 or len(p) % 2 for p in polygons):
            raise ValueError("a polygon needs at least three points (six numbers)")
        return polygons_to_mask([check_points(p, width, height).reshape(-1, 2)
                                 for p in polygons], width, height)
    if isinstance(segmentation, dict) and "counts" in segmentation:
        try:
            size = [int(v) for v in segmentation.get("size", [])]
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"RLE size {segmentation.get('size')!r} is not two integers") \
                from None
        if size != [height, width]:
            raise ValueError(f"RLE size {size} disagrees with the image ({height} x {width})")
        rle_codec.validate(segmentation)  # before pycocotools, which has no bounds checks
        return rle_codec.decode(segmentation)
    raise ValueError("segmentation is neither polygons nor RLE")
