"""COCO AP for masks and boxes, through pycocotools' own COCOeval.

Predictions come as a COCO results file (a list of ``{"image_id", "category_id",
"segmentation" and/or "bbox", "score"}``) or as a folder of the app's annotation files (what
``sam3-canvas detect`` writes), matched to the ground truth by image file name and class name.

pycocotools' ``loadRes`` builds a result's mask from its box when the result has a box, so the
mask and box evaluations get separate copies of the results: one without boxes, one without
masks. COCOeval marks "no match" with annotation id 0, so a ground truth that uses id 0 (the
COCO panoptic sample does) would count its match as a miss: such files are numbered from 1.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import posixpath
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..document.annotation import ANNOTATION_DIR, Document, DocumentError
from ..engine.errors import Sam3CanvasError


class CocoEvalError(Sam3CanvasError):
    pass


@dataclass
class ApResult:
    kind: str  # "segm" or "bbox"
    ap: float
    ap50: float
    ap75: float
    per_class: dict[str, float] = field(default_factory=dict)  # AP, NaN if no ground truth

    def to_dict(self) -> dict:
        def r(v):
            return None if not np.isfinite(v) else round(float(v), 4)
        return {"ap": r(self.ap), "ap50": r(self.ap50), "ap75": r(self.ap75),
                "per_class": {k: r(v) for k, v in self.per_class.items()}}


def _load_gt(path: Path):
    from pycocotools.coco import COCO
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        data.setdefault("info", {})
        data.setdefault("licenses", [])
        ids = [a.get("id") for a in data["annotations"]]
        if any(not isinstance(i, int) or i <= 0 for i in ids) or len(set(ids)) != len(ids):
            # COCOeval marks "no match" with 0, so a match with annotation 0 counts as a miss
            # (and equal ids mix up): number them from 1; results never refer to them
            for number, ann in enumerate(data["annotations"], 1):
                ann["id"] = number
        gt = COCO()
        gt.dataset = data
        with contextlib.redirect_stdout(io.StringIO()):
            gt.createIndex()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError,
            ValueError) as exc:
        raise CocoEvalError(f"{path}: not a readable COCO file ({exc})") from None
    return gt


def results_from_documents(folder: Path, gt) -> tuple[list[dict], list[str]]:
    """COCO results from the app's annotation files in ``folder`` (or its .sam3-canvas)."""
    if (folder / ANNOTATION_DIR).is_dir():
        folder = folder / ANNOTATION_DIR
    images = {posixpath.basename(i["file_name"]): i["id"] for i in gt.dataset["images"]}
    classes = {c["name"]: c["id"] for c in gt.dataset.get("categories", [])}
    results, problems = [], []
    files = sorted(folder.glob("*.json"))
    if not files:
        raise CocoEvalError(f"{folder}: no annotation files")
    for path in files:
        if path.name == "labels.json":
            continue
        try:
            doc = Document.load(path)
        except DocumentError as exc:
            problems.append(str(exc))
            continue
        image_id = images.get(doc.image_file)
        if image_id is None:
            problems.append(f"{path.name}: {doc.image_file} is not in the ground truth")
            continue
        for inst in doc.instances:
            if inst.label not in classes:
                problems.append(f"{path.name}: class {inst.label!r} is not a category of the "
                                "ground truth")
                continue
            results.append({"image_id": image_id, "category_id": classes[inst.label],
                            "segmentation": dict(inst.rle), "bbox": list(inst.bbox),
                            "score": float(inst.score if inst.score is not None else 1.0)})
    return results, problems


def read_results(path: Path, gt) -> tuple[list[dict], list[str]]:
    if path.is_dir():
        return results_from_documents(path, gt)
    try:
        results = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CocoEvalError(f"{path}: not a readable COCO results file ({exc})") from None
    if not isinstance(results, list):
        raise CocoEvalError(f"{path}: a COCO results file is a list of detections")
    return results, []


def _as_rle(result, gt):
    """A result whose mask is polygons or uncompressed RLE, with compressed RLE instead (what
    loadRes takes)."""
    segmentation = result.get("segmentation") if isinstance(result, dict) else None
    if segmentation is None or (isinstance(segmentation, dict) and
                                isinstance(segmentation.get("counts"), str)):
        return result
    from pycocotools import mask as mask_utils
    try:
        info = gt.imgs[result["image_id"]]
        if isinstance(segmentation, list):
            rle = mask_utils.merge(mask_utils.frPyObjects(segmentation, info["height"],
                                                          info["width"]))
        else:
            rle = mask_utils.frPyObjects(segmentation, *segmentation["size"])
        rle = {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}
    except (KeyError, TypeError, ValueError, IndexError):
        return result  # left to loadRes, which says what is wrong
    return {**result, "segmentation": rle}


def _with_box(result, gt):
    """A result with its box: its own, or its mask's (pycocotools' toBbox)."""
    if not isinstance(result, dict) or "bbox" in result or "segmentation" not in result:
        return result
    from pycocotools import mask as mask_utils
    segmentation = result["segmentation"]
    try:
        if isinstance(segmentation, list):  # polygons
            info = gt.imgs[result["image_id"]]
            segmentation = mask_utils.merge(mask_utils.frPyObjects(
                segmentation, info["height"], info["width"]))
        return {**result, "bbox": [float(v) for v in mask_utils.toBbox(segmentation)]}
    except (KeyError, TypeError, ValueError, IndexError):
        return result  # left to loadRes, which says what is wrong


def evaluate(gt_path: Path, pred_path: Path) -> tuple[list[ApResult], list[str]]:
    """AP / AP50 / AP75, overall and per class, for masks (when the predictions have them)
    and boxes. Returns the results and the problems met (predictions left out)."""
    from pycocotools.cocoeval import COCOeval
    gt = _load_gt(gt_path)
    results, problems = read_results(pred_path, gt)
    names = {c["id"]: c["name"] for c in gt.dataset.get("categories", [])}
    out = []
    for kind, key, other in (("segm", "segmentation", "bbox"), ("bbox", "bbox", "segmentation")):
        chosen = [{k: v for k, v in copy.deepcopy(r).items() if k != other}
                  for r in ([_as_rle(r, gt) for r in results] if kind == "segm"
                            else [_with_box(r, gt) for r in results])
                  if isinstance(r, dict) and key in r]
        if kind == "segm" and not chosen and results:
            continue  # box-only results: no mask AP
        if not chosen:
            out.append(ApResult(kind, 0.0, 0.0, 0.0, {n: 0.0 for n in names.values()}))
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                dt = gt.loadRes(chosen)
            except (KeyError, TypeError, ValueError, AssertionError, IndexError) as exc:
                raise CocoEvalError(f"{pred_path}: results pycocotools cannot read ({exc})") \
                    from None
            run = COCOeval(gt, dt, kind)
            run.evaluate()
            run.accumulate()
            run.summarize()
        precision = run.eval["precision"]  # [T, R, K, A, M]
        per_class = {}
        for k, cat in enumerate(run.params.catIds):
            values = precision[:, :, k, 0, -1]
            values = values[values > -1]
            per_class[names.get(cat, str(cat))] = float(values.mean()) if values.size \
                else float("nan")
        out.append(ApResult(kind, float(run.stats[0]), float(run.stats[1]),
                            float(run.stats[2]), per_class))
    return out, problems
