"""A clip in the window: its frames are the images of the project (``clip.mp4#000012``), read
through the clip's bounded frame cache; a frame slider with the frame number and time; and
"Track forward / backward / both" from the selected instance, on a task, as one undoable step.

Everything else (clicks, boxes, hand tools, labels, autosave, undo per frame) is the photo
path unchanged: a frame is annotated as a photo is.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGridLayout, QLabel, QSlider, QToolBar, QWidget

from ..app.project import Project
from ..app.video_tracks import (
    cmd_delete_track,
    cmd_relabel_track,
    cmd_track,
    track_frames,
    track_spans,
)
from ..engine.errors import PromptError, Sam3CanvasError
from ..engine.images import load_image
from ..video.follow import Direction, Method, StopRules, follow_mask, resolve_method
from ..video.frames import FrameSource, frame_key, open_frames, parse_frame_key
from .video_timeline import TrackTimeline

if TYPE_CHECKING:
    from .main_window import MainWindow


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60.0)
    return f"{int(minutes)}:{rest:05.2f}"


class VideoMode:
    def __init__(self, window: MainWindow):
        self.window = window
        self.frames: FrameSource | None = None
        self.video: Path | None = None
        self.bar = QToolBar("Frames", window)
        self.bar.setObjectName("frames")
        box = QWidget(self.bar)
        grid = QGridLayout(box)
        grid.setContentsMargins(4, 0, 4, 0)
        grid.setVerticalSpacing(1)
        self.slider = QSlider(Qt.Orientation.Horizontal, box)
        self.slider.setMinimumWidth(300)
        self.position = QLabel("", box)
        self.position.setMinimumWidth(190)
        self.timeline = TrackTimeline(box)
        grid.addWidget(self.slider, 0, 0)
        grid.addWidget(self.position, 0, 1)
        grid.addWidget(self.timeline, 1, 0)
        grid.setColumnStretch(0, 1)
        self.bar.addWidget(box)
        self.timeline.frameClicked.connect(lambda f: self.window.show_image(f))
        self._refresh = QTimer(window)  # the timeline is redrawn once after a burst of edits
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(150)
        self._refresh.timeout.connect(self.refresh_timeline)
        window.addToolBar(Qt.ToolBarArea.BottomToolBarArea, self.bar)
        self.bar.hide()
        self.slider.valueChanged.connect(self._slid)
        self.rules = StopRules()
        self.method: Method = "auto"
        self._photo_reader = load_image  # the worker's reader for files, back after a clip
        self.last_track: dict | None = None  # what the last tracking run did, for the status

    @property
    def active(self) -> bool:
        return self.frames is not None

    # -- opening and closing ----------------------------------------------------------
    def open(self, path: Path) -> bool:
        w = self.window
        try:
            frames = open_frames(path)
        except Sam3CanvasError as exc:
            w.tell("Cannot open the video", str(exc))
            return False
        w.close_folder()
        self.frames, self.video = frames, path
        project = Project.for_video(path, len(frames), (frames.width, frames.height))
        self._photo_reader = w.worker.reader
        w.worker.reader = self.read
        w.start_project(project, str(path))
        w.files.add_annotated({frame_key(path, f).name for f in project.annotated_frames(path)})
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(frames) - 1)
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self.bar.show()
        self.refresh_timeline()
        w.show_image(0)
        return True

    def close(self) -> None:
        """Back to photos (called by the window's close_folder)."""
        if self.frames is not None:
            self.frames.close()
            self.window.worker.reader = self._photo_reader
        self.frames = self.video = None
        self.bar.hide()

    def read(self, path: Path):
        """The worker's reader while a clip is open: frames from the clip, files as before."""
        frame = parse_frame_key(path)
        if frame is None or self.frames is None:
            return load_image(path)
        # the worker matches an encoded image to its requests by source: the frame's key
        return replace(self.frames.frame(frame[1]), source=path)

    # -- the slider -------------------------------------------------------------------
    def _slid(self, value: int) -> None:
        if self.active and value != self.window.index:
            self.window.show_image(value)

    def shown(self, index: int) -> None:
        """The window shows frame ``index``: the slider and the label follow."""
        if not self.active or self.frames is None:
            return
        self.slider.blockSignals(True)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        self.position.setText(f"  frame {index} / {len(self.frames) - 1}   "
                              f"{_clock(self.frames.time_of(index))}")
        self.timeline.set_current(index)

    def documents_changed(self) -> None:
        """A frame's instances changed (an edit, a track, an undo): redraw the timeline soon."""
        if self.active:
            self._refresh.start()

    def refresh_timeline(self) -> None:
        w = self.window
        if not self.active or self.frames is None or self.video is None or w.project is None:
            return
        spans = track_spans(w.project, self.video, (self.frames.width, self.frames.height))
        labels = w.project.labels
        self.timeline.set_tracks(len(self.frames), {
            track: (labels.get(label).colour if label in labels else (160, 160, 160), frames)
            for track, (label, frames) in spans.items()})

    # -- tracking ----------------------------------------------------------------------
    def set_method(self, method: Method) -> None:
        self.method = method
        actions = getattr(self.window, "tracking_method_actions", {})
        if method in actions:
            actions[method].setChecked(True)

    def track(self, direction: Direction) -> None:
        w = self.window
        if not self.active or w.editor is None or w.editor.doc is None or self.frames is None:
            return
        if w.segmenter is None:
            w.tell("No model", "Tracking needs a model: Model > Choose or download a model.")
            return
        doc = w.editor.doc
        instance_id = w.selected_instance
        if instance_id < 0 and len(doc.instances) == 1:
            instance_id = doc.instances[0].id
        if instance_id < 0 or not doc.has(instance_id):
            w.tell("Track", "Select the instance to follow (click it in the Instances list, "
                            "or Ctrl+click it with the select tool).", warning=False)
            return
        if w.tasks.running("track"):
            return
        try:
            method = resolve_method(w.segmenter, self.method)
        except PromptError as exc:
            w.tell("Track", str(exc))
            return
        start, mask = doc.frame, doc.get(instance_id).mask()
        assert start is not None
        frames, segmenter, rules, video = self.frames, w.segmenter, self.rules, self.video
        size = (frames.width, frames.height)
        w.statusBar().showMessage(f"tracking {direction} from frame {start} ({method})…")

        def work(task):
            results = []
            for result in follow_mask(segmenter, frames, start, mask, direction, None, rules,
                                      cancelled=task.cancelled.is_set, method=method):
                results.append(result)
                task.post(w.statusBar().showMessage,
                          f"tracking {direction} from frame {start} ({method}): "
                          f"frame {result.frame}…")
            return results

        def done(results, error):
            if error:
                w.tell("Tracking failed", error)
                return
            if self.video != video or w.editor is None:
                return  # another clip or folder meanwhile
            command = cmd_track(w.editor, video, size, start, instance_id, results, direction)
            kept = [r.frame for r in results if r.mask is not None]
            stops = [r for r in results if r.stopped]
            self.last_track = {"frames": kept, "stopped": [(r.frame, r.stopped) for r in stops],
                               "method": method}
            w.history.push(command)
            w.files.add_annotated({frame_key(video, f).name for f in kept})
            note = "; ".join(f"stopped at frame {r.frame}: {r.stopped}" for r in stops)
            w.statusBar().showMessage(
                f"tracked {len(kept)} frames with {method}{'; ' + note if note else ''}", 15000)

        w.tasks.start("track", work, done)

    # -- whole tracks -------------------------------------------------------------------
    def _selected_track(self, quiet: bool = False) -> int | None:
        """The track of the selected instance; None (said unless ``quiet``) without one."""
        w = self.window
        if not self.active or w.editor is None or w.editor.doc is None:
            return None
        doc = w.editor.doc
        if w.selected_instance >= 0 and doc.has(w.selected_instance):
            track = doc.get(w.selected_instance).track_id
            if track is not None:
                return track
        if not quiet:
            w.tell("Track", "Select an instance that is part of a track (tracked with T).",
                   warning=False)
        return None

    def _size(self) -> tuple[int, int]:
        assert self.frames is not None
        return self.frames.width, self.frames.height

    def delete_track(self) -> None:
        track = self._selected_track()
        if track is not None and self.video is not None:
            w = self.window
            w.history.push(cmd_delete_track(w.editor, self.video, self._size(), track))
            w.select_instance(-1)

    def relabel_track(self, label: str | None = None) -> None:
        """Relabel the selected instance's whole track (asked for when ``label`` is None)."""
        track = self._selected_track()
        if track is None or self.video is None:
            return
        w = self.window
        if label is None:
            from PySide6.QtWidgets import QInputDialog
            label, ok = QInputDialog.getText(w, "Relabel the track", "New label:")
            if not ok or not label.strip():
                return
        w.history.push(cmd_relabel_track(w.editor, self.video, self._size(), track,
                                         label.strip()))
        w.show_labels()

    def go_to_track_end(self, last: bool) -> None:
        """Home / End: the first (or last) frame of the selected instance's track, or of the
        clip when no tracked instance is selected."""
        if not self.active or self.video is None or self.frames is None:
            return
        w = self.window
        track = self._selected_track(quiet=True)
        frames = list(range(len(self.frames))) if track is None else \
            track_frames(w.project, self.video, self._size(), track)
        if frames:
            w.show_image(frames[-1] if last else frames[0])

    # -- export -------------------------------------------------------------------------
    def ask_export(self) -> None:
        """File > Export with a clip open: its tracks in a video format, into a new folder
        beside the clip (never over other files)."""
        from PySide6.QtWidgets import QInputDialog

        from ..annotations.video_formats import VIDEO_FORMATS
        w = self.window
        if not self.active or self.video is None:
            return
        choices = [f"{name}: {what}" for name, what in VIDEO_FORMATS.items()]
        picked, ok = QInputDialog.getItem(w, "Export the clip's tracks", "Format:", choices, 0,
                                          False)
        if ok:
            fmt = picked.split(":")[0]
            self.export(fmt, self.video.with_name(f"{self.video.stem}-{fmt}"))

    def export(self, fmt: str, out: Path) -> None:
        from ..app.video_datasets import export_clip
        w = self.window
        if not self.active or self.video is None or self.frames is None:
            return
        w.flush_saves()  # what the autosave thread still holds goes first
        project, video, frames = w.project, self.video, self.frames

        def work(task):
            return export_clip(project, video, frames, fmt, out)

        def done(report, error):
            if error:
                w.tell("Export failed", error)
                return
            text = (f"exported {report.instances} instances of {len(report.tracks)} tracks on "
                    f"{report.frames} frames as {fmt} to {out}")
            w.statusBar().showMessage(text, 15000)
            for warning in report.warnings:
                w.tell("Export", warning, warning=False)

        w.tasks.start("export", work, done)
