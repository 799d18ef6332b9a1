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
THUMB_BASE_SIDE = 320  # longest side of the picture candidate thumbnails are made from


@dataclass
class PhotoImages:
    full: QImage
    preview: QImage
    preview_scale: float  # preview pixels per image pixel
    thumb_base: np.ndarray  # small RGB copy for the candidate thumbnails
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
    base_scale = min(1.0, THUMB_BASE_SIDE / max(width, height))
    thumb_base = cv2.resize(small, (max(1, round(width * base_scale)),
                                    max(1, round(height * base_scale))),
                            interpolation=cv2.INTER_AREA)
    return PhotoImages(rgb_to_qimage(rgb), rgb_to_qimage(small), scale, thumb_base, (rgb, small))


@dataclass
class Overlay:
    """A coloured, see-through mask cut to its bounding box, placed at (x, y) in image
    pixels; ``scale`` is overlay pixels per image pixel (below 1 when made for a zoomed-out
    view, so a 12 MP mask costs what the screen shows, not what the photo holds)."""

    image: QImage
    x: int
    y: int
    scale: float = 1.0


def mask_overlay(mask: np.ndarray, colour: tuple[int, int, int], alpha: int = 110,
                 outline: bool = True, scale: float = 1.0) -> Overlay | None:
    """Overlay of a full-size mask (an accepted instance), cut to its bounding box."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    x0, y0, x1, y1 = int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1
    part = mask[y0:y1, x0:x1]
    if scale < 1.0:
        size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
        part = cv2.resize(part.view(np.uint8), size, interpolation=cv2.INTER_AREA) > 0
    return part_overlay(part, x0, y0, colour, alpha, outline, min(scale, 1.0))


def logits_overlay(logits: np.ndarray, image_size: tuple[int, int],
                   colour: tuple[int, int, int], scale: float = 1.0) -> Overlay | None:
    """Overlay of a mask given as low-res logits (a candidate, a text detection), sampled
    at ``scale`` (at most 1) with the same mapping as the full-size mask."""
    from ..engine.postprocess import region_mask

    scale = min(scale, 1.0)
    found = region_mask(logits, image_size[0], image_size[1], scale)
    if found is None:
        return None
    part, x0, y0 = found
    return part_overlay(part, x0, y0, colour, scale=scale)


def part_overlay(part: np.ndarray, x0: int, y0: int, colour: tuple[int, int, int],
                 alpha: int = 110, outline: bool = True, scale: float = 1.0) -> Overlay | None:
    """Premultiplied ARGB of a mask already cut to its region (and sampled at ``scale``)."""
    if not part.any():
        return None
    r, g, b = colour

    def argb(a: int) -> np.uint32:
        return np.uint32((a << 24) | ((r * a // 255) << 16) | ((g * a // 255) << 8)
                         | (b * a // 255))

    buf = np.zeros(part.shape, np.uint32)
    buf[part] = argb(alpha)
    if outline:
        inner = cv2.erode(part.view(np.uint8), np.ones((3, 3), np.uint8),
                          borderType=cv2.BORDER_CONSTANT, borderValue=0).view(bool)
        buf[part & ~inner] = argb(235)
    height, width = part.shape
    image = QImage(buf.data, width, height, 4 * width, QImage.Format.Format_ARGB32_Premultiplied)
    image._keep = buf  # noqa: SLF001
    return Overlay(image, x0, y0, scale)


def candidate_thumbnails(base_rgb: np.ndarray, logits: np.ndarray,
                         colour: tuple[int, int, int], side: int = 72) -> list[QImage]:
    """Small pictures of each candidate: the photo, tinted where the low-res mask is."""
    height, width = base_rgb.shape[:2]
    scale = side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = cv2.resize(base_rgb, size, interpolation=cv2.INTER_AREA)
    dimmed = cv2.convertScaleAbs(small, alpha=0.75)
    tinted = cv2.addWeighted(small, 0.45, np.full_like(small, colour), 0.55, 0)
    thumbs = []
    for candidate in logits:
        mask = cv2.resize(candidate, size, interpolation=cv2.INTER_LINEAR) > 0
        out = dimmed.copy()
        out[mask] = tinted[mask]
        thumbs.append(rgb_to_qimage(out))
    return thumbs
