"""Box datasets as box prompts: every box of a COCO file or a YOLO labels folder, per image.

Each box becomes one prompt; the best of the three masks becomes an instance with the box's
class and the box's identity (COCO: annotation, image and category ids, kept by a COCO export;
YOLO: the label file and line). YOLO boxes are fractions of the image, so they are turned into
pixels by the worker, which knows the image's size.
"""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..annotations.coco import _id, coco_identity
from ..annotations.yolo import read_names
from ..document.records import InstanceSource
from ..engine.errors import Sam3CanvasError


class BoxesError(Sam3CanvasError):
    """The box annotations cannot be read at all (a bad box only gets a problem line)."""


@dataclass(frozen=True)
class BoxPrompt:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2; pixels, or fractions if relative
    label: str
    source: InstanceSource
    relative: bool = False  # YOLO: fractions of the image's width and height

    def in_pixels(self, width: int, height: int) -> tuple[float, float, float, float]:
        x1, y1, x2, y2 = self.box
        if self.relative:
            x1, x2, y1, y2 = x1 * width, x2 * width, y1 * height, y2 * height
        return (max(0.0, min(x1, width)), max(0.0, min(y1, height)),
                max(0.0, min(x2, width)), max(0.0, min(y2, height)))


@dataclass
class BoxSet:
    """The boxes of a dataset, by image: COCO by file name, YOLO by file stem."""

    by_name: dict[str, list[BoxPrompt]] = field(default_factory=dict)
    by_stem: dict[str, list[BoxPrompt]] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    origin: str = ""  # the file or folder they came from, for the documents' meta

    def for_image(self, name: str) -> list[BoxPrompt] | None:
        """The image's boxes (maybe none), or None when the dataset does not list it."""
        if name in self.by_name:
            return self.by_name[name]
        return self.by_stem.get(posixpath.splitext(name)[0])

    @property
    def count(self) -> int:
        return sum(map(len, self.by_name.values())) + sum(map(len, self.by_stem.values()))


def read_boxes(path: str | Path) -> BoxSet:
    """A COCO JSON file or a YOLO labels folder (``labels/`` inside it, or the ``.txt`` files
    themselves, with ``data.yaml`` or ``classes.txt`` naming the classes)."""
    path = Path(path)
    if path.is_dir():
        return _read_yolo(path)
    if path.is_file():
        return _read_coco(path)
    raise BoxesError(f"{path}: no such file or folder (a COCO JSON file or a YOLO labels "
                     "folder)")


def _read_coco(path: Path) -> BoxSet:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        images = {int(i["id"]): str(i["file_name"]) for i in data["images"]}
        categories = {int(c["id"]): c for c in data.get("categories", [])}
        annotations = data.get("annotations", [])
        if not isinstance(annotations, list):
            raise TypeError("'annotations' is not a list")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError,
            ValueError, AttributeError, OverflowError) as exc:
        raise BoxesError(f"{path}: not a readable COCO file ({exc})") from None
    found = BoxSet(origin=path.name,
                   labels=[str(categories[k].get("name", k)) for k in sorted(categories)])
    for file_name in images.values():  # every listed image is done, boxes or not
        found.by_name.setdefault(posixpath.basename(file_name), [])
    for ann in annotations:
        where = f"{path}: annotation {ann.get('id', '?') if isinstance(ann, dict) else '?'}"
        if not isinstance(ann, dict):
            found.problems.append(f"{where}: not an object")
            continue
        image_id, category_id = _id(ann.get("image_id")), _id(ann.get("category_id"))
        if image_id not in images:
            found.problems.append(f"{where}: refers to unknown image {ann.get('image_id')!r}")
            continue
        category = categories.get(category_id) if category_id is not None else None
        if category is None or category_id is None or \
                not str(category.get("name", "")).strip():
            found.problems.append(f"{where}: unknown category {ann.get('category_id')!r}")
            continue
        try:
            x, y, w, h = (float(v) for v in ann["bbox"])
        except (KeyError, TypeError, ValueError):
            found.problems.append(f"{where}: no bbox [x, y, width, height]")
            continue
        if not (np.isfinite([x, y, w, h]).all() and w > 0 and h > 0):
            found.problems.append(f"{where}: the bbox {ann['bbox']} is empty or not finite")
            continue
        source = coco_identity(ann, path.name, image_id, category_id,
                               str(category.get("supercategory") or ""), kind="boxes")
        source["box"] = [x, y, x + w, y + h]
        found.by_name[posixpath.basename(images[image_id])].append(
            BoxPrompt((x, y, x + w, y + h), str(category["name"]), source))
    return found


def _read_yolo(folder: Path) -> BoxSet:
    labels_dir = folder / "labels" if (folder / "labels").is_dir() else folder
    names = read_names(folder) or read_names(labels_dir)
    found = BoxSet(origin=folder.name, labels=list(names))
    files = sorted(p for p in labels_dir.glob("*.txt") if p.name != "classes.txt")
    if not files:
        raise BoxesError(f"{labels_dir}: no YOLO label files (*.txt)")
    for txt in files:
        try:
            lines = txt.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            found.problems.append(f"{txt}: cannot be read ({exc}); its image is skipped")
            continue
        boxes = found.by_stem.setdefault(txt.stem, [])
        for number, line in enumerate(lines, 1):
            if line.strip():
                box = _yolo_box(line, names, f"{txt}: line {number}", found.problems)
                if box is not None:
                    label, xyxy = box
                    boxes.append(BoxPrompt(xyxy, label, {
                        "kind": "boxes", "format": "yolo", "file": txt.name, "line": number,
                        "box": list(xyxy)}, relative=True))
    if not names:
        found.labels = sorted({b.label for v in found.by_stem.values() for b in v})
    return found


def _yolo_box(line: str, names: list[str], where: str, problems: list[str]
              ) -> tuple[str, tuple[float, float, float, float]] | None:
    """A label line (``class cx cy w h``, or a polygon ``class x y x y ...``) as its box."""
    try:
        values = [float(v) for v in line.split()]
    except ValueError:
        problems.append(f"{where}: not numbers")
        return None
    if not np.isfinite(values).all() or not float(values[0]).is_integer():
        problems.append(f"{where}: class {line.split()[0]!r} is not a whole number")
        return None
    cls = int(values[0])
    if cls < 0 or (names and cls >= len(names)):
        problems.append(f"{where}: class {cls} is not in the class list")
        return None
    coords = values[1:]
    if len(coords) == 4:
        cx, cy, w, h = coords
        xyxy = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    elif len(coords) >= 6 and len(coords) % 2 == 0:
        xs, ys = coords[0::2], coords[1::2]
        xyxy = (min(xs), min(ys), max(xs), max(ys))
    else:
        problems.append(f"{where}: neither a box (4 numbers) nor a polygon")
        return None
    if not xyxy[2] > xyxy[0] or not xyxy[3] > xyxy[1]:
        problems.append(f"{where}: the box is empty")
        return None
    return (names[cls] if names else str(cls)), xyxy
