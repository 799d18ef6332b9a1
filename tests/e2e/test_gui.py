"""The desktop app, driven like a user: a real QMainWindow, real mouse and key events, real
onnxruntime sessions over the contract fakes and the ground-truth oracle."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from sam3_canvas.app.settings import Settings  # noqa: E402
from sam3_canvas.document.annotation import Document  # noqa: E402
from sam3_canvas.engine import Prompt  # noqa: E402
from sam3_canvas.gui.main_window import MainWindow  # noqa: E402
from sam3_canvas.models.store import ModelStore  # noqa: E402
from sam3_canvas.testing import fake_models  # noqa: E402
from tests.conftest import ROOT, fixture_path  # noqa: E402
from tests.gui_helpers import click_image, drag_image  # noqa: E402

NAMES = ("llama.jpg", "teddy.jpg", "banana1.jpg", "sheep.jpg")


@pytest.fixture()
def folder(tmp_path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in NAMES:
        shutil.copy(fixture_path(f"objects/images/{name}"), folder / name)
    return folder


@pytest.fixture()
def truth() -> np.ndarray:
    return np.asarray(Image.open(fixture_path("objects/masks/llama.png"))) > 128


@pytest.fixture()
def make_window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("SAM3_CANVAS_CACHE", str(tmp_path / "cache"))
    windows = []

    def make(model_dir: Path | None, **settings) -> MainWindow:
        qsettings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        window = MainWindow(Settings(model_dir=str(model_dir or ""), disk_cache=False,
                                     **settings), qsettings, ModelStore(tmp_path / "models"))
        qtbot.addWidget(window)
        window.resize(1300, 850)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.worker.stop(timeout=5)


def open_and_wait(qtbot, window, path, model=True):
    window.open_path(path)
    qtbot.waitUntil(lambda: window.photo is not None and window.editor.doc is not None,
                    timeout=20000)
    if model:
        qtbot.waitUntil(lambda: window.segmenter is not None, timeout=20000)


def wait_prediction(qtbot, window):
    qtbot.waitUntil(lambda: window.editor.prediction is not None, timeout=20000)
    return window.editor.prediction


@pytest.fixture()
def clicked(qtbot, make_window, folder, truth, tmp_path):
    """A window on llama.jpg with the oracle pack, clicked once in the middle of the llama."""
    oracle = fake_models.write_oracle_pack(tmp_path / "oracle", truth)
    window = make_window(oracle)
    open_and_wait(qtbot, window, folder / "llama.jpg")
    ys, xs = np.nonzero(truth)
    click_image(window, int(np.median(xs)), int(np.median(ys)))
    return window, wait_prediction(qtbot, window)


def test_a_click_shows_three_candidates_best_first_with_their_iou(qtbot, clicked):
    window, _ = clicked
    texts = [b.text() for b in window.candidates.buttons]
    assert texts[0].startswith("1  IoU 0.910  best") and "IoU 0.770" in texts[1]
    qtbot.waitUntil(lambda: all(not b.icon().isNull() for b in window.candidates.buttons),
                    timeout=10000)  # the thumbnails follow the overlay
    assert "Object presence: 100.0%" in window.candidates.presence.text()
    assert window.canvas.candidate.overlay is not None


def test_number_keys_pick_a_candidate_by_rank(clicked):
    window, prediction = clicked
    QTest.keyClick(window, Qt.Key.Key_3)  # the third-ranked: mask 0, the eroded one
    assert window.editor.candidate == prediction.ranking[2] == 0
    QTest.keyClick(window, Qt.Key.Key_1)
    assert window.editor.candidate == prediction.ranking[0] == 1


def test_typing_a_label_triggers_no_shortcut_and_accepts_nothing(clicked):
    window, _ = clicked
    window.labels.entry.setFocus()
    QTest.keyClicks(window.labels.entry, "dad")  # letters that are shortcuts elsewhere
    QTest.keyClick(window.labels.entry, Qt.Key.Key_Return)  # adds the label, accepts nothing
    assert window.editor.label == "dad" and window.editor.doc.instances == []
    assert window.editor.image.name == "llama.jpg"  # "d" did not flip to the next image


def test_enter_accepts_the_full_size_mask_and_saves_it(clicked, folder, truth):
    window, _ = clicked
    window.labels.entry.setText("llama")
    QTest.keyClick(window.labels.entry, Qt.Key.Key_Return)
    window.canvas.setFocus()
    QTest.keyClick(window, Qt.Key.Key_Return)  # accept
    doc = window.editor.doc
    assert [i.label for i in doc.instances] == ["llama"]
    mask = doc.instances[0].mask()
    valid = np.asarray(Image.open(fixture_path("objects/masks/llama.png"))) != 128
    iou = ((mask & truth) & valid).sum() / ((mask | truth) & valid).sum()
    assert iou > 0.99  # the accepted instance is the full-size ground truth
    assert window.instances.list.count() == 1 and window.editor.prompt.is_empty
    window.flush_saves()  # the writer thread has written it
    saved = Document.load(folder / ".sam3-canvas" / "llama.jpg.json")
    assert saved.instances[0].label == "llama"
    assert "✓" in window.files.list.item(window.index).text()


def test_shift_click_carves_and_box_drag(qtbot, make_window, folder, fake_pack):
    window = make_window(fake_pack)
    open_and_wait(qtbot, window, folder / "teddy.jpg")
    click_image(window, 150, 200)
    first = wait_prediction(qtbot, window)
    assert first.mask(2)[200, 160]
    click_image(window, 160, 200, background=True)
    qtbot.waitUntil(lambda: window.editor.prediction is not None and
                    window.editor.prediction.prompt.labels == (1, 0), timeout=10000)
    assert not window.editor.prediction.mask(2)[200, 160]  # carved
    assert len(window.canvas.markers) == 2
    drag_image(window, (20, 30), (120, 150))
    qtbot.waitUntil(lambda: window.editor.prediction is not None and
                    window.editor.prediction.prompt.box is not None, timeout=10000)
    x1, y1, x2, y2 = window.editor.prompt.box
    assert abs(x1 - 20) <= 2 and abs(y1 - 30) <= 2 and abs(x2 - 120) <= 2 and abs(y2 - 150) <= 2
    assert window.editor.prediction.mask(1)[90, 70]


def _undo(window) -> None:
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)


def _redo(window) -> None:
    QTest.keyClick(window, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)


@pytest.fixture()
def teddy(qtbot, make_window, folder, fake_pack):
    """A window on teddy.jpg with the fake pack, one click predicted."""
    window = make_window(fake_pack)
    open_and_wait(qtbot, window, folder / "teddy.jpg")
    window.editor.set_label("teddy")
    click_image(window, 100, 100)
    wait_prediction(qtbot, window)
    return window


def test_undo_and_redo_a_prompt_point(qtbot, teddy):
    click_image(teddy, 110, 100, background=True)
    qtbot.waitUntil(lambda: len(teddy.editor.prompt.points) == 2)
    _undo(teddy)
    assert teddy.editor.prompt == Prompt.click(100, 100)
    _redo(teddy)
    assert teddy.editor.prompt.labels == (1, 0)


def test_undo_an_accept_brings_the_prompt_back_and_saves(qtbot, teddy, folder):
    click_image(teddy, 110, 100, background=True)
    qtbot.waitUntil(lambda: len(teddy.editor.prompt.points) == 2)
    wait_prediction(qtbot, teddy)
    teddy.accept_candidate()
    assert len(teddy.editor.doc.instances) == 1
    _undo(teddy)
    assert teddy.editor.doc.instances == [] and teddy.editor.prompt.labels == (1, 0)
    teddy.flush_saves()
    assert Document.load(folder / ".sam3-canvas" / "teddy.jpg.json").instances == []
    QTest.keyClick(teddy, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)  # redo, too
    assert len(teddy.editor.doc.instances) == 1


def test_undo_a_delete(teddy):
    teddy.accept_candidate()
    teddy.instances.list.setCurrentRow(0)
    QTest.keyClick(teddy, Qt.Key.Key_Delete)
    assert teddy.editor.doc.instances == []
    _undo(teddy)
    assert len(teddy.editor.doc.instances) == 1


def test_escape_clears_the_prompt_undoably(teddy):
    click_image(teddy, 200, 150)
    QTest.keyClick(teddy, Qt.Key.Key_Escape)
    assert teddy.editor.prompt.is_empty
    _undo(teddy)
    assert teddy.editor.prompt == Prompt.click(100, 100).add_point(200, 150)


def test_each_image_keeps_its_own_undo_history(qtbot, make_window, folder, fake_pack):
    window = make_window(fake_pack)
    open_and_wait(qtbot, window, folder / "teddy.jpg")
    window.editor.set_label("teddy")
    click_image(window, 100, 100)
    wait_prediction(qtbot, window)
    window.accept_candidate()
    QTest.keyClick(window, Qt.Key.Key_D)  # next image
    qtbot.waitUntil(lambda: window.editor.image.name != "teddy.jpg", timeout=10000)
    assert not window.history.group.canUndo()
    QTest.keyClick(window, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: window.editor.image.name == "teddy.jpg", timeout=10000)
    assert window.history.group.canUndo() and len(window.editor.doc.instances) == 1


def test_switching_images_during_a_slow_encode(qtbot, make_window, folder, tmp_path):
    slow = fake_models.write_tracker_pack(tmp_path / "slow", encoder_work=30)
    window = make_window(slow, prefetch=0)
    open_and_wait(qtbot, window, folder / "banana1.jpg")
    for _ in range(3):  # flick through while encodes run
        QTest.keyClick(window, Qt.Key.Key_D)
    target = window.project.images[window.index]
    qtbot.waitUntil(lambda: window.editor.image == target, timeout=20000)
    click_image(window, 50, 50)
    prediction = wait_prediction(qtbot, window)
    assert prediction.image_size == window.canvas.image_size()
    assert window.editor.image == target


def test_close_during_an_encode_is_clean(qtbot, make_window, folder, tmp_path):
    slow = fake_models.write_tracker_pack(tmp_path / "slower", encoder_work=400)  # ~5 s
    window = make_window(slow)
    open_and_wait(qtbot, window, folder / "banana1.jpg", model=False)
    qtbot.waitUntil(lambda: window.worker.busy, timeout=20000)
    start = time.monotonic()
    window.close()
    assert time.monotonic() - start < 3.0
    assert not window.worker._model.is_alive() and not window.worker._reader.is_alive()


def test_no_model_the_app_still_works(qtbot, make_window, folder):
    window = make_window(None)
    assert "no model" in window.status_model.text()
    open_and_wait(qtbot, window, folder / "sheep.jpg", model=False)
    click_image(window, 20, 20)
    assert "No model loaded" in window.candidates.presence.text()
    window.labels.entry.setText("sheep")
    QTest.keyClick(window.labels.entry, Qt.Key.Key_Return)
    assert "sheep" in window.project.labels


def test_labels_classes_file_and_shortcuts(qtbot, make_window, folder, fake_pack):
    window = make_window(fake_pack)
    open_and_wait(qtbot, window, folder / "teddy.jpg")
    window.load_classes(fixture_path("labelme/labels.txt"))
    names = window.project.labels.names
    assert window.labels.list.count() == len(names) and "__ignore__" not in names
    QTest.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.editor.label == names[2]
    click_image(window, 100, 100)
    wait_prediction(qtbot, window)
    window.accept_candidate()
    QTest.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    window.instances.list.setCurrentRow(0)
    window.instances.relabel.click()
    assert window.editor.doc.instances[0].label == names[1]
    item = window.instances.list.item(0)
    item.setCheckState(Qt.CheckState.Unchecked)  # hide
    assert window.editor.doc.instances[0].hidden and not window.canvas.instance_items


def test_export_mask_pngs_and_read_them_back(qtbot, make_window, folder, fake_pack, tmp_path):
    window = make_window(fake_pack)
    open_and_wait(qtbot, window, folder / "teddy.jpg")
    window.editor.set_label("toy")
    click_image(window, 100, 100)
    wait_prediction(qtbot, window)
    window.accept_candidate()
    drag_image(window, (150, 200), (250, 300))
    qtbot.waitUntil(lambda: window.editor.prediction is not None and
                    window.editor.prediction.prompt.box is not None, timeout=10000)
    window.editor.set_label("block")
    window.accept_candidate()
    out = tmp_path / "export"
    window.export_masks(whole_folder=True, out=str(out))
    qtbot.waitUntil(lambda: getattr(window, "last_export", None) is not None, timeout=20000)
    doc = window.editor.doc
    assert (out / "classes.txt").read_text().split() == ["toy", "block"]
    semantic = np.asarray(Image.open(out / "semantic" / "teddy.png"))
    ids = np.asarray(Image.open(out / "instance_ids" / "teddy.png"))
    assert Image.open(out / "semantic" / "teddy.png").mode == "P"
    for inst, class_id in zip(doc.instances, (1, 2)):
        single = np.asarray(Image.open(out / "instances" /
                                       f"teddy_{inst.id}_{inst.label}.png")) > 127
        expected = inst.mask()
        assert np.array_equal(single, expected)
        top = expected.copy()
        if inst is doc.instances[0]:
            top &= ~doc.instances[1].mask()  # the later instance wins where they overlap
        assert (semantic[top] == class_id).all() and (ids[top] == inst.id).all()
    assert (semantic[~(doc.instances[0].mask() | doc.instances[1].mask())] == 0).all()


KILLED_SESSION = r"""
import os, signal, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from pathlib import Path
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from sam3_canvas.app.settings import Settings
from sam3_canvas.gui.main_window import MainWindow
from sam3_canvas.models.store import ModelStore
app = QApplication([])
folder, pack, tmp = map(Path, sys.argv[1:4])
w = MainWindow(Settings(model_dir=str(pack), disk_cache=False),
               QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat), ModelStore(tmp / "m"))
