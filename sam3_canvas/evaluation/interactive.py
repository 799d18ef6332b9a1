"""Running the click protocol on a model, and the numbers the field reports from it.

Per object: the image is encoded once; click after click (all of them kept in the prompt, as a
person refining in the app adds them), the decoder gives three candidates; the one the model
ranks first by predicted IoU is the prediction (what the app shows), and the next click is
simulated against it. Beside it, the best of the three against the truth is recorded: what the
candidate picker can gain a person who looks. Every object runs all ``max_clicks`` clicks, so
the mIoU curve is complete; NoC reads the first click that reaches a threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..engine.errors import Sam3CanvasError
from ..engine.prompts import BACKGROUND, FOREGROUND, Prompt
from .clicker import Click, Clicker, iou
from .objects import EvalObject

THRESHOLDS = (0.85, 0.90)


@dataclass
class ObjectRun:
    name: str
    ious: list[float] = field(default_factory=list)  # after each click, the model's pick
    best_ious: list[float] = field(default_factory=list)  # the best of three vs the truth
    clicks: list[Click] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"image": self.name, "ious": [round(v, 6) for v in self.ious],
                "best_of_three_ious": [round(v, 6) for v in self.best_ious],
                "clicks": [{"x": c.x, "y": c.y, "positive": c.positive} for c in self.clicks]}


def run_object(segmenter, obj: EvalObject, max_clicks: int = 20) -> ObjectRun:
    encoded = segmenter.encode(obj.image)
    if (encoded.image.height, encoded.image.width) != obj.truth.shape:
        raise Sam3CanvasError(f"{obj.name}: the mask is {obj.truth.shape[1]} x "
                              f"{obj.truth.shape[0]}, the image {encoded.image.width} x "
                              f"{encoded.image.height}")
    clicker = Clicker(obj.truth, obj.ignore)
    run = ObjectRun(obj.name)
    shown = None
    for _ in range(max_clicks):
        clicker.next(shown)
        prompt = Prompt(points=tuple(c.point for c in clicker.clicks),
                        labels=tuple(FOREGROUND if c.positive else BACKGROUND
                                     for c in clicker.clicks))
        prediction = segmenter.predict(encoded, prompt)
        candidates = [prediction.mask(i, exact=True) for i in range(len(prediction.ious))]
        scores = [iou(obj.truth, m, obj.ignore) for m in candidates]
        shown = candidates[prediction.best_index]
        run.ious.append(scores[prediction.best_index])
        run.best_ious.append(max(scores))
    run.clicks = list(clicker.clicks)
    return run


def noc(ious: list[float], threshold: float, max_clicks: int) -> int:
    """Clicks to reach ``threshold`` (RITM's compute_noc_metric: ``max_clicks`` if never)."""
    reached = np.asarray(ious, np.float64) >= threshold
    return int(np.argmax(reached)) + 1 if reached.any() else max_clicks


@dataclass
class Summary:
    objects: int
    max_clicks: int
    noc: dict[float, float]  # threshold -> mean clicks, the model's pick
    nof: dict[float, int]  # threshold -> objects at max_clicks (RITM's count)
    miou: list[float]  # after click 1..max_clicks, the model's pick
    noc_best: dict[float, float]  # the same with the best of three against the truth
    nof_best: dict[float, int]
    miou_best: list[float]

    def to_dict(self) -> dict:
        def keyed(values):
            return {f"{int(round(t * 100))}": round(v, 4) for t, v in values.items()}
        return {"objects": self.objects, "max_clicks": self.max_clicks,
                "noc": keyed(self.noc), "nof": keyed(self.nof),
                "miou": [round(v, 4) for v in self.miou],
                "best_of_three": {"noc": keyed(self.noc_best), "nof": keyed(self.nof_best),
                                  "miou": [round(v, 4) for v in self.miou_best]}}


def summarise(runs: list[ObjectRun], max_clicks: int) -> Summary:
    def part(which: str):
        curves = [getattr(r, which) for r in runs]
        nocs = {t: [noc(c, t, max_clicks) for c in curves] for t in THRESHOLDS}
        return ({t: float(np.mean(v)) for t, v in nocs.items()},
                {t: int(sum(n == max_clicks for n in v)) for t, v in nocs.items()},
                [float(v) for v in np.mean(np.array(curves), axis=0)])
    picked, best = part("ious"), part("best_ious")
    return Summary(len(runs), max_clicks, *picked, *best)
