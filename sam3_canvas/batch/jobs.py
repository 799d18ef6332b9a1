"""What a batch job does to one image, given the model: class names to instances (``detect``)
or a box dataset's boxes to masks (``segment --boxes-from``).

A job is a small frozen value: it travels to Ray workers as it is. ``apply`` is the whole
per-image work on an already read image, the same function in one process and on a cluster,
so both write the same annotation files.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..document.annotation import Document, Instance
from ..document.records import BoxesRun, DetectRun
from ..engine.images import SizedImage
from ..engine.prompts import Prompt
from .boxes import BoxPrompt

DETECT_KIND, BOXES_KIND = "detect", "boxes"


@dataclass(frozen=True)
class ModelSpec:
    """How each worker opens the model: a catalogue pack or a folder, on a provider."""

    model: str | None = None
    model_dir: str | None = None
    variant: str | None = None
    models_dir: str | None = None
    provider: str = "cpu"
    threads: int | None = None  # onnxruntime's intra-op threads (None: its default)

    def open(self, kind: str):
        """The engine for ``kind``: a :class:`TextSegmenter` (text) or a :class:`Segmenter`
        (tracker), with an in-memory embedding cache only (every image is seen once)."""
        from ..engine.cache import EmbeddingCache
        from ..models.store import ModelStore
        store = ModelStore(self.models_dir) if self.models_dir else ModelStore()
        if kind == "text":
            from ..engine.text import TextSegmenter
            from ..models.store import text_pack_folder
            folder = self.model_dir or text_pack_folder(store, self.model, self.variant)
            return TextSegmenter(folder, provider=self.provider, threads=self.threads,
                                 cache=EmbeddingCache(256 << 20))
        from ..models.store import open_segmenter
        return open_segmenter(model=self.model, model_dir=self.model_dir, variant=self.variant,
                              provider=self.provider, cache_dir=None, use_disk_cache=False,
                              store=store, threads=self.threads)


@dataclass(frozen=True)
class DetectJob:
    """Every instance of each class name, scored, after a threshold and per-class NMS."""

    classes: tuple[str, ...]
    threshold: float = 0.5
    nms: float = 0.7
    overwrite: bool = False
    model_kind = "text"

    def done(self, doc: Document) -> bool:
        """Already run on this image for the same classes (a rerun skips it)."""
        return not self.overwrite and \
            doc.meta.get("detect", {}).get("classes") == list(self.classes)

    def apply(self, engine, image: SizedImage, doc: Document,
              boxes: tuple[BoxPrompt, ...] = (), encoded=None) -> tuple[int, list[str]]:
        """Replace the image's earlier detections with this run's; returns how many, and
        notes for the user. (``encoded`` is for the tracker's jobs: the text path encodes
        inside ``detect``.)"""
        classes = list(self.classes)
        result = engine.detect(image, classes)
        doc.instances = [i for i in doc.instances if i.source.get("kind") != DETECT_KIND]
        kept = 0
        for detection in result.detections(self.threshold, self.nms):
            doc.insert(Instance.from_mask(
                doc.next_id(), detection.label, detection.mask(),
                score=round(detection.score, 6),
                source={"kind": DETECT_KIND, "classes": classes, "threshold": self.threshold,
                        "query": detection.query}))
            kept += 1
        doc.meta["detect"] = DetectRun(classes=classes, threshold=self.threshold, nms=self.nms)
        notes = [f"{image.name}: {image.note}"] if image.note else []
        notes += [f"{name!r} is longer than {engine.layout.context_length} tokens and was cut"
                  for name in classes if name in engine.truncated]
        return kept, notes


@dataclass(frozen=True)
class BoxesJob:
    """Each box of a box dataset as a box prompt; the best of the three masks is kept."""

    origin: str  # the COCO file's or YOLO folder's name, recorded in each document
    overwrite: bool = False
    model_kind = "tracker"

    def done(self, doc: Document) -> bool:
        return not self.overwrite and doc.meta.get("boxes", {}).get("file") == self.origin

    def apply(self, engine, image: SizedImage, doc: Document,
              boxes: tuple[BoxPrompt, ...] = (), encoded=None) -> tuple[int, list[str]]:
        """Replace the masks an earlier run made from boxes; hand-made instances stay.
        A box that lies off the image is left out with a note; the others are masked.
        ``encoded``: the image's embeddings when a batched encoder run made them already."""
        doc.instances = [i for i in doc.instances if i.source.get("kind") != BOXES_KIND]
        if encoded is None and boxes:
            encoded = engine.encode(image)
        notes = [f"{image.name}: {image.note}"] if image.note else []
        kept = 0
        for box in boxes:
            xyxy = box.in_pixels(image.width, image.height)
            if not (xyxy[2] > xyxy[0] and xyxy[3] > xyxy[1]):
                where = box.source.get("id", box.source.get("line"))
                notes.append(f"{image.name}: box {where} ({box.label}) lies outside the "
                             f"{image.width} x {image.height} image; left out")
                continue
            prediction = engine.predict(encoded, Prompt(box=xyxy))
            best = prediction.best_index
            source = dict(box.source)
            source["candidate"] = best
            doc.insert(Instance.from_mask(doc.next_id(), box.label,
                                          prediction.mask(best, exact=True),
                                          score=round(prediction.ious[best], 6),
                                          source=source))
            kept += 1
        doc.meta["boxes"] = BoxesRun(file=self.origin, boxes=kept)
        return kept, notes


Job = DetectJob | BoxesJob
