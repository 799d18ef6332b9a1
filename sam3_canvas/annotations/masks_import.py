"""Reading mask PNGs back: the layout ``mask_export`` writes (instance-id map + semantic map +
``classes.txt``), or a folder of per-instance masks named ``<stem>_<id>_<label>.png``."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..app.document import Instance
from ..engine.errors import ImageLoadError
from ..engine.images import read_pixels
from . import rle as rle_codec
from .dataset import ImportReport, find_image, new_document

INSTANCE_FILE = re.compile(r"^(?P<stem>.+)_(?P<id>\d+)_(?P<label>[^_]+(?:_[^_]+)*)\.png$")


def import_masks(folder: str | Path, images_dir: Path) -> ImportReport:
    folder = Path(folder)
    classes_file = folder / "classes.txt"
    names = [n.strip() for n in classes_file.read_text().splitlines() if n.strip()] \
        if classes_file.is_file() else []
    report = ImportReport(labels=names)
    if (folder / "instance_ids").is_dir():
        _from_maps(folder, images_dir, names, report)
    else:
        _from_instance_files(folder / "instances" if (folder / "instances").is_dir() else folder,
                             images_dir, report)
    return report


def _from_maps(folder: Path, images_dir: Path, names: list[str], report: ImportReport) -> None:
    for ids_png in sorted((folder / "instance_ids").glob("*.png")):
        image = find_image(images_dir, ids_png.stem)
        if image is None:
            report.problems.append(f"{ids_png}: no image {ids_png.stem}.* in {images_dir}")
            continue
        semantic_png = folder / "semantic" / ids_png.name
        try:
            doc = new_document(image)
            ids = read_pixels(ids_png)
            semantic = read_pixels(semantic_png) if semantic_png.is_file() else None
        except ImageLoadError as exc:
            report.problems.append(f"{exc}; skipped")
            continue
        if ids.shape != (doc.height, doc.width):
            report.problems.append(f"{ids_png}: {ids.shape} does not match the image "
                                   f"({doc.height} x {doc.width})")
            continue
        for value in sorted(set(np.unique(ids)) - {0}):
            mask = ids == value
            label = "object"
            if semantic is not None:
                cls = int(np.bincount(semantic[mask]).argmax())
                if 0 < cls <= len(names):
                    label = names[cls - 1]
                else:
                    report.problems.append(f"{ids_png}: instance {value} has class {cls}, not "
                                           "in classes.txt; labelled 'object'")
            doc.insert(Instance(doc.next_id(), label, rle_codec.encode(mask),
                                source={"kind": "import", "format": "png",
                                        "file": ids_png.name, "id": int(value)}))
        report.documents.append(doc)


def _from_instance_files(folder: Path, images_dir: Path, report: ImportReport) -> None:
    docs = {}
    for png in sorted(folder.glob("*.png")):
        match = INSTANCE_FILE.match(png.name)
        if match is None:
            report.problems.append(f"{png}: not named <image>_<id>_<label>.png")
            continue
        image = find_image(images_dir, match["stem"])
        if image is None:
            report.problems.append(f"{png}: no image {match['stem']}.* in {images_dir}")
            continue
        try:
            doc = docs.get(image.name) or docs.setdefault(image.name, new_document(image))
            mask = read_pixels(png, mode="L") > 127
        except ImageLoadError as exc:
            report.problems.append(f"{exc}; skipped")
            continue
        if mask.shape != (doc.height, doc.width):
            report.problems.append(f"{png}: {mask.shape} does not match the image")
            continue
        doc.insert(Instance(doc.next_id(), match["label"], rle_codec.encode(mask),
                            source={"kind": "import", "format": "png", "file": png.name}))
    report.documents.extend(docs.values())
    report.labels = sorted({i.label for d in report.documents for i in d.instances})
