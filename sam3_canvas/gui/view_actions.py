"""The tool in use and the display options (View menu), saved as settings, and the Help >
Keyboard shortcuts sheet.

A mixin of :class:`~.main_window.MainWindow` (it uses the window's settings, canvas, editor
and status bar).
"""

from __future__ import annotations

from PySide6.QtCore import Qt

from .menus import shortcut_rows


class ViewActions:
    def tool_changed(self, tool: str) -> None:
        self.tool_actions[tool].setChecked(True)
        hints = {"prompt": "click the object (shift: background), drag a box",
                 "brush": "paint the selected instance or the candidate ([ ] size)",
                 "eraser": "erase from the selected instance or the candidate ([ ] size)",
                 "polygon": "click the vertices, double-click or Enter closes",
                 "select": "click an instance to select it; drag its vertices"}
        self.statusBar().showMessage(hints.get(tool, ""), 6000)

    def _set_option(self, name: str, value) -> None:
        setattr(self.settings, name, value)
        self._save_settings({name})

    def set_take_free_pixels(self, on: bool) -> None:
        self._set_option("take_free_pixels", bool(on))
        if self.editor is not None:
            self.editor.take_free_pixels = bool(on)

    def set_hide_all(self, on: bool) -> None:
        self.hide_all = bool(on)
        self.show_instances()

    def set_outlines_only(self, on: bool) -> None:
        self._set_option("outlines_only", bool(on))
        self.show_instances()

    def set_colour_by_instance(self, on: bool) -> None:
        self._set_option("colour_by", "instance" if on else "label")
        self.show_instances()

    def set_opacity(self, value: int) -> None:
        self._set_option("overlay_opacity", max(0, min(255, int(value))))
        self.show_instances()

    def set_hover_preview(self, on: bool) -> None:
        self._set_option("hover_preview", bool(on))
        self.canvas.hover_enabled = bool(on)

    def show_measurements(self) -> None:
        """Model > Measurements: the last eval and bench results (from the CLI)."""
        from .measurements import measurements_dialog
        self.measurements_box = measurements_dialog(self)
        self.measurements_box.open()

    def show_shortcuts(self) -> None:
        """Help > Keyboard shortcuts: every key and mouse action, in a table that scrolls
        (it fits a 768 px high screen)."""
        from PySide6.QtWidgets import (
            QDialog,
            QDialogButtonBox,
            QTableWidget,
            QTableWidgetItem,
            QVBoxLayout,
        )
        rows = shortcut_rows(self)
        dialog = QDialog(self)
        dialog.setWindowTitle("Keyboard shortcuts")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = QVBoxLayout(dialog)
        table = QTableWidget(len(rows), 2, dialog)
        table.setHorizontalHeaderLabels(["keys and mouse", "what it does"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        table.setWordWrap(False)
        for row, (keys, what) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(keys))
            table.setItem(row, 1, QTableWidgetItem(what))
        table.resizeColumnToContents(0)
        table.horizontalHeader().setStretchLastSection(True)
        table.resizeRowsToContents()
        layout.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
        buttons.rejected.connect(dialog.close)
        layout.addWidget(buttons)
        dialog.resize(720, 560)
        self.shortcuts_box = dialog
        self.shortcuts_table = table
        dialog.open()

