"""The window's menus, tool bar and keys, in one place (and the Help > Keyboard shortcuts
sheet is made from the same table, so it cannot drift from what the keys do)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut
from PySide6.QtWidgets import QMenu

if TYPE_CHECKING:
    from .main_window import MainWindow

#: the tools: (tool, menu text, key)
TOOLS = [("prompt", "Click prompts (SAM)", "C"), ("brush", "Brush", "B"),
         ("eraser", "Eraser", "E"), ("polygon", "Polygon", "P"),
         ("select", "Select and edit outline", "V")]

#: keys that are not menu shortcuts, for the sheet: (keys, what they do)
MOUSE_AND_KEYS = [
    ("Click / Shift+click", "a point on the object / on the background (C tool)"),
    ("Drag", "a box around the object (C tool)"),
    ("Drag a box's edge or corner / its centre square", "resize / move the box"),
    ("Click with an instance selected", "refine that instance with one more point"),
    ("Ctrl+click / Alt+click", "add / take away the clicked object from the selected instance"),
    ("1, 2, 3", "choose the candidate by rank"),
    ("Ctrl+1 … Ctrl+9", "choose a label"),
    ("[ and ], Ctrl+wheel", "brush size (B and E tools)"),
    ("Double-click or Enter / Backspace", "close the polygon / take its last vertex back"),
    ("Shift+double-click", "take the polygon away from the selected instance"),
    ("Drag a vertex, click an edge, right-click a vertex",
     "move, insert, delete outline vertices (V tool)"),
    ("Wheel, middle drag or Space+drag", "zoom at the cursor, pan"),
]


def _action(window: MainWindow, menu: QMenu, text: str, slot, shortcut=None,
            checkable: bool = False) -> QAction:
    act = QAction(text, window)
    if shortcut is not None:
        act.setShortcuts(shortcut if isinstance(shortcut, list) else [shortcut])
    act.setCheckable(checkable)
    if checkable:
        act.toggled.connect(slot)
    else:
        # triggered(bool checked): never let "checked" reach the slot as an argument
        act.triggered.connect(lambda _checked=False, run=slot: run())
    menu.addAction(act)
    return act


def build_menus(window: MainWindow) -> None:
    w = window
    file = w.menuBar().addMenu("&File")
    _action(w, file, "Open folder…", w.ask_folder, QKeySequence.StandardKey.Open)
    _action(w, file, "Open image…", w.ask_image)
    _action(w, file, "Open video…", w.ask_video, QKeySequence("Ctrl+Shift+O"))
    w.recent_menu = file.addMenu("Recent folders")
    w.recent_menu.aboutToShow.connect(w.fill_recent_menu)
    _action(w, file, "Load classes file…", w.ask_classes)
    file.addSeparator()
    w.export_action = _action(w, file, "Export dataset (COCO, YOLO, VOC, labelme, PNG)…",
                              w.ask_export, QKeySequence("Ctrl+E"))
    _action(w, file, "Export mask PNGs…", lambda: w.ask_export("png"))
    _action(w, file, "Import annotations…", w.ask_import, QKeySequence("Ctrl+I"))
    file.addSeparator()
    _action(w, file, "Quit", w.close, QKeySequence.StandardKey.Quit)

    edit = w.menuBar().addMenu("&Edit")
    undo = w.history.group.createUndoAction(w, "Undo")
    undo.setShortcut(QKeySequence.StandardKey.Undo)
    redo = w.history.group.createRedoAction(w, "Redo")
    redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    edit.addAction(undo)
    edit.addAction(redo)
    edit.addSeparator()
    _action(w, edit, "Accept candidate (or close the polygon)", w.accept_candidate,
            [QKeySequence(Qt.Key.Key_Return), QKeySequence(Qt.Key.Key_Enter)])
    _action(w, edit, "Clear prompt, polygon or selection", w.clear_prompt,
            QKeySequence(Qt.Key.Key_Escape))
    _action(w, edit, "Delete selected instance", w.delete_selected,
            QKeySequence(Qt.Key.Key_Delete))
    edit.addSeparator()
    tools = w.tools
    _action(w, edit, "Fill holes", lambda: tools.on_selected("fill"), QKeySequence("Ctrl+H"))
    _action(w, edit, "Remove small parts", lambda: tools.on_selected("islands"))
    _action(w, edit, "Remove overlaps with instances above", lambda: tools.on_selected("overlaps"))
    _action(w, edit, "Bring to front", lambda: tools.on_selected("front"),
            QKeySequence("Ctrl+]"))
    _action(w, edit, "Send to back", lambda: tools.on_selected("back"), QKeySequence("Ctrl+["))
    w.free_pixels_action = _action(
        w, edit, "New instances take only free pixels", w.set_take_free_pixels, checkable=True)
    w.free_pixels_action.setChecked(w.settings.take_free_pixels)

    tool_menu = w.menuBar().addMenu("&Tools")
    group = QActionGroup(w)
    w.tool_actions = {}
    bar = w.addToolBar("Tools")
    bar.setObjectName("tools")
    bar.setMovable(False)
    for tool, text, key in TOOLS:
        act = _action(w, tool_menu, f"{text}", lambda t=tool: tools.set_tool(t),
                      QKeySequence(key))
        act.setCheckable(True)
        act.setToolTip(f"{text} ({key})")
        group.addAction(act)
        bar.addAction(act)
        w.tool_actions[tool] = act
    w.tool_actions["prompt"].setChecked(True)
    tool_menu.addSeparator()
    _action(w, tool_menu, "Smaller brush", lambda: w.canvas.set_brush_radius(
        w.canvas.brush_radius / 1.25), QKeySequence("["))
    _action(w, tool_menu, "Larger brush", lambda: w.canvas.set_brush_radius(
        w.canvas.brush_radius * 1.25), QKeySequence("]"))

    view = w.menuBar().addMenu("&View")
    _action(w, view, "Fit to window", w.canvas.fit, QKeySequence("F"))
    _action(w, view, "Actual size (100 %)", w.canvas.zoom_100, QKeySequence("Ctrl+0"))
    _action(w, view, "Zoom in", lambda: w.canvas.zoom_by(1.25), QKeySequence.StandardKey.ZoomIn)
    _action(w, view, "Zoom out", lambda: w.canvas.zoom_by(0.8), QKeySequence.StandardKey.ZoomOut)
    view.addSeparator()
    w.hide_all_action = _action(w, view, "Hide all instances", w.set_hide_all,
                                QKeySequence("H"), checkable=True)
    w.outlines_action = _action(w, view, "Outlines only", w.set_outlines_only,
                                QKeySequence("O"), checkable=True)
    w.outlines_action.setChecked(w.settings.outlines_only)
    w.per_instance_action = _action(w, view, "A colour per instance (not per label)",
                                    w.set_colour_by_instance, checkable=True)
    w.per_instance_action.setChecked(w.settings.colour_by == "instance")
    w.hover_action = _action(w, view, "Hover preview (the mask under the resting cursor)",
                             w.set_hover_preview, checkable=True)
    w.hover_action.setChecked(w.settings.hover_preview)
    view.addSeparator()
    _action(w, view, "Next image", lambda: w.step(1),
            [QKeySequence("D"), QKeySequence(Qt.Key.Key_PageDown)])
    _action(w, view, "Previous image", lambda: w.step(-1),
            [QKeySequence("A"), QKeySequence(Qt.Key.Key_PageUp)])

    video = w.menuBar().addMenu("V&ideo")
    _action(w, video, "Track forward", lambda: w.video.track("forward"), QKeySequence("T"))
    _action(w, video, "Track backward", lambda: w.video.track("backward"),
            QKeySequence("Shift+T"))
    _action(w, video, "Track both ways", lambda: w.video.track("both"))
    methods = video.addMenu("Tracking method")
    group = QActionGroup(w)
    w.tracking_method_actions = {}
    for method, text in (("auto", "Auto (memory when the model pack has it)"),
                         ("memory", "Memory (SAM3's own video tracking)"),
                         ("reprompt", "Re-prompt each frame from the previous mask")):
        # toggled(checked) reaches both the action checked and the one unchecked
        act = _action(w, methods, text,
                      lambda checked, m=method: checked and w.video.set_method(m),
                      checkable=True)
        act.setChecked(method == w.video.method)
        group.addAction(act)
        w.tracking_method_actions[method] = act
    video.addSeparator()
    _action(w, video, "First frame (of the selected track, else of the clip)",
            lambda: w.video.go_to_track_end(False), QKeySequence("Home"))
    _action(w, video, "Last frame (of the selected track, else of the clip)",
            lambda: w.video.go_to_track_end(True), QKeySequence("End"))
    _action(w, video, "Relabel this track (every frame)…", w.video.relabel_track)
    _action(w, video, "Delete this track (every frame)", w.video.delete_track)
    video.addSeparator()
    _action(w, video, "Next frame", lambda: w.step(1), QKeySequence("."))
    _action(w, video, "Previous frame", lambda: w.step(-1), QKeySequence(","))
    model = w.menuBar().addMenu("&Model")
    _action(w, model, "Choose or download a model…", w.choose_model)
    _action(w, model, "Settings…", w.edit_settings, QKeySequence("Ctrl+,"))
    _action(w, model, "Measurements (eval and bench)…", w.show_measurements)
    help_menu = w.menuBar().addMenu("&Help")
    _action(w, help_menu, "Keyboard shortcuts", w.show_shortcuts, QKeySequence("F1"))
    for n in range(3):
        QShortcut(QKeySequence(str(n + 1)), w, lambda r=n: w.candidates.choose_rank(r))
    for n in range(9):
        QShortcut(QKeySequence(f"Ctrl+{n + 1}"), w, lambda i=n: w.labels.choose_index(i))


def shortcut_rows(window: MainWindow) -> list[tuple[str, str]]:
    """Every menu action with a key, then the mouse and the other keys: the sheet's rows."""
    rows = []
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if menu is None:
            continue
        for act in menu.actions():
            keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText)
                             for k in act.shortcuts())
            if keys:
                text = act.text().replace("&", "").rstrip("…")
                for fixed in ("Undo", "Redo"):  # their text names the step they would take
                    if text.startswith(fixed):
                        text = fixed
                rows.append((keys, text))
    return rows + MOUSE_AND_KEYS
