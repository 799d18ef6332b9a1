"""What the memory path costs per tracked frame, on the graphs at the published size.

The memory graphs of ``Sam3TrackerVideoModel()`` (transformers' default config: 4 attention
layers, 7 memories, 16 pointers; random weights, which cost the same as real ones) are exported
with ``export_memory_graphs`` and run with onnxruntime on the CPU, at the sizes a long track
reaches: 1 conditioning frame + 6 tracked frames remembered (7 x 5184 memory tokens) and 16
object pointers. A tracked frame costs one memory attention, one decoder run (see
bench/bench_video.py for the decoder on the full-size twin) and one memory encoding; a track
that starts from a mask pays one mask-pointer run once.

    python bench/bench_video_memory.py [--runs 3] [--tiny]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tiny", action="store_true", help="the tiny twin instead")
    args = parser.parse_args()
    from sam3_canvas.engine.memory import MemoryGraphs, memory_paths
    from sam3_canvas.twins import video_export

    build = (video_export.build_tiny_video_tracker if args.tiny
             else video_export.build_full_video_tracker)
    size = "tiny" if args.tiny else "full"
    work = Path(tempfile.gettempdir()) / f"sam3-canvas-memory-{size}"  # exported once
    results: dict = {"config": size}
    if memory_paths(work / "prompt_encoder_mask_decoder.onnx") is None:
        t0 = time.perf_counter()
        video_export.export_memory_graphs(build(0), work)
        results["export_s"] = round(time.perf_counter() - t0, 1)
    results["files_mb"] = {p.name: round(p.stat().st_size / 1e6, 1)
                           for p in sorted(work.glob("*.onnx"))}
    (work / "prompt_encoder_mask_decoder.onnx").touch()  # memory_paths looks beside it
    graphs = MemoryGraphs(memory_paths(work / "prompt_encoder_mask_decoder.onnx"))
    results["settings"] = dataclasses.asdict(graphs.settings)
    rng = np.random.default_rng(0)
    emb2 = rng.normal(size=(1, 256, 72, 72)).astype(np.float32)
    embeddings = {"image_embeddings.2": emb2}
    memories = graphs.settings.num_maskmem
    pointers = graphs.settings.max_object_pointers
    memory = rng.normal(size=(memories, 64, 72, 72)).astype(np.float32)
    offsets = np.array([0] + list(range(memories - 1, 0, -1)), np.int64)
    pointer = rng.normal(size=(pointers, 256)).astype(np.float32)
    positions = np.arange(pointers, dtype=np.float32) / max(pointers - 1, 1)
    logits = rng.normal(size=(288, 288)).astype(np.float32)
    mask = (rng.random((1008, 1008)) > 0.5).astype(np.float32)
    steps = {
        f"attend_{memories}_memories_{pointers}_pointers":
            lambda: graphs.attend(emb2, memory, offsets, pointer, positions),
        "attend_1_memory_1_pointer":
            lambda: graphs.attend(emb2, memory[:1], offsets[:1], pointer[:1], positions[:1]),
        "encode_memory": lambda: graphs.encode(emb2, logits, 1.0, binarize=False),
        "mask_pointer": lambda: graphs.mask_pointer(embeddings, mask),
    }
    for name, step in steps.items():
        step()  # warm-up
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            step()
            times.append((time.perf_counter() - t0) * 1000)
        results[f"{name}_ms"] = {"min": round(min(times), 1),
                                 "median": round(statistics.median(times), 1),
                                 "max": round(max(times), 1)}
    results["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    name = "video_memory_tiny.json" if args.tiny else "video_memory.json"
    (out / name).write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