w.show()
w.open_path(folder / "teddy.jpg")
def spin(cond):
    t = time.time()
    while not cond() and time.time() - t < 30:
        app.processEvents(); time.sleep(0.01)
spin(lambda: w.segmenter is not None and w.editor.doc is not None)
w.editor.set_label("toy")
w.history.push(w.editor.cmd_add_point(100, 100))
spin(lambda: w.editor.prediction is not None)
w.accept_candidate()
w.history.push(w.editor.cmd_add_point(200, 200))  # a prompt in flight, not yet accepted
spin(lambda: w.statusBar() is not None and w.editor.last_save_error is None and
     w.editor.saver.flush(0))  # the writer thread reported the accept written
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_autosave_survives_a_killed_process(qtbot, make_window, folder, fake_pack, tmp_path):
    result = subprocess.run([sys.executable, "-c", KILLED_SESSION, str(folder), str(fake_pack),
                             str(tmp_path)], capture_output=True, text=True, timeout=120,
                            cwd=ROOT, env={**os.environ, "SAM3_CANVAS_CACHE": str(tmp_path)})
    assert result.returncode == -signal.SIGKILL, result.stderr
    window = make_window(fake_pack)
    open_and_wait(qtbot, window, folder / "teddy.jpg")
    assert [i.label for i in window.editor.doc.instances] == ["toy"]
    assert window.instances.list.count() == 1
    assert "✓" in window.files.list.item(window.index).text()


