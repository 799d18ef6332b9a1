"""A clip's tracks as the datasets video code reads them.

* ``davis``: per-frame instance-id PNGs in the DAVIS / YouTube-VOS layout that video object
  segmentation code reads (``Annotations/<clip>/<frame, 5 digits>.png``, value = track id, 0 =
  background; palette PNGs as DAVIS ships them while every id is below 256, 16-bit grey
  otherwise), with ``tracks.json`` naming each track's label; ``--copy-images`` adds
  ``JPEGImages/<clip>/<frame>.jpg``. Read back by :func:`read_davis`.
* ``coco-video``: COCO with ``videos``, images with ``video_id`` and ``frame_id``, and
  annotations with ``track_id`` (and ``instance_id``, the key mmtracking's CocoVID reads) and
  the mask as RLE: the "COCO video" layout of TAO, YouTube-VIS converters and mmtracking.
* ``mot``: MOTChallenge boxes, ``<clip>/gt/gt.txt`` (``frame, id, left, top, width, height,
  1, class, 1``, frames from 1) with ``seqinfo.ini`` and ``labels.txt`` for the class numbers.

Instances without a track id (drawn on a frame by hand) have no place in a per-object layout:
they are counted and named in the warnings, not exported.
"""

from __future__ import annotations

import configparser
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from ..document.annotation import Document
from ..document.labels import LabelSet, colour_for

VIDEO_FORMATS = {
    "davis": "per-frame track-id PNGs (DAVIS / YouTube-VOS layout) and tracks.json",
    "coco-video": "COCO with videos, frame ids and track ids, masks as RLE",
    "mot": "MOTChallenge gt.txt boxes with track ids",
}


@dataclass
class VideoExport:
    frames: int = 0
    instances: int = 0
    tracks: set[int] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)


def _tracked(docs: dict[int, Document], report: VideoExport):
    untracked = 0
    for frame in sorted(docs):
        instances = [i for i in docs[frame].instances if i.track_id is not None]
        untracked += len(docs[frame].instances) - len(instances)
        yield frame, docs[frame], instances
    if untracked:
        report.warnings.append(f"{untracked} instance(s) without a track id (drawn on single "
                               "frames) are not in a per-track format")


def _track_labels(docs: dict[int, Document]) -> dict[int, str]:
    labels: dict[int, str] = {}
    for doc in docs.values():
        for inst in doc.instances:
            if inst.track_id is not None:
                labels.setdefault(inst.track_id, inst.label)
    return labels


def export_davis(docs: dict[int, Document], clip: str, out: Path, frames=None) -> VideoExport:
    """``frames``: a FrameSource to copy the annotated frames as JPEG (None: masks only)."""
    report = VideoExport()
    stem = Path(clip).stem
    labels = _track_labels(docs)
    palette_ok = all(t < 255 for t in labels)  # 255 is "void" in DAVIS palettes
    folder = out / "Annotations" / stem
    folder.mkdir(parents=True, exist_ok=True)
    for frame, doc, instances in _tracked(docs, report):
        ids = np.zeros((doc.height, doc.width), np.uint16)
        for inst in instances:  # drawing order: later ones on top
            ids[inst.mask()] = inst.track_id
            report.tracks.add(int(inst.track_id))
        report.instances += len(instances)
        if palette_ok:
            image = Image.fromarray(ids.astype(np.uint8), mode="P")
            palette = [0, 0, 0] + [c for t in range(1, 256) for c in colour_for(t)]
            image.putpalette(palette)
        else:
            image = Image.fromarray(ids, mode="I;16")
        image.save(folder / f"{frame:05d}.png")
        if frames is not None:
            images = out / "JPEGImages" / stem
            images.mkdir(parents=True, exist_ok=True)
            Image.fromarray(frames.frame(frame).rgb).save(images / f"{frame:05d}.jpg",
                                                          quality=95)
        report.frames += 1
    (out / "tracks.json").write_text(json.dumps(
        {"video": clip, "tracks": [{"track_id": t, "label": labels[t]} for t in sorted(labels)]},
        indent=1))
    return report


