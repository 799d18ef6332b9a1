"""Low-resolution mask logits to full-size masks, as upstream does, but only where needed.

Upstream (``Sam3TrackerProcessor.post_process_masks``) resizes the 288 x 288 logits straight to
the original size with bilinear interpolation (``align_corners=False``) and thresholds at 0.
``cv2.resize`` with INTER_LINEAR is the same mapping. Two paths:

* :func:`upsample_mask` with ``exact=True``: the whole image, bit-for-bit the upstream mapping
  (used when writing files).
* the default: only the region that can be positive. Bilinear interpolation is a convex mix of
  four neighbours, so an output pixel can only be positive next to a positive low-res cell; the
  bounding box of those cells (plus one cell) bounds the mask. ``cv2.warpAffine`` fills just
  that region; its 1/32-pixel fixed point moves at most a handful of boundary pixels (IoU
  0.999999 with the exact path). Per pixel it costs about twice what ``cv2.resize`` does, so a
  region over ``REGION_LIMIT`` of the image takes the full resize instead (measured in
  bench/bench_pipeline.py: a 4% mask at 12 MP in 1.9 ms instead of 15 ms; a 45% mask 20 ms by
  region against 10 ms full).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

#: above this fraction of the image, the region path is slower than the full resize
REGION_LIMIT = 0.4


def upsample_logits(logits: np.ndarray, width: int, height: int) -> np.ndarray:
    """Full-size float32 logits (no threshold), the upstream mapping exactly."""
    return cv2.resize(np.asarray(logits, dtype=np.float32), (width, height),
                      interpolation=cv2.INTER_LINEAR)


def upsample_mask(logits: np.ndarray, width: int, height: int, exact: bool = False,
                  threshold: float = 0.0) -> np.ndarray:
    """Full-size boolean mask from one candidate's low-res logits."""
    logits = np.asarray(logits, dtype=np.float32)
    if exact:
        return upsample_logits(logits, width, height) > threshold
    out = np.zeros((height, width), dtype=bool)
    region = positive_region(logits, width, height, threshold)
    if region is None:
        return out
    x0, y0, x1, y1 = region
    if (x1 - x0) * (y1 - y0) > REGION_LIMIT * width * height:
        return upsample_logits(logits, width, height) > threshold
    part = sample_region(logits, width, height, region, 1.0, threshold)
    out[y0:y1, x0:x1] = part
    return out


def region_mask(logits: np.ndarray, width: int, height: int, scale: float = 1.0,
                threshold: float = 0.0) -> tuple[np.ndarray, int, int] | None:
    """The mask inside its bounding region, sampled at ``scale`` pixels per image pixel.

    Returns ``(mask, x0, y0)`` with the region's origin in image pixels, or None when the
    candidate is empty. With ``scale`` < 1 this is what a zoomed-out view shows: the same
    bilinear mapping as the full-size mask, evaluated only at the screen's pixels.
    """
    logits = np.asarray(logits, dtype=np.float32)
    region = positive_region(logits, width, height, threshold)
    if region is None:
        return None
    return sample_region(logits, width, height, region, scale, threshold), region[0], region[1]


def sample_region(logits: np.ndarray, width: int, height: int,
                  region: tuple[int, int, int, int], scale: float,
                  threshold: float = 0.0) -> np.ndarray:
    x0, y0, x1, y1 = region
    low_h, low_w = logits.shape
    sx, sy = low_w / width, low_h / height
    out_w = max(1, math.ceil((x1 - x0) * scale))
    out_h = max(1, math.ceil((y1 - y0) * scale))
    # Inverse map: output pixel u is image position x0 + (u + 0.5) / scale - 0.5, which
    # samples the low-res grid at (x + 0.5) * sx - 0.5 (align_corners=False).
    matrix = np.array([[sx / scale, 0.0, (x0 + 0.5 / scale) * sx - 0.5],
                       [0.0, sy / scale, (y0 + 0.5 / scale) * sy - 0.5]], dtype=np.float64)
    patch = cv2.warpAffine(logits, matrix, (out_w, out_h),
                           flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE)
    return patch > threshold


def positive_region(logits: np.ndarray, width: int, height: int,
                    threshold: float = 0.0) -> tuple[int, int, int, int] | None:
    """Output-pixel box (x0, y0, x1, y1), end-exclusive, outside which the mask is all False."""
    positive = logits > threshold
    rows = np.flatnonzero(positive.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(positive.any(axis=0))
    low_h, low_w = logits.shape
    y0, y1 = _output_span(rows[0], rows[-1], low_h, height)
    x0, x1 = _output_span(cols[0], cols[-1], low_w, width)
    return x0, y0, x1, y1


def _output_span(first: int, last: int, low: int, full: int) -> tuple[int, int]:
    """Output pixels whose two interpolation taps can touch low-res cells first..last."""
    scale = low / full
    start = math.floor((first - 1 + 0.5) / scale - 0.5) - 1
    stop = math.ceil((last + 1 + 0.5) / scale - 0.5) + 1
    return max(start, 0), min(stop, full)


def mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Tight box (x0, y0, x1, y1), end-exclusive, of a boolean mask; None when empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 60.0), -60.0)))
