"""The SAM3 video tracker's memory path as ONNX, next to the image graphs.

transformers' ``Sam3TrackerVideoModel`` follows an object with a memory of earlier frames: each
frame's mask is encoded with the frame's features into a *memory*, and the next frame's
features attend to the memories (and to the *object pointers*, one token per frame taken from
the decoder) before the ordinary prompt decoder runs on them. No published ONNX pack has these
parts; this module writes them from the same model as the image graphs:

========================  ==================================================================
``vision_encoder.onnx``   as published (layout B)
``prompt_encoder_mask_``  as published, plus the output ``object_pointer`` [b, n, 3, C]:
``decoder.onnx``          each candidate's pointer, already replaced by the "no object"
                          pointer where the object score is <= 0
``memory_encoder.onnx``   ``image_embeddings.2``, ``mask_logits`` [b, 1, h, w] (the chosen
                          candidate's low-res logits, or a user mask as +-10 at model size),
                          ``object_score_logits`` [b, 1], ``binarize`` (bool: masks from
                          prompts are binarised, tracked ones go through a sigmoid)
                          -> ``maskmem_features`` [b, 64, 72, 72]
``memory_attention.onnx`` ``image_embeddings.2`` [1, C, 72, 72], ``memory_features``
                          [F, 64, 72, 72], ``memory_offsets`` int64 [F] (frames back; 0 for
                          a conditioning frame), ``object_pointers`` [P, C],
                          ``object_pointer_positions`` [P] (frame distance / (max pointers - 1))
                          -> ``conditioned_embeddings`` [1, C, 72, 72], fed to the decoder as
                          its ``image_embeddings.2``
``mask_pointer.onnx``     ``image_embeddings.0/1/2``, ``mask`` [b, 1, S, S] (a user's mask at
                          model size, 0/1) -> ``object_pointer`` [b, C]: the pointer of a
                          frame that starts from a mask instead of a prompt
========================  ==================================================================

Every weight stays in the graphs (the encoder's ``no_memory_embedding`` is taken off inside them,
the sine and temporal position encodings are inside), so the app's side is only the choice of
which frames to remember, as transformers makes it (``sam3_canvas/video/memory.py``).

``build_tiny_video_tracker`` makes the architecture at a tiny size with random weights for the
parity tests; ``main`` exports a tiny twin, the full-size twin (``--full``) or real weights
(``--from facebook/sam3`` or a local folder, with the export extra and the model's licence).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 - torch's own convention

from .tracker_twin import MODEL_SIZE, _declare_static_dims, export_tracker, tiny_tracker_config

NO_OBJECT_SCORE = -1024.0  # transformers' NO_OBJ_SCORE: the logit of a frame without the object


def tiny_video_config():
    from transformers import Sam3TrackerVideoConfig

    image = tiny_tracker_config()
    return Sam3TrackerVideoConfig(
        vision_config=image.vision_config.to_dict(),
        mask_decoder_config=image.mask_decoder_config.to_dict(),
        memory_attention_num_layers=1, memory_attention_feed_forward_hidden_size=128,
        memory_fuser_num_layers=1, memory_fuser_intermediate_dim=128,
        # a short memory, so that a short clip already slides past both limits
        num_maskmem=3, max_object_pointers_in_encoder=4)


def build_tiny_video_tracker(seed: int = 0):
    """``Sam3TrackerVideoModel`` at a tiny size (about 6 M parameters), random weights.

    Random weights at their usual scale leave the memory nearly without effect (what a frame
    attends to changes its features by 1e-6), so a parity test could not tell a right memory
    from a wrong one. The twin turns the memory up: the cross-attention to the memories is
    sharper and louder, and the temporal encodings are as large as the features, so that the
    choice of memories, their offsets and the pointers' positions all change the masks. The
    object-score head is biased towards "present": random weights put the score near 0, where
    a rounding difference could flip a frame to "no object" and back."""
    model = _build(tiny_video_config(), seed)
    with torch.no_grad():
        for layer in model.memory_attention.layers:
            attention = layer.cross_attn_image
            attention.q_proj.weight.mul_(4.0)
            attention.k_proj.weight.mul_(4.0)
            attention.v_proj.weight.mul_(30.0)
            attention.o_proj.weight.mul_(30.0)
        model.memory_temporal_positional_encoding.normal_(0.0, 1.0)
        model.temporal_positional_encoding_projection_layer.weight.mul_(10.0)
        model.mask_decoder.pred_obj_score_head.proj_out.bias.add_(2.0)
    return model


def build_full_video_tracker(seed: int = 0):
    """``Sam3TrackerVideoModel`` at the published size, random weights."""
    from transformers import Sam3TrackerVideoConfig

    return _build(Sam3TrackerVideoConfig(), seed)


def _build(config, seed: int):
    from transformers import Sam3TrackerVideoModel

    torch.manual_seed(seed)
    config._attn_implementation = "eager"
    model = Sam3TrackerVideoModel(config)
    with torch.no_grad():
        # random init leaves the learnt embeddings (no-memory, temporal encodings, no-object
        # pointer, occlusion) at zero; give them signal, or parity would not test them
        for param in model.parameters():
            if param.abs().max() == 0:
                param.normal_(0.0, 0.02)
    return model.eval()


def _no_memory(model) -> torch.Tensor:
    return model.no_memory_embedding.reshape(1, -1, 1, 1)


class MemoryEncoderWrapper(nn.Module):
    """``Sam3TrackerVideoModel._encode_new_memory`` for one mask per batch item."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, emb2, mask_logits, object_score_logits, binarize):
        model = self.model
        features = emb2 - _no_memory(model)
        size = model.image_size
        logits = F.interpolate(mask_logits, size=(size, size), mode="bilinear",
                               align_corners=False)
        appearing = (object_score_logits > 0)[:, :, None, None]
        logits = torch.where(appearing, logits, torch.full_like(logits, NO_OBJECT_SCORE))
        side = model.prompt_encoder.mask_input_size[0] * 4
        # transformers resizes with antialias=True, which is plain bilinear when enlarging
        logits = F.interpolate(logits, size=(side, side), mode="bilinear", align_corners=False)
        mask = torch.where(binarize, (logits > 0).to(logits.dtype), torch.sigmoid(logits))
        mask = mask * model.config.sigmoid_scale_for_mem_enc + model.config.sigmoid_bias_for_mem_enc
        memory, _ = model.memory_encoder(features, mask)
        if model.occlusion_spatial_embedding_parameter is not None:
            absent = 1.0 - appearing.to(memory.dtype)
            memory = memory + absent * model.occlusion_spatial_embedding_parameter[..., None, None]
        return memory


