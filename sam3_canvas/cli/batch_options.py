"""What ``detect`` and ``segment --boxes-from`` share: running a batch job here or on Ray,
its progress and summary, the labels file, and the dataset export at the end."""

from __future__ import annotations

import argparse
import json
import sys

from ..batch.jobs import Job, ModelSpec
from ..batch.plan import Plan
from ..batch.report import Report
from ..engine.errors import Sam3CanvasError

LOCAL = "local"
MAX_ENCODER_BATCH = 64


class BatchError(Sam3CanvasError):
    pass


def add_batch_options(parser: argparse.ArgumentParser, formats: list[str],
                      encoder_batch: bool = False) -> None:
    """``encoder_batch``: offer --encoder-batch (the tracker's encoder takes several images
    per run; the text path's takes one)."""
    group = parser.add_argument_group("batch and cluster")
    if encoder_batch:
        group.add_argument("--encoder-batch", type=_encoder_batch, default=1, metavar="N",
                           help=f"images per run of the vision encoder, 1 to "
                                f"{MAX_ENCODER_BATCH} (default 1; see docs/gpu.md for what "
                                "more gives)")
    group.add_argument("--ray", nargs="?", const=LOCAL, metavar="ADDRESS",
                       help="run on Ray (the cluster extra): alone, a Ray started on this "
                            "machine; with ADDRESS (ray://host:10001 or auto) a running cluster")
    group.add_argument("--workers", type=_positive_int, metavar="N",
                       help="Ray: model workers (default: one per GPU, or per CPU core left "
                            "after reading and writing)")
    group.add_argument("--gpus-per-worker", type=float, metavar="G",
                       help="Ray: GPUs per worker (default 1 when the cluster has GPUs; they "
                            "run the CUDA provider)")
    group.add_argument("--cpus-per-worker", type=float, default=1.0, metavar="C",
                       help="Ray: CPU cores per worker (default 1; its onnxruntime threads)")
    group.add_argument("--format", "-f", dest="export_format", choices=formats,
                       help="at the end, export the folder's annotations as this dataset")
    group.add_argument("--export-to", metavar="DIR",
                       help="where --format writes (default: <folder>-<format> beside it)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("expected 1 or more")
    return value


def _encoder_batch(text: str) -> int:
    """Each image of a run is 12 MB of input and its activations on top, and the runner
    reads a run ahead: a bound keeps a typo from filling the memory."""
    value = _positive_int(text)
    if value > MAX_ENCODER_BATCH:
        raise argparse.ArgumentTypeError(f"expected at most {MAX_ENCODER_BATCH}, got {value}")
    return value


def check_export(args, plan: Plan) -> None:
    """Refuse an export that cannot happen before any image is run."""
    if not args.export_format:
        return
    if getattr(args, "out", None):
        raise BatchError("--format exports the folder's own annotations: leave out --out (or "
                         "run `sam3-canvas export` on the folder later)")
    if len(plan.projects) != 1 or not plan.projects[0].is_local:
        raise BatchError("--format needs exactly one local folder of images (export a "
                         "remote one with `sam3-canvas export` on a copy)")


def run_batch(args, job: Job, model: ModelSpec, plan: Plan, engine, size: tuple[int, int],
              label_order: list[str] | None = None) -> Report:
    """Run ``plan`` with ``engine`` or, with ``--ray`` (``engine`` None: the caller opened
    the model once to fail fast and learn its input ``size``, then let it go), on Ray."""
    from ..engine.images import pixel_limit
    report = Report(total=len(plan.tasks) + len(plan.problems),
                    show=not getattr(args, "json", False))
    for what, why in plan.problems:
        report.fail(what, why)
    batch = getattr(args, "encoder_batch", 1)
    try:
        if args.ray:
            from ..batch.ray_runner import Cluster, run_on_ray
            cluster = Cluster(None if args.ray == LOCAL else args.ray, args.workers,
                              args.gpus_per_worker, args.cpus_per_worker)
            how = run_on_ray(model, job, plan.tasks, size, report.add, cluster, pixel_limit(),
                             encoder_batch=batch)
            report.notes.append(f"on Ray: {how['workers']} worker(s), {how['provider']}")
        else:
            from ..batch.local import run_here
            assert engine is not None
            run_here(engine, job, plan.tasks, report.add, pixel_limit(), batch=batch)
    finally:
        report.close()
        _save_labels(plan, report.labels, label_order or [])
    return report


def import_ray() -> None:
    """One clear line, before any model is opened, when the cluster extra is missing."""
    from importlib.util import find_spec
    if find_spec("ray") is None or find_spec("ray.data") is None:
        raise BatchError('--ray needs Ray Data: pip install "sam3-canvas[cluster]"')


def _save_labels(plan: Plan, found: set[str], order: list[str]) -> None:
    """Add the classes found to each folder's labels.json, as the app keeps them (in
    ``order`` first: a box dataset's category order stays its class order)."""
    if not found:
        return
    labels = [n for n in order if n in found] + sorted(found.difference(order))
    from ..app.project import Project
    from ..document.annotation import ANNOTATION_DIR
    from ..document.labels import LabelSet
    for folder in plan.projects:
        if folder.is_local:
            project = Project(folder.path, images=[])
            for name in labels:
                project.labels.add(name)
            project.save_labels()
            continue
        where = folder.child(ANNOTATION_DIR)
        text = where.read_text("labels.json")
        known = LabelSet.from_json(json.loads(text)["labels"]) if text else LabelSet()
        for name in labels:
            known.add(name)
        where.write_text("labels.json", known.dumps())


def finish(args, report: Report, plan: Plan) -> int:
    """Print the summary (or JSON), export if asked; the exit code."""
    if getattr(args, "json", False):
        json.dump(report.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(report.summary())
    if report.failed:
        print(report.failures(), file=sys.stderr)
    code = 2 if report.failed else 0
    if args.export_format and report.counts["done"] + report.counts["skipped"]:
        code = max(code, _export(args, plan))
    return code


def _export(args, plan: Plan) -> int:
    """``sam3-canvas export`` on the folder, with its messages and refusals."""
    from pathlib import Path

    from .dataset_cmd import run_export
    folder = plan.projects[0].path
    out = Path(args.export_to) if args.export_to else \
        folder.parent / f"{folder.name}-{args.export_format}"
    return run_export(argparse.Namespace(
        format=args.export_format, out=out, path=folder, polygons=False, tolerance=None,
        copy_images=False, beside=False, min_part_px=1))
