"""``sam3-canvas detect``: class names to masked instances over images and folders.

Results go into the app's own annotation files (the folder's ``.sam3-canvas/``, or ``--out``),
so they open in the app and export to any dataset format. The run can be interrupted and run
again: an image whose annotations already hold detections of the same classes is skipped.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..app.project import Project, SaveError
from ..document.annotation import Document, DocumentError, Instance
from ..engine.errors import ModelNotFoundError, PromptError, Sam3CanvasError
from ..engine.images import is_image_file, list_images
from ..fsutil import atomic_write_text, describe_os_error


def add_parser(sub, common) -> None:
    p = sub.add_parser("detect", parents=[common],
                       help="find and mask every instance of class names",
                       description="Run SAM3's text path: every instance of each class, with "
                                   "a score; results are written as the app's annotations.")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                   help="images, folders, or videos (their detections joined into tracks by "
                        "ByteTrack, saved on the clip's frames)")
    p.add_argument("--classes", "-c", nargs="+", required=True,
                   help="class names (several words in quotes: --classes person 'red car')")
    p.add_argument("--threshold", type=float, default=0.5, help="score threshold (0.5)")
    p.add_argument("--nms", type=float, default=0.7, help="mask IoU above which the weaker of "
                                                          "two detections of a class goes")
    p.add_argument("--out", type=Path, help="write annotation files here instead of each "
                                            "folder's .sam3-canvas/")
    p.add_argument("--overwrite", action="store_true", help="run again on images already done")
    p.add_argument("--every", type=int, default=1, metavar="N",
                   help="videos: run on every Nth frame (1: every frame)")
    group = p.add_argument_group("model")
    where = group.add_mutually_exclusive_group()
    where.add_argument("--model", metavar="NAME", help="a text pack from the catalogue "
                                                       "(default sam3-text-int8)")
    where.add_argument("--model-dir", metavar="DIR", help="a folder with the three graphs")
    group.add_argument("--variant")
    group.add_argument("--models-dir", metavar="DIR")
    group.add_argument("--provider", default="cpu")
    from .common import add_disk_cache_options
    add_disk_cache_options(group)
    p.set_defaults(run=run)


def _images(paths: list[Path], failures) -> list[Path]:
    images = []
    for path in paths:
        if path.is_dir():
            images.extend(list_images(path))
        elif path.is_file() and is_image_file(path):
            images.append(path)
        else:
            failures.add(str(path), f"{path}: not an image or a folder")
    return images


def open_text_segmenter(args):
    from ..engine.cache import EmbeddingCache
    from ..engine.text import TextSegmenter
    from ..models.store import ModelStore
    from .common import disk_cache_from_args
    folder = args.model_dir
    if folder is None:
        store = ModelStore(args.models_dir) if args.models_dir else ModelStore()
        pack, folder = store.require(args.model or "sam3-text-int8", args.variant)
        if pack.layout == "tracker":
            raise ModelNotFoundError(f"{pack.name} is the click/box tracker; class names need "
                                     "a text pack (sam3-canvas models list)")
    disk, disk_bytes = disk_cache_from_args(args)
    return TextSegmenter(folder, provider=args.provider,
                         cache=EmbeddingCache(1 << 30, disk, disk_max_bytes=disk_bytes))


def _detect_video(segmenter, video: Path, classes: list[str], args) -> None:
    """Every (Nth) frame of a clip, detections joined into tracks, saved on its frames."""
    from tqdm import tqdm

    from ..app.video_tracks import write_detected_tracks
    from ..video.frames import open_frames
    from ..video.text_tracks import detect_tracks
    frames = open_frames(video)
    project = Project(video.parent)
    steps = range(0, len(frames), args.every)
    with tqdm(total=len(steps), unit="frame", file=sys.stderr, disable=None) as progress:
        def counted():
            for result in detect_tracks(segmenter, frames, classes, args.every,
                                        args.threshold, args.nms):
                progress.update(1)
                yield result
        counts = write_detected_tracks(project, video, (frames.width, frames.height),
                                       counted(), classes)
    frames.close()
    print(f"{video}: {counts['instances']} detections of {', '.join(classes)} on "
          f"{counts['frames']} frames, joined into {counts['tracks']} tracks "
          f"(in {project.dir})")


def run(args) -> int:
    from ..engine.text import parse_classes
    from .common import Failures, warn, warn_about_model
    classes = parse_classes(list(args.classes))
    if not classes:
        raise PromptError("no class name: give --classes with at least one name")
    if not 0.0 <= args.threshold <= 1.0 or not 0.0 <= args.nms <= 1.0:
        raise PromptError("--threshold and --nms are between 0 and 1")
    if args.every < 1:
        raise PromptError("--every is 1 or more")
    from ..video.frames import is_video_file
    videos = [p for p in args.paths if p.is_file() and is_video_file(p)]
    failures = Failures()
    images = _images([p for p in args.paths if p not in videos], failures)
    total = len(images) + len(failures)  # bad paths count as items of the batch
    segmenter = open_text_segmenter(args)
    warn_about_model(segmenter.fallback_reason)
    for video in videos:
        _detect_video(segmenter, video, classes, args)
    if videos and not images and not failures:
        return 0
    from tqdm import tqdm
    done = skipped = found = 0
    projects: dict[Path, Project] = {}
    for image in tqdm(images, unit="image", file=sys.stderr, disable=None):
        try:
            if image.parent not in projects:
                projects[image.parent] = Project(image.parent)
            project = projects[image.parent]
            doc_path = (args.out / f"{image.name}.json") if args.out else \
                project.annotation_path(image)
            existing = _existing(doc_path)
            if not args.overwrite and existing is not None and \
                    existing.meta.get("detect", {}).get("classes") == classes:
                skipped += 1
                continue
            result = segmenter.detect(image, classes)
            if result.image.note:
                warn(f"{image}: {result.image.note}")
            doc = existing or Document(image.name, result.image.width, result.image.height,
                                       result.image.key)
            doc.instances = [i for i in doc.instances if i.source.get("kind") != "detect"]
            kept = 0
            for detection in result.detections(args.threshold, args.nms):
                doc.insert(Instance.from_mask(
                    doc.next_id(), detection.label, detection.mask(),
                    score=round(detection.score, 6),
                    source={"kind": "detect", "classes": classes, "threshold": args.threshold,
                            "query": detection.query}))
                project.labels.add(detection.label)
                kept += 1
            doc.meta["detect"] = {"classes": classes, "threshold": args.threshold,
                                  "nms": args.nms}
            _save(doc, doc_path, project, bool(args.out))
        except Sam3CanvasError as exc:
            failures.add(str(image), str(exc))
            continue
        found += kept
        done += 1
    for name in dict.fromkeys(segmenter.truncated):
        warn(f"{name!r} is longer than 32 tokens and was cut")
    print(f"{found} instances in {done} images ({skipped} already done, {len(failures)} "
          f"failed); classes: {', '.join(classes)}")
    failures.summary(total)
    return 2 if failures else 0


def _existing(path: Path) -> Document | None:
    """The annotations already there; an unreadable file raises (it is never overwritten)."""
    if not path.is_file():
        return None
    try:
        return Document.load(path)
    except DocumentError as exc:
        raise DocumentError(f"{exc}; it was left as it is: fix it or move it away, then run "
                            "again") from None


def _save(doc: Document, path: Path, project: Project, elsewhere: bool) -> None:
    if elsewhere:
        try:
            atomic_write_text(path, doc.dumps())
        except OSError as exc:
            raise SaveError(f"could not save {path}: {describe_os_error(exc)}") from None
    else:
        project.save(doc)
        project.save_labels()
