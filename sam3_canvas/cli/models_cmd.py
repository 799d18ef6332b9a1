"""``sam3-canvas models``: the catalogue, downloads, verification and install paths."""

from __future__ import annotations

import sys

from ..models.catalogue import load_catalogue
from ..models.store import ModelStore


def add_parser(sub, common) -> None:
    p = sub.add_parser("models", parents=[common], help="list, download and verify model packs",
                       description="The model packs in models.toml and where they are "
                                   "installed. Downloads come from Hugging Face.")
    p.add_argument("--models-dir", metavar="DIR",
                   help="where packs are installed (default: $SAM3_CANVAS_MODELS or the user "
                        "data folder)")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="the catalogue, with what is installed")
    for name, text in (("download", "download, verify and install a pack"),
                       ("verify", "check an installed pack"),
                       ("path", "print the folder a pack is (or would be) installed in")):
        a = actions.add_parser(name, help=text)
        a.add_argument("name")
        a.add_argument("--variant")
        if name == "download":
            a.add_argument("--endpoint", help="hub address (default $HF_ENDPOINT or the hub)")
    p.set_defaults(run=run)


def run(args) -> int:
    store = ModelStore(args.models_dir, load_catalogue())
    if args.action == "list":
        return _list(store)
    if args.action == "path":
        folder = store.pack_dir(args.name, args.variant)
        print(folder)
        if not store.is_installed(args.name, args.variant):
            print("sam3-canvas: note: not installed yet", file=sys.stderr)
        return 0
    if args.action == "download":
        from ..models.download import download_pack
        folder = download_pack(store, args.name, args.variant, endpoint=args.endpoint)
        print(f"installed {args.name} in {folder}")
        return 0
    if args.action == "verify":
        from ..models.download import verify_installed
        from .common import warn_about_model
        for line in verify_installed(store, args.name, args.variant):
            print(line)
        warn_about_model(None)  # it opened the graphs: say if two onnxruntime wheels clash
        return 0
    return 2


def _list(store: ModelStore) -> int:
    print(f"models folder: {store.root}")
    for pack in store.catalogue:
        print(f"\n{pack.name}  [{pack.layout}]  {pack.title}")
        print(f"  from https://huggingface.co/{pack.repo} @ {pack.revision}")
        if pack.how:
            print(f"  {pack.how}")
        if pack.defaults:
            print("  default by provider: " + ", ".join(f"{provider} {name}" for provider, name
                                                       in pack.defaults.items()))
        for variant in pack.variants.values():
            mark = "installed" if store.is_installed(pack.name, variant.name) else ""
            default = " (default)" if variant.name == pack.default_variant else ""
            size = f"~{variant.approx_mb:,.0f} MB"
            print(f"  {variant.name + default:16s} {size:>11s}  {mark:9s}  {variant.note}")
    return 0
