"""Reading photos the way a user brings them: any mode, EXIF-rotated, checked for size.

Every image leaves here as a C-contiguous ``uint8`` RGB array plus a content key. The key is
the SHA-256 of the file's bytes (or of the pixels for an in-memory array): together with the
model identity it addresses the embedding caches, so a renamed or moved file still hits.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageLoadError

#: Largest image accepted by default, in pixels (200 MP: a 30000 x 30000 scan is refused
#: before it is decoded instead of taking the machine's memory).
DEFAULT_MAX_PIXELS = 200_000_000

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm", ".jfif"}
)


@dataclass(frozen=True, eq=False)
class LoadedImage:
    """Decoded RGB pixels with where they came from and their content key."""

    rgb: np.ndarray  # (H, W, 3) uint8, C-contiguous
    key: str  # hex SHA-256 of the file bytes or of the pixels
    source: Path | None = None

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def name(self) -> str:
        return self.source.name if self.source is not None else "<array>"


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def list_images(folder: Path) -> list[Path]:
    """The images directly inside ``folder``, in a stable (case-insensitive) order."""
    return sorted((p for p in folder.iterdir() if p.is_file() and is_image_file(p)),
                  key=lambda p: p.name.lower())


def load_image(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Read an image file into RGB; raise :class:`ImageLoadError` with the reason otherwise."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageLoadError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ImageLoadError(f"{path}: is a folder, not an image") from None
    except OSError as exc:
        raise ImageLoadError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not data:
        raise ImageLoadError(f"{path}: the file is empty")
    key = hashlib.sha256(data).hexdigest()
    rgb = _decode(data, str(path), max_pixels)
    return LoadedImage(rgb=rgb, key=key, source=path)


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) as displayed (EXIF rotation applied), read from the header only."""
    try:
        with Image.open(path) as img:
            width, height = img.size
            orientation = img.getexif().get(0x0112, 1)
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageLoadError(f"{path}: cannot read the image header ({exc})") from None
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def image_from_array(pixels: np.ndarray, max_pixels: int = DEFAULT_MAX_PIXELS) -> LoadedImage:
    """Wrap an in-memory array (H, W), (H, W, 3) or (H, W, 4) as a :class:`LoadedImage`."""
    arr = np.asarray(pixels)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise ImageLoadError(f"array of shape {arr.shape} is not an image (H, W[, 1|3|4])")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ImageLoadError(f"array of shape {arr.shape} has no pixels")
    if arr.shape[0] * arr.shape[1] > max_pixels:
        raise ImageLoadError(_too_large("array", arr.shape[1], arr.shape[0], max_pixels))
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.dtype != np.uint8:
        arr = _to_uint8(arr)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.shape[2] == 4:
        arr = arr[:, :, :3]
    rgb = np.ascontiguousarray(arr)
    key = hashlib.sha256(rgb.tobytes() + repr(rgb.shape).encode()).hexdigest()
    return LoadedImage(rgb=rgb, key=key, source=None)


def _too_large(what: str, width: int, height: int, max_pixels: int) -> str:
    return (f"{what}: {width} x {height} is {width * height / 1e6:.0f} megapixels, over the "
            f"{max_pixels / 1e6:.0f} MP limit (raise it with --max-megapixels)")


def _decode(data: bytes, name: str, max_pixels: int) -> np.ndarray:
    with warnings.catch_warnings():
        # Pillow warns (and at 2x raises) on "decompression bombs"; we apply our own limit.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        old_limit = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            try:
                img = Image.open(io.BytesIO(data))
            except UnidentifiedImageError:
                raise ImageLoadError(f"{name}: not an image file Pillow can read") from None
            except (OSError, ValueError, SyntaxError) as exc:
                raise ImageLoadError(f"{name}: the image is corrupt ({exc})") from None
            width, height = img.size
            if width <= 0 or height <= 0:
                raise ImageLoadError(f"{name}: the image has no pixels ({width} x {height})")
            if width * height > max_pixels:
                raise ImageLoadError(_too_large(name, width, height, max_pixels))
            try:
                img.load()
                img = ImageOps.exif_transpose(img)
            except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
                raise ImageLoadError(f"{name}: the image is corrupt or truncated ({exc})") from None
            return _to_rgb(img)
        finally:
            Image.MAX_IMAGE_PIXELS = old_limit


def _to_rgb(img: Image.Image) -> np.ndarray:
    """Any Pillow mode to uint8 RGB, keeping the full range of 16-bit and float images."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        gray = _to_uint8(np.asarray(img))
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if mode == "RGB":
        return np.ascontiguousarray(np.asarray(img))
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    return np.ascontiguousarray(np.asarray(img.convert("RGB")))


def _to_uint8(arr: np.ndarray) -> np.ndarray:
    """Scale a 16-bit, 32-bit or float array to 0..255 the way a viewer would show it."""
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    if np.issubdtype(arr.dtype, np.integer):
        hi = int(arr.max()) if arr.size else 0
        if hi <= 255 and int(arr.min()) >= 0:
            return arr.astype(np.uint8)
        if hi <= 65535 and int(arr.min()) >= 0:
            return (arr.astype(np.uint32) // 257).astype(np.uint8)
    arr = arr.astype(np.float64)
    lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
    if 0.0 <= lo and hi <= 1.0:
        return np.clip(np.nan_to_num(arr) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return np.clip((np.nan_to_num(arr, nan=lo) - lo) * scale + 0.5, 0, 255).astype(np.uint8)
