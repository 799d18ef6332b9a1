"""The log: unhandled exceptions anywhere go to the log file with their traceback, and the user
gets one line."""

from __future__ import annotations

import sys


def test_unhandled_exceptions_reach_the_log_and_the_user(monkeypatch, tmp_path):
    import logging
    import threading

    from sam3_canvas import logs
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    told, records = [], []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("sam3_canvas").addHandler(handler)
    try:
        logs.install_excepthooks(told.append)
        try:
            raise ZeroDivisionError("a bug in a slot")
        except ZeroDivisionError:
            sys.excepthook(*sys.exc_info())
        thread = threading.Thread(target=lambda: [][1], name="sam3-worker-x")
        thread.start()
        thread.join()
    finally:
        logging.getLogger("sam3_canvas").removeHandler(handler)
    assert told[0].startswith("unexpected error (ZeroDivisionError: a bug in a slot)")
    assert "IndexError" in told[1]
    assert records[0].exc_info[0] is ZeroDivisionError and "sam3-worker-x" in records[1].msg % \
        records[1].args
