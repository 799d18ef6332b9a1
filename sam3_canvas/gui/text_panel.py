"""Text prompts in the app: type class names, get every instance, keep what is right.

The panel sends the names to a :class:`TextController`, which runs SAM3's text path on a
thread (the pack is opened on first use), lists the detections by class and score, and draws
them on the canvas. The threshold slider re-filters the result already computed: no model runs
again. "Accept" turns the ticked detections into instances with one undoable command. While
"exemplar boxes" is on, a box drawn on the canvas is an exemplar (shift: a negative one) for the
next search, if the pack takes boxes.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ..app.commands import AddInstance, Compound
from ..document.annotation import Instance
from ..engine.text import Exemplar, TextSegmenter, parse_classes
from .images import logits_overlay, mask_overlay
from .panels import TextEntry, swatch


class TextPanel(QWidget):
    search = Signal(str)
    thresholdChanged = Signal(float)
    acceptRequested = Signal(bool)  # True: only the ticked ones

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.entry = TextEntry(self)
        self.entry.setPlaceholderText("class names, e.g. person, car")
        self.find = QPushButton("Find", self)
        row.addWidget(self.entry)
        row.addWidget(self.find)
        layout.addLayout(row)
        slider_row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(5, 99)
        self.slider.setValue(50)
        self.threshold_label = QLabel("score ≥ 0.50", self)
        slider_row.addWidget(self.slider)
        slider_row.addWidget(self.threshold_label)
        layout.addLayout(slider_row)
        self.exemplars = QCheckBox("boxes on the canvas are exemplars (shift: negative)", self)
        layout.addWidget(self.exemplars)
        self.results = QListWidget(self)
        layout.addWidget(self.results)
        buttons = QHBoxLayout()
        self.accept_all = QPushButton("Accept all", self)
        self.accept_ticked = QPushButton("Accept ticked", self)
        buttons.addWidget(self.accept_all)
        buttons.addWidget(self.accept_ticked)
        layout.addLayout(buttons)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.find.clicked.connect(lambda: self.search.emit(self.entry.text()))
        self.entry.returnPressed.connect(lambda: self.search.emit(self.entry.text()))
        self.slider.valueChanged.connect(self._slid)
        self.accept_all.clicked.connect(lambda: self.acceptRequested.emit(False))
        self.accept_ticked.clicked.connect(lambda: self.acceptRequested.emit(True))

    @property
    def threshold(self) -> float:
        return self.slider.value() / 100.0

    def _slid(self, value: int) -> None:
        self.threshold_label.setText(f"score ≥ {value / 100:.2f}")
        self.thresholdChanged.emit(value / 100.0)

    def show_detections(self, detections, colours: dict[str, tuple[int, int, int]]) -> None:
        self.results.clear()
        for n, det in enumerate(detections):
            item = QListWidgetItem(swatch(colours.get(det.label, (30, 144, 255))),
                                   f"{det.label}   score {det.score:.3f}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            item.setData(Qt.ItemDataRole.UserRole, n)
            self.results.addItem(item)

    def ticked(self) -> list[int]:
        return [self.results.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.results.count())
                if self.results.item(i).checkState() == Qt.CheckState.Checked]


class TextController(QObject):
    """Runs the text path for the window and keeps its current result."""

    def __init__(self, window, panel: TextPanel):
        super().__init__(window)
        self.window = window
        self.panel = panel
        self.segmenter: TextSegmenter | None = None
        self.result = None
        self.detections = []
        self.exemplars: list[Exemplar] = []
        self.request = 0
        self.busy = False
        self.segmenter_folder: Path | None = None
        self._loading = threading.Lock()  # two quick searches open one text model, not two
        self._overlay_request = 0
        self._refilter_timer = QTimer(self)  # the slider's moves, debounced
        self._refilter_timer.setSingleShot(True)
        self._refilter_timer.setInterval(60)
        self._refilter_timer.timeout.connect(self.refilter)
        panel.search.connect(self.find)
        panel.thresholdChanged.connect(lambda _: self._refilter_timer.start())
        panel.acceptRequested.connect(self.accept)

    def pack_folder(self) -> Path | None:
        settings = self.window.settings
        if settings.text_model_dir:
            return Path(settings.text_model_dir)
        store = self.window.store
        if store.is_installed(settings.text_model):
            return store.pack_dir(settings.text_model)
        return None

    def add_exemplar(self, box, negative: bool) -> None:
        self.exemplars.append(Exemplar(tuple(box), positive=not negative))
        self.window.canvas.set_exemplars([(e.box, e.positive) for e in self.exemplars])
        kind = "negative" if negative else "positive"
        self.panel.status.setText(f"{len(self.exemplars)} exemplar box(es), last {kind}; "
                                  "press Find")

    def clear(self) -> None:
        self.result, self.detections, self.exemplars = None, [], []
        self._overlay_request += 1
        self.panel.results.clear()
        self.window.canvas.set_detections([])
        self.window.canvas.set_exemplars([])

    def find(self, text: str) -> None:
        editor = self.window.editor
        if editor is None or editor.image is None:
            return
        names = parse_classes(text)
        if not names and not self.exemplars:
            self.panel.status.setText("Type one or more class names, separated by commas.")
            return
        folder = self.pack_folder()
        if folder is None:
            self.panel.status.setText("No text pack installed: `sam3-canvas models download "
                                      "sam3-text-int8`, or set its folder in Model > Settings.")
            return
        self.request += 1
        request, image, exemplars = self.request, editor.image, list(self.exemplars)
        self.busy = True
        self.panel.status.setText(f"looking for {', '.join(names) or 'the exemplars'}…")
        settings = self.window.settings
        provider = settings.provider
        read = self.window.worker.reader  # a photo's file, or a clip's frame

        def work(task):
            with self._loading:
                if self.segmenter is None or self.segmenter_folder != folder:
                    from ..engine.cache import EmbeddingCache
                    from ..models.store import default_cache_dir
                    cache = EmbeddingCache(settings.cache_mb << 20,
                                           default_cache_dir() if settings.disk_cache else None,
                                           disk_max_bytes=settings.disk_cache_mb << 20)
                    self.segmenter = TextSegmenter(folder, provider=provider, cache=cache)
                    self.segmenter_folder = folder
                segmenter = self.segmenter
            task.check()
            return segmenter.detect(read(image), names, exemplars)

        def done(result, error):
            if result is None:
                self._failed(request, error)
            else:
                self._done(request, image, result)

        self.window.tasks.start("text", work, done)

    def _failed(self, request: int, message: str) -> None:
        if request == self.request:
            self.busy = False
            self.panel.status.setText(message)

    def _done(self, request: int, image: Path, result) -> None:
        editor = self.window.editor
        if request != self.request or editor is None or editor.image != image:
            return  # a newer search, or another image or folder
        self.busy = False
        self.result = result
        note = " (the pack filters below 0.5 itself)" if result.classes and \
            result.classes[0].layout == "A" else ""
        decode = sum(c.timings.get("decode", 0) for c in result.classes)
        fallback = self.segmenter.fallback_reason if self.segmenter is not None else None
        warning = f"  ⚠ {fallback}" if fallback else ""
        self.panel.status.setText(f"{len(result.classes)} class(es), decoder {decode:.0f} ms"
                                  f"{note}{warning}")
        if fallback:
            self.window.statusBar().showMessage(fallback, 15000)
        self.refilter()

    def refilter(self) -> None:
        """Apply the slider to the result already computed: no model runs. The list follows
        at once; the overlays are drawn on a task and replace the old ones when ready."""
        if self.result is None:
            return
        self.detections = detections = self.result.detections(self.panel.threshold)
        labels = self.window.project.labels
        colours = {d.label: labels.get(d.label).colour if d.label in labels else (30, 144, 255)
                   for d in detections}
        self.panel.show_detections(detections, colours)
        scale = min(self.window.bridge.display_scale, 1.0)
        self._overlay_request += 1
        request = self._overlay_request

        def work(task):
            overlays = []
            for det in detections:
                task.check()
                colour = colours[det.label]
                result = det._result
                if result.logits is not None:  # layout A2: straight from the low-res logits
                    overlay = logits_overlay(result.logits[det.query], result.image_size,
                                             colour, scale)
                else:
                    overlay = mask_overlay(det.mask(), colour, scale=scale)
                if overlay is not None:
                    overlays.append(overlay)
            return overlays

        def done(overlays, error):
            if request == self._overlay_request and overlays is not None:
                self.window.canvas.set_detections(overlays)

        self.window.tasks.start("text-overlays", work, done)

    def accept(self, ticked_only: bool) -> None:
        """The chosen detections become instances in one undoable step. Their full-size masks
        are made on a task; one that an instance of the same label already covers (IoU above
        0.9: the same search accepted twice) is left out."""
        editor = self.window.editor
        if editor is None or editor.doc is None or not self.detections:
            return
        chosen = [self.detections[n] for n in
                  (self.panel.ticked() if ticked_only else range(len(self.detections)))]
        doc = editor.doc
        existing = [(i.label, i.rle) for i in doc.instances]
        self.panel.status.setText(f"accepting {len(chosen)} detection(s)…")

        def work(task):
            from ..document import rle as rle_codec
            masks, skipped = [], 0
            for det in chosen:
                task.check()
                mask = det.mask()
                if not mask.any():
                    continue
                if any(label == det.label and _iou(rle_codec.decode(rle), mask) > 0.9
                       for label, rle in existing):
                    skipped += 1
                    continue
                masks.append((det, mask))
            return masks, skipped

        def done(result, error):
            if result is None:
                self.panel.status.setText(error)
                return
            masks, skipped = result
            if editor.doc is not doc:
                return  # another image by now
            commands = []
            for det, mask in masks:
                self.window.project.labels.add(det.label)
                instance = Instance.from_mask(doc.next_id(), det.label, mask,
                                              score=round(det.score, 6),
                                              source={"kind": "text", "classes": det.label,
                                                      "query": det.query})
                commands.append(AddInstance(editor, doc, instance))
            if commands:
                self.window.history.push(Compound(f"accept {len(commands)} detections",
                                                  commands))
                try:
                    self.window.project.save_labels()
                except Exception as exc:  # SaveError: reported, the instances are saved
                    self.window.statusBar().showMessage(str(exc), 15000)
            self.clear()
            note = f"; {skipped} already in the image, left out" if skipped else ""
            self.panel.status.setText(f"{len(commands)} instance(s) added{note}")

        self.window.tasks.start("text-accept", work, done)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 0.0
