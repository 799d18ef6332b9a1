"""The click/box segmenter: the library API that the CLI, the GUI and batch jobs share.

Load a model once, encode an image once (or find it in the caches), then answer any number of
prompts on it. Every stage is timed; the timings travel with the results so that the CLI's
``--json``, the status bar and the benchmarks report the same figures.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .cache import DEFAULT_DISK_CACHE_BYTES, EmbeddingCache
from .device import CacheWriter, DeviceEmbeddings
from .errors import InferenceError
from .identity import memo_path
from .images import LoadedImage, SizedImage, image_from_array, load_image
from .packfiles import find_tracker_files
from .prediction import Prediction
from .preprocess import pixel_values, prompt_arrays
from .prompts import Prompt
from .tracker import TrackerModel

DEFAULT_CACHE_BYTES = 1 << 30


@dataclass(frozen=True, eq=False)
class EncodedImage:
    """An image with its embeddings, ready for prompts."""

    image: LoadedImage | SizedImage
    embeddings: Mapping[str, np.ndarray]  # a dict, or DeviceEmbeddings (left on the GPU)
    timings: dict[str, float]  # read, preprocess, encode (ms); encode is 0 on a cache hit
    cache_hit: str | None = None  # "memory", "disk" or None

    @property
    def size(self) -> tuple[int, int]:
        return self.image.width, self.image.height


class Segmenter:
    """Clicks, background clicks and boxes to three ranked masks, over one tracker model."""

    #: encoder inputs made ahead by :meth:`prepare` and not yet encoded, at most this many
    #: (12 MB each): a batch job's reader is a few images ahead, never more
    AHEAD = 8

    def __init__(self, model: TrackerModel, cache: EmbeddingCache | None = None,
                 max_pixels: int | None = None):
        self.model = model
        self.cache = cache if cache is not None else EmbeddingCache(DEFAULT_CACHE_BYTES)
        self.max_pixels = max_pixels
        self._writer = CacheWriter(self.cache)  # device embeddings -> the caches
        self._ahead: dict[str, np.ndarray] = {}  # image key -> encoder input
        self._ahead_lock = threading.Lock()

    @classmethod
    def from_dir(cls, folder: str | os.PathLike, variant: str | None = None,
                 provider: str = "cpu", cache_dir: str | os.PathLike | None = None,
                 cache_bytes: int = DEFAULT_CACHE_BYTES, threads: int | None = None,
                 max_pixels: int | None = None,
                 disk_cache_bytes: int = DEFAULT_DISK_CACHE_BYTES,
                 device_binding: bool | None = None) -> Segmenter:
        """``cache_dir`` (None: memory only) holds the disk cache, bounded to
        ``disk_cache_bytes`` (0: none), and the memo of model file digests.
        ``device_binding``: keep embeddings on the device (default: on a GPU)."""
        files = find_tracker_files(Path(folder), variant)
        disk = cache_dir if cache_dir and disk_cache_bytes > 0 else None
        model = TrackerModel(files.encoder, files.decoder, provider=provider, threads=threads,
                             identity_memo=memo_path(disk), device_binding=device_binding)
        return cls(model, EmbeddingCache(cache_bytes, disk, disk_cache_bytes),
                   max_pixels=max_pixels)

    @property
    def provider(self) -> str:
        return self.model.provider

    def load(self, source: str | os.PathLike | np.ndarray | LoadedImage | SizedImage
             ) -> LoadedImage | SizedImage:
        if isinstance(source, (LoadedImage, SizedImage)):
            return source
        if isinstance(source, np.ndarray):
            return image_from_array(source, self.max_pixels)
        return load_image(Path(source), self.max_pixels)

    @property
    def input_size(self) -> tuple[int, int]:
        """(width, height) the encoder takes: a batch job's readers resize to it."""
        return self.model.layout.model_size

    def is_cached(self, image: LoadedImage | SizedImage) -> bool:
        return self.cache.contains(image.key, self.model.identity)

    def encode(self, source: str | os.PathLike | np.ndarray | LoadedImage | SizedImage,
               run_options=None) -> EncodedImage:
        """Read (if needed) and encode an image, or take its embeddings from the caches."""
        return self.encode_many([source], run_options)[0]

    def encode_many(self, sources: Sequence, run_options=None, batch: int | None = None
                    ) -> list[EncodedImage]:
        """Encode several images, up to ``batch`` per encoder run (None: all in one, as far
        as the graph allows). Images in the caches are not encoded again. An image whose
        embeddings come out NaN or infinite raises :class:`InferenceError` naming it."""
        encoded: list[EncodedImage | None] = []
        todo: list[tuple[int, LoadedImage | SizedImage, float]] = []
        for source in sources:
            start = time.perf_counter()
            image = self.load(source)
            read_ms = (time.perf_counter() - start) * 1000.0
            cached, where = self.cache.get(image.key, self.model.identity,
                                           self.model.embedding_dtypes)
            if cached is None:
                todo.append((len(encoded), image, read_ms))
                encoded.append(None)
                continue
            encoded.append(EncodedImage(image, cached, {
                "read": read_ms, "preprocess": 0.0, "encode": 0.0,
                "cache": (time.perf_counter() - start) * 1000.0 - read_ms}, cache_hit=where))
        size = max(1, min(batch or len(todo) or 1, self.model.batch_limit or len(todo) or 1))
        for first in range(0, len(todo), size):
            chunk = todo[first:first + size]
            for (index, _, _), result in zip(chunk, self._encode_run(chunk, run_options)):
                encoded[index] = result
        return [e for e in encoded if e is not None]

    def prepare(self, image: LoadedImage | SizedImage) -> None:
        """Make the image's encoder input now, on the caller's thread (a batch job's reader),
        so that the encode that follows spends its time in the encoder alone."""
        values = self._pixel_values(image)
        with self._ahead_lock:
            self._ahead[image.key] = values
            while len(self._ahead) > self.AHEAD:  # never encoded (a failure): the oldest go
                del self._ahead[next(iter(self._ahead))]

    def _pixel_values(self, image: LoadedImage | SizedImage) -> np.ndarray:
        width, height = self.model.layout.model_size
        return pixel_values(image.at_size(width, height), width, height,
                            self.model.layout.float_dtype)

    def _take_pixel_values(self, image: LoadedImage | SizedImage) -> np.ndarray:
        with self._ahead_lock:
            ready = self._ahead.pop(image.key, None)
        return ready if ready is not None else self._pixel_values(image)

    def _encode_run(self, chunk, run_options) -> list[EncodedImage]:
        """One encoder run over ``chunk`` (index, image, read time); the run's time is shared
        out equally among its images."""
        t0 = time.perf_counter()
        values = np.concatenate([self._take_pixel_values(image) for _, image, _ in chunk])
        t1 = time.perf_counter()
        if self.model.device_binding:
            outputs: list = self.model.encode_on_device(values, run_options)
        else:
            outputs = self.model.encode_batch(values, run_options)
        t2 = time.perf_counter()
        count = len(chunk)
        results = []
        for (_, image, read_ms), embeddings in zip(chunk, outputs):
            timings = {"read": read_ms, "preprocess": (t1 - t0) * 1000.0 / count,
                       "encode": (t2 - t1) * 1000.0 / count}
            if count > 1:
                timings["batch"] = count
            if isinstance(embeddings, DeviceEmbeddings):
                self._writer.put(image.key, self.model.identity, embeddings, image.name)
            else:
                self._check_finite(embeddings, image)
                self.cache.put(image.key, self.model.identity, embeddings)
            results.append(EncodedImage(image, embeddings, timings))
        return results

    @staticmethod
    def _check_finite(embeddings: Mapping[str, np.ndarray], image) -> None:
        for name, value in embeddings.items():
            if not np.isfinite(value).all():  # never cached: every prompt would fail on it
                raise InferenceError(
                    f"the vision encoder returned NaN or infinite values ({name}) for "
                    f"{image.name}: the model file is damaged or was converted wrongly (try "
                    "another variant, or verify the pack)")

    def flush(self) -> None:
        """Wait until every embedding left on the device is in the caches."""
        self._writer.flush()

    def predict(self, encoded: EncodedImage, prompt: Prompt) -> Prediction:
        """Run the prompt decoder; raise :class:`PromptError` for a prompt off the image."""
        width, height = encoded.size
        prompt.validate(width, height)
        layout = self.model.layout
        t0 = time.perf_counter()
        points, labels, boxes = prompt_arrays(prompt, (width, height), layout.model_size)
        t1 = time.perf_counter()
        out = self.model.decode(encoded.embeddings, points, labels, boxes)
        t2 = time.perf_counter()
        if not (np.isfinite(out.ious).all() and np.isfinite(out.logits).all() and
                np.isfinite(out.object_logit)):
            raise InferenceError("the prompt decoder returned NaN or infinite values: the model "
                                 "file is damaged or was converted wrongly (try another "
                                 "variant, or verify the pack)")
        return Prediction(prompt=prompt, ious=tuple(float(v) for v in out.ious),
                          logits=out.logits, object_logit=out.object_logit,
                          image_size=(width, height), provider=self.provider,
                          timings={"prompt": (t1 - t0) * 1000.0, "decode": (t2 - t1) * 1000.0})

    def segment(self, source, prompt: Prompt) -> Prediction:
        """Encode (or reuse) and predict in one call; the prediction carries all timings."""
        encoded = self.encode(source)
        prediction = self.predict(encoded, prompt)
        prediction.timings.update({k: v for k, v in encoded.timings.items()})
        return prediction
