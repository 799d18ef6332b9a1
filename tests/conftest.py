"""Shared fixtures: fake model packs (real ONNX graphs) and the synthetic test data in
tests/fixtures (made by tests/fixtures/make_fixtures.py, committed; see its README.md).

The suite needs nothing outside the repository. With ``SAM3_CANVAS_NO_SKIPS=1`` in the
environment a skipped test (or module) is reported as a failure, so CI can require zero skips.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# measurements (eval, bench) are kept in the user data folder: not the tester's own
os.environ.setdefault("SAM3_CANVAS_DATA_DIR", __import__("tempfile").mkdtemp(
    prefix="sam3-canvas-data-"))

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
NO_SKIPS = "SAM3_CANVAS_NO_SKIPS"


def fixture_path(relative: str) -> Path:
    """A file or folder in tests/fixtures; a missing one fails the test (it never skips)."""
    path = FIXTURES / relative
    if not path.exists():
        pytest.fail(f"test fixture {path} is missing: it is part of the repository (regenerate "
                    "it with `python tests/fixtures/make_fixtures.py`)", pytrace=False)
    return path


def _no_skips() -> bool:
    return os.environ.get(NO_SKIPS, "") not in ("", "0")


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def pytest_configure(config):
    if _no_skips():  # a module failed for a skip is a collection error: run the rest anyway
        config.option.continue_on_collection_errors = True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With SAM3_CANVAS_NO_SKIPS=1, a skip (marker, ``pytest.skip``, ``importorskip``) fails."""
    outcome = yield
    report = outcome.get_result()
    if _no_skips() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid} was skipped, and {NO_SKIPS}=1 forbids skips: "
                           f"{_skip_reason(report)}")


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """The same for a whole module skipped while it is collected (a module-level
    ``pytest.importorskip`` of an optional dependency): a collection error that says why."""
    outcome = yield
    report = outcome.get_result()
    if _no_skips() and report.skipped:
        report.outcome = "failed"
        report.longrepr = (f"{collector.nodeid} was skipped, and {NO_SKIPS}=1 forbids skips: "
                           f"{_skip_reason(report)}")


@pytest.fixture(scope="session")
def fake_pack(tmp_path_factory) -> Path:
    from sam3_canvas.testing.fake_models import write_tracker_pack
    return write_tracker_pack(tmp_path_factory.mktemp("fake_fp32"))


@pytest.fixture(scope="session")
def fake_pack_fp16(tmp_path_factory) -> Path:
    from sam3_canvas.testing.fake_models import write_tracker_pack
    return write_tracker_pack(tmp_path_factory.mktemp("fake_fp16"), variant="fp16", io="float16")


@pytest.fixture(scope="session")
def fake_pack_external(tmp_path_factory) -> Path:
    from sam3_canvas.testing.fake_models import write_tracker_pack
    return write_tracker_pack(tmp_path_factory.mktemp("fake_ext"), external_data=True)


@pytest.fixture()
def segmenter(fake_pack, tmp_path):
    from sam3_canvas.engine import Segmenter
    return Segmenter.from_dir(fake_pack, cache_dir=tmp_path / "cache")


@pytest.fixture()
def photo() -> Path:
    """A non-square photo-like JPEG (481 x 321: the models enlarge it), tests/fixtures."""
    return fixture_path("objects/images/ring.jpg")


# -- the CLI, in this process ---------------------------------------------------------------

@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def last_error(self) -> str:
        lines = [line for line in self.err.splitlines() if line.strip()]
        return lines[-1] if lines else ""


@pytest.fixture()
def cli(capsys):
    """Run ``sam3-canvas ARGS`` through the real entry point; a traceback fails the test."""

    def run(*args) -> Run:
        capsys.readouterr()
        from sam3_canvas.cli import main as cli_main
        try:
            code = cli_main([str(a) for a in args])
        except SystemExit as exc:  # argparse
            code = exc.code
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Run(int(code or 0), captured.out, captured.err)

    return run
