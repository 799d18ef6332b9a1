"""Masks to polygons for a format's consumers, and back, keeping holes and separate parts.

A polygon is written in the convention its readers fill it with (``rasterisers.Consumer``):
along pixel edges for pycocotools (COCO), through pixel centres for labelme's PIL and
ultralytics' ``cv2.fillPoly`` (YOLO). Then what the reader will draw is checked, part by part:

1. each part's rings come from OpenCV's contours, through the centres of the boundary pixels
   (for the centres convention), or, for the edges convention, from the mask upscaled twice
   (so a one-pixel line still has an inside) moved a quarter pixel outward onto the edges;
2. a part is simplified with ``cv2.approxPolyDP`` at ``tolerance``, filled with the consumer's
   own rasteriser and compared with the part: below ``PART_FLOOR`` IoU, the tolerance is halved
   until it is reached (at tolerance 0 the outline is exact). Thin structures (wires, spokes,
   a fence) keep their vertices; a blob keeps few;
3. holes are joined to the ring around them by a zero-width cut (a "keyhole"), which the
   scan-line fills of all three readers leave empty; YOLO's single ring per object joins the
   parts with zero-width bridges, as ultralytics' own converter does;
4. the whole object is filled as the reader will, and what differs is reported: parts that
   vanish, holes that fill, pixels lost or added. Parts under ``min_part_px`` pixels are left
   out on purpose, and counted too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from .rasterisers import COCO, Consumer, pycocotools_fill

#: default simplification tolerance in pixels (a part falls back to less when its outline,
#: filled by the format's reader, would lose more than 1 % of it)
DEFAULT_TOLERANCE = 0.5
#: the IoU a simplified part must keep, as its reader fills it
PART_FLOOR = 0.99
#: parts smaller than this are left out (and reported); 1 keeps every pixel
DEFAULT_MIN_PART_PX = 1


@dataclass
class PolygonSet:
    """The polygons of one mask: one ``(N, 2)`` float array per part, holes keyholed in, in
    the consumer's convention; and what the consumer will draw from them, against the mask."""

    parts: list[np.ndarray]
    holes: int = 0  # holes in the mask
    holes_kept: int = 0  # holes the reader leaves empty
    parts_found: int = 0  # separate parts in the mask
    lost_parts: list[int] = field(default_factory=list)  # sizes (px) of parts the reader loses
    filled_holes: list[int] = field(default_factory=list)  # sizes (px) of holes it fills
    lost_px: int = 0  # object pixels the reader does not draw
    added_px: int = 0  # pixels it draws outside the object
    iou: float = 1.0


def mask_to_polygons(mask: np.ndarray, tolerance: float = DEFAULT_TOLERANCE,
                     consumer: Consumer = COCO, min_part_px: int = DEFAULT_MIN_PART_PX,
                     joined: bool = False) -> PolygonSet:
    """The mask's parts as polygons for ``consumer`` (see the module's steps); ``joined``:
    the reader gets one ring per object (YOLO), so the report fills the bridged ring."""
    mask = np.ascontiguousarray(mask, dtype=bool)
    height, width = mask.shape
    if not mask.any():
        return PolygonSet([], iou=0.0)
    count, components, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8),
                                                                   connectivity=8)
    parts: list[np.ndarray] = []
    for label in range(1, count):
        x, y, w, h, area = (int(v) for v in stats[label])
        if area < min_part_px:
            continue
        x0, y0 = max(x - 1, 0), max(y - 1, 0)
        x1, y1 = min(x + w + 1, width), min(y + h + 1, height)
        part = components[y0:y1, x0:x1] == label
        parts.extend(ring + (x0, y0) for ring in _verified_part(part, tolerance, consumer))
    result = PolygonSet(parts, parts_found=count - 1)
    _report(result, mask, consumer, joined)
    return result


def _verified_part(part: np.ndarray, tolerance: float, consumer: Consumer) -> list[np.ndarray]:
    """One connected part's polygon (holes keyholed in), at the largest tolerance, down from
    ``tolerance``, whose fill by the consumer keeps ``PART_FLOOR`` of it."""
    h, w = part.shape
    rings = exact_rings(part, consumer.convention)
    current = tolerance
    while True:
        polygons = [_keyhole(simplify(outer, current), [simplify(hole, current)
                                                        for hole in holes])
                    for outer, holes in rings]
        if current <= 0:
            return polygons
        drawn = consumer.fill(polygons, h, w)
        union = np.logical_or(drawn, part).sum()
        if union and np.logical_and(drawn, part).sum() / union >= PART_FLOOR:
            return polygons
        current = current / 2 if current > 0.1 else 0.0


