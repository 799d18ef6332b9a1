"""The layers, read from the imports themselves: a package may import only packages below it
(docs/architecture.md draws them), only gui/ imports Qt and only batch/ray_runner.py Ray."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "sam3_canvas"

#: lower number = lower layer; a module may import its own layer or lower ones
LAYERS = {
    "fsutil": 0, "logs": 0, "resources": 0,
    "engine": 1,
    "document": 2,
    "annotations": 3, "models": 3, "testing": 3, "editing": 3, "video": 3,
    "twins": 4, "evaluation": 4,
    "app": 5,
    "gui": 6, "batch": 6,
    "cli": 7, "__main__": 7,
}
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "qtpy")


def _unit(module: Path) -> str:
    relative = module.relative_to(PACKAGE)
    return relative.parts[0].removesuffix(".py") if relative.parts else ""


def _imports(path: Path) -> list[tuple[str, int]]:
    """(first part of every sam3_canvas import, line) and Qt imports as ('Qt', line)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.relative_to(PACKAGE).parts[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")
                if top[0] == "sam3_canvas" and len(top) > 1:
                    found.append((top[1], node.lineno))
                elif top[0] in QT:
                    found.append(("Qt", node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                parts = (node.module or "").split(".")
                if parts[0] == "sam3_canvas" and len(parts) > 1:
                    found.append((parts[1], node.lineno))
                elif parts[0] in QT:
                    found.append(("Qt", node.lineno))
            else:
                base = list(package[: len(package) - (node.level - 1)])
                target = base + (node.module.split(".") if node.module else [])
                if not target:  # "from . import x" at the top of the package
                    target = [node.names[0].name]
                found.append((target[0].removesuffix(".py"), node.lineno))
    return found


def test_every_package_has_a_layer():
    units = {_unit(p) for p in PACKAGE.rglob("*.py")} - {"__init__"}
    assert units <= set(LAYERS), units - set(LAYERS)


def test_imports_point_down_only():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        unit = _unit(path)
        if unit == "__init__":
            continue
        for target, line in _imports(path):
            if target == "Qt":
                continue
            if target in LAYERS and LAYERS[target] > LAYERS[unit]:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} ({unit}) imports {target}")
    assert not wrong, "\n".join(wrong)


def test_only_the_gui_imports_qt():
    wrong = [f"{p.relative_to(PACKAGE)}:{line}" for p in PACKAGE.rglob("*.py")
             if _unit(p) != "gui" for target, line in _imports(p) if target == "Qt"]
    assert not wrong, wrong


def test_only_the_ray_runner_imports_ray():
    """Ray is an optional extra: the app and the single-process commands never need it."""
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n.split(".")[0] == "ray" for n in names) and \
                    path.relative_to(PACKAGE).as_posix() != "batch/ray_runner.py":
                wrong.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert not wrong, wrong


def test_the_layer_check_sees_a_violation(tmp_path, monkeypatch):
    """The check itself can fail: an engine module that imports the app is caught."""
    fake = tmp_path / "sam3_canvas"
    (fake / "engine").mkdir(parents=True)
    (fake / "engine" / "bad.py").write_text("from ..app import editor\n")
    monkeypatch.setattr(__import__(__name__, fromlist=["x"]), "PACKAGE", fake)
    try:
        test_imports_point_down_only()
    except AssertionError as exc:
        assert "engine/bad.py:1 (engine) imports app" in str(exc)
    else:
        raise AssertionError("the violation was not seen")
