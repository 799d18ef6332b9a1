"""The side panels: label classes, the image's instances, and the folder's files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..app.worker import ImageState
from ..document.annotation import Document
from ..document.labels import LabelSet
from ..video.frames import parse_frame_key


class TextEntry(QLineEdit):
    """A line edit that keeps plain keys (letters, digits, Enter, Esc) for itself.

    The window has single-key shortcuts (1/2/3, A/D, F, Enter, Esc); without this, typing
    "dog" as a label would jump to the next image at the "d"."""

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride:
            mods = event.modifiers() & ~Qt.KeyboardModifier.ShiftModifier \
                & ~Qt.KeyboardModifier.KeypadModifier
            if mods == Qt.KeyboardModifier.NoModifier:
                event.accept()
                return True
        return super().event(event)


def swatch(colour: tuple[int, int, int]) -> QIcon:
    pixmap = QPixmap(14, 14)
    pixmap.fill(QColor(*colour))
    return QIcon(pixmap)


class LabelsPanel(QWidget):
    """Classes with colours and how many instances of each the image has; the current one
    labels the next instance. Right-click a class to rename, recolour or delete it."""

    labelChosen = Signal(str)
    loadRequested = Signal()
    renameRequested = Signal(str)
    recolourRequested = Signal(str)
    deleteRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.list = QListWidget(self)
        layout.addWidget(self.list)
        row = QHBoxLayout()
        self.entry = TextEntry(self)
        self.entry.setPlaceholderText("new label, Enter to add")
        row.addWidget(self.entry)
        self.load = QPushButton("Load…", self)
        self.load.setToolTip("Load classes from a text file (one per line)")
        row.addWidget(self.load)
        layout.addLayout(row)
        self.entry.returnPressed.connect(self._add)
        self.load.clicked.connect(self.loadRequested)
        self.list.currentItemChanged.connect(self._changed)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._menu)
        self._updating = False

    def _menu(self, pos) -> None:
        from PySide6.QtWidgets import QMenu
        item = self.list.itemAt(pos)
        if item is None:
            return
        name = item.data(Qt.ItemDataRole.UserRole)
        menu = QMenu(self)
        menu.addAction("Rename…", lambda: self.renameRequested.emit(name))
        menu.addAction("Colour…", lambda: self.recolourRequested.emit(name))
        menu.addAction("Delete…", lambda: self.deleteRequested.emit(name))
        self.context_menu = menu
        menu.popup(self.list.viewport().mapToGlobal(pos))

    def show_labels(self, labels: LabelSet, current: str | None,
                    counts: dict[str, int] | None = None) -> None:
        """``counts``: instances of each label in the image on screen."""
        self._updating = True
        self.list.clear()
        for n, cls in enumerate(labels, 1):
            hint = f"   Ctrl+{n}" if n <= 9 else ""
            count = f"   ({counts[cls.name]})" if counts and counts.get(cls.name) else ""
            item = QListWidgetItem(swatch(cls.colour), f"{cls.name}{count}{hint}")
            item.setData(Qt.ItemDataRole.UserRole, cls.name)
            self.list.addItem(item)
            if cls.name == current:
                self.list.setCurrentItem(item)
        self._updating = False

    def choose_index(self, index: int) -> None:
        if 0 <= index < self.list.count():
            self.list.setCurrentRow(index)

    def _add(self) -> None:
        name = self.entry.text().strip()
        if name:
            self.entry.clear()
            self.labelChosen.emit(name)

    def _changed(self, item, _previous) -> None:
        if item is not None and not self._updating:
            self.labelChosen.emit(item.data(Qt.ItemDataRole.UserRole))


class InstancesPanel(QWidget):
    """The image's instances: select to highlight, tick to show or hide, Del to delete."""

    selected = Signal(int)  # instance id, -1 for none
    visibilityChanged = Signal(int, bool)
    deleteRequested = Signal(int)
    relabelRequested = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.list = QListWidget(self)
        layout.addWidget(self.list)
        row = QHBoxLayout()
        self.relabel = QPushButton("Relabel", self)
        self.relabel.setToolTip("Give the selected instance the current label")
        self.delete = QPushButton("Delete", self)
        row.addWidget(self.relabel)
        row.addWidget(self.delete)
        layout.addLayout(row)
        self._updating = False
        self.list.currentItemChanged.connect(self._current)
        self.list.itemChanged.connect(self._ticked)
        self.delete.clicked.connect(lambda: self._emit_for_current(self.deleteRequested))
        self.relabel.clicked.connect(lambda: self._emit_for_current(self.relabelRequested))

    def show_document(self, doc: Document | None, labels: LabelSet) -> None:
        self._updating = True
        current = self.current_id()
        self.list.clear()
        for inst in doc.instances if doc else []:
            colour = labels.get(inst.label).colour if inst.label in labels else (128, 128, 128)
            kind = inst.source.get("kind")
            what = "score" if kind in ("text", "detect") else "IoU"
            score = f"  {what} {inst.score:.2f}" if inst.score is not None else ""
            edited = "  ✎" if inst.source.get("edited") or kind == "manual" else ""
            item = QListWidgetItem(swatch(colour), f"#{inst.id}  {inst.label}{score}{edited}")
            item.setData(Qt.ItemDataRole.UserRole, inst.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked if inst.hidden else Qt.CheckState.Checked)
            self.list.addItem(item)
            if inst.id == current:
                self.list.setCurrentItem(item)
        self._updating = False

    def select(self, instance_id: int) -> None:
        """Make ``instance_id`` the current row (-1: none) without emitting ``selected``."""
        self._updating = True
        self.list.setCurrentRow(-1)
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == instance_id:
                self.list.setCurrentRow(row)
                break
        self._updating = False

    def current_id(self) -> int:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else -1

    def _emit_for_current(self, signal) -> None:
        if self.current_id() >= 0:
            signal.emit(self.current_id())

    def _current(self, item, _previous) -> None:
        if not self._updating:
            self.selected.emit(item.data(Qt.ItemDataRole.UserRole) if item else -1)

    def _ticked(self, item) -> None:
        if not self._updating:
            visible = item.checkState() == Qt.CheckState.Checked
            self.visibilityChanged.emit(item.data(Qt.ItemDataRole.UserRole), visible)


