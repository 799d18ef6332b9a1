"""Moving and resizing a box prompt by its handles, the way CVAT and labelme edit a rectangle.

A handle is the set of edges a drag moves: one edge ("left"), a corner (two edges) or the
whole box (all four, from the centre handle). Kept free of Qt so the canvas only maps mouse
positions to image pixels and back.
"""

from __future__ import annotations

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in image pixels
Handle = frozenset[str]  # some of "left", "top", "right", "bottom"

MOVE: Handle = frozenset({"left", "top", "right", "bottom"})
MIN_SIZE = 2.0  # a box smaller than this is no prompt (the canvas ignores such drags too)


def handle_at(box: Box, x: float, y: float, reach: float) -> Handle | None:
    """The handle under (x, y): the centre moves the box; within ``reach`` of an edge (inside
    the box's span) that edge, of two edges their corner; else None."""
    x1, y1, x2, y2 = box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    if abs(x - cx) <= reach and abs(y - cy) <= reach:
        return MOVE
    if not (x1 - reach <= x <= x2 + reach and y1 - reach <= y <= y2 + reach):
        return None
    edges = set()
    if abs(x - x1) <= reach:
        edges.add("left")
    elif abs(x - x2) <= reach:
        edges.add("right")
    if abs(y - y1) <= reach:
        edges.add("top")
    elif abs(y - y2) <= reach:
        edges.add("bottom")
    return frozenset(edges) or None


def drag(box: Box, handle: Handle, dx: float, dy: float, width: int, height: int) -> Box:
    """``box`` after its ``handle`` moved by (dx, dy) image pixels, kept inside the image.

    Moving keeps the size (the box stops at the image's border); an edge dragged across the
    opposite one flips the box, as a rubber band does; the result is ordered and rounded to
    whole pixels like a drawn box."""
    x1, y1, x2, y2 = box
    if handle == MOVE:
        dx = min(max(dx, -x1), width - x2)
        dy = min(max(dy, -y1), height - y2)
        x1, x2, y1, y2 = x1 + dx, x2 + dx, y1 + dy, y2 + dy
    else:
        if "left" in handle:
            x1 += dx
        if "right" in handle:
            x2 += dx
        if "top" in handle:
            y1 += dy
        if "bottom" in handle:
            y2 += dy
    xs = sorted((min(max(x1, 0.0), float(width)), min(max(x2, 0.0), float(width))))
    ys = sorted((min(max(y1, 0.0), float(height)), min(max(y2, 0.0), float(height))))
    return (float(round(xs[0])), float(round(ys[0])), float(round(xs[1])), float(round(ys[1])))


def usable(box: Box) -> bool:
    return box[2] - box[0] >= MIN_SIZE and box[3] - box[1] >= MIN_SIZE
