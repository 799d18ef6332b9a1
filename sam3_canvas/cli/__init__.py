"""``sam3-canvas``: the GUI with no sub-command, or a headless sub-command.

Every sub-command is a thin layer over the library API. Errors the user can cause print one
line on stderr and exit with code 2; a traceback means a bug.
"""

from __future__ import annotations

import argparse
import sys

from ..engine.errors import Sam3CanvasError
from . import dataset_cmd, detect_cmd, models_cmd, segment_cmd

SUBCOMMANDS = {"segment": segment_cmd, "detect": detect_cmd, "models": models_cmd,
               "export": dataset_cmd, "import": dataset_cmd}
EXIT_USER_ERROR = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sam3-canvas",
        description="SAM3 annotation, locally on ONNX Runtime. With no sub-command (or a "
                    "folder or image path) the desktop app opens.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    segment_cmd.add_parser(sub)
    detect_cmd.add_parser(sub)
    models_cmd.add_parser(sub)
    dataset_cmd.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help")):
        return _start_gui(argv)
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except Sam3CanvasError as exc:
        print(f"sam3-canvas: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("sam3-canvas: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `sam3-canvas ... | head`
        sys.stderr.close()
        return 0


def _start_gui(argv: list[str]) -> int:
    try:
        from ..gui.main import run_app
    except ImportError as exc:
        print(f"sam3-canvas: the desktop app cannot start ({exc}); the headless commands work: "
              "sam3-canvas segment --help", file=sys.stderr)
        return EXIT_USER_ERROR
    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
