"""numpy arrays to QImages: the photo, its preview, and mask overlays.

All of this may run on the worker threads (QImage, unlike QPixmap, is thread-safe to create),
so the GUI thread receives images ready to paint. Buffers are kept alive on the QImage wrapper
objects because QImage does not copy the numpy memory it is built on.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtGui import QImage

PREVIEW_SIDE = 2048  # longest side of the preview painted when zoomed out


@dataclass
class PhotoImages:
    full: QImage
    preview: QImage
    preview_scale: float  # preview pixels per image pixel
    _buffers: tuple = ()


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(rgb)
    height, width = rgb.shape[:2]
    image = QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    image._keep = rgb  # noqa: SLF001 - QImage does not own numpy memory
    return image


def photo_images(rgb: np.ndarray) -> PhotoImages:
    height, width = rgb.shape[:2]
    scale = min(1.0, PREVIEW_SIDE / max(width, height))
    if scale < 1.0:
        small = cv2.resize(rgb, (max(1, round(width * scale)), max(1, round(height * scale))),
                           interpolation=cv2.INTER_AREA)
    else:
        small = rgb
    return PhotoImages(rgb_to_qimage(rgb), rgb_to_qimage(small), scale, (rgb, small))


@dataclass
class Overlay:
    """A coloured, see-through mask cut to its bounding box, with its position."""

    image: QImage
    x: int
    y: int


def mask_overlay(mask: np.ndarray, colour: tuple[int, int, int], alpha: int = 110,
                 region: tuple[int, int, int, int] | None = None,
                 outline: bool = True) -> Overlay | None:
    """Premultiplied ARGB of ``mask`` inside ``region`` (x0, y0, x1, y1), or its bbox."""
    if region is None:
        rows = np.flatnonzero(mask.any(axis=1))
        if rows.size == 0:
            return None
        cols = np.flatnonzero(mask.any(axis=0))
        region = (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)
    x0, y0, x1, y1 = region
    part = mask[y0:y1, x0:x1]
    if not part.any():
        return None
    r, g, b = colour

    def argb(a: int) -> np.uint32:
        return np.uint32((a << 24) | ((r * a // 255) << 16) | ((g * a // 255) << 8) | (b * a // 255))

    buf = np.zeros(part.shape, np.uint32)
    buf[part] = argb(alpha)
    if outline:
        inner = cv2.erode(part.view(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT,
                          borderValue=0).view(bool)
        buf[part & ~inner] = argb(235)
    height, width = part.shape
    image = QImage(buf.data, width, height, 4 * width, QImage.Format.Format_ARGB32_Premultiplied)
    image._keep = buf  # noqa: SLF001
    return Overlay(image, x0, y0)


def candidate_thumbnail(preview_rgb: np.ndarray, logits: np.ndarray,
                        colour: tuple[int, int, int], side: int = 150) -> QImage:
    """A small picture of one candidate: the photo with the low-res mask over it."""
    height, width = preview_rgb.shape[:2]
    scale = side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    thumb = cv2.resize(preview_rgb, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    mask = cv2.resize(logits, size, interpolation=cv2.INTER_LINEAR) > 0
    thumb[mask] = thumb[mask] * 0.45 + np.array(colour, np.float32) * 0.55
    thumb[~mask] *= 0.75
    return rgb_to_qimage(thumb.astype(np.uint8))
