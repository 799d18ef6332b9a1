"""Background work of the window (text search, export, import): one way to run it.

Each task runs ``work(task)`` on a named Python thread and hands ``done(result, error)`` to the
GUI thread through an :class:`~.inbox.Inbox`. Any exception becomes the ``error`` line (an
unexpected one is logged with its traceback first), so no failure ends silently. A task can be
cancelled (``task.cancelled`` is an Event that ``task.check()`` turns into
:class:`~sam3_canvas.engine.errors.Cancelled`), and the window cancels and joins every task
when it closes, so no thread is left writing when the process ends.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable

from ..app.worker import describe
from ..engine.errors import Cancelled, Sam3CanvasError
from .inbox import Inbox

log = logging.getLogger(__name__)


class Task:
    def __init__(self, name: str, work: Callable[[Task], object],
                 done: Callable[[object, str], None], inbox: Inbox):
        self.name = name
        self.cancelled = threading.Event()
        self._work, self._done, self._inbox = work, done, inbox
        self.thread = threading.Thread(target=self._run, name=f"sam3-{name}", daemon=True)

    def check(self) -> None:
        """Raise :class:`Cancelled` if the task was cancelled (call it between steps)."""
        if self.cancelled.is_set():
            raise Cancelled(f"{self.name}: cancelled")

    def post(self, fn: Callable, *args) -> None:
        """Run ``fn(*args)`` on the GUI thread (progress reports)."""
        self._inbox.post(fn, *args)

    def _run(self) -> None:
        try:
            result = self._work(self)
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            if not isinstance(exc, Sam3CanvasError):
                log.error("%s failed:\n%s", self.name, traceback.format_exc())
            else:
                log.warning("%s: %s", self.name, exc)
            self._inbox.post(self._done, None, describe(exc))
            return
        self._inbox.post(self._done, result, "")


class TaskRunner:
    """The window's tasks: started here, cancelled and joined together on close."""

    def __init__(self, inbox: Inbox):
        self.inbox = inbox
        self.tasks: list[Task] = []

    def start(self, name: str, work: Callable[[Task], object],
              done: Callable[[object, str], None]) -> Task:
        self.tasks = [t for t in self.tasks if t.thread.is_alive()]
        task = Task(name, work, done, self.inbox)
        self.tasks.append(task)
        task.thread.start()
        return task

    def running(self, name: str | None = None) -> list[Task]:
        return [t for t in self.tasks if t.thread.is_alive() and name in (None, t.name)]

    def stop_all(self, timeout: float = 10.0) -> bool:
        """Cancel every task and wait for them; True when all ended in time."""
        for task in self.tasks:
            task.cancelled.set()
        for task in self.tasks:
            task.thread.join(timeout)
        return not self.running()
