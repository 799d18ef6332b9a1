"""The model catalogue (models.toml), where packs are installed, and their downloads."""

from .catalogue import Catalogue, Pack, PackFile, Variant, load_catalogue
from .store import ModelStore, open_segmenter

__all__ = ["Catalogue", "ModelStore", "Pack", "PackFile", "Variant", "load_catalogue",
           "open_segmenter"]
