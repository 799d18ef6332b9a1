"""A followed object written into the clip's frame documents as one track.

Every frame of the track gets an instance with the same ``track_id`` and label; tracking the
same track again from a corrected frame replaces that track's instances on the frames it
reaches, and removes them from the frames past the start (in the direction tracked) that the
new run did not reach: they followed the old, uncorrected mask. Every other instance (other
tracks, hand-made ones) stays as it is. In the window the whole change is one undoable step
(:func:`cmd_track`); the CLI writes it directly (:func:`write_track`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..document.annotation import Document, Instance
from ..document.records import InstanceSource
from ..video.follow import Direction, FrameResult
from ..video.text_tracks import FrameDetections
from .commands import Command, Compound, DocumentCommand
from .project import Project

if TYPE_CHECKING:
    from .editor import Editor


def next_track_id(project: Project, video: Path, size: tuple[int, int]) -> int:
    """One more than the largest track id on any annotated (or open) frame of the clip."""
    largest = 0
    for frame in project.known_frames(video):
        doc = project.frame_document(video, frame, size)
        largest = max([largest] + [i.track_id or 0 for i in doc.instances])
    return largest + 1


def plan_track(project: Project, video: Path, size: tuple[int, int],
               results: Iterable[FrameResult], label: str, start: int, track_id: int,
               direction: Direction = "forward") -> list[tuple[Document, list[Instance]]]:
    """The new instance list of every frame document the track changes (nothing saved)."""
    changes: dict[int, tuple[Document, list[Instance]]] = {}

    def instances_of(frame: int) -> tuple[Document, list[Instance]]:
        if frame not in changes:
            doc = project.frame_document(video, frame, size)
            changes[frame] = (doc, list(doc.instances))
        return changes[frame]

    reached = set()
    for result in results:
        if result.mask is None:
            continue
        doc, instances = instances_of(result.frame)
        instances[:] = [i for i in instances if i.track_id != track_id]
        source = InstanceSource(kind="track", from_frame=start,
                                points=[list(p) for p in result.prompt.points],
                                labels=list(result.prompt.labels),
                                box=list(result.prompt.box) if result.prompt.box else None)
        instances.append(Instance.from_mask(doc.next_id(), label, result.mask,
                                            score=result.iou, source=source,
                                            track_id=track_id))
        reached.add(result.frame)
    for frame in sorted(set(project.known_frames(video)) - reached - {start}):
        if (direction in ("forward", "both") and frame > start) or \
                (direction in ("backward", "both") and frame < start):
            doc, instances = instances_of(frame)
            instances[:] = [i for i in instances if i.track_id != track_id]
    return [(doc, instances) for doc, instances in changes.values()
            if instances != doc.instances]


def write_track(project: Project, video: Path, size: tuple[int, int],
                results: Iterable[FrameResult], label: str, start: int,
                track_id: int | None = None,
                direction: Direction = "forward") -> tuple[int, list[int]]:
    """Save each result's mask as an instance of track ``track_id`` (a new id when None) on
    its frame, as described above; returns (the track id, the frames written)."""
    if track_id is None:
        track_id = next_track_id(project, video, size)
    results = list(results)
    for doc, instances in plan_track(project, video, size, results, label, start, track_id,
                                     direction):
        doc.instances = instances
        project.save(doc)
    if label not in project.labels:
        project.labels.add(label)
        project.save_labels()
    return track_id, [r.frame for r in results if r.mask is not None]


class SetInstances(DocumentCommand):
    """One frame document's instances, before and after."""

    def __init__(self, editor: Editor, doc: Document, before: list[Instance],
                 after: list[Instance]):
        super().__init__(editor, doc)
        self.before, self.after = list(before), list(after)

    def redo(self) -> None:
        self.doc.instances = list(self.after)
        self.changed()

    def undo(self) -> None:
        self.doc.instances = list(self.before)
        self.changed()


