"""labelme JSON: one file per image, polygon shapes (labelme 5 layout).

Export writes one ``polygon`` shape per part of an instance; the parts of one instance share a
``group_id`` (labelme's way of making one instance of several shapes), and holes are keyholed
in. Import reads ``polygon``, ``rectangle``, ``circle`` and ``mask`` shapes, groups shapes by
(label, group_id), and reports shapes it cannot use with the file and the shape's number.
"""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path

import numpy as np

from ..document import rle as rle_codec
from ..document.annotation import Document, Instance
from ..document.labels import IGNORED_NAMES, LabelSet
from ..engine.errors import ImageLoadError
from ..engine.images import read_pixels
from ..fsutil import atomic_write_text
from .dataset import ExportReport, ImportReport, checked_size, find_image, outline, unique_stems
from .polygons import DEFAULT_TOLERANCE, check_points
from .rasterisers import LABELME, labelme_circle, labelme_fill, labelme_rectangle

LABELME_VERSION = "5.5.0"


def export_labelme(docs: list[Document], labels: LabelSet, out: str | Path, images_dir: Path,
                   tolerance: float = DEFAULT_TOLERANCE, progress=None,
                   min_part_px: int = 1) -> ExportReport:
    out = Path(out)
    report = ExportReport(out)
    tmp = Path(out)  # a staging folder: formats.export moves it into place
    stems = unique_stems(docs, images_dir)
    for doc in docs:
        shapes: list[dict] = []
        for inst in doc.instances:
            labels.add(inst.label)
            found = outline(doc, inst, tolerance, report, LABELME, min_part_px)
            if not found.parts:
                continue
            group = inst.id if len(found.parts) > 1 else None
            for part in found.parts:
                part = np.clip(part, 0, [doc.width - 1, doc.height - 1])
                shapes.append({"label": inst.label,
                               "points": [[round(float(x), 2), round(float(y), 2)]
                                          for x, y in part],
                               "group_id": group, "description": "",
                               "shape_type": "polygon", "flags": {}, "mask": None})
            report.instances += 1
        image_path = os.path.relpath(images_dir / doc.image_file, out)
        data: dict = {"version": LABELME_VERSION, "flags": {}, "shapes": shapes,
                "imagePath": image_path, "imageData": None,
                "imageHeight": doc.height, "imageWidth": doc.width}
        atomic_write_text(tmp / f"{stems[doc.image_file]}.json", json.dumps(data, indent=1))
        report.images += 1
        if progress:
            progress(report.images)
    return report


def import_labelme(folder: str | Path, images_dir: Path | None = None) -> ImportReport:
    folder = Path(folder)
    files = [folder] if folder.is_file() else sorted(
        p for p in folder.glob("*.json") if not p.name.startswith("."))  # our export manifest
    report = ImportReport()
    names: dict[str, None] = {}
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            shapes = data["shapes"]
            if not isinstance(shapes, list):
                raise TypeError("'shapes' is not a list")
            width, height = checked_size(data["imageWidth"], data["imageHeight"])
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError,
                ValueError, AttributeError) as exc:
            report.problems.append(f"{path}: not a readable labelme file ({exc})")
            continue
        image = find_image(images_dir or path.parent, Path(str(data.get("imagePath") or
                                                               path.stem)).name)
        if image is None and images_dir is not None:
            image = find_image(path.parent, Path(str(data.get("imagePath") or path.stem)).name)
        if image is None:
            report.problems.append(f"{path}: its image {data.get('imagePath')} is missing")
            continue
        doc = Document(image.name, width, height)
        groups: dict[tuple, np.ndarray] = {}
        for number, shape in enumerate(shapes, 1):
            if not isinstance(shape, dict):
                report.problems.append(f"{path}: shape {number} is not an object")
                continue
            where = f"{path}: shape {number} ({shape.get('label', '?')})"
            if str(shape.get("label", "")).lower() in IGNORED_NAMES:
                report.problems.append(f"{where}: an ignore (void) region, not an instance")
                continue
            try:
                mask = _shape_mask(shape, width, height)
            except (ValueError, KeyError, TypeError) as exc:
                report.problems.append(f"{where}: {exc}")
                continue
            label = str(shape.get("label") or "object")
            group = shape.get("group_id")
            if not isinstance(group, (int, str, type(None))) or isinstance(group, bool):
                report.problems.append(f"{where}: group_id {group!r} is not a number; the "
                                       "shape is imported on its own")
                group = None
            key = (label, group) if group is not None else (label, f"shape-{number}")
            groups[key] = groups[key] | mask if key in groups else mask
            names[label] = None
        for (label, part), mask in groups.items():
            if mask.any():
                doc.insert(Instance(doc.next_id(), label, rle_codec.encode(mask),
                                    source={"kind": "import", "format": "labelme",
                                            "file": path.name,
                                            "shape": part if isinstance(part, str)
                                            else f"group-{part}"}))
        report.documents.append(doc)
    report.labels = list(names)
    return report


def _shape_mask(shape: dict, width: int, height: int) -> np.ndarray:
    kind = shape.get("shape_type") or "polygon"
    points = check_points(shape.get("points") or [], width, height).reshape(-1, 2)
    # drawn as labelme's own shape_to_mask draws them (PIL, outline and fill)
    if kind == "polygon":
        if len(points) < 3:
            raise ValueError(f"a polygon needs at least three points, it has {len(points)}")
        return labelme_fill([points], height, width)
    if kind == "rectangle":
        if len(points) != 2:
            raise ValueError("a rectangle needs two points")
        return labelme_rectangle(points, height, width)
    if kind == "circle":
        if len(points) != 2:
            raise ValueError("a circle needs two points")
        return labelme_circle(points, height, width)
    if kind == "mask":
        if shape.get("mask") is None or len(points) != 2:
            raise ValueError("a mask shape needs its PNG and two corner points")
        try:
            small = read_pixels(io.BytesIO(base64.b64decode(shape["mask"])), "the mask") > 0
        except (ImageLoadError, ValueError, TypeError) as exc:
            raise ValueError(f"its mask PNG cannot be read ({exc})") from None
        (x1, y1) = np.floor(points.min(axis=0)).astype(int)
        mask = np.zeros((height, width), bool)
        # the part of the mask's rectangle that lies on the image (it may start off it)
        top, left = max(y1, 0), max(x1, 0)
        bottom = min(y1 + small.shape[0], height)
        right = min(x1 + small.shape[1], width)
        if bottom <= top or right <= left:
            raise ValueError(f"its mask lies outside the {width} x {height} image")
        mask[top:bottom, left:right] = small[top - y1:bottom - y1, left - x1:right - x1]
        return mask
    raise ValueError(f"shape type {kind!r} is not an area (points and lines carry no mask)")
