"""Brush and eraser strokes, painted at the photo's resolution.

A stroke is a chain of capsules (a segment widened by the radius, round ends) from one mouse
position to the next, so a fast drag leaves no gaps. A pixel is painted when its centre lies
within ``radius`` of the segment, the same rule as the circle drawn under the cursor. Each move
paints only the rectangle around its segment and returns it.
"""

from __future__ import annotations

import numpy as np

from .geometry import Rect, around, union

MIN_RADIUS = 0.5  # one pixel wide
MAX_RADIUS = 500.0


class Stroke:
    """One press-drag-release of the brush (``erase=False``) or the eraser on a copy of
    ``mask``; ``mask`` is the result so far, ``bounds`` all that the stroke touched."""

    def __init__(self, mask: np.ndarray, radius: float, erase: bool = False):
        self.mask = np.array(mask, dtype=bool, copy=True)
        self.radius = min(max(float(radius), MIN_RADIUS), MAX_RADIUS)
        self.erase = erase
        self.bounds: Rect | None = None
        self._last: tuple[float, float] | None = None

    def to(self, x: float, y: float) -> Rect | None:
        """Paint from the last position (or a dot at the first) to ``(x, y)``, in image
        coordinates where pixel i spans [i, i + 1). Returns the rectangle that may have
        changed, or None when the segment is outside the image."""
        start = self._last if self._last is not None else (x, y)
        self._last = (x, y)
        height, width = self.mask.shape
        rect = around([start[0], x], [start[1], y], self.radius, width, height)
        if rect is None:
            return None
        x0, y0, x1, y1 = rect
        inside = capsule(start, (x, y), self.radius, rect)
        self.mask[y0:y1, x0:x1][inside] = not self.erase
        self.bounds = union(self.bounds, rect)
        return rect


def capsule(a: tuple[float, float], b: tuple[float, float], radius: float,
            rect: Rect) -> np.ndarray:
    """Pixels of ``rect`` whose centres are within ``radius`` of the segment a-b."""
    x0, y0, x1, y1 = rect
    px = np.arange(x0, x1, dtype=np.float64) + 0.5 - a[0]
    py = (np.arange(y0, y1, dtype=np.float64) + 0.5 - a[1])[:, None]
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    if length2 == 0.0:
        return px * px + py * py <= radius * radius
    t = np.clip((px * dx + py * dy) / length2, 0.0, 1.0)
    ex, ey = px - t * dx, py - t * dy
    return ex * ex + ey * ey <= radius * radius
