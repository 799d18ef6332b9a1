"""Broken variants of every dataset format, imported one by one (run by test_import_fuzz.py in
its own process under a memory limit; prints one JSON line per case).

Each format starts from a small valid dataset for one 64 x 48 photo. The JSON formats (COCO,
labelme) get every value at every level replaced by wrong types and bad numbers (NaN, inf,
1e300, negative, huge) and every key removed; YOLO's label lines get each field replaced and
the file cut or re-encoded; the PNG formats get their files truncated and their bytes garbled.
A case passes when the import returns a report (never raises anything but the project's own
one-line errors) and every problem is one line.
"""

from __future__ import annotations

import copy
import json
import math
import shutil
import sys
import traceback
from pathlib import Path

import numpy as np
from PIL import Image

BAD_VALUES = [None, "x", "", -1, 0, 1e300, -1e300, math.nan, math.inf, 10 ** 20, True, [],
              {}, [[1, 2]], "NaN"]
W, H = 64, 48


def photo(folder: Path, name: str = "a.jpg") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((H, W, 3), 128, np.uint8)).save(folder / name)


def coco_doc() -> dict:
    from pycocotools import mask as mask_utils
    mask = np.zeros((H, W), np.uint8, order="F")
    mask[10:30, 10:40] = 1
    rle = mask_utils.encode(mask)
    return {"images": [{"id": 1, "file_name": "a.jpg", "width": W, "height": H}],
            "categories": [{"id": 1, "name": "thing", "supercategory": "stuff"}],
            "annotations": [
                {"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                 "segmentation": [[10, 10, 40, 10, 40, 30, 10, 30]], "area": 600,
                 "bbox": [10, 10, 30, 20]},
                {"id": 2, "image_id": 1, "category_id": 1, "iscrowd": 1,
                 "segmentation": {"size": [H, W], "counts": rle["counts"].decode()},
                 "area": 600, "bbox": [10, 10, 30, 20]}]}


def labelme_doc() -> dict:
    return {"version": "5.5.0", "flags": {}, "imagePath": "a.jpg", "imageData": None,
            "imageHeight": H, "imageWidth": W,
            "shapes": [{"label": "thing", "points": [[10, 10], [40, 10], [40, 30]],
                        "group_id": None, "shape_type": "polygon", "flags": {}},
                       {"label": "box", "points": [[5, 5], [20, 20]], "group_id": 3,
                        "shape_type": "rectangle", "flags": {}},
                       {"label": "round", "points": [[30, 30], [35, 30]], "group_id": None,
                        "shape_type": "circle", "flags": {}}]}


def paths(value, prefix=()):
    """Every path into a JSON value (dict keys and list indices)."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, prefix + (index,))


def mutations(doc: dict):
    """(description, broken copy) for each path: each bad value, and the key removed."""
    for path in list(paths(doc)):
        for bad in BAD_VALUES:
            broken = copy.deepcopy(doc)
            if not path:
                yield f"whole file = {bad!r}", bad
                continue
            parent = broken
            for step in path[:-1]:
                parent = parent[step]
            parent[path[-1]] = copy.deepcopy(bad)
            yield f"{'/'.join(map(str, path))} = {bad!r}", broken
        if path and isinstance(path[-1], str):
            broken = copy.deepcopy(doc)
            parent = broken
            for step in path[:-1]:
                parent = parent[step]
            del parent[path[-1]]
            yield f"{'/'.join(map(str, path))} removed", broken


def yolo_cases():
    good = "0 0.1 0.1 0.5 0.1 0.5 0.6"
    fields = good.split()
    for index in range(len(fields)):
        for bad in ("nan", "inf", "-inf", "1e300", "-5", "0.7", "x", "", "99", "1e-300"):
            line = fields.copy()
            line[index] = bad
            yield f"field {index} = {bad!r}", (" ".join(line) + "\n").encode()
    yield "truncated line", b"0 0.1 0.1 0.5"
    yield "latin-1", "0 0.1 0.1 0.5 0.1 0.5 0.6 \xe9\n".encode("latin-1")
    yield "binary", bytes(range(256))
    yield "empty", b""
    yield "huge line", ("0 " + " ".join(["0.5"] * 200000) + "\n").encode()


def png_cases(data: bytes):
    for cut in (0, 8, 16, 33, 60, len(data) // 2, len(data) - 1):
        yield f"cut at {cut}", data[:cut]
    rng = np.random.default_rng(0)
    for n in range(6):
        garbled = bytearray(data)
        for index in rng.integers(8, len(data), 8):
            garbled[index] = int(rng.integers(0, 256))
        yield f"garbled {n}", bytes(garbled)


def run(fmt: str, case: str, dataset: Path, photos: Path) -> dict:
    from sam3_canvas.app.datasets import import_into_project
    from sam3_canvas.app.project import Project
    from sam3_canvas.engine.errors import Sam3CanvasError
    shutil.rmtree(photos / ".sam3-canvas", ignore_errors=True)
    try:
        report = import_into_project(Project(photos), fmt, dataset)
    except Sam3CanvasError as exc:
        return {"format": fmt, "case": case, "outcome": "error", "lines": [str(exc)]}
    except Exception:  # noqa: BLE001 - what the test reports
        return {"format": fmt, "case": case, "outcome": "crash",
                "lines": traceback.format_exc().splitlines()[-3:]}
    return {"format": fmt, "case": case, "outcome": "ok", "instances": report.instances,
            "lines": report.problems}


def main(work: Path) -> int:
    photos = work / "photos"
    photo(photos)
    emit = lambda result: print(json.dumps(result), flush=True)  # noqa: E731
    for fmt, base in (("coco", coco_doc()), ("labelme", labelme_doc())):
        for case, broken in mutations(base):
            target = work / fmt / ("instances.json" if fmt == "coco" else "a.json")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(broken))  # NaN and inf as JavaScript's words
            emit(run(fmt, case, target if fmt == "coco" else target.parent, photos))
    yolo = work / "yolo"
    (yolo / "labels").mkdir(parents=True, exist_ok=True)
    (yolo / "data.yaml").write_text("names:\n  0: thing\n")
    for case, data in yolo_cases():
        (yolo / "labels" / "a.txt").write_bytes(data)
        emit(run("yolo", case, yolo, photos))
    for fmt in ("voc", "png"):
        from sam3_canvas.app.datasets import export_project
        from sam3_canvas.app.project import Project
        from sam3_canvas.document.annotation import Instance
        source = work / f"{fmt}-source"
        photo(source)
        project = Project(source)
        doc = project.document(source / "a.jpg")
        mask = np.zeros((H, W), bool)
        mask[10:30, 10:40] = True
        doc.insert(Instance.from_mask(doc.next_id(), "thing", mask))
        project.save(doc)
        out = work / f"{fmt}-out"
        shutil.rmtree(out, ignore_errors=True)
        export_project(project, fmt, out)
        targets = sorted(p for p in out.rglob("*.png"))
        for target in targets:
            original = target.read_bytes()
            for case, data in png_cases(original):
                target.write_bytes(data)
                emit(run(fmt, f"{target.relative_to(out)}: {case}", out, photos))
            target.write_bytes(original)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
