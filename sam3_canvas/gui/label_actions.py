"""A folder's label classes as the main window changes them: rename, recolour or delete a
label in every file of the folder (asked first, not blocking), and load a classes file.

A mixin of :class:`~.main_window.MainWindow` (it uses the window's project, editor, history,
overlays and ``tell``); the work itself is ``app.label_ops``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from ..document.labels import LabelSet


class LabelActions:
    def ask_rename_label(self, name: str) -> None:
        from PySide6.QtWidgets import QInputDialog
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Rename label")
        dialog.setLabelText(f"New name for \"{name}\" (in every image of the folder; an "
                            "existing name merges the two):")
        dialog.setTextValue(name)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.textValueSelected.connect(
            lambda new: new.strip() and new.strip() != name and self.change_labels(
                "rename", name, new.strip()))
        self.label_dialog = dialog
        dialog.open()

    def ask_recolour_label(self, name: str) -> None:
        from PySide6.QtGui import QColor
        from PySide6.QtWidgets import QColorDialog
        dialog = QColorDialog(QColor(*self.project.labels.get(name).colour), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.colorSelected.connect(lambda c: self.change_labels(
            "recolour", name, (c.red(), c.green(), c.blue())))
        self.label_dialog = dialog
        dialog.open()

    def ask_delete_label(self, name: str) -> None:
        from ..app.label_ops import count_label
        count = count_label(self.project, name)
        box = QMessageBox(QMessageBox.Icon.Question, "Delete label",
                          f"\"{name}\" labels {count} instance(s) in this folder. What "
                          "happens to them?", QMessageBox.StandardButton.Cancel, self)
        delete = box.addButton("Delete them", QMessageBox.ButtonRole.DestructiveRole)
        others = [n for n in self.project.labels.names if n != name]
        relabel = box.addButton(f"Relabel them as \"{others[0]}\"",
                                QMessageBox.ButtonRole.AcceptRole) if others else None
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(button) -> None:
            if button is delete:
                self.change_labels("delete", name, None)
            elif relabel is not None and button is relabel:
                self.change_labels("delete", name, others[0])

        box.buttonClicked.connect(answered)
        self.label_box = box
        box.open()

    def change_labels(self, what: str, name: str, value) -> None:
        """Rename, recolour or delete a label in every file of the folder; the image
        histories are dropped after (they refer to instances as they were)."""
        from ..app import label_ops
        if self.project is None:
            return
        self.flush_saves()  # a pending autosave must not land after these writes
        if what == "rename":
            change = label_ops.rename_label(self.project, name, value)
        elif what == "recolour":
            change = label_ops.recolour_label(self.project, name, value)
        else:
            change = label_ops.delete_label(self.project, name, relabel_as=value)
        if what != "recolour":
            self.history.clear()
            if self.editor is not None and self.editor.image is not None:
                self.history.activate(self.editor.image.name)
        if self.editor is not None and self.editor.label == name and what != "recolour":
            self.editor.label = value if isinstance(value, str) else None
        self.overlays.clear()
        if self.editor is not None and self.editor.doc is not None:
            self.editor_changed("image")  # the image's instances and panels, shown anew
        self.statusBar().showMessage(
            f"{what} {name}: {change.instances} instance(s) in {change.files} file(s)", 8000)
        if change.problems:
            self.tell("Labels", "\n".join(change.problems[:10]))

    def ask_classes(self) -> None:
        if self.project is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Classes file (one per line)",
                                              self._start_folder(),
                                              "Text (*.txt *.names);;All files (*)")
        if path:
            self.load_classes(path)

    def load_classes(self, path: str | Path) -> None:
        for name in LabelSet.from_classes_file(path).names:
            self.project.labels.add(name)
        try:
            self.project.save_labels()
        except Exception as exc:  # SaveError
            self.statusBar().showMessage(str(exc), 15000)
        if self.editor.label is None and len(self.project.labels):
            self.editor.set_label(self.project.labels.names[0])
        self.show_labels()

