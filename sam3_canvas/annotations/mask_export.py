"""Mask PNGs for datasets: per-instance masks, a semantic label map and an instance-id map.

For each image ``<stem>``:

* ``instances/<stem>_<id>_<label>.png``: one 8-bit mask per instance (0 / 255);
* ``semantic/<stem>.png``: a palette PNG whose pixel value is the class id (0 = background,
  ids from ``classes.txt``, written beside it, one class per line, id = line number);
* ``instance_ids/<stem>.png``: 16-bit PNG, pixel value = instance id (0 = none).

Where instances overlap, the later one (drawn on top in the app) wins in the two maps.
Hidden instances are exported too: hiding is a view setting, not a deletion. Every file is
written atomically (temporary file + rename), so an interrupted export leaves whole files.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ..document.annotation import Document
from ..document.labels import LabelSet
from ..fsutil import atomic_write_bytes, atomic_write_text
from .dataset import unique_stems
from .mask_png import save_mask_png


@dataclass(frozen=True)
class ExportSummary:
    images: int
    instances: int
    folder: Path


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "label"


def palette(labels: LabelSet) -> list[int]:
    colours = [(0, 0, 0)] + [c.colour for c in labels]
    flat = [v for rgb in colours for v in rgb]
    return flat + [0] * (768 - len(flat))


def label_maps(doc: Document, labels: LabelSet) -> tuple[np.ndarray, np.ndarray]:
    semantic = np.zeros((doc.height, doc.width), np.uint8)
    instance_ids = np.zeros((doc.height, doc.width), np.uint16)
    for inst in doc.instances:
        mask = inst.mask()
        semantic[mask] = labels.class_id(inst.label)
        instance_ids[mask] = inst.id
    return semantic, instance_ids


def export_masks(documents: Iterable[Document], labels: LabelSet, out: str | Path,
                 progress: Callable[[int], None] | None = None,
                 images_dir: Path | None = None) -> ExportSummary:
    out = Path(out)
    docs = list(documents)
    for doc in docs:
        for inst in doc.instances:
            labels.add(inst.label)  # a label only found in a file still gets an id
    if len(labels) > 255:
        raise ValueError("more than 255 classes do not fit an 8-bit label map")
    for sub in ("instances", "semantic", "instance_ids"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "classes.txt", "\n".join(labels.names) + "\n")
    count = 0
    stems = unique_stems(docs, images_dir)
    for n, doc in enumerate(docs, 1):
        stem = stems[doc.image_file]
        for inst in doc.instances:
            save_mask_png(out / "instances" / f"{stem}_{inst.id}_{_safe(inst.label)}.png",
                          inst.mask())
            count += 1
        semantic, instance_ids = label_maps(doc, labels)
        image = Image.fromarray(semantic, "P")
        image.putpalette(palette(labels))
        _save_png(image, out / "semantic" / f"{stem}.png")
        _save_png(Image.fromarray(instance_ids), out / "instance_ids" / f"{stem}.png")
        if progress:
            progress(n)
    return ExportSummary(len(docs), count, out)


def _save_png(image: Image.Image, path: Path) -> None:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    atomic_write_bytes(path, buf.getvalue())
