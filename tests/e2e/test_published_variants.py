"""Every published tracker variant, made the way onnx-community makes it, runs in the app.

The tiny tracker twin is exported with its weights in ``X.onnx_data`` sidecars (as the repo
publishes every file) and quantised with transformers.js's recipes (``twins.quantize``); each
variant then goes through ``segment`` as a user runs it and through the engine, where its masks
are compared with fp32's. bench/bench_variants.py does the same at full size for docs/variants.md.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("torch", reason="the export extra (torch) is not installed")
pytest.importorskip("transformers", reason="the export extra is not installed")
pytest.importorskip("onnx_ir", reason="the export extra (onnx-ir) is not installed")

from sam3_canvas.engine import Prompt, Segmenter  # noqa: E402
from tests.conftest import fixture_path  # noqa: E402

pytestmark = pytest.mark.twin

MODES = ("fp16", "quantized", "int8", "uint8", "q4", "q4f16", "bnb4")
PHOTO = "objects/images/llama.jpg"
PROMPT = Prompt.click(240, 200)


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    from sam3_canvas.twins.quantize import make_variants
    from sam3_canvas.twins.tracker_twin import build_tiny_tracker, export_tracker

    folder = tmp_path_factory.mktemp("published") / "sam3-tracker"
    export_tracker(build_tiny_tracker(seed=0), folder / "onnx", external_data=True)
    made = make_variants(folder, modes=MODES)
    assert len(made) == 2 * len(MODES)
    return folder


def _low_res(folder, variant):
    seg = Segmenter.from_dir(folder, variant=variant)
    return seg.segment(fixture_path(PHOTO), PROMPT).logits


def test_every_graph_is_published_with_its_sidecar(pack):
    import onnx

    graphs = sorted((pack / "onnx").glob("*.onnx"))
    assert len(graphs) == 2 * (len(MODES) + 1)
    for graph in graphs:
        sidecar = graph.with_name(graph.name + "_data")
        assert sidecar.is_file() and sidecar.stat().st_size > 0, graph.name
        model = onnx.load(str(graph), load_external_data=False)
        locations = {entry.value for tensor in model.graph.initializer
                     for entry in tensor.external_data if entry.key == "location"}
        assert locations == {sidecar.name}  # one sidecar per graph, by its published name


def test_fp16_keeps_float32_inputs_and_outputs(pack):
    import onnxruntime as ort

    for stem in ("vision_encoder", "prompt_encoder_mask_decoder"):
        session = ort.InferenceSession(str(pack / "onnx" / f"{stem}_fp16.onnx"),
                                       providers=["CPUExecutionProvider"])
        types = {arg.type for arg in (*session.get_inputs(), *session.get_outputs())}
        assert types <= {"tensor(float)", "tensor(int64)"}, (stem, types)


@pytest.mark.parametrize("variant", MODES)
def test_each_variant_segments_like_fp32(pack, variant):
    reference, logits = _low_res(pack, "fp32"), _low_res(pack, variant)
    assert logits.shape == reference.shape and np.isfinite(logits).all()
    corr = np.corrcoef(reference.ravel(), logits.ravel())[0, 1]
    # Random weights put every variant further from fp32 than trained ones would be; 4-bit
    # still agrees far above chance, and fp16 and 8-bit much closer (docs/variants.md).
    assert corr > (0.99 if variant == "fp16" else 0.8), (variant, corr)


@pytest.mark.parametrize("variant", ["int8", "q4f16"])
def test_segment_command_runs_a_published_variant(pack, variant, tmp_path):
    import os

    out = tmp_path / "mask.png"
    result = subprocess.run(
        [sys.executable, "-m", "sam3_canvas", "segment", "--model-dir", str(pack), "--variant",
         variant, "--image", str(fixture_path(PHOTO)), "--point", "240,200", "--output",
         str(out), "--no-disk-cache", "--json"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "SAM3_CANVAS_CACHE": str(tmp_path / "cache")})
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout)
    assert len(report["ious"]) == 3 and report["provider"] == "cpu" and out.is_file()
