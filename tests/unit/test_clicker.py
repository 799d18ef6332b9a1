"""The click simulator and the metrics on hand-made masks whose right clicks are known."""

from __future__ import annotations

import numpy as np
import pytest

from sam3_canvas.evaluation.clicker import Clicker, iou
from sam3_canvas.evaluation.interactive import ObjectRun, noc, summarise
from sam3_canvas.evaluation.objects import objects_of


def disc(shape, centre, radius):
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius ** 2


def test_the_first_click_is_the_centre_of_a_disc():
    click = Clicker(disc((101, 121), (50, 60), 30)).next(None)
    assert (click.y, click.x, click.positive) == (50, 60, True)


def test_the_first_click_on_a_ring_is_on_the_ring_not_in_its_hole():
    ring = disc((101, 101), (50, 50), 40) & ~disc((101, 101), (50, 50), 20)
    click = Clicker(ring).next(None)
    assert ring[click.y, click.x]
    assert 28 <= np.hypot(click.y - 50, click.x - 50) <= 32  # mid-way: 20 + (40 - 20) / 2
    # ties broken as RITM does: the first pixel in row-major order at the largest distance
    assert click.y < 50


def test_two_parts_the_larger_first_then_the_one_missed():
    big, small = disc((80, 160), (40, 40), 30), disc((80, 160), (40, 120), 15)
    clicker = Clicker(big | small)
    first = clicker.next(None)
    assert (first.y, first.x) == (40, 40)
    second = clicker.next(big)  # the big part found exactly: the small one is missed
    assert second.positive and (second.y, second.x) == (40, 120)


def test_an_object_touching_the_border_is_clicked_away_from_it():
    """Padding makes the border an edge: the click is in the middle, not on the border."""
    truth = np.zeros((60, 60), bool)
    truth[10:50, 0:40] = True  # touches the left border
    click = Clicker(truth).next(None)
    assert click.x in (19, 20) and click.y in (29, 30)


def test_a_false_positive_farther_than_the_miss_gives_a_background_click():
    truth = disc((100, 100), (50, 50), 20)
    prediction = truth | disc((100, 100), (50, 85), 12)  # a second blob of background taken
    click = Clicker(truth).next(prediction)
    assert not click.positive and (click.y, click.x) == (50, 85)


def test_a_tie_between_miss_and_false_positive_is_a_background_click():
    truth = np.zeros((20, 40), bool)
    truth[5:10, 5:10] = True
    prediction = np.zeros_like(truth)
    prediction[5:10, 25:30] = True  # misses a 5 x 5 square, takes another of the same size
    click = Clicker(truth).next(prediction)
    assert not click.positive and prediction[click.y, click.x]


def test_a_pixel_is_never_clicked_twice():
    truth = disc((41, 41), (20, 20), 10)
    clicker = Clicker(truth)
    first, second = clicker.next(None), clicker.next(None)
    assert (first.y, first.x) == (20, 20) and (second.y, second.x) != (20, 20)
    assert second.positive and truth[second.y, second.x]


def test_ignored_pixels_are_never_clicked_nor_scored():
    truth = disc((61, 61), (30, 30), 20)
    band = disc((61, 61), (30, 30), 22) & ~disc((61, 61), (30, 30), 18)
    prediction = disc((61, 61), (30, 30), 18)
    assert iou(truth, prediction, band) == 1.0
    assert iou(truth, prediction) < 1.0
    wide = disc((61, 61), (30, 30), 22)
    click = Clicker(truth, band).next(wide)  # only band pixels are wrong: none is clicked
    assert not band[click.y, click.x]
    inside = Clicker(truth, band).next(prediction & ~disc((61, 61), (30, 30), 5))
    assert inside.positive and (inside.y, inside.x) == (30, 30)


def test_noc_counts_the_first_click_over_the_threshold_or_max_clicks():
    assert noc([0.5, 0.86, 0.91, 0.95], 0.85, 20) == 2
    assert noc([0.5, 0.86, 0.91, 0.95], 0.90, 20) == 3
    assert noc([0.5, 0.6], 0.90, 20) == 20


def test_summary_means_and_failures_as_ritm_counts_them():
    runs = [ObjectRun("a", [0.9, 0.95, 0.97], [0.9, 0.96, 0.98]),
            ObjectRun("b", [0.5, 0.86, 0.88], [0.7, 0.91, 0.92]),
            ObjectRun("c", [0.2, 0.3, 0.91], [0.2, 0.3, 0.91])]
    summary = summarise(runs, max_clicks=3)
    assert summary.noc[0.85] == pytest.approx((1 + 2 + 3) / 3)
    assert summary.noc[0.90] == pytest.approx((1 + 3 + 3) / 3)
    # b never reaches 90 %, c reaches it only on the last click: RITM counts both (NoC == max)
    assert summary.nof[0.90] == 2
    assert summary.miou[0] == pytest.approx((0.9 + 0.5 + 0.2) / 3)
    assert summary.noc_best[0.90] == pytest.approx((1 + 2 + 3) / 3)


@pytest.mark.parametrize("values, objects", [
    ({0, 255}, 1), ({0, 1}, 1), ({0, 128, 255}, 1), ({0, 3, 7, 255}, 2)])
def test_mask_layouts(values, objects):
    mask = np.zeros((10, len(values) * 4), np.uint8)
    for n, v in enumerate(sorted(values)):
        mask[:, n * 4:(n + 1) * 4] = v
    found = objects_of(mask, several_files=False)
    assert len(found) == objects
    if 128 in values:
        _, truth, ignore = found[0]
        assert ignore is not None and ignore.sum() == 40 and not truth[:, 4:8].any()
    if 7 in values:
        assert [number for number, _, _ in found] == [3, 7]
        assert all(ignore is not None for _, _, ignore in found)  # 255 is void
