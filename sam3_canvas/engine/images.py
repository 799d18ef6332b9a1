"""Reading photos the way a user brings them: any mode, EXIF-rotated, checked for size.

Every image leaves here as a C-contiguous ``uint8`` RGB array plus a content key. The key is
the SHA-256 of the file's bytes (or of the pixels for an in-memory array): together with the
model identity it addresses the embedding caches, so a renamed or moved file still hits.

The pixel limit is one setting for the whole process (``set_pixel_limit``; the CLI's
``--max-megapixels``, the app's Settings). Pillow's own decompression-bomb limit is switched
off once, here, at import, and every Pillow open in the project goes through ``open_pillow``,
which checks the size from the header before anything is decoded. (Changing
``Image.MAX_IMAGE_PIXELS`` around each call, as this module once did, races between threads.)
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
from .preprocess import resize_rgb

#: Largest image accepted by default, in pixels (200 MP: a 30000 x 30000 scan is refused
#: before it is decoded instead of taking the machine's memory).
DEFAULT_MAX_PIXELS = 200_000_000
_limit = DEFAULT_MAX_PIXELS

Image.MAX_IMAGE_PIXELS = None  # once, at import: open_pillow applies the project's limit
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


def set_pixel_limit(pixels: int) -> None:
    """The largest image any command accepts, in pixels (set once at start-up)."""
    global _limit
    if pixels <= 0:
        raise ValueError("the pixel limit must be positive")
    _limit = int(pixels)


def pixel_limit() -> int:
    return _limit


def open_pillow(source, name: str = "", max_pixels: int | None = None) -> Image.Image:
    """``Image.open`` (lazy: only the header is read) with the size checked against the
    pixel limit; every failure is an :class:`ImageLoadError` with one line."""
    name = name or str(source)
    limit = max_pixels or _limit
    try:
        img = Image.open(source)
    except FileNotFoundError:
        raise ImageLoadError(f"{name}: no such file") from None
    except UnidentifiedImageError:
        raise ImageLoadError(f"{name}: not an image file Pillow can read") from None
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageLoadError(f"{name}: the image is corrupt ({exc})") from None
    width, height = img.size
    if width <= 0 or height <= 0:
        img.close()
        raise ImageLoadError(f"{name}: the image has no pixels ({width} x {height})")
    if width * height > limit:
        img.close()
        raise ImageLoadError(_too_large(name, width, height, limit))
    return img

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".ppm", ".pgm", ".jfif"}
)


@dataclass(frozen=True, eq=False)
class LoadedImage:
    """Decoded RGB pixels with where they came from and their content key."""

    rgb: np.ndarray  # (H, W, 3) uint8, C-contiguous
    key: str  # hex SHA-256 of the file bytes or of the pixels
    source: Path | None = None
    note: str = ""  # what was done to show it (e.g. 12-bit data scaled), for the user

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def name(self) -> str:
        return self.source.name if self.source is not None else "<array>"

    def at_size(self, width: int, height: int) -> np.ndarray:
        """The pixels stretched to a model's input size (what every encoder is fed)."""
        return resize_rgb(self.rgb, width, height)

    def sized(self, width: int, height: int) -> SizedImage:
        """This image without its full pixels, already at a model's input size."""
        return SizedImage(self.at_size(width, height), self.width, self.height, self.key,
                          self.source, self.note)


@dataclass(frozen=True, eq=False)
class SizedImage:
    """An image read and stretched to a model's input size, without its full pixels.

    A batch job's reading task makes it so that the worker holding the model only runs the
    model: a 12 MP photo is 36 MB of pixels, at 1008 x 1008 it is 3 MB. The encoders take it
    wherever they take a :class:`LoadedImage`; the masks still come out at the full size.
    """

    model_rgb: np.ndarray  # (h, w, 3) uint8 at the model's input size
    width: int
    height: int
    key: str
    source: Path | None = None
    note: str = ""

    @property
    def name(self) -> str:
        return self.source.name if self.source is not None else "<array>"

    def at_size(self, width: int, height: int) -> np.ndarray:
        if self.model_rgb.shape[:2] != (height, width):
            raise ValueError(f"{self.name} was prepared at {self.model_rgb.shape[1]} x "
                             f"{self.model_rgb.shape[0]}, the model takes {width} x {height}")
        return self.model_rgb


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def list_images(folder: Path) -> list[Path]:
    """The images directly inside ``folder``, in a stable (case-insensitive) order."""
    return sorted((p for p in folder.iterdir() if p.is_file() and is_image_file(p)),
                  key=lambda p: p.name.lower())


def read_pixels(source, name: str = "", mode: str | None = None) -> np.ndarray:
    """The pixel values of a mask or label map (no colour conversion unless ``mode``), with
    the pixel limit and one-line errors of :func:`open_pillow`."""
    name = name or str(source)
    img = open_pillow(source, name)
    try:
        with img:
            return np.asarray(img.convert(mode) if mode else img)
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageLoadError(f"{name}: the image is corrupt or truncated ({exc})") from None
    except MemoryError:
        raise ImageLoadError(f"{name}: not enough memory to decode it") from None


def load_image(path: str | os.PathLike, max_pixels: int | None = None) -> LoadedImage:
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
    return decode_image(data, path, max_pixels)


