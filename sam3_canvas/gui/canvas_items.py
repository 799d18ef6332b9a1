"""What the canvas draws for the hand tools: the brush circle, the polygon being drawn, the
mask being painted, and the outline of the selected instance with its vertices.

Sizes on screen (handles, lines) are cosmetic: they stay the same whatever the zoom.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem, QGraphicsPathItem

from ..editing.geometry import Rect
from ..editing.polygon import Ring

HANDLE_PX = 5  # half the side of a vertex handle, in screen pixels


def cosmetic_pen(colour: QColor, width: float = 1.5, style=Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(colour, width, style)
    pen.setCosmetic(True)
    return pen


class BrushCursor(QGraphicsEllipseItem):
    """The brush's circle under the cursor, at its true size in image pixels."""

    def __init__(self):
        super().__init__()
        self.setPen(cosmetic_pen(QColor(255, 255, 255), 1.2))
        self.setZValue(60)
        self.hide()

    def place(self, x: float, y: float, radius: float, erase: bool) -> None:
        colour = QColor(255, 90, 90) if erase else QColor(255, 255, 255)
        self.setPen(cosmetic_pen(colour, 1.2))
        self.setRect(x - radius, y - radius, 2 * radius, 2 * radius)
        self.show()


class PolygonDraft(QGraphicsPathItem):
    """The polygon being drawn: its vertices so far and a line to the cursor."""

    def __init__(self):
        super().__init__()
        self.points: list[tuple[float, float]] = []
        self.cursor: tuple[float, float] | None = None
        self.setPen(cosmetic_pen(QColor(255, 210, 0), 1.5))
        self.setBrush(QBrush(QColor(255, 210, 0, 50)))
        self.setZValue(55)

    def add(self, x: float, y: float) -> None:
        self.points.append((x, y))
        self._rebuild()

    def undo_last(self) -> None:
        if self.points:
            self.points.pop()
            self._rebuild()

    def hover(self, x: float, y: float) -> None:
        if self.points:
            self.cursor = (x, y)
            self._rebuild()

    def clear(self) -> None:
        self.points = []
        self.cursor = None
        self._rebuild()

    def _rebuild(self) -> None:
        path = QPainterPath()
        points = self.points + ([self.cursor] if self.cursor and self.points else [])
        if points:
            path.moveTo(*points[0])
            for x, y in points[1:]:
                path.lineTo(x, y)
            for x, y in self.points:
                path.addEllipse(QPointF(x, y), 0.5, 0.5)
        self.setPath(path)


