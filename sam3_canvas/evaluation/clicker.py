"""The click simulator of the interactive-segmentation protocol (RITM, SimpleClick, SAM).

Each next click goes to the point farthest from the edge of the larger error region: the
missed part of the object (false negatives: a click) or the wrongly taken background (false
positives: a background click). This is RITM's ``Clicker._get_next_click``
(isegm/inference/clicker.py), rule for rule, so the numbers compare with published ones:

* error regions leave out the ignored pixels (GrabCut's 128 band);
* both regions are padded by one pixel of background before OpenCV's exact Euclidean distance
  transform (``cv2.DIST_L2``, mask size 0), so the image border counts as an edge;
* a pixel already clicked is never clicked again (its distance is zeroed);
* a click is positive only if the farthest missed pixel is strictly farther than the farthest
  false positive (a tie gives a background click);
* among pixels at the same largest distance the first in row-major order is taken
  (``np.where(...)[0]``). The first click is the same rule with an empty prediction.

docs/eval.md writes the protocol down with its sources.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Click:
    y: int
    x: int
    positive: bool

    @property
    def point(self) -> tuple[float, float]:
        """(x, y) in image pixels, at the pixel's centre, as the app's prompts take them."""
        return self.x + 0.5, self.y + 0.5


class Clicker:
    """Clicks for one object: ``next(prediction)`` after each prediction."""

    def __init__(self, truth: np.ndarray, ignore: np.ndarray | None = None):
        self.truth = np.asarray(truth, bool)
        self.valid = ~np.asarray(ignore, bool) if ignore is not None else \
            np.ones_like(self.truth)
        self.not_clicked = np.ones(self.truth.shape, bool)
        self.clicks: list[Click] = []

    def next(self, prediction: np.ndarray | None) -> Click:
        pred = np.zeros_like(self.truth) if prediction is None else np.asarray(prediction, bool)
        missed = self.truth & ~pred & self.valid
        extra = ~self.truth & pred & self.valid
        missed_far = _distance(missed) * self.not_clicked
        extra_far = _distance(extra) * self.not_clicked
        positive = bool(missed_far.max() > extra_far.max())
        far = missed_far if positive else extra_far
        ys, xs = np.where(far == far.max())
        click = Click(int(ys[0]), int(xs[0]), positive)
        self.not_clicked[click.y, click.x] = False
        self.clicks.append(click)
        return click


def _distance(region: np.ndarray) -> np.ndarray:
    """Distance of each pixel of ``region`` to the nearest pixel outside it or to the border."""
    padded = np.pad(region, 1).astype(np.uint8)
    return cv2.distanceTransform(padded, cv2.DIST_L2, 0)[1:-1, 1:-1]


def iou(truth: np.ndarray, prediction: np.ndarray, ignore: np.ndarray | None = None) -> float:
    """Intersection over union with the ignored pixels left out of both (RITM's get_iou); an
    object and a prediction that are both empty count as 1."""
    truth, prediction = np.asarray(truth, bool), np.asarray(prediction, bool)
    valid = ~np.asarray(ignore, bool) if ignore is not None else np.ones_like(truth)
    union = np.count_nonzero((truth | prediction) & valid)
    if union == 0:
        return 1.0
    return float(np.count_nonzero(truth & prediction & valid) / union)
