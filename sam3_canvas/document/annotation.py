"""One image's annotations: instances with a label and a mask, saved as documented JSON.

The file format is described in docs/annotation-format.md. Masks are COCO RLE strings, so a
file holds holes and many parts exactly and stays small. Instances are frozen: an edit replaces
an instance, which makes every change a value an undo command can hold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..engine.errors import Sam3CanvasError
from ..engine.prompts import Prompt
from . import rle as rle_codec
from .records import DocumentMeta, InstanceSource, Rle

FORMAT = "sam3-canvas/annotation"
#: the folder beside the images that holds their annotation files (and labels.json)
ANNOTATION_DIR = ".sam3-canvas"
#: 2 added a video frame (``image.frame``) and track ids (``instances[].track_id``); a file
#: that uses neither is still written as version 1, so older versions of the app read it
VERSION = 2


class DocumentError(Sam3CanvasError):
    """An annotation file that cannot be read; the message names the file."""


@dataclass(frozen=True)
class Instance:
    id: int
    label: str
    rle: Rle  # the full-size mask
    score: float | None = None  # predicted IoU (or detection score) when it came from a model
    #: how it was made: prompt, candidate, model; or the file it was imported from
    source: InstanceSource = field(default_factory=lambda: InstanceSource())
    hidden: bool = False
    #: the same object on the frames of a clip (video), None on photos
    track_id: int | None = None

    @classmethod
    def from_mask(cls, id: int, label: str, mask: np.ndarray, **kwargs) -> Instance:
        return cls(id=id, label=label, rle=rle_codec.encode(mask), **kwargs)

    def mask(self) -> np.ndarray:
        return rle_codec.decode(self.rle)

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        return rle_codec.bbox(self.rle)

    @property
    def area(self) -> int:
        return rle_codec.area(self.rle)

    def with_label(self, label: str) -> Instance:
        return replace(self, label=label)

    def with_hidden(self, hidden: bool) -> Instance:
        return replace(self, hidden=hidden)

    def with_mask(self, mask: np.ndarray, source: InstanceSource | None = None,
                  score: float | None = None) -> Instance:
        """The same instance (id, label, visibility) with another mask: by default marked as
        edited by hand, its score dropped (a model's IoU no longer describes it)."""
        if source is None:
            source = InstanceSource(**self.source)
            source["edited"] = True
        return replace(self, rle=rle_codec.encode(mask), source=source, score=score)

    def to_json(self) -> dict:
        return {"id": self.id, "label": self.label, "mask": self.rle,
                "bbox": list(self.bbox), "area": self.area, "score": self.score,
                "source": self.source, "hidden": self.hidden,
                **({"track_id": self.track_id} if self.track_id is not None else {})}

    @classmethod
    def from_json(cls, data: dict) -> Instance:
        mask = data["mask"]
        track = data.get("track_id")
        return cls(id=int(data["id"]), label=str(data["label"]),
                   rle=Rle(size=list(mask["size"]), counts=mask["counts"]),
                   score=data.get("score"), source=InstanceSource(**(data.get("source") or {})),
                   hidden=bool(data.get("hidden", False)),
                   track_id=None if track is None else int(track))


def prompt_source(prompt: Prompt, candidate: int, model: str = "") -> InstanceSource:
    return {"kind": "prompt", "points": [list(p) for p in prompt.points],
            "labels": list(prompt.labels), "box": list(prompt.box) if prompt.box else None,
            "candidate": candidate, "model": model}


class Document:
    """The instances of one image, or of one frame of a clip, in drawing order (later ones
    on top)."""

    def __init__(self, image_file: str, width: int, height: int, image_key: str = "",
                 instances: list[Instance] | None = None, meta: DocumentMeta | None = None,
                 next_id: int = 1, frame: int | None = None):
        self.image_file = image_file
        #: the frame's number (from 0) when ``image_file`` is a clip; None for a photo
        self.frame = frame
        self.width = width
        self.height = height
        self.image_key = image_key
        self.instances: list[Instance] = list(instances or [])
        #: what ran on the image (e.g. {"detect": {"classes": [...], "threshold": 0.5}})
        self.meta: DocumentMeta = DocumentMeta(**(meta or {}))
        #: the next id to give; saved, so an id is never given twice in a document (an undo
        #: or a redo that refers to instance 7 can never meet another instance 7)
        self._next_id = max([next_id] + [i.id + 1 for i in self.instances])

    def next_id(self) -> int:
        """A new id, never given before in this document."""
        value = self._next_id
        self._next_id += 1
        return value

    def has(self, instance_id: int) -> bool:
        return any(i.id == instance_id for i in self.instances)

    def get(self, instance_id: int) -> Instance:
        for inst in self.instances:
            if inst.id == instance_id:
                return inst
        raise KeyError(instance_id)

    def index_of(self, instance_id: int) -> int:
        return next(i for i, inst in enumerate(self.instances) if inst.id == instance_id)

    def insert(self, instance: Instance, index: int | None = None) -> None:
        if any(i.id == instance.id for i in self.instances):
            raise ValueError(f"instance {instance.id} already exists")
        self.instances.insert(len(self.instances) if index is None else index, instance)
        self._next_id = max(self._next_id, instance.id + 1)

    def remove(self, instance_id: int) -> tuple[Instance, int]:
        index = self.index_of(instance_id)
        return self.instances.pop(index), index

    def move(self, instance_id: int, index: int) -> int:
        """Put an instance at ``index`` in the drawing order; returns where it was."""
        instance, old = self.remove(instance_id)
        self.instances.insert(max(0, min(index, len(self.instances))), instance)
        return old

    def replace(self, instance: Instance) -> Instance:
        index = self.index_of(instance.id)
        old, self.instances[index] = self.instances[index], instance
        return old

    @property
    def version(self) -> int:
        """The format version this document needs: 1 unless it uses video fields."""
        uses_video = self.frame is not None or any(i.track_id is not None
                                                   for i in self.instances)
        return 2 if uses_video else 1

    def to_json(self) -> dict:
        image = {"file": self.image_file, "width": self.width, "height": self.height,
                 "sha256": self.image_key}
        if self.frame is not None:
            image["frame"] = self.frame
        return {"format": FORMAT, "version": self.version, "image": image,
                "instances": [i.to_json() for i in self.instances],
                "next_id": self._next_id,
                **({"meta": self.meta} if self.meta else {})}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1)

    @classmethod
    def from_json(cls, data: dict, name: str = "annotation") -> Document:
        if data.get("format") != FORMAT:
            raise DocumentError(f"{name}: not a sam3-canvas annotation file")
        if int(data.get("version", 0)) > VERSION:
            raise DocumentError(f"{name}: written by a newer sam3-canvas (format version "
                                f"{data['version']})")
        image = data["image"]
        frame = image.get("frame")
        doc = cls(image["file"], int(image["width"]), int(image["height"]),
                  image.get("sha256", ""), meta=data.get("meta"),
                  next_id=int(data.get("next_id", 1)),
                  frame=None if frame is None else int(frame))
        for item in data.get("instances", []):
            inst = Instance.from_json(item)
            rle_codec.validate(inst.rle)  # a damaged mask must not reach pycocotools
            if list(inst.rle["size"]) != [doc.height, doc.width]:
                raise DocumentError(f"{name}: instance {inst.id} mask is {inst.rle['size']}, "
                                    f"the image is {doc.height} x {doc.width}")
            doc.insert(inst)
        return doc

    @classmethod
    def load(cls, path: str | Path) -> Document:
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DocumentError(f"{path}: cannot be read ({exc})") from None
        try:
            return cls.from_json(data, str(path))
        except (KeyError, TypeError, ValueError) as exc:
            raise DocumentError(f"{path}: malformed annotation ({exc})") from None
