"""Shared fixtures: fake model packs (real ONNX graphs), the real data beside the project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def shared(relative: str) -> Path:
    """A path in ../shared/data, or skip the test with the reason when it is absent."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"real test data {path} is absent (a checkout outside the workplace)")
    return path


@pytest.fixture(scope="session")
def fake_pack(tmp_path_factory) -> Path:
    from sam3_canvas.testing.fake_models import write_tracker_pack
    return write_tracker_pack(tmp_path_factory.mktemp("fake_fp32"))


@pytest.fixture(scope="session")
def fake_pack_fp16(tmp_path_factory) -> Path:
    from sam3_canvas.testing.fake_models import write_tracker_pack
    return write_tracker_pack(tmp_path_factory.mktemp("fake_fp16"), variant="fp16")


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
    """A real non-square photo (481 x 321) from the GrabCut set."""
    return shared("grabcut/images/153077.jpg")