class LiveMask(QGraphicsItem):
    """The mask being painted, at the view's scale, for the whole photo. A brush move
    resamples only the rectangle it changed, so painting stays smooth on a 12 MP photo."""

    def __init__(self):
        super().__init__()
        self.setZValue(25)
        self._buffer: np.ndarray | None = None
        self._image: QImage | None = None
        self._size = (0, 0)  # image pixels
        self._scale = 1.0
        self._argb = np.uint32(0)
        self.hide()

    def start(self, mask: np.ndarray, colour: tuple[int, int, int], scale: float) -> None:
        height, width = mask.shape
        self.prepareGeometryChange()
        self._size, self._scale = (width, height), min(max(scale, 1e-3), 1.0)
        r, g, b = colour
        alpha = 150
        self._argb = np.uint32((alpha << 24) | ((r * alpha // 255) << 16)
                               | ((g * alpha // 255) << 8) | (b * alpha // 255))
        shape = (max(1, math.ceil(height * self._scale)), max(1, math.ceil(width * self._scale)))
        self._buffer = np.zeros(shape, np.uint32)
        self._image = QImage(self._buffer.data, shape[1], shape[0], 4 * shape[1],
                             QImage.Format.Format_ARGB32_Premultiplied)
        self.refresh(mask, (0, 0, width, height))
        self.show()

    def refresh(self, mask: np.ndarray, rect: Rect) -> None:
        """Resample ``rect`` (image pixels) of ``mask`` into the buffer and repaint it."""
        if self._buffer is None:
            return
        s = self._scale
        x0, y0, x1, y1 = rect
        dx0, dy0 = int(x0 * s), int(y0 * s)
        dx1 = min(self._buffer.shape[1], math.ceil(x1 * s))
        dy1 = min(self._buffer.shape[0], math.ceil(y1 * s))
        if dx0 >= dx1 or dy0 >= dy1:
            return
        height, width = mask.shape
        ys = np.minimum(((np.arange(dy0, dy1) + 0.5) / s).astype(np.intp), height - 1)
        xs = np.minimum(((np.arange(dx0, dx1) + 0.5) / s).astype(np.intp), width - 1)
        part = mask[np.ix_(ys, xs)]
        self._buffer[dy0:dy1, dx0:dx1] = np.where(part, self._argb, np.uint32(0))
        self.update(QRectF(dx0 / s, dy0 / s, (dx1 - dx0) / s, (dy1 - dy0) / s))

    def stop(self) -> None:
        self.prepareGeometryChange()
        self._buffer, self._image = None, None
        self.hide()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, *self._size) if self._image is not None else QRectF()

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self._image is not None:
            painter.drawImage(self.boundingRect(), self._image)


class OutlineItem(QGraphicsItem):
    """The selected instance's rings with square handles on their vertices (select tool)."""

    def __init__(self):
        super().__init__()
        self.setZValue(58)
        self.rings: list[Ring] = []
        self.points: list[np.ndarray] = []  # the rings' vertices as they are being edited
        self.hide()

    def set_rings(self, rings: list[Ring]) -> None:
        self.prepareGeometryChange()
        self.rings = rings
        self.points = [r.points.copy() for r in rings]
        self.setVisible(bool(rings))
        self.update()

    def boundingRect(self) -> QRectF:
        if not self.points:
            return QRectF()
        every = np.concatenate(self.points)
        x0, y0 = every.min(axis=0)
        x1, y1 = every.max(axis=0)
        return QRectF(x0 - 50, y0 - 50, x1 - x0 + 100, y1 - y0 + 100)

    def changed(self) -> None:
        self.prepareGeometryChange()
        self.update()

    def paint(self, painter: QPainter, option, widget=None) -> None:
        scale = max(painter.worldTransform().m11(), 1e-6)
        half = HANDLE_PX / scale
        for ring, points in zip(self.rings, self.points):
            colour = QColor(255, 120, 0) if ring.hole else QColor(255, 255, 0)
            painter.setPen(cosmetic_pen(colour, 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPolygon([QPointF(x, y) for x, y in points])
            painter.setBrush(QBrush(colour))
            painter.setPen(cosmetic_pen(QColor(0, 0, 0), 1.0))
            for x, y in points:
                painter.drawRect(QRectF(x - half, y - half, 2 * half, 2 * half))

    def vertex_at(self, x: float, y: float, reach: float) -> tuple[int, int] | None:
        """(ring, vertex) within ``reach`` image pixels of (x, y), the nearest."""
        best, found = reach * reach, None
        for r, points in enumerate(self.points):
            d2 = ((points - (x, y)) ** 2).sum(axis=1)
            i = int(np.argmin(d2))
            if d2[i] <= best:
                best, found = float(d2[i]), (r, i)
        return found

    def edge_at(self, x: float, y: float, reach: float) -> int | None:
        """The ring with an edge within ``reach`` image pixels of (x, y)."""
        for r, points in enumerate(self.points):
            a, b = points, np.roll(points, -1, axis=0)
            d = b - a
            length2 = np.maximum((d * d).sum(axis=1), 1e-12)
            t = np.clip(((x - a[:, 0]) * d[:, 0] + (y - a[:, 1]) * d[:, 1]) / length2, 0, 1)
            near = a + t[:, None] * d
            if (((near - (x, y)) ** 2).sum(axis=1) <= reach * reach).any():
                return r
        return None
