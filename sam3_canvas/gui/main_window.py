"""The main window: it composes the widgets and wires them to the Qt-free editor and worker.

What a change means lives in ``app.editor``; how results are computed lives in
``app.worker``. This class only turns user input into editor commands and editor events into
repaints.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox

from ..app.editor import Editor, EditorEvent
from ..app.project import Project
from ..app.settings import Settings
from ..app.worker import InferenceWorker
from ..document.labels import LabelSet
from ..engine.errors import Sam3CanvasError
from ..engine.prompts import Prompt
from ..models.store import ModelStore, open_segmenter
from ..video.frames import display_name
from .bridge import WorkerBridge, candidate_overlay
from .candidates_panel import CandidatesPanel
from .canvas import CanvasView
from .dataset_actions import DatasetActions
from .file_actions import FileActions
from .inbox import Inbox
from .instance_overlays import InstanceOverlays
from .label_actions import LabelActions
from .mask_tools import MaskTools
from .menus import build_menus
from .panels import FilesPanel, InstancesPanel, LabelsPanel
from .settings_dialog import SettingsDialog, load_settings, save_settings
from .tasks import TaskRunner
from .text_panel import TextController, TextPanel
from .undo import UndoHistory
from .video_mode import VideoMode
from .view_actions import ViewActions

#: settings that change which model runs, or how: changing one reloads the model
MODEL_FIELDS = {"model", "variant", "model_dir", "provider", "cache_mb", "disk_cache",
                "disk_cache_mb"}


class MainWindow(FileActions, LabelActions, ViewActions, DatasetActions, QMainWindow):
    def __init__(self, settings: Settings | None = None, qsettings: QSettings | None = None,
                 store: ModelStore | None = None):
        super().__init__()
        self.setWindowTitle("sam3-canvas")
        self.resize(1280, 720)  # fits a 1366 x 768 screen; the last size is restored
        self.qsettings = qsettings or QSettings("sam3-canvas", "sam3-canvas")
        #: what is saved (QSettings) and what runs now (``settings``, which the command line
        #: may override for this session without saving)
        self.saved_settings = load_settings(self.qsettings)
        self.settings = settings or load_settings(self.qsettings)
        self.inbox = Inbox(self)  # any thread may post GUI work here
        self.tasks = TaskRunner(self.inbox)
        self.messages: list[tuple[str, str]] = []  # what tell() said, in order
        self._boxes: dict[str, QMessageBox] = {}  # open message boxes by title
        self.store = store or ModelStore()
        # a child: it dies with the window, so nothing it still holds reaches deleted widgets
        self.bridge = WorkerBridge(self)
        self.worker = InferenceWorker(self.bridge, prefetch_depth=self.settings.prefetch)
        self.segmenter = None
        self.project: Project | None = None
        self.editor: Editor | None = None
        self.index = -1
        self.photo = None  # PhotoImages of the image on screen
        self.show_request = 0
        self.predict_request = 0
        self.selected_instance = -1
        self.model_loading = False
        self.hide_all = False
        self.overlays = InstanceOverlays(self)
        self._candidate_overlays: dict[int, object] = {}  # candidate index -> overlay

        self.canvas = CanvasView(self)
        self.setCentralWidget(self.canvas)
        self.candidates = CandidatesPanel(self)
        self.labels = LabelsPanel(self)
        self.instances = InstancesPanel(self)
        self.files = FilesPanel(self)
        self.text = TextPanel(self)
        right, left = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.LeftDockWidgetArea
        for title, widget, area in (("Candidates  (1, 2, 3)", self.candidates, right),
                                    ("Labels  (Ctrl+1..9)", self.labels, right),
                                    ("Instances", self.instances, right),
                                    ("Find by name", self.text, left),
                                    ("Images  (A / D)", self.files, left)):
            dock = QDockWidget(title, self)
            dock.setObjectName(title.split()[0])
            dock.setWidget(widget)
            dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
            self.addDockWidget(area, dock)
        self.history = UndoHistory(self)
        self.text_controller = TextController(self, self.text)
        self.tools = MaskTools(self)
        self.canvas.set_brush_radius(self.settings.brush_radius)
        self.canvas.hover_enabled = self.settings.hover_preview
        self.status_model = QLabel("no model")
        self.status_times = QLabel("")
        self.statusBar().addPermanentWidget(self.status_times)
        self.statusBar().addPermanentWidget(self.status_model)
        self.video = VideoMode(self)  # a clip's frames as the images (before the menus)
        build_menus(self)
        self._connect()
        self._restore_geometry()
        self.video.bar.setVisible(self.video.active)  # restoreState may have shown it
        self.load_model()

    # -- construction -----------------------------------------------------------------
    def _connect(self) -> None:
        b = self.bridge
        b.modelReady.connect(self._model_ready)
        b.modelFailed.connect(self._model_failed)
        b.imageReady.connect(self._image_ready)
        b.imageFailed.connect(self._image_failed)
        b.encodedReady.connect(self._encoded)
        b.predictionReady.connect(self._predicted)
        b.thumbnailsReady.connect(self._thumbnails_ready)
        b.predictionFailed.connect(self._prediction_failed)
        b.encodeFailed.connect(self._encode_failed)
        b.stateChanged.connect(self._state_changed)
        self.canvas.zoomChanged.connect(self._zoomed)
        self.canvas.clicked.connect(self._clicked)
        self.canvas.boxDrawn.connect(self._box)
        self.canvas.boxAdjusted.connect(self._box_adjusted)
        self.canvas.rested.connect(self._rested)
        self.candidates.chosen.connect(lambda i: self.editor and self.editor.select_candidate(i))
        self.labels.labelChosen.connect(self._label_chosen)
        self.labels.loadRequested.connect(self.ask_classes)
        self.labels.renameRequested.connect(self.ask_rename_label)
        self.labels.recolourRequested.connect(self.ask_recolour_label)
        self.labels.deleteRequested.connect(self.ask_delete_label)
        self.instances.selected.connect(self.select_instance)
        self.instances.visibilityChanged.connect(
            lambda i, visible: self.editor and self.history.push(
                self.editor.cmd_set_hidden(i, not visible)))
        self.instances.deleteRequested.connect(
            lambda i: self.editor and self.history.push(self.editor.cmd_delete(i)))
        self.instances.relabelRequested.connect(self._relabel)
        self.files.opened.connect(self.show_image)

    # -- model ------------------------------------------------------------------------
    def load_model(self) -> None:
        s = self.settings
        if not s.model_dir and not self.store.is_installed(
                s.model, s.variant or self.store.chosen_variant(s.model, s.provider)):
            self.status_model.setText("no model: Model > Choose or download a model")
            return
        self.status_model.setText(f"loading {s.describe_model()}…")
        self.status_model.setToolTip("")
        from ..engine.providers import available_providers, tensorrt_needs_build
        if s.provider == "tensorrt" and "tensorrt" in available_providers() and \
                tensorrt_needs_build():
            self.status_model.setText(f"optimising {s.describe_model()} for this GPU, once "
                                      "(TensorRT: a few minutes)…")
        self.model_loading = True
        store = self.store
        self.worker.set_prefetch_depth(s.prefetch)
        from ..engine.images import set_pixel_limit
        set_pixel_limit(int(s.max_megapixels * 1e6))
        self.worker.load_model(lambda: open_segmenter(
            model=s.model, model_dir=s.model_dir or None, variant=s.variant or None,
            provider=s.provider, use_disk_cache=s.disk_cache, cache_bytes=s.cache_mb << 20,
            disk_cache_bytes=s.disk_cache_mb << 20, store=store))

    def _model_ready(self, segmenter) -> None:
        self.segmenter = segmenter
        self.model_loading = False
        model = segmenter.model
        text = f"{self.settings.describe_model()} on {model.provider}"
        self.status_model.setText(text)
        if self.editor:
            self.editor.model_name = self.settings.describe_model()
        from ..engine.providers import conflicting_packages
        note = model.encoder_info.note or model.decoder_info.note
        if note:
            self.statusBar().showMessage(note, 15000)
        warning = "; ".join(w for w in (model.fallback_reason, conflicting_packages()) if w)
        if warning:
            self.status_model.setText(text + "  ⚠")
            self.status_model.setToolTip(warning)
            self.statusBar().showMessage(warning, 15000)

    def _model_failed(self, message: str) -> None:
        self.segmenter = None
        self.model_loading = False
        self.status_model.setText("no model (failed to load)")
        self.status_model.setToolTip(message)
        self.statusBar().showMessage(message, 30000)
        self.tell("The model could not be loaded", message)

    def choose_model(self) -> None:
        from .model_dialog import ModelDialog
        dialog = ModelDialog(self.store, self, provider=self.settings.provider)
        if dialog.exec():
            if dialog.chosen_dir:
                self.settings.model_dir = dialog.chosen_dir
            elif dialog.downloaded:
                self.settings.model, self.settings.variant = dialog.downloaded
                self.settings.model_dir = ""
            self._save_settings({"model", "variant", "model_dir"})
            self.load_model()

    def edit_settings(self) -> None:
        self.settings_dialog = dialog = SettingsDialog(self.settings, self)
        dialog.accepted.connect(lambda: self._settings_accepted(dialog))
        dialog.open()

    def _settings_accepted(self, dialog: SettingsDialog) -> None:
        changed = dialog.changed_fields()
        if not changed:
            return  # OK with nothing touched changes nothing, saved or running
        self.settings = dialog.result_settings()
        self._save_settings(changed)
        self.worker.set_prefetch_depth(self.settings.prefetch)
        from ..engine.images import set_pixel_limit
        set_pixel_limit(int(self.settings.max_megapixels * 1e6))
        if changed & MODEL_FIELDS:
            self.load_model()

    def _save_settings(self, fields: set[str]) -> None:
        """Save only ``fields`` (what the user just chose); the rest of what is saved stays,
        even where the command line overrides it for this session."""
        for name in fields:
            setattr(self.saved_settings, name, getattr(self.settings, name))
        save_settings(self.qsettings, self.saved_settings)

    # -- folder and images ------------------------------------------------------------------
    def _saved(self, editor: Editor, name: str, error: str | None) -> None:
        if editor is self.editor:
            editor.saved(name, error)

    def flush_saves(self, timeout: float = 30.0) -> bool:
        """Wait until every change is on disk (the writer thread is done)."""
        saver = self.editor.saver if self.editor is not None else None
        return saver is None or saver.flush(timeout)

    def close_folder(self) -> None:
        """Forget everything of the open folder: image, prompt, overlays, panels, histories
        (what is saved stays saved; nothing of it can act on the next folder)."""
        self.tasks.stop_all(timeout=10.0)
        self.video.close()
        if self.editor is not None:
            if self.editor.saver is not None:
                self.editor.saver.stop()
            self.editor.close_image()
        self.project = None
        self.editor = None
        self.index = -1
        self.photo = None
        self.selected_instance = -1
        self.overlays.clear()
        self._candidate_overlays = {}
        self.history.clear()
        self.text_controller.clear()
        self.canvas.set_photo(None)
        self.canvas.set_instances([])
        self.canvas.set_candidate(None)
        self.candidates.clear()
        self.status_times.setText("")
        self.instances.show_document(None, LabelSet())
        self.files.show_files([], set())

    def show_image(self, index: int) -> None:
        if self.project is None or not 0 <= index < len(self.project.images):
            return
        self.index = index
        images = self.project.images
        path = images[index]
        self.files.set_current(index)
        self.video.shown(index)
        # the image's undo history becomes active when the image does (_image_ready), so an
        # undo in between can never act on the image being left or the one being opened
        following = images[index + 1:] + images[:index]
        self.show_request = self.worker.show(path, prefetch=following)
        self.statusBar().showMessage(f"opening {display_name(path)}…")

    def step(self, delta: int) -> None:
        if self.project is not None:
            self.show_image((self.index + delta) % len(self.project.images))

    def _image_ready(self, request, path, image, photo) -> None:
        if request != self.show_request or self.editor is None:
            return
        self.photo = photo
        self.overlays.clear()
        self.selected_instance = -1
        self.text_controller.clear()
        self.canvas.set_photo(photo)
        self.candidates.clear()
        try:
            self.editor.open_image(path, (image.width, image.height), image.key)
        except Sam3CanvasError as exc:  # its annotation file is unreadable and stuck
            self._show_failure(path, str(exc))
            return
        self.history.activate(path.name)
        for warning in self.project.warnings:
            self.tell("Annotations", warning)
        self.project.warnings.clear()
        note = f"  ({image.note})" if getattr(image, "note", "") else ""
        self.statusBar().showMessage(
            f"{display_name(path)}  {image.width} x {image.height}{note}" +
            ("" if self.segmenter or self.model_loading else "  (no model: annotations only)"),
            5000 if not note else 15000)

    def _image_failed(self, request, path, message) -> None:
        self.files.set_state(path.name, "failed", message)
        if request == self.show_request:
            self._show_failure(path, message)

    def _show_failure(self, path: Path, message: str) -> None:
        """The image on screen cannot be worked on: say why, and leave nothing of the
        previous image that a key could act on."""
        self.files.set_state(path.name, "failed", message)
        if self.editor is not None:
            self.editor.close_image()
        self.history.group.setActiveStack(None)
        self.photo = None
        self.overlays.clear()
        self.canvas.set_photo(None)
        self.canvas.set_instances([])
        self.candidates.clear(f"{path.name} cannot be opened: {message}")
        self.statusBar().showMessage(message, 30000)

    def _encode_failed(self, request, path, message) -> None:
        if request in (self.show_request, 0):
            self.candidates.clear(f"The model failed on {path.name}: {message}")
            self.statusBar().showMessage(message, 30000)

    def _prediction_failed(self, request, path, message) -> None:
        if request == self.predict_request:
            self.candidates.clear(message)
        self.statusBar().showMessage(message, 15000)

    def _state_changed(self, path: Path, state: str, reason: str) -> None:
        self.files.set_state(path.name, state, reason)
        if state == "failed" and reason and self.editor is not None and \
                self.editor.image == path:
            self.statusBar().showMessage(f"{path.name}: {reason}", 30000)

    def _encoded(self, request, path, encoded) -> None:
        if request not in (self.show_request, 0):
            return
        how = encoded.cache_hit or f"{encoded.timings['encode']:.0f} ms"
        self.status_times.setText(f"encode: {how}")

    # -- prompts -----------------------------------------------------------------------
    def _clicked(self, x: float, y: float, background: bool) -> None:
        if self.editor is None or self.editor.doc is None:
            return
        if self.editor.prompt.is_empty and self.tools.refine_click(x, y, background):
            return  # an instance is selected: the click refines it
        self.history.push(self.editor.cmd_add_point(x, y, background))

    def _rested(self, x: float, y: float) -> None:
        """Hover preview: the mask under the resting cursor, when nothing is being prompted."""
        editor = self.editor
        if editor is None or editor.doc is None or self.segmenter is None or \
                not editor.prompt.is_empty or self.selected_instance >= 0:
            return
        self.tools.hover_request = self.worker.predict(editor.image, Prompt.click(x, y))

    def _box(self, x1, y1, x2, y2, shift: bool = False) -> None:
        if self.text.exemplars.isChecked():
            self.text_controller.add_exemplar((x1, y1, x2, y2), negative=shift)
        elif self.editor is not None and self.editor.doc is not None:
            self.history.push(self.editor.cmd_set_box(x1, y1, x2, y2))

    def _box_adjusted(self, x1, y1, x2, y2) -> None:
        """The prompt box moved or resized by its handles: the decoder runs on the new one."""
        if self.editor is not None and self.editor.doc is not None:
            self.history.push(self.editor.cmd_set_box(x1, y1, x2, y2))

    def clear_prompt(self) -> None:
        """Esc: drop the polygon being drawn, else the prompt, else the selection."""
        if self.canvas.cancel_draft() or self.editor is None:
            return
        if not self.editor.prompt.is_empty:
            self.history.push(self.editor.cmd_clear_prompt())
        elif self.selected_instance >= 0:
            self.select_instance(-1)
        if self.editor.prompt.is_empty:
            self.canvas.set_candidate(None)  # a hover preview

    def accept_candidate(self) -> None:
        """Enter: close the polygon being drawn, else accept the candidate (asking for a
        label when there is none yet)."""
        if self.canvas.close_polygon() or self.editor is None:
            return
        if self.editor.prediction is None:
            return
        if not self.editor.label:
            self.ask_label()
            return
        self.history.push(self.editor.cmd_accept())

    def ask_label(self) -> None:
        """No label yet: ask for one (not blocking), then accept with it."""
        from PySide6.QtWidgets import QInputDialog
        dialog = QInputDialog(self)
        dialog.setWindowTitle("Label")
        dialog.setLabelText("What is it? (the label of this instance)")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.label_dialog = dialog

        def chosen(name: str) -> None:
            if name.strip() and self.editor is not None:
                self.editor.set_label(name.strip())
                self.accept_candidate()

        dialog.textValueSelected.connect(chosen)
        dialog.open()

    def delete_selected(self) -> None:
        if self.editor is not None and self.instances.current_id() >= 0:
            self.history.push(self.editor.cmd_delete(self.instances.current_id()))
            self.selected_instance = -1

    def _thumbnails_ready(self, request, thumbnails) -> None:
        if request == self.predict_request and self.editor is not None and \
                self.editor.prediction is not None:
            self.candidates.show_thumbnails(thumbnails)

    def _zoomed(self, scale: float) -> None:
        """Overlays are made at the view's scale; zooming in past one makes a sharper one."""
        self.bridge.display_scale = scale
        if self.editor is not None and self.editor.doc is not None:
            self.show_instances()  # sharper overlays where the zoom now needs them
        overlay = self.canvas.candidate.overlay
        if overlay is not None and overlay.scale < min(scale, 1.0) * 0.8 and \
                self.editor is not None and self.editor.prediction is not None:
            self._candidate_overlays = {}
            self.editor_changed("candidate")

    def _predicted(self, request, path, prediction, overlay) -> None:
        if self.editor is None or self.editor.image != path:
            return
        if self.tools.take_prediction(request, prediction):
            return  # a refinement or a Ctrl/Alt+click: already applied
        if request == self.tools.hover_request:
            if self.editor.prompt.is_empty and self.selected_instance < 0:
                self.canvas.set_candidate(overlay)  # a preview; a click makes it the prompt
            return
        if request != self.predict_request:
            return  # stale: a newer prompt is on its way
        if prediction.prompt != self.editor.prompt:
            return
        self.canvas.set_candidate(overlay)  # the overlay first: it is what the user waits for
        self._candidate_overlays = {prediction.best_index: overlay}
        if self.editor.set_prediction(prediction):
            self.status_times.setText(
                f"{self.status_times.text().split('  ')[0]}  decode: "
                f"{prediction.timings['decode']:.0f} ms")

    # -- editor events -------------------------------------------------------------------
    def editor_changed(self, what: EditorEvent) -> None:
        editor = self.editor
        if what == "document":
            self.video.documents_changed()
        if what == "prompt":
            self.canvas.set_prompt(editor.prompt)
            if editor.prompt.is_empty:
                self.canvas.set_candidate(None)
                self.candidates.clear()
            elif self.segmenter is None and not self.model_loading:
                self.candidates.clear("No model loaded: Model > Choose or download a model.")
            else:
                self.predict_request = self.worker.predict(editor.image, editor.prompt)
        elif what == "prediction":
            self.candidates.show_prediction(editor.prediction, editor.candidate)
        elif what == "candidate":
            overlays = self._candidate_overlays
            if editor.candidate not in overlays:
                overlays[editor.candidate] = candidate_overlay(
                    editor.prediction, editor.candidate, self.bridge.display_scale)
            self.canvas.set_candidate(overlays[editor.candidate])
            self.candidates.set_chosen(editor.candidate)
        elif what == "document" and editor.changed_doc is not editor.doc:
            changed = editor.changed_doc  # another image's, after an undo in its history
            self.files.set_annotated(changed.image_file, bool(changed.instances))
        elif what in ("document", "image"):
            if self.selected_instance >= 0 and not editor.doc.has(self.selected_instance):
                self.selected_instance = -1
            self.show_instances()
            self.tools.show_outline()
            self.instances.show_document(editor.doc, self.project.labels)
            self.show_labels()
            self.files.set_annotated(editor.image.name, bool(editor.doc.instances))
        elif what == "closed":
            self.overlays.clear()
            self.canvas.set_instances([])
            self.canvas.set_candidate(None)
            self.canvas.set_prompt(editor.prompt)
            self.instances.show_document(None, self.project.labels)
        elif what == "label":
            self.show_labels()
        elif what == "save_error":
            self.statusBar().showMessage(editor.last_save_error, 20000)
            self.tell("Not saved", editor.last_save_error)

    def show_instances(self) -> None:
        items = self.overlays.items()
        self.canvas.set_instances(items)
        if not self.overlays.building and self.tools.stroke is None:
            self.canvas.live.stop()  # a finished stroke's instance is drawn for real now

    def _instance_items(self) -> list[tuple]:
        return self.overlays.items()

    def select_instance(self, instance_id: int) -> None:
        """Select an instance (-1: none), from the list or the canvas: highlighted, its
        outline editable in the select tool, the target of the brush and of refining clicks."""
        if self.editor is None or self.editor.doc is None or not self.editor.doc.has(
                instance_id):
            instance_id = -1
        self.selected_instance = instance_id
        if self.instances.current_id() != instance_id:
            self.instances.select(instance_id)
        if self.editor is not None and self.editor.doc is not None:
            self.show_instances()
        self.tools.show_outline()
        if instance_id >= 0:
            self.statusBar().showMessage(
                f"#{instance_id} selected: clicks refine it, B/E paint it, Esc deselects", 6000)

    def hide_instance_overlay(self, instance_id: int) -> None:
        """Take one instance's overlay off the canvas (while a stroke repaints it live)."""
        self.canvas.set_instances([item for item in self._instance_items()
                                   if item[1] != instance_id])

    def show_labels(self) -> None:
        if self.project is None or self.editor is None:
            return
        counts: dict[str, int] = {}
        for inst in self.editor.doc.instances if self.editor.doc else []:
            counts[inst.label] = counts.get(inst.label, 0) + 1
        self.labels.show_labels(self.project.labels, self.editor.label, counts)

    def _label_chosen(self, name: str) -> None:
        if self.editor is not None:
            self.editor.set_label(name)

    def _relabel(self, instance_id: int) -> None:
        if self.editor is not None and self.editor.label:
            self.history.push(self.editor.cmd_relabel(instance_id, self.editor.label))

    def tell(self, title: str, text: str, warning: bool = True) -> None:
        """A message box that does not block (``open``, not ``exec``); what was told is kept
        in ``messages`` (the tests read it). While a box with the same title is still open,
        it shows the newest text instead of stacking a second box."""
        self.messages.append((title, text))
        open_box = self._boxes.get(title)
        if open_box is not None and open_box.isVisible():
            open_box.setText(text)
            return
        icon = QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Information
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.destroyed.connect(lambda *_: self._boxes.pop(title, None))
        self._boxes[title] = box
        box.open()

    def _restore_geometry(self) -> None:
        geometry = self.qsettings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        state = self.qsettings.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)

    # -- shutdown --------------------------------------------------------------------------
    def closeEvent(self, event) -> None:
        """Cancel what runs (an encode, an export, a search) and wait for it, so that no
        thread is still writing when the process ends; settings were saved when chosen,
        the window's size and docks are saved now."""
        self.qsettings.setValue("window/geometry", self.saveGeometry())
        self.qsettings.setValue("window/state", self.saveState())
        if self.editor is not None and self.editor.saver is not None:
            self.editor.saver.stop()  # every change on disk before the process may end
        self.worker.stop(timeout=10.0)
        self.tasks.stop_all(timeout=10.0)
        super().closeEvent(event)
