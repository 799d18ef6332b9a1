"""The SAM3 tracker (layout B) exported from transformers' ``Sam3TrackerModel``.

``build_tiny_tracker`` makes the upstream architecture at a tiny size with random weights (4.7 M
parameters, real operators, real 1008 input and 288 x 288 masks); ``export_tracker`` writes the
two graphs with the published names, so the app runs them exactly as it runs the real files, and
the parity tests compare the app's whole pipeline with transformers' own on the same weights.
``build_full_tracker`` makes the same architecture at its real size (transformers' default
``Sam3TrackerConfig()``, about 458 M parameters, random weights): the graphs then have the
published files' operators, shapes and sizes, which is what speed, memory and quantisation
measurements need (``bench/bench_variants.py``); export it with ``external_data=True`` so the
weights go to an ``X.onnx_data`` sidecar as in the published repo.

The decoder wrapper builds the prompt tokens itself instead of calling the model's forward,
for two reasons. transformers refuses ``input_boxes`` of shape [b, 0, 4] next to points, but the
published graph takes exactly that for a points-only prompt; and upstream appends one
"not a point" token in both cases (the pad point when there is no box, the box's third corner
when there is one), which the wrapper reproduces with no data-dependent branch:

    tokens = [points..., box corners (2 per box)..., not-a-point]

That is token-for-token what ``Sam3TrackerPromptEncoder`` builds for 0 or 1 box and one object.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import nn

MODEL_SIZE = 1008


def tiny_tracker_config():
    from transformers import Sam3TrackerConfig

    return Sam3TrackerConfig(
        vision_config={
            "backbone_config": {
                "model_type": "sam3_vit_model", "hidden_size": 64, "intermediate_size": 128,
                "num_hidden_layers": 2, "num_attention_heads": 2, "global_attn_indexes": [1],
            },
            "fpn_hidden_size": 256,
            "backbone_feature_sizes": [[288, 288], [144, 144], [72, 72]],
        },
        mask_decoder_config={"mlp_dim": 128, "iou_head_hidden_dim": 64},
    )


def build_tiny_tracker(seed: int = 0):
    """``Sam3TrackerModel`` at a tiny size with deterministic random weights."""
    return _build_tracker(tiny_tracker_config(), seed)


def build_full_tracker(seed: int = 0):
    """``Sam3TrackerModel`` at the published size (transformers' default ``Sam3TrackerConfig``:
    ViT with 32 layers of width 1024, about 458 M parameters) with deterministic random weights.
    Building it takes about 2 GB of memory; exporting it, several more."""
    from transformers import Sam3TrackerConfig

    return _build_tracker(Sam3TrackerConfig(), seed)


def _build_tracker(config, seed: int):
    from transformers import Sam3TrackerModel

    torch.manual_seed(seed)
    model = Sam3TrackerModel(config)
    # Random init leaves some small embeddings at zero; give every parameter some signal so
    # that prompts, IoU head and object score all vary (parity on zeros proves nothing).
    with torch.no_grad():
        for param in model.parameters():
            if param.abs().max() == 0:
                param.normal_(0.0, 0.02)
    return model.eval()


class EncoderWrapper(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, pixel_values):
        return tuple(self.model.get_image_embeddings(pixel_values))


class DecoderWrapper(nn.Module):
    """The published decoder; with ``with_pointer`` (the video tracker's packs) it also returns
    each candidate's object pointer, the token the memory path remembers a frame by."""

    def __init__(self, model, with_pointer: bool = False):
        super().__init__()
        self.model = model
        self.with_pointer = with_pointer

    def forward(self, emb0, emb1, emb2, input_points, input_labels, input_boxes):
        model = self.model
        encoder = model.prompt_encoder
        batch, objects = input_points.shape[0], input_points.shape[1]
        hidden = encoder.hidden_size
        size = (encoder.input_image_size, encoder.input_image_size)

        points = encoder._embed_points(input_points, input_labels, pad=False)  # [b,n,p,C]
        corners = (input_boxes + 0.5).reshape(batch, 1, -1, 2)  # [b,1,2*nb,2]
        corner_emb = encoder.shared_embedding(corners, size)
        corner_emb = corner_emb.reshape(batch, 1, -1, 2, hidden) + encoder.point_embed.weight[2:4]
        corner_emb = corner_emb.reshape(batch, 1, -1, hidden).expand(-1, objects, -1, -1)
        not_a_point = encoder.not_a_point_embed.weight.reshape(1, 1, 1, hidden)
        not_a_point = not_a_point.expand(batch, objects, 1, hidden)
        sparse = torch.cat([points, corner_emb, not_a_point], dim=2)

        height, width = encoder.image_embedding_size
        dense = encoder.no_mask_embed.weight.reshape(1, -1, 1, 1).expand(batch, -1, height, width)
        positional = model.get_image_wide_positional_embeddings().repeat(batch, 1, 1, 1)
        masks, ious, tokens, object_logits = model.mask_decoder(
            image_embeddings=emb2, image_positional_embeddings=positional,
            sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
            multimask_output=True, high_resolution_features=[emb0, emb1])
        if not self.with_pointer:
            return ious, masks, object_logits
        # as Sam3TrackerVideoModel._single_frame_forward, for each of the three candidates
        pointers = model.object_pointer_proj(tokens)  # [b, n, 3, C]
        appearing = (object_logits > 0).to(pointers.dtype)[..., None]  # [b, n, 1, 1]
        pointers = appearing * pointers + (1 - appearing) * model.no_object_pointer
        return ious, masks, object_logits, pointers


def export_tracker(model, folder: str | Path, opset: int = 18,
                   external_data: bool = False, with_pointer: bool = False) -> tuple[Path, Path]:
    """Write ``vision_encoder.onnx`` and ``prompt_encoder_mask_decoder.onnx`` into ``folder``.

    With ``external_data`` every graph keeps its weights in one sidecar, ``X.onnx_data``, as
    the onnx-community repo publishes them (needed above protobuf's 2 GB; the app loads both
    forms by path). ``with_pointer`` (a ``Sam3TrackerVideoModel`` only) adds the decoder
    output ``object_pointer`` [batch, objects, 3, C] that the memory path needs."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    encoder_path = folder / "vision_encoder.onnx"
    decoder_path = folder / "prompt_encoder_mask_decoder.onnx"
    pixels = torch.zeros(1, 3, MODEL_SIZE, MODEL_SIZE)
    # wrappers in eval mode: torch.onnx.export restores each wrapper's mode afterwards, and a
    # wrapper left in training mode would switch the wrapped model (its dropout) on again
    encoder = EncoderWrapper(model).eval()
    decoder = DecoderWrapper(model, with_pointer).eval()
    with torch.no_grad():
        embeddings = model.get_image_embeddings(pixels)
        torch.onnx.export(
            encoder, (pixels,), str(encoder_path), dynamo=False,
            opset_version=opset, input_names=["pixel_values"],
            output_names=[f"image_embeddings.{i}" for i in range(3)],
            dynamic_axes={"pixel_values": {0: "batch"},
                          **{f"image_embeddings.{i}": {0: "batch"} for i in range(3)}})
        points = torch.tensor([[[[500.0, 400.0], [200.0, 100.0]]]])
        labels = torch.tensor([[[1, 0]]], dtype=torch.int64)
        boxes = torch.tensor([[[100.0, 100.0, 700.0, 800.0]]])
        outputs = ["iou_scores", "pred_masks", "object_score_logits"]
        outputs += ["object_pointer"] if with_pointer else []
        torch.onnx.export(
            decoder, (*embeddings, points, labels, boxes), str(decoder_path),
            dynamo=False, opset_version=opset,
            input_names=[f"image_embeddings.{i}" for i in range(3)]
            + ["input_points", "input_labels", "input_boxes"],
            output_names=outputs,
            dynamic_axes={
                **{f"image_embeddings.{i}": {0: "batch"} for i in range(3)},
                "input_points": {0: "batch", 1: "num_objects", 2: "num_points"},
                "input_labels": {0: "batch", 1: "num_objects", 2: "num_points"},
                "input_boxes": {0: "batch", 1: "num_boxes"},
                **{name: {0: "batch", 1: "num_objects"} for name in outputs},
            })
        masks = decoder(*embeddings, points, labels, boxes)[1]
    # The TorchScript exporter leaves even fixed dims symbolic; the published graphs declare
    # them (channels, mask size), and the app reads them from there.
    _declare_static_dims(encoder_path, {f"image_embeddings.{i}": tuple(e.shape[1:])
                                        for i, e in enumerate(embeddings)},
                         external_data=external_data)
    static = {"iou_scores": (masks.shape[2],), "pred_masks": tuple(masks.shape[2:]),
              "object_score_logits": (1,)}
    if with_pointer:
        static["object_pointer"] = (masks.shape[2], model.hidden_dim)
    _declare_static_dims(decoder_path, static, leading=2, external_data=external_data)
    return encoder_path, decoder_path


def _declare_static_dims(path: Path, shapes: dict[str, tuple[int, ...]],
                         leading: int = 1, external_data: bool = False,
                         metadata: dict[str, str] | None = None) -> None:
    import onnx

    graph_model = onnx.load(str(path))
    if metadata:
        onnx.helper.set_model_props(graph_model, metadata)
    for output in graph_model.graph.output:
        if output.name in shapes:
            dims = output.type.tensor_type.shape.dim
            for dim, value in zip(dims[leading:], shapes[output.name]):
                dim.Clear()
                dim.dim_value = int(value)
    if not external_data:
        onnx.save(graph_model, str(path))
        return
    from .quantize import save_with_sidecar

    save_with_sidecar(graph_model, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sam3_canvas.twins.tracker_twin",
        description="Export a random-weight SAM3 tracker (the architecture twin) to ONNX: tiny "
                    "by default, or at the published size with --full.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--full", action="store_true",
                        help="the published size (about 458 M parameters, 1.8 GB of fp32 "
                             "weights in .onnx_data sidecars; needs about 10 GB of memory)")
    args = parser.parse_args(argv)
    model = build_full_tracker(args.seed) if args.full else build_tiny_tracker(args.seed)
    enc, dec = export_tracker(model, args.folder, external_data=args.full)
    print(f"wrote {enc} and {dec}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
