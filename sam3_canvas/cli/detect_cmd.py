"""``sam3-canvas detect``: class names to masked instances over images and folders.

Results go into the app's own annotation files (the folder's ``.sam3-canvas/``, or ``--out``),
so they open in the app and export to any dataset format. The run can be interrupted and run
again: an image whose annotations already hold detections of the same classes is skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..app.document import Document, Instance
from ..app.project import Project
from ..engine.errors import ImageLoadError, ModelNotFoundError, PromptError, Sam3CanvasError
from ..engine.images import is_image_file, list_images


def add_parser(sub) -> None:
    p = sub.add_parser("detect", help="find and mask every instance of class names",
                       description="Run SAM3's text path: every instance of each class, with "
                                   "a score; results are written as the app's annotations.")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="images or folders")
    p.add_argument("--classes", "-c", nargs="+", required=True,
                   help="class names (several words in quotes: --classes person 'red car')")
    p.add_argument("--threshold", type=float, default=0.5, help="score threshold (0.5)")
    p.add_argument("--nms", type=float, default=0.7, help="mask IoU above which the weaker of "
                                                          "two detections of a class goes")
    p.add_argument("--out", type=Path, help="write annotation files here instead of each "
                                            "folder's .sam3-canvas/")
    p.add_argument("--overwrite", action="store_true", help="run again on images already done")
    group = p.add_argument_group("model")
    where = group.add_mutually_exclusive_group()
    where.add_argument("--model", metavar="NAME", help="a text pack from the catalogue "
                                                       "(default sam3-text-int8)")
    where.add_argument("--model-dir", metavar="DIR", help="a folder with the three graphs")
    group.add_argument("--variant")
    group.add_argument("--models-dir", metavar="DIR")
    group.add_argument("--provider", default="cpu")
    p.set_defaults(run=run)


def _images(paths: list[Path]) -> list[Path]:
    images = []
    for path in paths:
        if path.is_dir():
            images.extend(list_images(path))
        elif path.is_file() and is_image_file(path):
            images.append(path)
        else:
            raise ImageLoadError(f"{path}: not an image or a folder")
    return images


def open_text_segmenter(args):
    from ..engine.text import TextSegmenter
    from ..models.store import ModelStore, default_cache_dir
    from ..engine.cache import EmbeddingCache
    folder = args.model_dir
    if folder is None:
        store = ModelStore(args.models_dir) if args.models_dir else ModelStore()
        pack, folder = store.require(args.model or "sam3-text-int8", args.variant)
        if pack.layout == "tracker":
            raise ModelNotFoundError(f"{pack.name} is the click/box tracker; class names need "
                                     "a text pack (sam3-canvas models list)")
    return TextSegmenter(folder, provider=args.provider,
                         cache=EmbeddingCache(1 << 30, default_cache_dir()))


def run(args) -> int:
    from ..engine.text import parse_classes
    classes = parse_classes(list(args.classes))
    if not classes:
        raise PromptError("no class name: give --classes with at least one name")
    images = _images(args.paths)
    segmenter = open_text_segmenter(args)
    from tqdm import tqdm
    done = skipped = failed = found = 0
    projects: dict[Path, Project] = {}
    for image in tqdm(images, unit="image", file=sys.stderr, disable=None):
        project = projects.get(image.parent) or projects.setdefault(image.parent,
                                                                    Project(image.parent))
        doc_path = (args.out / f"{image.name}.json") if args.out else \
            project.annotation_path(image)
        if not args.overwrite and _already_done(doc_path, classes):
            skipped += 1
            continue
        try:
            result = segmenter.detect(image, classes)
        except Sam3CanvasError as exc:
            failed += 1
            print(f"sam3-canvas: error: {exc}", file=sys.stderr)
            continue
        doc = Document.load(doc_path) if doc_path.is_file() else \
            Document(image.name, result.image.width, result.image.height, result.image.key)
        doc.instances = [i for i in doc.instances if i.source.get("kind") != "detect"]
        for detection in result.detections(args.threshold, args.nms):
            doc.insert(Instance.from_mask(
                doc.next_id(), detection.label, detection.mask(),
                score=round(detection.score, 6),
                source={"kind": "detect", "classes": classes, "threshold": args.threshold,
                        "query": detection.query}))
            project.labels.add(detection.label)
            found += 1
        doc.meta["detect"] = {"classes": classes, "threshold": args.threshold, "nms": args.nms}
        if args.out:
            from ..fsutil import atomic_write_text
            atomic_write_text(doc_path, doc.dumps())
        else:
            project.save(doc)
            project.save_labels()
        done += 1
    for name in dict.fromkeys(segmenter.truncated):
        print(f"sam3-canvas: warning: {name!r} is longer than 32 tokens and was cut",
              file=sys.stderr)
    print(f"{found} instances in {done} images ({skipped} already done, {failed} failed); "
          f"classes: {', '.join(classes)}")
    return 2 if failed else 0


def _already_done(path: Path, classes: list[str]) -> bool:
    if not path.is_file():
        return False
    try:
        doc = Document.load(path)
    except Exception:  # an unreadable file: run again (it is rewritten atomically)
        return False
    return doc.meta.get("detect", {}).get("classes") == classes
