"""Model > Measurements: the last ``eval`` and ``bench`` results of each model, read from
the history the commands keep (sam3_canvas.evaluation.history)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..evaluation import history

KIND_NAMES = {"clicks": "clicks (NoC)", "coco": "COCO AP", "bench": "speed"}


def measurements_dialog(parent: QWidget) -> QDialog:
    entries = history.load()
    dialog = QDialog(parent)
    dialog.setWindowTitle("Measurements")
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    layout = QVBoxLayout(dialog)
    if not entries:
        layout.addWidget(QLabel(
            "Nothing measured yet. Measure a model on your own data with\n"
            "  sam3-canvas eval clicks --images DIR --masks DIR\n"
            "  sam3-canvas eval coco --gt ANNOTATIONS.json --pred DIR\n"
            "  sam3-canvas bench --variants fp32,q4\n"
            "(docs/eval.md); the latest results show here."))
    table = QTableWidget(len(entries), 3, dialog)
    table.setObjectName("measurements")
    table.setHorizontalHeaderLabels(["when", "what", "result"])
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    for row, entry in enumerate(entries):
        table.setItem(row, 0, QTableWidgetItem(str(entry.get("when", ""))))
        table.setItem(row, 1, QTableWidgetItem(KIND_NAMES.get(str(entry.get("kind")), "?")))
        table.setItem(row, 2, QTableWidgetItem(history.describe(entry)))
    table.resizeColumnsToContents()
    table.horizontalHeader().setStretchLastSection(True)
    layout.addWidget(table)
    layout.addWidget(QLabel(f"kept in {history.history_path()}"))
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.close)
    layout.addWidget(buttons)
    dialog.resize(900, 320)
    return dialog
