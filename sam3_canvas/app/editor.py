"""The state of the image being annotated: its document, the prompt, the candidates.

The GUI renders this and sends it commands; it knows nothing of Qt. Listeners are plain
callables told which part changed ("image", "prompt", "prediction", "candidate", "document",
"label", "saved", "save_error"), so a view repaints only what it shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from ..engine.prediction import Prediction
from ..engine.prompts import BACKGROUND, FOREGROUND, Prompt
from .commands import AddInstance, Command, Compound, RemoveInstance, ReplaceInstance, SetPrompt
from .document import Document, Instance, prompt_source
from .project import Project, SaveError


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
        self._listeners: list[Callable[[str], None]] = []

    # -- observation -------------------------------------------------------------------
    def subscribe(self, listener: Callable[[str], None]) -> None:
        self._listeners.append(listener)

    def _notify(self, what: str) -> None:
        for listener in list(self._listeners):
            listener(what)

    # -- the image ---------------------------------------------------------------------
    def open_image(self, image: Path, size: tuple[int, int], image_key: str = "") -> None:
        self.image = image
        self.doc = self.project.document(image, size, image_key)
        self.prompt = Prompt()
        self.prediction = None
        self.candidate = None
        self._notify("image")

    # -- prompts (undoable) --------------------------------------------------------------
    def cmd_add_point(self, x: float, y: float, background: bool = False) -> Command:
        label = BACKGROUND if background else FOREGROUND
        new = self.prompt.add_point(x, y, label)
        text = f"{'background ' if background else ''}point ({x:.0f}, {y:.0f})"
        return SetPrompt(self, self.prompt, new, text)

    def cmd_set_box(self, x1: float, y1: float, x2: float, y2: float) -> Command:
        box = (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
        return SetPrompt(self, self.prompt, self.prompt.with_box(box), "box")

    def cmd_clear_prompt(self) -> Command | None:
        if self.prompt.is_empty:
            return None
        return SetPrompt(self, self.prompt, Prompt(), "clear prompt")

    def apply_prompt(self, prompt: Prompt) -> None:
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
        label = label or self.label or "object"
        if label not in self.project.labels:
            self.project.labels.add(label)
            self._save_labels()
        mask = self.prediction.mask(self.candidate, exact=True)
        if not mask.any():
            return None
        instance = Instance.from_mask(
            self.doc.next_id(), label, mask,
            score=round(float(self.prediction.ious[self.candidate]), 6),
            source=prompt_source(self.prompt, self.candidate, self.model_name))
        return Compound(f"accept {label}", [AddInstance(self, instance),
                                            SetPrompt(self, self.prompt, Prompt(), "")])

    def cmd_delete(self, instance_id: int) -> Command:
        return RemoveInstance(self, instance_id)

    def cmd_relabel(self, instance_id: int, label: str) -> Command:
        old = self.doc.get(instance_id)
        if label not in self.project.labels:
            self.project.labels.add(label)
            self._save_labels()
        return ReplaceInstance(self, old, old.with_label(label), f"relabel as {label}")

    def cmd_set_hidden(self, instance_id: int, hidden: bool) -> Command:
        old = self.doc.get(instance_id)
        return ReplaceInstance(self, old, old.with_hidden(hidden), "hide" if hidden else "show")

    def document_changed(self) -> None:
        """Autosave after every change; a failed save is reported and retried next time."""
        try:
            self.project.save(self.doc)
            self.last_save_error = None
            self._notify("saved")
        except SaveError as exc:
            self.last_save_error = str(exc)
            self._notify("save_error")
        self._notify("document")

    def _save_labels(self) -> None:
        try:
            self.project.save_labels()
        except SaveError as exc:
            self.last_save_error = str(exc)
            self._notify("save_error")
