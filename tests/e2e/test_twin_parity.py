"""Architecture twin: the app's whole pipeline against transformers' own, on the same weights.

A tiny random-weight ``Sam3TrackerModel`` is exported by the project's export code; the app runs
the ONNX graphs from an image file and clicks in original pixels to full-size masks, and
transformers runs ``Sam3TrackerProcessor`` + the PyTorch model + ``post_process_masks``.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the export extra (torch) is not installed")
pytest.importorskip("torchvision", reason="the export extra (torchvision) is not installed")
transformers = pytest.importorskip("transformers", reason="the export extra is not installed")

from PIL import Image  # noqa: E402

from sam3_canvas.engine import Prompt, Segmenter  # noqa: E402
from tests.conftest import fixture_path  # noqa: E402

pytestmark = pytest.mark.twin


@pytest.fixture(scope="module")
def twin(tmp_path_factory):
    from sam3_canvas.twins.tracker_twin import build_tiny_tracker, export_tracker
    model = build_tiny_tracker(seed=0)
    folder = tmp_path_factory.mktemp("tracker_twin")
    export_tracker(model, folder)
    return model, folder


@pytest.fixture(scope="module")
def processor():
    from transformers import Sam3TrackerProcessor
    from transformers.models.sam3.image_processing_sam3 import Sam3ImageProcessor
    return Sam3TrackerProcessor(image_processor=Sam3ImageProcessor())


def _reference(model, processor, image: Image.Image, prompt: Prompt):
    kwargs = {}
    if prompt.points:
        kwargs["input_points"] = [[[list(p) for p in prompt.points]]]
        kwargs["input_labels"] = [[list(prompt.labels)]]
    if prompt.box is not None:
        kwargs["input_boxes"] = [[list(prompt.box)]]
    inputs = processor(images=image, return_tensors="pt", **kwargs)
    with torch.no_grad():
        out = model(**{k: v for k, v in inputs.items() if k != "original_sizes"},
                    multimask_output=True)
    masks = processor.post_process_masks(out.pred_masks, inputs["original_sizes"])[0][0]
    return (out.iou_scores[0, 0].numpy(), float(out.object_score_logits[0, 0, 0]),
            masks.numpy().astype(bool))


def _iou(a, b):
    union = (a | b).sum()
    return 1.0 if union == 0 else (a & b).sum() / union


PROMPTS = {
    "click": Prompt.click(240, 160),
    "click+background": Prompt.click(240, 160).add_point(100, 90, 0),
    "two clicks": Prompt.click(240, 160).add_point(300, 200),
    "box": Prompt.from_box(120, 60, 400, 300),
    "click+box": Prompt.click(240, 160).with_box((120, 60, 400, 300)),
}


@pytest.mark.parametrize("name", list(PROMPTS))
def test_pipeline_matches_transformers_on_a_real_photo(twin, processor, name, tmp_path):
    model, folder = twin
    path = fixture_path("objects/images/ring.jpg")  # 481 x 321, the model enlarges it
    seg = Segmenter.from_dir(folder, cache_dir=tmp_path / "cache")
    prompt = PROMPTS[name]
    prediction = seg.segment(path, prompt)
    ref_ious, ref_object, ref_masks = _reference(model, processor,
                                                 Image.open(path).convert("RGB"), prompt)
    np.testing.assert_allclose(prediction.ious, ref_ious, atol=1e-4)
    assert prediction.object_logit == pytest.approx(ref_object, abs=1e-4)
    assert prediction.ranking == list(np.argsort(-ref_ious, kind="stable"))
    for index in range(3):
        assert _iou(prediction.mask(index, exact=True), ref_masks[index]) >= 0.99
        assert _iou(prediction.mask(index), ref_masks[index]) >= 0.99  # region path too


def test_pipeline_matches_transformers_when_shrinking_a_big_photo(twin, processor, tmp_path):
    """A 12 MP photo: the resize now shrinks, where filters differ most (antialiasing)."""
    model, folder = twin
    small = Image.open(fixture_path("objects/images/holes.jpg")).convert("RGB")
    big = small.resize((4000, 3000), Image.BICUBIC)
    path = tmp_path / "big.png"
    big.save(path)
    prompt = Prompt.click(2100, 1400).add_point(600, 500, 0)
    prediction = Segmenter.from_dir(folder).segment(path, prompt)
    ref_ious, ref_object, ref_masks = _reference(model, processor, big, prompt)
    np.testing.assert_allclose(prediction.ious, ref_ious, atol=1e-4)
    assert prediction.object_logit == pytest.approx(ref_object, abs=1e-4)
    for index in range(3):
        assert _iou(prediction.mask(index, exact=True), ref_masks[index]) >= 0.99


def test_twin_graphs_have_the_published_contract(twin):
    import onnxruntime as ort
    _, folder = twin
    enc = ort.InferenceSession(str(folder / "vision_encoder.onnx"))
    dec = ort.InferenceSession(str(folder / "prompt_encoder_mask_decoder.onnx"))
    assert [i.name for i in enc.get_inputs()] == ["pixel_values"]
    assert [o.name for o in enc.get_outputs()] == [f"image_embeddings.{i}" for i in range(3)]
    outs = {o.name: o.shape for o in enc.get_outputs()}
    assert outs["image_embeddings.0"][1:] == [32, 288, 288]
    assert outs["image_embeddings.1"][1:] == [64, 144, 144]
    assert outs["image_embeddings.2"][1:] == [256, 72, 72]
    assert {i.name: i.type for i in dec.get_inputs()} == {
        "image_embeddings.0": "tensor(float)", "image_embeddings.1": "tensor(float)",
        "image_embeddings.2": "tensor(float)", "input_points": "tensor(float)",
        "input_labels": "tensor(int64)", "input_boxes": "tensor(float)"}
    assert [o.name for o in dec.get_outputs()] == ["iou_scores", "pred_masks",
                                                   "object_score_logits"]


def test_exporting_leaves_the_model_in_eval_mode(twin):
    model, _ = twin
    assert not any(m.training for m in model.modules())


@pytest.mark.parametrize("binding", [False, True], ids=["host", "device"])
def test_a_batch_of_photos_gives_each_the_masks_it_gets_alone(twin, binding):
    """One encoder run over three photos: each photo's masks are those of a run on it alone,
    also when the decoder binds the photo's slice of the batch tensor where it lies (the
    twin's decoder reads the embeddings, unlike the geometric fake's)."""
    _, folder = twin
    paths = [fixture_path(f"objects/images/{n}.jpg") for n in ("ring", "llama", "sheep")]
    alone = Segmenter.from_dir(folder)
    batched = Segmenter.from_dir(folder, device_binding=binding)
    assert batched.model.batch_limit is None  # the published graphs' batch is dynamic
    prompt = Prompt.click(200, 150).add_point(60, 60, 0)
    encoded = batched.encode_many(paths, batch=3)
    assert [e.timings.get("batch") for e in encoded] == [3, 3, 3]
    predictions = [batched.predict(e, prompt) for e in encoded]
    references = [alone.segment(path, prompt) for path in paths]
    assert not np.allclose(references[0].logits, references[2].logits, atol=1e-3)
    for mine, reference in zip(predictions, references):
        np.testing.assert_allclose(mine.ious, reference.ious, atol=1e-5)
        np.testing.assert_allclose(mine.logits, reference.logits, atol=1e-4)
