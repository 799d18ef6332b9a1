"""File > Export dataset and File > Import annotations, as the main window runs them.

A mixin of :class:`~.main_window.MainWindow` (it uses the window's project, editor, history,
panels and ``tell``): the export dialog does not block, a destination that holds files the
program did not write is written into only after the user agrees ("No" goes back to the
dialog with its choices), and after an import every image's history is dropped, because it
refers to documents read before the import.
"""

from __future__ import annotations

from pathlib import Path

from ..engine.errors import Sam3CanvasError
from .export import ExportDialog, ImportDialog, check_destination, run_export, run_import


class DatasetActions:
    def ask_export(self, format_name: str = "coco") -> None:
        """File > Export dataset: the dialog (not blocking), then the export."""
        if self.project is None:
            self.statusBar().showMessage("Open a folder first (File > Open folder)", 8000)
            return
        if self.video.active:  # a clip: its tracks, in a video format
            self.video.ask_export()
            return
        image = self.editor.image.name if self.editor and self.editor.image else None
        self.export_dialog = dialog = ExportDialog(self, format_name, image, self.project.folder)
        dialog.accepted.connect(lambda: self._export_chosen(dialog))
        dialog.open()

    def _export_chosen(self, dialog) -> None:
        options = dialog.options()
        if not str(options["out"]).strip() or str(options["out"]) == ".":
            self.tell("Export", "Choose the folder to write the dataset into.")
            dialog.open()
            return
        if not self.export_dataset(options.pop("fmt"), options.pop("out"), **options):
            dialog.open()  # "No, choose another folder": back to the dialog, options kept

    def export_dataset(self, fmt: str, out: str | Path, whole_folder: bool = True,
                       beside: bool | None = None, **options) -> bool:
        """Export; a destination holding files that are not ours is written into only after
        the user agrees (``beside``: ask when None). False when nothing was started."""
        if self.project is None:
            return False
        out = Path(out).expanduser().absolute()
        if beside is None:
            beside = check_destination(self, out)
            if beside is None:
                return False
        self.flush_saves()  # the export reads the files: every change must be in them
        run_export(self, self.project, self.editor, fmt, out, whole_folder, beside=beside,
                   **options)
        return True

    def export_masks(self, whole_folder: bool, out: str | Path) -> None:
        self.export_dataset("png", out, whole_folder)

    def ask_import(self) -> None:
        """File > Import annotations: the dialog (not blocking), then the import."""
        if self.project is None:
            self.statusBar().showMessage("Open a folder first (File > Open folder)", 8000)
            return
        self.import_dialog = dialog = ImportDialog(self)
        dialog.accepted.connect(lambda: dialog.source.text().strip() and self.import_dataset(
            dialog.format.currentData(), dialog.source.text().strip(),
            dialog.mode.currentData()))
        dialog.open()

    def import_dataset(self, fmt: str, source: str | Path, mode: str = "skip-existing") -> None:
        if self.project is None:
            return

        def done(report, error):
            self.last_import = report
            if report is None:
                self.tell("Import failed", error)
                return
            if self.project is None:
                return
            self.project.reload()
            self.files.show_files(self.project.images, set())
            self._read_annotated(self.project)
            self.files.set_current(self.index)
            # every history refers to documents read before the import: an undo there would
            # write an old document over the imported one
            self.history.clear()
            if self.editor is not None and self.editor.image is not None:
                image, doc = self.editor.image, self.editor.doc
                try:
                    self.editor.open_image(image, (doc.width, doc.height), doc.image_key)
                    self.history.activate(image.name)
                except Sam3CanvasError as exc:
                    self._show_failure(image, str(exc))
            message = (f"imported {report.instances} instances into {len(report.documents)} "
                       f"images" +
                       (f"; {report.skipped} were imported before" if report.skipped else "") +
                       (f"; {report.replaced} from an earlier import replaced"
                        if report.replaced else ""))
            self.statusBar().showMessage(message, 15000)
            if report.problems:
                self.tell("Imported, with problems",
                          message + "\n\n" + "\n".join(report.problems[:30]), warning=False)

        self.flush_saves()  # a write still pending must not land after the import's
        run_import(self, self.project.folder, fmt, Path(source), done, mode)
