"""Undoable changes, Qt-free. The GUI wraps each in a QUndoCommand and pushes it.

Every command holds values (frozen instances, prompts) and the document it was made on, never
"whatever is open now": undo and redo change that document and save it, whichever image is on
screen. The same command can be redone and undone any number of times and tested without a
window.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..document.annotation import Document, Instance
from ..engine.prompts import Prompt

if TYPE_CHECKING:
    from .editor import Editor


class Command:
    text = ""

    def redo(self) -> None:
        raise NotImplementedError

    def undo(self) -> None:
        raise NotImplementedError


class SetPrompt(Command):
    """Any change of the prompt of one image: a point, a background point, a box, or clearing
    them. The prompt is not saved; on another image it changes nothing."""

    def __init__(self, editor: Editor, image: Path | None, old: Prompt, new: Prompt,
                 text: str):
        self.editor, self.image, self.old, self.new, self.text = editor, image, old, new, text

    def redo(self) -> None:
        self.editor.apply_prompt(self.new, self.image)

    def undo(self) -> None:
        self.editor.apply_prompt(self.old, self.image)


class DocumentCommand(Command):
    """A change of one document, which is saved after every redo and undo."""

    def __init__(self, editor: Editor, doc: Document):
        self.editor, self.doc = editor, doc

    def changed(self) -> None:
        self.editor.document_changed(self.doc)


class AddInstance(DocumentCommand):
    def __init__(self, editor: Editor, doc: Document, instance: Instance,
                 text: str = "add instance"):
        super().__init__(editor, doc)
        self.instance, self.text = instance, text

    def redo(self) -> None:
        self.doc.insert(self.instance)
        self.changed()

    def undo(self) -> None:
        self.doc.remove(self.instance.id)
        self.changed()


class RemoveInstance(DocumentCommand):
    def __init__(self, editor: Editor, doc: Document, instance_id: int):
        super().__init__(editor, doc)
        doc.get(instance_id)  # KeyError now, not when the stack runs it
        self.instance_id = instance_id
        self.removed: Instance | None = None
        self.index = 0
        self.text = f"delete instance {instance_id}"

    def redo(self) -> None:
        self.removed, self.index = self.doc.remove(self.instance_id)
        self.changed()

    def undo(self) -> None:
        if self.removed is not None:
            self.doc.insert(self.removed, self.index)
        self.changed()


class ReplaceInstance(DocumentCommand):
    """Relabel, hide or show: the instance is swapped for an edited copy."""

    def __init__(self, editor: Editor, doc: Document, old: Instance, new: Instance,
                 text: str):
        super().__init__(editor, doc)
        self.old, self.new, self.text = old, new, text

    def redo(self) -> None:
        self.doc.replace(self.new)
        self.changed()

    def undo(self) -> None:
        self.doc.replace(self.old)
        self.changed()


class MoveInstance(DocumentCommand):
    """Bring to front (last drawn, on top) or send to back."""

    def __init__(self, editor: Editor, doc: Document, instance_id: int, index: int, text: str):
        super().__init__(editor, doc)
        self.instance_id, self.index, self.text = instance_id, index, text
        self.old_index = doc.index_of(instance_id)

    def redo(self) -> None:
        self.old_index = self.doc.move(self.instance_id, self.index)
        self.changed()

    def undo(self) -> None:
        self.doc.move(self.instance_id, self.old_index)
        self.changed()


class Compound(Command):
    def __init__(self, text: str, commands: list[Command]):
        self.text, self.commands = text, commands

    def redo(self) -> None:
        for command in self.commands:
            command.redo()

    def undo(self) -> None:
        for command in reversed(self.commands):
            command.undo()
