"""Label classes with stable colours, from a classes file or added on the fly."""

from __future__ import annotations

import colorsys
import json
from dataclasses import dataclass
from pathlib import Path

#: names that classes files from other tools use for "no class"; never offered as labels
IGNORED_NAMES = {"__ignore__", "_background_", "background", "__background__"}


def colour_for(index: int) -> tuple[int, int, int]:
    """Distinct, stable colours: golden-angle hues at two lightness levels."""
    hue = (index * 0.618033988749895) % 1.0
    lightness = 0.5 if index % 2 == 0 else 0.62
    r, g, b = colorsys.hls_to_rgb(hue, lightness, 0.85)
    return int(r * 255), int(g * 255), int(b * 255)


@dataclass(frozen=True)
class LabelClass:
    name: str
    colour: tuple[int, int, int]


class LabelSet:
    """An ordered list of classes; index + 1 is the class id in exported label maps."""

    def __init__(self, names: list[str] | None = None):
        self._classes: list[LabelClass] = []
        for name in names or []:
            self.add(name)

    def __iter__(self):
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)

    def __contains__(self, name: str) -> bool:
        return any(c.name == name for c in self._classes)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self._classes]

    def get(self, name: str) -> LabelClass:
        for c in self._classes:
            if c.name == name:
                return c
        raise KeyError(name)

    def add(self, name: str, colour: tuple[int, int, int] | None = None) -> LabelClass:
        name = name.strip()
        if not name:
            raise ValueError("a label needs a name")
        if name in self:
            return self.get(name)
        rgb = (int(colour[0]), int(colour[1]), int(colour[2])) if colour else \
            colour_for(len(self._classes))
        cls = LabelClass(name, rgb)
        self._classes.append(cls)
        return cls

    def rename(self, old: str, new: str) -> None:
        """``old`` becomes ``new`` in place (same colour, same class id); when ``new`` is
        already a class, ``old`` is merged into it and removed."""
        new = new.strip()
        if not new:
            raise ValueError("a label needs a name")
        index = self.names.index(old)
        if new in self and new != old:
            del self._classes[index]
        else:
            self._classes[index] = LabelClass(new, self._classes[index].colour)

    def recolour(self, name: str, colour: tuple[int, int, int]) -> None:
        index = self.names.index(name)
        self._classes[index] = LabelClass(name, (int(colour[0]), int(colour[1]),
                                                 int(colour[2])))

    def remove(self, name: str) -> None:
        del self._classes[self.names.index(name)]

    def class_id(self, name: str) -> int:
        """1-based id (0 is background in label maps)."""
        return self.names.index(name) + 1

    @classmethod
    def from_classes_file(cls, path: str | Path) -> LabelSet:
        """One class per line (labelme's labels.txt, YOLO's names); ignore-markers skipped."""
        names = []
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            name = line.strip()
            if name and not name.startswith("#") and name.lower() not in IGNORED_NAMES:
                names.append(name)
        return cls(names)

    def to_json(self) -> list[dict]:
        return [{"name": c.name, "colour": list(c.colour)} for c in self._classes]

    @classmethod
    def from_json(cls, data: list[dict]) -> LabelSet:
        labels = cls()
        for item in data:
            labels.add(item["name"], tuple(item.get("colour") or ()) or None)
        return labels

    def dumps(self) -> str:
        return json.dumps({"labels": self.to_json()}, indent=2)
