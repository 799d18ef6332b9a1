"""``sam3-canvas eval clicks`` (the interactive-segmentation protocol) and ``sam3-canvas eval
coco`` (COCO AP); the protocol and the JSON outputs are in docs/eval.md."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..engine.errors import Sam3CanvasError
from .common import add_model_options, json_safe, open_segmenter_from_args, warn_about_model


def add_parser(sub, common) -> None:
    p = sub.add_parser("eval", parents=[common], help="measure a model on your own data",
                       description="Measure on your own data: the interactive-segmentation "
                                   "protocol (NoC) or COCO AP. See docs/eval.md.")
    kinds = p.add_subparsers(dest="eval_kind", metavar="KIND", required=True)
    c = kinds.add_parser("clicks", parents=[common],
                         help="simulated clicks: NoC@85, NoC@90, NoF, mIoU per click",
                         description="The standard click simulator (RITM, SimpleClick, SAM): "
                                     "each click at the point farthest from the edge of the "
                                     "larger error region.")
    c.add_argument("--images", required=True, type=Path, help="the folder of images")
    c.add_argument("--masks", required=True, type=Path,
                   help="the folder of masks, matched by stem: <stem>.png (0/255, 128 "
                        "ignored; or instance ids), <stem>_<n>.png or <stem>/<n>.png")
    c.add_argument("--max-clicks", type=int, default=20, metavar="N", help="(default 20)")
    c.add_argument("--limit", type=int, metavar="N", help="only the first N objects")
    c.add_argument("--out", type=Path, metavar="DIR",
                   help="write the mIoU-per-click curve (CSV, and PNG with matplotlib)")
    c.add_argument("--json", action="store_true",
                   help="print the summary and every object's clicks and IoUs as JSON")
    add_model_options(c)
    c.set_defaults(run=run_clicks)
    k = kinds.add_parser("coco", parents=[common], help="COCO AP, AP50, AP75 (masks, boxes)",
                         description="COCO AP through pycocotools' COCOeval, overall and per "
                                     "class.")
    k.add_argument("--gt", required=True, type=Path, help="the ground truth (COCO JSON)")
    k.add_argument("--pred", required=True, type=Path,
                   help="a COCO results JSON, or a folder of sam3-canvas annotation files "
                        "(the images' folder or its .sam3-canvas)")
    k.add_argument("--json", action="store_true", help="print the results as JSON")
    k.set_defaults(run=run_coco)


def _model_name(args) -> str:
    name = args.model or (Path(args.model_dir).name if args.model_dir else "sam3-tracker")
    return f"{name} ({args.variant})" if args.variant else name


def run_clicks(args) -> int:
    from tqdm import tqdm

    from ..evaluation import history
    from ..evaluation.interactive import THRESHOLDS, run_object, summarise
    from ..evaluation.objects import load_objects
    if args.max_clicks < 1:
        raise Sam3CanvasError("--max-clicks is 1 or more")
    objects = list(load_objects(args.images, args.masks))
    if args.limit:
        objects = objects[:args.limit]
    segmenter = open_segmenter_from_args(args)
    warn_about_model(segmenter.model.fallback_reason)
    runs, failed = [], []
    for obj in tqdm(objects, unit="object", file=sys.stderr, disable=None):
        try:
            runs.append(run_object(segmenter, obj, args.max_clicks))
        except Sam3CanvasError as exc:
            failed.append((obj.name, str(exc)))
            print(f"sam3-canvas: error: {exc}", file=sys.stderr)
    if not runs:
        raise Sam3CanvasError("no object could be measured")
    summary = summarise(runs, args.max_clicks)
    result = summary.to_dict()
    history.record("clicks", _model_name(args), result, str(args.images))
    if args.out:
        from ..evaluation.plots import write_curve
        for path in write_curve(args.out, summary.miou, summary.miou_best,
                                f"{_model_name(args)} on {args.images.name}"):
            print(f"wrote {path}", file=sys.stderr)
    if args.json:
        doc = {"model": _model_name(args), "provider": segmenter.provider, **result,
               "failed": [{"image": n, "error": e} for n, e in failed],
               "objects_detail": [r.to_dict() for r in runs]}
        json.dump(json_safe(doc), sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        print(_clicks_table(summary, THRESHOLDS, _model_name(args), segmenter.provider))
    return 2 if failed else 0


def _clicks_table(summary, thresholds, model: str, provider: str) -> str:
    def at(values, k):
        return f"{values[k - 1]:.3f}" if len(values) >= k else "-"
    lines = [f"{model} on {provider}: {summary.objects} objects, up to {summary.max_clicks} "
             "clicks",
             f"{'':24}" + "".join(f"{h:>9}" for h in ("NoC@85", "NoC@90", "NoF@90", "mIoU@1",
                                                     "mIoU@3", "mIoU@5"))]
    for name, noc, nof, miou in (("ranked first (the app)", summary.noc, summary.nof,
                                  summary.miou),
                                 ("best of three vs truth", summary.noc_best,
                                  summary.nof_best, summary.miou_best)):
        lines.append(f"{name:24}{noc[thresholds[0]]:9.2f}{noc[thresholds[1]]:9.2f}"
                     f"{nof[thresholds[1]]:9d}{at(miou, 1):>9}{at(miou, 3):>9}{at(miou, 5):>9}")
    return "\n".join(lines)


def run_coco(args) -> int:
    from ..evaluation import history
    from ..evaluation.coco_ap import evaluate
    results, problems = evaluate(args.gt, args.pred)
    for problem in problems:
        print(f"sam3-canvas: skipped: {problem}", file=sys.stderr)
    doc = {r.kind: r.to_dict() for r in results}
    history.record("coco", str(args.pred), doc, str(args.gt))
    if args.json:
        json.dump(json_safe({**doc, "skipped": problems}), sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    for r in results:
        name = "masks" if r.kind == "segm" else "boxes"
        print(f"{name}: AP {r.ap:.4f}  AP50 {r.ap50:.4f}  AP75 {r.ap75:.4f}")
        absent = [cls for cls, ap in r.per_class.items() if ap != ap]  # NaN: no ground truth
        for cls, ap in r.per_class.items():
            if ap == ap:
                print(f"  {cls:28} {ap:.4f}")
        if absent:
            print(f"  ({len(absent)} classes without ground truth left out)")
    return 0
