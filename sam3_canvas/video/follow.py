"""Follow an object through a clip, frame after frame, by one of two methods.

* ``memory`` (packs with the memory graphs, ``sam3_canvas/video/memory.py``): SAM3's own video
  tracking, each frame conditioned on the memories of earlier ones;
* ``reprompt`` (every pack): the next frame gets the previous mask's box, widened for motion,
  and the interior point farthest from its edge (where a click is surest to land on the object
  even if it moved a little).

``auto`` takes memory when the pack has it. Either way tracking stops by itself at the first
frame where the object seems lost, and says why:

* the object-presence probability falls below ``min_presence``;
* the predicted IoU of the best candidate falls below ``min_iou``;
* the mask is empty, or its area changed by more than ``max_area_change`` times in one frame
  (the prompt landed on something else: the background, an occluder).

The frame where it stopped is reported without a mask; the frames before it are the track.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ..engine.errors import PromptError
from ..engine.prompts import Prompt
from .frames import FrameSource

Direction = Literal["forward", "backward", "both"]
Method = Literal["auto", "memory", "reprompt"]
METHODS = ("auto", "memory", "reprompt")
BOX_MARGIN = 0.1  # the previous box widened by this fraction of its size on each side


@dataclass
class FrameResult:
    frame: int
    mask: np.ndarray | None  # bool (H, W); None on the frame where tracking stopped
    iou: float
    presence: float
    prompt: Prompt
    stopped: str | None = None  # why tracking stopped here

    def to_dict(self) -> dict:
        return {"frame": self.frame, "iou": round(self.iou, 6),
                "presence": round(self.presence, 6), "stopped": self.stopped,
                "area": None if self.mask is None else int(self.mask.sum())}


@dataclass(frozen=True)
class StopRules:
    min_iou: float = 0.5
    min_presence: float = 0.5
    max_area_change: float = 3.0

    def why(self, iou: float, presence: float, area: int, previous_area: int | None) -> str | None:
        if presence < self.min_presence:
            return f"the object is gone (presence {presence:.2f} < {self.min_presence:g})"
        if iou < self.min_iou:
            return f"the mask is uncertain (predicted IoU {iou:.2f} < {self.min_iou:g})"
        if area == 0:
            return "the mask is empty"
        if previous_area and max(area / previous_area, previous_area / area) > \
                self.max_area_change:
            return (f"the mask's area jumped from {previous_area} to {area} pixels (more than "
                    f"{self.max_area_change:g} times)")
        return None


def prompt_from_mask(mask: np.ndarray, margin: float = BOX_MARGIN) -> Prompt | None:
    """The box around ``mask`` widened by ``margin`` and its innermost point; None if empty."""
    import cv2

    ys, xs = np.nonzero(mask)
    if xs.size == 0:
        return None
    height, width = mask.shape
    x1, x2, y1, y2 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    dx, dy = (x2 - x1) * margin, (y2 - y1) * margin
    box = (float(max(0, x1 - dx)), float(max(0, y1 - dy)), float(min(width, x2 + dx)),
           float(min(height, y2 + dy)))
    inside = cv2.distanceTransform(np.pad(mask, 1).astype(np.uint8), cv2.DIST_L2, 5)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(inside)), inside.shape)
    return Prompt(points=((float(x), float(y)),), labels=(1,), box=box)


def _order(start: int, count: int, direction: Direction, max_frames: int | None):
    forward = list(range(start + 1, count))
    backward = list(range(start - 1, -1, -1))
    if max_frames is not None:
        forward, backward = forward[:max_frames], backward[:max_frames]
    runs = {"forward": [forward], "backward": [backward], "both": [forward, backward]}
    return runs[direction]


def resolve_method(segmenter, method: Method) -> Method:
    """``memory`` or ``reprompt``; asking for memory on a pack without it is a user fault."""
    if method not in METHODS:
        raise PromptError(f"unknown tracking method {method!r} (choose {', '.join(METHODS)})")
    missing = segmenter.model.memory_unavailable
    if method == "memory" and missing:
        raise PromptError(f"cannot track with memory: {missing}")
    if method == "auto":
        return "reprompt" if missing else "memory"
    return method


def follow(segmenter, frames: FrameSource, start: int, prompt: Prompt,
           direction: Direction = "forward", max_frames: int | None = None,
           rules: StopRules = StopRules(),
           cancelled: Callable[[], bool] | None = None,
           method: Method = "auto") -> Iterator[FrameResult]:
    """Results frame by frame: ``start`` (from ``prompt``), then each following frame in
    ``direction`` until the clip ends, ``max_frames`` were done, the object is lost (a last
    result with ``stopped`` set) or ``cancelled()`` says so. With "both", forward first,
    then backward from ``start`` again."""
    if resolve_method(segmenter, method) == "memory":
        yield from _with_memory(segmenter, frames, start, direction, max_frames, rules,
                                cancelled, prompt=prompt)
        return
    first = _predict(segmenter, frames, start, prompt, rules=None)  # the user's own prompt
    yield first
    yield from _onward(segmenter, frames, first, direction, max_frames, rules, cancelled)


def follow_mask(segmenter, frames: FrameSource, start: int, mask: np.ndarray,
                direction: Direction = "forward", max_frames: int | None = None,
                rules: StopRules = StopRules(),
                cancelled: Callable[[], bool] | None = None,
                method: Method = "auto") -> Iterator[FrameResult]:
    """As :func:`follow`, from a mask the user already has on ``start`` (an accepted or
    hand-corrected instance): the frames after it only."""
    mask = np.asarray(mask, bool)
    if resolve_method(segmenter, method) == "memory":
        yield from _with_memory(segmenter, frames, start, direction, max_frames, rules,
                                cancelled, mask=mask)
        return
    first = FrameResult(frame=start, mask=mask, iou=1.0, presence=1.0, prompt=Prompt())
    yield from _onward(segmenter, frames, first, direction, max_frames, rules, cancelled)


def _with_memory(segmenter, frames, start, direction, max_frames, rules, cancelled,
                 prompt: Prompt | None = None,
                 mask: np.ndarray | None = None) -> Iterator[FrameResult]:
    from .memory import follow_with_memory

    areas = {} if mask is None else {start: int(mask.sum())}
    masks = {}

    def judge(index: int, prediction) -> str | None:
        best = prediction.best_index
        masks[index] = prediction.mask(best)
        areas[index] = int(masks[index].sum())
        previous = areas.get(index + (1 if index < start else -1))
        return rules.why(float(prediction.ious[best]), float(prediction.object_score),
                         areas[index], previous)

    runs = _order(start, len(frames), direction, max_frames)
    for index, prediction, why in follow_with_memory(segmenter, frames, start, runs, prompt,
                                                     mask, judge, cancelled):
        best = prediction.best_index
        mask_here = masks.get(index)
        if mask_here is None:  # the prompted start frame: not judged
            mask_here = prediction.mask(best)
            areas[index] = int(mask_here.sum())
        yield FrameResult(frame=index, mask=None if why else mask_here,
                          iou=float(prediction.ious[best]),
                          presence=float(prediction.object_score), prompt=prediction.prompt,
                          stopped=why)


def _onward(segmenter, frames, first: FrameResult, direction: Direction,
            max_frames: int | None, rules: StopRules,
            cancelled: Callable[[], bool] | None) -> Iterator[FrameResult]:
    for run in _order(first.frame, len(frames), direction, max_frames):
        previous = first
        for index in run:
            if cancelled is not None and cancelled():
                return
            assert previous.mask is not None
            next_prompt = prompt_from_mask(previous.mask)
            if next_prompt is None:
                break
            result = _predict(segmenter, frames, index, next_prompt,
                              previous_area=int(previous.mask.sum()), rules=rules)
            yield result
            if result.stopped:
                break
            previous = result


def _predict(segmenter, frames: FrameSource, index: int, prompt: Prompt,
             previous_area: int | None = None,
             rules: StopRules | None = StopRules()) -> FrameResult:
    encoded = segmenter.encode(frames.frame(index))
    prediction = segmenter.predict(encoded, prompt)
    best = prediction.best_index
    mask = prediction.mask(best)
    iou, presence = float(prediction.ious[best]), float(prediction.object_score)
    why = rules.why(iou, presence, int(mask.sum()), previous_area) if rules else None
    return FrameResult(frame=index, mask=None if why else mask, iou=iou, presence=presence,
                       prompt=prompt, stopped=why)
