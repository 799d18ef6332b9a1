"""The GPU path per variant and provider: encode, decode with its transfers, click to mask,
batch images per second (per encoder batch size), memory, and agreement with the first fp32
row (mask IoU, largest predicted-IoU difference); with the embeddings left on the device (IO
binding) and not.

    python bench/bench_gpu.py --model-dir DIR [--variants fp32,fp16] \\
        [--providers cuda,tensorrt] [--images DIR] [--runs 10] [--batch 40] \\
        [--encoder-batches 1,4,8] [--json OUT]

"first decode at 1..6 clicks" is the first decoder run at each number of clicks: flat on
CUDA; a TensorRT engine built for fewer points is built again when a prompt has more (ORT's
TensorRT provider widens its shape profile), which shows there as seconds.

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


AGREEMENT_PROMPTS = ((0.5, 0.5), (0.3, 0.4), (0.7, 0.6))  # clicks, as fractions of the image


def measure(folder: Path, variant: str, provider: str, binding: bool, images: list[Path],
            runs: int, batch: int, encoder_batches: list[int], agree_out: Path | None) -> dict:
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
    first_decode = []
    for clicks in range(1, 7):  # the first run at each number of points
        prompt = Prompt.click(image.width / 2, image.height / 2)
        for k in range(1, clicks):
            prompt = prompt.add_point(image.width * (0.2 + 0.1 * k), image.height * 0.3)
        t0 = time.perf_counter()
        segmenter.predict(encoded, prompt)
        first_decode.append(round((time.perf_counter() - t0) * 1000, 1))
    if agree_out is not None:
        import numpy as np
        answers = [segmenter.predict(encoded, Prompt.click(image.width * fx, image.height * fy))
                   for fx, fy in AGREEMENT_PROMPTS]
        np.savez(agree_out, ious=np.array([a.ious for a in answers]),
                 masks=np.array([a.mask(a.best_index, exact=True) for a in answers]))
    segmenter.flush()
    rates = {}
    for encoder_batch in encoder_batches:
        rates[str(encoder_batch)] = batch_rate(segmenter, images, batch, encoder_batch)
    after = gpu_memory_mb()
    return {"variant": variant, "provider": provider, "ran_on": segmenter.provider,
            "io_binding": segmenter.model.device_binding, "load_ms": round(load_ms, 1),
            "encode_ms": median(encode), "decode_ms": median(decode),
            "click_to_mask_ms": median(to_mask), "first_decode_ms": first_decode,
            "batch_images_per_s": rates,
            "host_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "gpu_mb": None if before is None or after is None else round(after - before, 1)}


def batch_rate(segmenter, images: list[Path], count: int, encoder_batch: int) -> float:
    """Images per second of a boxes-to-masks batch job (one box per image) in this process,
    ``encoder_batch`` images per encoder run."""
    from sam3_canvas.batch.boxes import BoxPrompt
    from sam3_canvas.batch.jobs import BoxesJob
    from sam3_canvas.batch.local import run_here
    from sam3_canvas.batch.steps import Task
    from sam3_canvas.batch.storage import Folder
    work = Path(tempfile.mkdtemp(prefix="bench-gpu-"))
    source = Folder(str(images[0].parent))
    tasks = [Task(source, Folder(str(work)), images[n % len(images)].name,
                  (BoxPrompt((0.25, 0.25, 0.75, 0.75), "object", {"kind": "boxes"},
                             relative=True),))
             for n in range(count)]
    job = BoxesJob("bench", overwrite=True)
    t0 = time.perf_counter()
    run_here(segmenter, job, tasks, lambda result: None, batch=encoder_batch)
    seconds = time.perf_counter() - t0
    shutil.rmtree(work, ignore_errors=True)
    return round(count / seconds, 2)


def agreement(reference: Path, other: Path) -> dict:
    """Mask IoU of the best masks (lowest over the prompts) and the largest difference of
    predicted IoU, against the reference row."""
    import numpy as np
    a, b = np.load(reference), np.load(other)
    ious = []
    for x, y in zip(a["masks"], b["masks"]):
        union = np.logical_or(x, y).sum()
        ious.append(1.0 if union == 0 else float(np.logical_and(x, y).sum() / union))
    return {"mask_iou_min": round(min(ious), 4),
            "score_diff_max": round(float(np.abs(a["ious"] - b["ious"]).max()), 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--variants", default="fp32")
    parser.add_argument("--providers", default="cuda")
    parser.add_argument("--images", type=Path, default=ROOT / "resources" / "samples")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=40, help="images in the batch run")
    parser.add_argument("--encoder-batches", default="1,4",
                        help="images per encoder run in the batch runs (comma-separated)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child: variant,provider,binding
    parser.add_argument("--agree-out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    from sam3_canvas.engine.images import list_images
    images = list_images(args.images) if args.images.is_dir() else [args.images]
    batches = [int(b) for b in args.encoder_batches.split(",")]
    if args.one:
        variant, provider, binding = args.one.split(",")
        print(json.dumps(measure(args.model_dir, variant, provider, binding == "1", images,
                                 args.runs, args.batch, batches, args.agree_out)))
        return 0
    rows = []
    answers = Path(tempfile.mkdtemp(prefix="bench-gpu-agree-"))
    reference: Path | None = None
    for variant in args.variants.split(","):
        for provider in args.providers.split(","):
            for binding in ("0", "1"):
                saved = answers / f"{variant}-{provider}-{binding}.npz"
                done = subprocess.run(
                    [sys.executable, __file__, "--model-dir", str(args.model_dir), "--images",
                     str(args.images), "--runs", str(args.runs), "--batch", str(args.batch),
                     "--encoder-batches", args.encoder_batches, "--agree-out", str(saved),
                     "--one", f"{variant},{provider},{binding}"],
                    capture_output=True, text=True)
                if done.returncode != 0:
                    rows.append({"variant": variant, "provider": provider,
                                 "io_binding": binding == "1",
                                 "error": (done.stderr.strip().splitlines() or ["?"])[-1]})
                else:
                    rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
                    if reference is None and variant == "fp32":
                        reference = saved
                    if reference is not None:
                        rows[-1]["agreement"] = agreement(reference, saved)
                print(json.dumps(rows[-1]), file=sys.stderr)
    shutil.rmtree(answers, ignore_errors=True)
    print(table(rows, batches))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


def table(rows: list[dict], batches: list[int]) -> str:
    rate_heads = " | ".join(f"images/s, encoder batch {b}" for b in batches)
    lines = ["| variant | provider (ran on) | IO binding | load ms | encode ms | decode ms | "
             f"click to mask ms | first decode at 1..6 clicks, ms | {rate_heads} | host peak "
             "MB | GPU MB | mask IoU vs fp32 (lowest) | largest score difference |",
             "|" + "---|" * (12 + len(batches))]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['variant']} | {r['provider']} | {r['io_binding']} | failed: "
                         f"{r['error']} |" + " |" * (9 + len(batches)))
            continue
        agree = r.get("agreement", {})
        rates = " | ".join(str(r["batch_images_per_s"].get(str(b), "")) for b in batches)
        first = ", ".join(str(v) for v in r["first_decode_ms"])
        lines.append(
            f"| {r['variant']} | {r['provider']} ({r['ran_on']}) | {r['io_binding']} | "
            f"{r['load_ms']} | {r['encode_ms']} | {r['decode_ms']} | {r['click_to_mask_ms']} "
            f"| {first} | {rates} | {r['host_peak_mb']} | {r['gpu_mb']} | "
            f"{agree.get('mask_iou_min', '')} | {agree.get('score_diff_max', '')} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
