"""Test material for video: synthetic clips, and a fake tracker pack that segments by colour.

The clip: a textured background with a coloured disc that moves (and may be hidden behind an
occluder for a few frames, or leave the picture), written as an mp4 / avi through OpenCV or as
a folder of numbered PNGs; :func:`disc_mask` gives the truth for any frame.

The colour pack has the tracker contract (layout B) like ``fake_models``, but its answer
depends on the image, so following an object really has to follow it:

* the encoder's first embedding carries the image's colours (its first three channels are the
  normalised RGB, resized to 288 x 288);
* the decoder takes the colour around the first point (a Gaussian window of a few cells) and
  marks the cells whose colour is within three distances of it: candidates 0, 1, 2 from tight to
  loose; boxes and other points are ignored;
* its predicted IoU is ``(1 - 4 x the fraction of the image marked, at least 0) x the share
  of the loosest candidate's region this candidate keeps``: a click on the disc gives a small,
  stable region and a high IoU; a click on the background much of the picture and a low one,
  so a tracker that lost its object sees the IoU drop; a candidate that keeps only part of
  what the looser ones mark (a sample taken at the disc's edge) ranks below them, and an empty
  one gets 0; the object logit is 8.

    python -m sam3_canvas.testing.fake_video PACK_DIR CLIP.mp4
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper

from .fake_models import (
    CELL,
    DECODER_FILE,
    EMBEDDING_SHAPES,
    ENCODER_FILE,
    LOW_RES,
    MODEL_SIZE,
    _Graph,
    _model,
    _save,
)

THRESHOLDS = (0.02, 0.06, 0.15)  # squared colour distance in the normalised [-1, 1] space
WINDOW = 6.0  # the colour sample's Gaussian sigma, in mask cells
SHARPNESS = 200.0
OBJECT_LOGIT = 8.0


def build_colour_encoder():
    g = _Graph()
    i64 = lambda v: g.const(v, np.int64)  # noqa: E731
    pixels = "pixel_values"
    batch = g.op("Slice", [g.op("Shape", [pixels]), i64([0]), i64([1])])
    for name, (channels, side) in EMBEDDING_SHAPES.items():
        sizes = g.op("Concat", [batch, i64([3, side, side])], axis=0)
        rgb = g.op("Resize", [pixels, "", "", sizes], mode="linear",
                   coordinate_transformation_mode="half_pixel")
        zeros = g.op("Mul", [g.op("Slice", [rgb, i64([0]), i64([1]), i64([1])]),
                             g.const(np.zeros((1, channels - 3, 1, 1), np.float32))])
        g.op_to("Concat", [rgb, zeros], name, axis=1)
    inputs = [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT,
                                            ["batch", 3, MODEL_SIZE, MODEL_SIZE])]
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", c, s, s])
               for name, (c, s) in EMBEDDING_SHAPES.items()]
    return _model(helper.make_graph(g.nodes, "fake_colour_encoder", inputs, outputs, g.inits))


def build_colour_decoder():
    g = _Graph()
    i64 = lambda v: g.const(v, np.int64)  # noqa: E731
    emb = g.op("Slice", ["image_embeddings.0", i64([0]), i64([3]), i64([1])])  # [b,3,288,288]
    emb5 = g.op("Unsqueeze", [emb, i64([1])])  # [b,1,3,288,288]
    first = g.op("Slice", ["input_points", i64([0]), i64([1]), i64([2])])  # [b,n,1,2]
    px = g.op("Slice", [first, i64([0]), i64([1]), i64([3])])  # [b,n,1,1]
    py = g.op("Slice", [first, i64([1]), i64([2]), i64([3])])
    centres = (np.arange(LOW_RES, dtype=np.float32) + 0.5) * CELL
    gx = g.const(centres.reshape(1, 1, 1, 1, LOW_RES))
    gy = g.const(centres.reshape(1, 1, 1, LOW_RES, 1))
    dx = g.op("Sub", [gx, g.op("Unsqueeze", [px, i64([4])])])  # [b,n,1,1,288]
    dy = g.op("Sub", [gy, g.op("Unsqueeze", [py, i64([4])])])  # [b,n,1,288,1]
    sigma2 = 2.0 * (WINDOW * CELL) ** 2
    d2 = g.op("Add", [g.op("Mul", [dx, dx]), g.op("Mul", [dy, dy])])  # [b,n,1,288,288]
    weight = g.op("Exp", [g.op("Div", [g.op("Neg", [d2]), g.const(sigma2)])])
    total = g.op("ReduceSum", [weight, i64([3, 4])], keepdims=1)
    reference = g.op("Div", [g.op("ReduceSum", [g.op("Mul", [weight, emb5]), i64([3, 4])],
                                  keepdims=1), g.op("Add", [total, g.const(1e-6)])])
    diff = g.op("Sub", [emb5, reference])  # [b,n,3,288,288]
    distance = g.op("ReduceSum", [g.op("Mul", [diff, diff]), i64([2])], keepdims=1)
    thresholds = g.const(np.array(THRESHOLDS, np.float32).reshape(1, 1, 3, 1, 1))
    logits = g.op("Mul", [g.op("Sub", [thresholds, distance]), g.const(SHARPNESS)])
    g.op_to("Identity", [logits], "pred_masks")
    marked = g.op("ReduceMean", [g.op("Sigmoid", [logits]), i64([3, 4])], keepdims=0)
    loose = g.op("Slice", [marked, i64([2]), i64([3]), i64([2])])  # [b,n,1]
    kept = g.op("Min", [g.op("Div", [marked, g.op("Add", [loose, g.const(1e-6)])]),
                        g.const(1.0)])  # how much of the loosest region this one keeps
    small = g.op("Max", [g.op("Sub", [g.const(1.0), g.op("Mul", [marked, g.const(4.0)])]),
                         g.const(0.0)])
    g.op_to("Mul", [small, kept], "iou_scores")  # [b,n,3]
    shape2 = g.op("Slice", [g.op("Shape", [marked]), i64([0]), i64([2])])
    g.op_to("Expand", [g.const(np.array([[[OBJECT_LOGIT]]], np.float32)),
                       g.op("Concat", [shape2, i64([1])], axis=0)], "object_score_logits")
    # the boxes and labels are declared (the contract) and deliberately unused
    for name in ("input_boxes", "input_labels"):
        g.op("Shape", [name])
    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", c, s, s])
              for name, (c, s) in EMBEDDING_SHAPES.items()]
    inputs += [
        helper.make_tensor_value_info("input_points", TensorProto.FLOAT,
                                      ["batch", "num_objects", "num_points", 2]),
        helper.make_tensor_value_info("input_labels", TensorProto.INT64,
                                      ["batch", "num_objects", "num_points"]),
        helper.make_tensor_value_info("input_boxes", TensorProto.FLOAT,
                                      ["batch", "num_boxes", 4]),
    ]
    outputs = [
        helper.make_tensor_value_info("iou_scores", TensorProto.FLOAT,
                                      ["batch", "num_objects", 3]),
        helper.make_tensor_value_info("pred_masks", TensorProto.FLOAT,
                                      ["batch", "num_objects", 3, LOW_RES, LOW_RES]),
        helper.make_tensor_value_info("object_score_logits", TensorProto.FLOAT,
                                      ["batch", "num_objects", 1]),
    ]
    return _model(helper.make_graph(g.nodes, "fake_colour_decoder", inputs, outputs, g.inits))


def write_colour_pack(folder: str | Path) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _save(build_colour_encoder(), folder / ENCODER_FILE.format(suffix=""), False)
    _save(build_colour_decoder(), folder / DECODER_FILE.format(suffix=""), False)
    return folder


@dataclass(frozen=True)
class Clip:
    """A disc of ``colour`` moving by ``step`` pixels a frame from ``start`` over a texture;
    ``hidden`` frames put a grey occluder over it."""

    width: int = 320
    height: int = 240
    frames: int = 24
    radius: int = 22
    start: tuple[float, float] = (60.0, 120.0)
    step: tuple[float, float] = (8.0, 1.5)
    colour: tuple[int, int, int] = (230, 40, 40)
    hidden: tuple[int, ...] = ()
    seed: int = 0

    def centre(self, frame: int) -> tuple[float, float]:
        return (self.start[0] + self.step[0] * frame, self.start[1] + self.step[1] * frame)

    def background(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed)
        yy, xx = np.mgrid[:self.height, :self.width]
        base = np.stack([60 + 40 * np.sin(xx / 23.0), 110 + 30 * np.cos(yy / 17.0),
                         90 + 25 * np.sin((xx + yy) / 31.0)], axis=-1)
        noise = rng.normal(0, 6, (self.height, self.width, 3))
        return np.clip(base + noise, 0, 255).astype(np.uint8)

    def frame(self, index: int, background: np.ndarray | None = None) -> np.ndarray:
        rgb = (self.background() if background is None else background).copy()
        rgb[self.mask(index)] = self.colour
        if index in self.hidden:
            x, _ = self.centre(index)
            x0 = int(max(0, x - self.radius - 6))
            rgb[:, x0:x0 + 2 * self.radius + 12] = (128, 128, 128)
        return rgb

    def mask(self, index: int) -> np.ndarray:
        """The disc's pixels on frame ``index`` (before any occluder)."""
        cx, cy = self.centre(index)
        yy, xx = np.mgrid[:self.height, :self.width]
        return (xx - cx) ** 2 + (yy - cy) ** 2 <= self.radius ** 2

    def visible(self, index: int) -> bool:
        return bool(self.mask(index).any()) and index not in self.hidden

    def write_video(self, path: str | Path, fps: float = 10.0) -> Path:
        """An mp4 (mp4v) or avi (MJPG) through OpenCV."""
        import cv2

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fourcc = cv2.VideoWriter.fourcc(*("MJPG" if path.suffix.lower() == ".avi" else "mp4v"))
        writer = cv2.VideoWriter(str(path), fourcc, fps, (self.width, self.height))
        if not writer.isOpened():
            raise RuntimeError(f"OpenCV cannot write {path}")
        background = self.background()
        for i in range(self.frames):
            writer.write(cv2.cvtColor(self.frame(i, background), cv2.COLOR_RGB2BGR))
        writer.release()
        return path

    def write_frames(self, folder: str | Path, pattern: str = "frame_{:04d}.png") -> Path:
        from PIL import Image

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        background = self.background()
        for i in range(self.frames):
            Image.fromarray(self.frame(i, background)).save(folder / pattern.format(i))
        return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sam3_canvas.testing.fake_video",
                                     description="Write the colour fake pack and a clip.")
    parser.add_argument("pack", type=Path)
    parser.add_argument("clip", type=Path, nargs="?")
    parser.add_argument("--frames", type=int, default=40)
    args = parser.parse_args(argv)
    write_colour_pack(args.pack)
    print(f"colour fake pack written to {args.pack}")
    if args.clip:
        Clip(frames=args.frames).write_video(args.clip)
        print(f"clip written to {args.clip}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
