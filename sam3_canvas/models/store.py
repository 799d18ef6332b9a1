"""Where model packs live on disk, and opening an installed pack as a segmenter."""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs

from ..engine.errors import ModelNotFoundError
from .catalogue import Catalogue, Pack, load_catalogue

MANIFEST = "sam3-canvas-manifest.json"


def default_models_root() -> Path:
    """``$SAM3_CANVAS_MODELS`` or the platform's user data folder (never the package)."""
    env = os.environ.get("SAM3_CANVAS_MODELS")
    if env:
        return Path(env)
    return platformdirs.user_data_path("sam3-canvas", appauthor=False) / "models"


def default_cache_dir() -> Path:
    env = os.environ.get("SAM3_CANVAS_CACHE")
    if env:
        return Path(env)
    return platformdirs.user_cache_path("sam3-canvas", appauthor=False) / "embeddings"


class ModelStore:
    """Installed packs under ``root/<pack>/<variant>/``, each with a manifest when downloaded."""

    def __init__(self, root: str | os.PathLike | None = None, catalogue: Catalogue | None = None):
        self.root = Path(root) if root else default_models_root()
        self.catalogue = catalogue or load_catalogue()

    def pack_dir(self, name: str, variant: str | None = None) -> Path:
        pack = self.catalogue.get(name)
        return self.root / pack.name / pack.variant(variant).name

    def is_installed(self, name: str, variant: str | None = None) -> bool:
        pack = self.catalogue.get(name)
        folder = self.pack_dir(name, variant)
        return folder.is_dir() and all(
            (folder / f.path).is_file() for f in pack.variant(variant).files
            if not f.optional and f.role != "archive")

    def chosen_variant(self, name: str, provider: str | None = None) -> str:
        """The variant to run when the user chose none: the pack's default for the provider
        (measured, docs/variants.md) if installed, else the first one installed, else that
        default (which `require` then says how to download)."""
        pack = self.catalogue.get(name)
        preferred = pack.default_for(provider)
        installed = self.installed_variants(name) if pack.variants else []
        if preferred in installed or not installed:
            return preferred
        return pack.default_variant if pack.default_variant in installed else installed[0]

    def installed_variants(self, name: str) -> list[str]:
        pack = self.catalogue.get(name)
        return [v for v in pack.variants if self.is_installed(name, v)]

    def manifest(self, name: str, variant: str | None = None) -> dict | None:
        path = self.pack_dir(name, variant) / MANIFEST
        if not path.is_file():
            return None
        return json.loads(path.read_text())

    def require(self, name: str, variant: str | None = None) -> tuple[Pack, Path]:
        pack = self.catalogue.get(name)
        chosen = pack.variant(variant)
        folder = self.pack_dir(name, chosen.name)
        if not self.is_installed(name, chosen.name):
            raise ModelNotFoundError(
                f"model {name} ({chosen.name}) is not installed in {folder}: run `sam3-canvas "
                f"models download {name} --variant {chosen.name}`, or put the files there by hand")
        return pack, folder


def text_pack_folder(store: ModelStore, model: str | None, variant: str | None) -> Path:
    """The folder of a catalogue text pack (downloaded if needed)."""
    pack, folder = store.require(model or "sam3-text-int8", variant)
    if pack.layout == "tracker":
        raise ModelNotFoundError(f"{pack.name} is the click/box tracker; class names need "
                                 "a text pack (sam3-canvas models list)")
    return folder


def open_segmenter(model: str | None = None, model_dir: str | os.PathLike | None = None,
                   variant: str | None = None, provider: str = "cpu",
                   cache_dir: str | os.PathLike | None = None, use_disk_cache: bool = True,
                   cache_bytes: int | None = None, store: ModelStore | None = None,
                   disk_cache_bytes: int | None = None, **kwargs):
    """A :class:`~sam3_canvas.engine.Segmenter` from a catalogue name or a folder of graphs;
    the disk cache (``cache_dir`` or the default folder) is bounded to ``disk_cache_bytes``
    (default 2 GiB; 0 turns it off, as ``use_disk_cache=False`` does)."""
    from ..engine.cache import DEFAULT_DISK_CACHE_BYTES
    from ..engine.segmenter import DEFAULT_CACHE_BYTES, Segmenter

    if model_dir is None:
        store = store or ModelStore()
        name = model or "sam3-tracker"
        variant = variant or store.chosen_variant(name, provider)
        pack, folder = store.require(name, variant)
        if pack.layout != "tracker":
            raise ModelNotFoundError(
                f"{name} is a text-path pack: it finds objects by class name "
                "(`sam3-canvas detect`); clicks and boxes need sam3-tracker")
        model_dir = folder
        variant = pack.variant(variant).name
    if disk_cache_bytes is None:
        disk_cache_bytes = DEFAULT_DISK_CACHE_BYTES
    disk = (cache_dir or default_cache_dir()) if use_disk_cache and disk_cache_bytes > 0 else None
    return Segmenter.from_dir(model_dir, variant=variant, provider=provider, cache_dir=disk,
                              cache_bytes=cache_bytes or DEFAULT_CACHE_BYTES,
                              disk_cache_bytes=disk_cache_bytes, **kwargs)
