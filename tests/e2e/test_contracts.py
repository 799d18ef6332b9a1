"""Every published variant of every layout, as a contract fake, through `segment` / `detect`
and the app: feeds follow the graph (every declared input, in its declared dtype), the text
graphs are found where their repository keeps them, and graphs that do not fit together are
refused before any image is encoded."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from sam3_canvas.cli import main as cli_main  # noqa: E402
from sam3_canvas.engine import Prompt, Segmenter  # noqa: E402
from sam3_canvas.engine.errors import LayoutError  # noqa: E402
from sam3_canvas.engine.text import TextSegmenter  # noqa: E402
from sam3_canvas.testing import fake_models, fake_text_models  # noqa: E402
from tests.conftest import fixture_path  # noqa: E402
from tests.gui_helpers import click_image, open_and_wait, wait_prediction, window_factory  # noqa: E402

STREET = "coco/street.jpg"  # 640 x 427

TEXT_VARIANTS = {
    # name: (write_text_pack options, the folder to point the app at is the pack root)
    "A, bool language_mask": dict(layout="A"),
    "A, float32 language_mask (INT8 browser pack)": dict(layout="A", language_mask="float32"),
    "A2, 11 inputs, in sam3/ (nrl-ai)": dict(layout="A2", subfolder="sam3"),
    "A2, 14 inputs (dynamo export), in sam3/": dict(layout="A2", subfolder="sam3",
                                                     all_inputs=True),
    "A2, a 16-token context": dict(layout="A2", tokens=16),
}


def run(capsys, *args):
    capsys.readouterr()
    code = cli_main([str(a) for a in args])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.out, out.err


@pytest.mark.parametrize("variant", list(TEXT_VARIANTS))
def test_each_text_variant_runs_through_detect(variant, tmp_path, capsys):
    pack = fake_text_models.write_text_pack(tmp_path / "pack", **TEXT_VARIANTS[variant])
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "street.jpg").write_bytes(fixture_path(STREET).read_bytes())
    code, out, err = run(capsys, "detect", photos, "--classes", "person", "car",
                         "--model-dir", pack, "--no-disk-cache")
    assert code == 0, err
    saved = json.loads((photos / ".sam3-canvas" / "street.jpg.json").read_text())
    assert sorted({i["label"] for i in saved["instances"]}) == ["car", "person"]
    assert all(i["area"] > 0 for i in saved["instances"])


def test_the_context_length_is_read_from_the_graph(tmp_path):
    seg = TextSegmenter(fake_text_models.write_text_pack(tmp_path / "p", "A2", tokens=16))
    assert seg.layout.context_length == 16
    tokens = seg.tokens("a rather long class name " * 3)
    assert tokens.ids.shape == (1, 16) and tokens.truncated


def test_unused_declared_inputs_are_fed(tmp_path):
    """A dynamo export declares vision_pos_enc_0/1 and language_embeds although it never
    reads them; onnxruntime requires them all. The encoders' own outputs feed them."""
    seg = TextSegmenter(fake_text_models.write_text_pack(tmp_path / "p", "A2", subfolder="sam3",
                                                         all_inputs=True))
    declared = {i.name for i in seg.decoder.get_inputs()}
    assert {"vision_pos_enc_0", "vision_pos_enc_1", "language_embeds"} <= declared
    assert "text_embeds" in seg.layout.language_outputs
    assert seg.detect(fixture_path(STREET), "person").detections()


def test_the_litetext_hf_contract_is_refused_with_what_to_do(tmp_path, capsys):
    pack = fake_text_models.write_text_pack(tmp_path / "pack", "A2",
                                            language_contract="hf", tokens=16)
    with pytest.raises(LayoutError, match="input_ids and attention_mask"):
        TextSegmenter(pack)
    code, _, err = run(capsys, "detect", fixture_path(STREET), "--classes", "person",
                       "--model-dir", pack, "--no-disk-cache")
    assert code == 2 and "sam3_canvas.twins.text_twin --from-pretrained" in err
    assert len(err.strip().splitlines()) == 1


def test_text_graphs_from_different_packs_are_refused_before_encoding(tmp_path):
    a = fake_text_models.write_text_pack(tmp_path / "a", "A2")
    b = fake_text_models.write_text_pack(tmp_path / "b", "A2", tokens=16)
    (a / "sam3_language_encoder.onnx").write_bytes((b / "sam3_language_encoder.onnx")
                                                   .read_bytes())
    with pytest.raises(LayoutError, match="do not fit together.*16"):
        TextSegmenter(a)


def test_a_folder_without_a_text_pack_names_what_it_holds(tmp_path):
    fake_models.write_tracker_pack(tmp_path / "onnx")
    with pytest.raises(Exception, match="no text pack here or in a sub-folder.*vision_encoder"):
        TextSegmenter(tmp_path)


# -- the tracker --------------------------------------------------------------------------------

def _mask_iou(a, b):
    return (a & b).sum() / (a | b).sum()


