"""Autosave on a thread of its own: the GUI thread never waits for a disk.

The document is turned into text where it changed (on the caller's thread, a few milliseconds:
its masks are RLE strings already), so the writer saves exactly the state of that moment; the
writer thread does the slow part (write, fsync, rename: ``Project.save``). Several changes of one
document before the writer gets to it are one write, of the newest text. ``flush`` waits until
everything is on disk (the window calls it before it closes or opens another folder); a failed
write is handed to ``report`` and the document is written again with its next change.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from ..fsutil import atomic_write_text, describe_os_error
from .project import Project

log = logging.getLogger(__name__)

#: report(image file name, None when saved or the error line)
Report = Callable[[str, str | None], None]


class Autosaver:
    def __init__(self, project: Project, report: Report):
        self.project = project
        self.report = report
        self._cond = threading.Condition()
        #: document key (image file name, or a frame's key) -> (its path, newest text)
        self._pending: dict[str, tuple[Path, str]] = {}
        self._writing = False
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="sam3-autosave", daemon=True)
        self._thread.start()

    def save(self, doc) -> None:
        text = doc.dumps()
        with self._cond:
            self._pending[self.project.document_key(doc)] = (self.project.document_path(doc),
                                                             text)
            self._cond.notify_all()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every change handed over so far is written (or failed); True if so."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._writing, timeout)

    def stop(self, timeout: float = 30.0) -> bool:
        """Write what is pending, then end the thread."""
        done = self.flush(timeout)
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout)
        return done and not self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if not self._pending:
                    return
                name = next(iter(self._pending))
                path, text = self._pending.pop(name)
                self._writing = True
            error = None
            try:
                atomic_write_text(path, text)
            except OSError as exc:
                error = f"could not save the annotations of {name} in {self.project.dir}: " \
                        f"{describe_os_error(exc)}"
            except Exception as exc:  # noqa: BLE001 - the writer must never die
                log.exception("autosave of %s failed", name)
                error = f"could not save the annotations of {name}: {exc}"
            with self._cond:
                self._writing = False
                self._cond.notify_all()
            try:
                self.report(name, error)
            except Exception:  # noqa: BLE001
                log.exception("autosave report failed")