def export_coco_video(docs: dict[int, Document], clip: str, out: Path, width: int,
                      height: int, fps: float, labels: LabelSet) -> VideoExport:
    report = VideoExport()
    names = [c.name for c in labels] + sorted({i.label for d in docs.values()
                                               for i in d.instances if i.label not in labels})
    categories = [{"id": n + 1, "name": name, "supercategory": ""} for n, name in
                  enumerate(names)]
    category = {c["name"]: c["id"] for c in categories}
    images: list[dict] = []
    annotations: list[dict] = []
    for frame, _doc, instances in _tracked(docs, report):
        image_id = len(images) + 1
        images.append({"id": image_id, "video_id": 1, "frame_id": frame,
                       "file_name": f"{Path(clip).stem}/{frame:05d}.jpg",
                       "width": width, "height": height})
        for inst in instances:
            x, y, w, h = inst.bbox
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "video_id": 1,
                "track_id": inst.track_id, "instance_id": inst.track_id,
                "category_id": category[inst.label], "bbox": [x, y, w, h],
                "area": inst.area, "iscrowd": 0,
                "segmentation": {"size": list(inst.rle["size"]),
                                 "counts": inst.rle["counts"]}})
            report.tracks.add(int(inst.track_id))
        report.instances += len(instances)
        report.frames += 1
    data = {"info": {"description": f"{clip}, exported by sam3-canvas"},
            "videos": [{"id": 1, "name": Path(clip).stem, "file_name": clip, "width": width,
                        "height": height, "fps": fps, "length": len(images)}],
            "images": images, "annotations": annotations, "categories": categories}
    (out / "annotations.json").write_text(json.dumps(data))
    return report


def export_mot(docs: dict[int, Document], clip: str, out: Path, width: int, height: int,
               fps: float, length: int, labels: LabelSet) -> VideoExport:
    report = VideoExport()
    stem = Path(clip).stem
    names = [c.name for c in labels] + sorted({i.label for d in docs.values()
                                               for i in d.instances if i.label not in labels})
    rows = []
    for frame, _doc, instances in _tracked(docs, report):
        for inst in instances:
            x, y, w, h = inst.bbox
            rows.append(f"{frame + 1},{inst.track_id},{x},{y},{w},{h},1,"
                        f"{names.index(inst.label) + 1},1")
            report.tracks.add(int(inst.track_id))
        report.instances += len(instances)
        report.frames += 1
    gt = out / stem / "gt"
    gt.mkdir(parents=True, exist_ok=True)
    (gt / "gt.txt").write_text("".join(r + "\n" for r in rows))
    info = configparser.ConfigParser()
    info.optionxform = str  # type: ignore[assignment, method-assign]
    info["Sequence"] = {"name": stem, "imDir": "img1", "frameRate": f"{fps:g}",
                        "seqLength": str(length), "imWidth": str(width),
                        "imHeight": str(height), "imExt": ".jpg"}
    with open(out / stem / "seqinfo.ini", "w") as f:
        info.write(f, space_around_delimiters=False)
    (out / "labels.txt").write_text("".join(f"{n + 1} {name}\n" for n, name in
                                            enumerate(names)))
    return report


@dataclass
class ReadTrack:
    frames: dict[int, np.ndarray]  # frame -> bool mask
    label: str


def read_davis(source: Path) -> tuple[dict[int, ReadTrack], list[str]]:
    """Tracks from a folder of per-frame id PNGs (ours, DAVIS, YouTube-VOS: the frame number
    is the last number in the file name) and the ``tracks.json`` beside it if there is one
    (labels; else "object"); returns (track id -> track, problems)."""
    problems: list[str] = []
    folder = source
    if (source / "Annotations").is_dir():
        subs = [p for p in (source / "Annotations").iterdir() if p.is_dir()]
        if len(subs) != 1:
            raise ValueError(f"{source}/Annotations holds {len(subs)} clips; give one clip's "
                             "folder")
        folder = subs[0]
    labels: dict[int, str] = {}
    for where in (source / "tracks.json", folder / "tracks.json"):
        if where.is_file():
            try:
                data = json.loads(where.read_text(encoding="utf-8"))
                labels = {int(t["track_id"]): str(t["label"]) for t in data["tracks"]}
            except (ValueError, KeyError, TypeError) as exc:
                problems.append(f"{where.name}: unreadable ({exc}); labels are 'object'")
    tracks: dict[int, ReadTrack] = {}
    for path in sorted(folder.glob("*.png")):
        numbers = re.findall(r"\d+", path.stem)
        if not numbers:
            problems.append(f"{path.name}: no frame number in the name")
            continue
        frame = int(numbers[-1])
        try:
            with Image.open(path) as image:
                image.load()
                ids = np.asarray(image if image.mode in ("P", "L", "I;16", "I") else
                                 image.convert("L"))
        except (OSError, ValueError) as exc:
            problems.append(f"{path.name}: cannot be read ({exc})")
            continue
        for track_id in np.unique(ids):
            if track_id == 0 or (image.mode == "P" and track_id == 255):  # 255: DAVIS void
                continue
            track = tracks.setdefault(int(track_id), ReadTrack({}, labels.get(int(track_id),
                                                                               "object")))
            track.frames[frame] = ids == track_id
    return tracks, problems
