"""Binary masks as 8-bit PNGs (0 = background, 255 = object), written atomically."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
from PIL import Image

from ..fsutil import atomic_write_bytes


def encode_mask_png(mask: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.where(np.asarray(mask, dtype=bool), 255, 0).astype(np.uint8), "L") \
        .save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def save_mask_png(path: str | os.PathLike, mask: np.ndarray) -> Path:
    return atomic_write_bytes(path, encode_mask_png(mask))


def read_mask_png(path: str | os.PathLike) -> np.ndarray:
    from ..engine.images import read_pixels
    return read_pixels(path, str(path), mode="L") > 127
