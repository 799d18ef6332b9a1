"""Clean-ups that dataset makers run on a finished mask: holes filled, specks removed, the
pixels that another instance already has left out, and masks added or taken away."""

from __future__ import annotations

import cv2
import numpy as np

from .geometry import bounds


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """The mask with every enclosed background region filled (background 4-connected to
    the image border is not a hole)."""
    out = np.array(mask, dtype=bool, copy=True)
    box = bounds(out)
    if box is None:
        return out
    x0, y0, x1, y1 = box
    # one pixel of background around the part, so every non-hole region touches the frame
    padded = np.pad(~out[y0:y1, x0:x1], 1, constant_values=True).astype(np.uint8)
    count, labels = cv2.connectedComponents(padded, connectivity=4)
    outside = labels[0, 0]
    holes = (labels != outside) & (padded > 0)
    out[y0:y1, x0:x1] |= holes[1:-1, 1:-1]
    return out


def remove_islands(mask: np.ndarray, min_pixels: int) -> np.ndarray:
    """The mask without its separate parts (8-connected) smaller than ``min_pixels``."""
    out = np.array(mask, dtype=bool, copy=True)
    box = bounds(out)
    if box is None or min_pixels <= 1:
        return out
    x0, y0, x1, y1 = box
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        np.ascontiguousarray(out[y0:y1, x0:x1], dtype=np.uint8), connectivity=8)
    small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < min_pixels)
    small = small[small != 0]
    if small.size:
        out[y0:y1, x0:x1][np.isin(labels, small)] = False
    return out


def without(mask: np.ndarray, others: list[np.ndarray]) -> np.ndarray:
    """The mask minus every pixel that one of ``others`` has (a new instance takes only free
    pixels)."""
    out = np.array(mask, dtype=bool, copy=True)
    for other in others:
        out &= ~other
    return out


def combine(mask: np.ndarray, other: np.ndarray, subtract: bool = False) -> np.ndarray:
    """``mask`` with ``other`` added, or taken away."""
    return (mask & ~other) if subtract else (mask | other)
