"""Stage timings of the click path on a 12-megapixel photo, and the app's own overhead.

The app's stages (read, preprocess, encode, decode, upsample) are timed through the public
API, then the same graphs are run bare with ``session.run`` on the same inputs. The difference
is what the app adds. Models: the tiny architecture twin (real operators; needs the export
extra) and the contract fake. Real SAM3 weights are not available here, so encoder times are
those of these small graphs, not of SAM3.

    python bench/bench_pipeline.py [--repeats 7] [--photo PATH]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sam3_canvas.engine import Prompt, Segmenter  # noqa: E402
from sam3_canvas.engine.images import load_image  # noqa: E402
from sam3_canvas.engine.preprocess import pixel_values, prompt_arrays  # noqa: E402


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def make_photo(source: Path, folder: Path) -> Path:
    path = folder / "photo_12mp.jpg"
    Image.open(source).convert("RGB").resize((4000, 3000), Image.BICUBIC).save(path, quality=92)
    return path


def model_folders(work: Path) -> dict[str, Path]:
    from sam3_canvas.testing.fake_models import write_tracker_pack
    folders = {"contract fake": write_tracker_pack(work / "fake")}
    try:
        from sam3_canvas.twins.tracker_twin import build_tiny_tracker, export_tracker
        export_tracker(build_tiny_tracker(0), work / "twin")
        folders["tiny twin (SAM3 ops)"] = work / "twin"
    except ImportError:
        print("export extra not installed: the twin is skipped", file=sys.stderr)
    return folders


def bench_model(name: str, folder: Path, photo: Path, repeats: int) -> dict:
    seg = Segmenter.from_dir(folder, cache_dir=photo.parent / f"cache-{folder.name}")
    layout = seg.model.layout
    width, height = layout.model_size
    prompt = Prompt.click(2100, 1400).add_point(2300, 1500, 0)

    image = load_image(photo)
    read = median_ms(lambda: load_image(photo), repeats)
    pre = median_ms(lambda: pixel_values(image.rgb, width, height), repeats)
    values = pixel_values(image.rgb, width, height)

    def app_encode():
        seg.cache.memory.clear()
        return seg.model.encode(values)
    encode_app = median_ms(app_encode, repeats)
    names = list(layout.embedding_names)
    encode_bare = median_ms(lambda: seg.model.encoder.run(names, {"pixel_values": values}),
                            repeats)

    encoded = seg.encode(image)
    decode_app = median_ms(lambda: seg.predict(encoded, prompt), repeats * 3)
    points, labels, boxes = prompt_arrays(prompt, (image.width, image.height), (width, height))
    feed = {**encoded.embeddings, "input_points": points, "input_labels": labels,
            "input_boxes": boxes}
    decode_bare = median_ms(lambda: seg.model.decoder.run(None, feed), repeats * 3)

    prediction = seg.predict(encoded, prompt)
    best = prediction.best_index

    def region():
        prediction._masks.clear()
        prediction.mask(best)

    def exact():
        prediction._masks.clear()
        prediction.mask(best, exact=True)
    upsample_region = median_ms(region, repeats * 3)
    upsample_exact = median_ms(exact, repeats)
    cache_hit = median_ms(lambda: seg.encode(image), repeats)

    def disk_hit():  # a reopen in a later session: memory empty, the file read and decoded
        seg.cache.memory.clear()
        assert seg.encode(image).cache_hit == "disk"
    disk = median_ms(disk_hit, repeats)
    disk_bytes = seg.cache.disk.path(image.key, seg.model.identity).stat().st_size
    area = prediction.mask(best).mean()

    return {
        "model": name, "photo": f"{image.width} x {image.height}",
        "read_ms": read, "preprocess_ms": pre,
        "encode_app_ms": encode_app, "encode_bare_ms": encode_bare,
        "decode_app_ms": decode_app, "decode_bare_ms": decode_bare,
        "upsample_region_ms": upsample_region, "upsample_full_ms": upsample_exact,
        "mask_fraction_of_image": float(area),
        "encode_memory_cache_hit_ms": cache_hit,
        "encode_disk_cache_hit_ms": disk, "disk_entry_mb": disk_bytes / 1e6,
        "click_overhead_ms": decode_app - decode_bare + upsample_region,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--photo", type=Path,
                        default=ROOT.parent / "shared" / "data" / "grabcut" / "images" /
                        "124080.jpg")
    args = parser.parse_args()
    source = args.photo if args.photo.is_file() else ROOT / "resources" / "samples" / "cat.jpg"
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        photo = make_photo(source, work)
        rows = [bench_model(name, folder, photo, args.repeats)
                for name, folder in model_folders(work).items()]
    keys = [k for k in rows[0] if k not in ("model", "photo")]
    print(f"photo: {rows[0]['photo']} (from {source.name}), median of {args.repeats}+ runs, ms")
    print(f"{'stage':30s}" + "".join(f"{r['model']:>24s}" for r in rows))
    for key in keys:
        print(f"{key:30s}" + "".join(f"{r[key]:24.3f}" for r in rows))
    (out / "pipeline.json").write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
