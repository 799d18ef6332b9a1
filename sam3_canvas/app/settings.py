"""The user's choices, Qt-free; the GUI persists them with QSettings."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass
class Settings:
    model: str = "sam3-tracker"  # a catalogue pack ...
    variant: str = ""  # ... and its variant ("" = the pack's default)
    model_dir: str = ""  # or a folder of graphs on disk (wins over model when set)
    provider: str = "cpu"
    cache_mb: int = 1024  # memory budget of the embedding cache
    disk_cache: bool = True
    disk_cache_mb: int = 2048  # bound of the disk cache (least recently used out first)
    prefetch: int = 2  # images encoded ahead of the one on screen
    max_megapixels: float = 200.0  # larger images are refused before decoding
    text_model: str = "sam3-text-int8"  # the pack for class names ...
    text_model_dir: str = ""  # ... or its folder on disk
    # the canvas
    overlay_opacity: int = 90  # 0..255, the fill of accepted instances
    outlines_only: bool = False
    colour_by: str = "label"  # or "instance": every instance its own colour
    hover_preview: bool = False  # the mask under the resting cursor, before any click
    # the hand tools
    brush_radius: float = 8.0  # image pixels
    take_free_pixels: bool = False  # new instances leave out pixels others have
    min_island_px: int = 50  # Edit > Remove small parts

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_mapping(cls, values: dict) -> Settings:
        out = cls()
        for f in fields(cls):
            if f.name in values and values[f.name] is not None:
                raw = values[f.name]
                try:
                    if f.type in ("int", int):
                        raw = int(raw)
                    elif f.type in ("float", float):
                        raw = float(raw)
                    elif f.type in ("bool", bool):
                        raw = raw in (True, "true", "1", 1)
                    else:
                        raw = str(raw)
                except (TypeError, ValueError):
                    continue  # a damaged saved value: the default stands
                setattr(out, f.name, raw)
        return out

    def describe_model(self) -> str:
        if self.model_dir:
            return self.model_dir
        return f"{self.model} ({self.variant or 'default'})"
