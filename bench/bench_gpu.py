"""The GPU path per variant and provider: encode, decode with its transfers, click to mask,
batch images per second, memory; with the embeddings left on the device (IO binding) and not.

    python bench/bench_gpu.py --model-dir DIR [--variants fp32,fp16] \\
        [--providers cuda,tensorrt] [--images DIR] [--runs 10] [--batch 40] [--json OUT]

Goals on an H100 (issue 17): encode <= 50 ms, decode with transfers <= 3 ms, >= 20 images/s
per GPU on the tracker path. On a machine without a GPU, ``--providers cpu`` runs the same code
(the IO-binding path included) for its plumbing; its times are a CPU's. TensorRT's first start
builds its engines (minutes, reported as load time); later starts read them from the cache.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def gpu_memory_mb() -> float | None:
    if shutil.which("nvidia-smi") is None:
        return None
    done = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,"
                           "nounits"], capture_output=True, text=True)
    try:
        return float(done.stdout.split()[0])
    except (IndexError, ValueError):
        return None


def median(values: list[float]) -> float:
    return round(statistics.median(values), 2) if values else float("nan")


def measure(folder: Path, variant: str, provider: str, binding: bool, images: list[Path],
            runs: int, batch: int) -> dict:
    from sam3_canvas.batch.boxes import BoxPrompt
    from sam3_canvas.batch.jobs import BoxesJob
    from sam3_canvas.batch.local import run_here
    from sam3_canvas.batch.steps import Task
    from sam3_canvas.batch.storage import Folder
    from sam3_canvas.engine.cache import EmbeddingCache
    from sam3_canvas.engine.prompts import Prompt
    from sam3_canvas.engine.segmenter import Segmenter

    before = gpu_memory_mb()
    t0 = time.perf_counter()
    opened = Segmenter.from_dir(folder, variant=variant, provider=provider,
                                device_binding=binding)
    load_ms = (time.perf_counter() - t0) * 1000
    segmenter = Segmenter(opened.model, EmbeddingCache(0))  # every encode really runs
    image = segmenter.load(images[0])
    click = Prompt.click(image.width / 2, image.height / 2)
    segmenter.predict(segmenter.encode(image), click)  # warm-up (and TensorRT's profiles)
    encode, decode, to_mask = [], [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        encoded = segmenter.encode(image)
        t1 = time.perf_counter()
        prediction = segmenter.predict(encoded, click)
        t2 = time.perf_counter()
        prediction.mask(exact=True)
        t3 = time.perf_counter()
        encode.append((t1 - t0) * 1000)
        decode.append((t2 - t1) * 1000)
        to_mask.append((t3 - t1) * 1000)
    segmenter.flush()
    work = Path(tempfile.mkdtemp(prefix="bench-gpu-"))
    source = Folder(str(images[0].parent))
    tasks = [Task(source, Folder(str(work)), images[n % len(images)].name,
                  (BoxPrompt((image.width * 0.25, image.height * 0.25, image.width * 0.75,
                              image.height * 0.75), "object", {"kind": "boxes"}),))
             for n in range(batch)]
    job = BoxesJob("bench", overwrite=True)
    t0 = time.perf_counter()
    run_here(segmenter, job, tasks, lambda result: None)
    batch_s = time.perf_counter() - t0
    shutil.rmtree(work, ignore_errors=True)
    after = gpu_memory_mb()
    return {"variant": variant, "provider": provider, "ran_on": segmenter.provider,
            "io_binding": segmenter.model.device_binding, "load_ms": round(load_ms, 1),
            "encode_ms": median(encode), "decode_ms": median(decode),
            "click_to_mask_ms": median(to_mask), "batch_images_per_s": round(batch / batch_s, 2),
            "host_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "gpu_mb": None if before is None or after is None else round(after - before, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--variants", default="fp32")
    parser.add_argument("--providers", default="cuda")
    parser.add_argument("--images", type=Path, default=ROOT / "resources" / "samples")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=40, help="images in the batch run")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child: variant,provider,binding
    args = parser.parse_args()
    from sam3_canvas.engine.images import list_images
    images = list_images(args.images) if args.images.is_dir() else [args.images]
    if args.one:
        variant, provider, binding = args.one.split(",")
        print(json.dumps(measure(args.model_dir, variant, provider, binding == "1", images,
                                 args.runs, args.batch)))
        return 0
    rows = []
    for variant in args.variants.split(","):
        for provider in args.providers.split(","):
            for binding in ("0", "1"):
                done = subprocess.run(
                    [sys.executable, __file__, "--model-dir", str(args.model_dir), "--images",
                     str(args.images), "--runs", str(args.runs), "--batch", str(args.batch),
                     "--one", f"{variant},{provider},{binding}"],
                    capture_output=True, text=True)
                if done.returncode != 0:
                    rows.append({"variant": variant, "provider": provider,
                                 "io_binding": binding == "1",
                                 "error": (done.stderr.strip().splitlines() or ["?"])[-1]})
                else:
                    rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
                print(json.dumps(rows[-1]), file=sys.stderr)
    print("| variant | provider (ran on) | IO binding | load ms | encode ms | decode ms | "
          "click to mask ms | batch images/s | host peak MB | GPU MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['variant']} | {r['provider']} | {r['io_binding']} | failed: "
                  f"{r['error']} |||||||")
            continue
        print(f"| {r['variant']} | {r['provider']} ({r['ran_on']}) | {r['io_binding']} | "
              f"{r['load_ms']} | {r['encode_ms']} | {r['decode_ms']} | {r['click_to_mask_ms']} "
              f"| {r['batch_images_per_s']} | {r['host_peak_mb']} | {r['gpu_mb']} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
