"""YOLO segmentation: one ``labels/<stem>.txt`` per image, a line per instance,
``class x1 y1 x2 y2 ...`` normalised to 0..1; ``data.yaml`` names the classes (0-based).

A YOLO line holds one polygon, so an instance's separate parts are joined by zero-width bridges
and its holes keyholed in (as ultralytics' own COCO converter joins parts). Import reads
segmentation lines and plain box lines (``class cx cy w h``); the image sizes come from the
image files, found by stem in the images folder.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np

from ..app.document import Document, Instance
from ..engine.errors import ImageLoadError
from ..app.labels import LabelSet
from ..fsutil import atomic_write_text
from . import rle as rle_codec
from .dataset import ExportReport, ImportReport, find_image, new_document, outline
from .polygons import DEFAULT_TOLERANCE, bridge_parts, polygons_to_mask


def export_yolo(docs: list[Document], labels: LabelSet, out: str | Path, images_dir: Path,
                tolerance: float = DEFAULT_TOLERANCE, copy_images: bool = False,
                progress=None) -> ExportReport:
    report = ExportReport(Path(out))
    for doc in docs:
        for inst in doc.instances:
            labels.add(inst.label)
    tmp = Path(out)  # a staging folder: formats.export moves it into place
    (tmp / "labels").mkdir()
    for doc in docs:
        lines = []
        for inst in doc.instances:
            ring = bridge_parts(outline(doc, inst, tolerance, report).parts)
            if ring is None:
                continue
            xy = ring / np.array([doc.width, doc.height], dtype=np.float64)
            coords = " ".join(f"{v:.6f}" for v in np.clip(xy, 0.0, 1.0).reshape(-1))
            lines.append(f"{labels.class_id(inst.label) - 1} {coords}")
            report.instances += 1
        atomic_write_text(tmp / "labels" / f"{Path(doc.image_file).stem}.txt",
                          "\n".join(lines) + ("\n" if lines else ""))
        if copy_images:
            (tmp / "images").mkdir(exist_ok=True)
            shutil.copy2(images_dir / doc.image_file, tmp / "images" / doc.image_file)
        report.images += 1
        if progress:
            progress(report.images)
    names = "\n".join(f"  {i}: {_yaml_string(n)}" for i, n in enumerate(labels.names))
    atomic_write_text(tmp / "data.yaml", f"path: .\ntrain: images\nval: images\n"
                                         f"nc: {len(labels)}\nnames:\n{names}\n")
    atomic_write_text(tmp / "classes.txt", "\n".join(labels.names) + "\n")
    return report


def _yaml_string(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z0-9_ .-]+", name) and not name[0].isspace() \
        else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_names(folder: Path) -> list[str]:
    """Class names from ``data.yaml`` (a list or an index map) or ``classes.txt``."""
    yaml_path = folder / "data.yaml"
    if yaml_path.is_file():
        text = yaml_path.read_text(encoding="utf-8")
        block = re.search(r"^names:[ \t]*(.*?)(?=^\S|\Z)", text, re.S | re.M)
        if block:
            inline = block.group(1).strip()
            if inline.startswith("["):
                return [n.strip().strip("'\"") for n in inline.strip("[]").split(",") if n.strip()]
            entries = re.findall(r"^\s+(?:(\d+):\s*|-\s*)(.+?)\s*$", block.group(1), re.M)
            return [value.strip().strip("'\"") for _, value in entries]
    classes = folder / "classes.txt"
    if classes.is_file():
        return [line.strip() for line in classes.read_text().splitlines() if line.strip()]
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
            try:
                mask = polygons_to_mask([ring], doc.width, doc.height)
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
