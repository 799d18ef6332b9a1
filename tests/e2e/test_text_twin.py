"""Architecture twin of the text path: the app's whole pipeline against transformers' own
(``Sam3ImageProcessor`` + ``Sam3Model`` + ``post_process_instance_segmentation``) on the same
tiny random weights and a photo-like image (tests/fixtures/coco/street.jpg, 640 x 427)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="the export extra (torch) is not installed")
pytest.importorskip("torchvision", reason="the export extra (torchvision) is not installed")
pytest.importorskip("transformers", reason="the export extra is not installed")

from PIL import Image  # noqa: E402

from sam3_canvas.engine.errors import PromptError  # noqa: E402
from sam3_canvas.engine.text import Exemplar, TextSegmenter  # noqa: E402
from sam3_canvas.engine.tokenizer import default_tokenizer  # noqa: E402
from tests.conftest import fixture_path  # noqa: E402

pytestmark = pytest.mark.twin


@pytest.fixture(scope="module", params=["sam3", "litetext"])
def twin(request, tmp_path_factory):
    from sam3_canvas.twins.text_twin import build_tiny_litetext, build_tiny_sam3, export_text_pack
    model = (build_tiny_sam3 if request.param == "sam3" else build_tiny_litetext)(seed=0)
    return model, export_text_pack(model, tmp_path_factory.mktemp(f"twin_{request.param}"))


def test_litetext_language_encoder_is_a_drop_in(tmp_path):
    """LiteText's small text encoder in place of SAM3's, in a layout-A pack: same contract."""
    from sam3_canvas.testing.fake_text_models import write_text_pack
    from sam3_canvas.twins.text_twin import build_tiny_litetext, export_text_pack
    lite = export_text_pack(build_tiny_litetext(seed=1), tmp_path / "lite")
    pack = write_text_pack(tmp_path / "pack", "A")
    import onnxruntime as ort
    fake = ort.InferenceSession(str(pack / "sam3_language_encoder.onnx"))
    real = ort.InferenceSession(str(lite / "sam3_language_encoder.onnx"))
    assert [(i.name, i.type, i.shape) for i in real.get_inputs()] == \
        [(i.name, i.type, i.shape) for i in fake.get_inputs()]
    assert [o.name for o in real.get_outputs()] == [o.name for o in fake.get_outputs()]
    tokens = default_tokenizer()("person").ids
    mask, memory, _ = real.run(None, {"tokens": tokens})
    assert mask.dtype == bool and mask[0, 3:].all() and not mask[0, :3].any()
    assert memory.shape[:2] == (32, 1)


@pytest.mark.parametrize("name", ["person", "a red car"])
def test_detections_match_transformers_on_a_real_photo(twin, name):
    from transformers.models.sam3.image_processing_sam3 import Sam3ImageProcessor
    model, folder = twin
    path = fixture_path("coco/street.jpg")
    image = Image.open(path).convert("RGB")
    tokens = default_tokenizer()(name).ids
    valid = tokens != 0
    hf_ids = np.where(valid, tokens, 49407)  # transformers pads with end-of-text
    processor = Sam3ImageProcessor()
    inputs = processor(images=image, return_tensors="pt")
    with torch.no_grad():
        out = model(pixel_values=inputs["pixel_values"], input_ids=torch.from_numpy(hf_ids),
                    attention_mask=torch.from_numpy(valid.astype(np.int64)))
    scores = (out.pred_logits.sigmoid() * out.presence_logits.sigmoid())[0].numpy()
    threshold = float(np.quantile(scores, 0.9))  # random weights: keep the top 10 %
    reference = processor.post_process_instance_segmentation(
        out, threshold=threshold, mask_threshold=0.5, target_sizes=[image.size[::-1]])[0]

    result = TextSegmenter(folder).detect(path, name)
    np.testing.assert_allclose(result.classes[0].scores, scores, atol=1e-4)
    detections = result.detections(threshold, nms_iou=1.01)  # transformers applies no NMS
    order = np.argsort(-reference["scores"].numpy(), kind="stable")
    assert len(detections) == len(order) > 0
    for det, j in zip(detections, order):
        assert det.score == pytest.approx(float(reference["scores"][j]), abs=1e-4)
        np.testing.assert_allclose(det.box, reference["boxes"][j].numpy(), atol=1e-2)
        mask, ref = det.mask(), reference["masks"][j].numpy().astype(bool)
        assert (mask & ref).sum() / max((mask | ref).sum(), 1) >= 0.99


def test_features_bound_on_the_device_give_the_same_scores(twin):
    """IO binding (CPU provider) on a decoder that reads the features: the same scores and
    masks as the host path."""
    _, folder = twin
    path = fixture_path("coco/street.jpg")
    plain = TextSegmenter(folder).detect(path, "person").classes[0]
    bound = TextSegmenter(folder, device_binding=True).detect(path, "person").classes[0]
    np.testing.assert_array_equal(bound.scores, plain.scores)
    np.testing.assert_array_equal(bound.logits, plain.logits)


def test_a_text_only_decoder_takes_no_exemplars(twin):
    _, folder = twin
    seg = TextSegmenter(folder)
    assert seg.layout.name == "A2" and seg.layout.box_capacity == 0
    with pytest.raises(PromptError, match="takes no exemplar boxes"):
        seg.detect(fixture_path("coco/street.jpg"), "person",
                   [Exemplar((10, 10, 50, 50))])


def test_exporting_leaves_the_model_in_eval_mode(twin):
    model, _ = twin
    assert not model.training and not any(m.training for m in model.modules())
