"""Video reading and tracking cost, as figures.

1. A 1080p clip (``--frames``, default 600: 20 s at 30 fps; written once to the temp folder):
   time to open it, frames decoded per second reading forward, the time of a random seek,
   and the process's memory while scrubbing every frame with the default 512 MB frame cache
   (it must stay flat, not grow with the clip).
2. Tracking by re-prompting through the same clip with the colour fake: per-frame cost split
   into reading, encoding and decoding (the fake's encoder is cheap; on a real pack the
   encoder dominates: see docs/variants.md for its time per frame).
3. With ``--twin DIR`` (a full-size twin pack, bench/bench_variants.py makes one) and
   ``--variant``: ``--twin-frames`` frames of the 1080p clip encoded, then each tracking step
   without the encoder (the prompt from the previous mask, the decoder, the mask at full
   size): the cost of tracking once the frames are encoded (the encoder amortised over
   prefetch or an earlier pass).

    python bench/bench_video.py [--frames 600] [--twin /tmp/variants/model --variant int8]
"""

from __future__ import annotations

import argparse
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

from sam3_canvas.engine import Segmenter  # noqa: E402
from sam3_canvas.engine.prompts import Prompt  # noqa: E402
from sam3_canvas.testing.fake_video import Clip, write_colour_pack  # noqa: E402
from sam3_canvas.video.follow import follow  # noqa: E402
from sam3_canvas.video.frames import open_frames  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--twin", type=Path, help="a full-size twin pack (measured: part 3)")
    parser.add_argument("--variant", default="int8")
    parser.add_argument("--twin-frames", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.gettempdir()) / "sam3-canvas-bench-video"
    clip = Clip(width=1920, height=1080, frames=args.frames, radius=90, start=(200.0, 540.0),
                step=(1600.0 / args.frames, 0.3))
    video = work / f"clip-{args.frames}.mp4"
    results: dict = {}
    if not video.is_file():
        t0 = time.perf_counter()
        clip.write_video(video, fps=30.0)
        results["clip_written_s"] = time.perf_counter() - t0
    results["clip_mb"] = video.stat().st_size / 1e6

    t0 = time.perf_counter()
    frames = open_frames(video)
    results["open_ms"] = (time.perf_counter() - t0) * 1000
    base = rss_mb()
    t0 = time.perf_counter()
    peak = base
    for i in range(len(frames)):
        frames.frame(i)
        if i % 50 == 0:
            peak = max(peak, rss_mb())
    results["forward_fps"] = len(frames) / (time.perf_counter() - t0)
    results["scrub_rss_growth_mb"] = max(peak, rss_mb()) - base
    results["frame_cache_mb"] = frames.cache.bytes / 1e6
    seeks = []
    rng = np.random.default_rng(0)
    fresh = open_frames(video, cache_bytes=0)
    for index in rng.integers(0, len(frames), 20):
        t0 = time.perf_counter()
        fresh.frame(int(index))
        seeks.append((time.perf_counter() - t0) * 1000)
    results["random_seek_median_ms"] = statistics.median(seeks)
    results["random_seek_max_ms"] = max(seeks)

    pack = write_colour_pack(work / "colour-pack")
    segmenter = Segmenter.from_dir(pack)
    tracked = open_frames(video)
    x, y = clip.centre(0)
    encodes: list[float] = []
    original = segmenter.encode

    def timed_encode(source, run_options=None):
        encoded = original(source, run_options)
        encodes.append(encoded.timings.get("encode", 0.0) + encoded.timings.get("preprocess", 0))
        return encoded

    segmenter.encode = timed_encode  # type: ignore[method-assign]
    t0 = time.perf_counter()
    count = 0
    for result in follow(segmenter, tracked, 0, Prompt.click(x, y)):
        count += 1
        if result.stopped:
            results["track_stopped"] = f"frame {result.frame}: {result.stopped}"
    total = time.perf_counter() - t0
    results["tracked_frames"] = count
    results["track_ms_per_frame"] = total * 1000 / count
    results["track_encode_ms_median"] = statistics.median(encodes)
    results["track_rest_ms_per_frame"] = results["track_ms_per_frame"] - statistics.mean(encodes)
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.twin is not None:
        # Random weights give meaningless masks (the stop rules end a track at once), so the
        # per-frame work of a track is timed step by step on real prompts: the prompt from
        # the previous frame's true mask, the decoder, the chosen mask at full size.
        from sam3_canvas.video.follow import prompt_from_mask
        twin = Segmenter.from_dir(args.twin, variant=args.variant)
        source = open_frames(video)
        encodes, steps = [], []
        encoded = []
        for index in range(args.twin_frames):
            t0 = time.perf_counter()
            encoded.append(twin.encode(source.frame(index)))
            encodes.append((time.perf_counter() - t0) * 1000)
        for index in range(1, args.twin_frames):
            t0 = time.perf_counter()
            prompt = prompt_from_mask(clip.mask(index - 1))
            prediction = twin.predict(encoded[index], prompt)
            prediction.mask(prediction.best_index)
            steps.append((time.perf_counter() - t0) * 1000)
        results[f"twin_{args.variant}_encode_ms_per_frame"] = statistics.median(encodes)
        results[f"twin_{args.variant}_track_step_ms_per_frame"] = statistics.median(steps)
        results["twin_frames"] = args.twin_frames
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "video.json").write_text(json.dumps(results, indent=2))
    for key, value in results.items():
        print(f"{key:28s} {value:.2f}" if isinstance(value, float) else f"{key:28s} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
