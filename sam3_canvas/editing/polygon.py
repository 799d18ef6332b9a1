"""Polygons drawn by clicks, and a mask's outline as rings whose vertices can be dragged.

Coordinates are continuous image coordinates (pixel i spans [i, i + 1), its centre is
i + 0.5), as the canvas reports them. Polygons are filled as pycocotools fills COCO polygons
(the same convention), so a ring along a mask's pixel edges gives back exactly its pixels; and
outlines are such rings (``annotations.polygons.exact_rings``), simplified for editing.

Reshaping an outline changes only what moved: the pixels between the ring as it was shown and
the ring as the user left it (and the two pixels beside that change, where the simplified ring
and the true edge differ) are added or taken away (the other way round for a hole); every other
pixel of the mask, holes and small parts included, stays exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..annotations.polygons import exact_rings, simplify
from ..annotations.rasterisers import pycocotools_fill
from .geometry import Rect, around

OUTLINE_TOLERANCE = 1.0  # pixels: vertices of an outline shown for editing


@dataclass(frozen=True)
class Ring:
    """One closed outline: the outer edge of a part, or the edge of a hole in it."""

    points: np.ndarray  # (N, 2) float64, continuous image coordinates
    hole: bool = False


def polygon_pixels(points: np.ndarray, width: int, height: int) -> tuple[np.ndarray, Rect] | None:
    """The pixels a polygon covers, cut to its bounding rectangle: (local mask, rect); None
    when it has fewer than three vertices or lies outside the image."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(points) < 3 or not np.isfinite(points).all():
        return None
    rect = around(points[:, 0].tolist(), points[:, 1].tolist(), 0.0, width, height)
    if rect is None:
        return None
    return _local_fill(points, rect), rect


def apply_polygon(mask: np.ndarray, points: np.ndarray, erase: bool = False) -> Rect | None:
    """Add a polygon's pixels to ``mask`` (or take them away), in place; the rectangle changed."""
    height, width = mask.shape
    found = polygon_pixels(points, width, height)
    if found is None:
        return None
    local, (x0, y0, x1, y1) = found
    mask[y0:y1, x0:x1][local] = not erase
    return x0, y0, x1, y1


def outline(mask: np.ndarray, tolerance: float = OUTLINE_TOLERANCE) -> list[Ring]:
    """The mask's outer edges and hole edges as rings along its pixel edges, simplified to
    ``tolerance`` (Douglas-Peucker), for editing by their vertices."""
    from .geometry import bounds

    box = bounds(np.asarray(mask, dtype=bool))
    if box is None:
        return []
    x0, y0, x1, y1 = box
    part = np.ascontiguousarray(mask[y0:y1, x0:x1], dtype=bool)
    rings = []
    for outer, holes in exact_rings(part, "edges"):
        rings.append(Ring(simplify(outer, tolerance) + (x0, y0)))
        rings.extend(Ring(simplify(hole, tolerance) + (x0, y0), hole=True) for hole in holes)
    return rings


def reshape_ring(mask: np.ndarray, old: Ring, new_points: np.ndarray) -> Rect | None:
    """Apply a ring moved from ``old.points`` to ``new_points`` to ``mask``, in place: only
    the pixels between the two change. Returns the rectangle changed, or None."""
    height, width = mask.shape
    new_points = np.asarray(new_points, dtype=np.float64).reshape(-1, 2)
    both = np.concatenate([old.points, new_points])
    rect = around(both[:, 0].tolist(), both[:, 1].tolist(), 0.0, width, height)
    if rect is None:
        return None
    x0, y0, x1, y1 = rect
    before = _local_fill(old.points, rect)
    after = _local_fill(new_points, rect)
    changed = before ^ after
    if not changed.any():
        return None
    # The ring shown is simplified, so along a moved edge the mask's true boundary may lie a
    # pixel inside it; once the edge moves away those pixels are inside the new ring and must
    # follow it, or a sliver of a hole would be left along the old edge.
    near = cv2.dilate(changed.view(np.uint8), np.ones((3, 3), np.uint8), iterations=2) > 0
    region = mask[y0:y1, x0:x1]
    region[before & ~after] = old.hole  # a part shrinks where its ring moved in
    region[after & near] = not old.hole  # and grows where it moved out (a hole: the reverse)
    return rect


def _local_fill(points: np.ndarray, rect: Rect) -> np.ndarray:
    """The polygon's pixels inside ``rect``, as pycocotools draws it there."""
    x0, y0, x1, y1 = rect
    if len(points) < 3:
        return np.zeros((y1 - y0, x1 - x0), bool)
    return pycocotools_fill([points - (x0, y0)], y1 - y0, x1 - x0)


def insert_vertex(points: np.ndarray, x: float, y: float) -> tuple[np.ndarray, int]:
    """A vertex at (x, y) put into the edge nearest to it (a click on an edge, like labelme);
    the new points and the new vertex's index."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    a, b = points, np.roll(points, -1, axis=0)
    d = b - a
    length2 = np.maximum((d * d).sum(axis=1), 1e-12)
    t = np.clip(((x - a[:, 0]) * d[:, 0] + (y - a[:, 1]) * d[:, 1]) / length2, 0.0, 1.0)
    nearest = a + t[:, None] * d
    edge = int(np.argmin(((nearest - (x, y)) ** 2).sum(axis=1)))
    return np.insert(points, edge + 1, (x, y), axis=0), edge + 1


def delete_vertex(points: np.ndarray, index: int) -> np.ndarray | None:
    """The ring without vertex ``index``; None when fewer than three would remain."""
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(points) <= 3:
        return None
    return np.delete(points, index, axis=0)
