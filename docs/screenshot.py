"""Screenshots of the app for docs/: a real window, a real photo, real mouse events.

Run under a real X server (Xvfb), from the repository root:

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshot.py

The model is the oracle fake (its answers are the GrabCut ground-truth mask of the photo), so the
overlay looks like a real segmentation; the real SAM3 weights are not available here.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "grabcut"
sys.path.insert(0, str(ROOT))


def wait(app, condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--image", default="llama.jpg")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot-main.png")
    args = parser.parse_args()

    from PySide6.QtCore import QPoint, QSettings, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from sam3_canvas.app.settings import Settings
    from sam3_canvas.gui.main_window import MainWindow
    from sam3_canvas.models.store import ModelStore
    from sam3_canvas.testing.fake_models import write_oracle_pack

    work = Path(tempfile.mkdtemp())
    folder = work / "photos"
    folder.mkdir()
    names = [args.image, "teddy.jpg", "banana1.jpg", "flower.jpg", "sheep.jpg", "person1.jpg"]
    for name in dict.fromkeys(names):
        shutil.copy(DATA / "images" / name, folder / name)
    truth = np.asarray(Image.open(DATA / "masks" / Path(args.image).with_suffix(".png"))) > 128
    pack = write_oracle_pack(work / "oracle", truth)
    (work / "classes.txt").write_text("animal\nperson\nplant\nobject\n")

    app = QApplication.instance() or QApplication([])
    qsettings = QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(Settings(model_dir=str(pack), disk_cache=False), qsettings,
                        ModelStore(work / "models"))
    window.resize(1500, 920)
    window.show()
    window.open_path(folder / args.image)
    wait(app, lambda: window.segmenter is not None and window.photo is not None)
    window.load_classes(work / "classes.txt")
    ys, xs = np.nonzero(truth)
    inside = (int(np.median(xs)), int(np.median(ys)))

    def click(x, y, modifier=Qt.KeyboardModifier.NoModifier):
        view = window.canvas
        pos = view.mapFromScene(x, y)
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier,
                         QPoint(pos.x(), pos.y()))

    click(*inside)
    wait(app, lambda: window.editor.prediction is not None)
    window.candidates.choose_rank(0)
    app.processEvents()
    time.sleep(0.3)
    app.processEvents()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(args.out))
    # the same moment as the X server shows it (the whole screen of the Xvfb display)
    shot = args.out.with_name(args.out.stem + "-xserver.png")
    subprocess.run(["import", "-window", "root", str(shot)], check=False)
    # accept it, then show the image with an instance and a new prompt with a background click
    window.accept_candidate()
    app.processEvents()
    click(inside[0] + 5, inside[1] - 30)
    click(inside[0] + 40, inside[1] + 10, Qt.KeyboardModifier.ShiftModifier)
    wait(app, lambda: window.editor.prediction is not None)
    time.sleep(0.3)
    app.processEvents()
    window.grab().save(str(args.out.with_name(args.out.stem + "-instance.png")))
    hand_tools(app, window, inside, args.out.parent)
    # File > Export dataset into the photo folder: the question (screen grab: it is a dialog)
    from PySide6.QtWidgets import QMessageBox
    window.clear_prompt()
    window.export_action.trigger()
    window.export_dialog.out.setText(str(folder))
    from PySide6.QtCore import QTimer

    def answer():  # runs inside the question's own event loop
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(50, answer)
            return
        subprocess.run(["import", "-window", "root",
                        str(args.out.with_name("screenshot-export-question.png"))], check=False)
        box.button(QMessageBox.StandardButton.No).click()

    QTimer.singleShot(300, answer)
    window.export_dialog.accept()
    app.processEvents()
    window.export_dialog.reject()
    # a folder whose first photo is corrupt: the file list, the status bar, an empty canvas
    broken = work / "broken"
    broken.mkdir()
    (broken / "a_scan.jpg").write_bytes((folder / args.image).read_bytes()[:3000])
    shutil.copy(folder / "sheep.jpg", broken / "sheep.jpg")
    window.open_path(broken)
    wait(app, lambda: window.files.states.get("a_scan.jpg") == "failed")
    time.sleep(0.3)
    app.processEvents()
    window.grab().save(str(args.out.with_name("screenshot-failed-image.png")))
    window.close()
    print(f"wrote {args.out} and siblings")
    return 0


def hand_tools(app, window, inside, out: Path) -> None:
    """The hand tools, each caught mid-use: brush, polygon, outline, hover, display, keys."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtTest import QTest

    from tests.gui_helpers import view_point

    def settle():
        for _ in range(5):
            app.processEvents()
            time.sleep(0.05)

    def move(x, y, buttons=Qt.MouseButton.NoButton):
        viewport = window.canvas.viewport()
        p = QPointF(view_point(window, x, y))
        app.sendEvent(viewport, QMouseEvent(QMouseEvent.Type.MouseMove, p,
                                             viewport.mapToGlobal(p), Qt.MouseButton.NoButton,
                                             buttons, Qt.KeyboardModifier.NoModifier))

    window.clear_prompt()
    iid = window.editor.doc.instances[-1].id
    window.select_instance(iid)
    x, y = inside
    # the brush, mid-stroke, widening the neck
    window.tools.set_tool("brush")
    window.canvas.set_brush_radius(14)
    viewport = window.canvas.viewport()
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     view_point(window, x + 20, y + 90))
    for k in range(14):
        move(x + 20 + 8 * k, y + 90 - 2 * k, Qt.MouseButton.LeftButton)
    settle()
    window.grab().save(str(out / "screenshot-brush.png"))
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                       view_point(window, x + 124, y + 64))
    settle()
    # a polygon being drawn
    window.tools.set_tool("polygon")
    for px, py in [(x + 110, y + 60), (x + 170, y + 40), (x + 190, y + 100)]:
        QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                         view_point(window, px, py))
    move(x + 120, y + 110)
    settle()
    window.grab().save(str(out / "screenshot-polygon.png"))
    window.canvas.close_polygon()
    settle()
    # the selected instance's outline, vertices to drag
    window.tools.set_tool("select")
    settle()
    window.grab().save(str(out / "screenshot-outline.png"))
    # the hover preview: the mask under the resting cursor, before any click
    window.tools.set_tool("prompt")
    window.select_instance(-1)
    window.hover_action.setChecked(True)
    move(x + 20, y + 20)
    wait(app, lambda: window.canvas.candidate.overlay is not None)
    settle()
    window.grab().save(str(out / "screenshot-hover.png"))
    window.hover_action.setChecked(False)
    window.canvas.set_candidate(None)
    # outlines only, a colour per instance
    window.outlines_action.setChecked(True)
    window.per_instance_action.setChecked(True)
    settle()
    window.grab().save(str(out / "screenshot-display.png"))
    window.outlines_action.setChecked(False)
    window.per_instance_action.setChecked(False)
    window.show_shortcuts()
    settle()
    window.shortcuts_box.grab().save(str(out / "screenshot-shortcuts.png"))
    window.shortcuts_box.close()


if __name__ == "__main__":
    sys.exit(main())
