"""Embeddings that stay where the encoder made them (IO binding), for the decoder to read there.

On a GPU the image embeddings (about 21 MB for the tracker) would otherwise travel to the host
after the encoder and back before every decoder run. With onnxruntime's IO binding the encoder
writes them into device memory, the decoder reads them from there, and only the decoder's small
outputs come back. A host copy is made once, when something asks for one (the embedding caches,
the video memory path), and kept.

:class:`DeviceEmbeddings` is a read-only mapping of name to NumPy array, so the code that wants
host arrays reads it like the dict of arrays it replaces; the decoder takes ``ortvalues``.
The same path runs with the CPU provider (device "cpu"), which is how it is tested without a GPU.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping

import numpy as np

#: providers whose embeddings are worth keeping on the device, and the device they use
DEVICE_OF = {"cuda": "cuda", "tensorrt": "cuda", "cpu": "cpu"}


class DeviceEmbeddings(Mapping[str, np.ndarray]):
    def __init__(self, values: dict, device: str):
        self.ortvalues = values  # name -> onnxruntime.OrtValue on ``device``
        self.device = device
        self._host: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> np.ndarray:
        with self._lock:
            if name not in self._host:
                self._host[name] = self.ortvalues[name].numpy()
            return self._host[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.ortvalues)

    def __len__(self) -> int:
        return len(self.ortvalues)

    def host(self) -> dict[str, np.ndarray]:
        """Every embedding as a host array (copied once)."""
        return {name: self[name] for name in self.ortvalues}

    @property
    def on_host(self) -> bool:
        """Whether the host copy has been made already."""
        return len(self._host) == len(self.ortvalues)