def exact_rings(part: np.ndarray, convention: str) -> list[tuple[np.ndarray, list[np.ndarray]]]:
    """(outer ring, hole rings) per outer contour, as exact vertex lists in the convention."""
    if convention == "edges":
        scaled = cv2.resize(part.view(np.uint8), None, fx=2, fy=2,
                            interpolation=cv2.INTER_NEAREST)
        padded = cv2.copyMakeBorder(scaled, 2, 2, 2, 2, cv2.BORDER_CONSTANT, value=0)
    else:
        padded = cv2.copyMakeBorder(part.view(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT,
                                    value=0)
    contours, hierarchy = cv2.findContours(padded, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_NONE)
    if hierarchy is None:
        return []

    def place(contour: np.ndarray, outward: float) -> np.ndarray:
        points = contour.reshape(-1, 2).astype(np.float64)
        if convention == "centres":
            return points - 1.0  # undo the padding: integer pixel centres
        # the centre of upscaled pixel u lies at u / 2 + 0.25; the edge a quarter further out
        return _offset_ring((points - 2.0) / 2.0 + 0.25, outward)

    out = []
    hierarchy = hierarchy[0]
    for index, (_, _, child, parent) in enumerate(hierarchy):
        if parent != -1:
            continue
        holes = []
        while child != -1:
            holes.append(place(contours[child], -0.25))
            child = hierarchy[child][0]
        out.append((place(contours[index], 0.25), holes))
    return out


def simplify(points: np.ndarray, tolerance: float) -> np.ndarray:
    if tolerance <= 0 or len(points) < 4:
        return points
    simple = cv2.approxPolyDP(points.astype(np.float32).reshape(-1, 1, 2), tolerance, True)
    return simple.reshape(-1, 2).astype(np.float64)


def _offset_ring(points: np.ndarray, distance: float) -> np.ndarray:
    """Move a ring's edges ``distance`` px away from its inside (negative: towards it), with
    mitred corners, capped at 4x."""
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
        if len(hole) == 0:
            continue
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


def _report(result: PolygonSet, mask: np.ndarray, consumer: Consumer, joined: bool) -> None:
    """What the consumer draws from ``result.parts``, compared with the mask."""
    height, width = mask.shape
    joined_ring = bridge_parts(result.parts) if joined else None
    parts = [joined_ring] if joined_ring is not None else result.parts
    drawn = consumer.fill(parts, height, width) if parts else np.zeros_like(mask)
    union = np.logical_or(drawn, mask).sum()
    result.iou = float(np.logical_and(drawn, mask).sum() / union) if union else 1.0
    result.lost_px = int(np.logical_and(mask, ~drawn).sum())
    result.added_px = int(np.logical_and(drawn, ~mask).sum())
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8),
                                                               connectivity=8)
    for label in range(1, count):
        if not drawn[labels == label].any():
            result.lost_parts.append(int(stats[label, cv2.CC_STAT_AREA]))
    # holes: background components that do not touch the border (4-connected background)
    background = cv2.copyMakeBorder((~mask).view(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT,
                                    value=1)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(background, connectivity=4)
    outside = labels[0, 0]
    inner = labels[1:-1, 1:-1]
    for label in range(1, count):
        if label == outside:
            continue
        result.holes += 1
        if drawn[inner == label].all():
            result.filled_holes.append(int(stats[label, cv2.CC_STAT_AREA]))
    result.holes_kept = result.holes - len(result.filled_holes)


#: how far outside the image a polygon's point may lie, in image sizes (labelme and CVAT
#: write points a little outside; 1e300 or NaN made pycocotools allocate ~20 GB or crash)
OUTSIDE_LIMIT = 2.0


def check_points(points, width: int, height: int) -> np.ndarray:
    """The points as a float array, or ValueError when one is not a finite number or lies
    far outside the image (checked before any rasteriser sees them)."""
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


def polygons_to_mask(parts: list[np.ndarray], width: int, height: int,
                     fill=pycocotools_fill) -> np.ndarray:
    """Rasterise polygons as a consumer does (pycocotools by default: COCO's corner
    coordinates); points that are not finite or lie far outside the image raise ValueError."""
    checked = [check_points(p, width, height) for p in parts]
    return fill(checked, height, width)
