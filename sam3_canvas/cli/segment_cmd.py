"""``sam3-canvas segment``: clicks, background clicks and a box to three ranked masks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..annotations.mask_png import save_mask_png
from ..engine.errors import ImageLoadError, PromptError, Sam3CanvasError
from ..engine.images import is_image_file, list_images
from ..engine.prompts import BACKGROUND, FOREGROUND, Prompt
from ..fsutil import describe_os_error
from .common import (
    Failures,
    add_model_options,
    json_safe,
    open_segmenter_from_args,
    parse_box,
    parse_pair,
    warn,
    warn_about_model,
)


class SegmentCommandError(Sam3CanvasError):
    pass


def add_parser(sub, common) -> None:
    p = sub.add_parser(
        "segment", parents=[common], help="segment images from points and boxes",
        description="Run the SAM3 tracker on images: print the predicted IoU of the three "
                    "candidate masks and the object presence, and write the chosen mask as a "
                    "PNG at the image's own size. Coordinates are in image pixels.")
    p.add_argument("--image", "-i", action="append", required=True, metavar="PATH",
                   help="an image, or a folder of images (repeatable: a batch); with "
                        "--boxes-from, the folder of the dataset's images")
    p.add_argument("--point", action="append", type=parse_pair, default=[], metavar="X,Y",
                   help="a point on the object (repeatable)")
    p.add_argument("--bg-point", action="append", type=parse_pair, default=[], metavar="X,Y",
                   help="a point that is NOT the object (repeatable)")
    p.add_argument("--box", type=parse_box, metavar="X1,Y1,X2,Y2", help="a box around the object")
    pick = p.add_mutually_exclusive_group()
    pick.add_argument("--mask-index", type=int, choices=(0, 1, 2),
                      help="write this candidate (0 smallest ... 2 largest)")
    pick.add_argument("--best-mask", action="store_true",
                      help="write the candidate with the highest predicted IoU (the default)")
    pick.add_argument("--all-masks", action="store_true", help="write all three candidates")
    p.add_argument("--output", "-o", type=Path, metavar="PATH",
                   help="mask file (one image; default mask.png) or folder (a batch; "
                        "default masks/)")
    p.add_argument("--json", action="store_true", help="print the results as JSON on stdout")
    boxes = p.add_argument_group("boxes to masks")
    boxes.add_argument("--boxes-from", metavar="ANNOTATIONS",
                       help="a COCO JSON file or a YOLO labels folder: every box becomes a box "
                            "prompt and its best mask an instance with the box's class and id, "
                            "saved as the app's annotations of the --image folder (local or a "
                            "URL: s3://, gs://, az://, file://)")
    boxes.add_argument("--out", help="with --boxes-from: write the annotation files here "
                                     "instead of the folder's .sam3-canvas/")
    boxes.add_argument("--overwrite", action="store_true",
                       help="with --boxes-from: run again on images already done")
    add_model_options(p)
    from ..annotations.formats import FORMATS
    from .batch_options import add_batch_options
    add_batch_options(p, list(FORMATS), encoder_batch=True)
    p.set_defaults(run=run)


def _expand_images(values: list[str]) -> list[Path]:
    images: list[Path] = []
    for value in values:
        path = Path(value)
        if path.is_dir():
            found = list_images(path)
            if not found:
                raise ImageLoadError(f"{path}: folder holds no images")
            images.extend(found)
        else:
            images.append(path)
    return images


def _prompt(args) -> Prompt:
    points = tuple(args.point) + tuple(args.bg_point)
    labels = (FOREGROUND,) * len(args.point) + (BACKGROUND,) * len(args.bg_point)
    prompt = Prompt(points=points, labels=labels, box=args.box)
    if prompt.is_empty:
        raise PromptError("give at least one --point, --bg-point or --box")
    return prompt


def _outputs(args, image: Path, batch: bool, indices: list[int]) -> dict[int, Path]:
    if batch:
        folder = args.output or Path("masks")
        base = folder / image.stem
    else:
        target = args.output or Path("mask.png")
        if target.is_dir():
            target = target / f"{image.stem}_mask.png"
        if not args.all_masks:
            return {indices[0]: target}
        base = target.with_suffix("")
    if args.all_masks:
        return {i: base.parent / f"{base.name}_{i}.png" for i in indices}
    return {indices[0]: base.with_name(base.name + ".png")}


def run(args) -> int:
    if args.boxes_from:
        return run_boxes(args)
    if args.ray or args.export_format or args.encoder_batch != 1:
        raise PromptError("--ray, --format and --encoder-batch are for --boxes-from (a "
                          "dataset's boxes); clicks and a box run here, one image at a time")
    prompt = _prompt(args)
    images = _expand_images(args.image)
    batch = len(images) > 1 or any(Path(v).is_dir() for v in args.image)
    segmenter = open_segmenter_from_args(args)
    warn_about_model(segmenter.model.fallback_reason)
    results, failures = [], Failures()
    progress = None
    if batch:
        from tqdm import tqdm
        progress = tqdm(total=len(images), unit="image", file=sys.stderr, disable=None)
    for path in images:
        try:
            results.append(_segment_one(segmenter, path, prompt, args, batch))
        except Sam3CanvasError as exc:
            if not batch:
                raise
            failures.add(str(path), str(exc))
            results.append({"image": str(path), "error": str(exc)})
        except OSError as exc:
            message = f"cannot write the mask for {path}: {describe_os_error(exc)}"
            if not batch:
                raise SegmentCommandError(message) from None
            failures.add(str(path), message)
            results.append({"image": str(path), "error": message})
        if progress is not None:
            progress.update(1)
    if progress is not None:
        progress.close()
    if args.json:
        doc = results[0] if not batch else {"results": results, "failed": len(failures)}
        json.dump(json_safe(doc), sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    failures.summary(len(images))
    return 2 if failures else 0


def run_boxes(args) -> int:
    """Every box of a box dataset to a mask, as the app's annotations (batch, resumable)."""
    from ..batch.boxes import read_boxes
    from ..batch.jobs import BoxesJob, ModelSpec
    from ..batch.plan import plan as plan_images
    from .batch_options import check_export, finish, import_ray, run_batch
    if args.point or args.bg_point or args.box or args.all_masks or args.mask_index is not None \
            or args.output:
        raise PromptError("--boxes-from takes its prompts from the dataset: leave out --point, "
                          "--bg-point, --box, the mask choice and --output (--out names the "
                          "annotation folder)")
    boxes = read_boxes(args.boxes_from)
    for problem in boxes.problems:
        print(f"sam3-canvas: skipped: {problem}", file=sys.stderr)
    plan = plan_images(args.image, args.out, boxes)
    if not plan.tasks and not plan.problems:
        raise SegmentCommandError(f"none of the images in {', '.join(args.image)} is listed in "
                                  f"{args.boxes_from}")
    check_export(args, plan)
    if args.ray:
        import_ray()
    segmenter = open_segmenter_from_args(args)
    warn_about_model(segmenter.model.fallback_reason)
    job = BoxesJob(boxes.origin, args.overwrite)
    model = ModelSpec(args.model, args.model_dir, args.variant, args.models_dir, args.provider)
    size = segmenter.input_size
    if args.ray:
        segmenter = None  # the workers open their own; the driver need not hold it
    report = run_batch(args, job, model, plan, segmenter, size, label_order=boxes.labels)
    return finish(args, report, plan)


