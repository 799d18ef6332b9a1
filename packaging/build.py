"""Build the installable one-folder app: ``python packaging/build.py --flavor cpu|cuda|directml``.

1. A build venv of its own (``build/venv-<flavor>``) with the project installed from this
   checkout, exactly one onnxruntime wheel for the flavor (cpu: ``onnxruntime``, which offers
   CoreML on macOS; cuda: ``onnxruntime-gpu`` with CUDA and cuDNN from the nvidia pip
   packages; directml: ``onnxruntime-directml``) and PyInstaller. torch and the export extra are
   never installed, so they cannot be bundled; the venv is checked for both before building.
2. PyInstaller with ``packaging/sam3-canvas.spec`` into
   ``dist/sam3-canvas-<version>-<platform>-<flavor>/`` (the ``sam3-canvas`` executable: the window
   and every CLI sub-command; ``models.toml``, ``resources/`` and the tokenizer inside).
3. The archive beside it (``.tar.gz`` on Linux, ``.zip`` on Windows and macOS), and the sizes:
   the folder, the archive and what takes the space.

Then ``dist/<name>/sam3-canvas doctor`` is the smoke test (``--smoke`` runs it, a ``segment``
with a fake pack and the window offscreen, from a clean environment).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLAVORS = {
    "cpu": ["onnxruntime>=1.17"],
    "cuda": ["onnxruntime-gpu[cuda,cudnn]>=1.19"],
    "directml": ["onnxruntime-directml>=1.17"],
}
ORT_WHEELS = ("onnxruntime", "onnxruntime-gpu", "onnxruntime-directml", "onnxruntime-openvino",
              "onnxruntime-silicon", "onnxruntime-qnn")
NEVER_BUNDLED = ("torch", "torchvision", "transformers")
PYINSTALLER = "pyinstaller>=6.10"


def version() -> str:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    with open(ROOT / "pyproject.toml", "rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def platform_tag() -> str:
    system = {"win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower()
    machine = {"amd64": "x86_64", "aarch64": "arm64"}.get(machine, machine)
    return f"{system}-{machine}"


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def run(cmd: list, **kwargs) -> None:
    print("+", " ".join(map(str, cmd)), flush=True)
    subprocess.run([str(c) for c in cmd], check=True, **kwargs)


def make_venv(flavor: str, venv: Path, fresh: bool) -> Path:
    """The build venv: this checkout (not editable: PyInstaller must see an installed
    package), the flavor's onnxruntime and PyInstaller; nothing else the project does not need."""
    if fresh and venv.exists():
        shutil.rmtree(venv)
    python = venv_python(venv)
    if not python.exists():
        run([sys.executable, "-m", "venv", venv])
        run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"])
    run([python, "-m", "pip", "install", "-q", str(ROOT), *FLAVORS[flavor], PYINSTALLER])
    return python


def check_venv(python: Path, flavor: str) -> None:
    """Exactly the flavor's onnxruntime wheel, and no torch: else the build would ship a
    broken provider or gigabytes nobody uses."""
    code = ("import importlib.metadata as m, json\n"
            "names = {d.metadata['Name'].lower() for d in m.distributions()}\n"
            "print(json.dumps(sorted(names)))")
    out = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True)
    import json
    names = set(json.loads(out.stdout))
    wheels = sorted(names & set(ORT_WHEELS))
    wanted = FLAVORS[flavor][0].split("[")[0].split(">")[0]
    if wheels != [wanted]:
        raise SystemExit(f"build venv has onnxruntime wheels {wheels}, expected only {wanted}: "
                         f"rebuild it with --fresh")
    heavy = sorted(names & set(NEVER_BUNDLED))
    if heavy:
        raise SystemExit(f"build venv has {', '.join(heavy)}: it must never be bundled; "
                         f"rebuild it with --fresh")


def make_icons(python: Path, out: Path) -> None:
    run([python, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import make_icon; "
         "make_icon.derive(make_icon.ICON, __import__('pathlib').Path(sys.argv[2]))",
         ROOT / "packaging", out])


def strip_python(folder: Path) -> int:
    """Debug information out of the Python interpreter's own libraries (libpython and the
    standard library's extension modules: 18 MB on Linux, where the system Python keeps it);
    bytes saved. Only those: GNU strip can corrupt the wheels' libraries that auditwheel
    rewrote with patchelf, so they stay as they are."""
    strip = shutil.which("strip")
    if strip is None or not sys.platform.startswith("linux"):
        return 0
    inside = folder / "_internal"
    targets = [p for p in inside.glob("libpython3*.so*") if p.is_file() and not p.is_symlink()]
    targets += [p for p in inside.glob("python3*/lib-dynload/*.so") if p.is_file()]
    before = sum(p.stat().st_size for p in targets)
    for path in targets:
        subprocess.run([strip, "--strip-debug", str(path)], check=True)
    return before - sum(p.stat().st_size for p in targets)


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def biggest(folder: Path, count: int = 12) -> list[tuple[int, str]]:
    """What takes the space: the largest top-level entries of the bundle's _internal."""
    inside = folder / "_internal" if (folder / "_internal").is_dir() else folder
    sizes = []
    for entry in inside.iterdir():
        if entry.is_symlink():  # PyInstaller links some libraries to the top: counted once
            continue
        size = folder_size(entry) if entry.is_dir() else entry.stat().st_size
        sizes.append((size, entry.name))
    return sorted(sizes, reverse=True)[:count]


