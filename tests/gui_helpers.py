"""Driving the real main window with real mouse events (pytest-qt)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


def view_point(window, x: float, y: float, corner: bool = False) -> QPoint:
    """The viewport pixel whose click lands on image pixel (x, y) (clicks are floored to a
    pixel), or with ``corner`` on the corner (x, y) (box corners are rounded); searched
    around the spot, the nearest one when none lands exactly."""
    import math
    canvas = window.canvas
    where = (x, y) if corner else (x + 0.5, y + 0.5)
    snap = round if corner else math.floor
    centre = canvas.mapFromScene(*where)
    best, best_d = QPoint(centre.x(), centre.y()), float("inf")
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            candidate = QPoint(centre.x() + dx, centre.y() + dy)
            scene = canvas.mapToScene(candidate)
            d = abs(snap(scene.x()) - x) + abs(snap(scene.y()) - y)
            if d < best_d:
                best, best_d = candidate, d
    return best


def click_image(window, x: float, y: float, background: bool = False) -> None:
    modifier = Qt.KeyboardModifier.ShiftModifier if background else Qt.KeyboardModifier.NoModifier
    QTest.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, modifier,
                     view_point(window, x, y))


def drag_image(window, start: tuple[float, float], end: tuple[float, float]) -> None:
    viewport = window.canvas.viewport()
    a, b = view_point(window, *start, corner=True), view_point(window, *end, corner=True)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for t in (0.25, 0.5, 1.0):
        p = QPointF(a.x() + (b.x() - a.x()) * t, a.y() + (b.y() - a.y()) * t)
        move = QMouseEvent(QMouseEvent.Type.MouseMove, p, viewport.mapToGlobal(p),
                           Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton,
                           Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(viewport, move)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)


def open_and_wait(qtbot, window, path, model=True, timeout=20000):
    """Open a folder or image and wait until its first image is current (and the model)."""
    window.open_path(path)
    qtbot.waitUntil(lambda: window.photo is not None and window.editor is not None and
                    window.editor.doc is not None, timeout=timeout)
    if model:
        qtbot.waitUntil(lambda: window.segmenter is not None, timeout=timeout)


def wait_prediction(qtbot, window, timeout=20000):
    qtbot.waitUntil(lambda: window.editor.prediction is not None, timeout=timeout)
    return window.editor.prediction


def show_and_wait(qtbot, window, index, timeout=20000):
    """Switch to image ``index`` as a user would (the file list) and wait until it is
    current."""
    window.files.list.setCurrentRow(index)
    qtbot.waitUntil(lambda: window.editor.image is not None and
                    window.editor.image == window.project.images[index], timeout=timeout)


def window_factory(qtbot, tmp_path, monkeypatch):
    """``make(model_dir, **settings)`` -> a shown MainWindow with its own QSettings file and
    model store under ``tmp_path``; and a function that stops every window's worker."""
    from PySide6.QtCore import QSettings

    from sam3_canvas.app.settings import Settings
    from sam3_canvas.gui.main_window import MainWindow
    from sam3_canvas.models.store import ModelStore

    monkeypatch.setenv("SAM3_CANVAS_CACHE", str(tmp_path / "cache"))
    windows = []

    def make(model_dir=None, qsettings=None, **settings):
        qsettings = qsettings or QSettings(str(tmp_path / "settings.ini"),
                                           QSettings.Format.IniFormat)
        values = {"model_dir": str(model_dir or ""), "disk_cache": False, **settings}
        window = MainWindow(Settings(**values), qsettings, ModelStore(tmp_path / "models"))
        qtbot.addWidget(window)
        window.resize(1300, 850)
        window.show()
        windows.append(window)
        return window

    def stop():
        for window in windows:
            window.worker.stop(timeout=5)
            window.tasks.stop_all(timeout=5)

    return make, stop


def _send_move(viewport, point: QPointF, buttons, modifiers) -> None:
    move = QMouseEvent(QMouseEvent.Type.MouseMove, point, viewport.mapToGlobal(point),
                       Qt.MouseButton.NoButton, buttons, modifiers)
    QApplication.sendEvent(viewport, move)


def stroke_image(window, points: list[tuple[float, float]],
                 modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    """Press at the first point, move through the others with the button held, release at
    the last: a brush stroke or a vertex drag, as a hand makes it."""
    viewport = window.canvas.viewport()
    where = [view_point(window, x, y) for x, y in points]
    _send_move(viewport, QPointF(where[0]), Qt.MouseButton.NoButton, modifiers)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, modifiers, where[0])
    for p in where[1:]:
        _send_move(viewport, QPointF(p), Qt.MouseButton.LeftButton, modifiers)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, modifiers, where[-1])


def hover_image(window, x: float, y: float) -> None:
    """The mouse moved to (x, y) with no button held, and left there."""
    viewport = window.canvas.viewport()
    _send_move(viewport, QPointF(view_point(window, x, y)), Qt.MouseButton.NoButton,
               Qt.KeyboardModifier.NoModifier)


def click_with(window, x: float, y: float, modifiers, button=Qt.MouseButton.LeftButton) -> None:
    QTest.mouseClick(window.canvas.viewport(), button, modifiers, view_point(window, x, y))


def double_click_image(window, x: float, y: float, modifiers=Qt.KeyboardModifier.NoModifier):
    """A double-click as Qt delivers it: press, release, double-click, release."""
    viewport = window.canvas.viewport()
    point = view_point(window, x, y)
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, modifiers, point)
    QTest.mouseDClick(viewport, Qt.MouseButton.LeftButton, modifiers, point)
