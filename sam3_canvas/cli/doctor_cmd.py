"""``sam3-canvas doctor``: what this installation is, and a self-test, for bug reports.

It prints the version, the onnxruntime wheel(s) and the providers they offer, the conflict
check, the installed model packs, the folders the app writes to, and then runs the engine end
to end on a fake pack written to a temporary folder (the sample photo through the tracker, a
class name through the text path with the bundled tokenizer). The exit code is 0 only when
every check passed; the installers run it as their smoke test.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from .. import __version__

PASS, FAIL, INFO = "ok", "FAILED", "  "


def add_parser(sub, common) -> None:
    p = sub.add_parser("doctor", parents=[common], help="check this installation (paste the "
                       "output into bug reports)",
                       description="Versions, onnxruntime and its providers, model packs, "
                                   "folders, and a self-test on a fake model. Exit code 0 only "
                                   "when everything passed.")
    p.add_argument("--provider", default="cpu",
                   help="run the self-test on this provider (cpu, cuda, directml, coreml, ...)")
    p.add_argument("--models-dir", metavar="DIR", help="the model packs' folder to list")
    p.set_defaults(run=run)


class Report:
    """Lines as they are checked, and whether any check failed."""

    def __init__(self) -> None:
        self.failed: list[str] = []

    def section(self, title: str) -> None:
        print(f"\n{title}", flush=True)

    def info(self, text: str) -> None:
        print(f"{INFO}{text}", flush=True)

    def fail(self, name: str, exc: BaseException) -> None:
        self.failed.append(name)
        print(f"{INFO}[{FAIL}] {name}: {type(exc).__name__}: {exc}", flush=True)

    def check(self, name: str, run: Callable[[], str]) -> bool:
        """Run one check: its line says ok with what it found, or FAILED with why."""
        try:
            found = run()
        except Exception as exc:  # a self-test reports every failure, it never raises
            self.fail(name, exc)
            return False
        print(f"{INFO}[{PASS}] {name}{': ' + found if found else ''}", flush=True)
        return True


def run(args) -> int:
    report = Report()
    frozen = getattr(sys, "frozen", False)
    print(f"sam3-canvas {__version__} ({'installed app' if frozen else 'Python package'})")
    print(f"Python {platform.python_version()} on {platform.platform()} ({platform.machine()})")
    print(f"executable: {sys.executable}")
    for key, value in sorted(environment_summary().items()):
        print(f"{key}={value}")

    report.section("onnxruntime")
    report.check("onnxruntime wheel", _ort_wheel)
    report.check("only one onnxruntime wheel", _no_conflict)
    report.check("providers offered", _providers)

    report.section("Qt")
    report.check("PySide6", _qt)

    report.section("model packs")
    _packs(report, args.models_dir)

    report.section("folders")
    from ..logs import log_dir
    from ..models.store import default_cache_dir, default_models_root
    folders: list[tuple[str, Path]] = [
        ("models", Path(args.models_dir) if args.models_dir else default_models_root()),
        ("embedding cache", default_cache_dir()), ("logs", log_dir())]
    for name, folder in folders:
        report.check(f"{name} folder {folder}", partial(_writable, folder))

    report.section(f"self-test on a fake model (provider {args.provider})")
    with tempfile.TemporaryDirectory(prefix="sam3-canvas-doctor-") as tmp:
        report.check("clicks to three masks on the sample photo",
                     partial(_tracker_self_test, Path(tmp), args.provider))
        report.check("a class name to masks (text path, bundled tokenizer)",
                     partial(_text_self_test, Path(tmp), args.provider))

    if report.failed:
        print(f"\n{len(report.failed)} check(s) FAILED: {', '.join(report.failed)}")
        return 1
    print("\nall checks passed")
    return 0


def _ort_wheel() -> str:
    import onnxruntime

    from ..engine.providers import installed_ort_distributions

    found = installed_ort_distributions()
    where = Path(onnxruntime.__file__).parent
    if not found:
        # a frozen app without the wheel's metadata still runs; say what was found instead
        return f"onnxruntime {onnxruntime.__version__} (no wheel metadata) in {where}"
    return f"onnxruntime {onnxruntime.__version__} from {', '.join(found)}, in {where}"


def _no_conflict() -> str:
    from ..engine.providers import conflicting_packages

    problem = conflicting_packages()
    if problem:
        raise RuntimeError(problem)
    return ""


def _providers() -> str:
    from ..engine.providers import available_providers

    return ", ".join(available_providers())


def _qt() -> str:
    from ..gui.qt_info import describe

    return describe()


def _packs(report: Report, models_dir: str | None) -> None:
    from ..models.store import ModelStore

    try:
        store = ModelStore(models_dir)
    except Exception as exc:  # models.toml missing or unreadable: the app cannot offer packs
        report.fail("models.toml", exc)
        return
    report.info(f"in {store.root}")
    any_installed = False
    for pack in store.catalogue:
        variants = store.installed_variants(pack.name)
        if variants:
            any_installed = True
            report.info(f"{pack.name}: {', '.join(variants)}")
        for variant in pack.variants:  # a folder the app would not load: say what it lacks
            folder = store.root / pack.name / variant
            if variant in variants or not folder.is_dir():
                continue
            missing = [f.path for f in pack.variant(variant).files if not f.optional
                       and f.role != "archive" and not (folder / f.path).is_file()]
            report.info(f"{pack.name}: {variant} incomplete in {folder}: {len(missing)} file(s) "
                        f"missing ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''})")
    if not any_installed:
        report.info("none installed yet (sam3-canvas models list; the app offers them at "
                    "first start)")


def _writable(folder: Path) -> str:
    """The folder, or the nearest existing folder above it, takes a new file."""
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise NotADirectoryError(f"{existing} is not a folder")
    with tempfile.NamedTemporaryFile(dir=existing, prefix=".sam3-canvas-doctor-"):
        pass
    return "writable" if existing == folder else f"not made yet; {existing} is writable"


def _tracker_self_test(tmp: Path, provider: str) -> str:
    from ..engine import Prompt, Segmenter
    from ..resources import resource_path
    from ..testing.fake_models import write_tracker_pack

    pack = write_tracker_pack(tmp / "tracker")
    segmenter = Segmenter.from_dir(pack, provider=provider)
    photo = resource_path("resources/samples/cat.jpg")
    start = time.perf_counter()
    encoded = segmenter.encode(photo)
    width, height = encoded.image.width, encoded.image.height
    prediction = segmenter.predict(encoded, Prompt.click(width // 2, height // 2))
    took = (time.perf_counter() - start) * 1000
    mask = prediction.mask()
    if len(prediction.ious) != 3 or not mask.any() or mask.shape != (height, width):
        raise RuntimeError(f"unexpected result: {len(prediction.ious)} candidates, mask "
                           f"{mask.shape} with {int(mask.sum())} pixels")
    fallback = segmenter.model.fallback_reason
    ious = ", ".join(f"{v:.3f}" for v in prediction.ious)
    return (f"{photo.name} {width} x {height}, IoUs {ious}, best mask {int(mask.sum())} px, "
            f"ran on {prediction.provider} in {took:.0f} ms"
            + (f" (fell back: {fallback})" if fallback else ""))


def _text_self_test(tmp: Path, provider: str) -> str:
    from ..engine.text import TextSegmenter
    from ..resources import resource_path
    from ..testing.fake_text_models import write_text_pack

    pack = write_text_pack(tmp / "text", "A2")
    segmenter = TextSegmenter(pack, provider=provider)
    result = segmenter.detect(resource_path("resources/samples/cat.jpg"), ["cat"])
    found = result.detections()
    return f"{len(found)} detection(s) of 'cat', layout {result.classes[0].layout}"


def environment_summary() -> dict[str, str]:
    """The variables that change where the app reads and writes (for the report's header)."""
    return {k: v for k, v in os.environ.items() if k.startswith("SAM3_CANVAS_")}
