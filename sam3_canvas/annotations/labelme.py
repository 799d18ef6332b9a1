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

import cv2
import numpy as np

from ..app.document import Document, Instance
from ..engine.errors import ImageLoadError
from ..engine.images import read_pixels
from ..app.labels import IGNORED_NAMES, LabelSet
from ..fsutil import atomic_write_text
from . import rle as rle_codec
from .dataset import ExportReport, ImportReport, checked_size, find_image, outline
from .polygons import DEFAULT_TOLERANCE, check_points, polygons_to_mask

LABELME_VERSION = "5.5.0"


def export_labelme(docs: list[Document], labels: LabelSet, out: str | Path, images_dir: Path,
                   tolerance: float = DEFAULT_TOLERANCE, progress=None) -> ExportReport:
    out = Path(out)
    report = ExportReport(out)
    tmp = Path(out)  # a staging folder: formats.export moves it into place
    for doc in docs:
        shapes = []
        for inst in doc.instances:
            labels.add(inst.label)
            found = outline(doc, inst, tolerance, report)
            if not found.parts:
                continue
            group = inst.id if len(found.parts) > 1 else None
            for part in found.parts:
                shapes.append({"label": inst.label,
                               "points": [[round(float(x), 2), round(float(y), 2)]
                                          for x, y in part],
                               "group_id": group, "description": "",
                               "shape_type": "polygon", "flags": {}, "mask": None})
            report.instances += 1
        image_path = os.path.relpath(images_dir / doc.image_file, out)
        data = {"version": LABELME_VERSION, "flags": {}, "shapes": shapes,
                "imagePath": image_path, "imageData": None,
                "imageHeight": doc.height, "imageWidth": doc.width}
        atomic_write_text(tmp / f"{Path(doc.image_file).stem}.json", json.dumps(data, indent=1))
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
    if kind == "polygon":
        if len(points) < 3:
            raise ValueError(f"a polygon needs at least three points, it has {len(points)}")
        return polygons_to_mask([points], width, height)
    if kind == "rectangle":
        if len(points) != 2:
            raise ValueError("a rectangle needs two points")
        x1, x2 = sorted(points[:, 0])
        y1, y2 = sorted(points[:, 1])
        corners = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])
        return polygons_to_mask([corners], width, height)
    if kind == "circle":
        if len(points) != 2:
            raise ValueError("a circle needs two points")
        mask = np.zeros((height, width), np.uint8)
        (cx, cy), edge = points[0], points[1]
        radius = float(np.hypot(*(edge - points[0])))
        cv2.circle(mask, (int(round(cx - 0.5)), int(round(cy - 0.5))), int(round(radius)), 1, -1)
        return mask.astype(bool)
    if kind == "mask":
        if shape.get("mask") is None or len(points) != 2:
            raise ValueError("a mask shape needs its PNG and two corner points")
        try:
            small = read_pixels(io.BytesIO(base64.b64decode(shape["mask"])), "the mask") > 0
        except (ImageLoadError, ValueError, TypeError) as exc:
            raise ValueError(f"its mask PNG cannot be read ({exc})") from None
        (x1, y1) = np.floor(points.min(axis=0)).astype(int)
        mask = np.zeros((height, width), bool)
        h = min(small.shape[0], height - y1)
        w = min(small.shape[1], width - x1)
        mask[y1:y1 + h, x1:x1 + w] = small[:h, :w]
        return mask
    raise ValueError(f"shape type {kind!r} is not an area (points and lines carry no mask)")