def _segment_one(segmenter, path: Path, prompt: Prompt, args, batch: bool) -> dict:
    if path.is_file() and not is_image_file(path) and batch:
        raise ImageLoadError(f"{path}: not an image file name")
    encoded = segmenter.encode(path)
    if encoded.image.note:
        warn(f"{path}: {encoded.image.note}")
    prediction = segmenter.predict(encoded, prompt)
    prediction.timings.update(encoded.timings)
    if args.mask_index is not None:
        chosen = args.mask_index
    else:
        chosen = prediction.best_index
    indices = list(range(len(prediction.ious))) if args.all_masks else [chosen]
    written = {}
    for index, target in _outputs(args, path, batch, indices).items():
        save_mask_png(target, prediction.mask(index, exact=True))
        written[index] = str(target)
    result = {"image": str(path), **prediction.to_dict(chosen),
              "outputs": {str(k): v for k, v in written.items()}}
    if not args.json:
        width, height = prediction.image_size
        lines = [f"{path} ({width} x {height}) on {prediction.provider}"]
        for i, iou in enumerate(prediction.ious):
            tag = "  <- written" if i in written else ""
            best = " (best)" if i == prediction.best_index else ""
            lines.append(f"  Mask {i}: IoU = {iou:.4f}{best}{tag}")
        lines.append(f"  Object presence probability: {prediction.object_score:.4f}")
        lines.extend(f"  wrote {p}" for p in written.values())
        print("\n".join(lines))
    return result
