"""``sam3-canvas bench``: each variant of a pack on each provider, on your images."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..engine.errors import ModelNotFoundError, Sam3CanvasError
from .common import json_safe


def add_parser(sub, common) -> None:
    p = sub.add_parser("bench", parents=[common],
                       help="time each variant on each provider and compare their masks",
                       description="Per variant and provider: load time, encode and decode "
                                   "time (median, min, max over the images), peak memory, and "
                                   "the mask IoU of each variant with the first one's.")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--model", metavar="NAME", help="an installed catalogue pack "
                                                       "(default sam3-tracker)")
    where.add_argument("--model-dir", metavar="DIR", help="a folder with the graphs")
    p.add_argument("--models-dir", metavar="DIR")
    p.add_argument("--variants", help="comma-separated (default: every variant the pack has)")
    p.add_argument("--providers", default="cpu", help="comma-separated (default cpu)")
    p.add_argument("--images", type=Path, help="a folder of images (default: the sample photo)")
    p.add_argument("--limit", type=int, default=10, help="at most N images (default 10)")
    p.add_argument("--out", type=Path, metavar="DIR", help="write bench.csv (and bench.png)")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.set_defaults(run=run)


def _variants(args) -> tuple[list[tuple[str, Path]], str]:
    """(variant, folder) for each variant to measure, and the model's name."""
    from ..engine.packfiles import tracker_variants
    wanted = [v.strip() for v in args.variants.split(",") if v.strip()] if args.variants \
        else None
    if args.model_dir:
        folder = Path(args.model_dir)
        present = tracker_variants(folder)
        if not present:
            raise ModelNotFoundError(f"{folder}: no tracker graphs (vision_encoder*.onnx) here")
        found = {v: folder for v in present}
        name = folder.name
    else:
        from ..models.store import ModelStore
        store = ModelStore(args.models_dir) if args.models_dir else ModelStore()
        name = args.model or "sam3-tracker"
        found = {v: store.require(name, v)[1] for v in store.installed_variants(name)}
        if not found:
            store.require(name)  # says how to install it
    missing = [v for v in wanted or [] if v not in found]
    if missing:
        raise ModelNotFoundError(f"{name} has no variant {', '.join(missing)} here (it has "
                                 f"{', '.join(found)})")
    return [(v, found[v]) for v in (wanted or list(found))], name


def run(args) -> int:
    from ..engine.images import is_image_file, list_images
    from ..evaluation import history
    from ..evaluation.pack_bench import bench
    from ..resources import resource_path
    variants, name = _variants(args)
    from ..engine.providers import normalise
    providers = [normalise(p) for p in args.providers.split(",") if p.strip()]
    if args.images:
        images = list_images(args.images) if args.images.is_dir() else \
            [args.images] if is_image_file(args.images) else []
    else:
        images = [resource_path("resources/samples/cat.jpg")]
    if not images:
        raise Sam3CanvasError(f"{args.images}: no images")
    images = images[:max(1, args.limit)]
    rows = [r.to_dict() for r in bench(variants, providers, images,
                                       progress=lambda what: print(f"bench: {what}",
                                                                   file=sys.stderr))]
    history.record("bench", name, {"rows": rows, "images": len(images)},
                   str(args.images or "the sample photo"))
    if args.out:
        from ..evaluation.plots import write_bench_chart
        for path in write_bench_chart(args.out, rows):
            print(f"wrote {path}", file=sys.stderr)
    if args.json:
        json.dump(json_safe({"model": name, "images": len(images), "rows": rows}), sys.stdout,
                  indent=1)
        sys.stdout.write("\n")
    else:
        print(f"{name}: {len(images)} image(s)")
        print(f"{'variant':10}{'provider':>10}{'ran on':>10}{'load ms':>10}{'encode ms':>22}"
              f"{'decode ms':>12}{'peak MB':>10}{'agree IoU':>11}")
        for r in rows:
            if r["error"]:
                print(f"{r['variant']:10}{r['provider']:>10}  failed: {r['error']}")
                continue
            e, d = r["encode_ms"], r["decode_ms"]
            spread = f"{e['median']:.1f} ({e['min']:.0f}-{e['max']:.0f})"
            print(f"{r['variant']:10}{r['provider']:>10}{r['ran_on']:>10}{r['load_ms']:>10.0f}"
                  f"{spread:>22}{d['median']:>12.1f}{r['peak_mb']:>10.0f}"
                  f"{r['agreement_iou']:>11.4f}")
    return 2 if any(r["error"] for r in rows) else 0
