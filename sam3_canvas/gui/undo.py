"""The Qt-free commands as QUndoCommands, one QUndoStack per image in a QUndoGroup."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand, QUndoGroup, QUndoStack

from ..app.commands import Command


class UndoAdapter(QUndoCommand):
    def __init__(self, command: Command):
        super().__init__(command.text)
        self.command = command

    def redo(self) -> None:
        self.command.redo()

    def undo(self) -> None:
        self.command.undo()


class UndoHistory:
    """Each image keeps its own history for as long as the app runs."""

    def __init__(self, parent):
        self.group = QUndoGroup(parent)
        self._stacks: dict[str, QUndoStack] = {}

    def activate(self, key: str) -> QUndoStack:
        stack = self._stacks.get(key)
        if stack is None:
            stack = QUndoStack(self.group)
            self._stacks[key] = stack
        self.group.setActiveStack(stack)
        return stack

    def push(self, command: Command | None) -> None:
        if command is not None and self.group.activeStack() is not None:
            self.group.activeStack().push(UndoAdapter(command))

    def clear(self) -> None:
        for stack in self._stacks.values():
            stack.setParent(None)
        self._stacks.clear()