class MemoryAttentionWrapper(nn.Module):
    """``Sam3TrackerVideoModel._prepare_memory_conditioned_features`` from step 4 on, with the
    memories and pointers already chosen: their position encodings and the attention."""

    def __init__(self, model, vision_position: torch.Tensor, memory_position: torch.Tensor):
        super().__init__()
        self.model = model
        self.register_buffer("vision_position", vision_position)  # [HW, 1, C]
        self.register_buffer("memory_position", memory_position)  # [HW, mem_dim]

    def forward(self, emb2, memory_features, memory_offsets, object_pointers,
                object_pointer_positions):
        from transformers.models.sam3_tracker_video.modeling_sam3_tracker_video import (
            get_1d_sine_pe,
        )

        model = self.model
        batch, channels, height, width = emb2.shape
        mem_dim = model.mem_dim
        current = (emb2 - _no_memory(model)).flatten(2).permute(2, 0, 1)  # [HW, 1, C]
        # spatial memories, frame after frame: [F * HW, 1, mem_dim]
        memory = memory_features.flatten(2).permute(0, 2, 1).reshape(-1, 1, mem_dim)
        temporal = model.memory_temporal_positional_encoding.reshape(model.num_maskmem, mem_dim)
        temporal = temporal[(memory_offsets - 1) % model.num_maskmem]  # offset 0 -> the last
        memory_pos = (self.memory_position[None] + temporal[:, None, :]).reshape(-1, 1, mem_dim)
        # object pointers, each split into C / mem_dim tokens
        splits = channels // mem_dim
        pointer_pos = get_1d_sine_pe(object_pointer_positions, dim=channels)
        pointer_pos = model.temporal_positional_encoding_projection_layer(pointer_pos)
        pointer_pos = pointer_pos.repeat_interleave(splits, dim=0)[:, None, :]
        pointers = object_pointers.reshape(-1, 1, splits, mem_dim).permute(0, 2, 1, 3)
        pointers = pointers.flatten(0, 1)
        out = self.attend(current, torch.cat([memory, pointers], dim=0),
                          torch.cat([memory_pos, pointer_pos], dim=0), pointers.shape[0],
                          height, width)
        return out.squeeze(1).transpose(1, 2).reshape(batch, channels, height, width)

    def attend(self, current, memory, memory_pos, num_pointer_tokens, height, width):
        """``Sam3TrackerVideoMemoryAttention.forward``, with the rotary positions computed
        from the feature size: traced from its buffer they became a 5 MB constant per use."""
        attention = self.model.memory_attention
        output = (current + 0.1 * self.vision_position).transpose(0, 1)
        memory = memory.transpose(0, 1).unsqueeze(1)
        memory_pos = memory_pos.transpose(0, 1).unsqueeze(1)
        rope = self.rotary(height, width)
        for layer in attention.layers:
            output = layer(queries=output.unsqueeze(1) if output.ndim == 3 else output,
                           keys=memory, key_point_embedding=memory_pos,
                           rope_position_embeddings=rope, num_k_exclude_rope=num_pointer_tokens)
        return attention.layer_norm(output).transpose(0, 1)

    def rotary(self, height, width):
        """``Sam3TrackerVideoVisionRotaryEmbedding`` over the (x, y) grid of the features."""
        rotary = self.model.memory_attention.rotary_emb
        inv_freq = rotary.inv_freq.float()
        columns = (torch.arange(width, dtype=torch.float32)[None, :]
                   * torch.ones(height, 1)).reshape(-1, 1)
        rows = (torch.arange(height, dtype=torch.float32)[:, None]
                * torch.ones(1, width)).reshape(-1, 1)
        freqs = torch.cat([columns * inv_freq, rows * inv_freq], dim=-1)  # [HW, D / 2]
        freqs = torch.stack([freqs, freqs], dim=-1).flatten(-2)[None]  # each one twice
        scale = rotary.attention_scaling
        return freqs.cos() * scale, freqs.sin() * scale