def test_the_qt_binding_does_not_leak_none(qapp):
    """PySide6 6.12.0 dropped a reference to None on each processEvents(); a long session (or
    a long qtbot.waitUntil) then aborted with "deallocating None". pyproject excludes it."""
    before = sys.getrefcount(None)
    for _ in range(20000):
        qapp.processEvents()
    assert abs(sys.getrefcount(None) - before) < 100


ENTRY_POINT = r"""
import json, os, sys, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from sam3_canvas.gui.main import run_app
from sam3_canvas.gui.main_window import MainWindow
app = QApplication([])
seen = {}
deadline = time.monotonic() + 30
def check():
    window = next((w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()), None)
    ready = window is not None and window.photo is not None and window.segmenter is not None
    if ready or time.monotonic() > deadline:
        if window is not None:
            seen.update(image=window.editor.image.name if window.editor else None,
                        files=window.files.list.count(), model=window.status_model.text())
            window.close()
        app.quit()
    else:
        QTimer.singleShot(20, check)
QTimer.singleShot(20, check)
code = run_app(sys.argv[1:])
print(json.dumps({"exit": code, **seen}))
"""


def test_the_command_opens_an_image_in_its_folder(folder, fake_pack, tmp_path):
    import json
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "SAM3_CANVAS_CACHE": str(tmp_path / "cache")}
    result = subprocess.run([sys.executable, "-c", ENTRY_POINT, str(folder / "teddy.jpg"),
                             "--model-dir", str(fake_pack)], capture_output=True, text=True,
                            timeout=120, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["exit"] == 0 and seen["image"] == "teddy.jpg" and seen["files"] == len(NAMES)
    assert "on cpu" in seen["model"]


def test_zoom_pan_and_sharper_overlays(qtbot, make_window, folder, fake_pack):
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication
    big = folder / "big.jpg"  # larger than the screen: the overlay is made below full scale
    Image.open(folder / "llama.jpg").resize((3000, 2170)).save(big)
    window = make_window(fake_pack)
    open_and_wait(qtbot, window, big)
    canvas = window.canvas
    fit_scale = canvas.transform().m11()
    assert fit_scale < 0.5
    click_image(window, 1500, 1100)
    wait_prediction(qtbot, window)
    first = canvas.candidate.overlay
    assert first.scale == pytest.approx(min(fit_scale, 1.0), rel=1e-6)
    centre = QPointF(canvas.viewport().width() / 2, canvas.viewport().height() / 2)
    for _ in range(8):  # wheel: zoom in around the cursor
        wheel = QWheelEvent(centre, canvas.viewport().mapToGlobal(centre), QPoint(0, 0),
                            QPoint(0, 120), Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(canvas.viewport(), wheel)
    zoomed = canvas.transform().m11()
    assert zoomed == pytest.approx(fit_scale * 1.25 ** 8, rel=1e-6) and zoomed > 1.0
    # zoomed in past the overlay's scale: a sharper overlay of the same candidate replaces it
    assert canvas.candidate.overlay is not first and canvas.candidate.overlay.scale == 1.0
    # space + drag pans (and does not draw a box)
    before = canvas.horizontalScrollBar().value()
    QTest.keyPress(canvas, Qt.Key.Key_Space)
    drag_image(window, (1500, 1100), (1460, 1100))
    QTest.keyRelease(canvas, Qt.Key.Key_Space)
    assert canvas.horizontalScrollBar().value() != before
    assert window.editor.prompt.box is None
    QTest.keyClick(window, Qt.Key.Key_F)  # fit again
    assert canvas.transform().m11() == pytest.approx(fit_scale, rel=1e-3)


def test_selecting_an_instance_highlights_it(qtbot, make_window, folder, fake_pack):
    window = make_window(fake_pack)
    open_and_wait(qtbot, window, folder / "teddy.jpg")
    window.editor.set_label("teddy")
    click_image(window, 100, 100)
    wait_prediction(qtbot, window)
    window.accept_candidate()
    (key, item), = window.canvas.instance_items.values()
    plain_alpha = item.overlay.image.pixelColor(item.overlay.image.width() // 2,
                                                item.overlay.image.height() // 2).alpha()
    window.instances.list.setCurrentRow(0)
    (key, item), = window.canvas.instance_items.values()
    selected_alpha = item.overlay.image.pixelColor(item.overlay.image.width() // 2,
                                                   item.overlay.image.height() // 2).alpha()
    assert selected_alpha > plain_alpha


def test_export_a_dataset_and_import_one(qtbot, make_window, folder, fake_pack, tmp_path):
    from pycocotools.coco import COCO
    window = make_window(fake_pack)
    open_and_wait(qtbot, window, folder / "teddy.jpg")
    window.editor.set_label("toy")
    click_image(window, 100, 100)
    wait_prediction(qtbot, window)
    window.accept_candidate()
    out = tmp_path / "coco"
    window.export_dataset("coco", out, polygons=True)
    qtbot.waitUntil(lambda: getattr(window, "last_export", None) is not None, timeout=20000)
    written = COCO(str(out / "annotations.json"))
    (ann,) = written.loadAnns(written.getAnnIds())
    mask = written.annToMask(ann).astype(bool)
    expected = window.editor.doc.instances[0].mask()
    assert (mask & expected).sum() / (mask | expected).sum() > 0.99
    # import the same file back: the image now has two instances, shown at once
    window.import_dataset("coco", out / "annotations.json")
    qtbot.waitUntil(lambda: getattr(window, "last_import", None) is not None, timeout=20000)
    assert window.last_import.instances == 1 and not window.last_import.problems
    assert [i.label for i in window.editor.doc.instances] == ["toy", "toy"]
    assert window.instances.list.count() == 2 and len(window.canvas.instance_items) == 2
    assert not window.history.group.canUndo()  # the old history referred to replaced objects


@pytest.fixture()
def street(qtbot, make_window, tmp_path):
    """A window on the street photo with the fake text pack, "person, car" found."""
    from sam3_canvas.testing.fake_text_models import write_text_pack
    folder = tmp_path / "coco"
    folder.mkdir()
    shutil.copy(fixture_path("coco/street.jpg"), folder / "street.jpg")
    text_pack = write_text_pack(tmp_path / "text", "A2")
    window = make_window(None, text_model_dir=str(text_pack))
    open_and_wait(qtbot, window, folder / "street.jpg", model=False)
    window.text.entry.setText("person, car")
    QTest.keyClick(window.text.entry, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.text_controller.result is not None, timeout=30000)
    return window


def _result_labels(window) -> list[str]:
    return [window.text.results.item(i).text().split()[0]
            for i in range(window.text.results.count())]


def test_find_by_class_names_lists_and_draws_every_instance(qtbot, street):
    assert sorted(_result_labels(street)) == ["car", "car", "person", "person"]
    assert all("score" in street.text.results.item(i).text() and "IoU" not in
               street.text.results.item(i).text() for i in range(4))
    qtbot.waitUntil(lambda: len(street.canvas.detection_items) == 4, timeout=10000)


def test_the_threshold_slider_refilters_without_running_the_model(qtbot, street):
    runs = street.text_controller.result.classes[0].timings.copy()
    street.text.slider.setValue(92)  # the weaker of each pair goes
    qtbot.waitUntil(lambda: street.text.results.count() == 2, timeout=10000)
    qtbot.waitUntil(lambda: len(street.canvas.detection_items) == 2, timeout=10000)
    assert street.text_controller.result.classes[0].timings == runs


def test_accepting_the_ticked_detections_is_one_undo_step(qtbot, street):
    labels = _result_labels(street)
    street.text.results.item(0).setCheckState(Qt.CheckState.Unchecked)
    street.text.accept_ticked.click()
    qtbot.waitUntil(lambda: len(street.editor.doc.instances) == 3, timeout=10000)
    assert sorted(i.label for i in street.editor.doc.instances) == sorted(labels[1:])
    assert all(i.source["kind"] == "text" for i in street.editor.doc.instances)
    assert street.canvas.detection_items == [] and street.text.results.count() == 0
    _undo(street)
    assert street.editor.doc.instances == []  # one undo takes the whole accept back


def test_finding_and_accepting_twice_adds_each_instance_once(qtbot, street):
    street.text.accept_all.click()
    qtbot.waitUntil(lambda: len(street.editor.doc.instances) == 4, timeout=10000)
    street.text.find.click()
    qtbot.waitUntil(lambda: street.text.results.count() == 4, timeout=30000)
    street.text.accept_all.click()
    qtbot.waitUntil(lambda: "already in the image" in street.text.status.text(), timeout=10000)
    assert len(street.editor.doc.instances) == 4


def test_a_drag_in_exemplar_mode_becomes_an_exemplar_box(qtbot, street):
    from tests.gui_helpers import drag_image
    street.text.exemplars.setChecked(True)
    drag_image(street, (100, 100), (220, 200))
    assert street.text_controller.exemplars[0].box == (100, 100, 220, 200)
    (drawn,) = street.canvas.exemplar_items  # the box stays on the canvas
    assert drawn.rect().getCoords() == (100, 100, 220, 200)
    assert street.editor.prompt.is_empty  # not a click prompt
    street.text.entry.setText("zebra")
    street.text.find.click()
    qtbot.waitUntil(lambda: street.text_controller.result is not None and
                    street.text_controller.result.classes[0].label == "zebra", timeout=30000)
    assert any(abs(d.box[0] - 100) < 2 and abs(d.box[2] - 220) < 2
               for d in street.text_controller.detections)


def test_find_without_a_text_pack_says_how_to_get_one(qtbot, make_window, folder):
    window = make_window(None, text_model="sam3-text-int8")
    open_and_wait(qtbot, window, folder / "teddy.jpg", model=False)
    window.text.entry.setText("toy")
    window.text.find.click()
    assert "models download sam3-text-int8" in window.text.status.text()
