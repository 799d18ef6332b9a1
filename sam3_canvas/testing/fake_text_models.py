"""Contract fakes of the SAM3 text path: layout A (legacy samexporter decoder: thresholded
boxes, scores, masks at the original size) and layout A2 (raw heads), built with onnx.helper.

Names, dtypes, ranks and static sizes are the published ones (MODEL_CONTRACTS sections 1.2 to
1.4 and 1.8). Behaviour, simple enough to check on any image:

* 200 query slots with fixed boxes on a 20 x 10 grid; each mask is the ellipse in its box;
* the class name's first token t switches on 1 + t % 3 slots: slot (37 k t) % 200 for
  k = 1, 2, 3 with logits 4, 3, 2 (see :func:`expected_slots`); the others have logit -4;
* presence logit +3, or -3 when the text is all padding;
* a positive exemplar box k (label 1, mask False) becomes slot 192 + k with logit 4.5; a
  negative one (label 0) sends every slot whose centre lies in it to -4;
* layout A thresholds sigmoid(logit) x sigmoid(presence) > 0.5 in the graph, returns masks
  resized to the original size and, like the legacy export, boxes scaled by a constant 1008
  instead of the image size (the box-scale caveat the app must not trust).

``python -m sam3_canvas.testing.fake_text_models DIR --layout A|A2`` writes a pack.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

from .fake_models import _Graph, _model

SLOTS = 200
LOW_RES = 288
TOKENS = 32
FEATURES = {"0": (288, 256), "1": (144, 256), "2": (72, 256)}  # level -> (side, channels)
SLOT_LOGITS = (4.0, 3.0, 2.0)
EXEMPLAR_LOGIT = 4.5
IMAGE_ENCODER = "sam3_image_encoder.onnx"
LANGUAGE_ENCODER = "sam3_language_encoder.onnx"
DECODER = "sam3_decoder.onnx"


def slot_boxes() -> np.ndarray:
    """(200, 4) normalised cx, cy, w, h of the query slots."""
    index = np.arange(SLOTS)
    cx = (index % 20 + 0.5) / 20
    cy = (index // 20 + 0.5) / 10
    w = 0.03 + 0.01 * (index % 3)
    h = 0.06 + 0.01 * (index % 4)
    return np.stack([cx, cy, w, h], axis=1).astype(np.float32)


def expected_slots(first_token: int) -> list[tuple[int, float]]:
    """(slot, logit) pairs that a class whose first token is ``first_token`` switches on."""
    out: dict[int, float] = {}
    for k in range(1, 2 + first_token % 3):
        slot = (first_token * 37 * k) % SLOTS
        out.setdefault(slot, SLOT_LOGITS[k - 1])
    return sorted(out.items())


def build_image_encoder() -> onnx.ModelProto:
    g = _Graph()
    pixels = g.op("Cast", ["image"], to=TensorProto.FLOAT)  # [3,1008,1008]
    gray = g.op("Unsqueeze", [g.op("ReduceMean", [pixels, g.const([0], np.int64)], keepdims=1),
                              g.const([0], np.int64)])  # [1,1,1008,1008]
    outputs = []
    for level, (side, channels) in FEATURES.items():
        pooled = g.op("Resize", [gray, "", "", g.const([1, 1, side, side], np.int64)],
                      mode="linear")
        weight = g.const(np.linspace(0.5, 1.5, channels, dtype=np.float32).reshape(1, -1, 1, 1)
                         / 255.0)
        g.op_to("Mul", [pooled, weight], f"backbone_fpn_{level}")
        ys = (np.arange(side, dtype=np.float32) + 0.5) / side
        position = np.sin(np.outer(np.linspace(1, 8, channels), ys)).astype(np.float32)
        g.op_to("Expand", [g.const(position.reshape(1, channels, side, 1)),
                           g.const([1, channels, side, side], np.int64)],
                f"vision_pos_enc_{level}")
        outputs += [(f"vision_pos_enc_{level}", channels, side),
                    (f"backbone_fpn_{level}", channels, side)]
    order = [f"vision_pos_enc_{i}" for i in "012"] + [f"backbone_fpn_{i}" for i in "012"]
    shapes = {name: [1, c, s, s] for name, c, s in outputs}
    graph = helper.make_graph(
        g.nodes, "sam3_fake_image_encoder",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, [3, 1008, 1008])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, shapes[n]) for n in order], g.inits)
    return _model(graph)


def build_language_encoder(tokens_len: int = TOKENS) -> onnx.ModelProto:
    g = _Graph()
    tokens = "tokens"  # [1, context] int64
    g.op_to("Equal", [tokens, g.const(0, np.int64)], "text_attention_mask")  # True = padding
    as_float = g.op("Div", [g.op("Cast", [tokens], to=TensorProto.FLOAT), g.const(49408.0)])
    table = np.random.default_rng(3).normal(0, 0.1, (997, 255)).astype(np.float32)
    rows = g.op("Gather", [g.const(table), g.op("Mod", [tokens, g.const(997, np.int64)])],
                axis=0)  # [1,32,255]
    memory = g.op("Concat", [g.op("Unsqueeze", [as_float, g.const([2], np.int64)]), rows],
                  axis=2)  # [1,32,256]
    g.op_to("Transpose", [memory], "text_memory", perm=[1, 0, 2])  # [32,1,256]
    g.op_to("Expand", [g.op("Unsqueeze", [g.op("Transpose", [as_float], perm=[1, 0]),
                                           g.const([2], np.int64)]),
                       g.const([tokens_len, 1, 1024], np.int64)], "text_embeds")
    graph = helper.make_graph(
        g.nodes, "sam3_fake_language_encoder",
        [helper.make_tensor_value_info("tokens", TensorProto.INT64, [1, tokens_len])],
        [helper.make_tensor_value_info("text_attention_mask", TensorProto.BOOL,
                                       [1, tokens_len]),
         helper.make_tensor_value_info("text_memory", TensorProto.FLOAT, [tokens_len, 1, 256]),
         helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT,
                                       [tokens_len, 1, 1024])],
        g.inits)
    return _model(graph)


def build_hf_language_encoder(tokens_len: int = 16) -> onnx.ModelProto:
    """The contract of the published LiteText text-encoder ONNX (HF style): input_ids and
    attention_mask in, batch-first text_features and text_mask out. sam3-canvas refuses it."""
    g = _Graph()
    ids = g.op("Cast", ["input_ids"], to=TensorProto.FLOAT)
    g.op_to("Expand", [g.op("Unsqueeze", [ids, g.const([2], np.int64)]),
                       g.const([1, tokens_len, 256], np.int64)], "text_features")
    g.op_to("Equal", ["attention_mask", g.const(1, np.int64)], "text_mask")
    graph = helper.make_graph(
        g.nodes, "litetext_hf_text_encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [1, tokens_len]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, [1, tokens_len])],
        [helper.make_tensor_value_info("text_features", TensorProto.FLOAT,
                                       [1, tokens_len, 256]),
         helper.make_tensor_value_info("text_mask", TensorProto.BOOL, [1, tokens_len])],
        g.inits)
    return _model(graph)


def _raw_heads(g: _Graph, capacity: int) -> tuple[str, str, str, str]:
    """pred_boxes [1,200,4], pred_logits [1,200,1], pred_masks [1,200,288,288], presence."""
    i64 = lambda v: g.const(v, np.int64)  # noqa: E731
    first = g.op("Reshape", [g.op("Slice", ["language_features", i64([1, 0, 0]), i64([2, 1, 1]),
                                            i64([0, 1, 2])]), i64([])])
    tid = g.op("Cast", [g.op("Round", [g.op("Mul", [first, g.const(49408.0)])])],
               to=TensorProto.INT64)
    k = i64([1, 2, 3])
    count = g.op("Add", [g.op("Mod", [tid, i64(3)]), i64(1)])
    hits = g.op("Mod", [g.op("Mul", [g.op("Mul", [tid, i64(37)]), k]), i64(SLOTS)])  # [3]
    valid = g.op("LessOrEqual", [k, count])
    slots = g.op("Unsqueeze", [i64(np.arange(SLOTS)), i64([1])])  # [200,1]
    on = g.op("And", [g.op("Equal", [slots, hits]), valid])  # [200,3]
    per_k = g.op("Where", [on, g.const(np.array(SLOT_LOGITS, np.float32)), g.const(-4.0)])
    logits = g.op("ReduceMax", [per_k, i64([1])], keepdims=0)  # [200]

    boxes = g.const(slot_boxes())  # [200,4]
    ex_boxes = g.op("Reshape", ["box_coords", i64([capacity, 4])])
    ex_labels = g.op("Reshape", ["box_labels", i64([capacity])])
    real = g.op("Not", [g.op("Reshape", ["box_masks", i64([capacity])])])
    positive = g.op("And", [real, g.op("Equal", [ex_labels, i64(1)])])
    negative = g.op("And", [real, g.op("Equal", [ex_labels, i64(0)])])
    # negatives: slots whose centre lies in a negative box are switched off
    centre = g.op("Slice", [boxes, i64([0]), i64([2]), i64([1])])  # [200,2]
    half = g.op("Div", [g.op("Slice", [ex_boxes, i64([2]), i64([4]), i64([1])]), g.const(2.0)])
    ex_centre = g.op("Slice", [ex_boxes, i64([0]), i64([2]), i64([1])])
    lo = g.op("Unsqueeze", [g.op("Sub", [ex_centre, half]), i64([0])])  # [1,K,2]
    hi = g.op("Unsqueeze", [g.op("Add", [ex_centre, half]), i64([0])])
    c3 = g.op("Unsqueeze", [centre, i64([1])])  # [200,1,2]
    inside = g.op("ReduceMin", [g.op("Cast", [g.op("And", [
        g.op("GreaterOrEqual", [c3, lo]), g.op("LessOrEqual", [c3, hi])])],
        to=TensorProto.FLOAT), i64([2])], keepdims=0)  # [200,K]
    hit_negative = g.op("ReduceMax", [g.op("Mul", [inside, g.op("Cast", [negative],
                                                                   to=TensorProto.FLOAT)]),
                                      i64([1])], keepdims=0)  # [200]
    logits = g.op("Where", [g.op("Greater", [hit_negative, g.const(0.5)]), g.const(-4.0),
                            logits])
    # positives: slot 192 + k becomes exemplar k
    keep = SLOTS - capacity
    head_logits = g.op("Slice", [logits, i64([0]), i64([keep]), i64([0])])
    tail_logits = g.op("Where", [positive, g.const(EXEMPLAR_LOGIT),
                                 g.op("Slice", [logits, i64([keep]), i64([SLOTS]), i64([0])])])
    logits = g.op("Concat", [head_logits, tail_logits], axis=0)
    tail_boxes = g.op("Where", [g.op("Unsqueeze", [positive, i64([1])]), ex_boxes,
                                g.op("Slice", [boxes, i64([keep]), i64([SLOTS]), i64([0])])])
    boxes = g.op("Concat", [g.op("Slice", [boxes, i64([0]), i64([keep]), i64([0])]),
                            tail_boxes], axis=0)  # [200,4]

    grid = (np.arange(LOW_RES, dtype=np.float32) + 0.5) / LOW_RES
    gx = g.const(grid.reshape(1, 1, LOW_RES))
    gy = g.const(grid.reshape(1, LOW_RES, 1))
    part = lambda i: g.op("Reshape", [g.op("Slice", [boxes, i64([i]), i64([i + 1]),  # noqa
                                                    i64([1])]), i64([SLOTS, 1, 1])])
    cx, cy, w, h = (part(i) for i in range(4))
    dx = g.op("Div", [g.op("Sub", [gx, cx]), g.op("Div", [w, g.const(2.0)])])
    dy = g.op("Div", [g.op("Sub", [gy, cy]), g.op("Div", [h, g.const(2.0)])])
    ellipse = g.op("Sub", [g.const(1.0), g.op("Add", [g.op("Mul", [dx, dx]),
                                                     g.op("Mul", [dy, dy])])])
    masks = g.op("Unsqueeze", [g.op("Mul", [ellipse, g.const(4.0)]), i64([0])])
    all_padding = g.op("ReduceMin", [g.op("Cast", ["language_mask"], to=TensorProto.FLOAT)],
                       keepdims=0)
    presence = g.op("Where", [g.op("Greater", [all_padding, g.const(0.5)]), g.const(-3.0),
                              g.const(3.0)])
    presence = g.op("Reshape", [presence, i64([1, 1])])
    return (g.op("Unsqueeze", [boxes, i64([0])]),
            g.op("Reshape", [logits, i64([1, SLOTS, 1])]), masks, presence)


def _decoder_inputs(capacity: int, tokens_len: int = TOKENS, mask_type=TensorProto.BOOL,
                    all_inputs: bool = False) -> list:
    """The decoder's inputs: the 11 the published legacy graphs keep, or all 14 the exporter
    declares (``all_inputs``: torch's dynamo exporter keeps the unused vision_pos_enc_0/1
    and language_embeds); ``mask_type`` FLOAT for the INT8 browser pack's language_mask."""
    inputs = [helper.make_tensor_value_info("original_height", TensorProto.INT64, []),
              helper.make_tensor_value_info("original_width", TensorProto.INT64, [])]
    if all_inputs:
        inputs += [helper.make_tensor_value_info(f"vision_pos_enc_{i}", TensorProto.FLOAT,
                                                 [1, 256, s, s]) for i, s in ((0, 288),
                                                                              (1, 144))]
    inputs += [helper.make_tensor_value_info("vision_pos_enc_2", TensorProto.FLOAT,
                                             [1, 256, 72, 72])]
    inputs += [helper.make_tensor_value_info(f"backbone_fpn_{i}", TensorProto.FLOAT,
                                             [1, 256, s, s]) for i, s in ((0, 288), (1, 144),
                                                                          (2, 72))]
    if all_inputs:
        inputs += [helper.make_tensor_value_info("language_embeds", TensorProto.FLOAT,
                                                 [tokens_len, 1, 1024])]
    inputs += [helper.make_tensor_value_info("language_mask", mask_type, [1, tokens_len]),
               helper.make_tensor_value_info("language_features", TensorProto.FLOAT,
                                             [tokens_len, 1, 256]),
               helper.make_tensor_value_info("box_coords", TensorProto.FLOAT, [capacity, 1, 4]),
               helper.make_tensor_value_info("box_labels", TensorProto.INT64, [capacity, 1]),
               helper.make_tensor_value_info("box_masks", TensorProto.BOOL, [1, capacity])]
    return inputs


