"""The canvas: the photo, the candidate and the accepted instances, and the prompt markers.

It turns mouse input into signals, by tool:

* prompt: click = a point on the object, shift-click = a background point, drag = a box;
  the box's edges and corners resize it, its centre handle moves it (``boxAdjusted``);
  Ctrl+click / Alt+click = add / take away a candidate from the selected instance; the cursor
  resting still asks for a hover preview (``rested``);
* brush and eraser: press, drag, release = one stroke (``strokePoint``, ``strokeEnded``);
  Ctrl+wheel or [ and ] change the size, shown as a circle under the cursor;
* polygon: clicks add vertices, a double-click (or Enter) closes it, Backspace takes the last
  vertex back; Shift held when closing takes the polygon away instead of adding it;
* select: a click picks the instance under it (again: the next one below); on the selected
  instance's outline, drag a vertex, click an edge to insert one, right-click one to delete it.

Wheel zooms around the cursor; middle button or space + drag pans, with any tool. Everything
painted comes from QImages built once (on the worker thread for the photo and the first
candidate); a paint never rebuilds a mask. When zoomed out, a preview of at most 2048 px is
painted instead of the full photo, so a 12 MP photo pans as fast as a small one.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsView,
)

from ..editing import box_handles
from ..editing.brush import MAX_RADIUS, MIN_RADIUS
from ..editing.polygon import delete_vertex, insert_vertex
from ..engine.prompts import FOREGROUND, Prompt
from .canvas_items import HANDLE_PX, BrushCursor, LiveMask, OutlineItem, PolygonDraft
from .images import Overlay, PhotoImages

DRAG_THRESHOLD = 5  # screen pixels before a press becomes a box drag
REST_MS = 120  # the cursor still this long asks for a hover preview
Tool = Literal["prompt", "brush", "eraser", "polygon", "select"]
EMPTY_HINT = "Open a folder of images to start:\nFile > Open folder (Ctrl+O)"


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
    boxAdjusted = Signal(float, float, float, float)  # the prompt box moved or resized
    zoomChanged = Signal(float)
    modifierClicked = Signal(float, float, bool)  # x, y; True: Alt (take away), False: Ctrl
    rested = Signal(float, float)  # the cursor rests here (prompt tool, no button held)
    strokePoint = Signal(float, float, bool)  # x, y (continuous), True at the press
    strokeEnded = Signal()
    brushResized = Signal(float)  # the new radius in image pixels
    polygonClosed = Signal(object, bool)  # (N, 2) points, Shift held (take away)
    picked = Signal(float, float)  # select tool: a click
    ringEdited = Signal(int, object)  # select tool: ring index, its new (N, 2) points

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
        self.tool: Tool = "prompt"
        self.brush_radius = 8.0
        self.brush = BrushCursor()
        self.draft = PolygonDraft()
        self.live = LiveMask()
        self.outline = OutlineItem()
        for item in (self.brush, self.draft, self.live, self.outline):
            self.scene().addItem(item)
        self._stroking = False
        self._vertex: tuple[int, int] | None = None  # (ring, vertex) being dragged
        self.prompt_box: box_handles.Box | None = None
        self._box_edit = None  # (handle, press point, box at the press) while dragging one
        self._handle_cursor = False
        self._rest = QTimer(self)
        self._rest.setSingleShot(True)
        self._rest.setInterval(REST_MS)
        self._rest.timeout.connect(self._rested)
        self._rest_at: QPointF | None = None
        self.hover_enabled = False
        self.empty_hint = EMPTY_HINT
        self.exemplar_items: list[QGraphicsItem] = []

    # -- content --------------------------------------------------------------------
    def set_empty_hint(self, text: str) -> None:
        """What the canvas says while it shows no photo ("" for the default)."""
        self.empty_hint = text or EMPTY_HINT
        self.viewport().update()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        if self.photo.images is not None:
            return
        painter.save()
        painter.resetTransform()
        painter.setPen(QColor(200, 200, 205))
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        painter.setFont(font)
        painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self.empty_hint)
        painter.restore()

    def set_photo(self, images: PhotoImages | None) -> None:
        self.photo.set_images(images)
        self.draft.clear()
        self.live.stop()
        self.outline.set_rings([])
        self._stroking = False
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

    def set_exemplars(self, boxes: list[tuple[tuple[float, float, float, float], bool]]) -> None:
        """The text search's exemplar boxes: green dashed (positive) or red (negative)."""
        for item in self.exemplar_items:
            self.scene().removeItem(item)
        self.exemplar_items = []
        for (x1, y1, x2, y2), positive in boxes:
            rect = QGraphicsRectItem(x1, y1, x2 - x1, y2 - y1)
            colour = QColor(40, 220, 90) if positive else QColor(235, 60, 60)
            pen = QPen(colour, 2, Qt.PenStyle.DashLine)
            pen.setCosmetic(True)
            rect.setPen(pen)
            rect.setZValue(44)
            self.scene().addItem(rect)
            self.exemplar_items.append(rect)

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
        self.prompt_box = None if prompt.box is None else tuple(map(float, prompt.box))
        if prompt.box is not None:
            x1, y1, x2, y2 = prompt.box
            rect = QGraphicsRectItem(x1, y1, x2 - x1, y2 - y1)
            rect.setPen(QPen(QColor(255, 210, 0), 2 / max(self.transform().m11(), 1e-6)))
            rect.setZValue(45)
            self.scene().addItem(rect)
            self.markers.append(rect)
            # the centre handle: drag it to move the box (edges and corners resize it)
            half = HANDLE_PX / 2 / max(self.transform().m11(), 1e-6)
            cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
            centre = QGraphicsRectItem(cx - half, cy - half, 2 * half, 2 * half)
            centre.setBrush(QBrush(QColor(255, 210, 0)))
            centre.setPen(QPen(QColor(40, 40, 44), 0))
            centre.setZValue(46)
            self.scene().addItem(centre)
            self.markers.append(centre)

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
        up = event.angleDelta().y() > 0
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier and \
                self.tool in ("brush", "eraser"):
            self.set_brush_radius(self.brush_radius * (1.2 if up else 1 / 1.2))
            return
        self.zoom_by(1.25 if up else 0.8)

    # -- tools -----------------------------------------------------------------------
    def set_tool(self, tool: Tool) -> None:
        self.tool = tool
        self.draft.clear()
        self.brush.setVisible(False)
        self._rest.stop()
        if tool != "select":
            self.outline.set_rings([])
        cursor = Qt.CursorShape.ArrowCursor if tool == "select" else Qt.CursorShape.CrossCursor
        self.viewport().setCursor(cursor)

    def set_brush_radius(self, radius: float) -> None:
        self.brush_radius = min(max(radius, MIN_RADIUS), MAX_RADIUS)
        rect = self.brush.rect()
        if self.brush.isVisible():
            centre = rect.center()
            self.brush.place(centre.x(), centre.y(), self.brush_radius, self.tool == "eraser")
        self.brushResized.emit(self.brush_radius)

    def close_polygon(self, subtract: bool = False) -> bool:
        """Close the polygon being drawn (Enter); False when there is none to close."""
        points = self.draft.points
        if len(points) < 3:
            return False
        self.draft.clear()
        self.polygonClosed.emit(np.asarray(points, dtype=np.float64), subtract)
        return True

    def cancel_draft(self) -> bool:
        """Drop the polygon being drawn (Esc); False when there was none."""
        if not self.draft.points:
            return False
        self.draft.clear()
        return True

    def _reach(self) -> float:
        """How near, in image pixels, a click must be to a handle or an edge."""
        return (HANDLE_PX + 2) / max(self.transform().m11(), 1e-6)

    def _image_point(self, event) -> tuple[float, float]:
        point = self.mapToScene(event.position().toPoint())
        return point.x(), point.y()

    def _rested(self) -> None:
        if self._rest_at is None or self.tool != "prompt" or self._press is not None:
            return
        width, height = self.image_size() or (0, 0)
        x, y = math.floor(self._rest_at.x()), math.floor(self._rest_at.y())
        if 0 <= x < width and 0 <= y < height:
            self.rested.emit(float(x), float(y))

    def leaveEvent(self, event) -> None:
        self._rest.stop()
        self.brush.hide()
        super().leaveEvent(event)

    # -- mouse -----------------------------------------------------------------------
    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Backspace and self.tool == "polygon" and self.draft.points:
            self.draft.undo_last()
            return
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
        if self.photo.images is None:
            return
        x, y = self._image_point(event)
        self._rest.stop()
        if self.tool in ("brush", "eraser") and event.button() == Qt.MouseButton.LeftButton:
            self._stroking = True
            self.strokePoint.emit(x, y, True)
            return
        if self.tool == "select":
            self._select_press(event, x, y)
            return
        if event.button() == Qt.MouseButton.LeftButton:
            handle = self._box_handle(event, x, y)  # a drag there edits the box; a click, a click
            self._box_edit = None if handle is None else (handle, (x, y), self.prompt_box)
            shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            self._press = (event.position(), self.mapToScene(event.position().toPoint()), shift)
            self._dragging = False

    def _box_handle(self, event, x: float, y: float) -> box_handles.Handle | None:
        """The prompt box's handle under an unmodified press or hover in the prompt tool."""
        if self.tool != "prompt" or self.prompt_box is None or event.modifiers() & (
                Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier
                | Qt.KeyboardModifier.AltModifier):
            return None
        return box_handles.handle_at(self.prompt_box, x, y, self._reach())

    def _edited_box(self, edit, x: float, y: float) -> box_handles.Box:
        handle, (px, py), box = edit
        width, height = self.image_size()
        return box_handles.drag(box, handle, x - px, y - py, width, height)

    def mouseDoubleClickEvent(self, event) -> None:
        if self.tool == "polygon" and event.button() == Qt.MouseButton.LeftButton:
            # the double-click's first press already added a vertex here
            self.close_polygon(bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
            return
        self.mousePressEvent(event)

    def _select_press(self, event, x: float, y: float) -> None:
        reach = self._reach()
        vertex = self.outline.vertex_at(x, y, reach) if self.outline.isVisible() else None
        if event.button() == Qt.MouseButton.RightButton:
            if vertex is not None:
                ring, index = vertex
                smaller = delete_vertex(self.outline.points[ring], index)
                if smaller is not None:
                    self.ringEdited.emit(ring, smaller)
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if vertex is None and self.outline.isVisible():
            ring = self.outline.edge_at(x, y, reach)
            if ring is not None:  # a click on an edge: a new vertex there, to drag
                points, index = insert_vertex(self.outline.points[ring], x, y)
                self.outline.points[ring] = points
                self.outline.changed()
                vertex = (ring, index)
        if vertex is not None:
            self._vertex = vertex
            return
        self.picked.emit(x, y)

    def mouseMoveEvent(self, event) -> None:
        if self._panning is not None:
            delta = event.position() - self._panning
            self._panning = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            return
        x, y = self._image_point(event)
        if self.tool in ("brush", "eraser") and self.photo.images is not None:
            self.brush.place(x, y, self.brush_radius, self.tool == "eraser")
            if self._stroking:
                self.strokePoint.emit(x, y, False)
            return
        if self.tool == "polygon":
            self.draft.hover(x, y)
            return
        if self.tool == "select":
            if self._vertex is not None:
                ring, index = self._vertex
                self.outline.points[ring][index] = (x, y)
                self.outline.changed()
            return
        if self._press is None:
            self._box_cursor(event, x, y)
            if self.hover_enabled and not event.buttons():
                self._rest_at = self.mapToScene(event.position().toPoint())
                self._rest.start()
            return
        start_view, start_scene, _ = self._press
        if (event.position() - start_view).manhattanLength() > DRAG_THRESHOLD:
            self._dragging = True
        if self._dragging and self._box_edit is not None:
            x1, y1, x2, y2 = self._edited_box(self._box_edit, x, y)
            self.rubber.setRect(QRectF(x1, y1, x2 - x1, y2 - y1))
            self.rubber.show()
        elif self._dragging:
            end = self.mapToScene(event.position().toPoint())
            self.rubber.setRect(QRectF(start_scene, end).normalized())
            self.rubber.show()

    def mouseReleaseEvent(self, event) -> None:
        if self._panning is not None:
            self._panning = None
            return
        if self._stroking and event.button() == Qt.MouseButton.LeftButton:
            self._stroking = False
            self.strokeEnded.emit()
            return
        if self._vertex is not None and event.button() == Qt.MouseButton.LeftButton:
            ring, _ = self._vertex
            self._vertex = None
            self.ringEdited.emit(ring, self.outline.points[ring].copy())
            return
        if self._press is None or event.button() != Qt.MouseButton.LeftButton:
            return
        _, start_scene, shift = self._press
        self._press = None
        self.rubber.hide()
        width, height = self.image_size()
        box_edit, self._box_edit = self._box_edit, None
        if self._dragging and box_edit is not None:
            box = self._edited_box(box_edit, *self._image_point(event))
            if box_handles.usable(box) and box != box_edit[2]:
                self.boxAdjusted.emit(*box)
            return
        if self._dragging and self.tool == "prompt":
            end = self.mapToScene(event.position().toPoint())
            x1, x2 = sorted((round(_clamp(start_scene.x(), width)),
                             round(_clamp(end.x(), width))))
            y1, y2 = sorted((round(_clamp(start_scene.y(), height)),
                             round(_clamp(end.y(), height))))
            if x2 - x1 >= 2 and y2 - y1 >= 2:
                self.boxDrawn.emit(x1, y1, x2, y2, shift)
            return
        if self.tool == "polygon":
            self.draft.add(_clamp(start_scene.x(), width), _clamp(start_scene.y(), height))
            return
        # the image pixel under the cursor (SAM adds the half pixel itself)
        x, y = math.floor(start_scene.x()), math.floor(start_scene.y())
        if not (0 <= x < width and 0 <= y < height):
            return
        mods = event.modifiers()
        if mods & Qt.KeyboardModifier.AltModifier:
            self.modifierClicked.emit(float(x), float(y), True)
        elif mods & Qt.KeyboardModifier.ControlModifier:
            self.modifierClicked.emit(float(x), float(y), False)
        else:
            self.clicked.emit(float(x), float(y), shift)


    def _box_cursor(self, event, x: float, y: float) -> None:
        """Over a handle of the prompt box, the cursor says what a drag there does."""
        handle = self._box_handle(event, x, y) if not self._space else None
        if handle is None:
            if self._handle_cursor:
                self.viewport().unsetCursor()
                self._handle_cursor = False
            return
        if handle == box_handles.MOVE:
            shape = Qt.CursorShape.SizeAllCursor
        elif handle in (frozenset({"left", "top"}), frozenset({"right", "bottom"})):
            shape = Qt.CursorShape.SizeFDiagCursor
        elif len(handle) == 2:
            shape = Qt.CursorShape.SizeBDiagCursor
        elif handle & {"left", "right"}:
            shape = Qt.CursorShape.SizeHorCursor
        else:
            shape = Qt.CursorShape.SizeVerCursor
        self.viewport().setCursor(shape)
        self._handle_cursor = True


def _clamp(value: float, size: int) -> float:
    return min(max(value, 0.0), float(size))