def cmd_track(editor: Editor, video: Path, size: tuple[int, int], start: int,
              instance_id: int, results: Iterable[FrameResult],
              direction: Direction = "forward") -> Command | None:
    """The instance ``instance_id`` of frame ``start`` followed to the ``results``' frames,
    as one undoable step: it becomes (or stays) a track, and its track gets those frames."""
    project = editor.project
    start_doc = project.frame_document(video, start, size)
    if not start_doc.has(instance_id):
        return None
    instance = start_doc.get(instance_id)
    track_id = instance.track_id or next_track_id(project, video, size)
    commands: list[Command] = []
    if instance.track_id is None:
        after = [replace(i, track_id=track_id) if i.id == instance_id else i
                 for i in start_doc.instances]
        commands.append(SetInstances(editor, start_doc, start_doc.instances, after))
    for doc, instances in plan_track(project, video, size, results, instance.label, start,
                                     track_id, direction):
        commands.append(SetInstances(editor, doc, doc.instances, instances))
    if not commands:
        return None
    return Compound(f"track {instance.label} ({len(commands)} frames)", commands)


def track_frames(project: Project, video: Path, size: tuple[int, int],
                 track_id: int) -> list[int]:
    """The frames that have an instance of track ``track_id``, in order."""
    return [f for f in project.known_frames(video)
            if any(i.track_id == track_id
                   for i in project.frame_document(video, f, size).instances)]


def _on_every_frame(editor: Editor, video: Path, size: tuple[int, int], track_id: int,
                    change, text: str) -> Command | None:
    project = editor.project
    commands: list[Command] = []
    for frame in track_frames(project, video, size, track_id):
        doc = project.frame_document(video, frame, size)
        after = [new for i in doc.instances
                 for new in ([change(i)] if i.track_id == track_id else [i])
                 if new is not None]
        commands.append(SetInstances(editor, doc, doc.instances, after))
    return Compound(text, commands) if commands else None


def cmd_delete_track(editor: Editor, video: Path, size: tuple[int, int],
                     track_id: int) -> Command | None:
    """Every frame's instance of the track, gone, as one undoable step."""
    return _on_every_frame(editor, video, size, track_id, lambda i: None,
                           f"delete track {track_id}")


def cmd_relabel_track(editor: Editor, video: Path, size: tuple[int, int], track_id: int,
                      label: str) -> Command | None:
    """Every frame's instance of the track, relabelled, as one undoable step."""
    editor.use_label(label)  # a new label joins the label set
    return _on_every_frame(editor, video, size, track_id, lambda i: i.with_label(label),
                           f"relabel track {track_id} as {label}")


def write_detected_tracks(project: Project, video: Path, size: tuple[int, int],
                          frames: Iterable[FrameDetections], classes: list[str]) -> dict:
    """Text detections joined into tracks, saved on their frames: ByteTrack's ids become
    track ids after the clip's existing ones; a frame done before for any classes has its
    earlier detections replaced. Returns counts (frames, instances, tracks)."""
    offset = next_track_id(project, video, size) - 1
    tracks: set[int] = set()
    frames_done = instances = 0
    for result in frames:
        doc = project.frame_document(video, result.frame, size)
        doc.instances = [i for i in doc.instances if i.source.get("kind") != "detect"]
        for found in result.detections:
            doc.insert(Instance.from_mask(
                doc.next_id(), found.label, found.mask, score=round(found.score, 6),
                source=InstanceSource(kind="detect", classes=list(classes)),
                track_id=offset + found.track_id))
            tracks.add(offset + found.track_id)
            if found.label not in project.labels:
                project.labels.add(found.label)
                project.save_labels()
        project.save(doc)
        frames_done += 1
        instances += len(result.detections)
    return {"frames": frames_done, "instances": instances, "tracks": len(tracks)}


def track_spans(project: Project, video: Path,
                size: tuple[int, int]) -> dict[int, tuple[str, list[int]]]:
    """Every track of the clip: its label and the frames it has (for the timeline)."""
    spans: dict[int, tuple[str, list[int]]] = {}
    for frame in project.known_frames(video):
        for inst in project.frame_document(video, frame, size).instances:
            if inst.track_id is not None:
                spans.setdefault(inst.track_id, (inst.label, []))[1].append(frame)
    return spans
