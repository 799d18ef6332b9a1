"""File > Export mask PNGs: the export runs on a thread behind a progress dialog."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QProgressDialog

from ..annotations.mask_export import export_masks
from .inbox import Inbox


def run_mask_export(window, project, editor, whole_folder: bool, out: Path) -> threading.Thread:
    if whole_folder:
        docs = [project.document(p) for p in project.images
                if project.has_annotations(p) or p.name == getattr(editor.image, "name", None)]
    else:
        docs = [editor.doc] if editor is not None and editor.doc is not None else []
    dialog = QProgressDialog("Exporting mask PNGs…", "", 0, max(len(docs), 1), window)
    dialog.setCancelButton(None)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    inbox = Inbox(dialog)  # the export thread reports through it

    def finished(summary, error: str) -> None:
        dialog.close()
        if summary is None:
            QMessageBox.warning(window, "Export failed", error)
        else:
            window.statusBar().showMessage(
                f"exported {summary.instances} instance masks of {summary.images} images to "
                f"{summary.folder}", 15000)
        window.last_export = summary

    def work() -> None:
        try:
            summary = export_masks(docs, project.labels, out,
                                   progress=lambda n: inbox.post(dialog.setValue, n))
        except (OSError, ValueError) as exc:
            inbox.post(finished, None, str(exc))
            return
        inbox.post(finished, summary, "")

    thread = threading.Thread(target=work, name="sam3-export", daemon=True)
    window.export_thread = thread
    thread.start()
    return thread
