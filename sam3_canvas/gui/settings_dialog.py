"""Settings: model and variant, provider, cache size, prefetch depth (kept in QSettings)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
)

from ..app.settings import Settings
from ..engine.providers import available_providers
from ..models.catalogue import load_catalogue

GROUP = "settings"


def load_settings(store: QSettings) -> Settings:
    store.beginGroup(GROUP)
    values = {key: store.value(key) for key in store.childKeys()}
    store.endGroup()
    return Settings.from_mapping(values)


def save_settings(store: QSettings, settings: Settings) -> None:
    store.beginGroup(GROUP)
    for key, value in settings.to_dict().items():
        store.setValue(key, value)
    store.endGroup()
    store.sync()


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.original = settings
        form = QFormLayout(self)
        catalogue = load_catalogue()
        self.model = QComboBox(self)
        self.packs = {p.name: p for p in catalogue if p.layout == "tracker"}
        self.model.addItems(list(self.packs))
        self.model.setCurrentText(settings.model)
        form.addRow("Model", self.model)
        self.variant = QComboBox(self)
        form.addRow("Variant", self.variant)
        self.model.currentTextChanged.connect(self._fill_variants)
        self._fill_variants(settings.model, settings.variant)
        row = QHBoxLayout()
        self.folder = QLineEdit(settings.model_dir, self)
        self.folder.setPlaceholderText("or a folder holding vision_encoder*.onnx")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        row.addWidget(self.folder)
        row.addWidget(browse)
        form.addRow("Files on disk", row)
        # a folder on disk wins over the catalogue pack: say so by greying the pack out
        self.folder.textChanged.connect(self._folder_changed)
        self._folder_changed(self.folder.text())
        text_row = QHBoxLayout()
        self.text_folder = QLineEdit(settings.text_model_dir, self)
        self.text_folder.setPlaceholderText(f"or the catalogue's {settings.text_model}")
        text_browse = QPushButton("Browse…", self)
        text_browse.clicked.connect(self._browse_text)
        text_row.addWidget(self.text_folder)
        text_row.addWidget(text_browse)
        form.addRow("Text pack (class names)", text_row)
        self.text_model = settings.text_model
        self.provider = QComboBox(self)
        offered = available_providers()
        self.provider.addItems(offered)
        self.provider.setCurrentText(settings.provider if settings.provider in offered else "cpu")
        self.provider.setToolTip("Only the providers this onnxruntime offers are listed; a "
                                 "provider that fails to start falls back to CPU.")
        form.addRow("Runs on", self.provider)
        self.cache = QSpinBox(self)
        self.cache.setRange(64, 65536)
        self.cache.setSuffix(" MB")
        self.cache.setValue(settings.cache_mb)
        form.addRow("Embedding cache (memory)", self.cache)
        self.disk = QCheckBox("also keep embeddings on disk", self)
        self.disk.setChecked(settings.disk_cache)
        form.addRow("", self.disk)
        self.disk_mb = QSpinBox(self)
        self.disk_mb.setRange(64, 1 << 20)
        self.disk_mb.setSingleStep(256)
        self.disk_mb.setSuffix(" MB")
        self.disk_mb.setValue(settings.disk_cache_mb)
        self.disk_mb.setToolTip("The disk cache stays under this size; the embeddings used "
                                "least recently are deleted first (~10 MB an image for clicks, "
                                "~58 MB for class names).")
        self.disk_mb.setEnabled(settings.disk_cache)
        self.disk.toggled.connect(self.disk_mb.setEnabled)
        form.addRow("Embedding cache (disk)", self.disk_mb)
        self.prefetch = QSpinBox(self)
        self.prefetch.setRange(0, 20)
        self.prefetch.setValue(settings.prefetch)
        form.addRow("Encode ahead (images)", self.prefetch)
        self.megapixels = QSpinBox(self)
        self.megapixels.setRange(1, 2000)
        self.megapixels.setSuffix(" MP")
        self.megapixels.setValue(int(round(settings.max_megapixels)))
        self.megapixels.setToolTip("Larger images are refused before they are decoded (the "
                                   "same limit as the command line's --max-megapixels).")
        form.addRow("Largest image", self.megapixels)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                   QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._initial = self._values()  # what "untouched" means

    def _fill_variants(self, name: str, chosen: str = "") -> None:
        self.variant.clear()
        pack = self.packs.get(name)
        if pack is None:
            return
        for variant in pack.variants.values():
            self.variant.addItem(f"{variant.name}  (~{variant.approx_mb:,.0f} MB)", variant.name)
        index = self.variant.findData(chosen or pack.default_variant)
        self.variant.setCurrentIndex(max(index, 0))

    def _folder_changed(self, text: str) -> None:
        used = not text.strip()
        for widget in (self.model, self.variant):
            widget.setEnabled(used)
            widget.setToolTip("" if used else "Not used: the ONNX files in the folder below "
                                              "run instead (clear it to use the catalogue)")

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with the ONNX graphs")
        if folder:
            self.folder.setText(folder)

    def _browse_text(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder with sam3_decoder.onnx")
        if folder:
            self.text_folder.setText(folder)

    def _values(self) -> dict:
        """What the widgets show, as Settings fields."""
        return {"model": self.model.currentText(), "variant": self.variant.currentData() or "",
                "model_dir": self.folder.text().strip(), "provider": self.provider.currentText(),
                "cache_mb": self.cache.value(), "disk_cache": self.disk.isChecked(),
                "disk_cache_mb": self.disk_mb.value(), "prefetch": self.prefetch.value(),
                "max_megapixels": float(self.megapixels.value()),
                "text_model_dir": self.text_folder.text().strip()}

    def changed_fields(self) -> set[str]:
        """The fields the user changed in the dialog (nothing else is ever changed)."""
        now = self._values()
        return {name for name, value in now.items() if value != self._initial[name]}

    def result_settings(self) -> Settings:
        """The settings it opened with, and only what the user changed; folders absolute."""
        out = replace(self.original)
        now = self._values()
        for name in self.changed_fields():
            value = now[name]
            if name in ("model_dir", "text_model_dir") and value:
                value = str(Path(value).expanduser().absolute())
            setattr(out, name, value)
        return out
