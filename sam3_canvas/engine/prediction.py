"""What one prompt gives: candidate masks with predicted IoU, and the object score."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .postprocess import sigmoid, upsample_mask
from .prompts import Prompt


@dataclass(frozen=True)
class Candidate:
    index: int  # the model's own index: 0 smallest/most specific ... 2 largest
    iou: float  # predicted IoU, the model's confidence in this mask
    rank: int  # 0 = highest predicted IoU


@dataclass(frozen=True, eq=False)
class Prediction:
    """The decoder's answer to one prompt on one image.

    The candidates stay as low-resolution logits; :meth:`mask` upsamples one of them to the
    image's size on request and remembers it, so showing candidate 2 never pays for 0 and 1.
    """

    prompt: Prompt
    ious: tuple[float, ...]
    logits: np.ndarray  # (K, h, w) float32
    object_logit: float
    image_size: tuple[int, int]  # (width, height) of the original image
    provider: str
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds
    _masks: dict = field(default_factory=dict, repr=False)

    @property
    def object_score(self) -> float:
        """Probability that the prompt hits an object at all (sigmoid of the object logit)."""
        return sigmoid(self.object_logit)

    @property
    def best_index(self) -> int:
        ious = np.asarray(self.ious, dtype=np.float64)
        return int(np.argmax(np.where(np.isfinite(ious), ious, -np.inf)))

    @property
    def ranking(self) -> list[int]:
        """Candidate indices from the highest predicted IoU to the lowest (stable on ties)."""
        return sorted(range(len(self.ious)), key=lambda i: (-self.ious[i], i))

    @property
    def candidates(self) -> list[Candidate]:
        order = self.ranking
        return [Candidate(index=i, iou=float(self.ious[i]), rank=order.index(i))
                for i in range(len(self.ious))]

    def mask(self, index: int | None = None, exact: bool = False) -> np.ndarray:
        """Full-size boolean mask of candidate ``index`` (the best one when None)."""
        index = self.best_index if index is None else int(index)
        if not 0 <= index < len(self.ious):
            raise IndexError(f"candidate {index} does not exist (0..{len(self.ious) - 1})")
        key = (index, exact)
        if key not in self._masks:
            start = time.perf_counter()
            width, height = self.image_size
            self._masks[key] = upsample_mask(self.logits[index], width, height, exact=exact)
            self.timings["upsample"] = (time.perf_counter() - start) * 1000.0
        return self._masks[key]

    def to_dict(self, chosen: int | None = None) -> dict:
        return {
            "ious": [round(float(v), 6) for v in self.ious],
            "ranking": self.ranking,
            "best_index": self.best_index,
            "chosen_index": self.best_index if chosen is None else chosen,
            "object_score": round(self.object_score, 6),
            "provider": self.provider,
            "image_size": list(self.image_size),
            "timings_ms": {k: round(v, 3) for k, v in self.timings.items()},
        }
