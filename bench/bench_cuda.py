"""The click path on the CUDA provider against CPU: which provider really runs, the same
results, and timings (12 MP photo). Needs onnxruntime-gpu and a GPU; with the export extra it
also exports the tiny twin, and with FULL=1 the full-size tracker (458 M parameters, random
weights: real sizes and timings, meaningless masks).

    python bench/bench_cuda.py            # contract fake + tiny twin
    FULL=1 python bench/bench_cuda.py     # the full-size tracker (about 2 GB of ONNX)

Figures measured on an H100 are in docs/gpu.md.
"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.getcwd())
import onnxruntime as ort

from sam3_canvas.engine import Prompt, Segmenter
from sam3_canvas.engine.providers import available_providers, conflicting_packages
from sam3_canvas.testing.fake_models import write_tracker_pack

out = {"ort": ort.__version__, "ort_file": ort.__file__, "available": available_providers(),
       "conflict": conflicting_packages()}
image = (np.random.default_rng(0).random((3000, 4000, 3)) * 255).astype(np.uint8)
packs = {} if os.environ.get("FULL") else {"fake": write_tracker_pack("/tmp/fake")}
try:
    from sam3_canvas.twins.tracker_twin import build_tiny_tracker, export_tracker
    if not os.environ.get("FULL"):
        export_tracker(build_tiny_tracker(0), "/tmp/twin")
        packs["tiny twin"] = "/tmp/twin"
    if os.environ.get("FULL"):
        import torch
        from transformers import Sam3TrackerConfig, Sam3TrackerModel
        torch.manual_seed(0)
        full = Sam3TrackerModel(Sam3TrackerConfig()).eval()
        out["full_params_M"] = sum(p.numel() for p in full.parameters()) / 1e6
        t0 = time.perf_counter()
        export_tracker(full, "/tmp/full")
        packs["full-size (458M, random)"] = "/tmp/full"
        out["full_export_s"] = round(time.perf_counter() - t0, 1)
        print(json.dumps(out), flush=True)
except Exception as exc:
    out["twin_error"] = repr(exc)[:300]
prompt = Prompt.click(2100, 1400).add_point(600, 500, 0)
for name, folder in packs.items():
    row = {}
    for provider in ("cpu", "cuda"):
        seg = Segmenter.from_dir(folder, provider=provider)
        enc = seg.encode(image)
        seg.cache.memory.clear()
        t = []
        for _ in range(1 if (provider == "cpu" and os.environ.get("FULL")) else 3):
            seg.cache.memory.clear()
            t0 = time.perf_counter()
            enc = seg.encode(image)
            t.append(time.perf_counter() - t0)
        d = []
        for _ in range(10):
            t0 = time.perf_counter()
            pred = seg.predict(enc, prompt)
            d.append(time.perf_counter() - t0)
        row[provider] = {"active": seg.provider, "fallback": seg.model.fallback_reason,
                         "encode_ms": round(min(t) * 1000, 2),
                         "decode_ms": round(float(np.median(d)) * 1000, 3),
                         "ious": [round(v, 6) for v in pred.ious],
                         "mask": pred.mask(pred.best_index, exact=True)}
    a, b = row["cpu"].pop("mask"), row["cuda"].pop("mask")
    row["mask_iou_cpu_vs_cuda"] = float((a & b).sum() / max((a | b).sum(), 1))
    row["iou_max_diff"] = float(np.abs(np.array(row["cpu"]["ious"])
                                       - np.array(row["cuda"]["ious"])).max())
    out[name] = row
print(json.dumps(out, indent=1))
