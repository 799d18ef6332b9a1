"""Make the published variants of an fp32 tracker export, the way onnx-community makes them.

onnx-community's ONNX repos come from transformers.js's ``scripts/quantize.py`` (run by
``scripts/convert.py`` or on its own). Its recipes, reproduced here with the quantisers of the
installed onnxruntime, one per variant suffix:

========== =================================================================================
suffix     recipe
========== =================================================================================
int8       ``ONNXQuantizer`` in IntegerOps (dynamic) mode, QInt8 weights, QUInt8 activations,
           every op type of ``IntegerOpsRegistry`` (Conv, MatMul, Gather, ...), options
           ``EnableSubgraph`` and ``MatMulConstBOnly``; per-channel and reduce-range off (the
           stand-alone script's default; ``convert.py`` turns both on for most model types)
uint8      the same with QUInt8 weights
quantized  "q8": the same, QUInt8 weights when the graph has a Conv (as SAM3's encoder has:
           the patch embedding and the FPN), QInt8 otherwise
q4         ``MatMulNBitsQuantizer`` (formerly ``MatMul4BitsQuantizer``): MatMuls with constant
           weights to 4-bit blocks of 32, symmetric, ``accuracy_level`` unset
q4f16      q4, then fp16
bnb4       ``MatMulBnb4Quantizer``: NF4, blocks of 64
fp16       float16 conversion with float32 inputs and outputs (``keep_io_types``) and
           transformers.js's op block list (Resize, Cast, Min, Max, ... stay float32), then
           onnxslim; transformers.js ships its own copy of the converter, onnxruntime's
           (``onnxruntime.transformers.float16``) is used here
========== =================================================================================

Before quantising, ``convert.py`` runs onnxslim over the fp32 export (constant folding, shape
inference, dead-node removal); :func:`slim_graph` does the same (``--slim-from``). It matters
beyond size: the TorchScript exporter leaves a Reshape of unknown rank in the encoder that
OpenVINO's CPU plug-in refuses to compile, and the slimmed graph has none.

Every file is written with its weights in one ``X.onnx_data`` sidecar, as the repo publishes
them. Needs ``onnx-ir`` (onnxruntime's 4-bit quantiser imports it) and ``onnxslim`` (for the
fp32 slimming and fp16; skipped with a note when missing).

    python -m sam3_canvas.twins.quantize FOLDER --slim-from EXPORT_FOLDER --modes int8 q4 fp16
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import time
from pathlib import Path

#: the variant suffixes of onnx-community repos, in transformers.js's order
MODES = ("fp16", "quantized", "int8", "uint8", "q4", "q4f16", "bnb4")
#: variants that are not published but worth measuring: q4 with int8 compute (accuracy level 4)
EXTRA_MODES = ("q4a4",)
STEMS = ("vision_encoder", "prompt_encoder_mask_decoder")

#: transformers.js's ``scripts/float16.py`` DEFAULT_OP_BLOCK_LIST (ops kept in float32)
FP16_OP_BLOCK_LIST = (
    "ArrayFeatureExtractor", "Binarizer", "CastMap", "CategoryMapper", "DictVectorizer",
    "FeatureVectorizer", "Imputer", "LabelEncoder", "LinearClassifier", "LinearRegressor",
    "Normalizer", "OneHotEncoder", "RandomUniformLike", "SVMClassifier", "SVMRegressor",
    "Scaler", "TreeEnsembleClassifier", "TreeEnsembleRegressor", "ZipMap", "NonMaxSuppression",
    "TopK", "RoiAlign", "Resize", "CumSum", "Min", "Max", "Upsample", "RandomNormalLike", "Cast",
)
#: ops that make transformers.js's "q8" pick QUInt8 weights (onnxruntime-web lacks int8 Conv)
QUINT8_OPS = ("Conv", "GroupQueryAttention", "MultiHeadAttention")
PROTOBUF_LIMIT = 2**31 - 1
log = logging.getLogger(__name__)


def variant_path(fp32_path: str | Path, mode: str) -> Path:
    """``onnx/vision_encoder.onnx`` -> ``onnx/vision_encoder_q4.onnx``."""
    fp32_path = Path(fp32_path)
    return fp32_path.with_name(f"{fp32_path.stem}_{mode}.onnx")


def save_with_sidecar(graph_model, path: str | Path) -> Path:
    """Save ``graph_model`` (weights in memory) to ``path`` with all its weights in one
    ``<name>.onnx_data`` beside it, the onnx-community layout; returns the sidecar's path.
    Files an older ``path`` referred to (a large export writes one file per tensor) go."""
    import onnx

    path = Path(path)
    sidecar = path.with_name(path.name + "_data")
    stale = {sidecar}
    if path.is_file():
        old = onnx.load(str(path), load_external_data=False)
        stale |= {path.parent / entry.value for tensor in old.graph.initializer
                  for entry in tensor.external_data if entry.key == "location"}
        del old
    for item in stale:
        if item.is_file() and item.resolve() != path.resolve():
            item.unlink()
    onnx.save(graph_model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
              location=sidecar.name, size_threshold=1024, convert_attribute=False)
    return sidecar


def operators(graph_model) -> set[str]:
    import onnx

    found: set[str] = set()

    def walk(graph):
        for node in graph.node:
            found.add(node.op_type)
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    walk(attr.g)

    walk(graph_model.graph)
    return found


def quantize_8bit(graph_model, weight_type: str, per_channel: bool = False,
                  reduce_range: bool = False):
    """transformers.js's ``quantize_q8``: dynamic (IntegerOps) quantisation of every op type
    onnxruntime can quantise dynamically, weights ``"int8"`` or ``"uint8"``."""
    from onnxruntime.quantization import QuantizationMode, QuantType
    from onnxruntime.quantization.onnx_quantizer import ONNXQuantizer
    from onnxruntime.quantization.registry import IntegerOpsRegistry

    quantizer = ONNXQuantizer(
        graph_model, per_channel, reduce_range, mode=QuantizationMode.IntegerOps, static=False,
        weight_qType=QuantType.QInt8 if weight_type == "int8" else QuantType.QUInt8,
        activation_qType=QuantType.QUInt8, tensors_range=None, nodes_to_quantize=[],
        nodes_to_exclude=[], op_types_to_quantize=set(IntegerOpsRegistry.keys()),
        extra_options={"EnableSubgraph": True, "MatMulConstBOnly": True})
    quantizer.quantize_model()
    return quantizer.model.model


def quantize_q4(graph_model, block_size: int = 32, is_symmetric: bool = True,
                accuracy_level: int | None = None):
    """transformers.js's ``quantize_q4``: MatMul weights to 4-bit blocks (MatMulNBits)."""
    try:
        from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
    except ImportError as exc:  # onnxruntime >= 1.22 imports onnx_ir there
        raise SystemExit(f"4-bit quantisation needs onnx-ir: pip install onnx-ir ({exc})") from exc
    quantizer = MatMulNBitsQuantizer(graph_model, block_size=block_size,
                                     is_symmetric=is_symmetric, accuracy_level=accuracy_level)
    quantizer.process()
    return quantizer.model.model


