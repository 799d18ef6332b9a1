"""The accepted instances' overlays: made at the view's scale, cached per instance and style,
and made off the GUI thread when there is much to make.

Decoding an instance's full-size RLE and shrinking it costs about a millisecond per megapixel;
200 instances of a 12 MP photo are seconds. Small jobs (a few masks of a small photo: the
selection changed, one instance edited) are made at once; larger ones (opening a crowded
image, zooming) on a task, while the overlays already there stay on screen, and the canvas gets
the new ones in one update when they are ready.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..document.labels import colour_for
from .images import Overlay, mask_overlay

if TYPE_CHECKING:
    from .main_window import MainWindow

SELECTED_ALPHA = 170
SYNC_PIXELS = 6_000_000  # at most this many mask pixels decoded on the GUI thread at once


@dataclass
class Cached:
    instance: object  # the frozen Instance it was made from
    overlay: Overlay | None
    style: tuple
    scale: float


class InstanceOverlays:
    def __init__(self, window: MainWindow):
        self.window = window
        self.cache: dict[int, Cached] = {}
        self.request = 0
        self.building = False

    def clear(self) -> None:
        self.cache.clear()
        self.request += 1

    def _style(self, inst) -> tuple:
        w = self.window
        s = w.settings
        selected = inst.id == w.selected_instance
        if s.colour_by == "instance":
            colour = colour_for(inst.id * 7 + 3)
        else:
            labels = w.project.labels
            colour = labels.get(inst.label).colour if inst.label in labels else (128,) * 3
        alpha = SELECTED_ALPHA if selected else (0 if s.outlines_only else s.overlay_opacity)
        return colour, alpha, selected

    def items(self) -> list[tuple]:
        """(key, id, overlay) of every instance to show now; what is missing or stale is
        made (at once when small, else on a task that shows it when done)."""
        w = self.window
        if w.editor is None or w.editor.doc is None or w.hide_all:
            return []
        doc = w.editor.doc
        scale = min(w.bridge.display_scale, 1.0)
        items, wanted = [], []
        for inst in doc.instances:
            if inst.hidden:
                continue
            style = self._style(inst)
            cached = self.cache.get(inst.id)
            fresh = cached is not None and cached.instance is inst and cached.style == style \
                and cached.scale >= scale * 0.8
            if not fresh:
                wanted.append((inst, style))
            if cached is not None and cached.instance is inst:  # stale style or scale: shown
                items.append((cached.overlay, inst.id, cached.overlay))  # until the new one
        if wanted:
            if len(wanted) * doc.width * doc.height <= SYNC_PIXELS:
                for inst, style in wanted:
                    self.cache[inst.id] = _make(inst, style, scale)
                return self.items()
            self._build(wanted, scale)
        return items

    def _build(self, wanted: list[tuple], scale: float) -> None:
        self.request += 1
        request = self.request
        self.building = True

        def work(task):
            made = []
            for inst, style in wanted:
                task.check()
                made.append(_make(inst, style, scale))
            return made

        def done(made, error):
            if request != self.request:
                return  # a newer build (another image, zoom, style) replaces this one
            self.building = False
            for cached in made or []:
                self.cache[cached.instance.id] = cached
            self.window.show_instances()

        self.window.tasks.start("overlays", work, done)


def _make(inst, style: tuple, scale: float) -> Cached:
    colour, alpha, _ = style
    return Cached(inst, mask_overlay(inst.mask(), colour, alpha=alpha, scale=scale), style,
                  scale)
