"""The hand tools in the window: brush, eraser, polygon, select (outline vertices), refining
the selected instance with clicks, Ctrl/Alt+click with a candidate, clean-ups and order.

The canvas reports mouse input as signals; this controller turns them into ``app.mask_edits``
commands on the window's undo history. Pixel work is ``editing/``'s. While a stroke is painted
the canvas shows a live copy of the mask (``LiveMask``), updated only in the rectangle each
mouse move changed; the document changes once, at release.

What a stroke or a polygon applies to: the selected instance; else the candidate on screen,
which becomes a new instance with the edit (one undo step); else, for the brush and the
polygon, a new instance of the current label.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject

from ..app import mask_edits
from ..app.commands import Command, Compound, SetPrompt
from ..editing.brush import Stroke
from ..editing.polygon import OUTLINE_TOLERANCE, Ring, apply_polygon, outline, reshape_ring
from ..engine.prompts import Prompt
from .canvas import Tool

if TYPE_CHECKING:
    from .main_window import MainWindow

CANDIDATE_TARGET = -2  # the stroke paints the candidate on screen (it becomes an instance)
NEW_TARGET = -3  # the stroke draws a new instance


class MaskTools(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.canvas = window.canvas
        self.stroke: Stroke | None = None
        self.target = -1
        self.refine_request: tuple[int, int] | None = None  # (request, instance id)
        self.combine_request: tuple[int, int, bool] | None = None  # (request, id, subtract)
        self.hover_request = 0
        self._picks: list[int] = []  # instances under the last pick, for cycling
        self._pick_at: tuple[int, int] | None = None
        c = self.canvas
        c.strokePoint.connect(self._stroke_point)
        c.strokeEnded.connect(self._stroke_ended)
        c.polygonClosed.connect(self._polygon_closed)
        c.picked.connect(self._picked)
        c.ringEdited.connect(self._ring_edited)
        c.modifierClicked.connect(self._modifier_clicked)
        c.brushResized.connect(
            lambda r: window.statusBar().showMessage(f"brush radius {r:.0f} px", 2000))

    # -- state -----------------------------------------------------------------------------
    @property
    def editor(self):
        return self.window.editor

    def _ready(self) -> bool:
        return self.editor is not None and self.editor.doc is not None

    def set_tool(self, tool: Tool) -> None:
        self.canvas.set_tool(tool)
        self.window.tool_changed(tool)
        if tool == "select":
            self.show_outline()

    def show_outline(self) -> None:
        """In the select tool, the selected instance's rings with their vertices."""
        if self.canvas.tool != "select" or not self._ready():
            self.canvas.outline.set_rings([])
            return
        iid = self.window.selected_instance
        if iid < 0 or not self.editor.doc.has(iid):
            self.canvas.outline.set_rings([])
            return
        # vertices about 2.5 screen pixels from the true edge at this zoom (at least 1 image
        # pixel): few enough to grab; the pixels of rings left alone never change
        scale = max(self.window.bridge.display_scale, 1e-3)
        tolerance = max(OUTLINE_TOLERANCE, 2.5 / scale)
        self.canvas.outline.set_rings(outline(self.editor.doc.get(iid).mask(), tolerance))

    def _push(self, command: Command | None) -> None:
        self.window.history.push(command)

    def _colour(self, label: str | None) -> tuple[int, int, int]:
        labels = self.window.project.labels
        return labels.get(label).colour if label and label in labels else (255, 255, 255)

    # -- brush and eraser ------------------------------------------------------------------
    def _stroke_point(self, x: float, y: float, first: bool) -> None:
        if not self._ready():
            return
        if first:
            if not self._start_stroke():
                return
        if self.stroke is None:
            return
        rect = self.stroke.to(x, y)
        if rect is not None:
            self.canvas.live.refresh(self.stroke.mask, rect)

    def _start_stroke(self) -> bool:
        editor = self.editor
        erase = self.canvas.tool == "eraser"
        iid = self.window.selected_instance
        width, height = editor.doc.width, editor.doc.height
        if iid >= 0 and editor.doc.has(iid):
            base, label, self.target = editor.doc.get(iid).mask(), editor.doc.get(iid).label, iid
        elif editor.candidate_mask() is not None:
            base, label, self.target = editor.prediction.mask(editor.candidate, exact=True), \
                editor.label, CANDIDATE_TARGET
        elif not erase:
            base, label, self.target = np.zeros((height, width), bool), editor.label, NEW_TARGET
        else:
            self.window.statusBar().showMessage(
                "Nothing to erase: select an instance (or click for a candidate) first", 5000)
            return False
        self.stroke = Stroke(base, self.canvas.brush_radius, erase)
        if self.target >= 0:
            self.window.hide_instance_overlay(self.target)
        if self.target == CANDIDATE_TARGET:
            self.canvas.set_candidate(None)
        self.canvas.live.start(self.stroke.mask, self._colour(label),
                               self.window.bridge.display_scale)
        return True

    def _stroke_ended(self) -> None:
        """The stroke becomes one command; the live mask stays on screen until the edited
        instance's overlay is made (``MainWindow.show_instances`` takes it off)."""
        stroke, self.stroke = self.stroke, None
        if stroke is None or not self._ready():
            self.canvas.live.stop()
            return
        text = "eraser" if stroke.erase else "brush"
        if self.target >= 0:
            command = mask_edits.cmd_set_mask(self.editor, self.target, stroke.mask, text)
            if command is None:
                self.window.show_instances()  # nothing changed: show it again
        else:
            command = self._new_instance(stroke.mask, "brush", text)
        self._push(command)
        if command is None:
            self.canvas.live.stop()
            if self.target == CANDIDATE_TARGET:
                self.window.editor_changed("candidate")

    def _new_instance(self, mask: np.ndarray, tool, text: str) -> Command | None:
        """A new instance from a hand-edited mask; from the candidate, the prompt goes too."""
        add = mask_edits.cmd_new_instance(self.editor, mask, tool)
        if add is None or self.target != CANDIDATE_TARGET:
            return add
        editor = self.editor
        return Compound(f"{text} on the candidate", [
            add, SetPrompt(editor, editor.image, editor.prompt, Prompt(), "")])

    # -- polygons --------------------------------------------------------------------------
    def _polygon_closed(self, points: np.ndarray, subtract: bool) -> None:
        if not self._ready():
            return
        editor = self.editor
        iid = self.window.selected_instance
        if iid >= 0 and editor.doc.has(iid):
            mask = editor.doc.get(iid).mask()
            apply_polygon(mask, points, erase=subtract)
            self._push(mask_edits.cmd_set_mask(
                editor, iid, mask, "subtract a polygon" if subtract else "add a polygon"))
            return
        if subtract:
            self.window.statusBar().showMessage(
                "Select the instance to take the polygon away from", 5000)
            return
        mask = np.zeros((editor.doc.height, editor.doc.width), bool)
        apply_polygon(mask, points)
        self.target = NEW_TARGET
        self._push(mask_edits.cmd_new_instance(editor, mask, "polygon"))

    # -- select and outline ----------------------------------------------------------------
    def _picked(self, x: float, y: float) -> None:
        """The topmost instance under the click; the same spot again: the next one down."""
        if not self._ready():
            return
        doc = self.editor.doc
        px, py = int(x), int(y)
        if not (0 <= px < doc.width and 0 <= py < doc.height):
            return
        spot = (px // 4, py // 4)
        if spot != self._pick_at:
            self._pick_at = spot
            self._picks = [i.id for i in reversed(doc.instances)
                           if not i.hidden and _contains(i, px, py)]
        elif self._picks:
            self._picks = self._picks[1:] + self._picks[:1]
        self.window.select_instance(self._picks[0] if self._picks else -1)

    def _ring_edited(self, ring_index: int, points: np.ndarray) -> None:
        if not self._ready():
            return
        iid = self.window.selected_instance
        rings = self.canvas.outline.rings
        if iid < 0 or not self.editor.doc.has(iid) or ring_index >= len(rings):
            return
        mask = self.editor.doc.get(iid).mask()
        old: Ring = rings[ring_index]
        reshape_ring(mask, old, points)
        command = mask_edits.cmd_set_mask(self.editor, iid, mask, "move outline")
        self._push(command)
        self.show_outline()

    # -- the model on the selected instance ------------------------------------------------
    def refine_click(self, x: float, y: float, background: bool) -> bool:
        """A click while an instance is selected refines it; False when none is."""
        iid = self.window.selected_instance
        if not self._ready() or iid < 0 or not self.editor.doc.has(iid):
            return False
        if self.window.segmenter is None:
            self.window.statusBar().showMessage("No model loaded: cannot refine", 5000)
            return True
        prompt = mask_edits.refine_prompt(self.editor, iid, x, y, background)
        if prompt is None:
            return False
        request = self.window.worker.predict(self.editor.image, prompt)
        self.refine_request = (request, iid)
        self.window.statusBar().showMessage(f"refining #{iid}…", 3000)
        return True

    def _modifier_clicked(self, x: float, y: float, subtract: bool) -> None:
        iid = self.window.selected_instance
        if not self._ready() or iid < 0 or not self.editor.doc.has(iid):
            self.window.statusBar().showMessage(
                "Ctrl+click adds to, Alt+click takes from the selected instance: select one "
                "first", 5000)
            return
        if self.window.segmenter is None:
            return
        request = self.window.worker.predict(self.editor.image, Prompt.click(x, y))
        self.combine_request = (request, iid, subtract)

    def take_prediction(self, request: int, prediction) -> bool:
        """A prediction asked for by this controller becomes its command; False otherwise."""
        if self.refine_request and self.refine_request[0] == request:
            _, iid = self.refine_request
            self.refine_request = None
            self._push(mask_edits.cmd_refine(self.editor, iid, prediction))
            self.show_outline()
            return True
        if self.combine_request and self.combine_request[0] == request:
            _, iid, subtract = self.combine_request
            self.combine_request = None
            mask = prediction.mask(prediction.best_index, exact=True)
            self._push(mask_edits.cmd_combine(self.editor, iid, mask, subtract))
            self.show_outline()
            return True
        return False

    # -- clean-ups (Edit menu) -------------------------------------------------------------
    def on_selected(self, action: str) -> None:
        iid = self.window.selected_instance
        if not self._ready() or iid < 0:
            self.window.statusBar().showMessage("Select an instance first", 4000)
            return
        editor = self.editor
        command = {
            "fill": lambda: mask_edits.cmd_fill_holes(editor, iid),
            "islands": lambda: mask_edits.cmd_remove_islands(
                editor, iid, self.window.settings.min_island_px),
            "overlaps": lambda: mask_edits.cmd_take_free_pixels(editor, iid),
            "front": lambda: mask_edits.cmd_order(editor, iid, front=True),
            "back": lambda: mask_edits.cmd_order(editor, iid, front=False),
        }[action]()
        if command is None:
            self.window.statusBar().showMessage("Nothing to change", 3000)
        self._push(command)
        self.show_outline()


def _contains(instance, x: int, y: int) -> bool:
    from ..document.rle import contains
    return contains(instance.rle, x, y)
