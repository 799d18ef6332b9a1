"""Which Qt binding and Qt this installation runs (for ``sam3-canvas doctor``): importing it is
itself the check that the window can start."""

from __future__ import annotations


def describe() -> str:
    import PySide6
    from PySide6 import QtCore, QtWidgets  # noqa: F401  (QtWidgets: the window needs it)

    return f"PySide6 {PySide6.__version__}, Qt {QtCore.qVersion()}"
