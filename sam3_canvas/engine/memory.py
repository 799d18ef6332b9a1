"""The video tracker's memory graphs: remember a frame, attend to the memories, point at a mask.

A pack has them when ``memory_encoder.onnx``, ``memory_attention.onnx`` and ``mask_pointer.onnx``
lie beside its decoder and the decoder has the extra output ``object_pointer``; they are made by
``python -m sam3_canvas.twins.video_export`` (the export extra) from transformers'
``Sam3TrackerVideoModel``. The published packs have none, and tracking then re-prompts each
frame from the previous mask (``sam3_canvas/video/follow.py``). What each graph takes and
returns is in ``sam3_canvas/twins/video_export.py``; which frames to remember is decided in
``sam3_canvas/video/memory.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import LayoutError
from .feeds import build_feed
from .layouts import specs
from .sessions import open_session, run_graph

MEMORY_GRAPHS = ("memory_encoder.onnx", "memory_attention.onnx", "mask_pointer.onnx")
POINTER_OUTPUT = "object_pointer"


@dataclass(frozen=True)
class MemorySettings:
    """transformers' ``Sam3TrackerVideoConfig`` values that choose the memories; the export
    writes them into ``memory_attention.onnx``'s metadata (these are the defaults)."""

    num_maskmem: int = 7  # memories: the conditioning frames and the last num_maskmem - 1
    max_cond_frame_num: int = 4
    max_object_pointers: int = 16
    mask_size: int = 1008  # the size the mask of a conditioning frame is given at

    @classmethod
    def from_metadata(cls, metadata: dict[str, str]) -> MemorySettings:
        defaults = cls()
        values = {}
        for name in ("num_maskmem", "max_cond_frame_num", "max_object_pointers", "mask_size"):
            try:
                values[name] = int(metadata.get(name, getattr(defaults, name)))
            except ValueError as exc:
                raise LayoutError(f"memory_attention.onnx: metadata '{name}' is not a "
                                  f"number ({metadata[name]!r})") from exc
        return cls(**values)


def memory_paths(decoder_path: Path) -> dict[str, Path] | None:
    """The three memory graphs beside ``decoder_path``, or None if any is missing."""
    paths = {name.removesuffix(".onnx"): decoder_path.parent / name for name in MEMORY_GRAPHS}
    return paths if all(p.is_file() for p in paths.values()) else None


class MemoryGraphs:
    """The three memory graphs of a pack, opened on the tracker's provider."""

    def __init__(self, paths: dict[str, Path], provider: str = "cpu",
                 threads: int | None = None):
        self.paths = paths
        self.sessions = {name: open_session(path, provider, threads)[0]
                         for name, path in paths.items()}
        self._inputs = {name: specs(s.get_inputs()) for name, s in self.sessions.items()}
        expected = {
            "memory_encoder": {"image_embeddings.2", "mask_logits", "object_score_logits",
                               "binarize"},
            "memory_attention": {"image_embeddings.2", "memory_features", "memory_offsets",
                                 "object_pointers", "object_pointer_positions"},
            "mask_pointer": {"image_embeddings.2", "mask"},  # the pointer needs no fine levels
        }
        for name, names in expected.items():
            missing = names - set(self._inputs[name])
            if missing:
                raise LayoutError(f"{paths[name].name} is not a sam3-canvas memory graph: no "
                                  f"input '{sorted(missing)[0]}' (re-export it with "
                                  "`python -m sam3_canvas.twins.video_export`)")
        metadata = self.sessions["memory_attention"].get_modelmeta().custom_metadata_map
        self.settings = MemorySettings.from_metadata(dict(metadata))

    def _run(self, name: str, output: str, values: dict[str, np.ndarray]) -> np.ndarray:
        what = f"the memory graph {self.paths[name].name}"
        feed = build_feed(self._inputs[name], values, what)
        result = run_graph(self.sessions[name], [output], feed, what)[0]
        return np.asarray(result, dtype=np.float32)

    def encode(self, embedding: np.ndarray, mask_logits: np.ndarray, object_logit: float,
               binarize: bool) -> np.ndarray:
        """One frame's memory [64, h, w] from its features and its mask logits (any size)."""
        logits = np.asarray(mask_logits, np.float32)[None, None]
        return self._run("memory_encoder", "maskmem_features", {
            "image_embeddings.2": embedding,
            "mask_logits": logits,
            "object_score_logits": np.array([[object_logit]], np.float32),
            "binarize": np.array(bool(binarize)),
        })[0]

    def attend(self, embedding: np.ndarray, memories: np.ndarray, offsets: np.ndarray,
               pointers: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """The frame's features conditioned on the memories: the decoder's image_embeddings.2."""
        return self._run("memory_attention", "conditioned_embeddings", {
            "image_embeddings.2": embedding,
            "memory_features": np.asarray(memories, np.float32),
            "memory_offsets": np.asarray(offsets, np.int64),
            "object_pointers": np.asarray(pointers, np.float32),
            "object_pointer_positions": np.asarray(positions, np.float32),
        })

    def mask_pointer(self, embeddings: dict[str, np.ndarray], mask: np.ndarray) -> np.ndarray:
        """The object pointer [C] of a frame given as a mask at model size (0/1)."""
        values = {name: value for name, value in embeddings.items()
                  if name.startswith("image_embeddings.")}
        values["mask"] = np.asarray(mask, np.float32)[None, None]
        return self._run("mask_pointer", POINTER_OUTPUT, values)[0]
