"""Dataset formats as their consumers read them, on real masks nobody here made.

For every mask of the GrabCut set (50 objects; the 128 band is ignored) and of the COCO sample
(50 annotations, people, bicycles and crowds), each polygon format is written as sam3-canvas
writes it and filled back by that format's own reader, reimplemented from its code
(`sam3_canvas/annotations/rasterisers.py`): pycocotools for COCO polygons, labelme's
`shape_to_mask` (PIL) for labelme, ultralytics' `polygon2mask` (int32 + cv2.fillPoly) for
YOLO. Prints, per format and tolerance: mean and worst IoU, separate parts lost (and those of
10 px or more), holes filled, vertices, and the time to outline. The exact formats (COCO RLE,
PNG, VOC) are checked through a whole export and import of the GrabCut folder.

    python bench/bench_formats.py
"""

from __future__ import annotations

import json
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
from sam3_canvas.annotations.rasterisers import COCO, LABELME, ULTRALYTICS  # noqa: E402
from sam3_canvas.app.datasets import export_project, import_into_project  # noqa: E402
from sam3_canvas.app.project import Project  # noqa: E402
from sam3_canvas.document import rle as rle_codec  # noqa: E402
from sam3_canvas.document.annotation import Document, Instance  # noqa: E402

READERS = {"coco --polygons (pycocotools)": (COCO, False),
           "labelme (labelme shape_to_mask)": (LABELME, False),
           "yolo (ultralytics polygon2mask)": (ULTRALYTICS, True)}


def grabcut() -> list[tuple[str, np.ndarray, np.ndarray]]:
    out = []
    for image in sorted((DATA / "grabcut" / "images").glob("*.jpg")):
        gt = np.asarray(Image.open(DATA / "grabcut" / "masks" / f"{image.stem}.png"))
        out.append((image.name, gt == 255, gt != 128))
    return out


def coco_sample() -> list[tuple[str, np.ndarray, np.ndarray]]:
    data = json.loads((DATA / "coco_sample" / "panoptic_coco_detection_format.json")
                      .read_text())
    sizes = {i["id"]: (i["height"], i["width"]) for i in data["images"]}
    out = []
    for ann in data["annotations"]:
        height, width = sizes[ann["image_id"]]
        seg = ann["segmentation"]
        if isinstance(seg, dict):
            mask = rle_codec.decode({"size": seg["size"], "counts": seg["counts"]})
        else:
            from sam3_canvas.annotations.rasterisers import pycocotools_fill
            mask = pycocotools_fill([np.asarray(p).reshape(-1, 2) for p in seg], height, width)
        out.append((f"coco {ann['id']}", mask, np.ones_like(mask)))
    return out


def measure(masks, reader, joined, tolerance) -> dict:
    ious, lost, big, filled, vertices = [], 0, 0, 0, 0
    start = time.perf_counter()
    for _, mask, valid in masks:
        found = mask_to_polygons(mask, tolerance, reader, joined=joined)
        parts = found.parts
        if joined and parts:
            from sam3_canvas.annotations.polygons import bridge_parts
            parts = [bridge_parts(parts)]
        drawn = reader.fill(parts, *mask.shape) if parts else np.zeros_like(mask)
        union = ((drawn | mask) & valid).sum()
        ious.append(((drawn & mask) & valid).sum() / union if union else 1.0)
        lost += len(found.lost_parts)
        big += sum(1 for size in found.lost_parts if size >= 10)
        filled += len(found.filled_holes)
        vertices += sum(len(p) for p in found.parts)
    return {"mean": float(np.mean(ious)), "worst": float(np.min(ious)), "lost": lost,
            "big": big, "filled": filled, "vertices": vertices,
            "seconds": time.perf_counter() - start}


def exact_formats(masks) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = tmp / "photos"
        folder.mkdir()
        project = Project(folder, images=[])
        for name, mask, _ in masks:
            shutil.copy(DATA / "grabcut" / "images" / name, folder / name)
            doc = Document(name, mask.shape[1], mask.shape[0])
            doc.insert(Instance.from_mask(1, "object", mask))
            project.save(doc)
        for fmt in ("coco", "png", "voc"):
            out = tmp / fmt
            export_project(Project(folder), fmt, out)
            again = tmp / f"again-{fmt}"
            again.mkdir()
            for name, _, _ in masks:
                shutil.copy(folder / name, again / name)
            import_into_project(Project(again), fmt, out)
            ious = []
            for name, mask, valid in masks:
                back = Project(again).document(again / name).instances[0].mask()
                ious.append(((back & mask) & valid).sum() / ((back | mask) & valid).sum())
            print(f"| {fmt} (exact) | {np.mean(ious):.5f} | {np.min(ious):.5f} |")


def main() -> int:
    sets = {"GrabCut, 50 objects": grabcut(), "COCO sample, 50 annotations": coco_sample()}
    for title, masks in sets.items():
        print(f"\n### {title}\n")
        print("| format (reader) | tolerance | mean IoU | worst IoU | parts lost (>= 10 px) "
              "| holes filled | vertices | outline s |")
        print("|---|---|---|---|---|---|---|---|")
        for name, (reader, joined) in READERS.items():
            for tolerance in (0.0, 0.5, 1.0):
                r = measure(masks, reader, joined, tolerance)
                print(f"| {name} | {tolerance} | {r['mean']:.5f} | {r['worst']:.5f} | "
                      f"{r['lost']} ({r['big']}) | {r['filled']} | {r['vertices']:,} | "
                      f"{r['seconds']:.1f} |")
    print("\n### Exact formats, GrabCut, exported and imported by sam3-canvas\n")
    print("| format | mean IoU | worst IoU |")
    print("|---|---|---|")
    exact_formats(sets["GrabCut, 50 objects"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