def build_decoder_a2(capacity: int = 8, **inputs) -> onnx.ModelProto:
    g = _Graph()
    boxes, logits, masks, presence = _raw_heads(g, capacity)
    for value, name in ((boxes, "pred_boxes"), (logits, "pred_logits"), (masks, "pred_masks"),
                        (presence, "presence_logit_dec")):
        g.op_to("Identity", [value], name)
    outputs = [helper.make_tensor_value_info("pred_boxes", TensorProto.FLOAT, [1, SLOTS, 4]),
               helper.make_tensor_value_info("pred_logits", TensorProto.FLOAT, [1, SLOTS, 1]),
               helper.make_tensor_value_info("pred_masks", TensorProto.FLOAT,
                                             [1, SLOTS, LOW_RES, LOW_RES]),
               helper.make_tensor_value_info("presence_logit_dec", TensorProto.FLOAT, [1, 1])]
    graph = helper.make_graph(g.nodes, "sam3_fake_decoder_a2",
                              _decoder_inputs(capacity, **inputs), outputs, g.inits)
    return _model(graph)


def build_decoder_a(**inputs) -> onnx.ModelProto:
    g = _Graph()
    i64 = lambda v: g.const(v, np.int64)  # noqa: E731
    boxes, logits, masks, presence = _raw_heads(g, 1)
    score = g.op("Mul", [g.op("Sigmoid", [g.op("Reshape", [logits, i64([SLOTS])])]),
                         g.op("Sigmoid", [g.op("Reshape", [presence, i64([1])])])])  # [200]
    index = g.op("Reshape", [g.op("NonZero", [g.op("Greater", [score, g.const(0.5)])]),
                             i64([-1])])  # [N]
    g.op_to("Gather", [score, index], "scores", axis=0)
    flat = g.op("Reshape", [boxes, i64([SLOTS, 4])])
    cxcy = g.op("Slice", [flat, i64([0]), i64([2]), i64([1])])
    half = g.op("Div", [g.op("Slice", [flat, i64([2]), i64([4]), i64([1])]), g.const(2.0)])
    xyxy = g.op("Concat", [g.op("Sub", [cxcy, half]), g.op("Add", [cxcy, half])], axis=1)
    frozen = g.op("Mul", [xyxy, g.const(1008.0)])  # the traced export froze the dummy size
    g.op_to("Gather", [frozen, index], "boxes", axis=0)
    kept = g.op("Unsqueeze", [g.op("Gather", [g.op("Reshape", [masks, i64([SLOTS, LOW_RES,
                                                                          LOW_RES])]), index],
                                   axis=0), i64([1])])  # [N,1,288,288]
    size = g.op("Concat", [g.op("Slice", [g.op("Shape", [kept]), i64([0]), i64([2])]),
                           g.op("Reshape", ["original_height", i64([1])]),
                           g.op("Reshape", ["original_width", i64([1])])], axis=0)
    resized = g.op("Resize", [kept, "", "", size], mode="linear",
                   coordinate_transformation_mode="half_pixel")
    g.op_to("Greater", [g.op("Sigmoid", [resized]), g.const(0.5)], "masks")
    outputs = [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["N", 4]),
               helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N"]),
               helper.make_tensor_value_info("masks", TensorProto.BOOL, ["N", 1, "H", "W"])]
    graph = helper.make_graph(g.nodes, "sam3_fake_decoder_a", _decoder_inputs(1, **inputs),
                              outputs, g.inits)
    return _model(graph)