class MaskPointerWrapper(nn.Module):
    """The object pointer of a frame given as a mask (``_use_mask_as_output``): the decoder
    runs on the raw features with the mask as its dense prompt and no points."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, emb0, emb1, emb2, mask):
        model = self.model
        encoder = model.prompt_encoder
        batch = emb2.shape[0]
        features = emb2 - _no_memory(model)
        small = model.mask_downsample(mask)
        small = F.interpolate(small, size=encoder.mask_input_size, mode="bilinear",
                              align_corners=False)
        dense = encoder.mask_embed(small)
        hidden = encoder.hidden_size
        # no points: transformers pads with a "not a point" and adds its own pad point
        sparse = encoder.not_a_point_embed.weight.reshape(1, 1, 1, hidden).expand(batch, 1, 2,
                                                                                  hidden)
        positional = model.get_image_wide_positional_embeddings().repeat(batch, 1, 1, 1)
        _, ious, tokens, object_logits = model.mask_decoder(
            image_embeddings=features, image_positional_embeddings=positional,
            sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
            multimask_output=True, high_resolution_features=[emb0, emb1])
        best = ious.argmax(dim=-1)  # [b, 1]
        token = torch.gather(tokens, 2, best[..., None, None].expand(-1, -1, 1, hidden))
        pointer = model.object_pointer_proj(token.reshape(batch, hidden))
        no_pointer = model.no_object_pointer
        appearing = (object_logits.reshape(batch, 1) > 0).to(pointer.dtype)
        pointer = appearing * pointer + (1 - appearing) * no_pointer
        present = (mask.flatten(1) > 0).any(dim=1, keepdim=True).to(pointer.dtype)
        return present * pointer + (1 - present) * no_pointer


def positions(model) -> tuple[torch.Tensor, torch.Tensor]:
    """The vision features' and the memories' sine position encodings (input-independent)."""
    height, width = model.backbone_feature_sizes[-1]
    with torch.no_grad():
        vision = model.get_image_features(torch.zeros(1, 3, MODEL_SIZE, MODEL_SIZE))
        vision_position = vision.fpn_position_encoding[-1]  # [HW, 1, C]
        shape = torch.Size((1, model.mem_dim, height, width))
        memory_position = model.memory_encoder.position_encoding(shape, "cpu", torch.float32)
    return vision_position, memory_position.flatten(2)[0].transpose(0, 1)  # [HW, mem_dim]


def export_video_tracker(model, folder: str | Path, opset: int = 18,
                         external_data: bool = False) -> dict[str, Path]:
    """Write the image graphs (the decoder with ``object_pointer``) and the memory graphs."""
    encoder_path, decoder_path = export_tracker(model, folder, opset, external_data,
                                                with_pointer=True)
    return {"encoder": encoder_path, "decoder": decoder_path,
            **export_memory_graphs(model, folder, opset, external_data)}


def export_memory_graphs(model, folder: str | Path, opset: int = 18,
                         external_data: bool = False) -> dict[str, Path]:
    """Write ``memory_encoder.onnx``, ``memory_attention.onnx`` and ``mask_pointer.onnx``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    height, width = model.backbone_feature_sizes[-1]
    channels, mem_dim = model.hidden_dim, model.mem_dim
    feature_sizes = model.backbone_feature_sizes
    embeddings = [torch.randn(1, c, *size) for c, size in
                  zip((channels // 8, channels // 4, channels), feature_sizes)]
    emb2 = embeddings[2]
    vision_position, memory_position = positions(model)
    with torch.no_grad():
        path = folder / "memory_encoder.onnx"
        torch.onnx.export(
            MemoryEncoderWrapper(model).eval(),
            (emb2, torch.randn(1, 1, 288, 288), torch.ones(1, 1), torch.tensor(False)),
            str(path), dynamo=False, opset_version=opset,
            input_names=["image_embeddings.2", "mask_logits", "object_score_logits", "binarize"],
            output_names=["maskmem_features"],
            dynamic_axes={"image_embeddings.2": {0: "batch"},
                          "mask_logits": {0: "batch", 2: "mask_height", 3: "mask_width"},
                          "object_score_logits": {0: "batch"},
                          "maskmem_features": {0: "batch"}})
        _declare_static_dims(path, {"maskmem_features": (mem_dim, height, width)},
                             external_data=external_data)
        paths["memory_encoder"] = path

        # traced with two memories and two pointers, so that no shape is frozen at one
        path = folder / "memory_attention.onnx"
        torch.onnx.export(
            MemoryAttentionWrapper(model, vision_position, memory_position).eval(),
            (emb2, torch.randn(2, mem_dim, height, width), torch.tensor([0, 1]),
             torch.randn(2, channels), torch.tensor([0.0, 0.5])),
            str(path), dynamo=False, opset_version=opset,
            input_names=["image_embeddings.2", "memory_features", "memory_offsets",
                         "object_pointers", "object_pointer_positions"],
            output_names=["conditioned_embeddings"],
            dynamic_axes={"memory_features": {0: "num_memories"},
                          "memory_offsets": {0: "num_memories"},
                          "object_pointers": {0: "num_pointers"},
                          "object_pointer_positions": {0: "num_pointers"}})
        config = model.config
        _declare_static_dims(path, {"conditioned_embeddings": (channels, height, width)},
                             external_data=external_data, metadata={
                                 "num_maskmem": str(config.num_maskmem),
                                 "max_cond_frame_num": str(config.max_cond_frame_num),
                                 "max_object_pointers": str(config.max_object_pointers_in_encoder),
                                 "mask_size": str(model.image_size)})
        paths["memory_attention"] = path

        path = folder / "mask_pointer.onnx"
        torch.onnx.export(
            MaskPointerWrapper(model).eval(),
            (*embeddings, (torch.rand(1, 1, MODEL_SIZE, MODEL_SIZE) > 0.5).float()),
            str(path), dynamo=False, opset_version=opset,
            input_names=["image_embeddings.0", "image_embeddings.1", "image_embeddings.2",
                         "mask"],
            output_names=["object_pointer"],
            dynamic_axes={**{f"image_embeddings.{i}": {0: "batch"} for i in range(3)},
                          "mask": {0: "batch"}, "object_pointer": {0: "batch"}})
        _declare_static_dims(path, {"object_pointer": (channels,)},
                             external_data=external_data)
        paths["mask_pointer"] = path
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sam3_canvas.twins.video_export",
        description="Export the SAM3 video tracker (image graphs and memory graphs) to ONNX: "
                    "real weights with --from, or a random-weight twin (tiny, or --full).")
    parser.add_argument("folder", type=Path)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--from", dest="source", metavar="MODEL",
                        help="a Hugging Face id (facebook/sam3) or a local folder that "
                             "transformers' Sam3TrackerVideoModel.from_pretrained reads")
    source.add_argument("--full", action="store_true",
                        help="the random-weight twin at the published size")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.source:
        from transformers import Sam3TrackerVideoModel

        model = Sam3TrackerVideoModel.from_pretrained(args.source, attn_implementation="eager")
        model = model.float().eval()
    else:
        model = (build_full_video_tracker if args.full else build_tiny_video_tracker)(args.seed)
    big = bool(args.source) or args.full
    paths = export_video_tracker(model, args.folder, external_data=big)
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
