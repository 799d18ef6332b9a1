"""Follow an object with SAM3's memory: each frame attends to what earlier frames looked like.

This is transformers' ``Sam3TrackerVideoModel`` propagation for one object, with the networks
in ONNX (``sam3_canvas/engine/memory.py``) and the bookkeeping here, ported rule for rule:

* the frame the user prompted (or gave a mask on) is a *conditioning* frame: its mask is
  remembered with its features, binarised, and its object pointer comes from the decoder (or,
  for a mask, from the decoder run with the mask as its dense prompt);
* every tracked frame attends to up to ``max_cond_frame_num`` conditioning frames (the closest)
  and to the last ``num_maskmem - 1`` tracked frames (looking back in the direction of travel),
  and to the object pointers of the conditioning frames on the near side and of up to
  ``max_object_pointers - 1`` tracked frames, each placed by its distance in frames;
* the decoder then runs on the conditioned features with no prompt, the best of its three
  candidates is the frame's mask, and that mask (through a sigmoid) becomes the frame's memory.

Memories are stored rounded to bfloat16, as transformers stores them. Tracking backward after
forward (``both``) keeps the memories of the forward pass, as one transformers session does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..engine.memory import MemoryGraphs
from ..engine.prediction import Prediction
from ..engine.preprocess import prompt_arrays
from ..engine.prompts import Prompt
from .frames import FrameSource

NO_OBJECT_SCORE = -1024.0  # the mask logit transformers gives a frame without the object
MASK_LOGIT = 10.0  # a given mask as logits: +10 inside, -10 outside (sigmoid ~ 1 and ~ 0)


def to_bfloat16(values: np.ndarray) -> np.ndarray:
    """float32 rounded to the nearest bfloat16 (ties to even), kept as float32."""
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))
    return (rounded & np.uint32(0xFFFF0000)).view(np.float32)


@dataclass
class Remembered:
    features: np.ndarray | None  # the frame's memory [mem_dim, h, w]; None once out of reach
    pointer: np.ndarray  # its object pointer [C]


@dataclass
class MemoryBank:
    """One object's memories over a clip of ``num_frames`` frames."""

    graphs: MemoryGraphs
    num_frames: int
    conditioning: dict[int, Remembered] = field(default_factory=dict)
    tracked: dict[int, Remembered] = field(default_factory=dict)

    def remember(self, frame: int, embedding: np.ndarray, logits: np.ndarray,
                 object_logit: float, pointer: np.ndarray, conditioning: bool) -> None:
        features = self.graphs.encode(embedding, logits, object_logit, binarize=conditioning)
        store = self.conditioning if conditioning else self.tracked
        store[frame] = Remembered(to_bfloat16(features), np.asarray(pointer, np.float32))
        if not conditioning:
            self._forget(frame)

    def _forget(self, frame: int) -> None:
        """Drop the memories no later frame can attend to (1.3 MB a frame: a long clip would
        fill the machine): only the last ``num_maskmem - 1`` frames of this run, and those as
        near a conditioning frame (where a run the other way starts), are ever read again.
        Pointers (1 KB) are kept."""
        reach = self.graphs.settings.num_maskmem
        for old in range(frame - 2 * reach, frame + 2 * reach + 1):
            memory = self.tracked.get(old)
            if memory is None or memory.features is None or abs(old - frame) < reach:
                continue
            if all(abs(old - t) >= reach for t in self.conditioning):
                memory.features = None

    def _closest_conditioning(self, frame: int) -> tuple[dict, dict]:
        """``_select_closest_cond_frames``: (selected, the rest)."""
        limit = self.graphs.settings.max_cond_frame_num
        frames = self.conditioning
        if limit == -1 or len(frames) <= limit:
            return dict(frames), {}
        chosen: dict[int, Remembered] = {}
        before = max((t for t in frames if t < frame), default=None)
        if before is not None:
            chosen[before] = frames[before]
        after = min((t for t in frames if t >= frame), default=None)
        if after is not None:
            chosen[after] = frames[after]
        rest = sorted((t for t in frames if t not in chosen), key=lambda t: abs(t - frame))
        for t in rest[:limit - len(chosen)]:
            chosen[t] = frames[t]
        return chosen, {t: v for t, v in frames.items() if t not in chosen}

    def inputs_for(self, frame: int, reverse: bool) -> dict[str, np.ndarray]:
        """The memory-attention inputs for ``frame`` (transformers' steps 2 and 3)."""
        settings = self.graphs.settings
        step = -1 if reverse else 1
        chosen, unchosen = self._closest_conditioning(frame)
        memories = [(0, m) for m in chosen.values()]
        for offset in range(settings.num_maskmem - 1, 0, -1):
            earlier = frame - offset * step
            memory = self.tracked.get(earlier, unchosen.get(earlier))
            if memory is not None:
                memories.append((offset, memory))
        distances, pointers = [], []
        for t, memory in self.conditioning.items():  # those on the near side only
            if (t >= frame) if reverse else (t <= frame):
                distances.append((frame - t) * step)
                pointers.append(memory.pointer)
        most = min(self.num_frames, settings.max_object_pointers)
        for distance in range(1, most):
            earlier = frame - distance * step
            if earlier < 0 or earlier >= self.num_frames:
                break
            if earlier in self.tracked:
                distances.append(distance)
                pointers.append(self.tracked[earlier].pointer)
        return {
            "memories": np.stack([_kept(m) for _, m in memories]),
            "offsets": np.array([o for o, _ in memories], np.int64),
            "pointers": np.stack(pointers),
            "positions": np.array(distances, np.float32) / max(most - 1, 1),
        }


