"""How each format's consumers turn polygons back into masks, reimplemented from their code.

A polygon format is only as good as what its readers draw from it, and they draw differently:

* COCO: pycocotools (``frPyObjects`` + ``decode``), with continuous coordinates where pixel i
  spans [i, i + 1): a polygon along the outer pixel edges gives the pixels back.
* labelme: ``labelme.utils.shape_to_mask``, i.e. PIL ``ImageDraw.polygon(xy, outline=1,
  fill=1)``: integer coordinates are pixel centres and the outline is drawn too, so a polygon
  through the centres of the boundary pixels gives them back (rectangles and circles likewise
  with ``ImageDraw.rectangle`` and ``ImageDraw.ellipse``).
* YOLO: ultralytics' ``polygon2mask``: denormalised coordinates cast to int32 (truncation)
  and ``cv2.fillPoly``: a polygon through ``centre + 0.5`` (so that truncation lands on the
  centre) gives them back.

The exporters write each format in its consumers' convention (``Consumer.convention``), and
the importers read each format as its tool does, with these functions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw


def pycocotools_fill(parts: list[np.ndarray], height: int, width: int) -> np.ndarray:
    """COCO polygons (corner coordinates) as pycocotools draws them."""
    from pycocotools import mask as mask_utils

    flat = [np.asarray(p, dtype=np.float64).reshape(-1).tolist() for p in parts
            if np.asarray(p).size >= 6]
    if not flat:
        return np.zeros((height, width), bool)
    return mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(flat, height, width))) \
        .astype(bool)


def labelme_fill(parts: list[np.ndarray], height: int, width: int) -> np.ndarray:
    """labelme's ``shape_to_mask`` for polygons: PIL, outline and fill (union of parts)."""
    image = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(image)
    for part in parts:
        points = [(float(x), float(y)) for x, y in np.asarray(part).reshape(-1, 2)]
        if not points:
            continue
        points += points[-1:] * (3 - len(points))  # PIL wants three; a dot stays a dot
        draw.polygon(points, outline=1, fill=1)
    return np.asarray(image, dtype=bool)


def labelme_rectangle(corners: np.ndarray, height: int, width: int) -> np.ndarray:
    image = Image.new("L", (width, height), 0)
    (x1, y1), (x2, y2) = np.asarray(corners, dtype=np.float64).reshape(2, 2)
    ImageDraw.Draw(image).rectangle([min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)],
                                    outline=1, fill=1)
    return np.asarray(image, dtype=bool)


def labelme_circle(points: np.ndarray, height: int, width: int) -> np.ndarray:
    image = Image.new("L", (width, height), 0)
    (cx, cy), (px, py) = np.asarray(points, dtype=np.float64).reshape(2, 2)
    d = float(np.hypot(cx - px, cy - py))
    ImageDraw.Draw(image).ellipse([cx - d, cy - d, cx + d, cy + d], outline=1, fill=1)
    return np.asarray(image, dtype=bool)


def ultralytics_fill(parts: list[np.ndarray], height: int, width: int) -> np.ndarray:
    """ultralytics' ``polygon2mask`` on pixel coordinates: int32 truncation, ``cv2.fillPoly``."""
    mask = np.zeros((height, width), np.uint8)
    rings = [np.asarray(p, dtype=np.float64).reshape(-1, 2).astype(np.int32)
             for p in parts if np.asarray(p).size >= 2]
    if rings:
        cv2.fillPoly(mask, rings, 1)
    return mask.astype(bool)


@dataclass(frozen=True)
class Consumer:
    """A format's readers: where they put a polygon's vertices, and how they fill it."""

    name: str
    convention: str  # "edges": vertices on pixel corners; "centres": on pixel centres
    fill: Callable[[list[np.ndarray], int, int], np.ndarray]
    offset: float = 0.0  # added to centre coordinates when writing (YOLO: truncation)


COCO = Consumer("pycocotools", "edges", pycocotools_fill)
LABELME = Consumer("labelme shape_to_mask", "centres", labelme_fill)
ULTRALYTICS = Consumer("ultralytics polygon2mask", "centres",
                       lambda parts, h, w: ultralytics_fill([np.asarray(p) + 0.5 for p in parts],
                                                            h, w), offset=0.5)
