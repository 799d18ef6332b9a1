"""SAM3's text path (layout A2: raw heads) exported from transformers' ``Sam3Model``.

``build_tiny_sam3`` makes the upstream architecture at a tiny size with random weights
(4.2 M parameters: 64 channels where the real model has 256, one layer per transformer, the
real 1008 input, 288 x 288 masks and 200 queries); ``export_text_pack`` writes the three graphs
with the published names:

* ``sam3_image_encoder.onnx``: ``image`` uint8 [3, 1008, 1008] (normalised inside, as the
  published graphs do) -> ``vision_pos_enc_0..2``, ``backbone_fpn_0..2``;
* ``sam3_language_encoder.onnx``: ``tokens`` int64 [1, 32], zero-padded as layout A's contract
  says -> the padding mask (True = padding), ``text_memory`` [32, 1, C] and ``text_embeds``.
  Inside, the padding is turned into end-of-text tokens, as transformers' processors feed the
  model: CLIP's causal text model does not care, but SAM3-LiteText's MobileCLIP encoder mixes
  neighbouring tokens with convolutions, so its padding must be what it was trained with;
* ``sam3_decoder.onnx``: features + language mask and memory -> ``pred_boxes`` (cxcywh),
  ``pred_logits``, ``pred_masks``, ``presence_logit_dec``.

The decoder is the text-only path: transformers runs a separate geometry encoder when exemplar
boxes are given and concatenates its tokens, which a single traced graph cannot switch on and
off, so this twin's decoder takes no boxes (the app then offers no exemplars for it; the
contract fakes cover exemplars).

``build_tiny_litetext`` does the same for SAM3-LiteText (``Sam3LiteTextModel``: MobileCLIP-style
text encoder with RepMixer blocks, the rest SAM3's); ``--litetext`` exports it, and
``--from-pretrained NAME`` exports real weights (needs the Hugging Face hub). Its
``sam3_language_encoder.onnx`` is a drop-in replacement in any layout-A/A2 pack.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import nn


def tiny_sam3_config():
    from transformers import Sam3Config

    small = {"hidden_size": 64, "num_layers": 1, "num_attention_heads": 2,
             "intermediate_size": 128}
    return Sam3Config(
        vision_config={"backbone_config": {"model_type": "sam3_vit_model", "hidden_size": 64,
                                           "intermediate_size": 128, "num_hidden_layers": 2,
                                           "num_attention_heads": 2, "global_attn_indexes": [1]},
                       "fpn_hidden_size": 64},
        text_config={"model_type": "clip_text_model", "vocab_size": 49408, "hidden_size": 64,
                     "intermediate_size": 128, "projection_dim": 64, "num_hidden_layers": 2,
                     "num_attention_heads": 2, "max_position_embeddings": 32},
        geometry_encoder_config=dict(small), detr_encoder_config=dict(small),
        detr_decoder_config={**small, "num_queries": 200},
        mask_decoder_config={"hidden_size": 64, "num_upsampling_stages": 3,
                             "num_attention_heads": 2},
    )


def build_tiny_sam3(seed: int = 0):
    from transformers import Sam3Model

    torch.manual_seed(seed)
    return Sam3Model(tiny_sam3_config()).eval()


def build_tiny_litetext(seed: int = 0):
    """SAM3-LiteText at a tiny size: a MobileCLIP-style text encoder (RepMixer blocks first
    and last), the rest as in :func:`build_tiny_sam3`."""
    from transformers import Sam3LiteTextConfig, Sam3LiteTextModel

    base = tiny_sam3_config().to_dict()
    vision = dict(base["vision_config"], model_type="sam3_vision_model")
    config = Sam3LiteTextConfig(
        vision_config=vision,
        text_config={"vocab_size": 49408, "hidden_size": 64, "intermediate_size": 128,
                     "projection_dim": 64, "num_hidden_layers": 3, "num_attention_heads": 2,
                     "max_position_embeddings": 77, "repmixer_kernel_size": 11},
        geometry_encoder_config=base["geometry_encoder_config"],
        detr_encoder_config=base["detr_encoder_config"],
        detr_decoder_config=base["detr_decoder_config"],
        mask_decoder_config=base["mask_decoder_config"])
    torch.manual_seed(seed)
    model = Sam3LiteTextModel(config).eval()
    with torch.no_grad():  # random init leaves layer scales at 1e-5: let the mixers matter
        for name, param in model.text_encoder.named_parameters():
            if "layer_scale" in name:
                param.fill_(0.5)
    return model


class ImageEncoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, image):
        pixel_values = ((image.float() / 255.0 - 0.5) / 0.5).unsqueeze(0)
        out = self.model.get_vision_features(pixel_values=pixel_values)
        return (*out.fpn_position_encoding[:3], *out.fpn_hidden_states[:3])


class LanguageEncoder(nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, tokens):
        valid = tokens != 0
        ids = torch.where(valid, tokens, torch.full_like(tokens, 49407))
        out = self.model.get_text_features(input_ids=ids, attention_mask=valid.long(),
                                           return_dict=True)
        return (~valid, out.pooler_output.transpose(0, 1),
                out.last_hidden_state.transpose(0, 1))


class Decoder(nn.Module):
    """``Sam3Model.forward`` from the DETR encoder on, without geometry prompts."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, vision_pos_enc_2, backbone_fpn_0, backbone_fpn_1, backbone_fpn_2,
                language_mask, language_features):
        from transformers.models.sam3.modeling_sam3 import inverse_sigmoid

        model = self.model
        text_features = language_features.transpose(0, 1)
        text_mask = ~language_mask
        fpn = [backbone_fpn_0, backbone_fpn_1, backbone_fpn_2]
        encoder = model.detr_encoder(vision_features=[backbone_fpn_2],
                                     text_features=text_features,
                                     vision_pos_embeds=[vision_pos_enc_2], text_mask=text_mask)
        decoder = model.detr_decoder(vision_features=encoder.last_hidden_state,
                                     text_features=encoder.text_features,
                                     vision_pos_encoding=encoder.pos_embeds_flattened,
                                     text_mask=text_mask, spatial_shapes=encoder.spatial_shapes)
        offsets = model.detr_decoder.box_head(decoder.intermediate_hidden_states)
        boxes = (inverse_sigmoid(decoder.reference_boxes) + offsets).sigmoid()[-1]
        logits = model.dot_product_scoring(decoder_hidden_states=decoder.intermediate_hidden_states,
                                           text_features=encoder.text_features,
                                           text_mask=text_mask)[-1]
        masks = model.mask_decoder(decoder_queries=decoder.intermediate_hidden_states[-1],
                                   backbone_features=fpn,
                                   encoder_hidden_states=encoder.last_hidden_state,
                                   prompt_features=text_features, prompt_mask=text_mask)
        return boxes, logits, masks.pred_masks, decoder.presence_logits[-1]


