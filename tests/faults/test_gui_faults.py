"""The same faults in the real window (pytest-qt, real sessions): nothing a user does or a
broken file causes reaches them as a traceback, a dead thread or a change to another image."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from sam3_canvas.annotations.export_target import STAGING_PREFIX  # noqa: E402
from sam3_canvas.app.project import Project  # noqa: E402
from sam3_canvas.document.annotation import Document, Instance  # noqa: E402
from sam3_canvas.testing import fake_models  # noqa: E402
from tests.faults.conftest import bad_image, digest_tree, read_only, write_photo  # noqa: E402
from tests.faults.test_input_faults import _fails_when_run  # noqa: E402
from tests.gui_helpers import (  # noqa: E402
    click_image,
    open_and_wait,
    show_and_wait,
    wait_prediction,
    window_factory,
)

GROUP = "The window"


@pytest.fixture()
def make(qtbot, tmp_path, monkeypatch):
    factory, stop = window_factory(qtbot, tmp_path, monkeypatch)
    yield factory
    stop()


@pytest.fixture()
def photos(tmp_path) -> Path:
    folder = tmp_path / "photos"
    for n, name in enumerate(("a.jpg", "b.jpg", "c.jpg")):
        write_photo(folder / name, 320, 240, seed=n)
    return folder


def _accept_click(qtbot, window, x=100, y=100):
    if not window.editor.label:
        window.editor.set_label("object")
    click_image(window, x, y)
    wait_prediction(qtbot, window)
    QTest.keyClick(window, Qt.Key.Key_Return)
    assert window.editor.prompt.is_empty
    window.flush_saves()  # written by the autosave thread


def _answer_next_box(button):
    """Press ``button`` in the next modal message box (QMessageBox.question blocks)."""
    def answer():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            box.button(button).click()
        else:
            QTimer.singleShot(20, answer)
    QTimer.singleShot(20, answer)


# -- undo and ids ----------------------------------------------------------------------------

def test_undo_after_switching_images_never_touches_the_image_left(qtbot, make, photos,
                                                                  fake_pack, fault):
    record = fault("undo after switching images", GROUP)
    window = make(fake_pack)
    open_and_wait(qtbot, window, photos / "a.jpg")
    _accept_click(qtbot, window)
    a_file = photos / ".sam3-canvas" / "a.jpg.json"
    a_before = a_file.read_bytes()
    show_and_wait(qtbot, window, 1)
    assert window.editor.image.name == "b.jpg"
    for _ in range(3):
        QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert a_file.read_bytes() == a_before  # A untouched on disk
    assert window.editor.doc.instances == []
    # B's own history works on B only
    _accept_click(qtbot, window, 150, 120)
    b_file = photos / ".sam3-canvas" / "b.jpg.json"
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    window.flush_saves()
    assert Document.load(b_file).instances == [] and a_file.read_bytes() == a_before
    # back on A, its history undoes A's accept, on A
    show_and_wait(qtbot, window, 0)
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    window.flush_saves()
    assert Document.load(a_file).instances == [] and Document.load(b_file).instances == []
    record.seen("Ctrl+Z on B undoes B's steps only; A's steps wait in A's history")
    record.keeps("A's annotation file, byte for byte")


def test_a_command_acts_on_its_own_document_whatever_is_open(tmp_path):
    """Qt-free: an undo that runs while another image is current changes its own image."""
    from sam3_canvas.app.editor import Editor
    folder = tmp_path / "p"
    for name in ("a.jpg", "b.jpg"):
        write_photo(folder / name)
    project = Project(folder)
    editor = Editor(project)
    editor.open_image(folder / "a.jpg", (160, 120))
    doc_a = editor.doc
    mask = np.zeros((120, 160), bool)
    mask[10:50, 10:50] = True
    from sam3_canvas.app.commands import AddInstance
    add = AddInstance(editor, doc_a, Instance.from_mask(doc_a.next_id(), "x", mask))
    add.redo()
    editor.open_image(folder / "b.jpg", (160, 120))
    b_doc = editor.doc
    b_doc.insert(Instance.from_mask(b_doc.next_id(), "y", mask))  # also id 1
    project.save(b_doc)
    add.undo()  # while B is current
    assert Document.load(folder / ".sam3-canvas" / "a.jpg.json").instances == []
    assert [i.label for i in Document.load(folder / ".sam3-canvas" / "b.jpg.json").instances] \
        == ["y"]
    assert [i.label for i in editor.doc.instances] == ["y"]


def test_ids_are_never_reused_in_a_document(qtbot, make, photos, fake_pack):
    window = make(fake_pack)
    open_and_wait(qtbot, window, photos / "a.jpg")
    _accept_click(qtbot, window)
    first = window.editor.doc.instances[0].id
    window.instances.list.setCurrentRow(0)
    QTest.keyClick(window, Qt.Key.Key_Delete)
    _accept_click(qtbot, window, 200, 150)
    second = window.editor.doc.instances[0].id
    assert second != first
    window.flush_saves()
    reopened = Document.load(photos / ".sam3-canvas" / "a.jpg.json")
    assert reopened.next_id() not in (first, second)


# -- folders and broken images ---------------------------------------------------------------

def test_a_folder_whose_first_image_is_corrupt_after_another_folder(qtbot, make, photos,
                                                                    fake_pack, tmp_path,
                                                                    fault):
    record = fault("open a folder whose first image is corrupt (after another folder)", GROUP)
    window = make(fake_pack)
    open_and_wait(qtbot, window, photos / "a.jpg")
    _accept_click(qtbot, window)
    window.instances.list.setCurrentRow(0)
    other = tmp_path / "other"
    bad_image("corrupt", other)  # corrupt.jpg sorts first
    write_photo(other / "good.jpg")
    window.open_path(other)
    qtbot.waitUntil(lambda: window.files.states.get("corrupt.jpg") == "failed", timeout=20000)
    assert window.instances.list.count() == 0 and not window.canvas.instance_items
    assert window.editor.doc is None and not window.history.group.canUndo()
    QTest.keyClick(window, Qt.Key.Key_Delete)  # nothing to delete, nothing raised
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    tooltip = window.files.list.item(0).toolTip()
    assert "corrupt" in tooltip
    assert "corrupt" in window.statusBar().currentMessage()
    window.flush_saves()
    assert len(Document.load(photos / ".sam3-canvas" / "a.jpg.json").instances) == 1
    show_and_wait(qtbot, window, 1)  # the reader thread lives on
    assert window.editor.doc is not None
    record.seen(f"file list: ✕ corrupt.jpg, tooltip “{tooltip}”; the same line in the status "
                "bar; the instances panel empty")
    record.keeps("the other folder's annotations; the next image opens")


def test_a_bug_while_reading_does_not_end_the_reader(qtbot, make, photos, fake_pack,
                                                     monkeypatch):
    import sam3_canvas.app.worker as worker_module
    real = worker_module.load_image
    calls = []

    def flaky(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 1:
            raise RuntimeError("simulated bug in a decoder")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(worker_module, "load_image", flaky)
    window = make(fake_pack)
    window.open_path(photos)
    qtbot.waitUntil(lambda: window.files.states.get("a.jpg") == "failed", timeout=20000)
    assert "unexpected error" in window.files.list.item(0).toolTip()
    show_and_wait(qtbot, window, 1)
    assert window.photo is not None


def test_a_model_that_fails_inside_onnxruntime_is_shown(qtbot, make, photos, fake_pack,
                                                        tmp_path, fault):
    record = fault("a model that fails while encoding (in the window)", GROUP)
    pack = tmp_path / "failing"
    shutil.copytree(fake_pack, pack)
    _fails_when_run(pack)
    window = make(pack)
    window.open_path(photos)
    qtbot.waitUntil(lambda: window.files.states.get("a.jpg") == "failed", timeout=20000)
    tooltip = window.files.list.item(0).toolTip()
    assert "the vision encoder" in tooltip and "failed" in tooltip
    qtbot.waitUntil(lambda: "the vision encoder" in window.statusBar().currentMessage(),
                    timeout=5000)
    show_and_wait(qtbot, window, 1)  # the worker goes on
    qtbot.waitUntil(lambda: window.files.states.get("b.jpg") == "failed", timeout=20000)
    record.seen(f"file list ✕ with the reason as tooltip: “{tooltip.split(' (onnxruntime')[0]}”;"
                " the same in the status bar and the candidates panel")
    record.keeps("the annotations; the app stays usable (annotations without a model)")


def test_a_corrupt_annotation_file_opened_in_the_app(qtbot, make, photos, fake_pack, fault):
    record = fault("a corrupt annotation file, opened in the app", GROUP)
    (photos / ".sam3-canvas").mkdir()
    broken = photos / ".sam3-canvas" / "a.jpg.json"
    broken.write_text('{"format": "sam3-canvas/annotation", "inst')
    window = make(fake_pack)
    open_and_wait(qtbot, window, photos / "a.jpg")
    aside = list((photos / ".sam3-canvas").glob("a.jpg.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == '{"format": "sam3-canvas/annotation", ' \
                                                       '"inst'
    assert window.messages and "kept as" in window.messages[-1][1]
    assert window.editor.doc.instances == []
    record.seen(f"a message: “{window.messages[-1][1].split('/')[-1]}”")
    record.keeps("the damaged file, renamed aside (never overwritten)")


def test_a_read_only_annotation_folder_in_the_app(qtbot, make, photos, fake_pack, fault):
    record = fault("annotating in a read-only folder", GROUP)
    Project(photos).save(Document("c.jpg", 320, 240))  # .sam3-canvas exists
    window = make(fake_pack)
    open_and_wait(qtbot, window, photos / "a.jpg")
    window.editor.set_label("object")  # the label exists before the folder turns read-only
    with read_only(photos / ".sam3-canvas"):
        _accept_click(qtbot, window)
        assert len(window.editor.doc.instances) == 1  # kept in memory
        qtbot.waitUntil(lambda: bool(window.messages) and window.messages[-1][0] == "Not saved",
                        timeout=5000)  # reported by the autosave thread
        assert "read-only" in window.messages[-1][1]
    QApplication.activeModalWidget().close()  # the user reads the message and closes it
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    _accept_click(qtbot, window, 200, 150)  # writable again: the next change saves both
    assert len(Document.load(photos / ".sam3-canvas" / "a.jpg.json").instances) == 2
    record.seen(f"“{window.messages[-1][1].split(': ', 1)[-1]}”")
    record.keeps("the change in memory; saved with the next change once the folder is "
                 "writable")


# -- settings -----------------------------------------------------------------------------------

def test_settings_ok_with_nothing_touched_changes_nothing(qtbot, make, tmp_path, photos,
                                                          fake_pack, fault):
    record = fault("Settings, OK with nothing changed (with --model-dir)", GROUP)
    qsettings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    window = make(fake_pack, qsettings=qsettings)  # like `sam3-canvas --model-dir PACK`
    qtbot.waitUntil(lambda: window.segmenter is not None, timeout=20000)
    loaded = window.segmenter
    before = (tmp_path / "s.ini").read_bytes() if (tmp_path / "s.ini").exists() else b""
    window.edit_settings()
    window.settings_dialog.accept()
    assert window.settings.variant == "" and window.settings.model_dir == str(fake_pack)
    assert window.segmenter is loaded and not window.model_loading  # not reloaded
    after = (tmp_path / "s.ini").read_bytes() if (tmp_path / "s.ini").exists() else b""
    assert after == before
    # a folder typed as a relative path is saved absolute
    window.edit_settings()
    window.settings_dialog.folder.setText("relative/pack")
    window.settings_dialog.accept()
    qsettings.sync()
    saved = qsettings.value("settings/model_dir")
    assert Path(saved).is_absolute() and saved.endswith("relative/pack")
    assert qsettings.value("settings/variant") in ("", None)
    record.seen("nothing; the model keeps running")
    record.keeps("the saved settings, byte for byte; folders are saved absolute")


# -- export from the menu ------------------------------------------------------------------------

def _annotate(folder: Path) -> None:
    project = Project(folder)
    doc = project.document(folder / "a.jpg")
    mask = np.zeros((doc.height, doc.width), bool)
    mask[30:120, 40:200] = True
    doc.insert(Instance.from_mask(doc.next_id(), "thing", mask))
    project.save(doc)


def test_file_export_and_ctrl_e_open_the_dialog_and_export(qtbot, make, photos, fault):
    record = fault("File > Export dataset… and Ctrl+E", GROUP)
    _annotate(photos)
    window = make(None)
    open_and_wait(qtbot, window, photos, model=False)
    window.export_action.trigger()  # as the menu does: triggered(checked=False)
    dialog = window.export_dialog
    assert dialog.isVisible()
    assert Path(dialog.out.text()) == photos.parent / "photos-coco"  # beside, not in, photos
    dialog.format.setCurrentIndex(dialog.format.findData("yolo"))
    assert Path(dialog.out.text()) == photos.parent / "photos-yolo"
    dialog.accept()
    qtbot.waitUntil(lambda: getattr(window, "last_export", None) is not None, timeout=20000)
    assert (photos.parent / "photos-yolo" / "labels" / "a.txt").read_text().startswith("0 ")
    window.activateWindow()  # the dialogs are gone: the window has the keyboard again
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    QTest.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert window.export_dialog is not dialog and window.export_dialog.isVisible()
    window.export_dialog.reject()
    record.seen("the export dialog, its folder suggested beside the photo folder")
    record.keeps("—")


def test_export_into_the_photo_folder_from_the_app_asks_first(qtbot, make, photos, fault):
    record = fault("export into the photo folder (in the app)", GROUP)
    _annotate(photos)
    window = make(None)
    open_and_wait(qtbot, window, photos, model=False)
    before = digest_tree(photos)
    window.last_export = None
    _answer_next_box(QMessageBox.StandardButton.No)
    window.export_dataset("coco", photos)
    qtbot.wait(200)
    assert window.last_export is None and digest_tree(photos) == before
    _answer_next_box(QMessageBox.StandardButton.Yes)
    window.export_dataset("coco", photos)
    qtbot.waitUntil(lambda: window.last_export is not None, timeout=20000)
    after = digest_tree(photos)
    assert all(after[k] == v for k, v in before.items()) and "annotations.json" in after
    record.seen("a question: the folder holds files sam3-canvas did not write; write beside "
                "them (nothing deleted or overwritten)? No: nothing happens")
    record.keeps("every photo and file; with Yes, the dataset files are added beside them")


def test_closing_during_an_export_cancels_it_and_writes_nothing(qtbot, make, photos,
                                                                monkeypatch, fault):
    record = fault("closing the window during an export", GROUP)
    _annotate(photos)
    import sam3_canvas.gui.export as export_module
    real = export_module.export_documents

    def slow(project, docs, fmt, out, unreadable=(), progress=None, **options):
        def crawl(n):
            time.sleep(0.5)
            progress(n)
        return real(project, docs * 20, fmt, out, unreadable, progress=crawl, **options)

    monkeypatch.setattr(export_module, "export_documents", slow)
    window = make(None)
    open_and_wait(qtbot, window, photos, model=False)
    out = photos.parent / "out"
    window.export_dataset("png", out)
    qtbot.waitUntil(lambda: bool(window.tasks.running("export")), timeout=5000)
    qtbot.wait(300)
    start = time.monotonic()
    window.close()
    assert time.monotonic() - start < 3.0
    assert not window.tasks.running()
    assert not out.exists()
    assert not [p for p in photos.parent.iterdir() if p.name.startswith(STAGING_PREFIX)]
    record.seen("the window closes within a second")
    record.keeps("no half dataset: the export is cancelled and its staging folder removed")


def test_closing_during_an_encode(qtbot, make, photos, tmp_path, fault):
    record = fault("closing the window during an encode", GROUP)
    slow = fake_models.write_tracker_pack(tmp_path / "slow", encoder_work=400)
    window = make(slow)
    open_and_wait(qtbot, window, photos / "a.jpg", model=False)
    qtbot.waitUntil(lambda: window.worker.busy, timeout=20000)
    start = time.monotonic()
    window.close()
    took = time.monotonic() - start
    assert took < 3.0
    assert not window.worker._model.is_alive() and not window.worker._reader.is_alive()
    record.seen(f"the window closes ({took * 1000:.0f} ms here): the encode is cancelled")
    record.keeps("the annotations (saved after every change)")


def test_closing_the_download_dialog_during_a_download(qtbot, tmp_path, fake_pack_external,
                                                       fault):
    from sam3_canvas.gui.model_dialog import ModelDialog
    from sam3_canvas.models.store import ModelStore
    from tests.hubserver import StandInHub
    record = fault("closing the model dialog during a download", GROUP)
    repo = "onnx-community/sam3-tracker-ONNX"
    with StandInHub.from_folder(repo, fake_pack_external, prefix="onnx/") as hub:
        big = "onnx/vision_encoder.onnx_data"
        hub.files[big] = np.random.default_rng(2).bytes(12 * 1024 * 1024)
        hub.bytes_per_second = 2 * 1024 * 1024
        store = ModelStore(tmp_path / "models")
        pack = store.catalogue.get("sam3-tracker")
        store.catalogue.packs["sam3-tracker"] = type(pack)(
            pack.name, pack.title, repo, "main", pack.layout, "fp32",
            {"fp32": type(pack.variants["fp32"])("fp32", (
                type(pack.variants["fp32"].files[0])("onnx/vision_encoder.onnx", 1, "encoder"),
                type(pack.variants["fp32"].files[0])(big, 12, "data"),
                type(pack.variants["fp32"].files[0])("onnx/prompt_encoder_mask_decoder.onnx",
                                                     1, "decoder")))})
        dialog = ModelDialog(store)
        qtbot.addWidget(dialog)
        dialog.variant.setCurrentIndex(dialog.variant.findData("fp32"))
        dialog.start_download(endpoint=hub.endpoint)
        staging = store.root / ".staging" / "sam3-tracker-fp32"
        part = staging / (big + ".part")
        qtbot.waitUntil(lambda: part.is_file() and part.stat().st_size > 1 << 20, timeout=30000)
        start = time.monotonic()
        dialog.reject()  # the window's close button
        assert time.monotonic() - start < 5.0
        assert not dialog.tasks.running()
        kept = part.stat().st_size
        assert 0 < kept < 12 * 1024 * 1024 and not store.is_installed("sam3-tracker")
    record.seen("the dialog closes; the download stops")
    record.keeps(f"the part already downloaded ({kept / 1e6:.1f} MB here), which the next "
                 "download resumes")


def test_the_log_file_gets_the_errors(tmp_path, cli, monkeypatch):
    from sam3_canvas import logs
    log = logs.log_file()
    image = tmp_path / "missing.jpg"
    result = cli("segment", "--image", image, "--point", "1,1", "--model-dir", tmp_path)
    assert result.code == 2
    assert log.is_file() and "user error" in log.read_text()
    verbose = cli("segment", "--verbose", "--image", image, "--point", "1,1",
                  "--model-dir", tmp_path)
    logs.setup_logging(False)  # the stderr mirror was bound to this test's captured stream
    assert "INFO" in verbose.err and verbose.code == 2


def test_no_to_the_not_empty_question_goes_back_to_the_dialog(qtbot, make, photos):
    _annotate(photos)
    window = make(None)
    open_and_wait(qtbot, window, photos, model=False)
    window.export_action.trigger()
    dialog = window.export_dialog
    dialog.format.setCurrentIndex(dialog.format.findData("voc"))
    dialog.out.setText(str(photos))
    before = digest_tree(photos)
    _answer_next_box(QMessageBox.StandardButton.No)
    dialog.accept()
    qtbot.waitUntil(dialog.isVisible, timeout=5000)  # back, with the choices kept
    assert dialog.format.currentData() == "voc" and dialog.out.text() == str(photos)
    assert digest_tree(photos) == before
    dialog.reject()


def test_settings_that_do_not_touch_the_model_do_not_reload_it(qtbot, make, fake_pack):
    window = make(fake_pack)
    qtbot.waitUntil(lambda: window.segmenter is not None, timeout=20000)
    loaded = window.segmenter
    window.edit_settings()
    window.settings_dialog.prefetch.setValue(5)
    assert not window.settings_dialog.model.isEnabled()  # the folder runs, not the catalogue
    window.settings_dialog.accept()
    assert window.segmenter is loaded and not window.model_loading
    assert window.worker.prefetch_depth == 5


def test_file_import_asks_what_to_do_with_an_earlier_import(qtbot, make, photos, tmp_path):
    import json as _json
    source = tmp_path / "lm"
    source.mkdir()
    (source / "a.json").write_text(_json.dumps(
        {"shapes": [{"label": "thing", "points": [[10, 10], [200, 10], [200, 150]],
                     "shape_type": "polygon"}],
         "imagePath": "a.jpg", "imageWidth": 320, "imageHeight": 240}))
    window = make(None)
    open_and_wait(qtbot, window, photos / "a.jpg", model=False)
    for run, (expected, mode) in enumerate(((1, "skip-existing"), (1, "skip-existing"),
                                            (2, "append"))):
        window.last_import = None
        window.ask_import()
        dialog = window.import_dialog
        dialog.format.setCurrentIndex(dialog.format.findData("labelme"))
        dialog.source.setText(str(source))
        dialog.mode.setCurrentIndex(dialog.mode.findData(mode))
        dialog.accept()
        qtbot.waitUntil(lambda: window.last_import is not None, timeout=20000)
        assert len(window.editor.doc.instances) == expected, mode
        if run == 1:  # the rerun skipped what the first import brought in, and said so
            assert "1 were imported before" in window.statusBar().currentMessage()


def test_worker_news_after_the_window_is_gone_reaches_no_deleted_widget(qtbot, tmp_path,
                                                                        monkeypatch, photos):
    """A worker thread may still report (an image's state) after its window was closed and
    deleted; that news must go nowhere. It once reached the deleted file list from a bridge
    that outlived the window and failed the next test in CI."""
    from sam3_canvas.app.settings import Settings
    from sam3_canvas.gui.main_window import MainWindow
    from sam3_canvas.models.store import ModelStore

    monkeypatch.setenv("SAM3_CANVAS_CACHE", str(tmp_path / "cache"))
    window = MainWindow(Settings(model_dir="", disk_cache=False),
                        QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat),
                        ModelStore(tmp_path / "models"))
    window.show()
    window.open_path(photos)
    qtbot.waitUntil(lambda: window.photo is not None, timeout=10000)
    bridge, worker = window.bridge, window.worker
    window.close()
    worker.stop(timeout=5)
    window.tasks.stop_all(timeout=5)
    window.deleteLater()
    qtbot.wait(50)  # the window and every child are deleted now
    bridge.image_state(photos / "a.jpg", "ready", "")  # as a worker still running would
    qtbot.wait(100)  # pytest-qt fails the test on an exception raised in the event loop
