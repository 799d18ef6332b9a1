"""First start without a model: download one (progress, cancel, resume) or use files on disk.

Downloads run on a plain thread through ``models.download.download_pack``; progress comes back
through a tqdm class whose ``update`` reports to a signal and raises when the user cancels.
A cancelled or failed download keeps its partial files in the staging folder, and the next
download of the same pack resumes them.
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)
from tqdm import tqdm

from ..models.store import ModelStore
from .inbox import Inbox
from .tasks import Task, TaskRunner

log = logging.getLogger(__name__)


class DownloadCancelled(Exception):
    pass


def progress_class(report, cancelled: threading.Event):
    class Progress(tqdm):
        def __init__(self, *args, **kwargs):
            self.label = str(kwargs.get("desc") or "")  # a disabled tqdm keeps no desc
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

        def update(self, n=1):
            if cancelled.is_set():
                raise DownloadCancelled("cancelled by the user")
            self.n += n
            report(int(self.n), int(self.total or 0), self.label)

    return Progress


class ModelDialog(QDialog):
    """``chosen_dir`` is set when the user picked files on disk; ``downloaded`` after a
    successful download of ``pack_name``/``variant``."""

    def __init__(self, store: ModelStore, parent=None, reason: str = "", provider: str = "cpu"):
        super().__init__(parent)
        self.setWindowTitle("Choose a SAM3 model")
        self.store = store
        self.chosen_dir: str | None = None
        self.downloaded: tuple[str, str] | None = None
        self._cancel = threading.Event()
        self.setMinimumWidth(640)  # errors and the recommendation wrap, never clipped
        layout = QVBoxLayout(self)
        intro = reason or "No SAM3 model is installed yet."
        layout.addWidget(QLabel(
            f"{intro}\nDownload the SAM3 tracker from Hugging Face, or point to ONNX files "
            "you already have. Everything that needs no model works without one."))
        pack = store.catalogue.get("sam3-tracker")
        self.variant = QComboBox(self)
        recommended = pack.default_for(provider)
        for variant in pack.variants.values():
            mark = "  installed" if store.is_installed(pack.name, variant.name) else ""
            best = "  (recommended)" if variant.name == recommended else ""
            self.variant.addItem(f"{pack.name} {variant.name}{best}  "
                                 f"(~{variant.approx_mb:,.0f} MB){mark}  {variant.note}",
                                 variant.name)
            self.variant.setItemData(self.variant.count() - 1, variant.note,
                                     Qt.ItemDataRole.ToolTipRole)
        self.variant.setCurrentIndex(self.variant.findData(recommended))
        layout.addWidget(self.variant)
        why = pack.default_reason(provider)
        self.why = QLabel(f"Recommended on {provider.upper()}: {recommended}. {why}".strip(),
                          self)
        self.why.setWordWrap(True)
        layout.addWidget(self.why)
        self.bar = QProgressBar(self)
        self.bar.setVisible(False)
        layout.addWidget(self.bar)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        row = QHBoxLayout()
        self.download = QPushButton("Download", self)
        self.cancel = QPushButton("Cancel download", self)
        self.cancel.setEnabled(False)
        self.disk = QPushButton("Use files on disk…", self)
        self.skip = QPushButton("Continue without a model", self)
        for button in (self.download, self.cancel, self.disk, self.skip):
            row.addWidget(button)
        layout.addLayout(row)
        self.inbox = Inbox(self)  # the download task reports through it
        self.tasks = TaskRunner(self.inbox)
        self.download.clicked.connect(self.start_download)
        self.cancel.clicked.connect(self._cancel.set)
        self.disk.clicked.connect(self._pick_folder)
        self.skip.clicked.connect(self.reject)

    def start_download(self, endpoint: str | None = None) -> None:
        from ..models.download import download_pack
        variant = self.variant.currentData()
        self._cancel.clear()
        self.bar.setVisible(True)
        self.bar.setRange(0, 0)
        self.download.setEnabled(False)
        self.cancel.setEnabled(True)
        self.status.setText(f"Downloading sam3-tracker {variant}…")
        tqdm_class = progress_class(
            lambda done, total, name: self.inbox.post(self._progress, done, total, name),
            self._cancel)

        def work(task: Task) -> str:
            download_pack(self.store, "sam3-tracker", variant, tqdm_class=tqdm_class,
                          endpoint=endpoint or None)
            return variant

        def done(result: object, error: str) -> None:
            if not error:
                self._finished(True, str(result))
            elif self._cancel.is_set():
                self._finished(False, "Cancelled. The part already downloaded is kept; "
                                      "Download resumes it.")
            else:
                self._finished(False, error)

        self.tasks.start("download", work, done)

    def _progress(self, done: int, total: int, name: str) -> None:
        if total > 0:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(1000 * done / total))
            self.status.setText(f"{name}: {done / 1e6:,.1f} of {total / 1e6:,.1f} MB")

    def _show_status(self, text: str) -> None:
        """A line (or an error of several) in full: the dialog grows to show it."""
        self.status.setText(text)
        self.adjustSize()

    def _finished(self, ok: bool, message: str) -> None:
        self.download.setEnabled(True)
        self.cancel.setEnabled(False)
        if ok:
            self.downloaded = ("sam3-tracker", message)
            self.accept()
        else:
            self.bar.setVisible(False)
            self._show_status(message)

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with vision_encoder*.onnx")
        if folder:
            self.chosen_dir = folder
            self.accept()

    def reject(self) -> None:
        """Closing the dialog cancels a download and waits for it to stop (its partial files
        stay for the next try)."""
        self._cancel.set()
        self.tasks.stop_all(timeout=10.0)
        super().reject()
