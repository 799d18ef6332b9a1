"""Worker callbacks to Qt signals, with the heavy image work done on the worker threads.

The worker calls these on its (plain Python) threads. They build the photo's QImages and the
best candidate's overlay there, so the GUI thread only paints, then hand the result to an
:class:`~.inbox.Inbox`, which emits the signal on the GUI thread.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..app.worker import Callbacks, ImageState, describe
from .images import candidate_thumbnails, logits_overlay, photo_images
from .inbox import Inbox

CANDIDATE_COLOUR = (30, 144, 255)
log = logging.getLogger(__name__)


def candidate_overlay(prediction, index: int, scale: float = 1.0):
    """The candidate's overlay sampled from its logits at ``scale`` (at most 1: full size)."""
    return logits_overlay(prediction.logits[index], prediction.image_size, CANDIDATE_COLOUR,
                          scale)


class WorkerBridge(QObject, Callbacks):
    modelReady = Signal(object)  # Segmenter
    modelFailed = Signal(str)
    imageReady = Signal(int, object, object, object)  # request, path, LoadedImage, PhotoImages
    imageFailed = Signal(int, object, str)
    encodedReady = Signal(int, object, object)  # request, path, EncodedImage
    predictionReady = Signal(int, object, object, object)  # request, path, Prediction, Overlay
    thumbnailsReady = Signal(int, object)  # request, QImages of the candidates in model order
    predictionFailed = Signal(int, object, str)
    encodeFailed = Signal(int, object, str)  # request, path, message
    stateChanged = Signal(object, str, str)  # path, "new" | "encoding" | "ready" | "failed", why

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.inbox = Inbox(self)
        self._thumb_base: tuple[Path, object] | None = None  # of the latest photo read
        #: the view's zoom (screen pixels per image pixel); set on the GUI thread, read here
        self.display_scale = 1.0

    def _post(self, name: str, *args) -> None:
        self.inbox.post(lambda: getattr(self, name).emit(*args))

    # -- Callbacks: called on the worker threads -------------------------------------------
    def model_loaded(self, segmenter) -> None:
        self._post("modelReady", segmenter)

    def model_failed(self, message: str) -> None:
        self._post("modelFailed", message)

    def image_loaded(self, request: int, path: Path, image) -> None:
        try:
            photo = photo_images(image.rgb)
        except Exception as exc:  # noqa: BLE001 - e.g. out of memory for the preview
            log.exception("preparing %s for display failed", path)
            self._post("imageFailed", request, path, describe(exc))
            return
        self._thumb_base = (path, photo.thumb_base)
        self._post("imageReady", request, path, image, photo)

    def image_failed(self, request: int, path: Path, message: str) -> None:
        self._post("imageFailed", request, path, message)

    def encoded(self, request: int, path: Path, encoded) -> None:
        self._post("encodedReady", request, path, encoded)

    def predicted(self, request: int, path: Path, prediction) -> None:
        try:
            overlay = candidate_overlay(prediction, prediction.best_index, self.display_scale)
        except Exception as exc:  # noqa: BLE001
            log.exception("drawing the candidate failed")
            self._post("predictionFailed", request, path, describe(exc))
            return
        self._post("predictionReady", request, path, prediction, overlay)  # first: it is
        base = self._thumb_base                                             # what users wait for
        if base is not None and base[0] == path:
            thumbs = candidate_thumbnails(base[1], prediction.logits, CANDIDATE_COLOUR)
            self._post("thumbnailsReady", request, thumbs)

    def predict_failed(self, request: int, path: Path, message: str) -> None:
        self._post("predictionFailed", request, path, message)

    def encode_failed(self, request: int, path: Path, message: str) -> None:
        self._post("encodeFailed", request, path, message)

    def image_state(self, path: Path, state: ImageState, reason: str = "") -> None:
        self._post("stateChanged", path, state, reason)
