"""``sam3-canvas [PATH]``: start the desktop app, optionally on a folder or an image."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def run_app(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="sam3-canvas",
                                     description="Annotate a folder of images with SAM3.")
    parser.add_argument("path", nargs="?", help="a folder of images, or one image")
    parser.add_argument("--model-dir", help="use the ONNX graphs in this folder (this session; "
                                            "Model > Settings saves a choice)")
    parser.add_argument("--provider", help="cpu, cuda, tensorrt, directml, coreml or openvino")
    parser.add_argument("--verbose", "-v", action="store_true",
                        help="also print the log on stderr")
    args = parser.parse_args(argv)

    from ..logs import setup_logging
    log_path = setup_logging(args.verbose)
    logging.getLogger(__name__).info("sam3-canvas starting (log file %s)", log_path)

    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("sam3-canvas")
    app.setOrganizationName("sam3-canvas")
    window = MainWindow()
    from ..logs import install_excepthooks
    # a bug in a slot or a thread reaches the log and the status bar (through the inbox, which
    # any thread may post to), not a console the user may not have
    install_excepthooks(lambda line: window.inbox.post(window.statusBar().showMessage, line,
                                                       30000))
    if args.model_dir or args.provider:
        settings = window.settings  # this session only: nothing saved changes
        if args.model_dir:
            settings.model_dir = str(Path(args.model_dir).expanduser().absolute())
            settings.variant = ""  # the folder's own graphs, not a catalogue variant
        settings.provider = args.provider or settings.provider
        window.load_model()
    elif window.segmenter is None and not window.settings.model_dir and \
            not window.store.installed_variants(window.settings.model):
        from PySide6.QtCore import QTimer
        QTimer.singleShot(300, window.choose_model)
    window.show()
    if args.path:
        window.open_path(args.path)
    return app.exec()