@pytest.mark.parametrize("io", ["float32", "float16"])
def test_fp16_with_either_io_runs_through_segment(io, tmp_path, fake_pack, photo, capsys):
    pack = fake_models.write_tracker_pack(tmp_path / "onnx", variant="fp16", io=io,
                                          external_data=True)
    seg = Segmenter.from_dir(tmp_path, variant="fp16")
    expected = np.float16 if io == "float16" else np.float32
    assert seg.model.layout.pixel_values.dtype == expected
    reference = Segmenter.from_dir(fake_pack).segment(photo, Prompt.click(150, 120)).mask(1)
    assert _mask_iou(seg.segment(photo, Prompt.click(150, 120)).mask(1), reference) > 0.99
    code, out, err = run(capsys, "segment", "--model-dir", pack.parent, "--variant", "fp16",
                         "--no-disk-cache", "--image", photo, "--point", "150,120",
                         "--output", tmp_path / "m.png")
    assert code == 0, err


def test_a_float16_encoder_beside_the_fp32_decoder_is_cast_at_the_boundary(tmp_path, photo,
                                                                           fake_pack):
    """The catalogue pairs a variant's encoder with the fp32 decoder when the variant has none;
    a float16-I/O encoder then feeds a float32 decoder."""
    folder = tmp_path / "mixed"
    fake_models.write_tracker_pack(folder, variant="fp16", io="float16", decoder=False)
    fake_models.write_tracker_pack(folder)
    seg = Segmenter.from_dir(folder, variant="fp16")
    assert seg.model.decoder_path.name == "prompt_encoder_mask_decoder.onnx"
    reference = Segmenter.from_dir(fake_pack).segment(photo, Prompt.click(150, 120)).mask(1)
    assert _mask_iou(seg.segment(photo, Prompt.click(150, 120)).mask(1), reference) > 0.99


def test_graphs_that_disagree_are_refused_at_load(tmp_path, photo, capsys):
    pack = fake_models.write_mismatched_pack(tmp_path / "bad")
    code, _, err = run(capsys, "segment", "--model-dir", pack, "--no-disk-cache",
                       "--image", photo, "--point", "10,10", "--output", tmp_path / "m.png")
    assert code == 2
    assert "do not fit together" in err and "image_embeddings.1" in err and "[" in err
    assert not (tmp_path / "m.png").exists()


# -- in the app ---------------------------------------------------------------------------------

@pytest.fixture()
def make(qtbot, tmp_path, monkeypatch):
    factory, stop = window_factory(qtbot, tmp_path, monkeypatch)
    yield factory
    stop()


@pytest.mark.parametrize("variant", ["A, float32 language_mask (INT8 browser pack)",
                                     "A2, 14 inputs (dynamo export), in sam3/"])
def test_text_variants_in_the_app(variant, qtbot, make, tmp_path):
    pack = fake_text_models.write_text_pack(tmp_path / "pack", **TEXT_VARIANTS[variant])
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "street.jpg").write_bytes(fixture_path(STREET).read_bytes())
    window = make(None, text_model_dir=str(pack))
    open_and_wait(qtbot, window, photos / "street.jpg", model=False)
    window.text.entry.setText("person, car")
    QTest.keyClick(window.text.entry, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.text_controller.result is not None, timeout=30000)
    assert window.text.results.count() >= 2
    window.text.accept_all.click()  # the accept runs on a task: wait for it
    qtbot.waitUntil(lambda: {i.label for i in window.editor.doc.instances} == {"person", "car"},
                    timeout=10000)


def test_the_fp16_variant_in_the_app(qtbot, make, tmp_path, photo):
    fake_models.write_tracker_pack(tmp_path / "pack" / "onnx", variant="fp16",
                                   external_data=True)
    window = make(tmp_path / "pack")
    open_and_wait(qtbot, window, photo)
    click_image(window, 150, 120)
    prediction = wait_prediction(qtbot, window)
    assert prediction.mask(1)[120, 150]


def test_a_pack_whose_graphs_disagree_in_the_app(qtbot, make, tmp_path):
    window = make(fake_models.write_mismatched_pack(tmp_path / "bad"))
    qtbot.waitUntil(lambda: "failed" in window.status_model.text(), timeout=20000)
    assert "do not fit together" in window.messages[-1][1]


def test_a_declared_input_nobody_computes_is_fed_zeros_or_named():
    from sam3_canvas.engine.feeds import build_feed
    from sam3_canvas.engine.layouts import TensorSpec
    inputs = {"language_mask": TensorSpec("language_mask", np.float32, (1, 32)),
              "language_embeds": TensorSpec("language_embeds", np.float32, (32, 1, 1024)),
              "vision_pos_enc_0": TensorSpec("vision_pos_enc_0", np.float16,
                                             ("batch", 256, 288, 288))}
    feed = build_feed(inputs, {"language_mask": np.array([[True] * 3 + [False] * 29])}, "g")
    assert feed["language_mask"].dtype == np.float32 and feed["language_mask"].sum() == 3
    assert feed["language_embeds"].shape == (32, 1, 1024) and not feed["language_embeds"].any()
    assert feed["vision_pos_enc_0"].shape == (1, 256, 288, 288)
    assert feed["vision_pos_enc_0"].dtype == np.float16
    inputs["mystery"] = TensorSpec("mystery", np.float32, (1,))
    with pytest.raises(LayoutError, match="declares input 'mystery'"):
        build_feed(inputs, {"language_mask": np.zeros((1, 32), bool)}, "the text decoder")
    with pytest.raises(LayoutError, match="rank 2"):
        build_feed({"language_mask": inputs["language_mask"]},
                   {"language_mask": np.zeros(32, bool)}, "g")
