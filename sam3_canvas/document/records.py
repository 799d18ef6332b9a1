"""The typed shapes of what an annotation file holds besides pixels.

They are ``TypedDict``s, not classes: the values stay the plain JSON dicts that the file
format (docs/annotation-format.md) documents, while the type checker knows every key that any
part of the program writes. ``total=False`` because files written by older versions, or by
hand, may leave keys out; readers use ``.get``.
"""

from __future__ import annotations

from typing import Literal, TypedDict

#: how an instance was made
SourceKind = Literal["prompt", "text", "detect", "import", "manual", "track", "boxes"]
#: the hand tool a "manual" instance was drawn with
ManualTool = Literal["brush", "polygon"]
#: the dataset format an imported instance came from
ImportFormat = Literal["coco", "yolo", "labelme", "voc", "png", "davis"]


class Rle(TypedDict):
    """A mask as COCO compressed run-length encoding (what pycocotools reads)."""

    size: list[int]  # [height, width]
    counts: str


class InstanceSource(TypedDict, total=False):
    """How an instance was made; ``kind`` says which of the other keys are there."""

    kind: SourceKind
    #: changed by hand (brush, eraser, polygon, clean-ups) after it was made
    edited: bool
    # kind "manual": drawn from nothing with a hand tool
    tool: ManualTool
    # kind "prompt": the clicks and box, the candidate picked (0..2), the model's identity
    points: list[list[float]]
    labels: list[int]
    box: list[float] | None
    candidate: int
    model: str
    # kind "text" (the app) and "detect" (the CLI): the class names asked for, the query slot
    classes: str | list[str]
    query: int
    threshold: float
    # kind "boxes" (``segment --boxes-from``): a box of a box dataset as the prompt (``box``),
    # with that dataset's identity of it as for an import (``format``, ``file``, ``id``...)
    # kind "import": the format and file it came from, and that format's own identity of it,
    # kept so that an export to the same format writes the same ids back
    format: ImportFormat
    file: str
    line: int  # YOLO: the label line
    shape: str  # labelme: the shape, or "group-N" for shapes merged by group_id
    object: int  # VOC: the object number in SegmentationObject
    id: int | None  # COCO: the annotation id (None: not an integer); PNG id maps: the value
    iscrowd: int
    image_id: int
    category_id: int
    supercategory: str
    # kind "track": followed from this frame of the clip (``points``, ``box``: the prompt the
    # frame got from the previous one)
    from_frame: int


class DetectRun(TypedDict, total=False):
    """The last ``sam3-canvas detect`` run on an image (so a rerun can replace its results)."""

    classes: list[str]
    threshold: float
    nms: float


class BoxesRun(TypedDict, total=False):
    """The last ``sam3-canvas segment --boxes-from`` run on an image."""

    file: str  # the COCO file or YOLO folder the boxes came from (its name)
    boxes: int


class DocumentMeta(TypedDict, total=False):
    """What ran on an image as a whole."""

    detect: DetectRun
    boxes: BoxesRun
