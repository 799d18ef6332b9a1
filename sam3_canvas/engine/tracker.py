"""The two tracker graphs (layout B) as one object: encode an image, decode a prompt."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .device import (
    DEVICE_OF,
    DeviceEmbeddings,
    binding_wanted,
    run_from_device,
    run_to_device,
)
from .feeds import build_feed
from .identity import model_identity
from .layouts import ORT_DTYPES, TrackerLayout, specs, tracker_layout
from .memory import POINTER_OUTPUT, MemoryGraphs, memory_paths
from .sessions import SessionInfo, open_session, run_graph


@dataclass(frozen=True)
class DecoderOutput:
    ious: np.ndarray  # (K,) predicted IoU per candidate
    logits: np.ndarray  # (K, h, w) float32 low-resolution mask logits
    object_logit: float
    pointers: np.ndarray | None = None  # (K, C) object pointer per candidate (memory packs)


class TrackerModel:
    """A vision encoder and a prompt decoder, checked against layout B at load time."""

    def __init__(self, encoder_path: str | os.PathLike, decoder_path: str | os.PathLike,
                 provider: str = "cpu", threads: int | None = None,
                 identity_memo: str | os.PathLike | None = None,
                 device_binding: bool | None = None):
        self.encoder_path = Path(encoder_path)
        self.decoder_path = Path(decoder_path)
        self.encoder, self.encoder_info = open_session(self.encoder_path, provider, threads)
        self.decoder, self.decoder_info = open_session(self.decoder_path, provider, threads)
        self.layout: TrackerLayout = tracker_layout(
            self.encoder.get_inputs(), self.encoder.get_outputs(),
            self.decoder.get_inputs(), self.decoder.get_outputs(),
            encoder_name=self.encoder_path.name, decoder_name=self.decoder_path.name)
        #: identity of the encoder's weights (sha256 of the graph and its external data):
        #: part of every embedding cache key; ``identity_memo`` is the JSON file that
        #: remembers file digests across processes (None: this process only)
        self.identity = model_identity(self.encoder_path, identity_memo)
        outputs = {o.name: o for o in self.encoder.get_outputs()}
        self.embedding_dtypes = {name: ORT_DTYPES.get(outputs[name].type, np.float32)
                                 for name in self.layout.embedding_names}
        self._encoder_inputs = specs(self.encoder.get_inputs())
        self._decoder_inputs = specs(self.decoder.get_inputs())
        self._provider_request = (provider, threads)
        self.has_pointer = POINTER_OUTPUT in {o.name for o in self.decoder.get_outputs()}
        #: keep the embeddings on the device between encoder and decoder (IO binding): by
        #: default on a GPU, where it saves two copies; ``True`` forces it (tests on CPU)
        self.device_binding = binding_wanted(
            {self.encoder_info.active, self.decoder_info.active}, device_binding)
        self._binding_ok = all(self._decoder_inputs[n].dtype == self.embedding_dtypes[n]
                               for n in self.layout.embedding_names)

    @property
    def memory_unavailable(self) -> str | None:
        """Why this pack cannot track with memory (None: it can)."""
        if memory_paths(self.decoder_path) is None:
            return (f"the pack has no memory graphs beside {self.decoder_path.name} (make them "
                    "with `python -m sam3_canvas.twins.video_export`)")
        if not self.has_pointer:
            return (f"{self.decoder_path.name} has no output '{POINTER_OUTPUT}' (export the "
                    "decoder together with the memory graphs)")
        return None

    @cached_property
    def memory(self) -> MemoryGraphs:
        """The memory graphs, opened on first use; check :attr:`memory_unavailable` first."""
        paths = memory_paths(self.decoder_path)
        if paths is None or not self.has_pointer:
            raise FileNotFoundError(self.memory_unavailable)
        provider, threads = self._provider_request
        return MemoryGraphs(paths, provider, threads)

    @property
    def provider(self) -> str:
        """The provider that actually runs the encoder (the slow graph)."""
        return self.encoder_info.active

    @property
    def fallback_reason(self) -> str | None:
        return self.encoder_info.fallback_reason or self.decoder_info.fallback_reason

    @property
    def session_info(self) -> SessionInfo:
        return self.encoder_info

    @property
    def batch_limit(self) -> int | None:
        """Images the encoder takes in one run: None for any number (the published graphs
        have a dynamic batch dimension), else the graph's fixed batch size."""
        dim = self.layout.pixel_values.shape[0]
        return dim if isinstance(dim, int) and dim > 0 else None

    def encode(self, pixel_values: np.ndarray, run_options=None) -> dict[str, np.ndarray]:
        """Run the vision encoder on ``pixel_values`` [N, 3, H, W]; the embeddings keep the
        batch dimension. ``run_options.terminate = True`` from another thread cancels a
        running encode (onnxruntime raises), which is how the app stops fast."""
        what = f"the vision encoder ({self.encoder_path.name})"
        feed = build_feed(self._encoder_inputs, {"pixel_values": pixel_values}, what)
        outs = run_graph(self.encoder, list(self.layout.embedding_names), feed, what,
                         run_options)
        return dict(zip(self.layout.embedding_names, outs))

    def encode_batch(self, pixel_values: np.ndarray, run_options=None
                     ) -> list[dict[str, np.ndarray]]:
        """One encoder run over N images: each image's embeddings, batch dimension 1."""
        embeddings = self.encode(pixel_values, run_options)
        if len(pixel_values) == 1:
            return [embeddings]
        return [{name: np.array(value[i:i + 1]) for name, value in embeddings.items()}
                for i in range(len(pixel_values))]

    def encode_on_device(self, pixel_values: np.ndarray, run_options=None
                         ) -> list[DeviceEmbeddings]:
        """The vision encoder with its outputs left on the device (IO binding): one
        :class:`DeviceEmbeddings` per image of the batch."""
        what = f"the vision encoder ({self.encoder_path.name})"
        feed = build_feed(self._encoder_inputs, {"pixel_values": pixel_values}, what)
        device = DEVICE_OF.get(self.encoder_info.active, "cpu")
        return run_to_device(self.encoder, feed, list(self.layout.embedding_names), device,
                             what, len(pixel_values), run_options)

    def decode(self, embeddings: Mapping[str, np.ndarray], points: np.ndarray,
               labels: np.ndarray, boxes: np.ndarray, with_pointer: bool = False
               ) -> DecoderOutput:
        layout = self.layout
        what = f"the prompt decoder ({self.decoder_path.name})"
        names = list(layout.outputs) + ([POINTER_OUTPUT] if with_pointer else [])
        prompt = {"input_points": points, "input_labels": labels, "input_boxes": boxes}
        if isinstance(embeddings, DeviceEmbeddings) and self._binding_ok:
            # the embeddings stay where they are; only the decoder's outputs come back
            feed = build_feed({k: v for k, v in self._decoder_inputs.items() if k in prompt},
                              prompt, what)
            ious, masks, objects, *pointer = run_from_device(self.decoder, feed, embeddings,
                                                             names, what)
        else:
            # embeddings are cast to what the decoder declares (a float16 encoder may sit
            # beside a float32 decoder: the catalogue pairs a variant's encoder with the fp32
            # decoder)
            feed = build_feed(self._decoder_inputs, {**embeddings, **prompt}, what)
            ious, masks, objects, *pointer = run_graph(self.decoder, names, feed, what)
        return DecoderOutput(ious=np.asarray(ious[0, 0], dtype=np.float64),
                             logits=np.asarray(masks[0, 0], dtype=np.float32),
                             object_logit=float(np.asarray(objects).reshape(-1)[0]),
                             pointers=np.asarray(pointer[0][0, 0], np.float32) if pointer
                             else None)
