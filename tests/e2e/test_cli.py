"""The CLI as a user runs it: a real subprocess, real files, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from sam3_canvas.testing import fake_models
from tests.conftest import ROOT, fixture_path

SAMPLE = ROOT / "resources" / "samples" / "cat.jpg"


def cli(*args, cwd=None, env=None):
    import os
    import tempfile
    cache = os.path.join(tempfile.gettempdir(), "sam3-canvas-test-cache")  # never the checkout
    result = subprocess.run([sys.executable, "-m", "sam3_canvas", *map(str, args)],
                            capture_output=True, text=True, cwd=cwd, timeout=300,
                            env={**os.environ, "SAM3_CANVAS_CACHE": cache, **(env or {})})
    assert "Traceback" not in result.stderr, result.stderr
    return result


@pytest.fixture()
def seg_args(fake_pack, tmp_path):
    return ["segment", "--model-dir", fake_pack, "--cache-dir", tmp_path / "cache"]


def test_segment_prints_three_ious_and_writes_the_best_mask(seg_args, tmp_path):
    out = tmp_path / "mask.png"
    result = cli(*seg_args, "--image", SAMPLE, "--point", "250,130", "--output", out)
    assert result.returncode == 0, result.stderr
    for i, iou in enumerate(fake_models.IOUS):
        assert f"Mask {i}: IoU = {iou:.4f}" in result.stdout
    assert "Object presence probability: 1.0000" in result.stdout
    mask = np.asarray(Image.open(out))
    assert mask.shape == (300, 451) and set(np.unique(mask)) == {0, 255}
    assert mask[130, 250] == 255


def test_json_output_and_mask_index(seg_args, tmp_path):
    out = tmp_path / "m.png"
    result = cli(*seg_args, "--image", SAMPLE, "--point", "250,130", "--mask-index", "2",
                 "--json", "--output", out)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["ious"] == pytest.approx(list(fake_models.IOUS))
    assert doc["best_index"] == 1 and doc["chosen_index"] == 2 and doc["provider"] == "cpu"
    assert doc["object_score"] > 0.99
    assert {"read", "preprocess", "encode", "decode"} <= set(doc["timings_ms"])
    small = np.asarray(Image.open(out)).sum()
    cli(*seg_args, "--image", SAMPLE, "--point", "250,130", "--mask-index", "0", "--output", out)
    assert np.asarray(Image.open(out)).sum() < small


def test_all_masks_with_background_point_and_box(seg_args, tmp_path):
    out = tmp_path / "cat.png"
    result = cli(*seg_args, "--image", SAMPLE, "--point", "250,130", "--bg-point", "255,135",
                 "--box", "20,20,120,120", "--all-masks", "--output", out)
    assert result.returncode == 0, result.stderr
    masks = [np.asarray(Image.open(tmp_path / f"cat_{i}.png")) for i in range(3)]
    assert all(m[135, 255] == 0 for m in masks)  # carved by the background point
    assert all(m[70, 70] == 255 for m in masks)  # the box


def test_batch_over_a_folder_continues_past_a_bad_image(seg_args, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("banana1.jpg", "banana2.jpg"):
        (folder / name).write_bytes(fixture_path(f"objects/images/{name}").read_bytes())
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    result = cli(*seg_args, "--image", folder, "--point", "100,100", "--output",
                 tmp_path / "out", "--json")
    assert result.returncode == 2
    assert "broken.jpg" in result.stderr and result.stderr.count("error:") == 1
    doc = json.loads(result.stdout)
    assert doc["failed"] == 1 and len(doc["results"]) == 3
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["banana1.png", "banana2.png"]


@pytest.mark.parametrize("extra, message", [
    (["--point", "9999,10"], "outside the 451 x 300 image"),
    (["--box", "200,200,100,100"], "inverted"),
    (["--point", "abc"], "expected X,Y"),
    ([], "at least one --point"),
])
def test_bad_prompts_exit_2_with_one_line(seg_args, tmp_path, extra, message):
    result = cli(*seg_args, "--image", SAMPLE, *extra, "--output", tmp_path / "m.png")
    assert result.returncode == 2 and message in result.stderr
    assert not (tmp_path / "m.png").exists()


def test_bad_images_exit_2(seg_args, tmp_path):
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(SAMPLE.read_bytes()[:3000])
    for image, message in ((tmp_path / "missing.jpg", "no such file"),
                           (truncated, "truncated")):
        result = cli(*seg_args, "--image", image, "--point", "1,1")
        assert result.returncode == 2 and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_bad_models_exit_2(tmp_path):
    wrong = fake_models.write_wrong_layout_pack(tmp_path / "wrong")
    result = cli("segment", "--model-dir", wrong, "--image", SAMPLE, "--point", "1,1")
    assert result.returncode == 2 and "'pixel_values'" in result.stderr
    result = cli("segment", "--model", "sam3-tracker", "--models-dir", tmp_path / "none",
                 "--image", SAMPLE, "--point", "1,1")
    assert result.returncode == 2 and "models download sam3-tracker" in result.stderr
    result = cli("segment", "--model", "nope", "--image", SAMPLE, "--point", "1,1")
    assert result.returncode == 2 and "unknown model 'nope'" in result.stderr


def test_provider_fallback_is_reported(seg_args, tmp_path):
    import onnxruntime
    if "DmlExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("DirectML is available here")
    result = cli(*seg_args, "--image", SAMPLE, "--point", "5,5", "--provider", "directml",
                 "--json", "--output", tmp_path / "m.png")
    assert result.returncode == 0
    assert "warning: directml is not offered" in result.stderr
    assert json.loads(result.stdout)["provider"] == "cpu"


def test_models_list_and_path(tmp_path):
    result = cli("models", "--models-dir", tmp_path, "list")
    assert result.returncode == 0
    for name in ("sam3-tracker", "sam3-text", "sam3-text-int8", "sam3-text-a2",
                 "sam3-litetext"):
        assert name in result.stdout
    assert "twins.text_twin --from-pretrained" in result.stdout
    made = cli("models", "--models-dir", tmp_path, "download", "sam3-litetext")
    assert made.returncode == 2 and "no ONNX with SAM3's contract is published" in made.stderr
    for variant in ("fp32", "fp16", "q4", "q4f16", "int8 (default)", "quantized"):
        assert variant in result.stdout
    result = cli("models", "--models-dir", tmp_path, "path", "sam3-tracker", "--variant", "fp16")
    assert result.stdout.strip() == str(tmp_path / "sam3-tracker" / "fp16")


def test_export_and_import_commands(tmp_path):
    import shutil

    from sam3_canvas.app.project import Project
    from sam3_canvas.document.annotation import Document, Instance
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(fixture_path("objects/images/teddy.jpg"), folder / "teddy.jpg")
    truth = np.asarray(Image.open(fixture_path("objects/masks/teddy.png"))) == 255
    project = Project(folder)
    doc = Document("teddy.jpg", truth.shape[1], truth.shape[0])
    doc.insert(Instance.from_mask(1, "toy", truth))
    project.save(doc)
    for fmt in ("coco", "yolo", "voc", "labelme", "png"):
        result = cli("export", "--format", fmt, "--out", tmp_path / fmt, folder)
        assert result.returncode == 0, result.stderr
        assert f"exported 1 instances of 1 images as {fmt}" in result.stdout
        fresh = tmp_path / f"in-{fmt}"
        fresh.mkdir()
        shutil.copy(folder / "teddy.jpg", fresh / "teddy.jpg")
        source = tmp_path / fmt
        result = cli("import", "--format", fmt, source, fresh)
        assert result.returncode == 0, result.stderr
        assert "imported 1 instances into 1 images" in result.stdout
        (inst,) = Project(fresh).document(fresh / "teddy.jpg").instances
        assert inst.label == "toy"
    result = cli("import", "--format", "coco", tmp_path / "nothing.json", folder)
    assert result.returncode == 2 and "no such file" in result.stderr
    result = cli("export", "--format", "coco", "--out", tmp_path / "x", tmp_path / "nowhere")
    assert result.returncode == 2 and "not a folder of images" in result.stderr
