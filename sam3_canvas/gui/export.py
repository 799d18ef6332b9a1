"""File > Export dataset and File > Import dataset: dialogs, and the work on a thread behind
a progress dialog (results come back through an Inbox, never a cross-thread signal)."""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox,
                               QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
                               QMessageBox, QProgressDialog, QPushButton)

from ..annotations import formats
from ..annotations.dataset import DatasetError
from ..annotations.polygons import DEFAULT_TOLERANCE
from ..app.datasets import annotated_documents, import_into_project
from ..app.project import Project
from .inbox import Inbox


def run_in_background(window, title: str, work: Callable, done: Callable) -> threading.Thread:
    """Run ``work(report_progress)`` on a thread behind a modal progress dialog; then call
    ``done(result, error)`` on the GUI thread."""
    dialog = QProgressDialog(title, "", 0, 0, window)
    dialog.setCancelButton(None)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    inbox = Inbox(dialog)

    def progress(done_count: int, total: int = 0) -> None:
        def show():
            if total:
                dialog.setMaximum(total)
            dialog.setValue(done_count)
        inbox.post(show)

    def finish(result, error):
        dialog.close()
        done(result, error)

    def run():
        try:
            result = work(progress)
        except (OSError, ValueError, DatasetError) as exc:
            inbox.post(finish, None, str(exc))
            return
        inbox.post(finish, result, "")

    thread = threading.Thread(target=run, name="sam3-dataset", daemon=True)
    window.background_thread = thread
    thread.start()
    return thread


class ExportDialog(QDialog):
    def __init__(self, parent=None, format_name: str = "coco", this_image: str | None = None):
        super().__init__(parent)
        self.setWindowTitle("Export dataset")
        form = QFormLayout(self)
        self.format = QComboBox(self)
        for fmt in formats.FORMATS.values():
            self.format.addItem(fmt.title, fmt.name)
        self.format.setCurrentIndex(self.format.findData(format_name))
        form.addRow("Format", self.format)
        self.keeps = QLabel(self)
        self.keeps.setWordWrap(True)
        form.addRow("Keeps", self.keeps)
        self.scope = QComboBox(self)
        self.scope.addItem("every annotated image in the folder", "folder")
        if this_image:
            self.scope.addItem(f"this image only ({this_image})", "image")
        form.addRow("Images", self.scope)
        self.polygons = QCheckBox("polygons instead of RLE (COCO)", self)
        form.addRow("", self.polygons)
        self.tolerance = QDoubleSpinBox(self)
        self.tolerance.setRange(0.0, 10.0)
        self.tolerance.setSingleStep(0.25)
        self.tolerance.setSuffix(" px")
        self.tolerance.setValue(DEFAULT_TOLERANCE)
        form.addRow("Polygon tolerance", self.tolerance)
        self.copy_images = QCheckBox("copy the images into the dataset", self)
        form.addRow("", self.copy_images)
        row = QHBoxLayout()
        self.out = QLineEdit(self)
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        row.addWidget(self.out)
        row.addWidget(browse)
        form.addRow("Write to folder", row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                   QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.polygons.toggled.connect(self._format_changed)
        self._format_changed()

    def _format_changed(self, *_):
        fmt = formats.FORMATS[self.format.currentData()]
        self.keeps.setText(fmt.keeps)
        self.polygons.setEnabled(fmt.name == "coco")
        self.tolerance.setEnabled(fmt.polygons or (fmt.name == "coco" and
                                                   self.polygons.isChecked()))
        self.copy_images.setEnabled(fmt.name in ("coco", "yolo", "voc"))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Write the dataset into")
        if folder:
            self.out.setText(folder)

    def options(self) -> dict:
        fmt = self.format.currentData()
        return {"fmt": fmt, "out": Path(self.out.text().strip()),
                "whole_folder": self.scope.currentData() == "folder",
                "polygons": self.polygons.isChecked() and fmt == "coco",
                "tolerance": self.tolerance.value(),
                "copy_images": self.copy_images.isChecked() and self.copy_images.isEnabled()}


def run_export(window, project: Project, editor, fmt: str, out: Path, whole_folder: bool = True,
               **options) -> threading.Thread:
    docs = annotated_documents(project) if whole_folder else \
        [editor.doc] if editor is not None and editor.doc is not None else []
    labels = copy.deepcopy(project.labels)

    def work(progress):
        progress(0, len(docs))
        return formats.export(fmt, docs, labels, out, project.folder,
                              progress=lambda n: progress(n, len(docs)), **options)

    def done(report, error):
        window.last_export = report
        if report is None:
            QMessageBox.warning(window, "Export failed", f"Nothing was written: {error}")
            return
        message = (f"exported {report.instances} instances of {report.images} images as "
                   f"{fmt} to {report.folder}")
        window.statusBar().showMessage(message, 15000)
        if report.warnings:
            QMessageBox.information(window, "Exported, with notes",
                                    message + "\n\n" + "\n".join(report.warnings[:30]))

    return run_in_background(window, f"Exporting {fmt}…", work, done)


class ImportDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Import annotations")
        form = QFormLayout(self)
        self.format = QComboBox(self)
        for fmt in formats.FORMATS.values():
            self.format.addItem(fmt.title, fmt.name)
        form.addRow("Format", self.format)
        row = QHBoxLayout()
        self.source = QLineEdit(self)
        file_button = QPushButton("File…", self)
        folder_button = QPushButton("Folder…", self)
        file_button.clicked.connect(self._file)
        folder_button.clicked.connect(self._folder)
        for widget in (self.source, file_button, folder_button):
            row.addWidget(widget)
        form.addRow("From", row)
        form.addRow(QLabel("The annotations are added to this folder's images; instances "
                           "already there are kept.", self))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                   QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Annotation file", "",
                                              "JSON (*.json);;All files (*)")
        if path:
            self.source.setText(path)

    def _folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Dataset folder")
        if path:
            self.source.setText(path)


def run_import(window, folder: Path, fmt: str, source: Path, done: Callable) -> threading.Thread:
    """Import on a thread into a Project of its own (the GUI's documents are not touched while
    it runs); ``done(report, error)`` then reloads what changed."""

    def work(progress):
        return import_into_project(Project(folder), fmt, source)

    return run_in_background(window, f"Importing {fmt}…", work, done)
