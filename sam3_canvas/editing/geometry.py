"""Rectangles in image pixels: ``(x0, y0, x1, y1)``, ends exclusive, as numpy slices take them."""

from __future__ import annotations

import math

Rect = tuple[int, int, int, int]


def union(a: Rect | None, b: Rect | None) -> Rect | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def around(xs: list[float], ys: list[float], margin: float, width: int,
           height: int) -> Rect | None:
    """The pixels that a shape through these points, widened by ``margin``, can touch;
    None when that is outside the image."""
    x0 = max(0, math.floor(min(xs) - margin) - 1)
    y0 = max(0, math.floor(min(ys) - margin) - 1)
    x1 = min(width, math.ceil(max(xs) + margin) + 1)
    y1 = min(height, math.ceil(max(ys) + margin) + 1)
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1, y1


def bounds(mask) -> Rect | None:
    """The bounding rectangle of a mask's pixels, None when it is empty."""
    import numpy as np

    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
