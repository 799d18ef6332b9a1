"""Which variant of the SAM3 tracker should be the default on CPU: every published variant of a
full-size twin, measured through the app's own path, on onnxruntime's CPU and OpenVINO EPs.

The real SAM3 weights cannot be downloaded here, so the procedure builds the real architecture at
its real size with random weights (``build_full_tracker``, about 458 M parameters), exports it,
and makes every variant the way onnx-community makes the published ones (transformers.js's
recipes, ``sam3_canvas.twins.quantize``), named as published in one folder. Then, per provider
and variant:

* speed and memory: ``sam3-canvas segment --model-dir F --variant V --no-disk-cache --json``
  as a whole process under ``/usr/bin/time -v``: one warm-up pass over all variants, then
  ``--runs`` rounds (each round visits every variant, in a rotated order), median of the
  counted runs for ``timings_ms.encode``, the process's wall time and its peak RSS;
* agreement with fp32 on CPU (the only quality figure random weights allow): through
  ``Segmenter.from_dir(folder, variant=V, provider=P)`` on 3 fixture photos with 3 prompts each
  (a click inside the object, its box, a click and a background click): Pearson correlation of
  the three low-resolution mask logits, IoU of the full-size best masks, correlation of the
  three image embeddings, and the decoder's time per prompt;
* where the nodes run (OpenVINO): ORT's own node-placement log for the encoder.

Timing needs a quiet machine: before each timed process the CPU use of other processes is
sampled for 3 s and the run waits (60 s steps, up to --max-wait) while it is above
--max-other-cores; the CPU that others used during each run is recorded and reported.

    python bench/bench_variants.py --work /tmp/variants \\
        [--ov-python /tmp/variants/venv-ov/bin/python] [--runs 3] [--repeat cpu:fp32 cpu:int8]

Needs the export extra (torch, transformers), ``onnx-ir`` and ``onnxslim`` in this Python, the
Debian ``time`` package, and for OpenVINO a second venv with the project and
``onnxruntime-openvino`` (without plain onnxruntime). Everything made goes under --work and is
reused by a later run (``--remeasure`` forgets the measurements, ``--table-only`` reprints).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "objects"
PHOTOS = ("llama", "bicycle", "teddy")
TIMING_PHOTO = "llama"
VARIANTS = ("fp32", "fp16", "q4", "q4f16", "int8", "uint8", "quantized", "bnb4")
EXTRA_VARIANTS = ("q4a4",)  # not published: q4 with accuracy_level 4 (int8 compute)
STEMS = ("vision_encoder", "prompt_encoder_mask_decoder")
TIME_BIN = "/usr/bin/time"


# --------------------------------------------------------------------------- small helpers

def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def clean_env() -> dict:
    """The environment of measured processes: no PYTHONPATH overlay, quiet tqdm."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["TQDM_DISABLE"] = "1"
    return env


def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return total - idle, total


def busy_cores(seconds: float = 3.0) -> float:
    """Cores kept busy by all processes over ``seconds`` (this script sleeps meanwhile)."""
    b0, _ = cpu_jiffies()
    time.sleep(seconds)
    b1, _ = cpu_jiffies()
    return (b1 - b0) / os.sysconf("SC_CLK_TCK") / seconds


def loadavg1() -> float:
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def wait_for_quiet(max_other: float, max_wait: float) -> dict:
    """Wait until other processes use at most ``max_other`` cores; say how it was."""
    start = time.monotonic()
    while True:
        others = busy_cores()
        if others <= max_other:
            return {"others_before": round(others, 2), "load1": loadavg1(),
                    "waited_s": round(time.monotonic() - start)}
        if time.monotonic() - start > max_wait:
            log(f"  machine still busy ({others:.2f} cores used by others): measuring anyway")
            return {"others_before": round(others, 2), "load1": loadavg1(),
                    "waited_s": round(time.monotonic() - start), "busy": True}
        log(f"  others use {others:.2f} cores (load {loadavg1():.2f}): waiting 60 s")
        time.sleep(60)


