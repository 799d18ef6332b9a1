"""Speed and agreement of a pack's variants on each provider, on the user's images.

Each (variant, provider) runs in a process of its own, so its peak memory is its own (the
process's high-water mark) and one that crashes or cannot start is a line in the table, not
the end of the run. Per image: the encoder's time, then the decoder's for a click at the centre;
the masks are kept so that each variant's can be compared with the first variant's (mask IoU).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..engine.prompts import Prompt
from .clicker import iou


@dataclass
class BenchRow:
    variant: str
    provider: str  # asked
    ran_on: str = ""  # the provider that ran (a fallback shows here)
    load_ms: float = 0.0
    encode_ms: list[float] = field(default_factory=list)
    decode_ms: list[float] = field(default_factory=list)
    peak_mb: float = 0.0
    agreement: float | None = None  # mean mask IoU with the first variant's masks
    error: str = ""

    @staticmethod
    def spread(values: list[float]) -> dict:
        if not values:
            return {}
        return {"median": round(statistics.median(values), 2), "min": round(min(values), 2),
                "max": round(max(values), 2)}

    def to_dict(self) -> dict:
        return {"variant": self.variant, "provider": self.provider, "ran_on": self.ran_on,
                "load_ms": round(self.load_ms, 1), "encode_ms": self.spread(self.encode_ms),
                "decode_ms": self.spread(self.decode_ms), "peak_mb": round(self.peak_mb, 1),
                "agreement_iou": None if self.agreement is None else round(self.agreement, 4),
                "error": self.error}


def measure_one(folder: str, variant: str, provider: str, images: list[str],
                masks_out: str) -> dict:
    """In this process: load, then encode and decode each image; the masks to ``masks_out``."""
    from ..engine.segmenter import Segmenter
    start = time.perf_counter()
    segmenter = Segmenter.from_dir(folder, variant=variant, provider=provider)
    load_ms = (time.perf_counter() - start) * 1000.0
    encode, decode, masks = [], [], {}
    for n, path in enumerate(images):
        t0 = time.perf_counter()
        encoded = segmenter.encode(path)
        t1 = time.perf_counter()
        prediction = segmenter.predict(
            encoded, Prompt.click(encoded.image.width / 2, encoded.image.height / 2))
        t2 = time.perf_counter()
        encode.append((t1 - t0) * 1000.0)
        decode.append((t2 - t1) * 1000.0)
        masks[f"m{n}"] = prediction.mask(exact=True)
    np.savez_compressed(masks_out, **masks)  # type: ignore[arg-type]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux
    if sys.platform == "darwin":
        peak /= 1024.0  # bytes there
    return {"ran_on": segmenter.provider, "load_ms": load_ms, "encode_ms": encode,
            "decode_ms": decode, "peak_mb": peak}


def main(args: str) -> int:
    """The child process: one measurement as JSON on stdout, or one line on stderr."""
    from ..engine.errors import Sam3CanvasError
    try:
        print(json.dumps(measure_one(*json.loads(args))))
    except Sam3CanvasError as exc:
        print(exc, file=sys.stderr)
        return 2
    return 0


def bench(variants: list[tuple[str, Path]], providers: list[str], images: list[Path],
          progress=None, timeout: float = 1800) -> list[BenchRow]:
    """``variants``: (variant name, the folder that holds it), the first is the reference."""
    rows: list[BenchRow] = []
    reference: dict[str, np.ndarray] | None = None
    with tempfile.TemporaryDirectory(prefix="sam3-bench-") as tmp:
        for variant, folder in variants:
            for provider in providers:
                row = BenchRow(variant, provider)
                masks_file = Path(tmp) / f"{variant}-{provider}.npz"
                code = ("import json, sys; from sam3_canvas.evaluation.pack_bench import main; "
                        "sys.exit(main(sys.argv[1]))")
                args = json.dumps([str(folder), variant, provider, [str(p) for p in images],
                                   str(masks_file)])
                if progress:
                    progress(f"{variant} on {provider}")
                try:
                    done = subprocess.run([sys.executable, "-c", code, args], text=True,
                                          capture_output=True, timeout=timeout,
                                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
                except subprocess.TimeoutExpired:
                    row.error = f"took more than {timeout:.0f} s"
                    rows.append(row)
                    continue
                if done.returncode != 0:
                    lines = [x for x in done.stderr.splitlines() if x.strip()]
                    row.error = lines[-1] if lines else f"exit code {done.returncode}"
                    rows.append(row)
                    continue
                found = json.loads(done.stdout.strip().splitlines()[-1])
                row.ran_on, row.load_ms = found["ran_on"], found["load_ms"]
                row.encode_ms, row.decode_ms = found["encode_ms"], found["decode_ms"]
                row.peak_mb = found["peak_mb"]
                with np.load(masks_file) as saved:
                    masks = {k: saved[k] for k in saved.files}
                if reference is None:
                    reference = masks
                row.agreement = float(np.mean([iou(reference[k], masks[k]) for k in masks]))
                rows.append(row)
    return rows