STATE_TEXT: dict[ImageState, str] = {"new": "○", "encoding": "◐", "ready": "●", "failed": "✕"}
STATE_TIP: dict[ImageState, str] = {"new": "not encoded", "encoding": "encoding…",
                                     "ready": "encoded, ready", "failed": "failed"}


class FilesPanel(QWidget):
    """The folder's images with their state: ○ not encoded, ◐ encoding, ● ready, ✓ annotated,
    ✕ failed (the reason is the row's tooltip)."""

    opened = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.list = QListWidget(self)
        layout.addWidget(self.list)
        legend = QLabel("○ not encoded  ◐ encoding  ● ready  ✓ annotated  ✕ failed", self)
        legend.setToolTip("Hover over a failed image for the reason")
        legend.setWordWrap(True)
        layout.addWidget(legend)
        self.paths: list[Path] = []
        self.rows: dict[str, int] = {}
        self.states: dict[str, ImageState] = {}
        self.reasons: dict[str, str] = {}  # why an image failed (its tooltip)
        self.annotated: set[str] = set()
        self._updating = False
        self.list.currentRowChanged.connect(self._row)

    def show_files(self, paths: list[Path], annotated: set[str]) -> None:
        self._updating = True
        self.paths = list(paths)
        self.rows = {p.name: row for row, p in enumerate(self.paths)}
        self.annotated = set(annotated)
        self.states = {p.name: "new" for p in paths}
        self.reasons = {}
        self.list.clear()
        for _ in paths:
            self.list.addItem(QListWidgetItem(""))
        for path in paths:
            self._render(path.name)
        self._updating = False

    def set_state(self, name: str, state: ImageState, reason: str = "") -> None:
        if name in self.states:
            self.states[name] = state
            if state == "failed":
                self.reasons[name] = reason
            else:
                self.reasons.pop(name, None)
            self._render(name)

    def set_annotated(self, name: str, annotated: bool) -> None:
        (self.annotated.add if annotated else self.annotated.discard)(name)
        if name in self.states:
            self._render(name)

    def add_annotated(self, names: set[str]) -> None:
        """Mark images as annotated (found after the list was shown)."""
        for name in names - self.annotated:
            if name in self.states:
                self.annotated.add(name)
                self._render(name)

    def set_current(self, index: int) -> None:
        self._updating = True
        self.list.setCurrentRow(index)
        self._updating = False

    def _render(self, name: str) -> None:
        state = self.states[name]
        mark = " ✓" if name in self.annotated else ""
        item = self.list.item(self.rows[name])
        item.setText(f"{STATE_TEXT[state]} {_shown_name(self.paths[self.rows[name]])}{mark}")
        tip = self.reasons.get(name) or STATE_TIP[state]
        item.setToolTip(tip + (", annotated" if mark else ""))

    def _row(self, row: int) -> None:
        if not self._updating and row >= 0:
            self.opened.emit(row)


def _shown_name(path: Path) -> str:
    """A photo's file name; a clip's frame as "frame 12" (the list is the clip's frames)."""
    frame = parse_frame_key(path)
    return path.name if frame is None else f"frame {frame[1]}"
