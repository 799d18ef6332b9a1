"""The objects of an interactive-segmentation dataset: an image, a mask, the pixels to ignore.

Accepted mask layouts, for ``--images DIR --masks DIR`` (masks matched to images by stem):

* ``<stem>.png`` with values 0 / 255 (or 0 / 1): one object. 128 marks an uncertain band that
  is ignored when scoring, as GrabCut's ``boundary_GT`` masks (and RITM's loader) have it;
  Berkeley's masks and DAVIS's single-object masks are the 0 / 255 case.
* ``<stem>.png`` with other values (an instance-id or palette PNG, DAVIS 2017 and the app's
  own mask export): each value from 1 to 254 is an object, 0 background, 255 ignored.
* ``<stem>_<anything>.png`` or ``<stem>/<anything>.png``: several binary masks of one image,
  an object each.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..annotations.dataset import glob_escape
from ..engine.errors import Sam3CanvasError
from ..engine.images import list_images, read_pixels

IGNORE_BAND = 128  # GrabCut: the uncertain band along the boundary
VOID = 255  # instance-id PNGs: not scored


class DatasetError(Sam3CanvasError):
    pass


@dataclass(frozen=True, eq=False)
class EvalObject:
    image: Path
    name: str  # the image's file name, with the object's id when the image has several
    truth: np.ndarray  # bool (H, W)
    ignore: np.ndarray | None  # bool (H, W): pixels left out of the score


def mask_files(masks: Path, stem: str) -> list[Path]:
    single = masks / f"{stem}.png"
    if single.is_file():
        return [single]
    found = sorted(masks.glob(f"{glob_escape(stem)}_*.png"))
    if (masks / stem).is_dir():
        found += sorted((masks / stem).glob("*.png"))
    return found


def objects_of(values: np.ndarray, several_files: bool) -> list[tuple[int, np.ndarray,
                                                                          np.ndarray | None]]:
    """(id, truth, ignore) for each object one mask file holds."""
    if values.ndim == 3:
        values = values.max(axis=2)  # a colour-saved binary mask (RITM reads DAVIS this way)
    present = set(np.unique(values).tolist())
    if present <= {0, 1} or present <= {0, 255} or present <= {0, IGNORE_BAND, 255} or \
            several_files:
        band = values == IGNORE_BAND
        return [(1, values > IGNORE_BAND if present - {0, 1} else values == 1,
                 band if band.any() else None)]
    void = values == VOID
    return [(int(v), values == v, void if void.any() else None)
            for v in sorted(present - {0, VOID})]


def load_objects(images: Path, masks: Path) -> Iterator[EvalObject]:
    """Every object of every image that has a mask; raises for a folder that is not there."""
    for folder, what in ((images, "--images"), (masks, "--masks")):
        if not folder.is_dir():
            raise DatasetError(f"{what} {folder}: not a folder")
    found = False
    for image in list_images(images):
        files = mask_files(masks, image.stem)
        for file in files:
            values = read_pixels(file, str(file))
            held = [o for o in objects_of(values, len(files) > 1) if o[1].any()]
            for number, truth, ignore in held:
                found = True
                name = f"{image.name}#{file.stem}" if len(files) > 1 else \
                    f"{image.name}#{number}" if len(held) > 1 else image.name
                yield EvalObject(image, name, truth, ignore)
    if not found:
        raise DatasetError(f"no image in {images} has a mask in {masks} (masks are matched "
                           "by file stem: photo.jpg -> photo.png, photo_1.png or photo/1.png)")
