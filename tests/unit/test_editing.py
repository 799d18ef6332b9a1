"""Hand edits of masks (sam3_canvas/editing): what each paints, and that it says where."""

from __future__ import annotations

import numpy as np
import pytest

from sam3_canvas.editing.brush import Stroke
from sam3_canvas.editing.cleanup import combine, fill_holes, remove_islands, without
from sam3_canvas.editing.polygon import (
    Ring,
    apply_polygon,
    delete_vertex,
    insert_vertex,
    outline,
    polygon_pixels,
    reshape_ring,
)


def _changed_inside(before: np.ndarray, after: np.ndarray, rect) -> bool:
    x0, y0, x1, y1 = rect
    outside = before ^ after
    outside[y0:y1, x0:x1] = False
    return not outside.any()


def test_a_brush_dot_is_a_disc_of_its_radius():
    stroke = Stroke(np.zeros((100, 100), bool), radius=10)
    rect = stroke.to(50.0, 50.0)
    area = int(stroke.mask.sum())
    assert abs(area - np.pi * 100) < 0.05 * np.pi * 100
    ys, xs = np.nonzero(stroke.mask)
    assert abs(xs.mean() + 0.5 - 50) < 0.5 and abs(ys.mean() + 0.5 - 50) < 0.5
    assert _changed_inside(np.zeros((100, 100), bool), stroke.mask, rect)


def test_a_fast_drag_leaves_no_gap():
    stroke = Stroke(np.zeros((40, 400), bool), radius=3)
    stroke.to(10.0, 20.0)
    stroke.to(390.0, 20.0)  # one move across the image
    row = stroke.mask[20]
    assert row[10:390].all()
    assert stroke.mask[:, 10:390].sum(axis=0).min() >= 5  # the band is as wide as the brush


def test_the_eraser_takes_pixels_away_only_where_it_passes():
    before = np.ones((60, 60), bool)
    stroke = Stroke(before, radius=4, erase=True)
    rect = stroke.to(10.0, 30.0)
    rect2 = stroke.to(50.0, 30.0)
    assert not stroke.mask[30, 10:50].any() and stroke.mask[5].all()
    assert before.all()  # the stroke works on its own copy
    assert _changed_inside(before, stroke.mask, stroke.bounds)
    assert stroke.bounds[0] <= rect[0] and stroke.bounds[2] >= rect2[2]


def test_a_stroke_outside_the_image_changes_nothing():
    stroke = Stroke(np.zeros((50, 50), bool), radius=5)
    assert stroke.to(-100.0, -100.0) is None
    assert not stroke.mask.any()


def test_a_polygon_covers_the_pixels_whose_centres_it_encloses():
    found = polygon_pixels(np.array([[10, 10], [20, 10], [20, 20], [10, 20]]), 100, 100)
    local, (x0, y0, x1, y1) = found
    mask = np.zeros((100, 100), bool)
    mask[y0:y1, x0:x1] = local
    ys, xs = np.nonzero(mask)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (10, 19, 10, 19)
    assert mask.sum() == 100


def test_a_polygon_adds_and_takes_away():
    mask = np.zeros((50, 50), bool)
    triangle = np.array([[5.0, 5.0], [45.0, 5.0], [5.0, 45.0]])
    rect = apply_polygon(mask, triangle)
    assert mask[6, 6] and not mask[44, 44] and _changed_inside(np.zeros_like(mask), mask, rect)
    apply_polygon(mask, triangle, erase=True)
    assert not mask.any()
    assert apply_polygon(mask, np.array([[1.0, 1.0], [2.0, 2.0]])) is None  # two vertices


def _ring_mask() -> np.ndarray:
    mask = np.zeros((80, 80), bool)
    mask[10:70, 10:70] = True
    mask[30:50, 30:50] = False  # a hole
    mask[2:4, 75:77] = True  # a speck
    return mask


def test_an_outline_has_the_parts_and_the_holes():
    rings = outline(_ring_mask())
    assert sorted(r.hole for r in rings) == [False, False, True]
    outer = max((r for r in rings if not r.hole), key=lambda r: len(r.points) and
                np.ptp(r.points[:, 0]))
    assert len(outer.points) == 4  # a square: four vertices, not 240 boundary pixels


