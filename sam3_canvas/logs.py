"""Logging, configured once at the entry point (the CLI or the app), never by a module.

Everything at INFO and above goes to a rotating log file in the user's log folder
(``platformdirs``; ``SAM3_CANVAS_LOG_DIR`` overrides it), so an error that a user reports can be
read back with its traceback. ``--verbose`` also mirrors the log to stderr. A log folder that
cannot be written (read-only home, full disk) costs the log file, never the program.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from pathlib import Path

LOG_NAME = "sam3-canvas.log"
_configured = False


def log_dir() -> Path:
    env = os.environ.get("SAM3_CANVAS_LOG_DIR")
    if env:
        return Path(env)
    import platformdirs
    return platformdirs.user_log_path("sam3-canvas", appauthor=False)


def log_file() -> Path:
    return log_dir() / LOG_NAME


def setup_logging(verbose: bool = False) -> Path | None:
    """Configure the ``sam3_canvas`` loggers; returns the log file (None if it cannot be
    written). Calling it again only changes the stderr mirror."""
    global _configured
    root = logging.getLogger("sam3_canvas")
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for handler in [h for h in root.handlers if getattr(h, "_sam3_stderr", False)]:
        root.removeHandler(handler)
    if verbose:
        mirror = logging.StreamHandler(sys.stderr)
        mirror.setFormatter(logging.Formatter("sam3-canvas: %(levelname)s %(name)s: %(message)s"))
        setattr(mirror, "_sam3_stderr", True)  # noqa: B010 - a marker on a stdlib object
        root.addHandler(mirror)
    path = log_file()
    if not _configured:
        _configured = True
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(path, maxBytes=2 << 20, backupCount=3,
                                                           encoding="utf-8")
        except OSError:
            return None
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    return path


def install_excepthooks(tell=None) -> None:
    """Unhandled exceptions (a bug in a Qt slot, which PySide hands to ``sys.excepthook``, or in
    any thread) go to the log with their traceback, and ``tell(line)`` shows the user one line
    instead of a traceback on a console they may not have."""
    import threading
    log = logging.getLogger("sam3_canvas")

    def report(kind, value, tb, where: str) -> None:
        log.error("unexpected error in %s", where, exc_info=(kind, value, tb))
        if tell is not None:
            first = str(value).strip().splitlines()[0][:200] if str(value).strip() else ""
            try:
                tell(f"unexpected error ({kind.__name__}{': ' + first if first else ''}); "
                     f"details are in {log_file()}")
            except Exception:  # noqa: BLE001 - the report must never raise
                pass

    sys.excepthook = lambda kind, value, tb: report(kind, value, tb, "the app")
    threading.excepthook = lambda args: report(args.exc_type, args.exc_value,
                                               args.exc_traceback,
                                               f"thread {getattr(args.thread, 'name', '?')}")
