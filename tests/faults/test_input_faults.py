"""Bad images, bad prompts and bad models: one line and exit code 2, never a traceback; a batch
goes on past a bad image and lists it at the end."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from PIL import Image

from sam3_canvas.engine.images import load_image
from sam3_canvas.testing import fake_models
from tests.faults.conftest import bad_image, write_photo

IMAGES = "Images"
MODELS = "Models"
PROMPTS = "Prompts"

BROKEN = {  # kind -> what the one line says
    "corrupt": "corrupt",
    "zero-byte": "empty",
    "truncated": "truncated",
    "non-image": "not an image",
    "huge": "over the 200 MP limit",
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_a_broken_image_is_one_line(kind, tmp_path, fake_pack, cli, fault):
    record = fault(f"{kind} image (segment)", IMAGES)
    image = bad_image(kind, tmp_path / "in")
    before = image.read_bytes()
    result = cli("segment", "--model-dir", fake_pack, "--no-disk-cache", "--image", image,
                 "--point", "10,10", "--output", tmp_path / "mask.png")
    assert result.code == 2
    assert result.last_error.startswith("sam3-canvas: error:")
    assert BROKEN[kind] in result.last_error and str(image.name) in result.last_error
    assert len(result.err.strip().splitlines()) == 1
    assert image.read_bytes() == before and not (tmp_path / "mask.png").exists()
    record.seen(result.last_error.replace(str(tmp_path), "…"))
    record.keeps("the file; nothing written")


def test_a_batch_goes_on_past_bad_images_and_lists_them(tmp_path, fake_pack, cli, fault):
    record = fault("a batch with bad images among good ones (segment)", IMAGES)
    folder = tmp_path / "in"
    write_photo(folder / "a_good.jpg")
    for kind in BROKEN:
        bad_image(kind, folder)
    write_photo(folder / "z_good.jpg", seed=3)
    result = cli("segment", "--model-dir", fake_pack, "--no-disk-cache", "--image", folder,
                 "--point", "20,20", "--output", tmp_path / "masks")
    assert result.code == 2
    assert sorted(p.name for p in (tmp_path / "masks").iterdir()) == ["a_good.png",
                                                                       "z_good.png"]
    summary = result.err[result.err.index("failed:"):]
    assert summary.count("\n  ") == len(BROKEN)
    record.seen(result.err.splitlines()[-len(BROKEN) - 1])
    record.keeps("every good image segmented; the bad ones listed at the end")


@pytest.mark.parametrize("kind,size,note", [
    ("16-bit", (160, 120), ""),
    ("12-bit", (160, 120), "12-bit values in a 16-bit file"),
    ("cmyk", (160, 120), ""),
    ("palette", (160, 120), ""),
    ("exif-rotated", (120, 160), ""),
])
def test_odd_images_are_read_the_way_a_viewer_shows_them(kind, size, note, tmp_path, fake_pack,
                                                         cli, fault):
    record = fault(f"{kind} image", IMAGES)
    image = bad_image(kind, tmp_path / "in")
    loaded = load_image(image)
    assert (loaded.width, loaded.height) == size
    assert loaded.rgb.dtype == np.uint8 and loaded.rgb.shape[2] == 3
    if kind in ("16-bit", "12-bit"):
        # the full range reaches the model: not nearly black
        assert loaded.rgb.max() >= 250 and loaded.rgb.mean() > 60
    assert note in loaded.note
    result = cli("segment", "--model-dir", fake_pack, "--no-disk-cache", "--image", image,
                 "--point", "30,30", "--output", tmp_path / "mask.png")
    assert result.code == 0, result.err
    assert Image.open(tmp_path / "mask.png").size == size
    if note:
        assert note in result.err
        record.seen(result.err.strip().replace(str(tmp_path), "…"))
    else:
        record.seen("segmented like any photo")
    record.keeps("the file; the mask has the displayed size" +
                 (" (EXIF orientation applied)" if kind == "exif-rotated" else ""))


def test_the_pixel_limit_is_one_setting_for_every_command(tmp_path, fake_pack, cli):
    image = bad_image("huge", tmp_path / "in")
    dataset = tmp_path / "yolo"
    (dataset / "labels").mkdir(parents=True)
    (dataset / "labels" / "huge.txt").write_text("0 0.1 0.1 0.3 0.1 0.3 0.3\n")
    (dataset / "data.yaml").write_text("names:\n  0: thing\n")
    for args in (["segment", "--model-dir", fake_pack, "--no-disk-cache", "--image", image,
                  "--point", "1,1"],
                 ["import", "--format", "yolo", dataset, tmp_path / "in"]):
        result = cli(*args)
        assert "over the 200 MP limit" in result.err, (args, result.err)
        raised = cli(*args[:1], "--max-megapixels", "10", *args[1:])
        assert "over the 10 MP limit" in raised.err
    assert Image.MAX_IMAGE_PIXELS is None  # set once at import; never switched per call


@pytest.mark.parametrize("box", ["nan,1,50,50", "1,1,inf,50", "1,2,3"])
def test_a_box_that_is_not_four_finite_numbers_is_refused(box, tmp_path, fake_pack, cli, fault):
    record = fault(f"--box {box}", PROMPTS) if box.startswith("nan") else None
    image = write_photo(tmp_path / "a.jpg")
    result = cli("segment", "--model-dir", fake_pack, "--image", image, "--box", box,
                 "--json")
    assert result.code == 2 and "finite numbers" in result.last_error
    assert result.out == ""
    if record:
        record.seen(result.last_error)
        record.keeps("nothing written")


def test_json_output_is_always_valid_json(tmp_path, fake_pack, cli):
    image = write_photo(tmp_path / "a.jpg")
    result = cli("segment", "--model-dir", fake_pack, "--no-disk-cache", "--image", image,
                 "--point", "50,50", "--json", "--output", tmp_path / "m.png")
    data = json.loads(result.out, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert data["best_index"] == 1


# -- models ---------------------------------------------------------------------------------

def _pack(tmp_path, fake_pack, name="pack"):
    folder = tmp_path / name
    shutil.copytree(fake_pack, folder)
    return folder


def _truncate(folder):
    path = folder / "vision_encoder.onnx"
    path.write_bytes(path.read_bytes()[:2000])


def _swap(folder):
    enc, dec = folder / "vision_encoder.onnx", folder / "prompt_encoder_mask_decoder.onnx"
    tmp = folder / "x.onnx"
    enc.rename(tmp)
    dec.rename(enc)
    tmp.rename(dec)


def _missing(folder):
    (folder / "prompt_encoder_mask_decoder.onnx").unlink()


def _wrong_layout(folder):
    onnx.save(fake_models.build_wrong_layout_encoder(), str(folder / "vision_encoder.onnx"))


def _fails_when_run(folder):
    """An encoder with the right signature whose computation fails inside onnxruntime."""
    g = fake_models._Graph()
    top = g.op("ReduceMax", ["pixel_values"], keepdims=0)  # data-dependent: no load-time check
    index = g.op("Cast", [g.op("Add", [g.op("Mul", [top, g.const(1e6)]), g.const(1e6)])],
                 to=TensorProto.INT64)
    picked = g.op("Gather", [g.const([1.0, 2.0]), index])  # index far out of bounds at run time
    pooled = g.op("Reshape", [picked, g.const([1, 1, 1, 1], np.int64)])
    outputs = []
    for name, (channels, side) in fake_models.EMBEDDING_SHAPES.items():
        g.op_to("Expand", [pooled, g.const([1, channels, side, side], np.int64)], name)
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT,
                                                     [1, channels, side, side]))
    graph = helper.make_graph(
        g.nodes, "fails_at_run",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT,
                                       [1, 3, 1008, 1008])], outputs, g.inits)
    onnx.save(fake_models._model(graph), str(folder / "vision_encoder.onnx"))


MODEL_FAULTS = {
    "truncated encoder": (_truncate, "not a valid ONNX graph"),
    "encoder and decoder swapped": (_swap, "vision_encoder.onnx"),
    "decoder missing": (_missing, "prompt_encoder_mask_decoder"),
    "wrong-layout encoder": (_wrong_layout, "text"),
    "encoder that fails inside onnxruntime": (_fails_when_run, "the vision encoder"),
}


@pytest.mark.parametrize("case", list(MODEL_FAULTS))
def test_a_broken_model_is_one_line(case, tmp_path, fake_pack, cli, fault):
    record = fault(case, MODELS)
    damage, expected = MODEL_FAULTS[case]
    folder = _pack(tmp_path, fake_pack)
    damage(folder)
    image = write_photo(tmp_path / "a.jpg")
    result = cli("segment", "--model-dir", folder, "--no-disk-cache", "--image", image,
                 "--point", "10,10", "--output", tmp_path / "m.png")
    assert result.code == 2, result.err
    assert result.last_error.startswith("sam3-canvas: error:") and expected in result.last_error
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert not (tmp_path / "m.png").exists()
    record.seen(result.last_error.replace(str(tmp_path), "…"))
    record.keeps("the model files as they are; nothing written")


def test_a_provider_that_fails_at_session_creation_falls_back_to_cpu(tmp_path, fake_pack, cli,
                                                                     fault, monkeypatch):
    """CUDA offered, but its session cannot start (a broken driver): the CPU runs it, and the
    user is told. The failure is injected only into the CUDA session's creation; the CPU
    session and the run are real."""
    import onnxruntime as ort
    record = fault("a provider that fails when its session starts", MODELS)
    real_session = ort.InferenceSession
    offered = ort.get_available_providers()
    monkeypatch.setattr(ort, "get_available_providers",
                        lambda: ["CUDAExecutionProvider", *offered])

    def session(path, sess_options=None, providers=None, **kw):
        if providers and "CUDAExecutionProvider" in providers:
            raise RuntimeError("[ONNXRuntimeError] : 1 : FAIL : CUDA failure 100: no "
                               "CUDA-capable device is detected")
        return real_session(path, sess_options=sess_options, providers=providers, **kw)

    monkeypatch.setattr(ort, "InferenceSession", session)
    image = write_photo(tmp_path / "a.jpg")
    result = cli("segment", "--model-dir", fake_pack, "--provider", "cuda", "--no-disk-cache",
                 "--image", image, "--point", "40,40", "--output", tmp_path / "m.png")
    assert result.code == 0, result.err
    assert "cuda failed to start" in result.err and "running on CPU" in result.err
    assert "on cpu" in result.out
    record.seen(result.err.strip().splitlines()[0])
    record.keeps("the work runs on the CPU")


def test_a_provider_that_is_not_offered_is_named_with_the_fix(tmp_path, fake_pack, cli):
    image = write_photo(tmp_path / "a.jpg")
    result = cli("segment", "--model-dir", fake_pack, "--provider", "directml",
                 "--no-disk-cache", "--image", image, "--point", "40,40",
                 "--output", tmp_path / "m.png")
    assert result.code == 0
    assert "directml is not offered" in result.err and "running on CPU" in result.err


def test_tensorrt_not_offered_falls_back_and_says_where_it_runs(tmp_path, fake_pack, cli):
    image = write_photo(tmp_path / "a.jpg")
    result = cli("segment", "--model-dir", fake_pack, "--provider", "tensorrt",
                 "--no-disk-cache", "--image", image, "--point", "40,40",
                 "--output", tmp_path / "m.png")
    assert result.code == 0
    assert "tensorrt is not offered" in result.err and "running on CPU" in result.err


def test_the_text_path_reports_its_fallback_too(tmp_path, cli):
    from sam3_canvas.testing.fake_text_models import write_text_pack
    pack = write_text_pack(tmp_path / "pack", "A2")
    image = write_photo(tmp_path / "photos" / "a.jpg")
    result = cli("detect", image, "--classes", "thing", "--model-dir", pack, "--provider",
                 "directml", "--no-disk-cache")
    assert result.code == 0, result.err
    assert "directml is not offered" in result.err and "running on CPU" in result.err
