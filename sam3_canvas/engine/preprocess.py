"""Image and prompt to model space, exactly as the upstream SAM3 processor does it.

Upstream (transformers ``Sam3ImageProcessor``) stretches the uint8 image to the model size with
torchvision's antialiased bilinear resize, then maps 0..255 to -1..1 (mean = std = 0.5). Pillow's
BILINEAR filter is the same filter: measured on a real photo, it agrees with torchvision to at
most 1 grey level both when enlarging and when shrinking a 12 MP photo, while OpenCV's
INTER_LINEAR is up to 13 levels off when shrinking. So Pillow does the resize here.
Prompt coordinates are scaled per axis (the stretch does not keep the aspect ratio).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from .prompts import Prompt

MEAN = 0.5
STD = 0.5


def resize_rgb(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Stretch an RGB uint8 image to (height, width) with antialiased bilinear filtering."""
    if rgb.shape[1] == width and rgb.shape[0] == height:
        return rgb
    return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.BILINEAR))


def pixel_values(rgb: np.ndarray, width: int, height: int, dtype=np.float32) -> np.ndarray:
    """(H, W, 3) uint8 -> (1, 3, height, width) normalised to -1..1, in ``dtype``."""
    resized = resize_rgb(rgb, width, height)
    x = resized.astype(np.float32) * np.float32(1.0 / 255.0)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None]).astype(dtype, copy=False)


def prompt_arrays(prompt: Prompt, image_size: tuple[int, int], model_size: tuple[int, int],
                  float_dtype=np.float32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tracker decoder's three prompt inputs for one object.

    Returns ``input_points`` (1, 1, P, 2), ``input_labels`` (1, 1, P) int64 and ``input_boxes``
    (1, B, 4) with B = 0 or 1, all in model-space pixels. Zero-length dimensions are how the
    published graphs take "no points" and "no box" (transformers.js feeds them the same way).
    """
    width, height = image_size
    model_w, model_h = model_size
    sx, sy = model_w / width, model_h / height
    points = np.array(prompt.points, dtype=np.float64).reshape(-1, 2) * (sx, sy)
    labels = np.array(prompt.labels, dtype=np.int64).reshape(1, 1, -1)
    if prompt.box is None:
        boxes = np.zeros((1, 0, 4), dtype=np.float64)
    else:
        x1, y1, x2, y2 = prompt.box
        boxes = np.array([[[x1 * sx, y1 * sy, x2 * sx, y2 * sy]]], dtype=np.float64)
    return (points.reshape(1, 1, -1, 2).astype(float_dtype),
            labels,
            boxes.astype(float_dtype))
