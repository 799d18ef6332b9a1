"""What the canvas paints in each overlay mode, compared with small PNGs kept in the repo.

The scene (photo and instance overlays) is rendered at 1:1 into an image of the photo's size,
so the result does not depend on the window's size or fonts; pixels are compared with a
tolerance for antialiasing. After a deliberate change in how overlays look, look at the new
pictures and rewrite them with
``SAM3_CANVAS_UPDATE_SNAPSHOTS=1 pytest tests/e2e/test_canvas_snapshots.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("pytestqt")
from PySide6.QtCore import QRectF  # noqa: E402
from PySide6.QtGui import QImage, QPainter  # noqa: E402

from sam3_canvas.app.project import Project  # noqa: E402
from sam3_canvas.document.annotation import Document, Instance  # noqa: E402
from tests.conftest import fixture_path  # noqa: E402
from tests.gui_helpers import open_and_wait, window_factory  # noqa: E402

SNAPSHOTS = Path(__file__).resolve().parents[1] / "fixtures" / "snapshots"
UPDATE = os.environ.get("SAM3_CANVAS_UPDATE_SNAPSHOTS") == "1"
WIDTH, HEIGHT = 160, 120


def _masks() -> list[tuple[str, np.ndarray]]:
    yy, xx = np.mgrid[:HEIGHT, :WIDTH]
    square = (xx >= 20) & (xx < 80) & (yy >= 20) & (yy < 80)
    disc = (xx - 95) ** 2 + (yy - 65) ** 2 < 30 ** 2
    far = (xx - 130) ** 2 + (yy - 30) ** 2
    ring = (far < 20 ** 2) & (far > 8 ** 2)
    return [("box", square), ("box", disc), ("ring", ring)]


@pytest.fixture()
def window(qtbot, tmp_path, monkeypatch):
    make, stop = window_factory(qtbot, tmp_path, monkeypatch)
    folder = tmp_path / "photos"
    folder.mkdir()
    photo = Image.open(fixture_path("objects/images/teddy.jpg")).convert("RGB")
    photo.resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR).save(folder / "teddy.png")
    project = Project(folder)
    doc = Document("teddy.png", WIDTH, HEIGHT)
    for i, (label, mask) in enumerate(_masks(), start=1):
        project.labels.add(label)
        doc.insert(Instance.from_mask(i, label, mask))
    project.save(doc)
    project.save_labels()
    window = make(None)
    open_and_wait(qtbot, window, folder / "teddy.png", model=False)
    qtbot.waitUntil(lambda: len(window.canvas.instance_items) == 3, timeout=10000)
    yield window
    stop()


def _render(window) -> np.ndarray:
    image = QImage(WIDTH, HEIGHT, QImage.Format.Format_RGB32)
    image.fill(0)
    painter = QPainter(image)
    window.canvas.scene().render(painter, QRectF(0, 0, WIDTH, HEIGHT),
                                 QRectF(0, 0, WIDTH, HEIGHT))
    painter.end()
    bits = np.frombuffer(image.constBits(), np.uint8).reshape(HEIGHT, image.bytesPerLine())
    bgra = bits[:, :WIDTH * 4].reshape(HEIGHT, WIDTH, 4)
    return bgra[:, :, 2::-1].copy()  # RGB


def _matches(name: str, rendered: np.ndarray) -> None:
    path = SNAPSHOTS / f"{name}.png"
    if UPDATE:
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        Image.fromarray(rendered).save(path)
    assert path.is_file(), f"no snapshot {path.name}: make it with SAM3_CANVAS_UPDATE_SNAPSHOTS=1"
    expected = np.asarray(Image.open(path).convert("RGB")).astype(np.int16)
    diff = np.abs(expected - rendered.astype(np.int16)).max(axis=2)
    far = float((diff > 48).mean())
    assert diff.mean() <= 2.0 and far <= 0.005, (
        f"{name}: mean difference {diff.mean():.2f}, {far:.2%} of pixels far off "
        f"(look at {path} beside the rendering)")


def _wait_styled(qtbot, window) -> None:
    """The overlays of the current style are made (synchronously here: a small photo)."""
    qtbot.waitUntil(lambda: not window.overlays.building, timeout=10000)


@pytest.mark.parametrize("mode", ["fill", "opacity", "outlines", "per_instance", "selected",
                                  "hidden"])
def test_each_overlay_mode_paints_as_before(qtbot, window, mode):
    plain = _render(window)
    if mode == "opacity":
        window.set_opacity(220)
    elif mode == "outlines":
        window.set_outlines_only(True)
    elif mode == "per_instance":
        window.set_colour_by_instance(True)
    elif mode == "selected":
        window.select_instance(2)
    elif mode == "hidden":
        window.set_hide_all(True)
    _wait_styled(qtbot, window)
    rendered = _render(window)
    if mode != "fill":
        assert (rendered != plain).any()  # the option changed the picture
    _matches(mode, rendered)


def test_the_photo_alone_when_all_are_hidden_is_the_photo(qtbot, window, tmp_path):
    window.set_hide_all(True)
    photo = np.asarray(Image.open(tmp_path / "photos" / "teddy.png").convert("RGB"))
    assert np.abs(_render(window).astype(int) - photo).max() <= 1


def test_snapshots_are_small_and_all_used():
    names = {p.stem for p in SNAPSHOTS.glob("*.png")}
    assert names == {"fill", "opacity", "outlines", "per_instance", "selected", "hidden"}
    assert all(p.stat().st_size < 40_000 for p in SNAPSHOTS.glob("*.png"))
