"""Driving the real main window with real mouse events (pytest-qt)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication


def view_point(window, x: float, y: float) -> QPoint:
    pos = window.canvas.mapFromScene(x, y)
    return QPoint(pos.x(), pos.y())


def click_image(window, x: float, y: float, background: bool = False) -> None:
    modifier = Qt.KeyboardModifier.ShiftModifier if background else Qt.KeyboardModifier.NoModifier
    QTest.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, modifier,
                     view_point(window, x, y))


def drag_image(window, start: tuple[float, float], end: tuple[float, float]) -> None:
    viewport = window.canvas.viewport()
    a, b = view_point(window, *start), view_point(window, *end)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for t in (0.25, 0.5, 1.0):
        p = QPointF(a.x() + (b.x() - a.x()) * t, a.y() + (b.y() - a.y()) * t)
        move = QMouseEvent(QMouseEvent.Type.MouseMove, p, viewport.mapToGlobal(p),
                           Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton,
                           Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(viewport, move)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)