def write_text_pack(folder: str | Path, layout: str = "A", external_data: bool = False,
                    language_mask: str = "bool", all_inputs: bool = False,
                    subfolder: str | None = None, tokens: int = TOKENS,
                    language_contract: str = "sam3") -> Path:
    """Write a fake text pack into ``folder`` (or ``folder/subfolder``, as nrl-ai publishes
    A2 under ``sam3/``); returns ``folder``. The variants of the published packs:
    ``language_mask="float32"`` (the INT8 browser pack's card), ``all_inputs`` (a dynamo
    export's 14 decoder inputs), ``tokens`` (the context length), ``language_contract="hf"``
    (the published LiteText text encoder's input_ids/attention_mask contract)."""
    folder = Path(folder)
    target = folder / subfolder if subfolder else folder
    target.mkdir(parents=True, exist_ok=True)
    inputs = {"tokens_len": tokens, "all_inputs": all_inputs,
              "mask_type": TensorProto.FLOAT if language_mask == "float32" else TensorProto.BOOL}
    decoder = build_decoder_a(**inputs) if layout == "A" else build_decoder_a2(**inputs)
    language = build_hf_language_encoder(tokens) if language_contract == "hf" else \
        build_language_encoder(tokens)
    for model, name in ((build_image_encoder(), IMAGE_ENCODER), (language, LANGUAGE_ENCODER),
                        (decoder, DECODER)):
        if external_data:
            onnx.save(model, str(target / name), save_as_external_data=True,
                      all_tensors_to_one_file=True, location=name + ".data",
                      size_threshold=1024)
        else:
            onnx.save(model, str(target / name))
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sam3_canvas.testing.fake_text_models",
                                     description="Write a fake SAM3 text-path pack.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--layout", choices=("A", "A2"), default="A")
    args = parser.parse_args(argv)
    write_text_pack(args.folder, args.layout)
    print(f"fake SAM3 text pack (layout {args.layout}) written to {args.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
