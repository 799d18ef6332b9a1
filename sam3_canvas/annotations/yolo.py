"""YOLO segmentation: one ``labels/<stem>.txt`` per image, a line per instance,
``class x1 y1 x2 y2 ...`` normalised to 0..1; ``data.yaml`` names the classes (0-based).

A YOLO line holds one polygon, so an instance's separate parts are joined by zero-width bridges
and its holes keyholed in (as ultralytics' own COCO converter joins parts). Import reads
segmentation lines and plain box lines (``class cx cy w h``); the image sizes come from the
image files, found by stem in the images folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import yaml

from ..document import rle as rle_codec
from ..document.annotation import Document, Instance
from ..document.labels import LabelSet
from ..engine.errors import ImageLoadError
from ..fsutil import atomic_write_text
from .dataset import ExportReport, ImportReport, find_image, new_document, outline, unique_stems
from .polygons import DEFAULT_TOLERANCE, bridge_parts, polygons_to_mask
from .rasterisers import ULTRALYTICS, ultralytics_fill


def export_yolo(docs: list[Document], labels: LabelSet, out: str | Path, images_dir: Path,
                tolerance: float = DEFAULT_TOLERANCE, copy_images: bool = False,
                progress=None, min_part_px: int = 1) -> ExportReport:
    report = ExportReport(Path(out))
    for doc in docs:
        for inst in doc.instances:
            labels.add(inst.label)
    tmp = Path(out)  # a staging folder: formats.export moves it into place
    (tmp / "labels").mkdir()
    stems = unique_stems(docs, images_dir)
    for doc in docs:
        stem = stems[doc.image_file]
        lines = []
        for inst in doc.instances:
            found = outline(doc, inst, tolerance, report, ULTRALYTICS, min_part_px, joined=True)
            ring = bridge_parts(found.parts)
            if ring is None:
                continue
            # pixel centres + 0.5: ultralytics truncates the denormalised value to the centre
            xy = (ring + ULTRALYTICS.offset) / np.array([doc.width, doc.height], np.float64)
            coords = " ".join(f"{v:.6f}" for v in np.clip(xy, 0.0, 1.0).reshape(-1))
            lines.append(f"{labels.class_id(inst.label) - 1} {coords}")
            report.instances += 1
        atomic_write_text(tmp / "labels" / f"{stem}.txt",
                          "\n".join(lines) + ("\n" if lines else ""))
        if copy_images:
            (tmp / "images").mkdir(exist_ok=True)
            shutil.copy2(images_dir / doc.image_file,
                         tmp / "images" / f"{stem}{Path(doc.image_file).suffix}")
        elif stem != Path(doc.image_file).stem:
            report.warnings.append(f"{doc.image_file} shares its stem with another image: its "
                                   f"labels are labels/{stem}.txt; ultralytics pairs labels "
                                   "with images by stem, so export with --copy-images")
        report.images += 1
        if progress:
            progress(report.images)
    atomic_write_text(tmp / "data.yaml", data_yaml(labels.names))
    atomic_write_text(tmp / "classes.txt", "\n".join(labels.names) + "\n")
    return report


def data_yaml(names: list[str]) -> str:
    """``data.yaml`` as ultralytics reads it, written by PyYAML so any name (quotes, colons,
    accents) reads back the same in every YAML reader."""
    return yaml.safe_dump({"path": ".", "train": "images", "val": "images", "nc": len(names),
                           "names": dict(enumerate(names))}, allow_unicode=True,
                          sort_keys=False)


def read_names(folder: Path) -> list[str]:
    """Class names from ``data.yaml`` (a list or an index map) or ``classes.txt``."""
    yaml_path = folder / "data.yaml"
    if yaml_path.is_file():
        try:
            data = yaml.safe_load(yaml_path.read_text(encoding="utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError, OSError):
            data = {}
        names = data.get("names") if isinstance(data, dict) else None
        if isinstance(names, dict):
            try:
                return [str(names[k]) for k in sorted(names, key=int)]
            except (TypeError, ValueError):
                return [str(v) for v in names.values()]
        if isinstance(names, list):
            return [str(n) for n in names]
    classes = folder / "classes.txt"
    if classes.is_file():
        return [line.strip() for line in classes.read_text(encoding="utf-8").splitlines()
                if line.strip()]
    return []


def import_yolo(folder: str | Path, images_dir: Path) -> ImportReport:
    folder = Path(folder)
    labels_dir = folder / "labels" if (folder / "labels").is_dir() else folder
    report = ImportReport(labels=read_names(folder))
    names = report.labels
    for txt in sorted(labels_dir.glob("*.txt")):
        if txt.name == "classes.txt":
            continue
        image = find_image(images_dir, txt.stem)
        if image is None:
            report.problems.append(f"{txt}: no image {txt.stem}.* in {images_dir}; skipped")
            continue
        try:
            doc = new_document(image)
            lines = txt.read_text(encoding="utf-8").splitlines()
        except (ImageLoadError, OSError, UnicodeDecodeError) as exc:
            report.problems.append(f"{txt}: cannot be read ({exc}); skipped")
            continue
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{txt}: line {number}"
            try:
                values = [float(v) for v in line.split()]
            except ValueError:
                report.problems.append(f"{where}: not numbers")
                continue
            if not (np.isfinite(values[0]) and float(values[0]).is_integer()):
                report.problems.append(f"{where}: class {line.split()[0]!r} is not a whole "
                                       "number")
                continue
            cls = int(values[0])
            if not 0 <= cls < max(len(names), 1) or (names and cls >= len(names)):
                report.problems.append(f"{where}: class {cls} is not in the class list")
                continue
            coords = np.array(values[1:], dtype=np.float64)
            if len(coords) == 4:  # a detection box: cx cy w h
                cx, cy, w, h = coords
                coords = np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy - h / 2,
                                   cx + w / 2, cy + h / 2, cx - w / 2, cy + h / 2])
            if len(coords) < 6 or len(coords) % 2:
                report.problems.append(f"{where}: a polygon needs at least three points")
                continue
            ring = coords.reshape(-1, 2) * np.array([doc.width, doc.height])
            try:  # as ultralytics reads it: denormalised, int32, cv2.fillPoly
                mask = polygons_to_mask([ring], doc.width, doc.height, ultralytics_fill)
            except ValueError as exc:
                report.problems.append(f"{where}: {exc}")
                continue
            if not mask.any():
                report.problems.append(f"{where}: the polygon covers no pixel")
                continue
            label = names[cls] if names else str(cls)
            doc.insert(Instance(doc.next_id(), label, rle_codec.encode(mask),
                                source={"kind": "import", "format": "yolo", "file": txt.name,
                                        "line": number}))
        report.documents.append(doc)
    if not names:
        report.labels = sorted({i.label for d in report.documents for i in d.instances})
    return report
