"""Masks to polygons and back, with OpenCV, keeping holes and separate parts.

Polygon formats (COCO polygons, YOLO-seg, labelme) have no "hole" ring. A hole is kept by
joining it to the ring around it with a zero-width cut (a "keyhole"): the polygon walks the
outer ring, down the cut, round the hole the other way and back up, so a scan-line fill (what
pycocotools, ``cv2.fillPoly`` and training code use) leaves the hole empty. Separate parts stay
separate polygons where the format allows several per object (COCO, labelme); YOLO-seg has one
polygon per object line, so its parts are joined by zero-width bridges, as ultralytics' own
COCO converter does. ``tolerance`` is the ``cv2.approxPolyDP`` tolerance in pixels.

Coordinates follow COCO (and labelme): continuous, (0, 0) is the top-left corner of the
top-left pixel, pixel i spans [i, i + 1). A polygon therefore runs along the outer edges of
the boundary pixels, not through their centres (OpenCV's contours do the latter; the ring is
moved half a pixel outward, with mitred corners, so that filling it gives the pixels back).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: default simplification tolerance in pixels. On the 50 GrabCut masks (bench/bench_formats.py)
#: the round trip through pycocotools' rasteriser gives IoU 0.9996 mean, 0.9963 worst, with a
#: quarter of the vertices of tolerance 0 (which gives 1.0000 / 0.9999).
DEFAULT_TOLERANCE = 0.5
#: objects smaller than COCO's "small" (32 x 32 px) are outlined without simplification: their
#: outlines are short, and half a pixel is a large part of them (real COCO masks of 96 to 175
#: px lost up to 6 % IoU at 0.5 px)
SMALL_AREA = 32 * 32


@dataclass(frozen=True)
class PolygonSet:
    """The polygons of one mask: one ``(N, 2)`` float array per part, holes keyholed in."""

    parts: list[np.ndarray]
    holes: int  # holes found in the mask
    holes_kept: int  # holes written into the polygons (the others were too small to draw)


def mask_to_polygons(mask: np.ndarray, tolerance: float = DEFAULT_TOLERANCE,
                     keep_holes: bool = True, min_area: float = 1.0) -> PolygonSet:
    """The mask's outer rings (with their holes keyholed in unless ``keep_holes`` is False)."""
    mask = np.ascontiguousarray(mask, dtype=np.uint8)
    area = int(mask.sum())
    if area == 0:
        return PolygonSet([], 0, 0)
    if area < SMALL_AREA:
        tolerance = 0.0
    # pad so that rings touching the border are closed and coordinates stay >= 0 after -1
    padded = cv2.copyMakeBorder(mask, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    contours, hierarchy = cv2.findContours(padded, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if hierarchy is None:
        return PolygonSet([], 0, 0)
    hierarchy = hierarchy[0]
    parts, holes, kept = [], 0, 0
    for index, (_, _, first_child, parent) in enumerate(hierarchy):
        if parent != -1:
            continue  # a hole: handled with its outer ring
        outer = _offset_ring(_simplify(contours[index], tolerance), 0.5)
        if len(outer) < 3 or cv2.contourArea(outer.astype(np.float32)) < min_area:
            continue
        rings = []
        child = first_child
        while child != -1:
            holes += 1
            # a hole ring runs through the centres of the object's pixels around the hole; the
            # object ends half a pixel further into the hole
            hole = _offset_ring(_simplify(contours[child], tolerance), -0.5)
            if keep_holes and len(hole) >= 3 and \
                    cv2.contourArea(hole.astype(np.float32)) >= min_area:
                rings.append(hole)
            child = hierarchy[child][0]
        kept += len(rings)
        polygon = _keyhole(outer, rings) if rings else outer
        # rings are offset one by one before the keyhole joins them, so the cut stays zero
        # wide; -1 undoes the padding, +0.5 turns pixel-centre into corner coordinates
        parts.append(polygon - 0.5)
    return PolygonSet(parts, holes, kept)


def _simplify(contour: np.ndarray, tolerance: float) -> np.ndarray:
    if tolerance > 0:
        contour = cv2.approxPolyDP(contour, tolerance, closed=True)
    return contour.reshape(-1, 2).astype(np.float64)


def _offset_ring(points: np.ndarray, distance: float) -> np.ndarray:
    """Move a ring's edges ``distance`` px away from its inside (negative: towards it), with
    mitred corners (a right-angled corner moves by (0.5, 0.5) for 0.5), capped at 4x.

    OpenCV's contours run through boundary pixel centres; the ring that covers those pixels
    runs half a pixel further out."""
    if len(points) < 3:
        return points
    area = 0.5 * np.sum(points[:, 0] * np.roll(points[:, 1], -1)
                        - np.roll(points[:, 0], -1) * points[:, 1])
    n_in = _normal(points - np.roll(points, 1, axis=0))
    n_out = _normal(np.roll(points, -1, axis=0) - points)
    denominator = np.maximum(1.0 + np.sum(n_in * n_out, axis=1, keepdims=True), 0.0625)
    sign = 1.0 if area > 0 else -1.0  # which side is outside depends on the ring's direction
    return points + sign * distance * (n_in + n_out) / denominator


def _normal(edges: np.ndarray) -> np.ndarray:
    length = np.linalg.norm(edges, axis=1, keepdims=True)
    unit = np.divide(edges, length, out=np.zeros_like(edges), where=length > 1e-9)
    return np.stack([unit[:, 1], -unit[:, 0]], axis=1)


def _keyhole(outer: np.ndarray, holes: list[np.ndarray]) -> np.ndarray:
    """One ring: the outer ring with each hole joined in by a zero-width cut."""
    ring = outer
    for hole in holes:
        distances = np.linalg.norm(ring[:, None, :] - hole[None, :, :], axis=2)
        i, j = np.unravel_index(np.argmin(distances), distances.shape)
        hole_loop = np.concatenate([hole[j:], hole[:j + 1]])[::-1]  # the other way round
        ring = np.concatenate([ring[: i + 1], hole_loop, ring[i: i + 1], ring[i + 1:]])
    return ring


def bridge_parts(parts: list[np.ndarray]) -> np.ndarray | None:
    """All parts in one ring, joined by zero-width bridges (for one-polygon-per-object
    formats). Each part is entered and left at its point nearest the previous part."""
    if not parts:
        return None
    ring = parts[0]
    for part in parts[1:]:
        distances = np.linalg.norm(ring[:, None, :] - part[None, :, :], axis=2)
        i, j = np.unravel_index(np.argmin(distances), distances.shape)
        loop = np.concatenate([part[j:], part[:j + 1]])
        ring = np.concatenate([ring[: i + 1], loop, ring[i: i + 1], ring[i + 1:]])
    return ring


#: how far outside the image a polygon's point may lie, in image sizes (labelme and CVAT
#: write points a little outside; 1e300 or NaN made pycocotools allocate ~20 GB or crash)
OUTSIDE_LIMIT = 2.0


def check_points(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """The points as a float array, or ValueError when one is not a finite number or lies
    far outside the image (checked before pycocotools sees them)."""
    try:
        points = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("the points are not numbers") from None
    if not np.isfinite(points).all():
        raise ValueError("a point is NaN or infinite")
    flat = points.reshape(-1, 2) if points.size % 2 == 0 else points.reshape(-1, 1)
    reach = OUTSIDE_LIMIT * max(width, height)
    if flat.size and (flat.min() < -reach or flat[:, 0].max() > width + reach or
                      flat[:, -1].max() > height + reach):
        raise ValueError(f"a point lies far outside the {width} x {height} image "
                         f"({flat.min():g} .. {flat.max():g})")
    return points


def polygons_to_mask(parts: list[np.ndarray], width: int, height: int) -> np.ndarray:
    """Rasterise polygons (union of parts, corner coordinates) with pycocotools, the reference
    rasteriser of the COCO format; each part is filled on its own, so keyholes keep holes.
    Points that are not finite or lie far outside the image raise ValueError."""
    from pycocotools import mask as mask_utils

    flat = [check_points(p, width, height).reshape(-1).tolist() for p in parts
            if np.asarray(p).size >= 6]
    if not flat:
        return np.zeros((height, width), bool)
    rles = mask_utils.frPyObjects(flat, height, width)
    return mask_utils.decode(mask_utils.merge(rles)).astype(bool)
