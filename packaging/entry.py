"""The frozen app's entry point: the same ``sam3-canvas`` command as the pip install (the
window with no sub-command, every CLI sub-command otherwise)."""

import multiprocessing
import sys

from sam3_canvas.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen app that spawns must not start itself again
    sys.exit(main())
