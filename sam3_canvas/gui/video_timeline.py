"""Under the frame slider: one row per track, a mark on every frame it has, in its label's
colour, and the current frame as a line. A click goes to that frame."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

ROW = 7  # pixels a track's row is high
MAX_ROWS = 6  # more tracks share the last row


class TrackTimeline(QWidget):
    frameClicked = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.frames = 0
        self.current = 0
        #: track id -> (label colour, frames), in track order
        self.tracks: dict[int, tuple[tuple[int, int, int], list[int]]] = {}
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(300)
        self._fit()

    def set_tracks(self, frames: int, tracks: dict) -> None:
        self.frames, self.tracks = frames, dict(sorted(tracks.items()))
        self._fit()
        self.update()

    def set_current(self, frame: int) -> None:
        self.current = frame
        self.update()

    def _fit(self) -> None:
        rows = max(1, min(len(self.tracks), MAX_ROWS))
        self.setFixedHeight(rows * ROW + 4)
        self.setToolTip(f"{len(self.tracks)} track(s); click to go to a frame" if self.tracks
                        else "no tracks yet: select an instance and press T")

    def _x(self, frame: float) -> float:
        return 2 + (self.width() - 4) * frame / max(1, self.frames - 1)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(40, 40, 44))
        step = (self.width() - 4) / max(1, self.frames)
        for row, (colour, frames) in enumerate(self.tracks.values()):
            y = 2 + min(row, MAX_ROWS - 1) * ROW
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(*colour))
            for first, last in _runs(frames):  # one bar per run of consecutive frames
                left = self._x(first) - step / 2
                painter.drawRect(QRectF(left, y, max(1.0, self._x(last) + step / 2 - left),
                                        ROW - 1))
        painter.setPen(QPen(QColor(255, 255, 255), 1))
        x = self._x(self.current)
        painter.drawLine(int(x), 0, int(x), self.height())
        painter.end()

    def mousePressEvent(self, event) -> None:
        if self.frames > 0:
            fraction = (event.position().x() - 2) / max(1.0, self.width() - 4)
            self.frameClicked.emit(max(0, min(self.frames - 1,
                                              round(fraction * (self.frames - 1)))))


def _runs(frames: list[int]) -> list[tuple[int, int]]:
    """[0, 1, 2, 5, 6] -> [(0, 2), (5, 6)]."""
    runs: list[tuple[int, int]] = []
    for frame in sorted(frames):
        if runs and frame == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], frame)
        else:
            runs.append((frame, frame))
    return runs