def _tree_rss_kb(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants (kB)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
            with open(f"/proc/{current}/task/{current}/children") as f:
                stack.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return total


def run_timed(cmd: list[str], cwd: Path, env: dict, log_path: Path | None = None,
              max_rss_gb: float | None = None) -> dict:
    """Run ``cmd`` under ``/usr/bin/time -v``: stdout, stderr, wall, peak RSS, CPU of others.
    A process tree above ``max_rss_gb`` is killed (a variant that would drive a shared machine
    into the OOM killer), and the record says so."""
    import signal
    import tempfile

    b0, _ = cpu_jiffies()
    start = time.perf_counter()
    killed = None
    with tempfile.TemporaryFile("w+") as out_f, tempfile.TemporaryFile("w+") as err_f:
        proc = subprocess.Popen([TIME_BIN, "-v", *cmd], cwd=cwd, env=env, stdout=out_f,
                                stderr=err_f, text=True)
        while proc.poll() is None:
            if max_rss_gb and _tree_rss_kb(proc.pid) > max_rss_gb * 1e6:
                killed = f"killed by the benchmark: memory above {max_rss_gb:g} GB"
                try:
                    with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
                        for child in f.read().split():
                            os.kill(int(child), signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.25)
        wall = time.perf_counter() - start
        out_f.seek(0)
        err_f.seek(0)
        stdout, stderr = out_f.read(), err_f.read()
    b1, _ = cpu_jiffies()
    stats = parse_time_v(stderr)
    own = stats.get("user_s", 0.0) + stats.get("sys_s", 0.0)
    others = max(0.0, (b1 - b0) / os.sysconf("SC_CLK_TCK") - own) / wall
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(f"$ {' '.join(cmd)}\n--- stdout\n{stdout}\n--- stderr\n{stderr}")
    rc = proc.returncode
    if rc == 0 and re.search(r"Exit status: (\d+)", stderr):
        rc = int(re.search(r"Exit status: (\d+)", stderr).group(1))
    if re.search(r"Command terminated by signal (\d+)", stderr):
        rc = 128 + int(re.search(r"Command terminated by signal (\d+)", stderr).group(1))
    result = {"rc": rc, "stdout": stdout, "stderr": stderr, "wall_s": wall,
              "others_during": round(others, 2), **stats}
    if killed:
        result["killed"] = killed
    return result


def parse_time_v(text: str) -> dict:
    found = {}
    patterns = {"rss_kb": r"Maximum resident set size \(kbytes\): (\d+)",
                "user_s": r"User time \(seconds\): ([\d.]+)",
                "sys_s": r"System time \(seconds\): ([\d.]+)"}
    for key, pattern in patterns.items():
        match = re.search(pattern, text)
        if match:
            found[key] = float(match.group(1))
    return found


def app_stderr(text: str) -> str:
    """stderr without /usr/bin/time's report and onnxruntime's colour codes."""
    text = text.split("\tCommand being timed:")[0]
    return re.sub(r"\x1b\[[0-9;]*m", "", text).strip()


def graph_root(model: Path) -> Path:
    return model / "onnx"


def file_mb(path: Path) -> float:
    total = path.stat().st_size if path.is_file() else 0
    sidecar = path.with_name(path.name + "_data")
    if sidecar.is_file():
        total += sidecar.stat().st_size
    return total / 1e6


def variant_files(model: Path, variant: str) -> tuple[Path, Path]:
    suffix = "" if variant == "fp32" else f"_{variant}"
    root = graph_root(model)
    return (root / f"vision_encoder{suffix}.onnx",
            root / f"prompt_encoder_mask_decoder{suffix}.onnx")


# --------------------------------------------------------------------------- 1. the models

def build(work: Path, variants: list[str], results: dict, tiny: bool = False) -> None:
    """Export the full-size twin, slim it as convert.py does, make every variant."""
    export, model = work / "export", work / "model"
    steps = results.setdefault("build", {})
    env = dict(os.environ)
    if not (export / "onnx" / "vision_encoder.onnx").is_file():
        log("exporting the full-size twin (about 3 minutes, 15 GB of memory)")
        size = [] if tiny else ["--full"]
        out = run_timed([sys.executable, "-m", "sam3_canvas.twins.tracker_twin", *size,
                         str(export / "onnx")], ROOT, env, work / "logs" / "export.log")
        if out["rc"]:
            raise SystemExit(f"export failed, see {work / 'logs' / 'export.log'}")
        steps["export"] = {"wall_s": round(out["wall_s"]), "rss_gb": out["rss_kb"] / 1e6}
    if not (graph_root(model) / "vision_encoder.onnx").is_file():
        log("onnxslim over the fp32 export")
        out = run_timed([sys.executable, "-m", "sam3_canvas.twins.quantize", str(model),
                         "--slim-from", str(export), "--modes"], ROOT, env,
                        work / "logs" / "slim.log")
        if out["rc"]:
            raise SystemExit(f"slimming failed, see {work / 'logs' / 'slim.log'}")
        steps["slim"] = {"wall_s": round(out["wall_s"]), "rss_gb": out["rss_kb"] / 1e6}
    for variant in variants:
        if variant == "fp32":
            continue
        missing = [s for s in STEMS if not (graph_root(model) / f"{s}_{variant}.onnx").is_file()]
        if not missing:
            continue
        log(f"making {variant} ({', '.join(missing)})")
        out = run_timed([sys.executable, "-m", "sam3_canvas.twins.quantize", str(model),
                         "--modes", variant, "--stems", *missing], ROOT, env,
                        work / "logs" / f"quantize_{variant}.log")
        if out["rc"]:
            raise SystemExit(f"{variant} failed, see {work / 'logs' / f'quantize_{variant}.log'}")
        steps[variant] = {"wall_s": round(out["wall_s"]), "rss_gb": out["rss_kb"] / 1e6}


# --------------------------------------------------------------------------- 2. the prompts

def photo_prompts() -> dict[str, list[dict]]:
    """Per fixture photo: a click in the object (its most interior pixel), its box, and that
    click with a background click (the pixel farthest from the object)."""
    import cv2
    import numpy as np
    from PIL import Image

    prompts = {}
    for name in PHOTOS:
        mask = np.array(Image.open(FIXTURES / "masks" / f"{name}.png")) == 255
        inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
        outside = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5)
        fy, fx = np.unravel_index(np.argmax(inside), inside.shape)
        by, bx = np.unravel_index(np.argmax(outside), outside.shape)
        ys, xs = np.nonzero(mask)
        click = [float(fx), float(fy)]
        prompts[name] = [
            {"name": "click", "points": [click], "labels": [1]},
            {"name": "box", "box": [float(xs.min()), float(ys.min()),
                                    float(xs.max()), float(ys.max())]},
            {"name": "click+bg", "points": [click, [float(bx), float(by)]], "labels": [1, 0]},
        ]
    return prompts


