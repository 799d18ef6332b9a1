"""The Qt-free inference engine: sessions, layouts, pre/post-processing, caches, segmenter."""

from .cache import EmbeddingCache
from .errors import (
                     CacheError,
                     DownloadError,
                     ImageLoadError,
                     LayoutError,
                     ModelLoadError,
                     ModelNotFoundError,
                     PromptError,
                     ProviderError,
                     Sam3CanvasError,
)
from .images import LoadedImage, image_from_array, load_image
from .prediction import Candidate, Prediction
from .prompts import BACKGROUND, FOREGROUND, Prompt
from .segmenter import EncodedImage, Segmenter
from .tracker import TrackerModel

__all__ = [
    "BACKGROUND", "FOREGROUND", "CacheError", "Candidate", "DownloadError", "EmbeddingCache",
    "EncodedImage", "ImageLoadError", "LayoutError", "LoadedImage", "ModelLoadError",
    "ModelNotFoundError", "Prediction", "Prompt", "PromptError", "ProviderError",
    "Sam3CanvasError", "Segmenter", "TrackerModel", "image_from_array", "load_image",
]
