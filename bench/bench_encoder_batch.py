"""What several images per run of the vision encoder give: seconds per image and peak memory
for each batch size, each size in a process of its own (so peak memory is its own).

    python bench/bench_encoder_batch.py --model-dir DIR [--variant int8] [--batches 1,4] \\
        [--images DIR] [--count 4] [--provider cpu]

Every size encodes the same ``--count`` images (read and decoded first, not timed) after one
warm-up encode; the caches are off, so every encode runs. Figures in docs/gpu.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure(folder: Path, variant: str | None, provider: str, images: list[Path],
            batch: int) -> dict:
    from sam3_canvas.engine.cache import EmbeddingCache
    from sam3_canvas.engine.segmenter import Segmenter
    opened = Segmenter.from_dir(folder, variant=variant, provider=provider)
    segmenter = Segmenter(opened.model, EmbeddingCache(0))
    loaded = [segmenter.load(path) for path in images]
    segmenter.encode(loaded[0])  # warm-up
    start = time.perf_counter()
    segmenter.encode_many(loaded, batch=batch)
    seconds = time.perf_counter() - start
    return {"batch": batch, "variant": variant, "ran_on": segmenter.provider,
            "seconds_per_image": round(seconds / len(loaded), 3),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--variant")
    parser.add_argument("--provider", default="cpu")
    parser.add_argument("--batches", default="1,4")
    parser.add_argument("--images", type=Path, default=ROOT / "tests" / "fixtures" / "objects"
                        / "images")
    parser.add_argument("--count", type=int, default=4)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # a child: this size
    args = parser.parse_args()
    from sam3_canvas.engine.images import list_images
    images = list_images(args.images)[:args.count]
    if args.one:
        print(json.dumps(measure(args.model_dir, args.variant, args.provider, images,
                                 args.one)))
        return 0
    print("| images per run | seconds per image | peak memory MB | ran on |")
    print("|---|---|---|---|")
    for batch in (int(b) for b in args.batches.split(",")):
        command = [sys.executable, __file__, "--model-dir", str(args.model_dir), "--provider",
                   args.provider, "--images", str(args.images), "--count", str(args.count),
                   "--one", str(batch)] + (["--variant", args.variant] if args.variant else [])
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"| {batch} | failed: {(done.stderr.strip().splitlines() or ['?'])[-1]} | | |")
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"| {batch} | {row['seconds_per_image']} | {row['peak_mb']} | {row['ran_on']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