def quantize_bnb4(graph_model, block_size: int = 64, quant_type: int | None = None):
    """transformers.js's ``quantize_bnb4``: MatMul weights to NF4 blocks of 64 (MatMulBnb4)."""
    from onnxruntime.quantization.matmul_bnb4_quantizer import MatMulBnb4Quantizer

    quantizer = MatMulBnb4Quantizer(
        graph_model, quant_type=MatMulBnb4Quantizer.NF4 if quant_type is None else quant_type,
        block_size=block_size)
    quantizer.process()
    return quantizer.model.model


def convert_fp16(graph_model, slim: bool = True):
    """transformers.js's ``quantize_fp16``: float16 inside, float32 inputs and outputs."""
    from onnxruntime.transformers.float16 import convert_float_to_float16

    converted = convert_float_to_float16(
        graph_model, keep_io_types=True,
        disable_shape_infer=graph_model.ByteSize() >= PROTOBUF_LIMIT,
        op_block_list=list(FP16_OP_BLOCK_LIST))
    if slim:
        try:
            import onnxslim
        except ImportError:
            log.warning("onnxslim is not installed: the fp16 graph is left unslimmed")
        else:
            converted = onnxslim.slim(converted)
    return converted


def slim_graph(source: str | Path, target: str | Path) -> Path:
    """onnxslim over the fp32 graph ``source``, written to ``target`` with its sidecar
    (transformers.js's ``convert.py`` step before quantising)."""
    import onnxslim

    slimmed = onnxslim.slim(str(source))
    save_with_sidecar(slimmed, target)
    del slimmed
    gc.collect()
    return Path(target)


