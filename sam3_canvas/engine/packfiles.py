"""Finding a model pack's graphs in a folder, as published or as a user unpacked them.

The onnx-community tracker repo keeps ``onnx/vision_encoder{_variant}.onnx`` and
``onnx/prompt_encoder_mask_decoder{_variant}.onnx``; users often flatten ``onnx/`` away. Both
work. A variant's decoder may be missing (quantised decoders are sometimes not published);
then the plain fp32 decoder, which is small, is paired with the variant's encoder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import ModelNotFoundError

ENCODER_STEM = "vision_encoder"
DECODER_STEM = "prompt_encoder_mask_decoder"
#: variants in the order chosen when a folder holds several and none was asked for
VARIANT_PREFERENCE = ("fp32", "fp16", "q4f16", "q4", "int8", "uint8", "quantized", "bnb4")
TEXT_PATH_FILES = ("sam3_image_encoder.onnx", "sam3_decoder.onnx")
TEXT_GRAPHS = ("sam3_image_encoder.onnx", "sam3_language_encoder.onnx", "sam3_decoder.onnx")


@dataclass(frozen=True)
class TextFiles:
    image_encoder: Path
    language_encoder: Path
    decoder: Path

    @property
    def folder(self) -> Path:
        return self.decoder.parent


@dataclass(frozen=True)
class TrackerFiles:
    encoder: Path
    decoder: Path
    variant: str


def _suffix(variant: str) -> str:
    return "" if variant == "fp32" else f"_{variant}"


def _variant_of(path: Path, stem: str) -> str:
    rest = path.stem[len(stem):]
    return rest[1:] if rest.startswith("_") else "fp32"


def tracker_variants(folder: str | Path) -> list[str]:
    """The variants a tracker folder holds, in the order one is chosen when none is asked."""
    folder = Path(folder)
    roots = [folder / "onnx", folder] if (folder / "onnx").is_dir() else [folder]
    for root in roots:
        found = {_variant_of(p, ENCODER_STEM) for p in root.glob(f"{ENCODER_STEM}*.onnx")}
        if found:
            return [v for v in VARIANT_PREFERENCE if v in found] + sorted(
                found.difference(VARIANT_PREFERENCE))
    return []


def find_tracker_files(folder: str | Path, variant: str | None = None) -> TrackerFiles:
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelNotFoundError(f"{folder}: model folder not found")
    roots = [folder / "onnx", folder] if (folder / "onnx").is_dir() else [folder]
    for root in roots:
        encoders = {_variant_of(p, ENCODER_STEM): p for p in root.glob(f"{ENCODER_STEM}*.onnx")}
        if not encoders:
            continue
        decoders = {_variant_of(p, DECODER_STEM): p for p in root.glob(f"{DECODER_STEM}*.onnx")}
        if variant is not None:
            chosen = variant
            if chosen not in encoders:
                raise ModelNotFoundError(
                    f"{root}: no {ENCODER_STEM}{_suffix(chosen)}.onnx for variant {chosen!r} "
                    f"(variants here: {', '.join(sorted(encoders))})")
        else:
            ordered = [v for v in VARIANT_PREFERENCE if v in encoders] + sorted(
                v for v in encoders if v not in VARIANT_PREFERENCE)
            chosen = ordered[0]
        decoder = decoders.get(chosen) or decoders.get("fp32")
        if decoder is None:
            raise ModelNotFoundError(
                f"{root}: found {encoders[chosen].name} but no {DECODER_STEM}*.onnx beside it")
        return TrackerFiles(encoder=encoders[chosen], decoder=decoder, variant=chosen)
    if any((where / name).is_file() for where in (folder, folder / "sam3")
           for name in TEXT_PATH_FILES):
        raise ModelNotFoundError(
            f"{folder} holds a text-path pack (sam3_image_encoder / sam3_decoder): it finds "
            "objects by class name (`sam3-canvas detect`); clicks and boxes need the SAM3 "
            "tracker pack (vision_encoder + prompt_encoder_mask_decoder)")
    raise ModelNotFoundError(
        f"{folder}: no {ENCODER_STEM}*.onnx here or in {folder / 'onnx'}; get the tracker pack "
        "with `sam3-canvas models download sam3-tracker` or make a test pack with "
        "`python -m sam3_canvas.testing.fake_models DIR`")


def _text_folder(folder: Path) -> Path | None:
    """The folder holding the three text graphs: ``folder`` itself, its ``sam3/`` (as
    nrl-ai/samexporter-onnx-models publishes them) or its only sub-folder that has them."""
    candidates = [folder, folder / "sam3"]
    if folder.is_dir():
        candidates += sorted(p for p in folder.iterdir() if p.is_dir() and p.name != "sam3")
    for candidate in candidates:
        if all((candidate / name).is_file() for name in TEXT_GRAPHS):
            return candidate
    return None


def find_text_files(folder: str | Path) -> TextFiles:
    """The text pack's three graphs in ``folder`` or a sub-folder of it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelNotFoundError(f"{folder}: model folder not found")
    found = _text_folder(folder)
    if found is None:
        present = sorted({p.relative_to(folder).as_posix() for p in folder.rglob("*.onnx")})[:6]
        have = f" (it holds {', '.join(present)})" if present else ""
        raise ModelNotFoundError(
            f"{folder}: no text pack here or in a sub-folder{have}; a text pack holds "
            f"{', '.join(TEXT_GRAPHS)}")
    return TextFiles(*(found / name for name in TEXT_GRAPHS))
