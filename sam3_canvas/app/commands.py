"""Undoable changes, Qt-free. The GUI wraps each in a QUndoCommand and pushes it.

Every command holds values (frozen instances, prompts), never references into widgets, so the
same command can be redone and undone any number of times and tested without a window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..engine.prompts import Prompt
from .document import Instance

if TYPE_CHECKING:
    from .editor import Editor


class Command:
    text = ""

    def redo(self) -> None:
        raise NotImplementedError

    def undo(self) -> None:
        raise NotImplementedError


class SetPrompt(Command):
    """Any change of the prompt: a point, a background point, a box, or clearing them."""

    def __init__(self, editor: "Editor", old: Prompt, new: Prompt, text: str):
        self.editor, self.old, self.new, self.text = editor, old, new, text

    def redo(self) -> None:
        self.editor.apply_prompt(self.new)

    def undo(self) -> None:
        self.editor.apply_prompt(self.old)


class AddInstance(Command):
    def __init__(self, editor: "Editor", instance: Instance, text: str = "add instance"):
        self.editor, self.instance, self.text = editor, instance, text

    def redo(self) -> None:
        self.editor.doc.insert(self.instance)
        self.editor.document_changed()

    def undo(self) -> None:
        self.editor.doc.remove(self.instance.id)
        self.editor.document_changed()


class RemoveInstance(Command):
    def __init__(self, editor: "Editor", instance_id: int):
        self.editor, self.instance_id = editor, instance_id
        self.removed: Instance | None = None
        self.index = 0
        self.text = f"delete instance {instance_id}"

    def redo(self) -> None:
        self.removed, self.index = self.editor.doc.remove(self.instance_id)
        self.editor.document_changed()

    def undo(self) -> None:
        self.editor.doc.insert(self.removed, self.index)
        self.editor.document_changed()


class ReplaceInstance(Command):
    """Relabel, hide or show: the instance is swapped for an edited copy."""

    def __init__(self, editor: "Editor", old: Instance, new: Instance, text: str):
        self.editor, self.old, self.new, self.text = editor, old, new, text

    def redo(self) -> None:
        self.editor.doc.replace(self.new)
        self.editor.document_changed()

    def undo(self) -> None:
        self.editor.doc.replace(self.old)
        self.editor.document_changed()


class Compound(Command):
    def __init__(self, text: str, commands: list[Command]):
        self.text, self.commands = text, commands

    def redo(self) -> None:
        for command in self.commands:
            command.redo()

    def undo(self) -> None:
        for command in reversed(self.commands):
            command.undo()
