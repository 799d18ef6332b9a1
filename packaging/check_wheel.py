"""The wheel as pip users get it: ``python -m build --wheel`` makes it, it holds models.toml and
resources/ (sample photo, tokenizer, icon), and a fresh venv with only that wheel (and its
dependencies, with the cpu extra) runs ``sam3-canvas doctor`` from a clean environment.

    python packaging/check_wheel.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging"))
from build import clean_env, run, venv_python  # noqa: E402

REQUIRED = ("sam3_canvas/_data/models.toml",
            "sam3_canvas/_data/resources/samples/cat.jpg",
            "sam3_canvas/_data/resources/tokenizer/bpe_simple_vocab_16e6.txt.gz",
            "sam3_canvas/_data/resources/icon.png",
            "sam3_canvas/cli/doctor_cmd.py")
NEVER = ("tests/", "bench/", "packaging/")  # the checkout's, not the package's


def check(work: Path) -> None:
    run([sys.executable, "-m", "build", "--wheel", "--outdir", work / "wheel", ROOT])
    (wheel,) = (work / "wheel").glob("sam3_canvas-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        raise SystemExit(f"{wheel.name} lacks {', '.join(missing)}")
    unwanted = sorted({n for n in names for prefix in NEVER if n.startswith(prefix)})
    print(f"{wheel.name}: {wheel.stat().st_size / 1e6:.1f} MB, {len(names)} files"
          + (f"; also ships {len(unwanted)} files under {', '.join(NEVER)}" if unwanted else ""))
    venv = work / "venv"
    run([sys.executable, "-m", "venv", venv])
    python = venv_python(venv)
    run([python, "-m", "pip", "install", "-q", f"{wheel}[cpu]"])
    exe = python.parent / ("sam3-canvas.exe" if sys.platform == "win32" else "sam3-canvas")
    result = subprocess.run([str(exe), "doctor"], env=clean_env(work / "home"), cwd=work,
                            capture_output=True, text=True)
    print(result.stdout + result.stderr)
    if result.returncode != 0:
        raise SystemExit(f"doctor failed in a venv with only the wheel (exit {result.returncode})")
    print("the wheel installs and passes doctor")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work here and leave it (default: a temp dir)")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        check(args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="sam3-canvas-wheel-") as tmp:
            check(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
