"""Pascal VOC segmentation: ``SegmentationClass`` and ``SegmentationObject`` palette PNGs.

``SegmentationClass/<stem>.png``: pixel = class index (0 background), the VOC colour map;
``SegmentationObject/<stem>.png``: pixel = instance number (1, 2, ... in drawing order);
``labelmap.txt`` lists the classes (index = line number, background first) and
``ImageSets/Segmentation/default.txt`` the images. Masks are kept pixel for pixel; where two
instances overlap, the later one wins (VOC has one label per pixel), and the exporter says so.
VOC's 255 "void" border is not written; on import 255 is ignored.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from ..document import rle as rle_codec
from ..document.annotation import Document, Instance
from ..document.labels import LabelSet
from ..engine.errors import ImageLoadError
from ..engine.images import read_pixels
from ..fsutil import atomic_write_bytes, atomic_write_text
from .dataset import ExportReport, ImportReport, find_image, new_document, unique_stems

VOC_CLASSES = ["background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car",
               "cat", "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person",
               "pottedplant", "sheep", "sofa", "train", "tvmonitor"]


def voc_palette() -> list[int]:
    """The standard VOC colour map (bit interleaving of the index)."""
    palette = []
    for index in range(256):
        r = g = b = 0
        c = index
        for shift in range(7, -1, -1):
            r |= (c & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        palette += [r, g, b]
    return palette


def labelmap_text(names: list[str]) -> str:
    """``labelmap.txt`` as CVAT and datumaro write it: ``name:r,g,b:parts:actions``, with each
    class's colour in the VOC palette, so a name may hold colons and stays whole."""
    palette = voc_palette()
    lines = ["# label:color_rgb:parts:actions"]
    for index, name in enumerate(names):
        r, g, b = palette[3 * index: 3 * index + 3]
        lines.append(f"{name}:{r},{g},{b}::")
    return "\n".join(lines) + "\n"


def labelmap_name(line: str) -> str:
    """The class name of a labelmap line: the CVAT form ``name:r,g,b:parts:actions`` (the
    name is what comes before the last three colons) or a bare name per line."""
    line = line.rstrip("\n")
    if line.count(":") >= 3:
        return line.rsplit(":", 3)[0].strip()
    return line.strip()


def _png(array: np.ndarray) -> bytes:
    image = Image.fromarray(array.astype(np.uint8), "P")
    image.putpalette(voc_palette())
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def export_voc(docs: list[Document], labels: LabelSet, out: str | Path, images_dir: Path,
               copy_images: bool = False, progress=None) -> ExportReport:
    report = ExportReport(Path(out))
    for doc in docs:
        for inst in doc.instances:
            labels.add(inst.label)
    if len(labels) > 254 or max((len(d.instances) for d in docs), default=0) > 254:
        raise ValueError("VOC label maps hold at most 254 classes and 254 instances per image")
    tmp = Path(out)  # a staging folder: formats.export moves it into place
    for sub in ("SegmentationClass", "SegmentationObject", "ImageSets/Segmentation"):
        (tmp / sub).mkdir(parents=True)
    stems = unique_stems(docs, images_dir)
    for doc in docs:
        classes = np.zeros((doc.height, doc.width), np.uint8)
        objects = np.zeros((doc.height, doc.width), np.uint8)
        covered = np.zeros((doc.height, doc.width), bool)
        for number, inst in enumerate(doc.instances, 1):
            mask = inst.mask()
            overlap = int((mask & covered).sum())
            if overlap:
                report.warnings.append(f"{doc.image_file} instance {inst.id}: overlaps an "
                                       f"earlier one on {overlap} px; VOC keeps the later")
            covered |= mask
            classes[mask] = labels.class_id(inst.label)
            objects[mask] = number
        stem = stems[doc.image_file]
        atomic_write_bytes(tmp / "SegmentationClass" / f"{stem}.png", _png(classes))
        atomic_write_bytes(tmp / "SegmentationObject" / f"{stem}.png", _png(objects))
        if copy_images:
            (tmp / "JPEGImages").mkdir(exist_ok=True)
            shutil.copy2(images_dir / doc.image_file,
                         tmp / "JPEGImages" / f"{stem}{Path(doc.image_file).suffix}")
        report.images += 1
        report.instances += len(doc.instances)
        if progress:
            progress(report.images)
    atomic_write_text(tmp / "ImageSets" / "Segmentation" / "default.txt",
                      "\n".join(stems[d.image_file] for d in docs) + "\n")
    atomic_write_text(tmp / "labelmap.txt", labelmap_text(["background"] + labels.names))
    return report


def _class_names(folder: Path) -> list[str]:
    for name in ("labelmap.txt", "class_names.txt", "labels.txt"):
        path = folder / name
        if path.is_file():
            names = [labelmap_name(line) for line in path.read_text(encoding="utf-8")
                     .splitlines() if line.strip() and not line.startswith("#")]
            return names if names and names[0] in ("background", "_background_") else \
                ["background"] + names
    return VOC_CLASSES


def import_voc(folder: str | Path, images_dir: Path) -> ImportReport:
    folder = Path(folder)
    names = _class_names(folder)
    report = ImportReport(labels=names[1:])
    for obj_png in sorted((folder / "SegmentationObject").glob("*.png")):
        image = find_image(images_dir, obj_png.stem)
        if image is None:
            report.problems.append(f"{obj_png}: no image {obj_png.stem}.* in {images_dir}")
            continue
        class_png = folder / "SegmentationClass" / obj_png.name
        try:
            objects = read_pixels(obj_png)
            classes = read_pixels(class_png)
            doc = new_document(image)
        except ImageLoadError as exc:
            report.problems.append(f"{obj_png}: cannot be read with its class map and image "
                                   f"({exc})")
            continue
        if objects.shape != (doc.height, doc.width) or classes.shape != objects.shape:
            report.problems.append(f"{obj_png}: {objects.shape} does not match the image "
                                   f"({doc.height} x {doc.width})")
            continue
        for number in sorted(set(np.unique(objects)) - {0, 255}):
            mask = objects == number
            values, counts = np.unique(classes[mask], return_counts=True)
            keep = (values != 0) & (values != 255)
            if not keep.any():
                report.problems.append(f"{obj_png}: object {number} has no class")
                continue
            cls = int(values[keep][np.argmax(counts[keep])])
            if cls >= len(names):
                report.problems.append(f"{obj_png}: object {number} has class {cls}, not in "
                                       "the class list")
                continue
            doc.insert(Instance(doc.next_id(), names[cls], rle_codec.encode(mask),
                                source={"kind": "import", "format": "voc",
                                        "file": obj_png.name, "object": int(number)}))
        report.documents.append(doc)
    return report
