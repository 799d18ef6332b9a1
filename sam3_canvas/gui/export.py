"""File > Export dataset and File > Import dataset: dialogs, and the work on a thread behind
a progress dialog (through the window's TaskRunner: results come back through an Inbox, never a
cross-thread signal; closing the window cancels the work, and a cancelled export writes
nothing)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QSpinBox,
)

from ..annotations import formats
from ..annotations.export_target import ExportRefused, inspect
from ..annotations.polygons import DEFAULT_TOLERANCE
from ..app.datasets import IMPORT_MODES, annotated_documents, export_documents, import_into_project
from ..app.project import Project
from .tasks import Task


def run_in_background(window, name: str, title: str, work: Callable[[Task, Callable], object],
                      done: Callable):
    """Run ``work(task, progress)`` as one of the window's tasks behind a modal progress
    dialog; then call ``done(result, error)`` on the GUI thread."""
    dialog = QProgressDialog(title, "", 0, 0, window)
    dialog.setCancelButton(None)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)

    def finish(result, error):
        dialog.close()
        done(result, error)

    def run(task: Task):
        def progress(done_count: int, total: int = 0) -> None:
            task.check()  # closing the window cancels here

            def show():
                if total:
                    dialog.setMaximum(total)
                dialog.setValue(done_count)
            task.post(show)
        return work(task, progress)

    task = window.tasks.start(name, run, finish)
    window.background_thread = task.thread
    return task


class ExportDialog(QDialog):
    def __init__(self, parent=None, format_name: str = "coco", this_image: str | None = None,
                 photos: Path | None = None):
        super().__init__(parent)
        #: the photo folder: the suggested destination is a new folder beside it, never it
        self.photos = photos
        self.setWindowTitle("Export dataset")
        self.setMinimumWidth(600)  # room for the format's description, wrapped, not clipped
        form = QFormLayout(self)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.format = QComboBox(self)
        for fmt in formats.FORMATS.values():
            self.format.addItem(fmt.title, fmt.name)
        self.format.setCurrentIndex(self.format.findData(format_name))
        form.addRow("Format", self.format)
        self.keeps = QLabel(self)
        self.keeps.setWordWrap(True)
        self.keeps.setMinimumHeight(self.keeps.fontMetrics().lineSpacing() * 4)
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
        self.min_part = QSpinBox(self)
        self.min_part.setRange(1, 100000)
        self.min_part.setSuffix(" px")
        self.min_part.setToolTip("Separate parts smaller than this are left out of polygons "
                                 "(and counted in the export's notes); 1 keeps every pixel.")
        form.addRow("Smallest part", self.min_part)
        self.copy_images = QCheckBox("copy the images into the dataset", self)
        form.addRow("", self.copy_images)
        row = QHBoxLayout()
        self.out = QLineEdit(self)
        self._suggested = ""
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
        self.min_part.setEnabled(self.tolerance.isEnabled())
        self.copy_images.setEnabled(fmt.name in ("coco", "yolo", "voc"))
        if self.photos is not None and self.out.text() in ("", self._suggested):
            self._suggested = str(self.photos.parent / f"{self.photos.name}-{fmt.name}")
            self.out.setText(self._suggested)

    def _browse(self) -> None:
        start = self.out.text().strip() or (str(self.photos.parent) if self.photos else "")
        folder = QFileDialog.getExistingDirectory(self, "Write the dataset into",
                                                  str(Path(start).parent) if start else "")
        if folder:
            self.out.setText(folder)

    def options(self) -> dict:
        fmt = self.format.currentData()
        return {"fmt": fmt, "out": Path(self.out.text().strip()),
                "whole_folder": self.scope.currentData() == "folder",
                "polygons": self.polygons.isChecked() and fmt == "coco",
                "tolerance": self.tolerance.value(),
                "min_part_px": self.min_part.value(),
                "copy_images": self.copy_images.isChecked() and self.copy_images.isEnabled()}


def check_destination(window, out: Path) -> bool | None:
    """Whether the export may go to ``out``: False (plain), True (beside the files already
    there, after asking the user), None (the user declined or the folder cannot be one)."""
    try:
        dest = inspect(out)
    except ExportRefused as exc:
        window.tell("Cannot export there", str(exc))
        return None
    if not dest.foreign:
        return False
    answer = QMessageBox.question(
        window, "The folder is not empty",
        f"{dest.folder} already holds {len(dest.foreign)} file(s) that sam3-canvas did not "
        f"write ({dest.describe_foreign()}).\n\nWrite the dataset beside them? Nothing there "
        "is deleted or overwritten. (No: choose another folder.)",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return True if answer == QMessageBox.StandardButton.Yes else None


def run_export(window, project: Project, editor, fmt: str, out: Path, whole_folder: bool = True,
               beside: bool = False, **options):
    if whole_folder:
        found = annotated_documents(project)
        docs, unreadable = found.documents, found.unreadable
    else:
        docs = [editor.doc] if editor is not None and editor.doc is not None else []
        unreadable = []

    def work(task, progress):
        progress(0, len(docs))
        return export_documents(project, docs, fmt, out, unreadable, beside=beside,
                                progress=lambda n: progress(n, len(docs)), **options)

    def done(report, error):
        window.last_export = report
        window.last_export_error = error
        if report is None:
            if "cancelled" not in error:
                window.tell("Export failed", error if "nothing was written"
                                    in error else f"Nothing was written: {error}")
            return
        message = (f"exported {report.instances} instances of {report.images} images as "
                   f"{fmt} to {report.folder}")
        if report.replaced_note():
            message += f"; {report.replaced_note()}"
        if report.lost.instances:
            message += (f"; polygons as the readers draw them: mean IoU "
                        f"{report.lost.mean_iou:.4f}")
        window.statusBar().showMessage(message, 15000)
        if report.warnings:
            window.tell("Exported, with notes",
                        message + "\n\n" + "\n".join(report.warnings[:30]), warning=False)

    return run_in_background(window, "export", f"Exporting {fmt}…", work, done)


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
        self.mode = QComboBox(self)
        for mode, text in IMPORT_MODES.items():
            self.mode.addItem(text, mode)
        form.addRow("Imported before", self.mode)
        form.addRow(QLabel("The annotations are added to this folder's images; what you made "
                           "in the app is always kept.", self))
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


def run_import(window, folder: Path, fmt: str, source: Path, done: Callable,
               mode: str = "skip-existing"):
    """Import on a thread into a Project of its own (the GUI's documents are not touched while
    it runs); ``done(report, error)`` then reloads what changed."""

    def work(task, progress):
        return import_into_project(Project(folder), fmt, source, progress=progress, mode=mode)

    return run_in_background(window, "import", f"Importing {fmt}…", work, done)
