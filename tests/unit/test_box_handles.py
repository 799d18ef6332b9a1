"""Moving and resizing a box prompt by its handles (Qt-free geometry under the canvas)."""

from __future__ import annotations

from sam3_canvas.editing.box_handles import MOVE, drag, handle_at, usable

BOX = (100.0, 50.0, 300.0, 250.0)


def test_handles_under_the_cursor():
    assert handle_at(BOX, 200, 150, 4) == MOVE  # the centre
    assert handle_at(BOX, 102, 150, 4) == {"left"}
    assert handle_at(BOX, 200, 253, 4) == {"bottom"}
    assert handle_at(BOX, 298, 52, 4) == {"right", "top"}
    assert handle_at(BOX, 150, 150, 4) is None  # inside: a click there stays a click
    assert handle_at(BOX, 102, 400, 4) is None  # beside the left edge's line, past its end
    assert handle_at(BOX, 90, 150, 4) is None


def test_an_edge_or_a_corner_moves_only_its_edges():
    assert drag(BOX, frozenset({"left"}), 20, 99, 640, 480) == (120, 50, 300, 250)
    assert drag(BOX, frozenset({"right", "bottom"}), 15.4, -20.6, 640, 480) == (100, 50, 315, 229)


def test_dragging_an_edge_past_the_other_flips_the_box():
    assert drag(BOX, frozenset({"left"}), 250, 0, 640, 480) == (300, 50, 350, 250)


def test_moving_keeps_the_size_and_stops_at_the_border():
    assert drag(BOX, MOVE, 30, -10, 640, 480) == (130, 40, 330, 240)
    assert drag(BOX, MOVE, 1000, -1000, 640, 480) == (440, 0, 640, 200)


def test_resizing_is_clamped_to_the_image():
    assert drag(BOX, frozenset({"right", "top"}), 900, -900, 640, 480) == (100, 0, 640, 250)


def test_a_box_collapsed_to_a_line_is_not_a_prompt():
    assert not usable(drag(BOX, frozenset({"left"}), 199, 0, 640, 480))
    assert usable(BOX)
