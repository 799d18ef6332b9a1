"""Masks as COCO run-length encoding, through pycocotools (compressed ``counts`` strings).

pycocotools decodes without bounds checks: counts that add up to more than the image (a
corrupt or hand-edited file) write past its buffer and crash the process. ``validate`` reads
the counts first (the compressed format is a few lines, from maskApi.c ``rleFrString``) and
raises ValueError for anything pycocotools must not see.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from .records import Rle


def encode(mask: np.ndarray) -> Rle:
    """Bool (H, W) -> ``{"size": [H, W], "counts": str}`` (COCO compressed RLE)."""
    rle = mask_utils.encode(np.asfortranarray(np.asarray(mask, dtype=np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def string_counts(text: str) -> np.ndarray:
    """The run lengths of a compressed COCO RLE string, read as pycocotools reads them
    (6-bit characters from '0', 5 value bits and a continuation bit, sign-extended, each
    count from the fourth on stored as the difference to the count two before)."""
    try:
        chars = np.frombuffer(text.encode("ascii"), np.uint8).astype(np.int64) - 48
    except UnicodeEncodeError:
        raise ValueError("RLE string holds characters that are not ASCII") from None
    if chars.size == 0:
        return np.zeros(0, np.int64)
    if ((chars < 0) | (chars >= 64)).any():
        raise ValueError("RLE string holds characters that are not counts")
    if chars[-1] & 0x20:
        raise ValueError("RLE string ends inside a number")
    ends = np.flatnonzero((chars & 0x20) == 0)
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts + 1
    if lengths.max() > 12:
        raise ValueError("RLE string holds a count too large for any image")
    position = np.arange(chars.size) - np.repeat(starts, lengths)
    values = np.add.reduceat((chars & 0x1F) << (5 * position), starts)
    negative = (chars[ends] & 0x10) != 0
    values[negative] |= np.left_shift(np.int64(-1), 5 * lengths[negative])
    counts = values.copy()
    if counts.size > 3:
        counts[3::2] = counts[1] + np.cumsum(values[3::2])
    if counts.size > 4:
        counts[4::2] = counts[2] + np.cumsum(values[4::2])
    return counts


def validate(rle: object) -> tuple[int, int]:
    """(height, width) of a well-formed RLE; ValueError otherwise (before pycocotools)."""
    if not isinstance(rle, dict) or "size" not in rle or "counts" not in rle:
        raise ValueError("an RLE mask needs 'size' and 'counts'")
    try:
        height, width = (int(v) for v in rle["size"])
    except (TypeError, ValueError):
        raise ValueError(f"RLE size {rle['size']!r} is not two integers") from None
    if height <= 0 or width <= 0:
        raise ValueError(f"RLE size {height} x {width} is empty")
    counts = rle["counts"]
    if isinstance(counts, str):
        counts = string_counts(counts)
    elif isinstance(counts, list) and all(isinstance(c, int) and not isinstance(c, bool)
                                          for c in counts):
        counts = np.asarray(counts, dtype=object)
    else:
        raise ValueError("RLE counts are neither a string nor a list of whole numbers")
    if (counts < 0).any():
        raise ValueError("RLE counts hold a negative run")
    total = int(counts.sum())
    if total != height * width:
        raise ValueError(f"RLE counts cover {total} pixels, the mask has {height * width}")
    return height, width


def decode(rle: Mapping[str, Any]) -> np.ndarray:
    """COCO RLE (compressed string or uncompressed list counts) -> bool (H, W). Masks from
    outside (files, imports) must pass :func:`validate` first; ``encode``'s own need not."""
    height, width = (int(v) for v in rle["size"])
    counts = rle["counts"]
    if isinstance(counts, list):
        native = mask_utils.frPyObjects({"size": [height, width], "counts": counts}, height,
                                        width)
    else:
        native = {"size": [height, width], "counts": counts.encode("ascii")}
    return mask_utils.decode(native).astype(bool)


def area(rle: Mapping[str, Any]) -> int:
    return int(mask_utils.area(_compressed(rle)))


def bbox(rle: Mapping[str, Any]) -> tuple[int, int, int, int]:
    """(x, y, width, height) in pixels, COCO style."""
    x, y, w, h = mask_utils.toBbox(_compressed(rle)).tolist()
    return int(x), int(y), int(w), int(h)


def _compressed(rle: Mapping[str, Any]) -> Mapping[str, Any]:
    counts = rle["counts"]
    if isinstance(counts, str):
        return {"size": rle["size"], "counts": counts.encode("ascii")}
    if isinstance(counts, list):
        height, width = rle["size"]
        return mask_utils.frPyObjects(rle, height, width)
    return rle


def contains(rle: Mapping[str, Any], x: int, y: int) -> bool:
    """Whether pixel (x, y) is in the mask, read from the runs without decoding the mask
    (picking an instance under the cursor among hundreds of 12 MP masks)."""
    height, width = (int(v) for v in rle["size"])
    if not (0 <= x < width and 0 <= y < height):
        return False
    counts = rle["counts"]
    runs = string_counts(counts) if isinstance(counts, str) else np.asarray(counts, np.int64)
    ends = np.cumsum(runs)
    run = int(np.searchsorted(ends, x * height + y, side="right"))  # column-major order
    return run % 2 == 1  # runs alternate, background first


def merged_polygons(parts, height: int, width: int) -> tuple[int, list[float]]:
    """(area, [x, y, w, h]) of COCO polygons as pycocotools reads them (what COCO's own
    tools report for a polygon annotation)."""
    flat = [np.asarray(p, dtype=np.float64).reshape(-1).tolist() for p in parts
            if np.asarray(p).size >= 6]
    if not flat:
        return 0, [0.0, 0.0, 0.0, 0.0]
    merged = mask_utils.merge(mask_utils.frPyObjects(flat, height, width))
    return int(mask_utils.area(merged)), [float(v) for v in mask_utils.toBbox(merged)]
