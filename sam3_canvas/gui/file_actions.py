"""Opening what the user annotates: a folder, an image (its folder) or a clip, from the
command line, File > Open, or File > Recent folders; file dialogs start in the open folder.

A mixin of :class:`~.main_window.MainWindow` (it uses the window's panels, worker, settings
and ``tell``); a clip's own part (its frames, slider, tracks) is ``video_mode``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog

from ..app.autosave import Autosaver
from ..app.editor import Editor
from ..app.project import Project
from ..video.frames import VIDEO_SUFFIXES, is_video_file

RECENT_KEPT = 8  # folders in File > Recent folders


class FileActions:
    def open_path(self, path: str | Path) -> None:
        if is_video_file(path) and Path(path).is_file():
            self.video.open(Path(path))
            return
        try:
            project, index = Project.open(path)
        except (FileNotFoundError, OSError) as exc:
            self.tell("Cannot open", str(exc))
            return
        if not project.images:
            self.tell("No images", f"{project.folder} holds no images.", warning=False)
            return
        self.close_folder()
        self.start_project(project, str(project.folder))
        self._read_annotated(project)
        for warning in project.warnings:
            self.tell("Annotations", warning)
        project.warnings.clear()
        self._remember_folder(project.folder)
        self.show_image(index)

    def start_project(self, project: Project, title: str) -> None:
        """Make ``project`` (a folder's photos, or a clip's frames) the open one: its editor
        with autosave, the file list, the labels. The caller closed the previous one."""
        self.project = project
        self.editor = editor = Editor(project)
        editor.model_name = self.settings.describe_model()
        editor.take_free_pixels = self.settings.take_free_pixels
        editor.saver = Autosaver(project, lambda name, error: self.inbox.post(
            self._saved, editor, name, error))
        editor.subscribe(self.editor_changed)
        self.files.show_files(project.images, set())
        self.show_labels()
        self.setWindowTitle(f"sam3-canvas — {title}")
        self.canvas.set_empty_hint("")

    def _read_annotated(self, project: Project) -> None:
        """Which images have annotations, read on a task (a folder of 10,000 images opens at
        once; the ✓ marks follow)."""
        images = list(project.images)

        def work(task):
            found = set()
            for n, image in enumerate(images):
                if n % 256 == 0:
                    task.check()
                if project.has_annotations(image):
                    found.add(image.name)
            return found

        def done(found, error):
            if found is None or self.project is not project:
                return
            opened = project.open_documents()  # changed since: what is in memory counts
            self.files.add_annotated({n for n in found if n not in opened} |
                                     {p.name for p in images if p.name in opened and
                                      project.has_annotations(p)})

        self.tasks.start("annotated", work, done)

    def _start_folder(self) -> str:
        """Where file dialogs start: the open folder, else the last one opened."""
        if self.project is not None:
            return str(self.project.folder)
        recent = self.recent_folders()
        return recent[0] if recent else ""

    def recent_folders(self) -> list[str]:
        value = self.qsettings.value("recent_folders", [])
        if isinstance(value, str):  # QSettings gives a lone string for a one-item list
            value = [value]
        return [str(v) for v in (value or []) if v]

    def _remember_folder(self, folder: Path) -> None:
        recent = [str(folder)] + [f for f in self.recent_folders() if f != str(folder)]
        self.qsettings.setValue("recent_folders", recent[:RECENT_KEPT])

    def fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for folder in self.recent_folders():
            act = self.recent_menu.addAction(folder)
            act.triggered.connect(lambda _checked=False, f=folder: self.open_path(f))
        if not self.recent_folders():
            self.recent_menu.addAction("(none yet)").setEnabled(False)

    def ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a folder of images",
                                                  self._start_folder())
        if folder:
            self.open_path(folder)

    def ask_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open an image", self._start_folder(),
            "Images (*.jpg *.jpeg *.png *.bmp *.tif *.tiff *.webp)")
        if path:
            self.open_path(path)

    def ask_video(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a video", self._start_folder(),
            "Videos (" + " ".join(f"*{s}" for s in VIDEO_SUFFIXES) + ");;All files (*)")
        if path:
            self.open_path(path)

