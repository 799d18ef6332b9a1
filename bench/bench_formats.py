"""Round-trip fidelity of every dataset format on real masks nobody here made.

Each of the 50 GrabCut ground-truth masks (the 128 band ignored) goes out in each format and
back in through the app's own importer; the real COCO sample's 50 annotations go out as COCO
polygons and are read back with pycocotools. Prints mean and worst IoU, holes kept and
reported, and vertex counts, for a few polygon tolerances.

    python bench/bench_formats.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"

from sam3_canvas.annotations.polygons import mask_to_polygons  # noqa: E402
from sam3_canvas.app.datasets import export_project, import_into_project  # noqa: E402
from sam3_canvas.app.document import Document, Instance  # noqa: E402
from sam3_canvas.app.project import Project  # noqa: E402


def build(folder: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    truth = {}
    project = Project(folder, images=[])
    for image in sorted((DATA / "grabcut" / "images").glob("*.jpg")):
        shutil.copy(image, folder / image.name)
        gt = np.asarray(Image.open(DATA / "grabcut" / "masks" / f"{image.stem}.png"))
        truth[image.name] = (gt == 255, gt != 128)
        doc = Document(image.name, gt.shape[1], gt.shape[0])
        doc.insert(Instance.from_mask(1, "object", gt == 255))
        project.save(doc)
    project.labels.add("object")
    project.save_labels()
    return truth


def round_trip(folder, truth, work, fmt, **options):
    out = work / f"{fmt}-{len(options)}-{options.get('tolerance')}"
    start = time.perf_counter()
    report = export_project(Project(folder), fmt, out, **options)
    export_s = time.perf_counter() - start
    again = work / f"again-{out.name}"
    again.mkdir()
    for name in truth:
        shutil.copy(folder / name, again / name)
    import_into_project(Project(again), fmt, out)
    ious = []
    for name, (mask, valid) in truth.items():
        (inst,) = Project(again).document(again / name).instances
        back = inst.mask()
        ious.append(((back & mask) & valid).sum() / ((back | mask) & valid).sum())
    return ious, report, export_s


def main() -> int:
    work = Path(tempfile.mkdtemp())
    folder = work / "grabcut"
    folder.mkdir()
    truth = build(folder)
    holes = sum(mask_to_polygons(m, 0.0).holes for m, _ in truth.values())
    print(f"50 GrabCut masks, {holes} holes in all; IoU ignores the 128 band\n")
    print(f"{'format':28s} {'mean IoU':>9s} {'worst':>8s} {'holes filled':>13s} "
          f"{'vertices':>9s} {'export s':>9s}")
    runs = [("coco", {}), ("png", {}), ("voc", {})]
    for tolerance in (0.0, 0.5, 1.0, 2.0):
        runs += [("coco", {"polygons": True, "tolerance": tolerance}),
                 ("yolo", {"tolerance": tolerance}), ("labelme", {"tolerance": tolerance})]
    for fmt, options in runs:
        ious, report, seconds = round_trip(folder, truth, work, fmt, **options)
        filled = sum(int(w.split(" of ")[0].split(": ")[-1]) for w in report.warnings
                     if "holes too small" in w)
        tol = options.get("tolerance")
        verts = "" if tol is None else sum(
            sum(len(p) for p in mask_to_polygons(m, tol).parts) for m, _ in truth.values())
        name = fmt + (" polygons" if options.get("polygons") else "") + \
            (f" tol {tol}" if tol is not None else " (exact)")
        print(f"{name:28s} {np.mean(ious):9.5f} {min(ious):8.5f} {filled:13d} {verts!s:>9s} "
              f"{seconds:9.2f}")
    coco_sample(work)
    shutil.rmtree(work, ignore_errors=True)
    return 0


def coco_sample(work: Path) -> None:
    from pycocotools.coco import COCO
    source = DATA / "coco_sample" / "panoptic_coco_detection_format.json"
    folder = work / "coco"
    folder.mkdir()
    for image in (DATA / "coco_sample").glob("*.jpg"):
        shutil.copy(image, folder / image.name)
    import_into_project(Project(folder), "coco", source)
    reference = COCO(str(source))
    print("\nreal COCO sample (50 annotations, 3 crowd), COCO out and read back by pycocotools")
    for options in ({}, {"polygons": True, "tolerance": 0.5}, {"polygons": True,
                                                                "tolerance": 0.0}):
        out = work / f"coco-out-{len(options)}-{options.get('tolerance')}"
        export_project(Project(folder), "coco", out, **options)
        written = COCO(str(out / "annotations.json"))
        names = {i["file_name"]: i["id"] for i in written.dataset["images"]}
        ious = []
        for ann in reference.dataset["annotations"]:
            ref = reference.annToMask(ann).astype(bool)
            img = names[reference.imgs[ann["image_id"]]["file_name"]]
            ious.append(max(((written.annToMask(a).astype(bool) & ref).sum()
                             / (written.annToMask(a).astype(bool) | ref).sum())
                            for a in written.loadAnns(written.getAnnIds(imgIds=[img]))))
        label = "RLE" if not options else f"polygons tol {options['tolerance']}"
        print(f"  {label:22s} mean IoU {np.mean(ious):.5f}  worst {min(ious):.5f}")


if __name__ == "__main__":
    sys.exit(main())
