"""Contract fakes of the SAM3 tracker graphs (layout B), built with ``onnx.helper``.

They have exactly the published input and output names, dtypes and ranks (MODEL_CONTRACTS
section 2), the same dynamic dimensions (batch, objects, points and boxes, which may be 0) and
the real sizes (1008 input, 288 x 288 masks), so the app runs them through the same code as the
real files. Their behaviour is simple geometry that a test can check on any image:

* a foreground click gives three discs centred on it, of radius 60, 120 and 240 model pixels
  (ellipses on a non-square photo, because the model stretches it to a square);
* a box gives that box as candidate 1, and the box shrunk and grown by 8 model pixels as
  candidates 0 and 2; clicks and a box together give their union;
* a background click carves a hole of radius 40 model pixels out of every candidate;
* the predicted IoUs are 0.62, 0.91, 0.77, so candidate 1 ranks first;
* the object logit is the largest logit of candidate 1, clipped to +-10: negative when the
  prompt selects nothing (background clicks only).

The encoder really reads the image (its embeddings are pooled pixel means), so different
images give different embeddings and the caches can be checked.

Run ``python -m sam3_canvas.testing.fake_models DIR`` to write a pack a user can point the app
at; ``--variant fp16`` writes float16 weights with float32 I/O (as published; ``--io float16``
for float16 I/O), ``--external-data`` stores weights beside the graph.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 18
MODEL_SIZE = 1008
LOW_RES = 288
CELL = MODEL_SIZE / LOW_RES  # 3.5 model pixels per mask cell
RADII = (60.0, 120.0, 240.0)
BOX_OFFSETS = (-8.0, 0.0, 8.0)
HOLE_RADIUS = 40.0
IOUS = (0.62, 0.91, 0.77)
BIG = 1.0e4
EMBEDDING_SHAPES = {  # name -> (channels, side)
    "image_embeddings.0": (32, 288),
    "image_embeddings.1": (64, 144),
    "image_embeddings.2": (256, 72),
}
ENCODER_FILE = "vision_encoder{suffix}.onnx"
DECODER_FILE = "prompt_encoder_mask_decoder{suffix}.onnx"


class _Graph:
    """A tiny builder that keeps node names unique and constants as initializers."""

    def __init__(self):
        self.nodes, self.inits, self._n = [], [], 0

    def name(self, base: str) -> str:
        self._n += 1
        return f"{base}_{self._n}"

    def const(self, value, dtype=np.float32, base="c") -> str:
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, inputs, base=None, **attrs) -> str:
        out = self.name(base or op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def op_to(self, op_type: str, inputs, output: str, **attrs) -> str:
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], **attrs))
        return output


def _float_type(fp16: bool):
    return TensorProto.FLOAT16 if fp16 else TensorProto.FLOAT


def _input(g: _Graph, name: str, fp16: bool) -> str:
    """Graph input ``name`` as float32 inside the graph (a Cast when the I/O is float16)."""
    return g.op("Cast", [name], base=name.replace(".", "_") + "_f32", to=TensorProto.FLOAT) \
        if fp16 else name


def _output(g: _Graph, value: str, name: str, fp16: bool) -> None:
    if fp16:
        g.op_to("Cast", [value], name, to=TensorProto.FLOAT16)
    else:
        g.op_to("Identity", [value], name)


def build_encoder(fp16: bool = False, work: int = 0,
                  shapes: dict[str, tuple[int, int]] | None = None,
                  nan_when_dark: bool = False) -> onnx.ModelProto:
    """``work`` > 0 adds that many 1008 x 1008 matrix products that depend on the image (tens
    of milliseconds each): a slow encoder for threading tests and the GUI-stall benchmark.
    ``nan_when_dark``: every embedding of an image darker than mid-grey is NaN (the square
    root of its negative mean), as a damaged or badly converted encoder gives on some
    images only."""
    g = _Graph()
    ftype = _float_type(fp16)
    pixels = _input(g, "pixel_values", fp16)
    gray = g.op("ReduceMean", [pixels, g.const([1], np.int64)], keepdims=1)  # [b,1,1008,1008]
    if work > 0:
        plane = g.op("Reshape", [g.op("Slice", [gray, g.const([0], np.int64),
                                                g.const([1], np.int64)]),
                                 g.const([MODEL_SIZE, MODEL_SIZE], np.int64)])
        for _ in range(work):
            plane = g.op("Tanh", [g.op("Mul", [g.op("MatMul", [plane, plane]),
                                               g.const(1e-3)])])
        nothing = g.op("Mul", [g.op("ReduceMean", [plane], keepdims=0), g.const(0.0)])
        gray = g.op("Add", [gray, nothing])
    if nan_when_dark:
        mean = g.op("ReduceMean", [pixels, g.const([1, 2, 3], np.int64)], keepdims=1)
        gray = g.op("Mul", [gray, g.op("Sqrt", [mean])])  # NaN where the mean is negative
    shapes = shapes or EMBEDDING_SHAPES
    for name, (channels, side) in shapes.items():
        batch = g.op("Slice", [g.op("Shape", [gray]), g.const([0], np.int64),
                               g.const([1], np.int64)])
        sizes = g.op("Concat", [batch, g.const([1, side, side], np.int64)], axis=0)
        pooled = g.op("Resize", [gray, "", "", sizes], mode="linear",
                      coordinate_transformation_mode="half_pixel")
        # a weight per channel, so the graph has real initializers (and external data works)
        weight = g.const(np.linspace(0.5, 1.5, channels, dtype=np.float32).reshape(1, -1, 1, 1))
        _output(g, g.op("Mul", [pooled, weight]), name, fp16)
    inputs = [helper.make_tensor_value_info("pixel_values", ftype,
                                            ["batch", 3, MODEL_SIZE, MODEL_SIZE])]
    outputs = [helper.make_tensor_value_info(name, ftype, ["batch", c, s, s])
               for name, (c, s) in shapes.items()]
    graph = helper.make_graph(g.nodes, "sam3_tracker_fake_vision_encoder", inputs, outputs,
                              g.inits)
    return _model(graph)


def oracle_logits(mask: np.ndarray, offsets=(-2.0, 0.0, 2.0)) -> np.ndarray:
    """Three low-res candidates (eroded, exact, dilated) from a full-size ground-truth mask.

    The signed distance to the mask's edge, in mask cells, sampled on the model's 288 x 288
    grid (the stretched image), so the app's upsampling gives the mask back."""
    import cv2

    mask = np.asarray(mask, dtype=bool)
    height, width = mask.shape
    inside = cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)
    outside = cv2.distanceTransform((~mask).astype(np.uint8), cv2.DIST_L2, 5)
    signed = np.where(mask, inside - 0.5, 0.5 - outside).astype(np.float32)
    low = cv2.resize(signed, (LOW_RES, LOW_RES), interpolation=cv2.INTER_AREA)
    low = low / (max(width, height) / LOW_RES)  # pixels -> mask cells
    return np.stack([low + o for o in offsets])[None, None].astype(np.float32)