def archive(folder: Path) -> Path:
    if sys.platform.startswith("linux"):
        target = folder.with_name(folder.name + ".tar.gz")
        with tarfile.open(target, "w:gz", compresslevel=6) as tar:
            tar.add(folder, arcname=folder.name)
    else:
        target = folder.with_name(folder.name + ".zip")
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
            for path in sorted(folder.rglob("*")):
                z.write(path, Path(folder.name) / path.relative_to(folder))
    return target


def executable(folder: Path) -> Path:
    return folder / ("sam3-canvas.exe" if sys.platform == "win32" else "sam3-canvas")


def clean_env(home: Path) -> dict:
    """No venv, no PYTHONPATH, a fresh HOME: what a user's double-click has."""
    keep = {k: os.environ[k] for k in ("SYSTEMROOT", "WINDIR", "TEMP", "TMP", "LANG")
            if k in os.environ}
    path = "C:\\Windows\\System32;C:\\Windows" if sys.platform == "win32" else "/usr/bin:/bin"
    return {**keep, "PATH": path, "HOME": str(home), "USERPROFILE": str(home),
            "XDG_DATA_HOME": str(home / "data"), "XDG_CACHE_HOME": str(home / "cache"),
            "XDG_STATE_HOME": str(home / "state"), "XDG_CONFIG_HOME": str(home / "config")}


def smoke(folder: Path, build_python: Path) -> None:
    """The frozen app from a clean environment: doctor, a segment on the sample photo with a
    fake pack, and the window offscreen on a folder with that pack."""
    import tempfile
    exe = executable(folder)
    with tempfile.TemporaryDirectory(prefix="sam3-canvas-smoke-") as tmp:
        tmp_path = Path(tmp)
        env = clean_env(tmp_path / "home")
        run([exe, "doctor"], env=env)
        # the fake pack is data, made by the build venv's Python (the frozen app has no
        # "make a fake pack" command; doctor made and used one inside itself already)
        pack = tmp_path / "pack"
        run([build_python, "-m", "sam3_canvas.testing.fake_models", pack], cwd=tmp_path)
        sample = folder / "_internal" / "sam3_canvas" / "_data" / "resources" / "samples"
        photos = tmp_path / "photos"
        shutil.copytree(sample, photos)
        run([exe, "segment", "--model-dir", pack, "--image", photos / "cat.jpg", "--point",
             "220,150", "--output", tmp_path / "mask.png"], env=env)
        if not (tmp_path / "mask.png").is_file():
            raise SystemExit("smoke: segment wrote no mask")
        run([exe, photos, "--model-dir", pack, "--smoke-test", "60"],
            env={**env, "QT_QPA_PLATFORM": os.environ.get("SMOKE_QPA", "offscreen")})
    print("smoke test passed: doctor, segment and the window from the built folder")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--flavor", choices=sorted(FLAVORS), required=True)
    parser.add_argument("--fresh", action="store_true", help="remake the build venv")
    parser.add_argument("--no-archive", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help="then run the smoke test on the built folder")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    name = f"sam3-canvas-{version()}-{platform_tag()}-{args.flavor}"
    build = ROOT / "build"
    python = make_venv(args.flavor, build / f"venv-{args.flavor}", args.fresh)
    check_venv(python, args.flavor)
    icons = build / "icons"
    make_icons(python, icons)
    venv_done = time.perf_counter()
    env = {**os.environ, "SAM3_CANVAS_FLAVOR": args.flavor, "SAM3_CANVAS_NAME": name,
           "SAM3_CANVAS_ICONS": str(icons)}
    env.pop("PYTHONPATH", None)
    run([python, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--distpath", args.dist, "--workpath", build / f"pyinstaller-{args.flavor}",
         ROOT / "packaging" / "sam3-canvas.spec"], env=env, cwd=ROOT)
    folder = args.dist / name
    if sys.platform.startswith("linux"):
        for extra in ("linux/sam3-canvas.desktop",):
            shutil.copy(ROOT / "packaging" / extra, folder / Path(extra).name)
        shutil.copy(ROOT / "resources" / "icon.png", folder / "sam3-canvas.png")
    saved = strip_python(folder)
    built = time.perf_counter()
    print(f"\nbuilt {folder}: {folder_size(folder) / 1e6:.0f} MB unpacked "
          f"({saved / 1e6:.0f} MB of debug information taken out of Python's libraries; "
          f"venv {venv_done - started:.0f} s, PyInstaller {built - venv_done:.0f} s)")
    for size, entry in biggest(folder):
        print(f"  {size / 1e6:8.1f} MB  {entry}")
    if not args.no_archive:
        target = archive(folder)
        print(f"archive {target}: {target.stat().st_size / 1e6:.0f} MB "
              f"({time.perf_counter() - built:.0f} s)")
    if args.smoke:
        smoke(folder, python)
    return 0


if __name__ == "__main__":
    sys.exit(main())
