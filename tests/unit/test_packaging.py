"""The pieces of the installable app that the CI build does not look at one by one."""

from __future__ import annotations

import configparser
import sys

from PIL import Image

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "packaging"))
import build  # noqa: E402


def test_each_flavor_brings_exactly_one_onnxruntime_and_no_torch():
    for flavor, packages in build.FLAVORS.items():
        names = [p.split("[")[0].split(">")[0].split("=")[0] for p in packages]
        assert [n for n in names if n in build.ORT_WHEELS] == [names[0]], flavor
        assert not set(names) & set(build.NEVER_BUNDLED), flavor


def test_the_version_and_the_name_of_the_build():
    import sam3_canvas
    assert build.version() == sam3_canvas.__version__
    system, machine = build.platform_tag().split("-", 1)
    assert system in ("linux", "windows", "macos", "darwin") and machine


def test_the_desktop_entry_and_the_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # keys are case-sensitive in desktop entries
    entry.read(ROOT / "packaging" / "linux" / "sam3-canvas.desktop")
    desktop = entry["Desktop Entry"]
    assert desktop["Type"] == "Application" and desktop["Exec"].startswith("sam3-canvas ")
    assert desktop["Icon"] == "sam3-canvas" and desktop["Terminal"] == "false"
    icon = Image.open(ROOT / "resources" / "icon.png")
    assert icon.size == (512, 512) and icon.mode == "RGBA"
    assert icon.getpixel((0, 0))[3] == 0 and icon.getpixel((256, 256))[3] >= 250  # rounded


def test_the_windows_and_macos_icons_are_made_from_it(tmp_path):
    import make_icon
    ico, icns = make_icon.derive(ROOT / "resources" / "icon.png", tmp_path)
    assert Image.open(ico).format == "ICO" and Image.open(icns).format == "ICNS"
