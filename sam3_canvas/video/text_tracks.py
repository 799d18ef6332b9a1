"""Class names on a clip: the text path on every frame (or every Nth), its detections joined
into tracks by ByteTrack.

ByteTrack is supervision's (``sv.ByteTrack``, the ``video`` extra: supervision 0.30). It left
supervision in 0.31 for the ``trackers`` package, which requires the full ``opencv-python``
wheel; that wheel's Qt plugins clash with PySide6 and it overwrites ``opencv-python-headless``,
so the 0.30 line is pinned until ``trackers`` can be installed beside the app.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..engine.errors import Sam3CanvasError
from .frames import FrameSource


class TrackerMissing(Sam3CanvasError):
    pass


@dataclass
class TrackedDetection:
    track_id: int
    label: str
    score: float
    box: tuple[float, float, float, float]
    mask: np.ndarray  # bool (H, W)


@dataclass
class FrameDetections:
    frame: int
    detections: list[TrackedDetection]


def byte_tracker(frame_rate: float):
    try:
        import supervision as sv
    except ImportError:
        raise TrackerMissing("tracking detections needs supervision: pip install "
                             "'sam3-canvas[video]'") from None
    if not hasattr(sv, "ByteTrack"):
        raise TrackerMissing(f"supervision {sv.__version__} has no ByteTrack (it moved to the "
                             "trackers package in 0.31): pip install 'supervision>=0.30,<0.31'")
    with warnings.catch_warnings():  # deprecated in supervision, see the module's note
        warnings.simplefilter("ignore", FutureWarning)
        return sv.ByteTrack(frame_rate=max(1.0, frame_rate))


def detect_tracks(segmenter, frames: FrameSource, classes: list[str], every: int = 1,
                  threshold: float = 0.5, nms: float = 0.7,
                  cancelled: Callable[[], bool] | None = None) -> Iterator[FrameDetections]:
    """The detections of ``classes`` on frames 0, every, 2 x every ..., each with the id of
    the track ByteTrack puts it in; detections that ByteTrack does not confirm are left out."""
    import supervision as sv

    tracker = byte_tracker((frames.fps or 30.0) / max(1, every))
    for index in range(0, len(frames), max(1, every)):
        if cancelled is not None and cancelled():
            return
        result = segmenter.detect(frames.frame(index), classes)
        found = result.detections(threshold, nms)
        if found:
            boxes = np.array([d.box for d in found], np.float32)
            labels = sorted({d.label for d in found})
            detections = sv.Detections(
                xyxy=boxes, confidence=np.array([d.score for d in found], np.float32),
                class_id=np.array([labels.index(d.label) for d in found], int),
                data={"index": np.arange(len(found))})
        else:
            detections = sv.Detections.empty()
        tracked = tracker.update_with_detections(detections)
        out = []
        if len(tracked) and tracked.tracker_id is not None:
            for track_id, n in zip(tracked.tracker_id, tracked.data["index"]):
                d = found[int(n)]
                x1, y1, x2, y2 = (float(v) for v in d.box)
                out.append(TrackedDetection(int(track_id), d.label, float(d.score),
                                            (x1, y1, x2, y2), d.mask()))
        yield FrameDetections(index, out)
