"""A clip's tracks out to the video dataset formats and back in (a DAVIS-style id PNG
sequence), with the same safe destinations as photo exports: nothing the export did not write
is deleted or overwritten, and a failed export leaves the destination as it was."""

from __future__ import annotations

from pathlib import Path

from ..annotations import video_formats as vf
from ..annotations.export_target import Outcome, staged_export
from ..document.annotation import Document, Instance
from ..document.records import InstanceSource
from ..video.frames import FrameSource
from .project import Project
from .video_tracks import next_track_id


def frame_documents(project: Project, video: Path, size: tuple[int, int]) -> dict[int, Document]:
    return {f: project.frame_document(video, f, size) for f in project.annotated_frames(video)}


def export_clip(project: Project, video: Path, frames: FrameSource, fmt: str, out: str | Path,
                beside: bool = False, copy_images: bool = False) -> vf.VideoExport:
    if fmt not in vf.VIDEO_FORMATS:
        raise ValueError(f"unknown video format {fmt!r}: {', '.join(vf.VIDEO_FORMATS)}")
    size = (frames.width, frames.height)
    docs = frame_documents(project, video, size)
    outcome = Outcome()
    with staged_export(out, fmt, beside=beside, outcome=outcome) as staging:
        if fmt == "davis":
            report = vf.export_davis(docs, video.name, staging,
                                     frames if copy_images else None)
        elif fmt == "coco-video":
            report = vf.export_coco_video(docs, video.name, staging, *size, frames.fps,
                                          project.labels)
        else:
            report = vf.export_mot(docs, video.name, staging, *size, frames.fps, len(frames),
                                   project.labels)
    if not docs:
        report.warnings.append(f"{video.name} has no annotated frames: the export is empty")
    return report


def import_clip(project: Project, video: Path, size: tuple[int, int],
                source: str | Path) -> tuple[int, int, list[str]]:
    """Tracks from a DAVIS-style id PNG sequence into the clip's frame documents, each under
    a new track id; a rerun skips what it brought in before (by file and id). Returns
    (instances added, already there, problems)."""
    tracks, problems = vf.read_davis(Path(source))
    added = skipped = 0
    first_new = next_track_id(project, video, size)
    for n, (track_id, track) in enumerate(sorted(tracks.items())):
        for frame, mask in sorted(track.frames.items()):
            if mask.shape != (size[1], size[0]):
                problems.append(f"frame {frame}: the mask is {mask.shape[1]} x "
                                f"{mask.shape[0]}, the clip {size[0]} x {size[1]}")
                continue
            doc = project.frame_document(video, frame, size)
            key = f"{Path(source).name}/{frame}"
            if any(i.source.get("kind") == "import" and i.source.get("format") == "davis" and
                   i.source.get("file") == key and i.source.get("id") == track_id
                   for i in doc.instances):
                skipped += 1
                continue
            doc.insert(Instance.from_mask(
                doc.next_id(), track.label, mask, track_id=first_new + n,
                source=InstanceSource(kind="import", format="davis", file=key, id=track_id)))
            project.save(doc)
            added += 1
        if track.label not in project.labels:
            project.labels.add(track.label)
            project.save_labels()
    return added, skipped, problems
