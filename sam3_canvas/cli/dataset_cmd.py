"""``sam3-canvas export`` and ``sam3-canvas import``: datasets out of and into a folder's
annotation files."""

from __future__ import annotations

import sys
from pathlib import Path

from ..annotations.dataset import DatasetError
from ..annotations.export_target import ExportRefused
from ..annotations.formats import FORMATS
from ..annotations.video_formats import VIDEO_FORMATS
from ..engine.errors import Sam3CanvasError
from ..fsutil import describe_os_error


class DatasetCommandError(Sam3CanvasError):
    pass


def add_parsers(sub, common) -> None:
    listing = "; ".join(f"{f.name}: {f.keeps}" for f in FORMATS.values())
    e = sub.add_parser("export", parents=[common], help="write a folder's annotations as a dataset",
                       description=f"Export the annotations of a folder of images. {listing}.")
    e.add_argument("--format", "-f", required=True, choices=list(FORMATS) + list(VIDEO_FORMATS),
                   help="for a folder of images: " + ", ".join(FORMATS) + "; for a video "
                        "(its tracks): " + ", ".join(VIDEO_FORMATS))
    e.add_argument("--out", "-o", required=True, type=Path, help="the dataset folder to write")
    e.add_argument("--polygons", action="store_true", help="COCO: polygons instead of RLE")
    e.add_argument("--tolerance", type=float, default=None,
                   help="polygon simplification in pixels (default 0.5)")
    e.add_argument("--min-part-px", type=int, default=1, metavar="N",
                   help="polygon formats: leave out separate parts smaller than N pixels "
                        "(counted in the summary; default 1 keeps every pixel)")
    e.add_argument("--copy-images", action="store_true", help="copy the images beside it")
    e.add_argument("--beside", action="store_true",
                   help="write into a folder that holds other files (nothing there is deleted "
                        "or overwritten; without it such a folder is refused)")
    e.add_argument("path", type=Path, help="the folder of images, or a video, annotated with "
                                           "sam3-canvas")
    e.set_defaults(run=run_export)
    i = sub.add_parser("import", parents=[common],
                       help="add a dataset's annotations to a folder of images",
                       description="Read COCO, YOLO-seg, VOC, labelme or mask PNGs into the "
                                   "folder's own annotation files, to refine them in the app.")
    i.add_argument("--format", "-f", required=True, choices=list(FORMATS) + ["davis"],
                   help="davis: a per-frame track-id PNG sequence into a video's tracks")
    i.add_argument("--mode", default="skip-existing",
                   choices=["skip-existing", "replace", "append"],
                   help="what to do with what an earlier import of the same dataset brought "
                        "in: skip it (default: a rerun never duplicates), replace it, or add "
                        "everything again")
    i.add_argument("source", type=Path, help="the dataset (a file or a folder)")
    i.add_argument("path", type=Path, help="the folder holding the images (or, with davis, "
                                           "the video)")
    i.set_defaults(run=run_import)


def _project(path: Path):
    from ..app.project import Project
    if not path.is_dir():
        raise DatasetCommandError(f"{path}: not a folder of images")
    return Project(path)


def _video(path: Path, fmt: str):
    from ..video.frames import is_video_file, open_frames
    if not (path.is_file() and is_video_file(path)):
        raise DatasetCommandError(f"--format {fmt} is for a video's tracks; {path} is not a "
                                  "video file")
    return open_frames(path)


def run_video_export(args) -> int:
    from ..app.project import Project
    from ..app.video_datasets import export_clip
    frames = _video(args.path, args.format)
    report = export_clip(Project(args.path.parent), args.path, frames, args.format, args.out,
                         beside=args.beside, copy_images=args.copy_images)
    for warning in report.warnings:
        print(f"sam3-canvas: warning: {warning}", file=sys.stderr)
    print(f"exported {report.instances} instances of {len(report.tracks)} tracks on "
          f"{report.frames} frames of {args.path.name} as {args.format} to {args.out}")
    return 0


def run_export(args) -> int:
    from ..app.datasets import export_project
    if args.format in VIDEO_FORMATS:
        return run_video_export(args)
    project = _project(args.path)
    try:
        report = export_project(project, args.format, args.out, polygons=args.polygons,
                                tolerance=args.tolerance, copy_images=args.copy_images,
                                beside=args.beside, min_part_px=max(1, args.min_part_px))
    except ExportRefused:
        raise
    except (OSError, ValueError, DatasetError) as exc:
        import errno
        why, where = str(exc), ""
        if isinstance(exc, OSError):
            why = describe_os_error(exc)
            if exc.filename and exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS,
                                                  errno.EACCES, errno.EPERM):
                where = f" ({exc.filename})"  # those errors name the folder already
        raise DatasetCommandError(f"export failed, nothing written to {args.out}: {why}{where}") \
            from None
    for warning in report.warnings:
        print(f"sam3-canvas: warning: {warning}", file=sys.stderr)
    print(f"exported {report.instances} instances of {report.images} images as "
          f"{args.format} to {report.folder}")
    if report.lost.instances:
        lost = report.lost
        print(f"polygons, as the format's readers draw them: mean IoU {lost.mean_iou:.4f}; "
              f"{lost.parts} separate parts and {lost.holes} holes lost, {lost.pixels} pixels")
    if report.replaced_note():
        print(f"sam3-canvas: note: {report.replaced_note()}", file=sys.stderr)
    if report.unreadable:
        print(f"sam3-canvas: error: {report.unreadable} annotation file(s) could not be read and "
              "were left out (listed above)", file=sys.stderr)
        return 2
    return 0


def run_video_import(args) -> int:
    from ..app.project import Project
    from ..app.video_datasets import import_clip
    frames = _video(args.path, args.format)
    if not args.source.is_dir():
        raise DatasetCommandError(f"{args.source}: not a folder of per-frame PNGs")
    added, skipped, problems = import_clip(Project(args.path.parent), args.path,
                                           (frames.width, frames.height), args.source)
    for problem in problems:
        print(f"sam3-canvas: skipped: {problem}", file=sys.stderr)
    print(f"imported {added} instances into {args.path.name}'s frames"
          + (f", {skipped} already imported before" if skipped else ""))
    if added == 0 and not skipped:
        print(f"sam3-canvas: error: nothing was imported from {args.source}", file=sys.stderr)
        return 2
    return 0


def run_import(args) -> int:
    from ..app.datasets import import_into_project
    if args.format == "davis":
        return run_video_import(args)
    project = _project(args.path)
    if not args.source.exists():
        raise DatasetCommandError(f"{args.source}: no such file or folder")
    report = import_into_project(project, args.format, args.source, mode=args.mode)
    for problem in report.problems:
        print(f"sam3-canvas: skipped: {problem}", file=sys.stderr)
    again = f", {report.skipped} already imported before" if report.skipped else ""
    replaced = f", {report.replaced} from an earlier import replaced" if report.replaced else ""
    print(f"imported {report.instances} instances into {len(report.documents)} images of "
          f"{args.path}{again}{replaced}" +
          (f" ({len(report.problems)} problems)" if report.problems else ""))
    if report.instances == 0 and not report.skipped:
        print(f"sam3-canvas: error: nothing was imported from {args.source}"
              + (" (problems listed above)" if report.problems else
                 f": is it a {args.format} dataset for the images in {args.path}?"),
              file=sys.stderr)
        return 2
    return 0
