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
    table = QTableWidget(len(entries), 5, dialog)
    table.setObjectName("measurements")
    table.setHorizontalHeaderLabels(["when", "what", "model", "result", "on"])
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    for row, entry in enumerate(entries):
        cells = [str(entry.get("when", "")), KIND_NAMES.get(str(entry.get("kind")), "?"),
                 str(entry.get("model", "")), history.result_text(entry),
                 str(entry.get("data", ""))]
        whole = history.describe(entry)  # the row as one line, for a cell cut short
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(whole)
            table.setItem(row, column, item)
    table.resizeColumnsToContents()
    table.horizontalHeader().setStretchLastSection(True)
    layout.addWidget(table)
    layout.addWidget(QLabel(f"kept in {history.history_path()}"))
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.close)
    layout.addWidget(buttons)
    dialog.resize(1100, 320)
    return dialog