def decode_image(data: bytes, path: str | os.PathLike, max_pixels: int | None = None
                 ) -> LoadedImage:
    """An image file's bytes (read from anywhere: a folder, ``s3://``...) into RGB, keyed by
    their SHA-256; ``path`` names it in messages and in the result."""
    path = Path(path)
    if not data:
        raise ImageLoadError(f"{path}: the file is empty")
    key = hashlib.sha256(data).hexdigest()
    rgb, note = _decode(data, str(path), max_pixels)
    return LoadedImage(rgb=rgb, key=key, source=path, note=note)


def image_size(path: str | os.PathLike, max_pixels: int | None = None) -> tuple[int, int]:
    """(width, height) as displayed (EXIF rotation applied), read from the header only."""
    img = open_pillow(path, str(path), max_pixels)
    try:
        width, height = img.size
        if img.format == "PNG":  # PNG's getexif() decodes the whole image to find an eXIf
            exif = Image.Exif()  # chunk; one before the pixels is already in info
            if img.info.get("exif"):
                exif.load(img.info["exif"])
        else:
            exif = img.getexif()
        orientation = exif.get(0x0112, 1)
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageLoadError(f"{path}: cannot read the image header ({exc})") from None
    finally:
        img.close()
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def image_from_array(pixels: np.ndarray, max_pixels: int | None = None) -> LoadedImage:
    """Wrap an in-memory array (H, W), (H, W, 3) or (H, W, 4) as a :class:`LoadedImage`."""
    arr = np.asarray(pixels)
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (1, 3, 4)):
        raise ImageLoadError(f"array of shape {arr.shape} is not an image (H, W[, 1|3|4])")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ImageLoadError(f"array of shape {arr.shape} has no pixels")
    limit = max_pixels or _limit
    if arr.shape[0] * arr.shape[1] > limit:
        raise ImageLoadError(_too_large("array", arr.shape[1], arr.shape[0], limit))
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    note = ""
    if arr.dtype != np.uint8:
        arr, note = _to_uint8(arr)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.shape[2] == 4:
        arr = arr[:, :, :3]
    rgb = np.ascontiguousarray(arr)
    key = hashlib.sha256(rgb.tobytes() + repr(rgb.shape).encode()).hexdigest()
    return LoadedImage(rgb=rgb, key=key, source=None, note=note)


def _too_large(what: str, width: int, height: int, max_pixels: int) -> str:
    return (f"{what}: {width} x {height} is {width * height / 1e6:.0f} megapixels, over the "
            f"{max_pixels / 1e6:.0f} MP limit (raise it with --max-megapixels)")


def _decode(data: bytes, name: str, max_pixels: int | None) -> tuple[np.ndarray, str]:
    img = open_pillow(io.BytesIO(data), name, max_pixels)
    try:
        img.load()
        img = ImageOps.exif_transpose(img)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ImageLoadError(f"{name}: the image is corrupt or truncated ({exc})") from None
    except MemoryError:
        raise ImageLoadError(f"{name}: not enough memory to decode it") from None
    return _to_rgb(img)


def _to_rgb(img: Image.Image) -> tuple[np.ndarray, str]:
    """Any Pillow mode to uint8 RGB, keeping the full range of 16-bit and float images;
    returns the pixels and a note for the user when values had to be scaled."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        gray, note = _to_uint8(np.asarray(img))
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2)), note
    if mode == "RGB":
        return np.ascontiguousarray(np.asarray(img)), ""
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    return np.ascontiguousarray(np.asarray(img.convert("RGB"))), ""


#: bit depths that cameras and scanners store in 16-bit files (a 12-bit raw in a 16-bit TIFF
#: divided by 257 would reach the model nearly black)
_DEPTHS = (10, 12, 14, 16)


def _to_uint8(arr: np.ndarray) -> tuple[np.ndarray, str]:
    """Scale a 16-bit, 32-bit or float array to 0..255 the way a viewer would show it;
    returns the pixels and a note when the scaling is not the obvious one."""
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255, ""
    if np.issubdtype(arr.dtype, np.integer):
        hi = int(arr.max()) if arr.size else 0
        lo = int(arr.min()) if arr.size else 0
        if hi <= 255 and lo >= 0:
            note = "8-bit values in a wider file, shown as they are" \
                if arr.dtype.itemsize > 1 and hi > 0 else ""
            return arr.astype(np.uint8), note
        if hi <= 65535 and lo >= 0:
            bits = next(b for b in _DEPTHS if hi <= (1 << b) - 1)
            top = (1 << bits) - 1
            scaled = (arr.astype(np.uint32) * 255 + top // 2) // top
            note = "" if bits == 16 else \
                f"{bits}-bit values in a 16-bit file (max {hi}): scaled from 0..{top}"
            return scaled.astype(np.uint8), note
    arr = arr.astype(np.float64)
    finite = np.isfinite(arr)
    if not finite.any():
        return np.zeros(arr.shape, np.uint8), "no finite pixel values (all NaN or infinite)"
    low, high = float(arr[finite].min()), float(arr[finite].max())
    note = "" if finite.all() else "NaN or infinite pixels shown as black"
    arr = np.where(finite, arr, low)
    if 0.0 <= low and high <= 1.0:
        return np.clip(arr * 255.0 + 0.5, 0, 255).astype(np.uint8), note
    scale = 255.0 / (high - low) if high > low else 0.0
    stretched = np.clip((arr - low) * scale + 0.5, 0, 255).astype(np.uint8)
    return stretched, "; ".join(x for x in (note, f"values {low:g}..{high:g} stretched to 0..255")
                                if x)