def build_decoder(fp16: bool = False, oracle: np.ndarray | None = None) -> onnx.ModelProto:
    """``oracle`` (1, 1, 3, 288, 288) replaces the discs: any click gives those candidates."""
    g = _Graph()
    ftype = _float_type(fp16)
    i64 = lambda v: g.const(v, np.int64)  # noqa: E731
    for name in EMBEDDING_SHAPES:
        _input(g, name, fp16)  # declared and cast like the real decoder; geometry ignores them
    points = _input(g, "input_points", fp16)  # [b,n,p,2]
    boxes = _input(g, "input_boxes", fp16)  # [b,nb,4]
    labels = "input_labels"  # [b,n,p] int64

    centres = (np.arange(LOW_RES, dtype=np.float32) + 0.5) * CELL
    gx6 = g.const(centres.reshape(1, 1, 1, 1, 1, LOW_RES))
    gy6 = g.const(centres.reshape(1, 1, 1, 1, LOW_RES, 1))
    half = g.const(0.5)

    # distance of every mask cell to every point: [b,n,p,1,288,288]
    px = g.op("Add", [g.op("Slice", [points, i64([0]), i64([1]), i64([3])]), half])  # [b,n,p,1]
    py = g.op("Add", [g.op("Slice", [points, i64([1]), i64([2]), i64([3])]), half])
    px6 = g.op("Unsqueeze", [px, i64([4, 5])])
    py6 = g.op("Unsqueeze", [py, i64([4, 5])])
    dx = g.op("Sub", [gx6, px6])
    dy = g.op("Sub", [gy6, py6])
    dist = g.op("Sqrt", [g.op("Add", [g.op("Mul", [dx, dx]), g.op("Mul", [dy, dy])])])

    labels6 = g.op("Unsqueeze", [labels, i64([3, 4, 5])])  # [b,n,p,1,1,1]
    is_fg = g.op("Equal", [labels6, i64(1)])
    is_bg = g.op("Equal", [labels6, i64(0)])
    radii = g.const(np.array(RADII, np.float32).reshape(1, 1, 1, 3, 1, 1))
    discs = g.op("Where", [is_fg, g.op("Sub", [radii, dist]), g.const(-BIG)])  # [b,n,p,3,..]
    # one extra slice of -BIG so that zero points reduce to "nothing" instead of failing
    discs = g.op("Pad", [discs, i64([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]), g.const(-BIG)])
    fg = g.op("ReduceMax", [discs, i64([2])], keepdims=0)  # [b,n,3,288,288]
    if oracle is not None:  # the ground truth wherever a foreground point was given
        clicked = g.op("Greater", [fg, g.const(-BIG / 2)])
        fg = g.op("Where", [clicked, g.op("Mul", [g.const(oracle), g.const(CELL)]),
                            g.const(-BIG)])
    holes = g.op("Where", [is_bg, g.op("Sub", [dist, g.const(HOLE_RADIUS)]), g.const(BIG)])
    holes = g.op("Pad", [holes, i64([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]), g.const(BIG)])
    bg = g.op("ReduceMin", [holes, i64([2])], keepdims=0)  # [b,n,1,288,288]

    # boxes: signed distance inside each box, union over boxes: [b,1,3,288,288]
    gx4 = g.const(centres.reshape(1, 1, 1, LOW_RES))
    gy4 = g.const(centres.reshape(1, 1, LOW_RES, 1))
    shifted = g.op("Add", [boxes, half])
    coord = {k: g.op("Unsqueeze", [g.op("Slice", [shifted, i64([i]), i64([i + 1]), i64([2])]),
                                   i64([3])])
             for i, k in enumerate(("x1", "y1", "x2", "y2"))}  # [b,nb,1,1]
    inside = g.op("Min", [g.op("Sub", [gx4, coord["x1"]]), g.op("Sub", [coord["x2"], gx4]),
                          g.op("Sub", [gy4, coord["y1"]]), g.op("Sub", [coord["y2"], gy4])])
    inside = g.op("Pad", [inside, i64([0, 0, 0, 0, 0, 1, 0, 0]), g.const(-BIG)])
    box_union = g.op("ReduceMax", [inside, i64([1])], keepdims=1)  # [b,1,288,288]
    offsets = g.const(np.array(BOX_OFFSETS, np.float32).reshape(1, 1, 3, 1, 1))
    box5 = g.op("Add", [g.op("Unsqueeze", [box_union, i64([2])]), offsets])

    logits = g.op("Min", [g.op("Max", [fg, box5]), bg])  # model pixels, + inside
    logits = g.op("Div", [logits, g.const(CELL)])  # in mask cells, like real logit scales
    _output(g, logits, "pred_masks", fp16)

    shape3 = g.op("Slice", [g.op("Shape", [logits]), i64([0]), i64([3])])  # [b,n,3]
    ious = g.op("Expand", [g.const(np.array(IOUS, np.float32)), shape3])
    _output(g, ious, "iou_scores", fp16)
    middle = g.op("Slice", [logits, i64([1]), i64([2]), i64([2])])  # [b,n,1,288,288]
    peak = g.op("ReduceMax", [middle, i64([2, 3, 4])], keepdims=0)  # [b,n]
    score = g.op("Clip", [peak, g.const(-10.0), g.const(10.0)])
    _output(g, g.op("Unsqueeze", [score, i64([2])]), "object_score_logits", fp16)

    inputs = [helper.make_tensor_value_info(name, ftype, ["batch", c, s, s])
              for name, (c, s) in EMBEDDING_SHAPES.items()]
    inputs += [
        helper.make_tensor_value_info("input_points", ftype,
                                      ["batch", "num_objects", "num_points", 2]),
        helper.make_tensor_value_info("input_labels", TensorProto.INT64,
                                      ["batch", "num_objects", "num_points"]),
        helper.make_tensor_value_info("input_boxes", ftype, ["batch", "num_boxes", 4]),
    ]
    outputs = [
        helper.make_tensor_value_info("iou_scores", ftype, ["batch", "num_objects", 3]),
        helper.make_tensor_value_info("pred_masks", ftype,
                                      ["batch", "num_objects", 3, LOW_RES, LOW_RES]),
        helper.make_tensor_value_info("object_score_logits", ftype, ["batch", "num_objects", 1]),
    ]
    graph = helper.make_graph(g.nodes, "sam3_tracker_fake_decoder", inputs, outputs, g.inits)
    return _model(graph)


