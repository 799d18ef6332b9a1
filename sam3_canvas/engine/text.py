"""Text prompts: class names to every matching instance, through SAM3's language path.

The image encoder runs once per image (cached like the click path's embeddings), the language
encoder once per distinct class name (memory cache; disk cache when a cache folder is given),
the decoder once per class. Layout A thresholds inside the graph (0.5, frozen) and returns
masks at the original size; its boxes are not trusted (the legacy export may scale them by a
frozen 1008) and are taken from the masks instead. Layout A2 returns raw heads; scoring
(sigmoid(logit) x sigmoid(presence)), the threshold, per-class NMS and mask upsampling are
done here, so the threshold moves without running a model, and only the detections that are
kept are upsampled, inside their own region.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .cache import EmbeddingCache
from .device import (
    DEVICE_OF,
    CacheWriter,
    DeviceEmbeddings,
    bindable,
    binding_wanted,
    run_from_device,
    run_to_device,
)
from .errors import LayoutError, PromptError
from .feeds import build_feed
from .identity import memo_path, model_identity
from .images import LoadedImage, SizedImage, image_from_array, load_image
from .layouts import specs
from .packfiles import find_text_files
from .postprocess import mask_bbox, upsample_mask
from .sessions import open_session, run_graph
from .text_layouts import LANGUAGE_LINKS, TextLayout, text_layout
from .tokenizer import ClipTokenizer, Tokens, default_tokenizer

IMAGE_ENCODER, LANGUAGE_ENCODER, DECODER = ("sam3_image_encoder.onnx",
                                            "sam3_language_encoder.onnx", "sam3_decoder.onnx")
DEFAULT_THRESHOLD = 0.5
DEFAULT_NMS_IOU = 0.7
NO_TEXT = "visual"  # upstream's prompt for exemplar-only queries (all-padding text is noise)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))


@dataclass(frozen=True)
class Exemplar:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in image pixels
    positive: bool = True


@dataclass(frozen=True, eq=False)
class Detection:
    label: str
    score: float
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in image pixels
    query: int
    _result: ClassResult = field(repr=False)

    def mask(self) -> np.ndarray:
        return self._result.mask(self.query)


@dataclass(eq=False)
class ClassResult:
    """One class on one image: every query's score, kept before any threshold."""

    label: str
    layout: str
    image_size: tuple[int, int]
    scores: np.ndarray  # (Q,)
    boxes: np.ndarray  # (Q, 4) xyxy image pixels
    logits: np.ndarray | None = None  # A2: (Q, h, w) low-res mask logits
    masks: np.ndarray | None = None  # A: (Q, H, W) bool at full size
    timings: dict = field(default_factory=dict)
    _full: dict = field(default_factory=dict)

    def mask(self, query: int) -> np.ndarray:
        if self.masks is not None:
            return self.masks[query]
        if query not in self._full:
            if self.logits is None:
                raise ValueError("a text result has either full-size masks or logits")
            width, height = self.image_size
            self._full[query] = upsample_mask(self.logits[query], width, height)
        return self._full[query]

    def detections(self, threshold: float = DEFAULT_THRESHOLD,
                   nms_iou: float = DEFAULT_NMS_IOU) -> list[Detection]:
        """Kept detections, best first: score above ``threshold``, then non-maximum
        suppression by mask IoU (on the low-res masks: cheap, and no upsampling)."""
        order = [int(q) for q in np.argsort(-self.scores, kind="stable")
                 if self.scores[q] > threshold]
        kept: list[int] = []
        small = self._nms_masks(order)
        for q in order:
            if all(_iou(small[q], small[k]) <= nms_iou for k in kept):
                kept.append(q)
        return [Detection(self.label, float(self.scores[q]), _box(self.boxes[q]), q, self)
                for q in kept]

    def _nms_masks(self, queries: list[int]) -> dict[int, np.ndarray]:
        if self.logits is not None:
            return {q: self.logits[q] > 0 for q in queries}
        import cv2
        assert self.masks is not None
        return {q: cv2.resize(self.masks[q].view(np.uint8), (256, 256),
                              interpolation=cv2.INTER_AREA) > 0 for q in queries}


