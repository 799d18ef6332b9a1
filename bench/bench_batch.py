"""Batch jobs: images per second in one process and on a local Ray with 1 and 2 CPU workers,
and what Ray adds per image.

The fake text pack (real ONNX graphs, ~50 ms per image here) runs ``detect`` over synthetic
640 x 480 JPEGs. Ray's cost per image is its marginal cost: the wall time of N images minus
that of N/3, per extra image, on Ray with one worker, minus the same in one process (both
with one onnxruntime thread). Costs paid once per job (``ray.init``, starting the actor and
opening the model) cancel out and are reported on their own. A warm-up job starts Ray's task
processes first, as a second job in a session finds them. With ``--coco DIR`` the
boxes of a COCO file in DIR (the images beside it) are masked with the fake tracker, in one
process and on Ray.

    python bench/bench_batch.py [--images 200] [--coco ../shared/data/coco_sample]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def photos(folder: Path, count: int) -> Path:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    base = rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)
    for n in range(count):
        Image.fromarray(np.roll(base, n * 7, axis=1)).save(folder / f"p{n:04d}.jpg", quality=90)
    return folder


def clear(folder: Path) -> None:
    shutil.rmtree(folder / ".sam3-canvas", ignore_errors=True)


def timed(run) -> dict:
    """Run ``run(on_result)``; wall time, and the time from the first result to the last."""
    stamps: list[float] = []
    statuses: list[str] = []
    model_ms: list[float] = []  # the model's own time, inside the worker

    def on_result(result):
        stamps.append(time.perf_counter())
        statuses.append(result.status)
        model_ms.append(result.timings.get("model", 0.0))

    start = time.perf_counter()
    run(on_result)
    wall = time.perf_counter() - start
    mean_model = sum(model_ms) / len(model_ms) if model_ms else 0.0
    return {"wall_s": round(wall, 2), "images": len(stamps),
            "images_per_s": round(len(stamps) / wall, 2),
            "model_ms_per_image": round(mean_model, 1),
            "first_result_s": round(stamps[0] - start, 2) if stamps else None,
            "failed": statuses.count("failed")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--coco", type=Path, help="a folder with a COCO JSON and its images")
    args = parser.parse_args()
    import ray

    from sam3_canvas.batch.boxes import read_boxes
    from sam3_canvas.batch.jobs import BoxesJob, DetectJob, ModelSpec
    from sam3_canvas.batch.local import run_here
    from sam3_canvas.batch.plan import plan
    from sam3_canvas.batch.ray_runner import Cluster, run_on_ray
    from sam3_canvas.testing.fake_models import write_tracker_pack
    from sam3_canvas.testing.fake_text_models import write_text_pack

    tmp = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    text_pack = write_text_pack(tmp / "text", "A2")
    folder = photos(tmp / "photos", args.images)
    job = DetectJob(("thing",))
    figures: dict = {"images": args.images, "cpu_cores": __import__("os").cpu_count()}

    def single(tasks, threads=1):
        engine = ModelSpec(model_dir=str(text_pack), threads=threads).open("text")
        return lambda on_result: run_here(engine, job, tasks, on_result)

    def on_ray(tasks, workers=1, cpus=1.0):
        return lambda on_result: run_on_ray(model, job, tasks, size, on_result,
                                            Cluster(workers=workers, cpus_per_worker=cpus))

    def job_of(count: int) -> list:
        clear(folder)
        return plan([str(folder)]).tasks[:count]

    size = ModelSpec(model_dir=str(text_pack)).open("text").input_size
    model = ModelSpec(model_dir=str(text_pack))
    small, large = args.images // 3, args.images
    for name, make in (("single_process", single), ("ray_1_worker", on_ray)):
        if name.startswith("ray") and not ray.is_initialized():
            t0 = time.perf_counter()
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
            figures["ray_init_s"] = round(time.perf_counter() - t0, 2)
            timed(make(job_of(16)))  # warm-up: Ray's task processes start once per session
        runs = {n: timed(make(job_of(n))) for n in (small, large)}
        marginal = (runs[large]["wall_s"] - runs[small]["wall_s"]) / (large - small) * 1000
        figures[name] = {**runs[large], "marginal_ms_per_image": round(marginal, 1),
                         f"wall_s_for_{small}": runs[small]["wall_s"]}
    figures["ray_2_workers"] = timed(on_ray(job_of(large), 2, 0.7))
    figures["ray_overhead_ms_per_image"] = round(
        figures["ray_1_worker"]["marginal_ms_per_image"] -
        figures["single_process"]["marginal_ms_per_image"], 1)

    if args.coco:
        annotations = next(args.coco.glob("*.json"))
        images = tmp / "coco"
        images.mkdir()
        for image in args.coco.glob("*.jpg"):
            shutil.copy(image, images / image.name)
        boxes = read_boxes(annotations)
        tracker = write_tracker_pack(tmp / "tracker")
        spec = ModelSpec(model_dir=str(tracker))
        boxes_job = BoxesJob(boxes.origin)
        engine = spec.open("tracker")
        tasks = plan([str(images)], None, boxes).tasks
        figures["coco_boxes"] = {"boxes": boxes.count, "images": len(tasks),
                                 "single_process": timed(
                                     lambda on_result: run_here(engine, boxes_job, tasks,
                                                                on_result))}
        clear(images)
        figures["coco_boxes"]["ray_1_worker"] = timed(
            lambda on_result: run_on_ray(spec, boxes_job, tasks, engine.input_size, on_result,
                                         Cluster(workers=1)))
        per = [json.loads(p.read_text())["meta"]["boxes"]["boxes"]
               for p in (images / ".sam3-canvas").glob("*.json")]
        figures["coco_boxes"]["masks_written"] = sum(per)
    ray.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