# --------------------------------------------------------------------------- 3. timing

def segment_cmd(python: str, model: Path, variant: str, provider: str, out: Path,
                click: list[float]) -> list[str]:
    return [python, "-m", "sam3_canvas", "segment", "--model-dir", str(model),
            "--variant", variant, "--provider", provider, "--no-disk-cache",
            "--image", str(FIXTURES / "images" / f"{TIMING_PHOTO}.jpg"),
            "--point", f"{click[0]:g},{click[1]:g}", "--json", "-o", str(out)]


def one_timed_run(args, work: Path, python: str, provider: str, variant: str, click,
                  tag: str) -> dict:
    quiet = wait_for_quiet(args.max_other_cores, args.max_wait)
    cwd = graph_root(work / "model") if provider == "openvino" and args.ov_cwd else ROOT
    cmd = segment_cmd(python, work / "model", variant, provider, work / "tmp" / "mask.png",
                      click)
    out = run_timed(cmd, cwd, clean_env(), work / "logs" / "runs" / f"{tag}.log",
                    args.max_rss_gb)
    record = {"variant": variant, "provider": provider, "rc": out["rc"],
              "wall_s": round(out["wall_s"], 2), "rss_gb": round(out.get("rss_kb", 0) / 1e6, 3),
              "cpu_s": round(out.get("user_s", 0) + out.get("sys_s", 0), 1),
              "others_during": out["others_during"], **quiet}
    if out["rc"] == 0:
        doc = json.loads(out["stdout"])
        record.update(ran_on=doc.get("provider"), encode_ms=doc["timings_ms"].get("encode"),
                      decode_ms=doc["timings_ms"].get("decode"))
    warnings = app_stderr(out["stderr"])
    if warnings:
        record["stderr"] = warnings[-600:]
    if out.get("killed") or out["rc"] in (137, 128 + 9):
        record["killed"] = out.get("killed") or "killed (SIGKILL: out of memory?)"
    log(f"  {tag}: rc {out['rc']} encode {record.get('encode_ms', 0) / 1000:.1f} s, wall "
        f"{record['wall_s']:.1f} s, {record['rss_gb']:.2f} GB, on {record.get('ran_on')}, "
        f"others {quiet['others_before']:.2f}/{record['others_during']:.2f} cores")
    return record


