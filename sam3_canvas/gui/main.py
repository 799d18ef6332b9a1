"""``sam3-canvas [PATH]``: start the desktop app, optionally on a folder or an image."""

from __future__ import annotations

import argparse
import sys


def run_app(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sam3-canvas",
                                     description="Annotate a folder of images with SAM3.")
    parser.add_argument("path", nargs="?", help="a folder of images, or one image")
    parser.add_argument("--model-dir", help="use the ONNX graphs in this folder")
    parser.add_argument("--provider", help="cpu, cuda, tensorrt, directml or coreml")
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow
    from .settings_dialog import load_settings

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("sam3-canvas")
    app.setOrganizationName("sam3-canvas")
    window = MainWindow()
    if args.model_dir or args.provider:
        settings = window.settings
        settings.model_dir = args.model_dir or settings.model_dir
        settings.provider = args.provider or settings.provider
        window.load_model()
    elif window.segmenter is None and not window.settings.model_dir and \
            not window.store.is_installed(window.settings.model, window.settings.variant or None):
        from PySide6.QtCore import QTimer
        QTimer.singleShot(300, window.choose_model)
    window.show()
    if args.path:
        window.open_path(args.path)
    return app.exec()
