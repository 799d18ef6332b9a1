"""Which published SAM3 layout a pair of graphs follows, read from the graphs themselves.

Layout B (the tracker: onnx-community/sam3-tracker-ONNX, transformers.js ``Sam3TrackerModel``)
is the click/box path: a vision encoder ``pixel_values -> image_embeddings.0..2`` and a
prompt decoder that returns three candidate masks with their predicted IoU. Names, dtypes and
ranks are checked here; sizes are read from the graph (static model size, dynamic counts) so
that float16 exports and other resolutions work without code changes. A graph that does not
fit is refused with a message that names the tensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import LayoutError

ORT_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(float16)": np.float16,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(uint8)": np.uint8,
    "tensor(bool)": np.bool_,
}
FLOATS = (np.float32, np.float16)
INTS = (np.int64, np.int32)

EMBEDDING_PREFIX = "image_embeddings."
DECODER_PROMPT_INPUTS = ("input_points", "input_labels", "input_boxes")
DECODER_OUTPUTS = ("iou_scores", "pred_masks", "object_score_logits")
#: names that mark a graph as part of the text (grounding) path, layouts A and A2
TEXT_PATH_MARKERS = {"image", "backbone_fpn_0", "tokens", "language_features", "box_coords",
                     "pred_logits", "text_memory", "vision_pos_enc_2"}


@dataclass(frozen=True)
class TensorSpec:
    name: str
    dtype: type
    shape: tuple  # ints for static dims, strings or None for dynamic ones

    def static(self, axis: int, default: int) -> int:
        dim = self.shape[axis]
        return dim if isinstance(dim, int) and dim > 0 else default


def specs(args) -> dict[str, TensorSpec]:
    """``session.get_inputs()`` or ``get_outputs()`` as name -> TensorSpec."""
    out = {}
    for arg in args:
        out[arg.name] = TensorSpec(arg.name, ORT_DTYPES.get(arg.type, object), tuple(arg.shape))
    return out


@dataclass(frozen=True)
class TrackerLayout:
    """What the app needs to know to feed and read a layout-B pair of graphs."""

    pixel_values: TensorSpec
    embedding_names: tuple[str, ...]  # encoder outputs the decoder takes, in order
    points: TensorSpec
    labels: TensorSpec
    boxes: TensorSpec
    outputs: tuple[str, ...] = DECODER_OUTPUTS

    @property
    def model_size(self) -> tuple[int, int]:
        """(width, height) of the model's input image, 1008 x 1008 for SAM3."""
        return self.pixel_values.static(3, 1008), self.pixel_values.static(2, 1008)

    @property
    def float_dtype(self):
        return self.pixel_values.dtype


def check_link(produced: TensorSpec, consumed: TensorSpec, producer: str,
               consumer: str) -> None:
    """Refuse, at load time, an output that cannot feed an input: another rank, or another
    static size. Dtypes may differ (they are cast at the boundary)."""
    if len(produced.shape) != len(consumed.shape):
        raise LayoutError(
            f"{producer} and {consumer} do not fit together: '{produced.name}' is "
            f"{list(produced.shape)} but '{consumed.name}' takes {list(consumed.shape)}; "
            "are they from the same pack and variant?")
    for axis, (a, b) in enumerate(zip(produced.shape, consumed.shape)):
        if isinstance(a, int) and isinstance(b, int) and a > 0 and b > 0 and a != b:
            raise LayoutError(
                f"{producer} and {consumer} do not fit together: '{produced.name}' is "
                f"{list(produced.shape)} but '{consumed.name}' takes {list(consumed.shape)} "
                f"(axis {axis}); are they from the same pack and variant?")


def _describe(items: dict[str, TensorSpec]) -> str:
    return ", ".join(f"{s.name} {np.dtype(s.dtype).name if s.dtype is not object else '?'}"
                     f"{list(s.shape)}" for s in items.values())


def _text_path_hint(names) -> str:
    if TEXT_PATH_MARKERS & set(names):
        return (" It looks like a text-path (layout A/A2) graph: use it with "
                "`sam3-canvas detect`, not for clicks and boxes.")
    return ""


def tracker_layout(encoder_inputs, encoder_outputs, decoder_inputs, decoder_outputs,
                   encoder_name: str = "vision encoder",
                   decoder_name: str = "prompt decoder") -> TrackerLayout:
    """Check two graphs' I/O against layout B; raise :class:`LayoutError` naming the misfit."""
    enc_in, enc_out = specs(encoder_inputs), specs(encoder_outputs)
    dec_in, dec_out = specs(decoder_inputs), specs(decoder_outputs)

    def fail(graph: str, what: str, have: dict[str, TensorSpec]) -> LayoutError:
        return LayoutError(f"{graph} does not fit the SAM3 tracker layout: {what} "
                           f"(it has {_describe(have)}).{_text_path_hint(have)}")

    pixel = enc_in.get("pixel_values")
    if pixel is None:
        raise fail(encoder_name, "no input 'pixel_values'", enc_in)
    if pixel.dtype not in FLOATS or len(pixel.shape) != 4:
        raise fail(encoder_name, "input 'pixel_values' must be a float tensor [batch, 3, H, W]",
                   enc_in)
    if pixel.shape[1] not in (3, None) and not isinstance(pixel.shape[1], str):
        raise fail(encoder_name, f"input 'pixel_values' has {pixel.shape[1]} channels, not 3",
                   enc_in)
    extra = [n for n in enc_in if n != "pixel_values"]
    if extra:
        raise fail(encoder_name, f"unexpected input '{extra[0]}'", enc_in)
    embeddings = sorted((n for n in enc_out if n.startswith(EMBEDDING_PREFIX)),
                        key=lambda n: int(n[len(EMBEDDING_PREFIX):])
                        if n[len(EMBEDDING_PREFIX):].isdigit() else 99)
    if not embeddings:
        raise fail(encoder_name, "no output named 'image_embeddings.N'", enc_out)

    for name in embeddings:
        if name not in dec_in:
            raise fail(decoder_name, f"no input '{name}' for the encoder's output", dec_in)
        check_link(enc_out[name], dec_in[name], encoder_name, decoder_name)
    for name in DECODER_PROMPT_INPUTS:
        if name not in dec_in:
            raise fail(decoder_name, f"no input '{name}'", dec_in)
    known = set(embeddings) | set(DECODER_PROMPT_INPUTS)
    extra = [n for n in dec_in if n not in known]
    if extra:
        raise fail(decoder_name, f"unexpected input '{extra[0]}'", dec_in)
    points, labels, boxes = (dec_in[n] for n in DECODER_PROMPT_INPUTS)
    if points.dtype not in FLOATS or len(points.shape) != 4:
        raise fail(decoder_name, "'input_points' must be float [batch, objects, points, 2]",
                   dec_in)
    if labels.dtype not in INTS or len(labels.shape) != 3:
        raise fail(decoder_name, "'input_labels' must be int [batch, objects, points]", dec_in)
    if boxes.dtype not in FLOATS or len(boxes.shape) != 3:
        raise fail(decoder_name, "'input_boxes' must be float [batch, boxes, 4]", dec_in)
    for name in DECODER_OUTPUTS:
        if name not in dec_out:
            raise fail(decoder_name, f"no output '{name}'", dec_out)
    masks = dec_out["pred_masks"]
    if len(masks.shape) != 5:
        raise fail(decoder_name, "'pred_masks' must be [batch, objects, 3, h, w]", dec_out)
    return TrackerLayout(pixel_values=pixel, embedding_names=tuple(embeddings),
                         points=points, labels=labels, boxes=boxes)
