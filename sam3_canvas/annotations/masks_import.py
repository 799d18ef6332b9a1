"""Reading mask PNGs: the layout ``mask_export`` writes, and the layouts public sets use.

Per-instance masks (``<stem>_<id>_<label>.png``, in ``instances/`` or the folder itself) are
preferred over the maps when both exist: they keep overlapping instances, which an instance-id
map cannot. Which pixels of a per-instance file are the object:

* palette (``P``) images: every index but 0 (background) and 255 (void, as PASCAL VOC marks
  object boundaries);
* 1-bit images, and grayscale images whose values are only 0 and 1: value 1;
* other grayscale images: values above 128, so 0/255 masks, anti-aliased masks and GrabCut's
  0/128/255 trimaps (128 is its uncertain band) all read as their object.

Instance-id maps (``instance_ids/<stem>.png``, 16-bit or palette, as written here and as DAVIS
and PASCAL VOC's ``SegmentationObject`` store objects) give one instance per value (0 is
background; 255 in an 8-bit map is void), labelled from ``semantic/<stem>.png`` and
``classes.txt`` when present. A mask with no object pixel is reported, not imported.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..document import rle as rle_codec
from ..document.annotation import Document, Instance
from ..engine.errors import ImageLoadError
from ..engine.images import open_pillow
from .dataset import ImportReport, find_image, new_document

INSTANCE_FILE = re.compile(r"^(?P<stem>.+)_(?P<id>\d+)_(?P<label>[^_]+(?:_[^_]+)*)\.png$")
VOID = 255


def import_masks(folder: str | Path, images_dir: Path) -> ImportReport:
    folder = Path(folder)
    classes_file = folder / "classes.txt"
    names = [n.strip() for n in classes_file.read_text(encoding="utf-8").splitlines()
             if n.strip()] if classes_file.is_file() else []
    report = ImportReport(labels=names)
    instances = folder / "instances" if (folder / "instances").is_dir() else folder
    if any(INSTANCE_FILE.match(p.name) for p in instances.glob("*.png")):
        _from_instance_files(instances, images_dir, report)
    elif (folder / "instance_ids").is_dir():
        _from_maps(folder, images_dir, names, report)
    else:
        report.problems.append(f"{folder}: no <image>_<id>_<label>.png files and no "
                               "instance_ids/ folder (see docs/formats.md for the layouts)")
    return report


def _pixels(path: Path) -> tuple[np.ndarray, str]:
    """The raw values of a PNG (palette indices stay indices) and its mode."""
    img = open_pillow(path, str(path))
    try:
        with img:
            mode = img.mode
            if mode in ("RGB", "RGBA", "LA"):
                return np.asarray(img.convert("L")), "L"
            return np.asarray(img), mode
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageLoadError(f"{path}: the image is corrupt or truncated ({exc})") from None


def object_pixels(values: np.ndarray, mode: str) -> np.ndarray:
    """Which pixels of a per-instance mask are the object (see the module's rules)."""
    if mode == "P":
        return (values != 0) & (values != VOID)
    if mode == "1" or values.dtype == np.bool_:
        return values.astype(bool)
    if values.size and int(values.max()) <= 1:
        return values == 1
    return values > 128


def _from_maps(folder: Path, images_dir: Path, names: list[str], report: ImportReport) -> None:
    for ids_png in sorted((folder / "instance_ids").glob("*.png")):
        image = find_image(images_dir, ids_png.stem)
        if image is None:
            report.problems.append(f"{ids_png}: no image {ids_png.stem}.* in {images_dir}")
            continue
        semantic_png = folder / "semantic" / ids_png.name
        try:
            doc = new_document(image)
            ids, mode = _pixels(ids_png)
            semantic = _pixels(semantic_png)[0] if semantic_png.is_file() else None
        except ImageLoadError as exc:
            report.problems.append(f"{exc}; skipped")
            continue
        if ids.shape != (doc.height, doc.width):
            report.problems.append(f"{ids_png}: {ids.shape} does not match the image "
                                   f"({doc.height} x {doc.width})")
            continue
        values = set(np.unique(ids).tolist()) - {0}
        if ids.dtype == np.uint8 and VOID in values:
            values.discard(VOID)  # an 8-bit map's 255 is void (object boundaries in VOC)
        if not values:
            report.problems.append(f"{ids_png}: no instance in the map")
            continue
        for value in sorted(values):
            mask = ids == value
            label = "object"
            if semantic is not None and semantic.shape == ids.shape:
                cls = int(np.bincount(semantic[mask].astype(np.int64)).argmax())
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
    docs: dict[str, Document] = {}
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
            values, mode = _pixels(png)
        except ImageLoadError as exc:
            report.problems.append(f"{exc}; skipped")
            continue
        if values.shape != (doc.height, doc.width):
            report.problems.append(f"{png}: {values.shape} does not match the image "
                                   f"({doc.height} x {doc.width})")
            continue
        mask = object_pixels(values, mode)
        if not mask.any():
            report.problems.append(f"{png}: the mask is empty (values "
                                   f"{sorted(np.unique(values).tolist())[:4]}); skipped")
            continue
        doc.insert(Instance(doc.next_id(), match["label"], rle_codec.encode(mask),
                            source={"kind": "import", "format": "png", "file": png.name}))
    report.documents.extend(d for d in docs.values() if d.instances)
    report.labels = sorted({i.label for d in report.documents for i in d.instances})


__all__ = ["import_masks", "object_pixels"]
