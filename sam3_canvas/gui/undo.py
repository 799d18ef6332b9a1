"""The Qt-free commands as QUndoCommands, one QUndoStack per image in a QUndoGroup.

The window activates an image's stack only when that image is the editor's current one, and
every command changes the document it was made on, so an undo can never act on another image.
A command that fails (a bug) is logged and made obsolete, which takes it off the stack instead
of leaving a broken step that the next Ctrl+Z would run again.
"""

from __future__ import annotations

import logging

from PySide6.QtGui import QUndoCommand, QUndoGroup, QUndoStack

from ..app.commands import Command

log = logging.getLogger(__name__)


class UndoAdapter(QUndoCommand):
    def __init__(self, command: Command):
        super().__init__(command.text)
        self.command = command

    def _run(self, step) -> None:
        try:
            step()
        except Exception:  # noqa: BLE001 - logged; the step leaves the stack
            log.exception("undo step %r failed", self.command.text)
            self.setObsolete(True)

    def redo(self) -> None:
        self._run(self.command.redo)

    def undo(self) -> None:
        self._run(self.command.undo)


class UndoHistory:
    """Each image keeps its own history while its folder is open."""

    def __init__(self, parent):
        self.group = QUndoGroup(parent)
        self._stacks: dict[str, QUndoStack] = {}

    def activate(self, key: str) -> QUndoStack:
        stack = self._stacks.get(key)
        if stack is None:
            stack = QUndoStack(self.group)
            self.group.addStack(stack)
            self._stacks[key] = stack
        self.group.setActiveStack(stack)
        return stack

    def push(self, command: Command | None) -> None:
        if command is not None and self.group.activeStack() is not None:
            self.group.activeStack().push(UndoAdapter(command))

    def clear(self) -> None:
        """Forget every history (another folder, or documents read again after an import)."""
        self.group.setActiveStack(None)
        for stack in self._stacks.values():
            self.group.removeStack(stack)
            stack.deleteLater()
        self._stacks.clear()
