"""The canvas: the photo, the candidate and the accepted instances, and the prompt markers.

Click = a point on the object, shift-click = a background point, drag = a box. Wheel zooms
around the cursor; middle button or space + drag pans. Everything painted comes from QImages
built once (on the worker thread for the photo and the first candidate); a paint never
rebuilds a mask. When zoomed out, a preview of at most 2048 px is painted instead of the full
photo, so a 12 MP photo pans as fast as a small one.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
)

from ..engine.prompts import FOREGROUND, Prompt
from .images import Overlay, PhotoImages

DRAG_THRESHOLD = 5  # screen pixels before a press becomes a box drag


class PhotoItem(QGraphicsItem):
    def __init__(self):
        super().__init__()
        self.images: PhotoImages | None = None
        self.setZValue(0)

    def set_images(self, images: PhotoImages | None) -> None:
        self.prepareGeometryChange()
        self.images = images
        self.update()

    def boundingRect(self) -> QRectF:
        if self.images is None:
            return QRectF()
        return QRectF(0, 0, self.images.full.width(), self.images.full.height())

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self.images is None:
            return
        scale = painter.worldTransform().m11()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, scale < 1.0)
        if scale <= self.images.preview_scale and self.images.preview_scale < 1.0:
            painter.drawImage(self.boundingRect(), self.images.preview)
        else:
            painter.drawImage(QPointF(0, 0), self.images.full)


class OverlayItem(QGraphicsItem):
    """One mask overlay (a candidate or an instance), painted at its own position."""

    def __init__(self, z: float):
        super().__init__()
        self.overlay: Overlay | None = None
        self.setZValue(z)

    def set_overlay(self, overlay: Overlay | None) -> None:
        self.prepareGeometryChange()
        self.overlay = overlay
        self.update()

    def boundingRect(self) -> QRectF:
        if self.overlay is None:
            return QRectF()
        o = self.overlay
        return QRectF(o.x, o.y, o.image.width() / o.scale, o.image.height() / o.scale)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self.overlay is not None:
            painter.drawImage(self.boundingRect(), self.overlay.image)


class CanvasView(QGraphicsView):
    clicked = Signal(float, float, bool)  # x, y in image pixels, background?
    boxDrawn = Signal(float, float, float, float, bool)  # x1, y1, x2, y2, shift held
    zoomChanged = Signal(float)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QColor(40, 40, 44))
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setMouseTracking(True)
        self.photo = PhotoItem()
        self.scene().addItem(self.photo)
        self.candidate = OverlayItem(z=20)
        self.scene().addItem(self.candidate)
        self.instance_items: dict[int, tuple[object, OverlayItem]] = {}
        self.detection_items: list[OverlayItem] = []  # text-prompt results, above instances
        self.markers: list[QGraphicsItem] = []
        self.rubber = QGraphicsRectItem()
        self.rubber.setPen(QPen(QColor(255, 210, 0), 0, Qt.PenStyle.DashLine))
        self.rubber.setZValue(40)
        self.rubber.hide()
        self.scene().addItem(self.rubber)
        self._press = None  # (view pos, scene pos, shift)
        self._dragging = False
        self._panning = None
        self._space = False

    # -- content --------------------------------------------------------------------
    def set_photo(self, images: PhotoImages | None) -> None:
        self.photo.set_images(images)
        self.set_candidate(None)
        self.set_instances([])
        self.set_detections([])
        self.set_prompt(Prompt())
        if images is not None:
            self.scene().setSceneRect(self.photo.boundingRect())
            self.fit()

    def image_size(self) -> tuple[int, int] | None:
        if self.photo.images is None:
            return None
        return self.photo.images.full.width(), self.photo.images.full.height()

    def set_candidate(self, overlay: Overlay | None) -> None:
        self.candidate.set_overlay(overlay)

    def set_instances(self, items: list[tuple[object, int, Overlay | None]]) -> None:
        """(key, id, overlay) per visible instance; unchanged keys keep their item."""
        wanted = {inst_id: (key, overlay) for key, inst_id, overlay in items}
        for inst_id in list(self.instance_items):
            key, item = self.instance_items[inst_id]
            if inst_id not in wanted or wanted[inst_id][0] is not key:
                self.scene().removeItem(item)
                del self.instance_items[inst_id]
        for z, (inst_id, (key, overlay)) in enumerate(wanted.items()):
            if inst_id not in self.instance_items:
                item = OverlayItem(z=10 + z * 1e-3)
                item.set_overlay(overlay)
                self.scene().addItem(item)
                self.instance_items[inst_id] = (key, item)

    def set_detections(self, overlays: list[Overlay]) -> None:
        for item in self.detection_items:
            self.scene().removeItem(item)
        self.detection_items = []
        for overlay in overlays:
            item = OverlayItem(z=15)
            item.set_overlay(overlay)
            self.scene().addItem(item)
            self.detection_items.append(item)

    def set_prompt(self, prompt: Prompt) -> None:
        for item in self.markers:
            self.scene().removeItem(item)
        self.markers = []
        radius = 6 / max(self.transform().m11(), 1e-6)
        for (x, y), label in zip(prompt.points, prompt.labels):
            colour = QColor(40, 220, 90) if label == FOREGROUND else QColor(235, 60, 60)
            dot = QGraphicsEllipseItem(x - radius, y - radius, 2 * radius, 2 * radius)
            dot.setBrush(QBrush(colour))
            dot.setPen(QPen(QColor(255, 255, 255), 0))
            dot.setZValue(50)
            self.scene().addItem(dot)
            self.markers.append(dot)
        if prompt.box is not None:
            x1, y1, x2, y2 = prompt.box
            rect = QGraphicsRectItem(x1, y1, x2 - x1, y2 - y1)
            rect.setPen(QPen(QColor(255, 210, 0), 2 / max(self.transform().m11(), 1e-6)))
            rect.setZValue(45)
            self.scene().addItem(rect)
            self.markers.append(rect)

    # -- zoom ------------------------------------------------------------------------
    def fit(self) -> None:
        if self.photo.images is not None:
            self.fitInView(self.photo.boundingRect(), Qt.AspectRatioMode.KeepAspectRatio)
            self.zoomChanged.emit(self.transform().m11())

    def zoom_100(self) -> None:
        self.setTransform(self.transform().fromScale(1.0, 1.0))
        self.zoomChanged.emit(1.0)

    def zoom_by(self, factor: float) -> None:
        scale = self.transform().m11() * factor
        if 0.01 <= scale <= 40:
            self.scale(factor, factor)
            self.zoomChanged.emit(scale)

    def wheelEvent(self, event) -> None:
        self.zoom_by(1.25 if event.angleDelta().y() > 0 else 0.8)

    # -- mouse -----------------------------------------------------------------------
    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().unsetCursor()
            return
        super().keyReleaseEvent(event)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton or (
                event.button() == Qt.MouseButton.LeftButton and self._space):
            self._panning = event.position()
            return
        if event.button() == Qt.MouseButton.LeftButton and self.photo.images is not None:
            shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self._press = (event.position(), self.mapToScene(event.position().toPoint()), shift)
            self._dragging = False

    def mouseMoveEvent(self, event) -> None:
        if self._panning is not None:
            delta = event.position() - self._panning
            self._panning = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            return
        if self._press is None:
            return
        start_view, start_scene, _ = self._press
        if (event.position() - start_view).manhattanLength() > DRAG_THRESHOLD:
            self._dragging = True
        if self._dragging:
            end = self.mapToScene(event.position().toPoint())
            self.rubber.setRect(QRectF(start_scene, end).normalized())
            self.rubber.show()

    def mouseReleaseEvent(self, event) -> None:
        if self._panning is not None:
            self._panning = None
            return
        if self._press is None or event.button() != Qt.MouseButton.LeftButton:
            return
        _, start_scene, shift = self._press
        self._press = None
        self.rubber.hide()
        width, height = self.image_size()
        if self._dragging:
            end = self.mapToScene(event.position().toPoint())
            x1, x2 = sorted((round(_clamp(start_scene.x(), width)),
                             round(_clamp(end.x(), width))))
            y1, y2 = sorted((round(_clamp(start_scene.y(), height)),
                             round(_clamp(end.y(), height))))
            if x2 - x1 >= 2 and y2 - y1 >= 2:
                self.boxDrawn.emit(x1, y1, x2, y2, shift)
        else:
            # the image pixel under the cursor (SAM adds the half pixel itself)
            x, y = math.floor(start_scene.x()), math.floor(start_scene.y())
            if 0 <= x < width and 0 <= y < height:
                self.clicked.emit(float(x), float(y), shift)


def _clamp(value: float, size: int) -> float:
    return min(max(value, 0.0), float(size))
