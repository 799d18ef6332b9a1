"""Feeds that follow the graph: every input a graph declares, in the dtype it declares.

Published exports differ in small ways that crash a session fed by a fixed recipe: the INT8
browser pack declares ``language_mask`` as float32 where the exporter traced a bool; fp16
packs may have float16 or float32 I/O; torch's dynamo exporter keeps inputs the graph never
reads (``vision_pos_enc_0``/``_1``, ``language_embeds``), which onnxruntime still requires.
So a feed is built from the graph's own declaration: each declared input gets its value, cast
at the boundary (bool, float32, float16, int64, int32, uint8); a declared input the app does not
compute gets a zero tensor of the declared shape, as the publishers' own consumers feed it; a
value whose rank does not fit is refused with a message that names the input.
"""

from __future__ import annotations

import numpy as np

from .errors import LayoutError
from .layouts import TensorSpec

#: inputs that published decoders may declare without reading them: zeros are what the
#: exporters' own runtimes feed when they have no value at hand
ZERO_FILLED = ("vision_pos_enc_0", "vision_pos_enc_1", "language_embeds")


def zeros_for(spec: TensorSpec) -> np.ndarray:
    """A zero tensor of the declared shape (a dynamic dimension counts as 1)."""
    shape = tuple(d if isinstance(d, int) and d >= 0 else 1 for d in spec.shape)
    return np.zeros(shape, dtype=spec.dtype if spec.dtype is not object else np.float32)


def cast(value: np.ndarray, spec: TensorSpec, graph: str) -> np.ndarray:
    """``value`` in the dtype ``spec`` declares; LayoutError if the rank differs."""
    value = np.asarray(value)
    if len(spec.shape) != value.ndim:
        raise LayoutError(f"{graph}: input '{spec.name}' has rank {len(spec.shape)} "
                          f"{list(spec.shape)}, the value has shape {list(value.shape)}")
    if spec.dtype is object or value.dtype == spec.dtype:
        return value
    return value.astype(spec.dtype)


def build_feed(inputs: dict[str, TensorSpec], values: dict[str, np.ndarray],
               graph: str) -> dict[str, np.ndarray]:
    """The feed for a graph whose declared inputs are ``inputs`` (name -> spec)."""
    feed = {}
    for name, spec in inputs.items():
        if name in values:
            feed[name] = cast(values[name], spec, graph)
        elif name in ZERO_FILLED:
            feed[name] = zeros_for(spec)
        else:
            raise LayoutError(f"{graph} declares input '{name}', which sam3-canvas cannot "
                              f"compute (it feeds {', '.join(sorted(values))})")
    return feed
