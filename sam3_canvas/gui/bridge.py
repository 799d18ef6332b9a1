"""Worker callbacks to Qt signals, with the heavy image work done before the signal.

The worker calls these on its threads; emitting a signal there queues the slot call to the
GUI thread. Before emitting, the photo's QImages and the best candidate's overlay are built on
the worker thread, so the GUI thread only paints.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..app.worker import Callbacks
from ..engine.postprocess import positive_region
from .images import mask_overlay, photo_images

CANDIDATE_COLOUR = (30, 144, 255)


def candidate_overlay(prediction, index: int):
    width, height = prediction.image_size
    return mask_overlay(prediction.mask(index), CANDIDATE_COLOUR,
                        region=positive_region(prediction.logits[index], width, height))


class WorkerBridge(QObject, Callbacks):
    modelReady = Signal(object)  # Segmenter
    modelFailed = Signal(str)
    imageReady = Signal(int, object, object, object)  # request, path, LoadedImage, PhotoImages
    imageFailed = Signal(int, object, str)
    encodedReady = Signal(int, object, object)  # request, path, EncodedImage
    predictionReady = Signal(int, object, object, object)  # request, path, Prediction, Overlay
    predictionFailed = Signal(int, object, str)
    stateChanged = Signal(object, str)  # path, "encoding" | "ready" | "failed"

    def model_loaded(self, segmenter) -> None:
        self.modelReady.emit(segmenter)

    def model_failed(self, message: str) -> None:
        self.modelFailed.emit(message)

    def image_loaded(self, request: int, path: Path, image) -> None:
        self.imageReady.emit(request, path, image, photo_images(image.rgb))

    def image_failed(self, request: int, path: Path, message: str) -> None:
        self.imageFailed.emit(request, path, message)

    def encoded(self, request: int, path: Path, encoded) -> None:
        self.encodedReady.emit(request, path, encoded)

    def predicted(self, request: int, path: Path, prediction) -> None:
        overlay = candidate_overlay(prediction, prediction.best_index)
        self.predictionReady.emit(request, path, prediction, overlay)

    def predict_failed(self, request: int, path: Path, message: str) -> None:
        self.predictionFailed.emit(request, path, message)

    def image_state(self, path: Path, state: str) -> None:
        self.stateChanged.emit(path, state)
