"""``sam3-canvas export`` and ``sam3-canvas import``: datasets out of and into a folder's
annotation files."""

from __future__ import annotations

import sys
from pathlib import Path

from ..annotations.dataset import DatasetError
from ..annotations.formats import FORMATS
from ..engine.errors import Sam3CanvasError


class DatasetCommandError(Sam3CanvasError):
    pass


def add_parsers(sub) -> None:
    listing = "; ".join(f"{f.name}: {f.keeps}" for f in FORMATS.values())
    e = sub.add_parser("export", help="write a folder's annotations as a dataset",
                       description=f"Export the annotations of a folder of images. {listing}.")
    e.add_argument("--format", "-f", required=True, choices=list(FORMATS))
    e.add_argument("--out", "-o", required=True, type=Path, help="the dataset folder to write")
    e.add_argument("--polygons", action="store_true", help="COCO: polygons instead of RLE")
    e.add_argument("--tolerance", type=float, default=None,
                   help="polygon simplification in pixels (default 0.5)")
    e.add_argument("--copy-images", action="store_true", help="copy the images beside it")
    e.add_argument("path", type=Path, help="the folder of images (annotated with sam3-canvas)")
    e.set_defaults(run=run_export)
    i = sub.add_parser("import", help="add a dataset's annotations to a folder of images",
                       description="Read COCO, YOLO-seg, VOC, labelme or mask PNGs into the "
                                   "folder's own annotation files, to refine them in the app.")
    i.add_argument("--format", "-f", required=True, choices=list(FORMATS))
    i.add_argument("source", type=Path, help="the dataset (a file or a folder)")
    i.add_argument("path", type=Path, help="the folder holding the images")
    i.set_defaults(run=run_import)


def _project(path: Path):
    from ..app.project import Project
    if not path.is_dir():
        raise DatasetCommandError(f"{path}: not a folder of images")
    return Project(path)


def run_export(args) -> int:
    from ..app.datasets import export_project
    project = _project(args.path)
    try:
        report = export_project(project, args.format, args.out, polygons=args.polygons,
                                tolerance=args.tolerance, copy_images=args.copy_images)
    except (OSError, ValueError, DatasetError) as exc:
        raise DatasetCommandError(f"export failed, nothing written to {args.out}: {exc}") \
            from None
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"exported {report.instances} instances of {report.images} images as "
          f"{args.format} to {report.folder}")
    return 0


def run_import(args) -> int:
    from ..app.datasets import import_into_project
    project = _project(args.path)
    if not args.source.exists():
        raise DatasetCommandError(f"{args.source}: no such file or folder")
    report = import_into_project(project, args.format, args.source)
    for problem in report.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    print(f"imported {report.instances} instances into {len(report.documents)} images of "
          f"{args.path}" + (f" ({len(report.problems)} problems)" if report.problems else ""))
    return 2 if report.problems and not report.documents else 0
