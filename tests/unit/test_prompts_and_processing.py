"""Prompt validation and the model-space mapping of images, prompts and masks."""

from __future__ import annotations

import numpy as np
import pytest

from sam3_canvas.engine.errors import PromptError
from sam3_canvas.engine.postprocess import positive_region, region_mask, upsample_mask
from sam3_canvas.engine.preprocess import pixel_values, prompt_arrays
from sam3_canvas.engine.prompts import Prompt


@pytest.mark.parametrize("prompt, message", [
    (Prompt(), "no prompt"),
    (Prompt.click(500, 10), "outside"),
    (Prompt.click(-1, 10), "outside"),
    (Prompt.click(10, 10).add_point(10, 300, 0), "background point .* outside"),
    (Prompt.from_box(50, 10, 20, 40), "inverted"),
    (Prompt.from_box(10, 10, 10, 40), "empty"),
    (Prompt.from_box(10, 10, 120, 40), "outside"),
])
def test_bad_prompts_are_refused(prompt, message):
    with pytest.raises(PromptError, match=message):
        prompt.validate(100, 200)


def test_labels_must_match_points():
    with pytest.raises(PromptError):
        Prompt(points=((1.0, 2.0),), labels=())
    with pytest.raises(PromptError, match="label"):
        Prompt(points=((1.0, 2.0),), labels=(2,))


def test_prompt_is_scaled_per_axis_into_model_space():
    prompt = Prompt.click(100, 50).add_point(0, 0, 0).with_box((10, 20, 200, 100))
    points, labels, boxes = prompt_arrays(prompt, (200, 100), (1008, 1008))
    assert points.shape == (1, 1, 2, 2) and points.dtype == np.float32
    np.testing.assert_allclose(points[0, 0, 0], [504.0, 504.0])
    assert labels.tolist() == [[[1, 0]]] and labels.dtype == np.int64
    np.testing.assert_allclose(boxes[0, 0], [50.4, 201.6, 1008.0, 1008.0], rtol=1e-6)


def test_no_points_and_no_box_are_zero_length():
    points, labels, boxes = prompt_arrays(Prompt.from_box(1, 1, 5, 5), (10, 10), (1008, 1008))
    assert points.shape == (1, 1, 0, 2) and labels.shape == (1, 1, 0)
    points, labels, boxes = prompt_arrays(Prompt.click(1, 1), (10, 10), (1008, 1008))
    assert boxes.shape == (1, 0, 4)


def test_pixel_values_are_normalised_to_minus_one_one():
    rgb = np.zeros((30, 50, 3), np.uint8)
    rgb[:, 25:] = 255
    values = pixel_values(rgb, 1008, 1008)
    assert values.shape == (1, 3, 1008, 1008) and values.dtype == np.float32
    assert values.min() == -1.0 and values.max() == 1.0
    assert values[0, 0, 500, 10] == -1.0 and values[0, 0, 500, 1000] == 1.0
    assert pixel_values(rgb, 1008, 1008, np.float16).dtype == np.float16


def _bilinear(logits: np.ndarray, width: int, height: int) -> np.ndarray:
    """Bilinear resampling written out, half-pixel centres, edges clamped: the convention of
    torch's ``interpolate(mode="bilinear", align_corners=False)``, which transformers' SAM
    post-processing uses. Independent of OpenCV, in float64."""
    rows, cols = logits.shape

    def taps(size: int, source: int):
        at = np.clip((np.arange(size) + 0.5) * source / size - 0.5, 0, source - 1)
        low = np.floor(at).astype(int)
        return low, np.minimum(low + 1, source - 1), at - low

    y0, y1, fy = taps(height, rows)
    x0, x1, fx = taps(width, cols)
    a = logits.astype(np.float64)
    top = a[y0][:, x0] * (1 - fx) + a[y0][:, x1] * fx
    bottom = a[y1][:, x0] * (1 - fx) + a[y1][:, x1] * fx
    return top * (1 - fy)[:, None] + bottom * fy[:, None]


def test_region_upsampling_equals_bilinear_resampling():
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:288, 0:288]
    for trial in range(12):
        cx, cy, r = rng.uniform(0, 288, 2).tolist() + [rng.uniform(2, 80)]
        logits = (r - np.hypot(xx - cx, yy - cy)).astype(np.float32)
        logits += rng.normal(0, 1.5, logits.shape).astype(np.float32)
        width, height = int(rng.integers(200, 3000)), int(rng.integers(200, 3000))
        exact = upsample_mask(logits, width, height, exact=True)
        fast = upsample_mask(logits, width, height)
        reference = _bilinear(logits, width, height) > 0
        # float32 against float64: only pixels whose value is within rounding of 0 may differ
        assert int((exact ^ reference).sum()) <= 2, trial
        # region + fixed-point warp: at most a few boundary pixels of difference
        differing = int((fast ^ exact).sum())
        assert differing <= max(3, exact.sum() // 10000), (trial, differing)
        region = positive_region(logits, width, height)
        x0, y0, x1, y1 = region
        outside = exact.copy()
        outside[y0:y1, x0:x1] = False
        assert not outside.any()  # nothing positive outside the region


def test_empty_candidate_gives_empty_mask():
    logits = np.full((288, 288), -3.0, np.float32)
    assert not upsample_mask(logits, 640, 480).any()
    assert positive_region(logits, 640, 480) is None


def test_region_mask_at_screen_scale_matches_the_full_mask_shrunk():
    yy, xx = np.mgrid[0:288, 0:288]
    logits = (50 - np.hypot(xx - 120, yy - 160)).astype(np.float32)
    width, height = 4000, 3000
    full = upsample_mask(logits, width, height, exact=True)
    part, x0, y0 = region_mask(logits, width, height, scale=0.25)
    # the region's origin is in image pixels; its mask is sampled at one pixel per 4
    shrunk = full[y0::4, x0::4][: part.shape[0], : part.shape[1]]
    agree = (part == shrunk).mean()
    assert agree > 0.995 and part.sum() > 0
    same, sx0, sy0 = region_mask(logits, width, height, scale=1.0)
    assert np.array_equal(same, upsample_mask(logits, width, height)[sy0:sy0 + same.shape[0],
                                                                     sx0:sx0 + same.shape[1]])