def build_wrong_layout_encoder() -> onnx.ModelProto:
    """A graph shaped like layout A's image encoder (uint8 ``image``), to test refusals."""
    g = _Graph()
    as_float = g.op("Cast", ["image"], to=TensorProto.FLOAT)
    pooled = g.op("ReduceMean", [as_float, g.const([0], np.int64)], keepdims=1)
    g.op_to("Identity", [pooled], "backbone_fpn_0")
    graph = helper.make_graph(
        g.nodes, "layout_a_like_encoder",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, [3, MODEL_SIZE, MODEL_SIZE])],
        [helper.make_tensor_value_info("backbone_fpn_0", TensorProto.FLOAT,
                                       [1, MODEL_SIZE, MODEL_SIZE])], g.inits)
    return _model(graph)


def _model(graph) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="sam3-canvas-fake")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _save(model: onnx.ModelProto, path: Path, external_data: bool) -> None:
    """Save a graph; with ``external_data`` every float weight goes to ``X.onnx_data``, as in
    every published graph (integer constants stay inline: onnxruntime reads shapes from them
    before it opens the sidecar)."""
    if external_data:
        from onnx.external_data_helper import set_external_data
        for tensor in model.graph.initializer:
            if tensor.data_type in (TensorProto.FLOAT, TensorProto.FLOAT16):
                set_external_data(tensor, location=path.name + "_data")
        onnx.save(model, str(path))
    else:
        onnx.save(model, str(path))


