"""``sam3-canvas``: the GUI with no sub-command, or a headless sub-command.

Every sub-command is a thin layer over the library API. Errors the user can cause (a bad
image, a read-only folder, a full disk, a corrupt file, a model that does not fit) print one
line on stderr and exit with code 2; a traceback means a bug, and it is also written to the
log file (``sam3_canvas.logs``).
"""

from __future__ import annotations

import argparse
import logging
import sys

from ..engine.errors import Sam3CanvasError
from . import (
    bench_cmd,
    dataset_cmd,
    detect_cmd,
    doctor_cmd,
    eval_cmd,
    models_cmd,
    segment_cmd,
    track_cmd,
)

SUBCOMMANDS = {"segment": segment_cmd, "detect": detect_cmd, "models": models_cmd,
               "export": dataset_cmd, "import": dataset_cmd, "doctor": doctor_cmd,
               "track": track_cmd, "eval": eval_cmd, "bench": bench_cmd}
EXIT_USER_ERROR = 2
log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sam3-canvas",
        description="SAM3 annotation, locally on ONNX Runtime. With no sub-command (or a "
                    "folder or image path) the desktop app opens.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", "-v", action="store_true",
                        help="also print the log (kept in the user log folder) on stderr")
    common.add_argument("--max-megapixels", type=float, default=200.0, metavar="MP",
                        help="refuse larger images before decoding them (default 200)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    segment_cmd.add_parser(sub, common)
    detect_cmd.add_parser(sub, common)
    models_cmd.add_parser(sub, common)
    dataset_cmd.add_parsers(sub, common)
    track_cmd.add_parser(sub, common)
    eval_cmd.add_parser(sub, common)
    bench_cmd.add_parser(sub, common)
    doctor_cmd.add_parser(sub, common)
    return parser


def _user_error(message: str) -> int:
    print(f"sam3-canvas: error: {message}", file=sys.stderr)
    return EXIT_USER_ERROR


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or (argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help")):
        return _start_gui(argv)
    args = build_parser().parse_args(argv)
    from ..engine.images import set_pixel_limit
    from ..logs import setup_logging
    setup_logging(getattr(args, "verbose", False))
    log.info("sam3-canvas %s", " ".join(argv))
    if not (args.max_megapixels > 0):
        return _user_error("--max-megapixels must be a positive number")
    set_pixel_limit(int(args.max_megapixels * 1e6))
    try:
        return int(args.run(args) or 0)
    except Sam3CanvasError as exc:
        log.info("user error: %s", exc)
        return _user_error(str(exc))
    except KeyboardInterrupt:
        print("sam3-canvas: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `sam3-canvas ... | head`
        sys.stderr.close()
        return 0
    except MemoryError:
        return _user_error("not enough memory (a smaller image limit, --max-megapixels, or a "
                           "smaller model variant may help)")
    except OSError as exc:  # a file the user named, a full disk, a read-only folder
        log.exception("file system error")
        from ..fsutil import describe_os_error
        what = describe_os_error(exc)
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        return _user_error(f"{what}{where}")
    except Exception:
        log.exception("unexpected error (a bug; please report it with this log)")
        raise


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