def export_text_pack(model, folder: str | Path, opset: int = 18) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    image = torch.zeros(3, 1008, 1008, dtype=torch.uint8)
    tokens = torch.tensor([[49406, 3912, 49407] + [0] * 29])
    feature_names = [f"vision_pos_enc_{i}" for i in range(3)] + \
        [f"backbone_fpn_{i}" for i in range(3)]
    # wrappers in eval mode: torch.onnx.export restores each wrapper's mode afterwards, and a
    # wrapper left in training mode would switch the wrapped model (its dropout) on again
    image_encoder, language_encoder, decoder = (ImageEncoder(model).eval(),
                                                LanguageEncoder(model).eval(),
                                                Decoder(model).eval())
    with torch.no_grad():
        features = image_encoder(image)
        torch.onnx.export(image_encoder, (image,), str(folder / "sam3_image_encoder.onnx"),
                          dynamo=False, opset_version=opset, input_names=["image"],
                          output_names=feature_names)
        mask, memory, embeds = language_encoder(tokens)
        torch.onnx.export(language_encoder, (tokens,),
                          str(folder / "sam3_language_encoder.onnx"), dynamo=False,
                          opset_version=opset, input_names=["tokens"],
                          output_names=["text_attention_mask", "text_memory", "text_embeds"])
        named = dict(zip(feature_names, features))
        args = (named["vision_pos_enc_2"], named["backbone_fpn_0"], named["backbone_fpn_1"],
                named["backbone_fpn_2"], mask, memory)
        torch.onnx.export(decoder, args, str(folder / "sam3_decoder.onnx"), dynamo=False,
                          opset_version=opset,
                          input_names=["vision_pos_enc_2", "backbone_fpn_0", "backbone_fpn_1",
                                       "backbone_fpn_2", "language_mask", "language_features"],
                          output_names=["pred_boxes", "pred_logits", "pred_masks",
                                        "presence_logit_dec"])
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sam3_canvas.twins.text_twin",
                                     description="Export a tiny random-weight SAM3 text pack.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--litetext", action="store_true", help="SAM3-LiteText instead of SAM3")
    parser.add_argument("--from-pretrained", metavar="NAME",
                        help="real weights from the hub (e.g. a SAM3-LiteText checkpoint)")
    args = parser.parse_args(argv)
    if args.from_pretrained:
        from transformers import AutoModel
        model = AutoModel.from_pretrained(args.from_pretrained).eval()
    else:
        model = (build_tiny_litetext if args.litetext else build_tiny_sam3)(args.seed)
    export_text_pack(model, args.folder)
    print(f"wrote a SAM3 text pack (layout A2) to {args.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
