"""Handing results from plain Python threads to the GUI thread, without cross-thread signals.

Worker, download and export threads call ``inbox.post(fn, *args)``; a timer on the GUI thread
runs the posted calls there. No Qt signal is ever emitted from a non-Qt thread: doing so into
Python slots crashed the app with "deallocating None" under PySide6 6.12 (the bug class of
PYSIDE-3124), and this also keeps every slot on the GUI thread by construction.
"""

from __future__ import annotations

import queue
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer


class Inbox(QObject):
    def __init__(self, parent: QObject | None = None, poll_ms: int = 4):
        super().__init__(parent)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.deliver)
        self._timer.start()

    def post(self, fn: Callable, *args) -> None:
        """Any thread: run ``fn(*args)`` on the GUI thread soon."""
        self._queue.put((fn, args))

    def deliver(self) -> None:
        """GUI thread: run everything posted so far."""
        while True:
            try:
                fn, args = self._queue.get_nowait()
            except queue.Empty:
                return
            fn(*args)
