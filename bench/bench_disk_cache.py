"""The disk embedding cache over a long batch: does it stay under its bound, and does a write
stay cheap when the folder holds thousands of entries?

Writes N entries (default 10,000, each the size a real entry would have divided by --scale,
so the run writes a few GB at most) through ``DiskCache.save`` with a bound scaled the same way,
measures the folder's real size on disk every 100 writes, and prints the largest size seen
against the bound and the time of a write (median and 99th percentile). With the default
scale, 10,000 entries of 106 KB against a 21 MB bound stand for 10,000 tracker embeddings
(10.6 MB) against the default 2 GB bound.

    python bench/bench_disk_cache.py [--entries 10000] [--scale 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sam3_canvas.engine.cache import DEFAULT_DISK_CACHE_BYTES, DiskCache  # noqa: E402

TRACKER_ENTRY = 10_600_000  # bytes of one tracker entry (float16 .npz), measured


def folder_bytes(root: Path) -> int:
    total = 0
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith(".npz"):
                total += os.path.getsize(os.path.join(folder, name))
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--scale", type=int, default=100)
    args = parser.parse_args()
    bound = DEFAULT_DISK_CACHE_BYTES // args.scale
    values = TRACKER_ENTRY // args.scale // 2  # float16
    rng = np.random.default_rng(0)
    entry = {"image_embeddings.0": rng.standard_normal(values).astype(np.float32)}
    with tempfile.TemporaryDirectory() as tmp:
        cache = DiskCache(Path(tmp), bound)
        times, largest = [], 0
        for n in range(args.entries):
            start = time.perf_counter()
            cache.save(f"{n:064x}", "model", entry)
            times.append((time.perf_counter() - start) * 1000)
            if n % 100 == 99:
                largest = max(largest, folder_bytes(Path(tmp)))
        largest = max(largest, folder_bytes(Path(tmp)))
        size = os.path.getsize(cache.path(f"{args.entries - 1:064x}", "model"))
    times.sort()
    print(f"{args.entries} entries of {size / 1e3:.0f} KB against a bound of "
          f"{bound / 1e6:.1f} MB (scale 1/{args.scale} of the default 2 GB)")
    print(f"largest folder size seen: {largest / 1e6:.2f} MB ({largest / bound:.1%} of the "
          f"bound); entries kept at the end: {bound // size} at most")
    print(f"write: median {statistics.median(times):.2f} ms, p99 "
          f"{times[int(len(times) * 0.99)]:.2f} ms, max {times[-1]:.2f} ms")
    return 0 if largest <= bound else 1


if __name__ == "__main__":
    sys.exit(main())
