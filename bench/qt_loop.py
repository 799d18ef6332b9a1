"""Waiting and watching in a real Qt event loop, for the GUI benchmarks.

``spin`` waits in a QEventLoop (idle in Qt, the GIL released), as the app itself does: a Python
busy-loop around processEvents would starve the worker threads of the GIL. ``GapMonitor``
records the gaps between the ticks of a 1 ms timer: the GUI thread's stalls.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEventLoop, QTimer


def spin(condition, timeout: float = 60.0) -> None:
    """Run the event loop until ``condition()``; TimeoutError after ``timeout`` seconds."""
    if condition():
        return
    deadline = time.perf_counter() + timeout
    loop = QEventLoop()
    check = QTimer()
    check.setInterval(1)
    check.timeout.connect(lambda: (condition() or time.perf_counter() > deadline)
                          and loop.quit())
    check.start()
    loop.exec()
    check.stop()
    if not condition():
        raise TimeoutError


def settle(seconds: float) -> None:
    """Run the event loop for ``seconds``."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


class GapMonitor:
    """``start()``, work, ``stop()``: ``gaps`` holds every gap between ticks, in ms."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._last = 0.0
        self._timer = QTimer()
        self._timer.setInterval(1)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000.0)
        self._last = now

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
