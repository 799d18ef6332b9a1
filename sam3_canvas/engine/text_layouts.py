"""The text path's graphs (layouts A and A2), recognised from their own names and dtypes.

Everything that varies between published exports is read from the graphs: the context length
of ``tokens`` (32 for SAM3; LiteText's "-16" checkpoints may take 16), the exemplar capacity
of ``box_coords`` (A: 1, A2: 8, 0 for a decoder without boxes), and which optional inputs the
decoder declares (dynamo exports keep ``vision_pos_enc_0/1`` and ``language_embeds``). Before
any image is encoded, every output that feeds the decoder is checked against the input it
feeds (rank and static sizes), so graphs from different packs are refused with a message
instead of failing after a long encode. A language encoder with the HF-style contract of the
published LiteText ONNX (``input_ids``, ``attention_mask``) is refused with what to do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import LayoutError
from .layouts import check_link, specs

LEGACY_OUTPUTS = {"boxes", "scores", "masks"}
RAW_OUTPUTS = {"pred_boxes", "pred_logits", "pred_masks", "presence_logit_dec"}
#: language-encoder output -> the decoder input it feeds
LANGUAGE_LINKS = {"text_attention_mask": "language_mask", "text_memory": "language_features",
                  "text_embeds": "language_embeds"}
HF_TEXT_CONTRACT = {"input_ids", "attention_mask"}


@dataclass(frozen=True)
class TextLayout:
    name: str  # "A" (thresholded in the graph) or "A2" (raw heads)
    image_input: str
    image_dtype: type  # uint8 CHW (published) or float NCHW (older exports)
    image_size: tuple[int, int]  # (width, height)
    feature_names: tuple[str, ...]  # image-encoder outputs the decoder takes
    box_capacity: int  # exemplar boxes per call (A: 1, A2: 8; 0 for a text-only decoder)
    context_length: int = 32  # tokens per prompt, from the language encoder's input
    language_outputs: tuple[str, ...] = ("text_attention_mask", "text_memory")  # to fetch


def text_layout(image_inputs, image_outputs, lang_inputs, lang_outputs, dec_inputs,
                dec_outputs, names=("image encoder", "language encoder", "decoder")) -> TextLayout:
    img_in, img_out = specs(image_inputs), specs(image_outputs)
    lang_in, lang_out = specs(lang_inputs), specs(lang_outputs)
    dec_in, dec_out = specs(dec_inputs), specs(dec_outputs)

    def fail(graph, what, have):
        listed = ", ".join(f"{s.name}{list(s.shape)}" for s in have.values())
        return LayoutError(f"{graph} does not fit the SAM3 text layout: {what} (it has {listed})")

    image = img_in.get("image") or img_in.get("pixel_values")
    if image is None or len(img_in) != 1:
        raise fail(names[0], "expected one input 'image'", img_in)
    if image.dtype == np.uint8 and len(image.shape) == 3:
        size = (image.static(2, 1008), image.static(1, 1008))
    elif image.dtype in (np.float32, np.float16) and len(image.shape) == 4:
        size = (image.static(3, 1008), image.static(2, 1008))
    else:
        raise fail(names[0], f"input '{image.name}' must be uint8 [3,H,W] or float [1,3,H,W]",
                   img_in)
    if HF_TEXT_CONTRACT <= set(lang_in) and "tokens" not in lang_in:
        raise LayoutError(
            f"{names[1]} takes input_ids and attention_mask (the contract of the published "
            "LiteText text-encoder ONNX), not SAM3's 'tokens': sam3-canvas does not run that "
            "contract. Make a LiteText pack that it runs with `python -m "
            "sam3_canvas.twins.text_twin --from-pretrained vil-uob/sam3-litetext-s0 DIR` "
            "(needs the export extra and internet), or use a SAM3 text pack's "
            "sam3_language_encoder.onnx")
    if "tokens" not in lang_in:
        raise fail(names[1], "no input 'tokens'", lang_in)
    tokens = lang_in["tokens"]
    if len(tokens.shape) != 2:
        raise fail(names[1], "input 'tokens' must be [1, context]", lang_in)
    context = tokens.static(1, 32)
    for out in ("text_attention_mask", "text_memory"):
        if out not in lang_out:
            raise fail(names[1], f"no output '{out}'", lang_out)
    outputs = set(dec_out)
    if LEGACY_OUTPUTS <= outputs:
        layout = "A"
    elif RAW_OUTPUTS <= outputs:
        layout = "A2"
    else:
        raise fail(names[2], "outputs are neither boxes/scores/masks (layout A) nor "
                   "pred_boxes/pred_logits/pred_masks/presence_logit_dec (layout A2)", dec_out)
    for needed in ("language_mask", "language_features"):
        if needed not in dec_in:
            raise fail(names[2], f"no input '{needed}'", dec_in)
    boxes = [n for n in ("box_coords", "box_labels", "box_masks") if n in dec_in]
    if boxes and len(boxes) != 3:
        missing_box = next(n for n in ("box_coords", "box_labels", "box_masks") if n not in dec_in)
        raise fail(names[2], f"no input '{missing_box}' beside '{boxes[0]}'", dec_in)
    features = tuple(n for n in dec_in if n in img_out)
    missing = [n for n in dec_in if n.startswith(("backbone_fpn", "vision_pos_enc"))
               and n not in img_out and n not in ("vision_pos_enc_0", "vision_pos_enc_1")]
    if missing:
        raise fail(names[2], f"input '{missing[0]}' is not an output of the image encoder",
                   dec_in)
    for name in features:
        check_link(img_out[name], dec_in[name], names[0], names[2])
    fetched = []
    for produced, consumed in LANGUAGE_LINKS.items():
        if produced in lang_out and consumed in dec_in:
            check_link(lang_out[produced], dec_in[consumed], names[1], names[2])
            fetched.append(produced)
    mask_len = dec_in["language_mask"].shape[-1]
    if isinstance(mask_len, int) and mask_len > 0 and mask_len != context:
        raise LayoutError(f"{names[1]} and {names[2]} do not fit together: the language "
                          f"encoder takes {context} tokens, the decoder's language_mask "
                          f"{mask_len}; are they from the same pack?")
    capacity = dec_in["box_coords"].static(0, 1) if boxes else 0  # 0: takes no exemplars
    return TextLayout(layout, image.name, image.dtype, size, features, capacity, context,
                      tuple(fetched))
