"""``sam3-canvas doctor`` as a user (or an installer's smoke test) runs it."""

from __future__ import annotations

import os

from tests.e2e.test_cli import SAMPLE, cli


def _env(tmp_path, **extra):
    return {"SAM3_CANVAS_MODELS": str(tmp_path / "models"),
            "SAM3_CANVAS_LOG_DIR": str(tmp_path / "logs"), **extra}


def test_a_healthy_installation_passes_every_check(tmp_path):
    result = cli("doctor", env=_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "sam3-canvas 0.1.0" in out and "all checks passed" in out
    assert "[ok] providers offered: cpu" in out or "cpu" in out.split("providers offered")[1]
    assert "[ok] clicks to three masks on the sample photo: cat.jpg 451 x 300" in out
    assert "ran on cpu" in out
    assert "[ok] a class name to masks" in out
    assert f"SAM3_CANVAS_MODELS={tmp_path / 'models'}" in out  # the overrides are shown
    assert "FAILED" not in out


def test_installed_and_incomplete_packs_are_listed(tmp_path):
    from sam3_canvas.testing.fake_models import write_tracker_pack
    models = tmp_path / "models" / "sam3-tracker"
    write_tracker_pack(models / "fp32" / "onnx", external_data=True)  # every file, sidecars too
    write_tracker_pack(models / "int8" / "onnx", variant="int8")  # the sidecars are missing
    result = cli("doctor", env=_env(tmp_path))
    assert "sam3-tracker: fp32\n" in result.stdout
    assert (f"sam3-tracker: int8 incomplete in {models / 'int8'}: 2 file(s) missing "
            "(onnx/vision_encoder_int8.onnx_data, onnx/prompt_encoder_mask_decoder_int8.onnx_data)"
            in result.stdout)


def test_a_provider_that_is_not_offered_fails_the_self_test(tmp_path):
    result = cli("doctor", "--provider", "nonsense", env=_env(tmp_path))
    assert result.returncode == 1
    assert "[FAILED] clicks to three masks" in result.stdout
    assert "unknown provider 'nonsense'" in result.stdout
    assert "2 check(s) FAILED" in result.stdout


def test_two_onnxruntime_wheels_fail_the_conflict_check(tmp_path):
    """A second wheel's metadata beside the real one, as pip leaves it when both are
    installed: the check reads the metadata, not onnxruntime itself."""
    site = tmp_path / "site"
    info = site / "onnxruntime_gpu-1.20.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: onnxruntime-gpu\n"
                                   "Version: 1.20.0\n")
    path = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    result = cli("doctor", env=_env(tmp_path, PYTHONPATH=path))
    assert result.returncode == 1
    assert "[FAILED] only one onnxruntime wheel" in result.stdout
    assert "onnxruntime-gpu" in result.stdout and "pip uninstall" in result.stdout


def test_a_models_folder_that_is_a_file_is_reported(tmp_path):
    blocker = tmp_path / "models"
    blocker.write_text("not a folder")
    result = cli("doctor", env=_env(tmp_path))
    assert result.returncode == 1
    assert f"[FAILED] models folder {blocker}" in result.stdout


def _app(*args, env):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "sam3_canvas", *map(str, args)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **env})


def test_the_window_smoke_test_opens_a_folder_with_a_model(tmp_path, fake_pack):
    import shutil
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(SAMPLE, photos / "cat.jpg")
    env = _env(tmp_path, HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    result = _app(photos, "--model-dir", fake_pack, "--smoke-test", "60", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "smoke test: window shown (cat.jpg, model cpu)" in result.stdout


def test_the_window_smoke_test_fails_when_the_model_does_not_load(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "vision_encoder.onnx").write_bytes(b"not a model")
    env = _env(tmp_path, HOME=str(tmp_path / "home"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    result = _app("--model-dir", broken, "--smoke-test", "5", env=env)
    assert result.returncode == 1
    assert "smoke test FAILED: not shown within 5 s: the model" in result.stderr
