"""``sam3-canvas detect``: class names to masked instances over images and folders.

Results go into the app's own annotation files (the folder's ``.sam3-canvas/``, or ``--out``),
so they open in the app and export to any dataset format. The run can be interrupted and run
again: an image whose annotations already hold detections of the same classes is skipped.
Images go through :mod:`sam3_canvas.batch`, in this process or, with ``--ray``, on Ray.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..app.project import Project
from ..engine.errors import PromptError


def add_parser(sub, common) -> None:
    p = sub.add_parser("detect", parents=[common],
                       help="find and mask every instance of class names",
                       description="Run SAM3's text path: every instance of each class, with "
                                   "a score; results are written as the app's annotations.")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="images, folders (local, or any URL fsspec reads: s3://, gs://, "
                        "az://, file://), or local videos (their detections joined into "
                        "tracks by ByteTrack, saved on the clip's frames)")
    p.add_argument("--classes", "-c", nargs="+", required=True,
                   help="class names (several words in quotes: --classes person 'red car')")
    p.add_argument("--threshold", type=float, default=0.5, help="score threshold (0.5)")
    p.add_argument("--nms", type=float, default=0.7, help="mask IoU above which the weaker of "
                                                          "two detections of a class goes")
    p.add_argument("--out", help="write annotation files here (a folder or URL) instead of "
                                 "each folder's .sam3-canvas/")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
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
    from ..annotations.formats import FORMATS
    from .batch_options import add_batch_options
    add_batch_options(p, list(FORMATS))
    p.set_defaults(run=run)


def open_text_segmenter(args):
    from ..engine.cache import EmbeddingCache
    from ..engine.text import TextSegmenter
    from ..models.store import ModelStore, text_pack_folder
    from .common import disk_cache_from_args
    folder = args.model_dir
    if folder is None:
        store = ModelStore(args.models_dir) if args.models_dir else ModelStore()
        folder = text_pack_folder(store, args.model, args.variant)
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
    from ..batch.jobs import DetectJob, ModelSpec
    from ..batch.plan import plan as plan_images
    from ..engine.text import parse_classes
    from .batch_options import check_export, finish, import_ray, run_batch
    from .common import warn, warn_about_model
    classes = parse_classes(list(args.classes))
    if not classes:
        raise PromptError("no class name: give --classes with at least one name")
    if not 0.0 <= args.threshold <= 1.0 or not 0.0 <= args.nms <= 1.0:
        raise PromptError("--threshold and --nms are between 0 and 1")
    if args.every < 1:
        raise PromptError("--every is 1 or more")
    from ..video.frames import is_video_file
    def is_video(path: str) -> bool:
        return "://" not in path and Path(path).is_file() and is_video_file(Path(path))
    videos = [Path(p) for p in args.paths if is_video(p)]
    others = [p for p in args.paths if not is_video(p)]
    plan = plan_images(others, str(args.out) if args.out else None)
    check_export(args, plan)
    if args.ray:
        import_ray()
    segmenter = open_text_segmenter(args)
    warn_about_model(segmenter.fallback_reason)
    for video in videos:
        _detect_video(segmenter, video, classes, args)
    if videos and not others:
        return 0
    job = DetectJob(tuple(classes), args.threshold, args.nms, args.overwrite)
    model = ModelSpec(args.model, args.model_dir, args.variant, args.models_dir,
                      args.provider)
    size = segmenter.input_size
    if args.ray:
        segmenter = None  # the workers open their own; the driver need not hold it
    report = run_batch(args, job, model, plan, segmenter, size)
    if report.counts["done"] == 0 and report.counts["skipped"] and not args.json:
        warn("every image was done already for these classes (--overwrite runs them again)")
    print(f"classes: {', '.join(classes)}")
    return finish(args, report, plan)