def test_an_unmoved_ring_changes_no_pixel():
    mask = _ring_mask()
    for ring in outline(mask):
        before = mask.copy()
        reshape_ring(mask, ring, ring.points.copy())
        assert np.array_equal(mask, before)


def test_dragging_a_vertex_out_grows_the_part_and_keeps_its_hole_and_specks():
    mask = _ring_mask()
    before = mask.copy()
    outer = next(r for r in outline(mask) if not r.hole and len(r.points) == 4)
    moved = outer.points.copy()
    corner = int(np.argmax(moved.sum(axis=1)))  # the bottom-right corner
    moved[corner] += (8, 8)
    rect = reshape_ring(mask, outer, moved)
    assert mask.sum() > before.sum()
    assert (mask | ~before).all()  # nothing taken away
    assert not mask[30:50, 30:50].any() and mask[2:4, 75:77].all()  # hole and speck kept
    assert mask[72, 72] and _changed_inside(before, mask, rect)


def test_a_hole_ring_dragged_wider_takes_pixels():
    mask = _ring_mask()
    hole = next(r for r in outline(mask) if r.hole)
    bigger = hole.points.copy()
    centre = bigger.mean(axis=0)
    bigger = centre + (bigger - centre) * 1.5
    reshape_ring(mask, hole, bigger)
    assert not mask[27:53, 27:53].any() and mask[12, 12]


def test_vertices_are_inserted_on_the_nearest_edge_and_deleted():
    square = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]])
    points, index = insert_vertex(square, 10.2, 5.0)
    assert index == 2 and np.allclose(points[2], (10.2, 5.0)) and len(points) == 5
    assert np.array_equal(delete_vertex(points, 2), square)
    assert delete_vertex(square[:3], 0) is None  # a ring keeps three vertices


def test_fill_holes_fills_enclosed_background_only():
    mask = _ring_mask()
    filled = fill_holes(mask)
    assert filled[30:50, 30:50].all() and not filled[0, 0] and not filled[75, 5]
    assert (filled | ~mask).all()
    c = np.zeros((20, 20), bool)
    c[5:15, 5:15] = True
    c[8:12, 5:12] = False  # a notch open to the left: not a hole
    assert not fill_holes(c)[10, 6]


@pytest.mark.parametrize("min_pixels, speck_kept", [(4, True), (5, False)])
def test_remove_islands_drops_parts_below_the_size(min_pixels, speck_kept):
    cleaned = remove_islands(_ring_mask(), min_pixels)
    assert cleaned[2:4, 75:77].all() == speck_kept and cleaned[15, 15]


def test_masks_combine_and_leave_out_others():
    a = np.zeros((10, 10), bool)
    a[:, :6] = True
    b = np.zeros((10, 10), bool)
    b[:, 4:] = True
    assert combine(a, b).all()
    assert combine(a, b, subtract=True).sum() == 40
    assert np.array_equal(without(a, [b]), combine(a, b, subtract=True))


def test_ring_records_are_plain_values():
    ring = Ring(np.zeros((3, 2)), hole=True)
    assert ring.hole and ring.points.shape == (3, 2)


def test_a_pixel_is_found_in_the_runs_without_decoding():
    from sam3_canvas.document import rle
    mask = _ring_mask()
    encoded = rle.encode(mask)
    rng = np.random.default_rng(3)
    for x, y in rng.integers(0, 80, size=(300, 2)):
        assert rle.contains(encoded, int(x), int(y)) == bool(mask[y, x])
    assert not rle.contains(encoded, 80, 0) and not rle.contains(encoded, -1, 5)


def test_dragging_a_vertex_of_a_round_part_leaves_no_sliver():
    yy, xx = np.mgrid[0:200, 0:200]
    mask = np.hypot(xx - 100, yy - 100) < 60
    ring = next(r for r in outline(mask) if not r.hole)
    assert len(ring.points) < 100  # simplified: its edges cut across the true boundary
    moved = ring.points.copy()
    top = int(np.argmin(moved[:, 1]))
    moved[top] += (0, -30)
    reshape_ring(mask, ring, moved)
    assert np.array_equal(fill_holes(mask), mask)  # no hole left along the old edges
    assert mask[25, int(moved[top, 0])]
