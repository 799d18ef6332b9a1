"""Embeddings that stay where the encoder made them (IO binding), for the decoders to read there.

On a GPU the image embeddings (about 21 MB for the tracker, over 100 MB for the text path's
features) would otherwise travel to the host after the encoder and back before every decoder
run. With onnxruntime's IO binding the encoder writes them into device memory, the decoder reads
them from there, and only the decoder's small outputs come back. A host copy is made once, when
something asks for one (the embedding caches, the video memory path), and kept.

An encoder run over several images (a batch) leaves one tensor per output holding them all;
each image's :class:`DeviceTensor` is a view of its slice by address, so a decoder binds it
without a copy on the device.

:class:`DeviceEmbeddings` is a read-only mapping of name to NumPy array, so the code that wants
host arrays reads it like the dict of arrays it replaces; a decoder binds its ``tensors``.
The same path runs with the CPU provider (device "cpu"), which is how it is tested without a GPU.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

from .layouts import ORT_DTYPES
from .sessions import run_bound

log = logging.getLogger(__name__)

#: providers whose embeddings are worth keeping on the device, and the device they use
DEVICE_OF = {"cuda": "cuda", "tensorrt": "cuda", "cpu": "cpu"}
#: the sessions run on the provider's first device (onnxruntime's default)
DEVICE_ID = 0


def binding_wanted(actives: set[str], requested: bool | None) -> bool:
    """Whether to keep outputs on the device: only when every graph runs on the same
    provider; by default on a GPU, and ``True`` forces it (how it is tested on CPU)."""
    if len(actives) != 1:
        return False
    return requested if requested is not None else next(iter(actives)) in ("cuda", "tensorrt")


class _Batch:
    """One encoder output on the device, with its host copy made once, on first request."""

    def __init__(self, value):
        self.value = value  # onnxruntime.OrtValue, [N, ...]
        self._host: np.ndarray | None = None
        self._lock = threading.Lock()

    def host(self) -> np.ndarray:
        with self._lock:
            if self._host is None:
                self._host = self.value.numpy()
            return self._host


class DeviceTensor:
    """Item ``index`` of an encoder output left on the device: the whole tensor when the run
    had one image, else a view of the item's bytes in the batch tensor."""

    def __init__(self, batch: _Batch, index: int, count: int):
        self._batch, self.index, self.count = batch, index, count
        value = batch.value
        self.dtype = ORT_DTYPES.get(value.data_type(), np.float32)
        self.shape = [1, *value.shape()[1:]] if count > 1 else value.shape()
        self.device = value.device_name().lower()

    def bind(self, binding, name: str) -> None:
        """Bind as the input ``name`` of a decoder run, where it lies."""
        value = self._batch.value
        if self.count == 1:
            binding.bind_ortvalue_input(name, value)
            return
        item_bytes = value.tensor_size_in_bytes() // self.count
        binding.bind_input(name, self.device, DEVICE_ID, value.element_type(), self.shape,
                           value.data_ptr() + self.index * item_bytes)

    def numpy(self) -> np.ndarray:
        """This item's host copy (the batch is copied once for all its items)."""
        host = self._batch.host()
        return host if self.count == 1 else np.array(host[self.index:self.index + 1])


class DeviceEmbeddings(Mapping[str, np.ndarray]):
    def __init__(self, tensors: dict[str, DeviceTensor], device: str):
        self.tensors = tensors
        self.device = device
        self._host: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> np.ndarray:
        with self._lock:
            if name not in self._host:
                self._host[name] = self.tensors[name].numpy()
            return self._host[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.tensors)

    def __contains__(self, name: object) -> bool:  # without a host copy (Mapping's reads one)
        return name in self.tensors

    def __len__(self) -> int:
        return len(self.tensors)

    def host(self) -> dict[str, np.ndarray]:
        """Every embedding as a host array (copied once)."""
        return {name: self[name] for name in self.tensors}

    @property
    def on_host(self) -> bool:
        """Whether the host copy has been made already."""
        return len(self._host) == len(self.tensors)


def run_to_device(session, feed: Mapping[str, np.ndarray], outputs: list[str], device: str,
                  what: str, items: int = 1, run_options=None) -> list[DeviceEmbeddings]:
    """Run ``session`` on host inputs and leave ``outputs`` on ``device``: one
    :class:`DeviceEmbeddings` per image, ``items`` images along the outputs' first
    dimension (1: each output is one image's tensor, whatever its shape)."""
    binding = session.io_binding()
    for name, value in feed.items():
        binding.bind_cpu_input(name, value)
    for name in outputs:
        binding.bind_output(name, device)
    run_bound(session, binding, what, run_options)
    batches = [_Batch(value) for value in binding.get_outputs()]
    return [DeviceEmbeddings({name: DeviceTensor(batch, i, items)
                              for name, batch in zip(outputs, batches)}, device)
            for i in range(items)]


def run_from_device(session, feed: Mapping[str, np.ndarray], on_device: DeviceEmbeddings,
                    outputs: list[str], what: str, run_options=None) -> list[np.ndarray]:
    """Run ``session`` with ``on_device``'s tensors bound where they lie and the rest of its
    inputs from the host; the ``outputs`` come back as host arrays."""
    binding = session.io_binding()
    for name, value in feed.items():
        binding.bind_cpu_input(name, value)
    for name, tensor in on_device.tensors.items():
        tensor.bind(binding, name)
    for name in outputs:
        binding.bind_output(name, "cpu")
    run_bound(session, binding, what, run_options)
    return [value.numpy() for value in binding.get_outputs()]


def bindable(on_device: DeviceEmbeddings, inputs: Mapping) -> bool:
    """Whether a decoder declares every one of these tensors as an input of the same dtype
    (else it needs the host copy, cast)."""
    return all(name in inputs and inputs[name].dtype == tensor.dtype
               for name, tensor in on_device.tensors.items())


class CacheWriter:
    """Copies embeddings left on the device into an embedding cache on a background thread,
    so the decoder never waits for the copy. Non-finite ones are never cached (a decoder's own
    check reports them)."""

    def __init__(self, cache):
        self.cache = cache
        self._executor: ThreadPoolExecutor | None = None
        self._pending: list[Future] = []
        self._lock = threading.Lock()

    def put(self, key: str, identity: str, embeddings: DeviceEmbeddings, name: str) -> None:
        def copy_and_cache():
            host = embeddings.host()
            if all(np.isfinite(v).all() for v in host.values()):
                self.cache.put(key, identity, host)
            else:
                log.warning("%s: the encoder returned non-finite values; not cached", name)
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="sam3-cache-write")
            self._pending = [f for f in self._pending if not f.done()]
            self._pending.append(self._executor.submit(copy_and_cache))

    def flush(self) -> None:
        """Wait until every embedding handed over is in the cache."""
        with self._lock:
            pending = list(self._pending)
        for future in pending:
            future.result()