def half_precision(model: onnx.ModelProto) -> onnx.ModelProto:
    """float16 weights and arithmetic with float32 inputs and outputs, made the way the
    onnx-community fp16 files were (``convert_float_to_float16(keep_io_types=True)``)."""
    from onnxruntime.transformers.float16 import convert_float_to_float16
    return convert_float_to_float16(model, keep_io_types=True)


def write_tracker_pack(folder: str | Path, variant: str = "fp32",
                       external_data: bool = False, encoder_work: int = 0,
                       io: str | None = None, decoder: bool = True) -> Path:
    """Write a fake tracker pack (encoder + decoder) into ``folder``; returns the folder.

    ``variant="fp16"`` is float16 inside with float32 I/O, like the published fp16 files;
    ``io="float16"`` makes its inputs and outputs float16 too (other exports do that).
    ``decoder=False`` writes the encoder only (a variant whose decoder is not published)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fp16_io = variant == "fp16" and (io or "float32") == "float16"
    suffix = "" if variant == "fp32" else f"_{variant}"
    encoder = build_encoder(fp16_io, encoder_work)
    graphs = [(encoder, ENCODER_FILE)] + ([(build_decoder(fp16_io), DECODER_FILE)]
                                          if decoder else [])
    for model, pattern in graphs:
        if variant == "fp16" and not fp16_io:
            model = half_precision(model)
        _save(model, folder / pattern.format(suffix=suffix), external_data)
    return folder


def write_mismatched_pack(folder: str | Path) -> Path:
    """An encoder and a decoder that do not fit together: the encoder's image_embeddings.1
    has 32 channels where the decoder takes 64 (graphs from different packs)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    encoder = build_encoder(shapes={**EMBEDDING_SHAPES, "image_embeddings.1": (32, 144)})
    onnx.save(encoder, str(folder / ENCODER_FILE.format(suffix="")))
    onnx.save(build_decoder(), str(folder / DECODER_FILE.format(suffix="")))
    return folder


def write_oracle_pack(folder: str | Path, ground_truth: np.ndarray) -> Path:
    """A pack whose click answers are the ground-truth mask of one image (for GUI tests and
    screenshots with realistic masks); boxes and background clicks behave as in the fake."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(build_encoder(), str(folder / ENCODER_FILE.format(suffix="")))
    onnx.save(build_decoder(oracle=oracle_logits(ground_truth)),
              str(folder / DECODER_FILE.format(suffix="")))
    return folder


def write_nan_pack(folder: str | Path) -> Path:
    """A pack whose encoder gives NaN embeddings for images darker than mid-grey."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(build_encoder(nan_when_dark=True), str(folder / ENCODER_FILE.format(suffix="")))
    onnx.save(build_decoder(), str(folder / DECODER_FILE.format(suffix="")))
    return folder


def write_wrong_layout_pack(folder: str | Path) -> Path:
    """A folder whose ``vision_encoder.onnx`` is a layout-A-like graph, and a real decoder."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(build_wrong_layout_encoder(), str(folder / "vision_encoder.onnx"))
    onnx.save(build_decoder(), str(folder / "prompt_encoder_mask_decoder.onnx"))
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sam3_canvas.testing.fake_models",
        description="Write a fake SAM3 tracker pack (real ONNX graphs with geometric answers).")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--variant", choices=("fp32", "fp16"), default="fp32")
    parser.add_argument("--io", choices=("float32", "float16"), default=None,
                        help="fp16 only: the dtype of the inputs and outputs (float32 as "
                             "published)")
    parser.add_argument("--external-data", action="store_true",
                        help="store the weights in X.onnx_data files beside the graphs")
    parser.add_argument("--slow", type=int, default=0, metavar="N",
                        help="make the encoder slow: N large matrix products per image")
    args = parser.parse_args(argv)
    folder = write_tracker_pack(args.folder, args.variant, args.external_data, args.slow,
                                io=args.io)
    print(f"fake SAM3 tracker pack ({args.variant}) written to {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
