"""Undoable changes of an instance's mask: hand edits, clean-ups, refining with the model.

Each function builds a command on the editor's current document, or returns None when there is
nothing to do (no such instance, nothing would change). The pixel work is ``editing/``'s; here
it becomes a value an undo stack can hold (``ReplaceInstance`` of frozen instances). A mask
erased to nothing removes its instance, in the same single step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..document.annotation import Instance, prompt_source
from ..document.records import InstanceSource, ManualTool
from ..editing.cleanup import combine, fill_holes, remove_islands, without
from ..engine.prediction import Prediction
from ..engine.prompts import BACKGROUND, FOREGROUND, Prompt
from .commands import AddInstance, Command, MoveInstance, RemoveInstance, ReplaceInstance

if TYPE_CHECKING:
    from .editor import Editor


def cmd_set_mask(editor: Editor, instance_id: int, mask: np.ndarray, text: str,
                 source: InstanceSource | None = None,
                 score: float | None = None) -> Command | None:
    """Instance ``instance_id`` gets ``mask`` (one step); removed when ``mask`` is empty."""
    doc = editor.doc
    if doc is None or not doc.has(instance_id):
        return None
    old = doc.get(instance_id)
    if not mask.any():
        command = RemoveInstance(editor, doc, instance_id)
        command.text = f"{text} (nothing left: instance {instance_id} removed)"
        return command
    if source is None and np.array_equal(mask, old.mask()):
        return None
    return ReplaceInstance(editor, doc, old, old.with_mask(mask, source, score), text)


def cmd_new_instance(editor: Editor, mask: np.ndarray, tool: ManualTool,
                     label: str | None = None) -> Command | None:
    """A new instance drawn by hand (brush or polygon) with the current label."""
    doc = editor.doc
    if doc is None:
        return None
    mask = editor.free_pixels(mask)
    if not mask.any():
        return None
    label = editor.use_label(label)
    instance = Instance.from_mask(doc.next_id(), label, mask,
                                  source={"kind": "manual", "tool": tool})
    return AddInstance(editor, doc, instance, f"draw {label} ({tool})")


def cmd_fill_holes(editor: Editor, instance_id: int) -> Command | None:
    mask = _mask(editor, instance_id)
    return None if mask is None else cmd_set_mask(editor, instance_id, fill_holes(mask),
                                                  "fill holes")


def cmd_remove_islands(editor: Editor, instance_id: int, min_pixels: int) -> Command | None:
    mask = _mask(editor, instance_id)
    if mask is None:
        return None
    return cmd_set_mask(editor, instance_id, remove_islands(mask, min_pixels),
                        f"remove parts under {min_pixels} px")


def cmd_take_free_pixels(editor: Editor, instance_id: int) -> Command | None:
    """Leave out every pixel that an instance drawn above this one has."""
    mask = _mask(editor, instance_id)
    if mask is None or editor.doc is None:
        return None
    order = [i.id for i in editor.doc.instances]
    above = [i.mask() for i in editor.doc.instances[order.index(instance_id) + 1:]
             if not i.hidden]
    return cmd_set_mask(editor, instance_id, without(mask, above), "remove overlaps")


def cmd_order(editor: Editor, instance_id: int, front: bool) -> Command | None:
    doc = editor.doc
    if doc is None or not doc.has(instance_id):
        return None
    index = len(doc.instances) - 1 if front else 0
    if doc.index_of(instance_id) == index:
        return None
    return MoveInstance(editor, doc, instance_id, index,
                        "bring to front" if front else "send to back")


def cmd_combine(editor: Editor, instance_id: int, other: np.ndarray,
                subtract: bool) -> Command | None:
    """The selected instance with a candidate added (Ctrl+click) or taken away (Alt+click)."""
    mask = _mask(editor, instance_id)
    if mask is None:
        return None
    return cmd_set_mask(editor, instance_id, combine(mask, other, subtract),
                        "subtract the candidate" if subtract else "add the candidate")


# -- refining with the model ----------------------------------------------------------------
def instance_prompt(instance: Instance) -> Prompt:
    """The prompt an instance was made from; for one not made from clicks (imported, drawn,
    found by name), its bounding box, which the decoder turns back into about the same mask."""
    source = instance.source
    if source.get("kind") == "prompt":
        box = source.get("box")
        return Prompt(tuple((float(x), float(y)) for x, y in source.get("points", [])),
                      tuple(int(v) for v in source.get("labels", [])),
                      tuple(float(v) for v in box) if box else None)  # type: ignore[arg-type]
    x, y, w, h = instance.bbox
    return Prompt.from_box(x, y, x + w, y + h)


def refine_prompt(editor: Editor, instance_id: int, x: float, y: float,
                  background: bool) -> Prompt | None:
    """The instance's prompt with one more click (shift-click: a background point)."""
    if editor.doc is None or not editor.doc.has(instance_id):
        return None
    base = instance_prompt(editor.doc.get(instance_id))
    return base.add_point(x, y, BACKGROUND if background else FOREGROUND)


def cmd_refine(editor: Editor, instance_id: int, prediction: Prediction) -> Command | None:
    """The instance replaced by the best candidate of its refined prompt (one step); its
    source becomes that prompt, so the next click refines from there."""
    if editor.doc is None or not editor.doc.has(instance_id):
        return None
    best = prediction.best_index
    mask = editor.free_pixels(prediction.mask(best, exact=True), instance_id)
    return cmd_set_mask(editor, instance_id, mask, "refine with a click",
                        source=prompt_source(prediction.prompt, best, editor.model_name),
                        score=round(float(prediction.ious[best]), 6))


def _mask(editor: Editor, instance_id: int) -> np.ndarray | None:
    if editor.doc is None or not editor.doc.has(instance_id):
        return None
    return editor.doc.get(instance_id).mask()