def _kept(memory: Remembered) -> np.ndarray:
    assert memory.features is not None, "a forgotten memory was chosen"
    return memory.features


def _no_prompt(segmenter) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dtype = segmenter.model.layout.float_dtype
    return (np.zeros((1, 1, 1, 2), dtype), np.full((1, 1, 1), -1, np.int64),
            np.zeros((1, 0, 4), dtype))


def _prediction(segmenter, encoded, prompt: Prompt, out) -> Prediction:
    logits = out.logits if out.object_logit > 0 else np.full_like(out.logits, NO_OBJECT_SCORE)
    return Prediction(prompt=prompt, ious=tuple(float(v) for v in out.ious), logits=logits,
                      object_logit=out.object_logit, image_size=encoded.size,
                      provider=segmenter.provider)


def start_from_prompt(bank: MemoryBank, segmenter, frame: int, encoded,
                      prompt: Prompt) -> Prediction:
    """Prompt ``frame`` (a conditioning frame) and remember it."""
    width, height = encoded.size
    prompt.validate(width, height)
    model = segmenter.model
    arrays = prompt_arrays(prompt, encoded.size, model.layout.model_size,
                           model.layout.float_dtype)
    out = model.decode(encoded.embeddings, *arrays, with_pointer=True)
    prediction = _prediction(segmenter, encoded, prompt, out)
    best = prediction.best_index
    bank.remember(frame, encoded.embeddings["image_embeddings.2"], prediction.logits[best],
                  out.object_logit, out.pointers[best], conditioning=True)
    return prediction


def start_from_mask(bank: MemoryBank, frame: int, encoded, mask: np.ndarray) -> None:
    """Remember ``frame`` from a mask the user has (transformers' ``input_masks``)."""
    import cv2

    size = bank.graphs.settings.mask_size
    height, width = mask.shape
    shrink = width > size or height > size
    scaled = cv2.resize(np.asarray(mask, np.float32), (size, size),
                        interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    binary = (scaled >= 0.5).astype(np.float32)
    present = bool(binary.any())
    pointer = bank.graphs.mask_pointer(encoded.embeddings, binary)
    bank.remember(frame, encoded.embeddings["image_embeddings.2"],
                  binary * (2 * MASK_LOGIT) - MASK_LOGIT,
                  MASK_LOGIT if present else -MASK_LOGIT, pointer, conditioning=True)


def track_frame(bank: MemoryBank, segmenter, frame: int, encoded,
                reverse: bool) -> Prediction:
    """Segment ``frame`` from the memories alone, and remember it."""
    inputs = bank.inputs_for(frame, reverse)
    embedding = encoded.embeddings["image_embeddings.2"]
    conditioned = bank.graphs.attend(embedding, **inputs)
    embeddings = {**encoded.embeddings, "image_embeddings.2": conditioned}
    out = segmenter.model.decode(embeddings, *_no_prompt(segmenter), with_pointer=True)
    prediction = _prediction(segmenter, encoded, Prompt(), out)
    best = prediction.best_index
    bank.remember(frame, embedding, prediction.logits[best], out.object_logit,
                  out.pointers[best], conditioning=False)
    return prediction


def follow_with_memory(segmenter, frames: FrameSource, start: int, runs: list[list[int]],
                       prompt: Prompt | None = None, mask: np.ndarray | None = None,
                       judge: Callable[[int, Prediction], str | None] | None = None,
                       cancelled: Callable[[], bool] | None = None) -> Iterator:
    """Yield ``(frame, prediction, why)``: the start frame first when it was prompted, then
    every frame of each run in ``runs`` (frame numbers in the order to visit) until
    ``judge(frame, prediction)`` gives a reason to stop (``why``), which ends that run."""
    bank = MemoryBank(segmenter.model.memory, len(frames))
    encoded = segmenter.encode(frames.frame(start))
    if mask is not None:
        start_from_mask(bank, start, encoded, mask)
    else:
        assert prompt is not None
        yield start, start_from_prompt(bank, segmenter, start, encoded, prompt), None
    for run in runs:
        reverse = bool(run) and run[0] < start
        for index in run:
            if cancelled is not None and cancelled():
                return
            encoded = segmenter.encode(frames.frame(index))
            prediction = track_frame(bank, segmenter, index, encoded, reverse)
            why = judge(index, prediction) if judge is not None else None
            yield index, prediction, why
            if why:
                break
