"""Files that ship with the app (models.toml, sample images, the tokenizer vocabulary).

In a wheel they live in ``sam3_canvas/_data``; in a source checkout (editable install) they
are at the repository root, where the design card puts them.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CANDIDATES = (_PACKAGE / "_data", _PACKAGE.parent)


def resource_path(relative: str) -> Path:
    """The path of a shipped file, e.g. ``resource_path("models.toml")``."""
    for root in _CANDIDATES:
        path = root / relative
        if path.exists():
            return path
    raise FileNotFoundError(f"shipped resource {relative!r} is missing from this installation")
