"""Options shared by the sub-commands that run a model."""

from __future__ import annotations

import argparse
import math
import sys

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
    add_disk_cache_options(group)


def _megabytes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of MB, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more MB, got {value}")
    return value


def add_disk_cache_options(group) -> None:
    """--cache-dir, --disk-cache-mb and --no-disk-cache (segment and detect)."""
    group.add_argument("--cache-dir", metavar="DIR",
                       help="embedding disk cache (default: the user cache folder)")
    group.add_argument("--disk-cache-mb", type=_megabytes, default=2048, metavar="MB",
                       help="bound of the disk cache; the least recently used embeddings go "
                            "first (default 2048; 0 = no disk cache)")
    group.add_argument("--no-disk-cache", action="store_true",
                       help="keep embeddings in memory only (nothing is written)")


def disk_cache_from_args(args) -> tuple[str | None, int]:
    """(cache folder or None for none, bound in bytes) from the options above."""
    from ..models.store import default_cache_dir

    megabytes = getattr(args, "disk_cache_mb", 2048)
    if getattr(args, "no_disk_cache", False) or megabytes <= 0:
        return None, 0
    return str(getattr(args, "cache_dir", None) or default_cache_dir()), megabytes << 20


def _numbers(text: str, count: int, shape: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) != count or not all(math.isfinite(v) for v in values):
        raise argparse.ArgumentTypeError(
            f"expected {shape} with {count} finite numbers, got {text!r}")
    return values


def parse_pair(text: str) -> tuple[float, float]:
    x, y = _numbers(text, 2, "X,Y")
    return x, y


def parse_box(text: str) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = _numbers(text, 4, "X1,Y1,X2,Y2")
    return x0, y0, x1, y1


def open_segmenter_from_args(args):
    from ..models.store import ModelStore, open_segmenter

    store = ModelStore(args.models_dir) if args.models_dir else None
    disk, disk_bytes = disk_cache_from_args(args)
    return open_segmenter(model=args.model, model_dir=args.model_dir, variant=args.variant,
                          provider=args.provider, cache_dir=disk,
                          use_disk_cache=disk is not None, disk_cache_bytes=disk_bytes,
                          store=store)


def warn(message: str) -> None:
    print(f"sam3-canvas: warning: {message}", file=sys.stderr)


def warn_about_model(fallback_reason: str | None) -> None:
    """What every command that opens a model says: a provider fallback, and several
    onnxruntime wheels installed together (the most common cause of a GPU that is not used)."""
    from ..engine.providers import conflicting_packages
    for message in (fallback_reason, conflicting_packages()):
        if message:
            warn(message)


class Failures:
    """A batch goes on past a bad image; what failed is listed again at the end."""

    def __init__(self):
        self.items: list[tuple[str, str]] = []

    def add(self, what: str, message: str) -> None:
        self.items.append((what, message))
        print(f"sam3-canvas: error: {message}", file=sys.stderr)

    def __len__(self) -> int:
        return len(self.items)

    def summary(self, total: int) -> None:
        if not self.items:
            return
        print(f"sam3-canvas: {len(self.items)} of {total} failed:", file=sys.stderr)
        for what, message in self.items:
            print(f"  {what}: {message}", file=sys.stderr)


def json_safe(value):
    """``value`` with NaN and infinities as None, so the output is valid JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
