"""The three candidate masks, best first, with their predicted IoU: pick one with a click or
the keys 1, 2, 3. No other annotation tool shows SAM's candidates; here they are the first
thing beside the canvas."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

SIZE_NAMES = {0: "smallest", 1: "medium", 2: "largest"}
THUMB = 72  # thumbnail side: three rows fit beside the canvas on a 768 px high screen
ROW_HEIGHT = THUMB + 12  # fixed, so nothing moves when the candidates arrive


class CandidatesPanel(QWidget):
    """Emits ``chosen(model index)``; shows candidates in rank order."""

    chosen = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        self.buttons: list[QToolButton] = []
        for rank in range(3):
            button = QToolButton(self)
            button.setCheckable(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setIconSize(QSize(THUMB, THUMB))
            button.setFixedHeight(ROW_HEIGHT)
            button.setMinimumWidth(200)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setEnabled(False)
            button.setText(f"{rank + 1}")
            self.group.addButton(button, rank)
            layout.addWidget(button)
            self.buttons.append(button)
        self.presence = QLabel("Click on an object, shift-click to exclude, drag a box.")
        self.presence.setWordWrap(True)
        self.presence.setFixedHeight(self.presence.fontMetrics().lineSpacing() * 3)
        layout.addWidget(self.presence)
        layout.addStretch(1)
        self.order: list[int] = []
        self.group.idClicked.connect(self._clicked)

    def clear(self, message: str = "Click on an object, shift-click to exclude, drag a box.") \
            -> None:
        self.order = []
        for rank, button in enumerate(self.buttons):
            button.setIcon(QIcon())
            button.setText(f"{rank + 1}")
            button.setEnabled(False)
            button.setChecked(False)
        self.presence.setText(message)

    def show_thumbnails(self, thumbnails) -> None:
        """QImages in the model's order (made on the worker thread)."""
        for rank, index in enumerate(self.order):
            self.buttons[rank].setIcon(QIcon(QPixmap.fromImage(thumbnails[index])))

    def show_prediction(self, prediction, chosen: int) -> None:
        self.order = prediction.ranking
        for rank, index in enumerate(self.order):
            button = self.buttons[rank]
            button.setIcon(QIcon())
            best = "  best" if rank == 0 else ""
            button.setText(f"{rank + 1}  IoU {prediction.ious[index]:.3f}{best}\n"
                           f"mask {index} ({SIZE_NAMES.get(index, index)})")
            button.setEnabled(True)
        self.set_chosen(chosen)
        score = prediction.object_score
        verdict = "" if score >= 0.5 else "  (probably no object here)"
        self.presence.setText(f"Object presence: {score:.1%}{verdict}")

    def set_chosen(self, index: int) -> None:
        if index in self.order:
            self.buttons[self.order.index(index)].setChecked(True)

    def choose_rank(self, rank: int) -> None:
        if rank < len(self.order):
            self.set_chosen(self.order[rank])
            self.chosen.emit(self.order[rank])

    def _clicked(self, rank: int) -> None:
        self.choose_rank(rank)
