"""models.toml as typed, frozen records."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from ..engine.errors import ModelNotFoundError
from ..resources import resource_path

LAYOUTS = ("tracker", "text", "text-a2")


@dataclass(frozen=True)
class PackFile:
    path: str  # path inside the hub repo
    approx_mb: float
    role: str  # encoder, decoder, data, archive, image_encoder, language_encoder, tokenizer
    optional: bool = False  # may be absent from the repo (e.g. a sidecar for small graphs)
    confirmed: bool = True  # False where the name could not be checked against the repo

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass(frozen=True)
class Variant:
    name: str
    files: tuple[PackFile, ...]
    note: str = ""
    archive: bool = False

    @property
    def approx_mb(self) -> float:
        return sum(f.approx_mb for f in self.files)


@dataclass(frozen=True)
class Pack:
    name: str
    title: str
    repo: str
    revision: str
    layout: str
    default_variant: str
    variants: dict[str, Variant]
    license: str = ""
    homepage: str = ""
    how: str = ""  # for packs that are made, not downloaded: how to make them
    #: the variant to use on each provider, chosen by measurement (docs/variants.md), and why
    defaults: dict[str, str] = field(default_factory=dict)
    default_reasons: dict[str, str] = field(default_factory=dict)

    def default_for(self, provider: str | None) -> str:
        """The variant to use on ``provider`` (its own default, else the pack's)."""
        return self.defaults.get((provider or "cpu").lower(), self.default_variant)

    def default_reason(self, provider: str | None) -> str:
        return self.default_reasons.get((provider or "cpu").lower(), "")

    def variant(self, name: str | None) -> Variant:
        if not self.variants and self.how:
            raise ModelNotFoundError(f"{self.name}: {self.how}")
        key = name or self.default_variant
        if key not in self.variants:
            raise ModelNotFoundError(
                f"pack {self.name!r} has no variant {key!r} (variants: {', '.join(self.variants)})")
        return self.variants[key]


class Catalogue:
    def __init__(self, packs: dict[str, Pack]):
        self.packs = packs

    def __iter__(self):
        return iter(self.packs.values())

    def get(self, name: str) -> Pack:
        if name not in self.packs:
            raise ModelNotFoundError(
                f"unknown model {name!r}: known models are {', '.join(self.packs)} "
                "(see `sam3-canvas models list`)")
        return self.packs[name]


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    path = Path(path) if path else resource_path("models.toml")
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    packs = {}
    for name, raw in data.get("packs", {}).items():
        variants = {}
        for vname, vraw in raw.get("variants", {}).items():
            files = tuple(PackFile(path=f["path"], approx_mb=float(f.get("approx_mb", 0)),
                                   role=f.get("role", "data"), optional=bool(f.get("optional")),
                                   confirmed=bool(f.get("confirmed", True)))
                          for f in vraw.get("files", ()))
            variants[vname] = Variant(vname, files, vraw.get("note", ""),
                                      bool(vraw.get("archive", False)))
        layout = raw.get("layout", "tracker")
        if layout not in LAYOUTS:
            raise ValueError(f"{path}: pack {name!r} has unknown layout {layout!r}")
        packs[name] = Pack(name=name, title=raw.get("title", name), repo=raw["repo"],
                           revision=raw.get("revision", "main"), layout=layout,
                           default_variant=raw.get("default_variant", next(iter(variants), "")),
                           variants=variants, license=raw.get("license", ""),
                           homepage=raw.get("homepage", ""), how=raw.get("how", ""),
                           defaults={str(k): str(v) for k, v in
                                     raw.get("defaults", {}).items()},
                           default_reasons={str(k): str(v) for k, v in
                                            raw.get("default_reasons", {}).items()})
        for provider, chosen in packs[name].defaults.items():
            if chosen not in variants:
                raise ValueError(f"{path}: pack {name!r} defaults {provider} to an unknown "
                                 f"variant {chosen!r}")
    return Catalogue(packs)
