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
    parser.add_argument("--smoke-test", type=float, metavar="SECONDS",
                        help="open the window (and PATH, and the model), then quit: exit code "
                             "0 when everything was shown within SECONDS (installers' check)")
    args = parser.parse_args(argv)

    from ..logs import setup_logging
    log_path = setup_logging(args.verbose)
    logging.getLogger(__name__).info("sam3-canvas starting (log file %s)", log_path)

    from PySide6.QtWidgets import QApplication

    from .main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("sam3-canvas")
    app.setOrganizationName("sam3-canvas")
    _set_icon(app)
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
    elif args.smoke_test is None and window.segmenter is None and \
            not window.settings.model_dir and \
            not window.store.installed_variants(window.settings.model):
        from PySide6.QtCore import QTimer
        QTimer.singleShot(300, window.choose_model)
    window.show()
    if args.path:
        window.open_path(args.path)
    if args.smoke_test is not None:
        _quit_when_shown(app, window, args.smoke_test, want_image=bool(args.path),
                         want_model=bool(args.model_dir))
    return app.exec()


def _set_icon(app) -> None:
    from PySide6.QtGui import QIcon

    from ..resources import resource_path
    try:
        app.setWindowIcon(QIcon(str(resource_path("resources/icon.png"))))
    except FileNotFoundError:  # an install without the icon still runs
        pass


def _quit_when_shown(app, window, seconds: float, want_image: bool, want_model: bool) -> None:
    """The smoke test: quit with 0 once the window shows the image and the model is loaded,
    with 1 (and what was missing) when that takes longer than ``seconds``."""
    import time

    from PySide6.QtCore import QTimer

    deadline = time.monotonic() + seconds
    timer = QTimer(window)

    def missing() -> list[str]:
        out = []
        if not window.isVisible():
            out.append("the window")
        if want_image and (window.photo is None or window.editor is None
                           or window.editor.doc is None):
            out.append("the image")
        if want_model and window.segmenter is None:
            out.append("the model")
        return out

    def check() -> None:
        lacking = missing()
        if not lacking:
            name = window.editor.image.name if want_image else "no image"
            print(f"smoke test: window shown ({name}"
                  f"{', model ' + window.segmenter.provider if want_model else ''})", flush=True)
            timer.stop()
            window.close()
            app.exit(0)
        elif time.monotonic() > deadline:
            print(f"smoke test FAILED: not shown within {seconds:g} s: {', '.join(lacking)}",
                  file=sys.stderr, flush=True)
            timer.stop()
            window.close()
            app.exit(1)

    timer.timeout.connect(check)
    timer.start(100)
