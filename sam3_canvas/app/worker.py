"""One long-lived worker that owns the model; the GUI thread only posts requests.

Two threads: a reader (decoding photos for display is ~70 ms at 12 MP, too long for the GUI
thread) and the model thread (load, encode, decode, prefetch). Requests carry increasing ids;
for "show this image" and "predict this prompt" only the newest pending request is kept, so a
burst of clicks runs the decoder once for the last one, and a result for an image the user has
left is never delivered as current. Priorities on the model thread: load the model, then the
newest prediction, then encoding the image on screen, then prefetching the next images.

``stop()`` cancels a running encode through ``RunOptions.terminate`` and joins both threads,
so closing the window during an encode takes milliseconds and never leaves a thread behind.
Results go to a ``Callbacks`` object, called on the worker threads: the GUI's bridge turns
them into queued Qt signals. No failure ends a thread: every job's error, expected (a corrupt
photo, onnxruntime out of memory) or not (a bug), reaches the callbacks with one line, and the
image's state becomes "failed" with that line as the reason.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..engine.errors import Cancelled, Sam3CanvasError
from ..engine.images import LoadedImage, load_image
from ..engine.prompts import Prompt
from ..engine.segmenter import EncodedImage, Segmenter

log = logging.getLogger(__name__)

#: prefetching waits this long after the last click or image switch: on a small machine a
#: background encode competes with the interactive work for the same cores
PREFETCH_IDLE_S = 0.5


#: an image's place in the encoder's work; "failed" comes with a reason
ImageState = Literal["new", "encoding", "ready", "failed"]


class Callbacks:
    """Override what you need. Called on worker threads."""

    def model_loaded(self, segmenter: Segmenter) -> None: ...
    def model_failed(self, message: str) -> None: ...
    def image_loaded(self, request: int, path: Path, image: LoadedImage) -> None: ...
    def image_failed(self, request: int, path: Path, message: str) -> None: ...
    def encoded(self, request: int, path: Path, encoded: EncodedImage) -> None: ...
    def predicted(self, request: int, path: Path, prediction) -> None: ...
    def predict_failed(self, request: int, path: Path, message: str) -> None: ...
    def encode_failed(self, request: int, path: Path, message: str) -> None: ...
    def image_state(self, path: Path, state: ImageState, reason: str = "") -> None: ...


def describe(exc: BaseException) -> str:
    """One line for the user: the project's own message, or what an unexpected error was
    (its traceback goes to the log)."""
    if isinstance(exc, Sam3CanvasError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "not enough memory for this image"
    first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return f"unexpected error ({type(exc).__name__}{': ' + first if first else ''}); " \
           "details are in the log file"


@dataclass
class _Show:
    request: int
    path: Path
    image: LoadedImage | None = None


@dataclass
class _Predict:
    request: int
    path: Path
    prompt: Prompt


class InferenceWorker:
    def __init__(self, callbacks: Callbacks, prefetch_depth: int = 2,
                 decoded_images_kept: int = 3):
        self.callbacks = callbacks
        self.prefetch_depth = prefetch_depth
        self.segmenter: Segmenter | None = None
        #: how an image is read: a file by default; a clip's frames through its FrameSource
        self.reader: Callable[[Path], LoadedImage] = load_image
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._stopping = False
        self._load: Callable[[], Segmenter] | None = None
        self._read: _Show | None = None  # for the reader thread
        self._show: _Show | None = None  # image read, waiting for its encode
        self._predict: _Predict | None = None
        self._prefetch: list[Path] = []
        self._current: Path | None = None
        self._encoded: EncodedImage | None = None  # of the current image
        self._images: OrderedDict[Path, LoadedImage] = OrderedDict()
        self._images_kept = decoded_images_kept
        self._run_options = None
        self._prefetching: Path | None = None  # the image a running prefetch encodes
        self._encoding: Path | None = None  # the image a running on-screen encode encodes
        self._last_interactive = 0.0  # monotonic time of the last show() or predict()
        self._busy = False
        self._reader = threading.Thread(target=self._reader_loop, name="sam3-reader",
                                        daemon=True)
        self._model = threading.Thread(target=self._model_loop, name="sam3-model", daemon=True)
        self._reader.start()
        self._model.start()

    # -- requests (any thread) --------------------------------------------------------
    def load_model(self, factory: Callable[[], Segmenter]) -> None:
        with self._cond:
            self._load = factory
            self._cond.notify_all()

    def show(self, path: Path, prefetch: Sequence[Path] = ()) -> int:
        """Make ``path`` the current image: read it, encode it, then prefetch the others."""
        request = next(self._ids)
        with self._cond:
            self._current = Path(path)
            self._read = _Show(request, Path(path))
            self._show = None
            self._predict = None
            if self._encoded is not None and self._encoded.image.source != Path(path):
                self._encoded = None  # embeddings of another image
            self._prefetch = [Path(p) for p in prefetch][: self.prefetch_depth]
            self._last_interactive = time.monotonic()
            self._preempt_prefetch()
            if self._encoding is not None and self._encoding != self._current and \
                    self._run_options is not None:
                self._run_options.terminate = True  # the image left: its encode stops
            self._cond.notify_all()
        return request

    def predict(self, path: Path, prompt: Prompt) -> int:
        request = next(self._ids)
        with self._cond:
            self._predict = _Predict(request, Path(path), prompt)
            self._last_interactive = time.monotonic()
            self._preempt_prefetch()
            self._cond.notify_all()
        return request

    def _preempt_prefetch(self) -> None:
        """Interactive work goes first: cancel a running prefetch of another image and queue
        it again (under the lock). A prefetch of the image now on screen is kept."""
        running = self._prefetching
        if running is not None and running != self._current and self._run_options is not None:
            self._run_options.terminate = True
            if running not in self._prefetch:
                self._prefetch.insert(0, running)

    def set_prefetch_depth(self, depth: int) -> None:
        self.prefetch_depth = max(0, int(depth))

    @property
    def _ready(self) -> Segmenter:
        """The loaded model (jobs that need one are picked only after a load)."""
        if self.segmenter is None:
            raise RuntimeError("no model is loaded")
        return self.segmenter

    @property
    def busy(self) -> bool:
        return self._busy

    def stop(self, timeout: float = 10.0) -> bool:
        """Cancel what runs, end both threads; True when they ended within ``timeout``."""
        with self._cond:
            self._stopping = True
            if self._run_options is not None:
                self._run_options.terminate = True
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in (self._reader, self._model):
            thread.join(max(0.0, deadline - time.monotonic()))
        return not (self._reader.is_alive() or self._model.is_alive())

    # -- reader thread ------------------------------------------------------------------
    def _reader_loop(self) -> None:
        while True:
            with self._cond:
                while not self._stopping and self._read is None:
                    self._cond.wait()
                if self._stopping:
                    return
                job, self._read = self._read, None
            if job is None:
                continue
            image = self._images.get(job.path)
            if image is None:
                try:
                    image = self.reader(job.path)
                except Exception as exc:  # noqa: BLE001 - the reader must never die
                    if not isinstance(exc, Sam3CanvasError):
                        log.error("reading %s failed:\n%s", job.path, traceback.format_exc())
                    else:
                        log.warning("%s", exc)
                    self._safe(self.callbacks.image_failed, job.request, job.path,
                               describe(exc))
                    continue
                self._remember(job.path, image)
            with self._cond:
                if self._current != job.path:
                    continue  # the user moved on while it was read
                job.image = image
                self._show = job
                self._cond.notify_all()
            self._safe(self.callbacks.image_loaded, job.request, job.path, image)

    def _remember(self, path: Path, image: LoadedImage) -> None:
        with self._cond:
            self._images[path] = image
            self._images.move_to_end(path)
            while len(self._images) > self._images_kept:
                self._images.popitem(last=False)

    # -- model thread -------------------------------------------------------------------
    def _next_job(self):
        """Pick the most urgent job under the lock; None to wait, or a float: how many
        seconds to wait before a prefetch may start."""
        if self._load is not None:
            job, self._load = self._load, None
            return "load", job
        if self.segmenter is None:
            return None
        if self._predict is not None and self._encoded is not None and \
                self._encoded.image.source == self._predict.path:
            job, self._predict = self._predict, None
            return "predict", (job, self._encoded)
        if self._show is not None:
            job, self._show = self._show, None
            return "encode", job
        if self._predict is None and self._prefetch and self._encoded is not None:
            idle = time.monotonic() - self._last_interactive
            if idle < PREFETCH_IDLE_S:
                return PREFETCH_IDLE_S - idle
            return "prefetch", self._prefetch.pop(0)
        return None

    def _model_loop(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopping:
                        return
                    job = self._next_job()
                    if isinstance(job, tuple):
                        break
                    self._cond.wait(job)  # None: until notified; a float: that long
                self._busy = True
            kind, payload = job
            try:
                getattr(self, f"_do_{kind}")(payload)
            except Exception as exc:  # noqa: BLE001 - report, and the worker goes on
                if not isinstance(exc, Sam3CanvasError):
                    log.error("worker job %s failed:\n%s", kind, traceback.format_exc())
                else:
                    log.warning("%s failed: %s", kind, exc)
                self._report_failure(kind, payload, describe(exc))
            finally:
                self._busy = False

    def _report_failure(self, kind: str, payload, message: str) -> None:
        if kind == "load":
            self._safe(self.callbacks.model_failed, message)
        elif kind == "predict":
            job = payload[0]
            self._safe(self.callbacks.predict_failed, job.request, job.path, message)
        elif kind == "encode":
            self._safe(self.callbacks.image_state, payload.path, "failed", message)
            self._safe(self.callbacks.encode_failed, payload.request, payload.path, message)
        elif kind == "prefetch":
            self._safe(self.callbacks.image_state, payload, "failed", message)

    def _do_load(self, factory: Callable[[], Segmenter]) -> None:
        segmenter = factory()  # a failure is reported by _report_failure
        with self._cond:
            self.segmenter = segmenter
            self._encoded = None
            if self._current is not None and self._show is None:
                image = self._images.get(self._current)
                if image is not None:  # the image on screen was read before the model came
                    self._show = _Show(0, self._current, image)
        self._safe(self.callbacks.model_loaded, segmenter)

    def _encode(self, image: LoadedImage) -> EncodedImage | None:
        import onnxruntime
        options = onnxruntime.RunOptions()
        with self._cond:
            if self._stopping:
                return None
            self._run_options = options
        try:
            return self._ready.encode(image, run_options=options)
        except Cancelled:
            return None  # cancelled by stop() or by interactive work
        finally:
            with self._cond:
                self._run_options = None

    def _do_encode(self, job: _Show) -> None:
        if job.image is None:
            return
        with self._cond:
            if self._current != job.path:
                return  # the user moved on before its encode began
            self._encoding = job.path
        if not self._ready.is_cached(job.image):
            self._safe(self.callbacks.image_state, job.path, "encoding")
        try:
            encoded = self._encode(job.image)
        finally:
            with self._cond:
                self._encoding = None
        if encoded is None:
            self._safe(self.callbacks.image_state, job.path, "new")  # cancelled
            return
        with self._cond:
            current = self._current == job.path
            if current:
                self._encoded = encoded
        self._safe(self.callbacks.image_state, job.path, "ready")
        if current:
            self._safe(self.callbacks.encoded, job.request, job.path, encoded)

    def _do_predict(self, payload: tuple[_Predict, EncodedImage]) -> None:
        job, encoded = payload
        prediction = self._ready.predict(encoded, job.prompt)  # failures: _report_failure
        self._safe(self.callbacks.predicted, job.request, job.path, prediction)

    def _do_prefetch(self, path: Path) -> None:
        with self._cond:
            self._prefetching = path
        try:
            image = self.reader(path)
            if self._ready.is_cached(image):
                self._safe(self.callbacks.image_state, path, "ready")
                return
            with self._cond:  # a click or a new image came while the photo was read
                if self._predict is not None or self._show is not None:
                    if path not in self._prefetch:
                        self._prefetch.insert(0, path)
                    return
            self._safe(self.callbacks.image_state, path, "encoding")
            done = self._encode(image) is not None
            self._safe(self.callbacks.image_state, path, "ready" if done else "new")
        finally:
            with self._cond:
                self._prefetching = None

    @staticmethod
    def _safe(fn, *args) -> None:
        try:
            fn(*args)
        except Exception:
            log.error("worker callback failed:\n%s", traceback.format_exc())
