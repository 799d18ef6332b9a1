"""The hand tools in the real window, driven by real mouse and key events (pytest-qt): brush,
eraser, polygon, select and outline vertices, refining clicks, Ctrl/Alt+click, clean-ups, hover
preview, display options, and the window that stays put. Each checks the saved document."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QWheelEvent  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from sam3_canvas.app.datasets import export_project  # noqa: E402
from sam3_canvas.document.annotation import Document  # noqa: E402
from sam3_canvas.testing import fake_models  # noqa: E402
from tests.conftest import fixture_path  # noqa: E402
from tests.gui_helpers import (  # noqa: E402
    click_image,
    click_with,
    double_click_image,
    hover_image,
    open_and_wait,
    stroke_image,
    wait_prediction,
    window_factory,
)

CTRL, ALT, SHIFT = (Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.AltModifier,
                    Qt.KeyboardModifier.ShiftModifier)


@pytest.fixture()
def make(qtbot, tmp_path, monkeypatch):
    make, stop = window_factory(qtbot, tmp_path, monkeypatch)
    yield make
    stop()


@pytest.fixture()
def folder(tmp_path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("llama.jpg", "teddy.jpg"):
        shutil.copy(fixture_path(f"objects/images/{name}"), folder / name)
    return folder


@pytest.fixture()
def truth() -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(fixture_path("objects/masks/llama.png"))) > 128


@pytest.fixture()
def window(qtbot, make, folder, truth, tmp_path):
    """The window on llama.jpg with the oracle pack (its candidates are the true mask, eroded
    and dilated) and the label "llama"."""
    oracle = fake_models.write_oracle_pack(tmp_path / "oracle", truth)
    window = make(oracle)
    open_and_wait(qtbot, window, folder / "llama.jpg")
    window.editor.set_label("llama")
    return window


def _saved(window) -> Document:
    window.flush_saves()  # what the autosave thread has written
    return Document.load(window.project.annotation_path(window.editor.image))


def _key(window, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(window, key, modifiers)


def _accept_llama(qtbot, window, truth) -> int:
    ys, xs = np.nonzero(truth)
    click_image(window, int(np.median(xs)), int(np.median(ys)))
    wait_prediction(qtbot, window)
    _key(window, Qt.Key.Key_3)  # the eroded candidate: an edge for the tools to fix
    _key(window, Qt.Key.Key_Return)
    return window.editor.doc.instances[-1].id


def _select(window, iid: int) -> None:
    for row in range(window.instances.list.count()):
        if window.instances.list.item(row).data(Qt.ItemDataRole.UserRole) == iid:
            window.instances.list.setCurrentRow(row)
    assert window.selected_instance == iid


def _mask(window, iid: int) -> np.ndarray:
    return window.editor.doc.get(iid).mask()


def test_a_mask_fixed_by_every_tool_undone_step_by_step_and_exported(qtbot, window, truth,
                                                                      folder, tmp_path):
    """The issue's whole story: a SAM mask, its edge fixed with brush and eraser, a missed
    part added with a polygon, refined with two more clicks, every step undone and redone,
    then exported."""
    iid = _accept_llama(qtbot, window, truth)
    steps = [_saved(window).get(iid).rle]
    _select(window, iid)
    ys, xs = np.nonzero(truth & ~_mask(window, iid))  # what the eroded candidate missed
    edge_y, edge_x = int(np.median(ys)), int(np.median(xs))
    _key(window, Qt.Key.Key_B)
    assert window.canvas.tool == "brush"
    stroke_image(window, [(edge_x - 3, edge_y), (edge_x + 3, edge_y), (edge_x + 6, edge_y + 2)])
    assert _mask(window, iid)[edge_y, edge_x]
    steps.append(_saved(window).get(iid).rle)
    _key(window, Qt.Key.Key_E)
    stroke_image(window, [(edge_x, edge_y), (edge_x + 2, edge_y)])
    assert not _mask(window, iid)[edge_y, edge_x]
    steps.append(_saved(window).get(iid).rle)
    _key(window, Qt.Key.Key_P)
    for x, y in [(10, 10), (40, 10), (40, 40)]:
        click_image(window, x, y)
    double_click_image(window, 10, 40)
    assert _mask(window, iid)[20, 30] and not _mask(window, iid)[60, 60]
    steps.append(_saved(window).get(iid).rle)
    _key(window, Qt.Key.Key_C)
    points = len(window.editor.doc.get(iid).source["points"])
    for x, y in [(int(np.median(xs)) + 1, int(np.median(ys))), (5, 5)]:
        before = window.editor.doc.get(iid)
        click_image(window, x, y, background=(x, y) == (5, 5))
        qtbot.waitUntil(lambda b=before: window.editor.doc.get(iid) is not b, timeout=20000)
        steps.append(_saved(window).get(iid).rle)
    assert len(window.editor.doc.get(iid).source["points"]) == points + 2
    # every step changed the mask (the oracle's candidates do not depend on the clicks, so
    # the second refining click gives the same mask as the first)
    assert len({s["counts"] for s in steps[:-1]}) == len(steps) - 1
    for expected in reversed(steps[:-1]):  # undo each step; the saved file follows
        _key(window, Qt.Key.Key_Z, CTRL)
        assert _saved(window).get(iid).rle == expected
    for expected in steps[1:]:
        _key(window, Qt.Key.Key_Y, CTRL)
        assert _saved(window).get(iid).rle == expected
    report = export_project(window.project, "png", tmp_path / "out")
    assert report.instances == 1
    from PIL import Image
    exported = np.asarray(Image.open(next((tmp_path / "out").rglob("llama*.png"))))
    assert np.array_equal(exported > 0, _mask(window, iid))


def test_brushing_the_candidate_makes_it_an_instance_in_one_step(qtbot, window, truth):
    ys, xs = np.nonzero(truth)
    click_image(window, int(np.median(xs)), int(np.median(ys)))
    wait_prediction(qtbot, window)
    _key(window, Qt.Key.Key_B)
    stroke_image(window, [(15, 15), (30, 15)])
    (inst,) = _saved(window).instances
    assert inst.label == "llama" and inst.mask()[15, 20] and inst.source.get("edited") is None
    assert inst.source["kind"] == "manual" and window.editor.prompt.is_empty
    _key(window, Qt.Key.Key_Z, CTRL)
    assert _saved(window).instances == [] and not window.editor.prompt.is_empty


def test_the_brush_with_nothing_selected_draws_a_new_instance(qtbot, window):
    _key(window, Qt.Key.Key_B)
    stroke_image(window, [(20, 20), (60, 20)])
    (inst,) = _saved(window).instances
    assert inst.source == {"kind": "manual", "tool": "brush"} and inst.mask()[20, 40]


def test_the_eraser_with_nothing_to_erase_says_so_and_changes_nothing(qtbot, window):
    _key(window, Qt.Key.Key_E)
    stroke_image(window, [(20, 20), (60, 20)])
    assert window.editor.doc.instances == []
    assert "Nothing to erase" in window.statusBar().currentMessage()


def test_brush_size_keys_and_ctrl_wheel(qtbot, window):
    _key(window, Qt.Key.Key_B)
    start = window.canvas.brush_radius
    _key(window, Qt.Key.Key_BracketRight)
    assert window.canvas.brush_radius == pytest.approx(start * 1.25)
    _key(window, Qt.Key.Key_BracketLeft)
    assert window.canvas.brush_radius == pytest.approx(start)
    viewport = window.canvas.viewport()
    at = QPointF(viewport.width() / 2, viewport.height() / 2)
    zoom = window.canvas.transform().m11()
    wheel = QWheelEvent(at, viewport.mapToGlobal(at), QPoint(0, 0), QPoint(0, 120),
                        Qt.MouseButton.NoButton, CTRL, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, wheel)
    assert window.canvas.brush_radius > start and window.canvas.transform().m11() == zoom


def test_a_polygon_with_nothing_selected_is_a_new_instance_and_shift_takes_away(qtbot,
                                                                                 window):
    _key(window, Qt.Key.Key_P)
    for x, y in [(10, 10), (80, 10), (80, 60)]:
        click_image(window, x, y)
    _key(window, Qt.Key.Key_Backspace)  # the last vertex back
    click_image(window, 80, 80)
    _key(window, Qt.Key.Key_Return)  # Enter closes it
    (inst,) = window.editor.doc.instances
    assert inst.source == {"kind": "manual", "tool": "polygon"} and inst.mask()[20, 60]
    _select(window, inst.id)
    for x, y in [(40, 0), (90, 0), (90, 30)]:
        click_image(window, x, y)
    double_click_image(window, 40, 30, SHIFT)
    assert not _mask(window, inst.id)[15, 70] and _saved(window).get(inst.id).mask()[60, 75]


def test_escape_drops_the_polygon_being_drawn(qtbot, window):
    _key(window, Qt.Key.Key_P)
    click_image(window, 10, 10)
    click_image(window, 50, 10)
    _key(window, Qt.Key.Key_Escape)
    assert window.canvas.draft.points == [] and window.editor.doc.instances == []


def _two_squares(qtbot, window) -> tuple[int, int]:
    _key(window, Qt.Key.Key_P)
    ids = []
    for x0 in (20, 50):  # overlapping squares: 20..80 and 50..110
        for x, y in [(x0, 20), (x0 + 60, 20), (x0 + 60, 80)]:
            click_image(window, x, y)
        double_click_image(window, x0, 80)
        ids.append(window.editor.doc.instances[-1].id)
        window.select_instance(-1)
    return ids[0], ids[1]


def test_the_select_tool_picks_and_cycles_through_overlapping_instances(qtbot, window):
    below, above = _two_squares(qtbot, window)
    _key(window, Qt.Key.Key_V)
    click_image(window, 65, 50)
    assert window.selected_instance == above
    click_image(window, 65, 50)
    assert window.selected_instance == below  # the same spot again: the next one down
    click_image(window, 30, 50)
    assert window.selected_instance == below
    click_image(window, 150, 150)
    assert window.selected_instance == -1


def test_outline_vertices_are_dragged_inserted_and_deleted(qtbot, window):
    below, _ = _two_squares(qtbot, window)
    _key(window, Qt.Key.Key_V)
    click_image(window, 30, 50)
    assert window.selected_instance == below
    rings = window.canvas.outline.rings
    assert len(rings) == 1 and len(rings[0].points) == 4
    corner = rings[0].points[np.argmax(rings[0].points.sum(axis=1))]  # bottom right
    x, y = float(corner[0]), float(corner[1])
    stroke_image(window, [(x, y), (x + 10, y + 10), (x + 20, y + 20)])
    assert _mask(window, below)[int(y) + 15, int(x) + 15]
    assert len(window.canvas.outline.rings[0].points) == 4
    stroke_image(window, [(50.0, 20.5), (50.0, 10.0)])  # the top edge: a new vertex, dragged
    assert _mask(window, below)[15, 50]
    points = window.canvas.outline.rings[0].points
    top = points[np.argmin(points[:, 1])]
    assert abs(top[1] - 10) <= 1  # the outline is read from the mask again, with the new vertex
    click_with(window, float(top[0]), float(top[1]), Qt.KeyboardModifier.NoModifier,
               Qt.MouseButton.RightButton)
    assert not _mask(window, below)[12, 50]
    assert window.canvas.outline.rings[0].points[:, 1].min() >= 18
    _key(window, Qt.Key.Key_Z, CTRL)
    assert _saved(window).get(below).mask()[15, 50]


def test_ctrl_click_adds_and_alt_click_takes_away_a_candidate(qtbot, window, truth):
    _key(window, Qt.Key.Key_P)
    for x, y in [(5, 5), (25, 5), (25, 25)]:
        click_image(window, x, y)
    double_click_image(window, 5, 25)
    iid = window.editor.doc.instances[-1].id
    _select(window, iid)
    _key(window, Qt.Key.Key_C)
    ys, xs = np.nonzero(truth)
    x, y = int(np.median(xs)), int(np.median(ys))
    before = window.editor.doc.get(iid)
    click_with(window, x, y, CTRL)
    qtbot.waitUntil(lambda: window.editor.doc.get(iid) is not before, timeout=20000)
    grown = _mask(window, iid)
    assert grown[10, 10] and grown[y, x] and window.editor.prompt.is_empty
    before = window.editor.doc.get(iid)
    click_with(window, x, y, ALT)
    qtbot.waitUntil(lambda: window.editor.doc.get(iid) is not before, timeout=20000)
    assert not _mask(window, iid)[y, x] and _saved(window).get(iid).mask()[10, 10]


def test_clean_ups_from_the_edit_menu(qtbot, window):
    _key(window, Qt.Key.Key_B)
    stroke_image(window, [(40, 40), (40, 40)])
    iid = window.editor.doc.instances[-1].id
    _select(window, iid)
    _key(window, Qt.Key.Key_E)
    window.canvas.set_brush_radius(2)
    stroke_image(window, [(40, 40), (40, 40)])  # a hole in the middle
    assert not _mask(window, iid)[40, 40]
    _key(window, Qt.Key.Key_H, CTRL)  # Edit > Fill holes
    assert _saved(window).get(iid).mask()[40, 40]
    window.canvas.set_brush_radius(8)
    _key(window, Qt.Key.Key_B)
    window.select_instance(-1)
    stroke_image(window, [(100, 100), (100, 100)])
    second = window.editor.doc.instances[-1].id
    assert [i.id for i in window.editor.doc.instances] == [iid, second]
    _select(window, second)
    _key(window, Qt.Key.Key_BracketLeft, CTRL)  # send to back
    assert [i.id for i in _saved(window).instances] == [second, iid]


def test_hover_preview_shows_the_mask_under_the_resting_cursor(qtbot, window, truth):
    assert window.canvas.candidate.overlay is None
    window.hover_action.setChecked(True)
    ys, xs = np.nonzero(truth)
    hover_image(window, int(np.median(xs)), int(np.median(ys)))
    qtbot.waitUntil(lambda: window.canvas.candidate.overlay is not None, timeout=10000)
    assert window.editor.prompt.is_empty and window.editor.doc.instances == []
    window.hover_action.setChecked(False)
    assert not window.settings.hover_preview


def test_display_options_change_only_the_overlays(qtbot, window):
    _two_squares(qtbot, window)
    items = window.canvas.instance_items
    first = {i: item.overlay.image.pixel(30, 30) for i, (_, item) in items.items()}
    _key(window, Qt.Key.Key_O)  # outlines only: the inside is not filled
    inside = {i: item.overlay.image.pixel(30, 30) for i, (_, item) in
              window.canvas.instance_items.items()}
    assert all(v == 0 for v in inside.values()) and any(v != 0 for v in first.values())
    window.per_instance_action.setChecked(True)
    window.set_outlines_only(False)
    colours = {item.overlay.image.pixel(30, 30) for _, item in
               window.canvas.instance_items.values()}
    assert len(colours) == 2  # one label, two colours
    _key(window, Qt.Key.Key_H)  # hide all
    assert window.canvas.instance_items == {}
    saved = _saved(window).instances
    assert len(saved) == 2 and not any(i.hidden for i in saved)  # the display only


def test_the_window_does_not_grow_when_candidates_appear(qtbot, window, truth):
    before = window.minimumSizeHint()
    size = window.size()
    ys, xs = np.nonzero(truth)
    click_image(window, int(np.median(xs)), int(np.median(ys)))
    wait_prediction(qtbot, window)
    qtbot.waitUntil(lambda: not window.candidates.buttons[0].icon().isNull(), timeout=10000)
    assert window.minimumSizeHint().height() == before.height()
    assert window.size() == size
    assert before.width() <= 1366 and before.height() <= 768 - 40  # a 1366 x 768 screen


def test_enter_without_a_label_asks_for_one(qtbot, make, folder, fake_pack):
    window = make(fake_pack)
    open_and_wait(qtbot, window, folder / "teddy.jpg")
    click_image(window, 100, 100)
    wait_prediction(qtbot, window)
    _key(window, Qt.Key.Key_Return)
    assert window.editor.doc.instances == [] and window.label_dialog.isVisible()
    window.label_dialog.setTextValue("toy")
    window.label_dialog.accept()
    assert [i.label for i in _saved(window).instances] == ["toy"]


def test_the_keyboard_sheet_lists_every_tool(qtbot, window):
    from sam3_canvas.gui.menus import TOOLS, shortcut_rows
    rows = dict(shortcut_rows(window))
    for _, text, key in TOOLS:
        assert rows.get(key) == text
    assert rows.get("Ctrl+Z") == "Undo"
    window.show_shortcuts()
    table = window.shortcuts_table
    shown = {table.item(r, 1).text() for r in range(table.rowCount())}
    assert "Brush" in shown and window.shortcuts_box.height() <= 768 - 60


def test_an_empty_canvas_says_how_to_start(qtbot, make):
    window = make(None)
    assert "Ctrl+O" in window.canvas.empty_hint and window.canvas.photo.images is None


def test_recent_folders_and_the_window_size_are_remembered(qtbot, make, folder, tmp_path):
    from PySide6.QtCore import QSettings

    from sam3_canvas.app.settings import Settings
    from sam3_canvas.gui.main_window import MainWindow
    from sam3_canvas.models.store import ModelStore
    window = make(None)
    open_and_wait(qtbot, window, folder / "teddy.jpg", model=False)
    window.resize(760, 560)  # inside the offscreen platform's 800 x 600 screen
    window.close()
    qsettings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    again = MainWindow(Settings(disk_cache=False), qsettings, ModelStore(tmp_path / "models"))
    qtbot.addWidget(again)
    try:
        assert again.recent_folders()[0] == str(folder)
        assert again.size().width() == 760  # (its height is at least its minimum)
        again.fill_recent_menu()
        assert [a.text() for a in again.recent_menu.actions()] == [str(folder)]
        assert again._start_folder() == str(folder)  # file dialogs start there
    finally:
        again.worker.stop(timeout=5)


def test_labels_are_counted_renamed_recoloured_and_deleted(qtbot, window):
    _two_squares(qtbot, window)
    assert "(2)" in window.labels.list.item(0).text()
    window.change_labels("rename", "llama", "camelid")
    assert {i.label for i in _saved(window).instances} == {"camelid"}
    assert window.project.labels.names == ["camelid"] and window.editor.label == "camelid"
    window.change_labels("recolour", "camelid", (10, 20, 30))
    assert window.project.labels.get("camelid").colour == (10, 20, 30)
    window.editor.set_label("other")
    window.ask_delete_label("camelid")
    relabel = next(b for b in window.label_box.buttons() if "Relabel" in b.text())
    relabel.click()
    assert {i.label for i in _saved(window).instances} == {"other"}
    assert window.project.labels.names == ["other"]
    _key(window, Qt.Key.Key_Z, CTRL)  # the histories went with the change: nothing to undo
    assert len(_saved(window).instances) == 2


def test_the_prompt_box_is_resized_by_a_corner_and_moved_by_its_centre(qtbot, window):
    from tests.gui_helpers import drag_image

    def box_is(expected):
        box = window.editor.prompt.box
        return box is not None and all(abs(a - b) <= 2 for a, b in zip(box, expected))

    def decoded(expected):
        prediction = window.editor.prediction
        return prediction is not None and prediction.prompt.box is not None and all(
            abs(a - b) <= 2 for a, b in zip(prediction.prompt.box, expected))

    drag_image(window, (40, 40), (200, 200))
    qtbot.waitUntil(lambda: decoded((40, 40, 200, 200)), timeout=10000)
    assert len(window.canvas.markers) == 2  # the box and its centre handle
    drag_image(window, (200, 200), (260, 230))  # the bottom-right corner
    qtbot.waitUntil(lambda: decoded((40, 40, 260, 230)), timeout=10000)
    drag_image(window, (150, 135), (180, 155))  # the centre handle: moved, same size
    qtbot.waitUntil(lambda: decoded((70, 60, 290, 250)), timeout=10000)
    click_image(window, 289, 150)  # on the right edge without dragging: still a click
    qtbot.waitUntil(lambda: window.editor.prompt.points == ((289.0, 150.0),), timeout=10000)
    assert box_is((70, 60, 290, 250))
    for expected in ((70, 60, 290, 250), (40, 40, 260, 230), (40, 40, 200, 200)):
        _key(window, Qt.Key.Key_Z, CTRL)  # each edit is one undo step
        assert box_is(expected), (window.editor.prompt.box, expected)
