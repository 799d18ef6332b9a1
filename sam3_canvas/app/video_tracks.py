"""A followed object written into the clip's frame documents as one track.

Every frame of the track gets an instance with the same ``track_id`` and label; tracking the
same track again from a corrected frame replaces that track's instances on the frames it
reaches and leaves every other instance (other tracks, hand-made ones) as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..document.annotation import Instance
from ..document.records import InstanceSource
from ..video.follow import Direction, FrameResult
from .project import Project


def next_track_id(project: Project, video: Path, size: tuple[int, int]) -> int:
    """One more than the largest track id on any annotated frame of the clip."""
    largest = 0
    for frame in project.annotated_frames(video):
        doc = project.frame_document(video, frame, size)
        largest = max([largest] + [i.track_id or 0 for i in doc.instances])
    return largest + 1


def write_track(project: Project, video: Path, size: tuple[int, int],
                results: Iterable[FrameResult], label: str, start: int,
                track_id: int | None = None,
                direction: Direction = "forward") -> tuple[int, list[int]]:
    """Save each result's mask as an instance of track ``track_id`` (a new id when None) on
    its frame, replacing what that track had there. An existing track tracked again from
    ``start`` also loses its instances on the frames past ``start`` (in ``direction``) that
    the new run did not reach: they followed the old, uncorrected mask. Returns (the track id,
    the frames written)."""
    if track_id is None:
        track_id = next_track_id(project, video, size)
    written: list[int] = []
    for result in results:
        if result.mask is None:
            continue
        doc = project.frame_document(video, result.frame, size)
        for old in [i for i in doc.instances if i.track_id == track_id]:
            doc.remove(old.id)
        source = InstanceSource(kind="track", from_frame=start,
                                points=[list(p) for p in result.prompt.points],
                                labels=list(result.prompt.labels),
                                box=list(result.prompt.box) if result.prompt.box else None)
        doc.insert(Instance.from_mask(doc.next_id(), label, result.mask, score=result.iou,
                                      source=source, track_id=track_id))
        project.save(doc)
        written.append(result.frame)
    beyond = [f for f in project.annotated_frames(video) if f not in written and (
        (direction in ("forward", "both") and f > start) or
        (direction in ("backward", "both") and f < start))]
    for frame in beyond:
        doc = project.frame_document(video, frame, size)
        stale = [i for i in doc.instances if i.track_id == track_id]
        for old in stale:
            doc.remove(old.id)
        if stale:
            project.save(doc)
    if label not in project.labels:
        project.labels.add(label)
        project.save_labels()
    return track_id, written
