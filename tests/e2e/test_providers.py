"""Providers: what this onnxruntime offers, the fallback to CPU, and the two-wheels trap."""

from __future__ import annotations

import sys

import onnxruntime as ort
import pytest

from sam3_canvas.engine import Segmenter
from sam3_canvas.engine.errors import ProviderError
from sam3_canvas.engine.providers import (
    available_providers,
    conflicting_packages,
    normalise,
    session_providers,
)
from sam3_canvas.engine.sessions import open_session


def test_cpu_is_always_offered():
    assert "cpu" in available_providers()


def test_names_are_normalised():
    assert normalise("CUDA") == "cuda"
    assert normalise("DmlExecutionProvider") == "directml"
    with pytest.raises(ProviderError, match="unknown provider 'vulkan'"):
        normalise("vulkan")
    assert session_providers("cuda") == ["CUDAExecutionProvider", "CPUExecutionProvider"]


@pytest.mark.parametrize("wanted", ["cuda", "directml", "coreml", "tensorrt"])
def test_unavailable_provider_falls_back_to_cpu_and_says_why(fake_pack, photo, wanted):
    if "CUDAExecutionProvider" in ort.get_available_providers() and wanted in ("cuda",
                                                                               "tensorrt"):
        pytest.skip("this machine has CUDA; the fallback is tested where it has not")
    seg = Segmenter.from_dir(fake_pack, provider=wanted)
    assert seg.provider == "cpu"
    reason = seg.model.fallback_reason
    assert reason and wanted in reason and "not offered" in reason
    from sam3_canvas.engine import Prompt
    assert seg.segment(photo, Prompt.click(10, 10)).provider == "cpu"


def test_session_reports_what_actually_runs(fake_pack):
    session, info = open_session(fake_pack / "vision_encoder.onnx", "cpu")
    assert info.active == "cpu" and info.fallback_reason is None
    assert session.get_providers()[0] == "CPUExecutionProvider"


def test_two_onnxruntime_wheels_are_detected(tmp_path, monkeypatch):
    # a real (empty) distribution on sys.path, as pip would leave it
    dist = tmp_path / "onnxruntime_gpu-1.31.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: onnxruntime-gpu\n"
                                   "Version: 1.31.1\n")
    assert conflicting_packages() is None
    monkeypatch.syspath_prepend(str(tmp_path))
    message = conflicting_packages()
    assert message and "onnxruntime, onnxruntime-gpu" in message
    assert "pip uninstall -y onnxruntime onnxruntime-gpu && pip install onnxruntime-gpu" in message
    assert sys.path[0] == str(tmp_path)


def test_the_cli_warns_about_two_wheels(tmp_path, fake_pack):
    """The conflict is reported whenever a model is opened, not only when a provider fails."""
    import os
    import subprocess
    dist = tmp_path / "site" / "onnxruntime_gpu-1.31.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: onnxruntime-gpu\n"
                                   "Version: 1.31.1\n")
    sample = __import__("tests.conftest", fromlist=["ROOT"]).ROOT / "resources/samples/cat.jpg"
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site") + os.pathsep +
           os.environ.get("PYTHONPATH", "")}
    result = subprocess.run([sys.executable, "-m", "sam3_canvas", "segment", "--model-dir",
                             str(fake_pack), "--image", str(sample), "--point", "10,10",
                             "--output", str(tmp_path / "m.png"), "--no-disk-cache"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "warning: several onnxruntime packages are installed together" in result.stderr


def test_tensorrt_runs_in_fp16_with_its_engines_kept_in_the_cache(monkeypatch, tmp_path):
    """TensorRT builds an engine per model and GPU, which takes minutes: it is asked to keep
    them (and its timing cache) in the user cache folder, so only the first start pays."""
    from sam3_canvas.engine.providers import tensorrt_cache_dir, tensorrt_needs_build
    monkeypatch.setenv("SAM3_CANVAS_CACHE", str(tmp_path / "cache" / "embeddings"))
    entries = session_providers("tensorrt")
    name, options = entries[0]
    assert name == "TensorrtExecutionProvider"
    assert entries[1:] == ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert options["trt_fp16_enable"] == "True" and options["trt_engine_cache_enable"] == "True"
    assert options["trt_engine_cache_path"] == str(tmp_path / "cache" / "tensorrt")
    assert tensorrt_cache_dir() == tmp_path / "cache" / "tensorrt"
    assert tensorrt_needs_build()
    tensorrt_cache_dir().mkdir(parents=True)
    (tensorrt_cache_dir() / "TensorrtExecutionProvider_TRTKernel_graph_1.engine").write_bytes(
        b"x")
    assert not tensorrt_needs_build()
