"""Options shared by the sub-commands that run a model."""

from __future__ import annotations

import argparse

from ..engine.providers import PROVIDERS


def add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    where = group.add_mutually_exclusive_group()
    where.add_argument("--model", metavar="NAME",
                       help="a pack from the catalogue (sam3-canvas models list); "
                            "default sam3-tracker")
    where.add_argument("--model-dir", metavar="DIR", help="a folder holding the ONNX graphs")
    group.add_argument("--variant", help="fp32, fp16, q4, int8 ... (default: the pack's own)")
    group.add_argument("--provider", default="cpu", type=str.lower,
                       choices=list(PROVIDERS), help="where the model runs (default cpu); "
                       "falls back to CPU with a message if it cannot start")
    group.add_argument("--models-dir", metavar="DIR",
                       help="where catalogue packs are installed (default: user data folder)")
    group.add_argument("--cache-dir", metavar="DIR",
                       help="embedding disk cache (default: the user cache folder)")
    group.add_argument("--no-disk-cache", action="store_true",
                       help="keep embeddings in memory only")
    group.add_argument("--max-megapixels", type=float, default=200.0,
                       help="refuse larger images (default 200)")


def parse_pair(text: str) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y with two numbers, got {text!r}") from None
    return x, y


def parse_box(text: str) -> tuple[float, float, float, float]:
    try:
        x1, y1, x2, y2 = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected X1,Y1,X2,Y2 with four numbers, got {text!r}") from None
    return x1, y1, x2, y2


def open_segmenter_from_args(args):
    from ..models.store import ModelStore, open_segmenter

    store = ModelStore(args.models_dir) if args.models_dir else None
    return open_segmenter(model=args.model, model_dir=args.model_dir, variant=args.variant,
                          provider=args.provider, cache_dir=args.cache_dir,
                          use_disk_cache=not args.no_disk_cache, store=store,
                          max_pixels=int(args.max_megapixels * 1e6))