def _box(row: np.ndarray) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in row[:4])
    return x0, y0, x1, y1


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 0.0


@dataclass(eq=False)
class TextResult:
    image: LoadedImage | SizedImage
    classes: list[ClassResult]
    timings: dict = field(default_factory=dict)

    def detections(self, threshold: float = DEFAULT_THRESHOLD,
                   nms_iou: float = DEFAULT_NMS_IOU) -> list[Detection]:
        out = []
        for result in self.classes:
            out.extend(result.detections(threshold, nms_iou))
        return out


def parse_classes(text: str | list[str]) -> list[str]:
    """"person, car" or "person. car" or a list -> distinct, stripped names, in order."""
    parts = text if isinstance(text, list) else text.replace(".", ",").split(",")
    names = []
    for part in parts:
        name = " ".join(str(part).split())
        if name and name not in names:
            names.append(name)
    return names


class TextSegmenter:
    def __init__(self, folder: str | os.PathLike, provider: str = "cpu",
                 cache: EmbeddingCache | None = None, tokenizer: ClipTokenizer | None = None,
                 max_pixels: int | None = None, threads: int | None = None,
                 device_binding: bool | None = None):
        """``device_binding``: keep the image features on the device for the decoder (IO
        binding; default: on a GPU)."""
        folder = Path(folder)
        files = find_text_files(folder)  # the pack's root, or sam3/ as nrl-ai publishes it
        paths = [files.image_encoder, files.language_encoder, files.decoder]
        self.image_encoder, self.image_info = open_session(paths[0], provider, threads)
        self.language_encoder, self.language_info = open_session(paths[1], provider, threads)
        self.decoder, self.decoder_info = open_session(paths[2], provider, threads)
        self.layout: TextLayout = text_layout(
            self.image_encoder.get_inputs(), self.image_encoder.get_outputs(),
            self.language_encoder.get_inputs(), self.language_encoder.get_outputs(),
            self.decoder.get_inputs(), self.decoder.get_outputs(),
            names=tuple(p.name for p in paths))
        pack_tokenizer = next((f / "clip_tokenizer.json" for f in (files.folder, folder)
                               if (f / "clip_tokenizer.json").is_file()), None)
        self.tokenizer = tokenizer or (ClipTokenizer.from_pack_json(pack_tokenizer)
                                       if pack_tokenizer is not None else default_tokenizer())
        self._inputs = {graph: specs(session.get_inputs()) for graph, session in (
            ("image", self.image_encoder), ("language", self.language_encoder),
            ("decoder", self.decoder))}
        self.cache = cache or EmbeddingCache(1 << 30)
        memo = memo_path(self.cache.disk.root if self.cache.disk is not None else None)
        self.image_identity = "text-" + model_identity(paths[0], memo)
        self.language_identity = model_identity(paths[1], memo)
        self.max_pixels = max_pixels
        self.device_binding = binding_wanted({self.image_info.active,
                                              self.decoder_info.active}, device_binding)
        self._writer = CacheWriter(self.cache)  # features left on the device -> the cache
        self._text_cache: dict[str, dict[str, np.ndarray]] = {}
        self.truncated: list[str] = []  # prompts cut at the context length

    @property
    def provider(self) -> str:
        return self.image_info.active

    @property
    def fallback_reason(self) -> str | None:
        """Why a graph does not run where it was asked to (shown like the tracker's)."""
        return self.image_info.fallback_reason or self.language_info.fallback_reason or \
            self.decoder_info.fallback_reason

    # -- image --------------------------------------------------------------------------
    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) the image encoder takes: a batch job's readers resize to it."""
        return self.layout.image_size

    def encode_image(self, source) -> tuple[LoadedImage | SizedImage,
                                            Mapping[str, np.ndarray], dict]:
        """The image's features: from the caches, or a run of the image encoder (left on the
        device, as :class:`DeviceEmbeddings`, when binding)."""
        start = time.perf_counter()
        image = source if isinstance(source, (LoadedImage, SizedImage)) else (
            image_from_array(source, self.max_pixels) if isinstance(source, np.ndarray)
            else load_image(source, self.max_pixels))
        timings = {"read": (time.perf_counter() - start) * 1000.0}
        dtypes = {n: np.float32 for n in self.layout.feature_names}
        cached, where = self.cache.get(image.key, self.image_identity, dtypes)
        if cached is not None:
            timings["encode"] = 0.0
            return image, cached, timings
        t0 = time.perf_counter()
        width, height = self.layout.image_size
        resized = image.at_size(width, height)
        if self.layout.image_dtype == np.uint8:
            pixels = np.ascontiguousarray(resized.transpose(2, 0, 1))
        else:  # older exports: normalised float NCHW
            pixels = ((resized.astype(np.float32) / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
            pixels = pixels.astype(self.layout.image_dtype)
        what = "the text pack's image encoder"
        feed = build_feed(self._inputs["image"], {self.layout.image_input: pixels}, what)
        names = list(self.layout.feature_names)
        if self.device_binding:
            device = DEVICE_OF.get(self.image_info.active, "cpu")
            on_device = run_to_device(self.image_encoder, feed, names, device, what)[0]
            timings["encode"] = (time.perf_counter() - t0) * 1000.0
            self._writer.put(image.key, self.image_identity, on_device, image.name)
            return image, on_device, timings
        features = dict(zip(names, run_graph(self.image_encoder, names, feed, what)))
        timings["encode"] = (time.perf_counter() - t0) * 1000.0
        self.cache.put(image.key, self.image_identity, features)
        return image, features, timings

    def flush(self) -> None:
        """Wait until every image's features left on the device are in the cache."""
        self._writer.flush()

    # -- text ---------------------------------------------------------------------------
    def tokens(self, name: str) -> Tokens:
        return self.tokenizer(name, context=self.layout.context_length)

    def encode_text(self, name: str) -> dict[str, np.ndarray]:
        """The decoder's language inputs for a class name (``language_mask``,
        ``language_features`` and, where the decoder takes it, ``language_embeds``),
        computed once per name."""
        if name in self._text_cache:
            return self._text_cache[name]
        tokens = self.tokens(name)
        if tokens.truncated:
            self.truncated.append(name)
        key = hashlib.sha256(tokens.ids.tobytes()).hexdigest()
        wanted = self.layout.language_outputs
        dtypes = {LANGUAGE_LINKS[n]: np.bool_ if n == "text_attention_mask" else np.float32
                  for n in wanted}
        cached, _ = self.cache.get(key, "lang-" + self.language_identity, dtypes)
        if cached is None:
            what = "the language encoder"
            feed = build_feed(self._inputs["language"], {"tokens": tokens.ids}, what)
            outs = run_graph(self.language_encoder, list(wanted), feed, what)
            cached = {LANGUAGE_LINKS[n]: np.asarray(v).astype(dtypes[LANGUAGE_LINKS[n]])
                      for n, v in zip(wanted, outs)}
            self.cache.put(key, "lang-" + self.language_identity, cached)
        value = {k: np.asarray(v).astype(dtypes[k]) for k, v in cached.items()}
        self._text_cache[name] = value
        return value

    # -- decoding -----------------------------------------------------------------------
    def detect(self, source, classes: list[str] | str,
               exemplars: Sequence[Exemplar] = ()) -> TextResult:
        names = parse_classes(classes)
        if not names and not exemplars:
            raise PromptError("no class name: type one or more, separated by commas")
        if len(exemplars) > self.layout.box_capacity:
            if self.layout.box_capacity == 0:
                raise PromptError("this pack's decoder takes no exemplar boxes")
            raise PromptError(f"this pack takes at most {self.layout.box_capacity} exemplar "
                              f"box(es) per query, {len(exemplars)} were given")
        image, features, timings = self.encode_image(source)
        results = []
        for name in names or [NO_TEXT]:
            t0 = time.perf_counter()
            language = self.encode_text(name)
            t1 = time.perf_counter()
            values = {"original_height": np.array(image.height, np.int64),
                      "original_width": np.array(image.width, np.int64),
                      **language, **self._boxes(exemplars, image)}
            outs = self._decode(values, features)
            t2 = time.perf_counter()
            result = self._read(name if names else "object", outs, image)
            result.timings.update(text=(t1 - t0) * 1000.0, decode=(t2 - t1) * 1000.0)
            results.append(result)
        return TextResult(image, results, timings)

    def _decode(self, values: dict[str, np.ndarray], features: Mapping[str, np.ndarray]
                ) -> dict[str, np.ndarray]:
        """One decoder run; features on the device are bound where they lie when the decoder
        takes them in their dtype, else read back and cast like host ones."""
        what = "the text decoder"
        inputs = self._inputs["decoder"]
        outputs = [o.name for o in self.decoder.get_outputs()]
        if isinstance(features, DeviceEmbeddings) and bindable(features, inputs):
            host = {k: v for k, v in inputs.items() if k not in features}
            feed = build_feed(host, {k: v for k, v in values.items() if k in host}, what)
            return dict(zip(outputs, run_from_device(self.decoder, feed, features, outputs,
                                                     what)))
        values = {**values, **features}
        feed = build_feed(inputs, {k: v for k, v in values.items() if k in inputs}, what)
        return dict(zip(outputs, run_graph(self.decoder, outputs, feed, what)))

    def _boxes(self, exemplars, image: LoadedImage | SizedImage) -> dict[str, np.ndarray]:
        k = max(self.layout.box_capacity, 1)  # (not fed when the decoder takes no boxes)
        coords = np.zeros((k, 1, 4), np.float32)
        labels = np.ones((k, 1), np.int64)
        padding = np.ones((1, k), bool)
        for i, ex in enumerate(exemplars):
            x1, y1, x2, y2 = ex.box
            if x2 <= x1 or y2 <= y1:
                raise PromptError(f"exemplar box {ex.box} is empty or inverted")
            coords[i, 0] = [(x1 + x2) / 2 / image.width, (y1 + y2) / 2 / image.height,
                            (x2 - x1) / image.width, (y2 - y1) / image.height]
            labels[i, 0] = 1 if ex.positive else 0
            padding[0, i] = False
        return {"box_coords": coords, "box_labels": labels, "box_masks": padding}

    def _read(self, label: str, outs: dict, image: LoadedImage | SizedImage) -> ClassResult:
        size = (image.width, image.height)
        if self.layout.name == "A":
            masks = outs["masks"][:, 0].astype(bool)
            boxes = np.array([mask_bbox(m) or (0, 0, 0, 0) for m in masks],
                             dtype=np.float64).reshape(-1, 4)
            return ClassResult(label, "A", size, outs["scores"].astype(np.float64), boxes,
                               masks=masks)
        boxes = outs["pred_boxes"].reshape(-1, 4).astype(np.float64)
        logits = outs["pred_logits"].reshape(-1).astype(np.float64)
        if logits.size != len(boxes):
            raise LayoutError(f"{DECODER}: pred_logits holds {logits.size} values for "
                              f"{len(boxes)} queries (expected [1, Q, 1])")
        scores = _sigmoid(logits) * _sigmoid(float(outs["presence_logit_dec"].reshape(-1)[0]))
        cx, cy, w, h = boxes.T
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1) * \
            np.array([image.width, image.height, image.width, image.height])
        return ClassResult(label, "A2", size, scores, boxes,
                           logits=outs["pred_masks"][0].astype(np.float32))
