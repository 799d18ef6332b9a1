"""Polygons as each format's readers draw them: the thin-structure floor, parts and holes
reported, the per-consumer conventions, and the importers reading as those tools do."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image

from sam3_canvas.annotations.polygons import DEFAULT_TOLERANCE, bridge_parts, mask_to_polygons
from sam3_canvas.annotations.rasterisers import COCO, LABELME, ULTRALYTICS
from tests.conftest import fixture_path

CONSUMERS = {"coco": (COCO, False), "labelme": (LABELME, False), "yolo": (ULTRALYTICS, True)}


def fence(height=200, width=300) -> np.ndarray:
    """Pickets 2 px wide, rails 1 px high, a diagonal brace 1 px wide."""
    mask = np.zeros((height, width), np.uint8)
    for x in range(20, 280, 12):
        mask[40:180, x:x + 2] = 1
    mask[60, 20:282] = 1
    mask[150, 20:282] = 1
    cv2.line(mask, (20, 180), (280, 40), 1, 1)
    return mask.astype(bool)


def wires(height=160, width=240) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    for i, thickness in enumerate((1, 1, 2, 3)):
        cv2.line(mask, (10, 20 + 35 * i), (230, 40 + 30 * i), 1, thickness)
    cv2.circle(mask, (120, 80), 50, 1, 1)
    mask[5:7, 5:7] = 1  # a 4-px part
    mask[150, 200] = 1  # a 1-px part
    return mask.astype(bool)


def thin_masks():
    bicycle = np.asarray(Image.open(fixture_path("objects/masks/bicycle.png"))) > 128
    lines = np.asarray(Image.open(fixture_path("objects/masks/lines.png"))) > 128
    return {"fence": fence(), "wires": wires(), "bicycle": bicycle, "lines": lines}


@pytest.mark.parametrize("consumer", list(CONSUMERS))
def test_thin_structures_survive_at_the_default_tolerance(consumer):
    reader, joined = CONSUMERS[consumer]
    ious = []
    for name, mask in thin_masks().items():
        found = mask_to_polygons(mask, DEFAULT_TOLERANCE, reader, joined=joined)
        assert not [s for s in found.lost_parts if s >= 10], (consumer, name, found.lost_parts)
        # the report is what the reader really draws: check it independently
        parts = [bridge_parts(found.parts)] if joined else found.parts
        drawn = reader.fill(parts, *mask.shape)
        iou = (drawn & mask).sum() / (drawn | mask).sum()
        assert abs(iou - found.iou) < 1e-9
        ious.append(iou)
    assert np.mean(ious) >= 0.99, (consumer, ious)


@pytest.mark.parametrize("consumer", list(CONSUMERS))
def test_every_pixel_part_survives_at_tolerance_zero(consumer):
    reader, joined = CONSUMERS[consumer]
    mask = wires()
    found = mask_to_polygons(mask, 0.0, reader, joined=joined)
    assert found.lost_parts == [] and found.parts_found == 3  # the wires cross the circle
    if not joined:  # YOLO's one ring draws its zero-width bridges, as ultralytics does
        assert found.iou == 1.0


def test_small_parts_are_left_out_on_request_and_counted():
    found = mask_to_polygons(wires(), DEFAULT_TOLERANCE, COCO, min_part_px=10)
    assert sorted(found.lost_parts) == [1, 4] and found.parts_found == 3


def test_holes_are_kept_down_to_one_pixel_and_reported_when_filled():
    mask = np.zeros((40, 40), bool)
    mask[5:35, 5:35] = True
    mask[10, 10] = False  # a one-pixel hole
    mask[20:25, 20:26] = False
    for reader, _ in CONSUMERS.values():
        found = mask_to_polygons(mask, DEFAULT_TOLERANCE, reader)
        assert found.holes == 2 and found.holes_kept == 2 and found.iou == 1.0, reader.name


def test_conventions_place_the_vertices_where_each_reader_expects():
    mask = np.zeros((10, 10), bool)
    mask[2:5, 3:7] = True  # rows 2-4, columns 3-6
    coco = mask_to_polygons(mask, 0.0, COCO).parts[0]
    assert coco[:, 0].min() == pytest.approx(3) and coco[:, 0].max() == pytest.approx(7)
    labelme = mask_to_polygons(mask, 0.0, LABELME).parts[0]
    assert labelme[:, 0].min() == 3 and labelme[:, 0].max() == 6  # pixel centres


def test_the_importers_read_as_their_tools_do():
    """labelme's shape_to_mask fills with PIL including the outline; ultralytics truncates."""
    from sam3_canvas.annotations.rasterisers import labelme_fill, ultralytics_fill
    square = np.array([[2, 2], [5, 2], [5, 5], [2, 5]], float)
    assert labelme_fill([square], 10, 10).sum() == 16  # 2..5 inclusive
    assert ultralytics_fill([square + 0.7], 10, 10).sum() == 16  # truncated to 2..5
