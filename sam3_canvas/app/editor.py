"""The state of the image being annotated: its document, the prompt, the candidates.

The GUI renders this and sends it commands; it knows nothing of Qt. Listeners are plain
callables told which part changed ("image", "prompt", "prediction", "candidate", "document",
"label", "saved", "save_error", "closed"), so a view repaints only what it shows. Commands carry
the document they were made on; ``changed_doc`` says which document the last "document" event
is about (it may be another image's, after an undo in that image's history).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np

from ..document.annotation import Document, Instance, prompt_source
from ..engine.prediction import Prediction
from ..engine.prompts import BACKGROUND, FOREGROUND, Prompt
from .autosave import Autosaver
from .commands import AddInstance, Command, Compound, RemoveInstance, ReplaceInstance, SetPrompt
from .project import Project, SaveError

#: which part of the editor's state changed (what a listener is told)
EditorEvent = Literal["image", "prompt", "prediction", "candidate", "document", "label",
                      "saved", "save_error", "closed"]


class Editor:
    def __init__(self, project: Project):
        self.project = project
        self.image: Path | None = None
        self.doc: Document | None = None
        self.prompt = Prompt()
        self.prediction: Prediction | None = None
        self.candidate: int | None = None
        self.label: str | None = project.labels.names[0] if len(project.labels) else None
        self.model_name = ""
        self.last_save_error: str | None = None
        self.changed_doc: Document | None = None
        #: new instances (accepted, drawn, refined) take only pixels no other instance has
        self.take_free_pixels = False
        #: writes documents on its own thread when set (the window); None: saved at once
        self.saver: Autosaver | None = None
        self._listeners: list[Callable[[EditorEvent], None]] = []

    # -- observation -------------------------------------------------------------------
    def subscribe(self, listener: Callable[[EditorEvent], None]) -> None:
        self._listeners.append(listener)

    def _notify(self, what: EditorEvent) -> None:
        for listener in list(self._listeners):
            listener(what)

    # -- the image ---------------------------------------------------------------------
    def open_image(self, image: Path, size: tuple[int, int], image_key: str = "") -> None:
        """Make ``image`` current. An annotation file that cannot be read is moved aside and
        reported in ``project.warnings``; if even that fails, :class:`DocumentError` is raised
        and no image is current."""
        self.close_image()
        doc = self.project.document(image, size, image_key, move_corrupt=True)
        self.image, self.doc = image, doc
        self._notify("image")

    def close_image(self) -> None:
        """No image is current (it failed to open, or the folder is closing)."""
        self.image = None
        self.doc = None
        self.prompt = Prompt()
        self.prediction = None
        self.candidate = None
        self._notify("closed")

    # -- prompts (undoable) --------------------------------------------------------------
    def cmd_add_point(self, x: float, y: float, background: bool = False) -> Command | None:
        if self.doc is None:
            return None
        label = BACKGROUND if background else FOREGROUND
        new = self.prompt.add_point(x, y, label)
        text = f"{'background ' if background else ''}point ({x:.0f}, {y:.0f})"
        return SetPrompt(self, self.image, self.prompt, new, text)

    def cmd_set_box(self, x1: float, y1: float, x2: float, y2: float) -> Command | None:
        if self.doc is None:
            return None
        box = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
        return SetPrompt(self, self.image, self.prompt, self.prompt.with_box(box), "box")

    def cmd_clear_prompt(self) -> Command | None:
        if self.prompt.is_empty:
            return None
        return SetPrompt(self, self.image, self.prompt, Prompt(), "clear prompt")

    def apply_prompt(self, prompt: Prompt, image: Path | None = None) -> None:
        if image is not None and image != self.image:
            return  # a prompt of another image: not shown, not kept
        self.prompt = prompt
        if self.prediction is not None and self.prediction.prompt != prompt:
            self.prediction = None
            self.candidate = None
        self._notify("prompt")

    # -- predictions (derived, not undoable) ---------------------------------------------
    def set_prediction(self, prediction: Prediction) -> bool:
        """Take a result from the worker; False (dropped) when the prompt moved on."""
        if prediction.prompt != self.prompt:
            return False
        self.prediction = prediction
        self.candidate = prediction.best_index
        self._notify("prediction")
        return True

    def select_candidate(self, index: int) -> None:
        if self.prediction is not None and 0 <= index < len(self.prediction.ious):
            self.candidate = index
            self._notify("candidate")

    def candidate_mask(self) -> np.ndarray | None:
        if self.prediction is None or self.candidate is None:
            return None
        return self.prediction.mask(self.candidate)

    # -- the document (undoable) ---------------------------------------------------------
    def set_label(self, name: str) -> None:
        is_new = name.strip() not in self.project.labels
        cls = self.project.labels.add(name)
        if is_new:
            self._save_labels()
        self.label = cls.name
        self._notify("label")

    def cmd_accept(self, label: str | None = None) -> Command | None:
        """Accept the shown candidate as an instance and clear the prompt."""
        if self.prediction is None or self.candidate is None or self.doc is None:
            return None
        label = self.use_label(label)
        mask = self.free_pixels(self.prediction.mask(self.candidate, exact=True))
        if not mask.any():
            return None
        instance = Instance.from_mask(
            self.doc.next_id(), label, mask,
            score=round(float(self.prediction.ious[self.candidate]), 6),
            source=prompt_source(self.prompt, self.candidate, self.model_name))
        return Compound(f"accept {label}", [
            AddInstance(self, self.doc, instance),
            SetPrompt(self, self.image, self.prompt, Prompt(), "")])

    def use_label(self, label: str | None = None) -> str:
        """The label for a new instance: the one given, else the current one, added to the
        project's classes if it is new."""
        label = label or self.label or "object"
        if label not in self.project.labels:
            self.project.labels.add(label)
            self._save_labels()
        return label

    def free_pixels(self, mask: np.ndarray, instance_id: int | None = None) -> np.ndarray:
        """``mask`` without the pixels of the other visible instances, when that option is
        on; unchanged otherwise."""
        if not self.take_free_pixels or self.doc is None:
            return mask
        from ..editing.cleanup import without
        return without(mask, [i.mask() for i in self.doc.instances
                              if i.id != instance_id and not i.hidden])

    def cmd_delete(self, instance_id: int) -> Command | None:
        if self.doc is None or not self.doc.has(instance_id):
            return None
        return RemoveInstance(self, self.doc, instance_id)

    def cmd_relabel(self, instance_id: int, label: str) -> Command | None:
        if self.doc is None or not self.doc.has(instance_id):
            return None
        old = self.doc.get(instance_id)
        if label not in self.project.labels:
            self.project.labels.add(label)
            self._save_labels()
        return ReplaceInstance(self, self.doc, old, old.with_label(label),
                               f"relabel as {label}")

    def cmd_set_hidden(self, instance_id: int, hidden: bool) -> Command | None:
        if self.doc is None or not self.doc.has(instance_id):
            return None
        old = self.doc.get(instance_id)
        return ReplaceInstance(self, self.doc, old, old.with_hidden(hidden),
                               "hide" if hidden else "show")

    def document_changed(self, doc: Document | None = None) -> None:
        """Autosave ``doc`` (by default the current one) after every change; a failed save is
        reported, and the document is saved again with its next change."""
        doc = doc if doc is not None else self.doc
        if doc is None:
            return
        self.changed_doc = doc
        if self.saver is not None:
            self.saver.save(doc)  # saved() follows from the writer, through the window
            self._notify("document")
            return
        try:
            self.project.save(doc)
            self.saved(doc.image_file, None)
        except SaveError as exc:
            self.saved(doc.image_file, str(exc))
        self._notify("document")

    def saved(self, image_file: str, error: str | None) -> None:
        """A save finished: ``error`` is None, or the line that says why it failed."""
        if error is None:
            self.last_save_error = None
            self._notify("saved")
        else:
            self.last_save_error = f"{error}; the change is kept in memory and saved again " \
                                   "with the next one"
            self._notify("save_error")

    def _save_labels(self) -> None:
        try:
            self.project.save_labels()
        except SaveError as exc:
            self.last_save_error = str(exc)
            self._notify("save_error")
