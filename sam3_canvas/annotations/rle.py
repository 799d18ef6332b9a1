"""Masks as COCO run-length encoding, through pycocotools (compressed ``counts`` strings)."""

from __future__ import annotations

import numpy as np
from pycocotools import mask as mask_utils


def encode(mask: np.ndarray) -> dict:
    """Bool (H, W) -> ``{"size": [H, W], "counts": str}`` (COCO compressed RLE)."""
    rle = mask_utils.encode(np.asfortranarray(np.asarray(mask, dtype=np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def decode(rle: dict) -> np.ndarray:
    """COCO RLE (compressed string or uncompressed list counts) -> bool (H, W)."""
    height, width = (int(v) for v in rle["size"])
    counts = rle["counts"]
    if isinstance(counts, list):
        rle = mask_utils.frPyObjects({"size": [height, width], "counts": counts}, height, width)
    elif isinstance(counts, str):
        rle = {"size": [height, width], "counts": counts.encode("ascii")}
    return mask_utils.decode(rle).astype(bool)


def area(rle: dict) -> int:
    return int(mask_utils.area(_compressed(rle)))


def bbox(rle: dict) -> tuple[int, int, int, int]:
    """(x, y, width, height) in pixels, COCO style."""
    x, y, w, h = mask_utils.toBbox(_compressed(rle)).tolist()
    return int(x), int(y), int(w), int(h)


def _compressed(rle: dict) -> dict:
    counts = rle["counts"]
    if isinstance(counts, str):
        return {"size": rle["size"], "counts": counts.encode("ascii")}
    if isinstance(counts, list):
        height, width = rle["size"]
        return mask_utils.frPyObjects(rle, height, width)
    return rle