def make_variant(fp32_path: str | Path, mode: str, out_path: str | Path | None = None,
                 per_channel: bool = False, reduce_range: bool = False) -> Path:
    """Write the ``mode`` variant of the fp32 graph ``fp32_path`` (default name: the
    published one beside it) and return its path."""
    import onnx

    fp32_path = Path(fp32_path)
    out_path = Path(out_path) if out_path else variant_path(fp32_path, mode)
    graph_model = onnx.load(str(fp32_path))  # weights from the sidecar too
    if mode in ("int8", "uint8", "quantized"):
        if mode == "quantized":
            weight_type = "uint8" if operators(graph_model) & set(QUINT8_OPS) else "int8"
        else:
            weight_type = mode
        result = quantize_8bit(graph_model, weight_type, per_channel, reduce_range)
    elif mode == "q4":
        result = quantize_q4(graph_model)
    elif mode == "q4a4":
        result = quantize_q4(graph_model, accuracy_level=4)
    elif mode == "q4f16":
        result = convert_fp16(quantize_q4(graph_model))
    elif mode == "bnb4":
        result = quantize_bnb4(graph_model)
    elif mode == "fp16":
        result = convert_fp16(graph_model)
    else:
        raise ValueError(f"unknown variant {mode!r}: choose from {', '.join(MODES + EXTRA_MODES)}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    save_with_sidecar(result, out_path)
    del graph_model, result
    gc.collect()
    return out_path


def _graph_root(folder: Path) -> Path:
    return folder / "onnx" if (folder / "onnx").is_dir() else folder


def make_variants(folder: str | Path, modes=MODES, overwrite: bool = False,
                  stems=STEMS, slim_from: str | Path | None = None) -> list[Path]:
    """Every ``mode`` of every fp32 graph in ``folder`` (or its ``onnx/``), named as published;
    with ``slim_from``, the fp32 graphs are first made there from the raw export in that folder
    by onnxslim."""
    folder = Path(folder)
    written = []
    if slim_from is not None:
        raw_root = _graph_root(Path(slim_from))
        root = folder / "onnx" if folder.name != "onnx" else folder
        root.mkdir(parents=True, exist_ok=True)
        for stem in stems:
            target = root / f"{stem}.onnx"
            if target.is_file() and not overwrite:
                continue
            start = time.perf_counter()
            slim_graph(raw_root / f"{stem}.onnx", target)
            log.info("wrote %s (slimmed) in %.0f s", target.name, time.perf_counter() - start)
            written.append(target)
    root = _graph_root(folder)
    for stem in stems:
        source = root / f"{stem}.onnx"
        if not source.is_file():
            raise FileNotFoundError(f"{source}: no fp32 graph to quantise")
        for mode in modes:
            target = variant_path(source, mode)
            if target.is_file() and not overwrite:
                continue
            start = time.perf_counter()
            make_variant(source, mode, target)
            log.info("wrote %s in %.0f s", target.name, time.perf_counter() - start)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sam3_canvas.twins.quantize",
        description="Make onnx-community's variants (fp16, int8, q4 ...) of an fp32 SAM3 tracker "
                    "export with transformers.js's recipes, named as published.")
    parser.add_argument("folder", type=Path, help="folder with the fp32 graphs (or its onnx/)")
    parser.add_argument("--modes", nargs="*", default=list(MODES),
                        choices=list(MODES + EXTRA_MODES))
    parser.add_argument("--slim-from", type=Path, metavar="EXPORT",
                        help="first write FOLDER's fp32 graphs as onnxslim's version of the raw "
                             "export in EXPORT (as transformers.js's convert.py does)")
    parser.add_argument("--stems", nargs="+", default=list(STEMS), choices=list(STEMS))
    parser.add_argument("--overwrite", action="store_true", help="remake existing variants")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    make_variants(args.folder, args.modes, args.overwrite, args.stems, args.slim_from)
    return 0


if __name__ == "__main__":
    sys.exit(main())
