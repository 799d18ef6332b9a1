"""The click/box prompt: what the user asked for, in original-image pixels."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import PromptError

FOREGROUND = 1
BACKGROUND = 0


@dataclass(frozen=True)
class Prompt:
    """Points (with labels 1 = object, 0 = not the object) and at most one box.

    Coordinates are in the original image's pixels, x to the right and y down, as the user
    clicked them; the engine maps them to model space. Frozen so that a prompt can key a cache
    and travel between threads without copies.
    """

    points: tuple[tuple[float, float], ...] = ()
    labels: tuple[int, ...] = ()
    box: tuple[float, float, float, float] | None = None

    def __post_init__(self) -> None:
        if len(self.points) != len(self.labels):
            raise PromptError(f"{len(self.points)} points but {len(self.labels)} labels")
        for label in self.labels:
            if label not in (FOREGROUND, BACKGROUND):
                raise PromptError(f"point label must be 1 (object) or 0 (background), got {label}")
        values = [v for point in self.points for v in point] + list(self.box or ())
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in values):
            raise PromptError(f"prompt coordinates must be finite numbers, got points "
                              f"{list(self.points)} and box {self.box}")

    @classmethod
    def click(cls, x: float, y: float) -> Prompt:
        return cls(points=((float(x), float(y)),), labels=(FOREGROUND,))

    @classmethod
    def from_box(cls, x1: float, y1: float, x2: float, y2: float) -> Prompt:
        return cls(box=(float(x1), float(y1), float(x2), float(y2)))

    def add_point(self, x: float, y: float, label: int = FOREGROUND) -> Prompt:
        return Prompt(self.points + ((float(x), float(y)),), self.labels + (int(label),), self.box)

    def with_box(self, box: tuple[float, float, float, float] | None) -> Prompt:
        if box is None:
            return Prompt(self.points, self.labels, None)
        x1, y1, x2, y2 = (float(v) for v in box)
        return Prompt(self.points, self.labels, (x1, y1, x2, y2))

    @property
    def is_empty(self) -> bool:
        return not self.points and self.box is None

    @property
    def has_foreground(self) -> bool:
        return FOREGROUND in self.labels or self.box is not None

    def validate(self, width: int, height: int) -> None:
        """Raise :class:`PromptError` unless every coordinate lies on the image."""
        if self.is_empty:
            raise PromptError("no prompt: give at least one point or a box")
        for (x, y), label in zip(self.points, self.labels):
            kind = "point" if label == FOREGROUND else "background point"
            if not (0 <= x < width and 0 <= y < height):
                raise PromptError(
                    f"{kind} ({x:g}, {y:g}) is outside the {width} x {height} image"
                )
        if self.box is not None:
            x1, y1, x2, y2 = self.box
            if x2 <= x1 or y2 <= y1:
                raise PromptError(
                    f"box ({x1:g}, {y1:g}, {x2:g}, {y2:g}) is empty or inverted: "
                    "give X1,Y1,X2,Y2 with X2 > X1 and Y2 > Y1"
                )
            if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
                raise PromptError(
                    f"box ({x1:g}, {y1:g}, {x2:g}, {y2:g}) reaches outside the "
                    f"{width} x {height} image"
                )