def timing_pass(args, work: Path, pairs: list[tuple[str, str]], pythons: dict, click,
                rounds: int, label: str, results: dict) -> list[dict]:
    """A warm-up run of every pair, then ``rounds`` rounds in rotated order. Records go to
    ``results[label]`` as they come (a later run resumes); a pair that failed its warm-up is
    not run again (a variant that cannot load, or that was killed for its memory)."""
    records = results.setdefault(label, [])

    def done(provider, variant, r):
        return any(x["provider"] == provider and x["variant"] == variant and x["round"] == r
                   for x in records)

    def measure(provider, variant, r):
        tag = f"{label}-{'warmup' if r == 0 else f'r{r}'}-{provider}-{variant}"
        rec = one_timed_run(args, work, pythons[provider], provider, variant, click, tag)
        rec.update(round=r, warmup=r == 0)
        records.append(rec)
        save_results(work, results)

    log(f"{label}: warm-up over {len(pairs)} variants")
    for provider, variant in pairs:
        if not done(provider, variant, 0):
            measure(provider, variant, 0)
    failed = {(x["provider"], x["variant"]) for x in records if x["round"] == 0 and x["rc"]}
    for pair in sorted(failed):
        log(f"{label}: {pair[0]}:{pair[1]} failed its warm-up; not run again")
    live = [p for p in pairs if p not in failed]
    for r in range(1, rounds + 1):
        shift = (r - 1) % max(1, len(live))
        order = live[shift:] + live[:shift]
        log(f"{label}: round {r} of {rounds}")
        for provider, variant in order:
            if not done(provider, variant, r):
                measure(provider, variant, r)
    # a run during which other processes used CPU is suspect: top up to ``rounds`` clean ones
    for extra in range(1, args.extra_runs + 1):
        r = rounds + extra
        short = [p for p in live if len(clean_runs(records, *p, args.max_other_during)) < rounds]
        if not short:
            break
        log(f"{label}: extra round {extra} for {len(short)} variants disturbed by others")
        for provider, variant in short:
            if not done(provider, variant, r):
                measure(provider, variant, r)
    return records


def clean_runs(records: list[dict], provider: str, variant: str,
               max_other: float = 0.3) -> list[dict]:
    """Counted, successful runs of a pair during which others used at most ``max_other``."""
    return [r for r in counted_runs(records, provider, variant)
            if r["others_during"] <= max_other]


def counted_runs(records: list[dict], provider: str, variant: str) -> list[dict]:
    return [r for r in records if r["provider"] == provider and r["variant"] == variant
            and not r.get("warmup") and r.get("rc") == 0]


def quoted_runs(records: list[dict], provider: str, variant: str,
                max_other: float = 0.3) -> tuple[list[dict], str]:
    """The runs a figure is quoted from: the clean ones when there are at least two, else all
    counted ones; and a note of how many."""
    counted = counted_runs(records, provider, variant)
    clean = clean_runs(records, provider, variant, max_other)
    if len(clean) >= 2:
        return clean, f"{len(clean)}/{len(counted)}"
    return counted, f"{len(counted)}/{len(counted)}*" if counted else "0"


# --------------------------------------------------------------------------- 4. agreement

