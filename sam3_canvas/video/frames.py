"""Frames of a clip (any file OpenCV's FFmpeg reads: mp4, mov, avi, mkv, webm) or of a folder
of numbered images, read on demand into a cache bounded in bytes: a 10-minute 1080p clip is
never in memory, and scrubbing back over recent frames does not decode them again.

Reading forward decodes frame after frame (the fast path of every codec); a jump seeks. Each
frame is a :class:`~sam3_canvas.engine.images.LoadedImage` whose key is the clip's identity and
the frame number, so the embedding caches treat frames like photos.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ..engine.errors import ImageLoadError
from ..engine.images import IMAGE_SUFFIXES, LoadedImage, load_image

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv")
DEFAULT_CACHE_BYTES = 512 * 1024 * 1024


def is_video_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


FRAME_MARK = "#"


def frame_key(video: Path, frame: int) -> Path:
    """The name a frame goes by where the app expects an image path: ``clip.mp4#000012``
    beside the clip (no such file exists; :func:`parse_frame_key` reads it back)."""
    return video.with_name(f"{video.name}{FRAME_MARK}{frame:06d}")


def display_name(path: Path) -> str:
    """What the user sees for an image: its file name, or "clip.mp4, frame 12"."""
    frame = parse_frame_key(path)
    return path.name if frame is None else f"{frame[0].name}, frame {frame[1]}"


def parse_frame_key(path: Path) -> tuple[Path, int] | None:
    """(the clip, the frame) for a :func:`frame_key`; None for any other path."""
    name, mark, number = path.name.rpartition(FRAME_MARK)
    if not mark or not number.isdigit() or not is_video_file(name):
        return None
    return path.with_name(name), int(number)


class FrameCache:
    """Least recently used frames, at most ``max_bytes`` of pixels together."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES):
        self.max_bytes = max_bytes
        self.bytes = 0
        self._frames: OrderedDict[int, np.ndarray] = OrderedDict()

    def get(self, index: int) -> np.ndarray | None:
        frame = self._frames.get(index)
        if frame is not None:
            self._frames.move_to_end(index)
        return frame

    def put(self, index: int, frame: np.ndarray) -> None:
        if index in self._frames:
            return
        if frame.nbytes > self.max_bytes:
            return  # one frame over the whole bound: not kept
        self._frames[index] = frame
        self.bytes += frame.nbytes
        while self.bytes > self.max_bytes:
            _, old = self._frames.popitem(last=False)
            self.bytes -= old.nbytes

    def __len__(self) -> int:
        return len(self._frames)


class FrameSource:
    """A sequence of frames: ``len(source)``, ``source.frame(i)``, ``source.fps``."""

    name: str
    fps: float
    width: int
    height: int
    key: str

    def __init__(self, cache_bytes: int = DEFAULT_CACHE_BYTES):
        self.cache = FrameCache(cache_bytes)
        self._lock = threading.Lock()  # one reader at a time (the GUI's worker and a track)

    def __len__(self) -> int:
        raise NotImplementedError

    def _read(self, index: int) -> np.ndarray:
        raise NotImplementedError

    def frame(self, index: int) -> LoadedImage:
        """Frame ``index`` (0-based) as RGB pixels; :class:`ImageLoadError` past the end or
        for a frame the file cannot give."""
        if not 0 <= index < len(self):
            raise ImageLoadError(f"{self.name}: no frame {index} (it has {len(self)})")
        with self._lock:
            rgb = self.cache.get(index)
            if rgb is None:
                rgb = self._read(index)
                self.cache.put(index, rgb)
        return LoadedImage(rgb=rgb, key=f"{self.key}:{index:06d}", source=None)

    def time_of(self, index: int) -> float:
        """Seconds from the start (frame numbers for a folder without a frame rate)."""
        return index / self.fps if self.fps > 0 else float(index)

    def close(self) -> None:
        pass


class VideoFile(FrameSource):
    """A clip read through OpenCV (FFmpeg inside the opencv-python wheels)."""

    def __init__(self, path: str | Path, cache_bytes: int = DEFAULT_CACHE_BYTES):
        super().__init__(cache_bytes)
        import cv2

        self.path = Path(path)
        self.name = self.path.name
        if not self.path.is_file():
            raise ImageLoadError(f"{self.path}: no such video file")
        self._capture = cv2.VideoCapture(str(self.path))
        if not self._capture.isOpened():
            raise ImageLoadError(f"{self.path}: not a video OpenCV can read (damaged, or a "
                                 "codec this build lacks)")
        self.fps = float(self._capture.get(cv2.CAP_PROP_FPS) or 0.0)
        self.width = int(self._capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        self.height = int(self._capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self._count = int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT))
        if self._count <= 0 or self.width <= 0 or self.height <= 0:
            raise ImageLoadError(f"{self.path}: the video reports no frames")
        self._next = 0  # the frame a plain read() returns
        stat = self.path.stat()
        # identity without reading the whole file: its name, size and time, and its first MB
        digest = hashlib.sha256(f"{self.path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
                                .encode())
        with open(self.path, "rb") as f:
            digest.update(f.read(1 << 20))
        self.key = "video-" + digest.hexdigest()

    def __len__(self) -> int:
        return self._count

    def _read(self, index: int) -> np.ndarray:
        import cv2

        if index != self._next:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, bgr = self._capture.read()
        if not ok or bgr is None:
            self._next = -1
            raise ImageLoadError(f"{self.name}: frame {index} cannot be decoded (the file may "
                                 "be cut short)")
        self._next = index + 1
        return np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))

    def close(self) -> None:
        self._capture.release()


def _natural_key(name: str) -> list:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


class FrameFolder(FrameSource):
    """A folder of numbered images (``frame_0001.png``, ``00042.jpg``...) in natural order."""

    def __init__(self, folder: str | Path, fps: float = 0.0,
                 cache_bytes: int = DEFAULT_CACHE_BYTES):
        super().__init__(cache_bytes)
        self.path = Path(folder)
        self.name = self.path.name
        if not self.path.is_dir():
            raise ImageLoadError(f"{self.path}: not a folder")
        self.files = sorted((p for p in self.path.iterdir()
                             if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                            key=lambda p: _natural_key(p.name))
        if not self.files:
            raise ImageLoadError(f"{self.path}: no images to use as frames")
        self.fps = fps
        first = self._read(0)
        self.height, self.width = first.shape[:2]
        self.cache.put(0, first)
        names = "\n".join(p.name for p in self.files)
        self.key = "frames-" + hashlib.sha256(f"{self.path.resolve()}\n{names}".encode()) \
            .hexdigest()

    def __len__(self) -> int:
        return len(self.files)

    def _read(self, index: int) -> np.ndarray:
        rgb = load_image(self.files[index]).rgb
        if hasattr(self, "width") and rgb.shape[:2] != (self.height, self.width):
            raise ImageLoadError(f"{self.files[index].name}: {rgb.shape[1]} x {rgb.shape[0]}, "
                                 f"not the sequence's {self.width} x {self.height}")
        return rgb


def open_frames(path: str | Path, cache_bytes: int = DEFAULT_CACHE_BYTES) -> FrameSource:
    """A video file or a folder of frames."""
    path = Path(path)
    if path.is_dir():
        return FrameFolder(path, cache_bytes=cache_bytes)
    if is_video_file(path):
        return VideoFile(path, cache_bytes=cache_bytes)
    raise ImageLoadError(f"{path}: not a video ({', '.join(VIDEO_SUFFIXES)}) or a folder of "
                         "frames")