def agreement_worker(args) -> int:
    """(In the provider's Python) every prompt on every photo through the library API."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from sam3_canvas.engine import Prompt, Segmenter

    prompts = json.loads(Path(args.prompts).read_text())
    start = time.perf_counter()
    seg = Segmenter.from_dir(args.model_dir, variant=args.variant, provider=args.provider)
    load_s = time.perf_counter() - start
    arrays, meta = {}, {"provider": seg.provider, "fallback": seg.model.fallback_reason,
                        "load_s": load_s, "encode_ms": [], "decode_ms": []}
    for photo, items in prompts.items():
        encoded = seg.encode(FIXTURES / "images" / f"{photo}.jpg")
        meta["encode_ms"].append(encoded.timings["encode"])
        for i, value in enumerate(encoded.embeddings.values()):
            arrays[f"{photo}/emb{i}"] = np.asarray(value, dtype=np.float32)
        for item in items:
            prompt = Prompt(points=tuple(tuple(p) for p in item.get("points", [])),
                            labels=tuple(item.get("labels", [])),
                            box=tuple(item["box"]) if "box" in item else None)
            pred = seg.predict(encoded, prompt)
            meta["decode_ms"].append(pred.timings["decode"])
            key = f"{photo}/{item['name']}"
            arrays[f"{key}/logits"] = np.asarray(pred.logits, dtype=np.float32)
            arrays[f"{key}/best"] = np.packbits(pred.mask(exact=True))
            arrays[f"{key}/ious"] = np.asarray(pred.ious, dtype=np.float32)
    np.savez(args.out, **arrays)
    Path(args.out).with_suffix(".json").write_text(json.dumps(meta))
    return 0


def placement_worker(args) -> int:
    """(In the provider's Python) where onnxruntime places the encoder's nodes."""
    import onnxruntime as ort

    sys.path.insert(0, str(ROOT))
    from sam3_canvas.engine.providers import session_providers

    options = ort.SessionOptions()
    options.log_severity_level = 0
    ort.InferenceSession(args.graph, options, providers=session_providers(args.provider))
    return 0


def parse_placement(text: str) -> dict:
    counts, cpu_ops, current = {}, {}, None
    for line in text.splitlines():
        match = re.search(r"placed on \[(\w+)\]\. Number of nodes: (\d+)", line)
        if match:
            current = match.group(1).replace("ExecutionProvider", "")
            counts[current] = int(match.group(2))
            continue
        match = re.search(r"VerifyEachNodeIsAssignedToAnEp\]\s{3}(\S+) \(", line)
        if match and current == "CPU":
            cpu_ops[match.group(1)] = cpu_ops.get(match.group(1), 0) + 1
    return {"nodes": counts, "cpu_ops": cpu_ops}


def run_agreement(args, work: Path, pairs, pythons, prompts_path: Path, results: dict) -> None:
    out_dir = work / "agreement"
    out_dir.mkdir(parents=True, exist_ok=True)
    done = results.setdefault("agreement_runs", {})
    ordered = [("cpu", "fp32")] + [p for p in pairs if p != ("cpu", "fp32")]
    timing = results.get("timing", [])
    for provider, variant in ordered:
        key = f"{provider}:{variant}"
        target = out_dir / f"{provider}-{variant}.npz"
        if key in done and (target.is_file() or done[key].get("error")) and not args.remeasure:
            continue
        warmup = [r for r in timing if r["provider"] == provider and r["variant"] == variant
                  and r.get("warmup")]
        cwd = graph_root(work / "model") if provider == "openvino" and args.ov_cwd else ROOT
        if warmup and warmup[0]["rc"]:
            done[key] = {"error": "not run: its timing warm-up failed ("
                         + (warmup[0].get("killed") or f"exit {warmup[0]['rc']}") + ")"}
            if provider != "cpu":
                done[key]["placement"] = placement(args, work, pythons, provider, variant, cwd)
            save_results(work, results)
            continue
        wait_for_quiet(args.max_other_cores, args.max_wait)
        cmd = [pythons[provider], str(Path(__file__).resolve()), "--worker", "agree",
               "--model-dir", str(work / "model"), "--variant", variant, "--provider", provider,
               "--prompts", str(prompts_path), "--out", str(target)]
        out = run_timed(cmd, cwd, clean_env(), work / "logs" / f"agree-{provider}-{variant}.log",
                        args.max_rss_gb)
        if out["rc"]:
            done[key] = {"error": out.get("killed") or app_stderr(out["stderr"])[-600:]}
            log(f"  agreement {key}: FAILED")
            continue
        meta = json.loads(target.with_suffix(".json").read_text())
        meta["rss_gb"] = out.get("rss_kb", 0) / 1e6
        done[key] = meta
        log(f"  agreement {key}: on {meta['provider']}, encodes "
            f"{[round(v / 1000, 1) for v in meta['encode_ms']]} s")
        if provider != "cpu":
            done[key]["placement"] = placement(args, work, pythons, provider, variant, cwd)
        save_results(work, results)


def placement(args, work: Path, pythons: dict, provider: str, variant: str, cwd: Path) -> dict:
    """Where onnxruntime puts the encoder's nodes on ``provider`` (a session, no run)."""
    encoder = variant_files(work / "model", variant)[0]
    place = run_timed([pythons[provider], str(Path(__file__).resolve()), "--worker", "place",
                       "--graph", str(encoder), "--provider", provider],
                      cwd, clean_env(), max_rss_gb=args.max_rss_gb)
    found = parse_placement(place["stderr"])
    if place["rc"]:
        found["error"] = (app_stderr(place["stderr"]).splitlines() or ["failed"])[-1][-300:]
    return found


def agreement_metrics(work: Path, key: str, prompts: dict) -> dict:
    import numpy as np

    ref_path = work / "agreement" / "cpu-fp32.npz"
    path = work / "agreement" / f"{key.replace(':', '-')}.npz"
    if not ref_path.is_file() or not path.is_file():
        return {}
    ref, cur = np.load(ref_path), np.load(path)
    corrs, ious, embs = [], [], []
    for photo, items in prompts.items():
        for i in range(3):
            a = ref[f"{photo}/emb{i}"].ravel().astype(np.float64)
            b = cur[f"{photo}/emb{i}"].ravel().astype(np.float64)
            embs.append(float(np.corrcoef(a, b)[0, 1]))
        for item in items:
            k = f"{photo}/{item['name']}"
            a, b = ref[f"{k}/logits"].ravel(), cur[f"{k}/logits"].ravel()
            corrs.append(float(np.corrcoef(a.astype(np.float64), b.astype(np.float64))[0, 1]))
            ma, mb = np.unpackbits(ref[f"{k}/best"]), np.unpackbits(cur[f"{k}/best"])
            union = np.logical_or(ma, mb).sum()
            ious.append(float(np.logical_and(ma, mb).sum() / union) if union else 1.0)
    return {"logit_corr": statistics.mean(corrs), "logit_corr_min": min(corrs),
            "mask_iou": statistics.mean(ious), "mask_iou_min": min(ious),
            "emb_corr_min": min(embs)}


# --------------------------------------------------------------------------- 5. the table

def save_results(work: Path, results: dict) -> None:
    (work / "results.json").write_text(json.dumps(results, indent=1))


def summarise(records: list[dict], key: str) -> float | None:
    values = [r[key] for r in records if not r.get("warmup") and r.get("rc") == 0
              and r.get(key) is not None]
    return statistics.median(values) if values else None


def table(work: Path, results: dict, pairs, prompts, max_other: float = 0.3) -> str:
    rows = ["| variant | provider (ran on) | encoder + decoder MB | "
            "encode median s (range, runs) | process wall s | peak RSS GB | logit corr (min) | "
            "best-mask IoU (min) | embedding corr min | decode ms | where it ran |",
            "|---|---|---|---|---|---|---|---|---|---|---|"]
    for provider, variant in pairs:
        key = f"{provider}:{variant}"
        recs = [r for r in results.get("timing", []) if r["provider"] == provider
                and r["variant"] == variant]
        counted, runs_note = quoted_runs(recs, provider, variant, max_other)
        enc, dec = variant_files(work / "model", variant)
        size = f"{file_mb(enc):.0f} + {file_mb(dec):.1f}"
        ran_on = sorted({r.get("ran_on") or "failed" for r in recs}) or ["-"]
        if counted:
            encs = [r["encode_ms"] / 1000 for r in counted]
            encode = (f"{statistics.median(encs):.1f} ({min(encs):.1f}-{max(encs):.1f}, "
                      f"{runs_note})")
            wall = f"{statistics.median(r['wall_s'] for r in counted):.1f}"
            rss = f"{statistics.median(r['rss_gb'] for r in counted):.2f}"
        elif recs:
            killed = any(r.get("killed") for r in recs)
            encode = wall = rss = "killed (memory)" if killed else "failed"
        else:
            encode = wall = rss = "-"
        agree = results.get("agreement_runs", {}).get(key, {})
        metrics = agreement_metrics(work, key, prompts)
        if metrics:
            corr = f"{metrics['logit_corr']:.4f} ({metrics['logit_corr_min']:.4f})"
            iou = f"{metrics['mask_iou']:.3f} ({metrics['mask_iou_min']:.3f})"
            emb = f"{metrics['emb_corr_min']:.4f}"
        else:
            corr = iou = emb = "failed" if agree.get("error") else "-"
        decodes = agree.get("decode_ms", [])[1:]  # the first decode of a process warms up
        decode = f"{statistics.median(decodes):.0f}" if decodes else "-"
        rows.append(f"| {variant} | {provider} ({', '.join(ran_on)}) | {size} | {encode} | "
                    f"{wall} | {rss} | {corr} | {iou} | {emb} | {decode} | "
                    f"{placement_note(agree, recs, provider)} |")
    return "\n".join(rows)


def placement_note(agree: dict, recs: list[dict], provider: str) -> str:
    """Where the graphs ran, in a few words (for providers other than CPU)."""
    notes = []
    killed = [r.get("killed") for r in recs if r.get("killed")]
    if killed:
        peak = max(r.get("rss_gb", 0) for r in recs)
        notes.append(f"{killed[0]} (peak {peak:.0f} GB)")
    place = agree.get("placement") or {}
    nodes = place.get("nodes") or {}
    if provider != "cpu" and nodes:
        ov = nodes.get("OpenVINO", 0)
        cpu_ops = ", ".join(f"{n} {op}" for op, n in sorted(place.get("cpu_ops", {}).items()))
        notes.append(f"encoder: {ov} OpenVINO subgraph{'s' if ov != 1 else ''}"
                     + (f", on CPU: {cpu_ops}" if cpu_ops else ""))
    if provider != "cpu" and agree.get("provider") == provider and agree.get("fallback"):
        notes.append("decoder fell back to CPU (OpenVINO did not compile it)")
    return "; ".join(notes)


def repeat_table(results: dict, max_other: float = 0.3) -> str:
    rows = ["| variant | provider | pass | encode median s (range, runs) | wall s | peak RSS GB | "
            "others' cores during (max) |", "|---|---|---|---|---|---|---|"]
    repeats = results.get("repeat", [])
    keys = sorted({(r["provider"], r["variant"]) for r in repeats})
    for provider, variant in keys:
        for label, recs in (("first", results.get("timing", [])), ("second", repeats)):
            counted, note = quoted_runs(recs, provider, variant, max_other)
            if not counted:
                continue
            encs = [r["encode_ms"] / 1000 for r in counted]
            rows.append(f"| {variant} | {provider} | {label} | {statistics.median(encs):.1f} "
                        f"({min(encs):.1f}-{max(encs):.1f}, {note}) | "
                        f"{statistics.median(r['wall_s'] for r in counted):.1f} | "
                        f"{statistics.median(r['rss_gb'] for r in counted):.2f} | "
                        f"{max(r['others_during'] for r in counted):.2f} |")
    return "\n".join(rows)


def load_table(results: dict) -> str:
    timing = [r for r in results.get("timing", []) + results.get("repeat", [])
              if not r.get("warmup")]
    if not timing:
        return ""
    before = [r["others_before"] for r in timing]
    during = [r["others_during"] for r in timing]
    loads = [r["load1"] for r in timing if r.get("load1") is not None] or [float("nan")]
    waited = sum(r.get("waited_s", 0) for r in timing)
    return (f"counted runs: {len(timing)}; CPU used by other processes just before a run: "
            f"median {statistics.median(before):.2f}, max {max(before):.2f} cores; during a run: "
            f"median {statistics.median(during):.2f}, max {max(during):.2f} cores; 1-minute "
            f"load average at the start of a run (includes this benchmark's previous run): "
            f"median {statistics.median(loads):.2f}, max {max(loads):.2f}; waited {waited} s "
            f"in all for a quiet machine")


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/variants"))
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS + EXTRA_VARIANTS))
    parser.add_argument("--providers", nargs="+", default=["cpu", "openvino"])
    parser.add_argument("--ov-python", default="/tmp/variants/venv-ov/bin/python",
                        help="a Python with the project and onnxruntime-openvino")
    parser.add_argument("--ov-cwd", action="store_true",
                        help="run OpenVINO processes in the graphs' folder (onnxruntime-"
                             "openvino 1.24 looked for an unslimmed export's .onnx_data in the "
                             "working directory; the slimmed graphs made here load anywhere)")
    parser.add_argument("--runs", type=int, default=3, help="counted runs per variant")
    parser.add_argument("--repeat", nargs="*", default=None, metavar="PROVIDER:VARIANT",
                        help="measure these again at the end (default: cpu:fp32 cpu:int8 "
                             "cpu:q4 and the fastest OpenVINO variant)")
    parser.add_argument("--max-other-cores", type=float, default=0.7,
                        help="wait while other processes use more cores than this")
    parser.add_argument("--max-wait", type=float, default=1200, help="seconds, per run")
    parser.add_argument("--max-other-during", type=float, default=0.3,
                        help="a run during which others used more cores than this is not "
                             "quoted when two clean ones exist, and is topped up")
    parser.add_argument("--extra-runs", type=int, default=2,
                        help="extra rounds for variants with fewer than --runs clean runs")
    parser.add_argument("--max-rss-gb", type=float, default=14.0,
                        help="kill a measured process above this resident memory (default 14; "
                             "OpenVINO with bnb4 goes past 23 GB)")
    parser.add_argument("--remeasure", action="store_true", help="forget earlier measurements")
    parser.add_argument("--table-only", action="store_true", help="print the saved table")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--tiny", action="store_true",
                        help="a smoke test of the procedure on the tiny twin (minutes, not hours; "
                             "use another --work)")
    parser.add_argument("--skip-agreement", action="store_true")
    # internal: the workers that run in the provider's Python
    parser.add_argument("--worker", choices=("agree", "place"), help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--provider", help=argparse.SUPPRESS)
    parser.add_argument("--prompts", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--graph", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker == "agree":
        return agreement_worker(args)
    if args.worker == "place":
        return placement_worker(args)

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    (work / "tmp").mkdir(exist_ok=True)
    results_path = work / "results.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else {}
    if args.remeasure:
        results = {"build": results.get("build", {})}
    pythons = {"cpu": sys.executable, "openvino": args.ov_python}
    providers = [p for p in args.providers if p == "cpu" or Path(pythons[p]).is_file()]
    if "openvino" in args.providers and "openvino" not in providers:
        log(f"no OpenVINO Python at {args.ov_python}: OpenVINO skipped")
    pairs = [(p, v) for p in providers for v in args.variants]
    prompts = photo_prompts()
    prompts_path = work / "prompts.json"
    prompts_path.write_text(json.dumps(prompts, indent=1))
    started = time.time()

    if not args.table_only:
        if not Path(TIME_BIN).is_file():
            raise SystemExit("needs GNU time for peak memory: apt-get install time")
        build(work, args.variants, results, args.tiny)
        save_results(work, results)
        machine = {"cpu": _cpu_name(), "cores": os.cpu_count(),
                   "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                                   / 2**30, 1),
                   "ort": {p: _ort_version(pythons[p]) for p in providers}}
        results["machine"] = machine
        click = prompts[TIMING_PHOTO][0]["points"][0]
        if not args.skip_timing:
            timing_pass(args, work, pairs, pythons, click, args.runs, "timing", results)
        if not args.skip_agreement:
            run_agreement(args, work, pairs, pythons, prompts_path, results)
        repeat = args.repeat
        if repeat is None:
            repeat = [f"cpu:{v}" for v in ("fp32", "int8", "q4") if v in args.variants]
            best = _fastest(results, "openvino")
            if best:
                repeat.append(f"openvino:{best}")
        repeat_pairs = [tuple(item.split(":", 1)) for item in repeat]
        repeat_pairs = [p for p in repeat_pairs if p[0] in providers]
        if repeat_pairs and not args.skip_timing:
            timing_pass(args, work, repeat_pairs, pythons, click, args.runs, "repeat", results)
        results.setdefault("bench_runtime_s", {})[time.strftime("%Y-%m-%d %H:%M")] = round(
            time.time() - started)
        save_results(work, results)

    text = ["## Variants (first pass)", "",
            table(work, results, pairs, prompts, args.max_other_during), "",
            "## Second pass", "", repeat_table(results, args.max_other_during), "",
            load_table(results)]
    output = "\n".join(text)
    (work / "table.md").write_text(output + "\n")
    print(output)
    return 0


def _fastest(results: dict, provider: str) -> str | None:
    best, best_ms = None, None
    for variant in {r["variant"] for r in results.get("timing", []) if r["provider"] == provider}:
        recs = [r for r in results["timing"] if r["provider"] == provider
                and r["variant"] == variant and r.get("ran_on") == provider]
        ms = summarise(recs, "encode_ms")
        if ms is not None and (best_ms is None or ms < best_ms):
            best, best_ms = variant, ms
    return best


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _ort_version(python: str) -> str:
    out = subprocess.run([python, "-c", "import onnxruntime as o; print(o.__version__, "
                          "','.join(o.get_available_providers()))"], capture_output=True,
                         text=True, env=clean_env())
    return out.stdout.strip() or out.stderr.strip()[-200:]


if __name__ == "__main__":
    sys.exit(main())
