"""Text prompts: the CLIP tokenizer, layouts A and A2 over real sessions, and `detect`."""

from __future__ import annotations

import gzip
import json
import shutil

import numpy as np
import pytest

from sam3_canvas.engine.errors import LayoutError, PromptError
from sam3_canvas.engine.text import ClassResult, Exemplar, TextSegmenter, parse_classes
from sam3_canvas.engine.tokenizer import (
    ClipTokenizer,
    TokenizerError,
    _bytes_to_unicode,
    default_tokenizer,
)
from sam3_canvas.testing import fake_text_models as fake
from tests.conftest import ROOT, fixture_path


@pytest.fixture(scope="module", params=["A", "A2"])
def pack(request, tmp_path_factory):
    return request.param, fake.write_text_pack(tmp_path_factory.mktemp(f"text{request.param}"),
                                               request.param)


@pytest.fixture()
def photo():
    return fixture_path("coco/street.jpg")  # 640 x 427, not square


# -- tokenizer ---------------------------------------------------------------------------

def test_tokenizer_reproduces_the_reference_vectors():
    tok = default_tokenizer()
    assert tok("plant").ids[0].tolist() == [49406, 3912, 49407] + [0] * 29
    assert tok("a person wearing a red hat").ids[0, :9].tolist() == [
        49406, 320, 2533, 3309, 320, 736, 3801, 49407, 0]
    assert tok("  A   Person ").ids.tolist() == tok("a person").ids.tolist()
    assert tok("tom &amp; jerry").ids.tolist() == tok("tom & jerry").ids.tolist()
    assert tok("plant").ids.dtype == np.int64 and tok("plant").ids.shape == (1, 32)


def test_long_and_non_ascii_prompts():
    tok = default_tokenizer()
    long = tok(" ".join(["very"] * 40) + " long")
    assert long.truncated and long.count == 41
    assert long.ids[0, 0] == 49406 and long.ids[0, -1] == 49407 and (long.ids != 0).all()
    for text in ("café", "日本の猫", "straße"):
        result = tok(text)
        assert not result.truncated and result.count >= 1 and result.ids[0, 0] == 49406


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_prompts_are_refused(text):
    with pytest.raises(TokenizerError, match="empty"):
        default_tokenizer()(text)


def _pack_json(path):
    """A clip_tokenizer.json in the browser pack's layout, made from the shipped vocabulary."""
    lines = gzip.open(ROOT / "resources/tokenizer/bpe_simple_vocab_16e6.txt.gz", "rt").read()
    pairs = [line.split() for line in lines.split("\n")[1:49152 - 256 - 2 + 1]]
    chars = list(_bytes_to_unicode().values())
    words = chars + [c + "</w>" for c in chars] + ["".join(p) for p in pairs] + \
        ["<|startoftext|>", "<|endoftext|>"]
    path.write_text(json.dumps({"encoder": {w: i for i, w in enumerate(words)},
                                "merges": [" ".join(p) for p in pairs],
                                "byte_encoder": {str(k): v for k, v in
                                                 _bytes_to_unicode().items()}}))
    return path


def test_a_packs_own_tokenizer_file(tmp_path):
    tok = ClipTokenizer.from_pack_json(_pack_json(tmp_path / "clip_tokenizer.json"))
    for text in ("person", "traffic light", "a person wearing a red hat", "über-café"):
        assert tok(text).ids.tolist() == default_tokenizer()(text).ids.tolist()
    with pytest.raises(TokenizerError, match="missing"):
        ClipTokenizer.from_pack_json(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text('{"encoder": {"a": 1}, "merges": [')
    with pytest.raises(TokenizerError, match="malformed"):
        ClipTokenizer.from_pack_json(tmp_path / "bad.json")


def test_a_pack_with_a_malformed_tokenizer_is_refused(tmp_path):
    folder = fake.write_text_pack(tmp_path / "pack", "A2")
    (folder / "clip_tokenizer.json").write_text("{not json")
    with pytest.raises(TokenizerError, match="clip_tokenizer.json: malformed"):
        TextSegmenter(folder)


def test_class_lists():
    assert parse_classes("person, car,  red   car ,person") == ["person", "car", "red car"]
    assert parse_classes("person. car") == ["person", "car"]
    assert parse_classes(["dog", " dog "]) == ["dog"]


# -- layouts and detection ------------------------------------------------------------------

def _expected(name, width, height):
    tid = int(default_tokenizer()(name).ids[0, 1])
    boxes = fake.slot_boxes()
    out = []
    for slot, logit in fake.expected_slots(tid):
        cx, cy, w, h = boxes[slot]
        score = 1 / (1 + np.exp(-logit)) / (1 + np.exp(-3.0))
        out.append((slot, score, ((cx - w / 2) * width, (cy - h / 2) * height,
                                  (cx + w / 2) * width, (cy + h / 2) * height)))
    return sorted(out, key=lambda t: -t[1])


def test_layout_is_recognised(pack):
    layout, folder = pack
    seg = TextSegmenter(folder)
    assert seg.layout.name == layout
    assert seg.layout.box_capacity == (1 if layout == "A" else 8)
    assert set(seg.layout.feature_names) == {"vision_pos_enc_2", "backbone_fpn_0",
                                             "backbone_fpn_1", "backbone_fpn_2"}


def test_every_instance_of_each_class_is_found(pack, photo):
    layout, folder = pack
    seg = TextSegmenter(folder)
    result = seg.detect(photo, "person, car")
    width, height = result.image.width, result.image.height
    for name in ("person", "car"):
        found = [d for d in result.detections() if d.label == name]
        expected = [e for e in _expected(name, width, height) if e[1] > 0.5]
        assert len(found) == len(expected)
        if layout == "A2":  # raw heads keep the query numbers; layout A returns kept ones only
            assert [d.query for d in found] == [e[0] for e in expected]
        for det, (_, score, box) in zip(found, expected):
            assert det.score == pytest.approx(score, abs=1e-5)
            mask = det.mask()
            assert mask.shape == (height, width)
            ys, xs = np.nonzero(mask)
            # the mask is the ellipse in the slot's box, in image pixels (not 1008 space)
            assert abs(xs.mean() - (box[0] + box[2]) / 2) < 2
            assert abs(ys.mean() - (box[1] + box[3]) / 2) < 2
            assert det.box[2] <= width + 1 and det.box[3] <= height + 1
            if layout == "A":  # boxes come from the masks, not the graph's 1008-scaled ones
                assert det.box == (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)


def test_threshold_refilters_without_a_model(pack, photo):
    _, folder = pack
    result = TextSegmenter(folder).detect(photo, "person")
    sessions_before = result.classes[0].timings.copy()
    scores = sorted(d.score for d in result.detections(0.5))
    if len(scores) >= 2:
        between = (scores[0] + scores[1]) / 2
        assert len(result.detections(between)) == len(scores) - 1
    assert result.detections(0.999) == []
    assert result.classes[0].timings == sessions_before  # nothing ran again


def test_exemplar_boxes(pack, photo):
    layout, folder = pack
    seg = TextSegmenter(folder)
    box = (100.0, 100.0, 220.0, 200.0)
    result = seg.detect(photo, "zebra", [Exemplar(box, positive=True)])
    hits = [d for d in result.detections() if np.allclose(d.box, box, atol=2)]
    assert len(hits) == 1 and hits[0].score > 0.9
    plain = seg.detect(photo, "person")
    target = plain.detections()[0]
    suppressed = seg.detect(photo, "person", [Exemplar(target.box, positive=False)])
    assert not any(np.allclose(d.box, target.box, atol=2) for d in suppressed.detections())
    assert len(suppressed.detections()) == len(plain.detections()) - 1
    if layout == "A":
        with pytest.raises(PromptError, match="at most 1 exemplar"):
            seg.detect(photo, "person", [Exemplar(box), Exemplar(box)])


def test_features_and_text_are_computed_once(pack, photo, tmp_path):
    from sam3_canvas.engine.cache import EmbeddingCache
    _, folder = pack
    seg = TextSegmenter(folder, cache=EmbeddingCache(1 << 30, tmp_path / "cache"))
    first = seg.detect(photo, "person, car")
    assert first.timings["encode"] > 0
    again = seg.detect(photo, "car, bus")
    assert again.timings["encode"] == 0.0  # the image's features came from the cache
    assert set(seg._text_cache) == {"person", "car", "bus"}
    fresh = TextSegmenter(folder, cache=EmbeddingCache(1 << 30, tmp_path / "cache"))
    assert fresh.detect(photo, "person").timings["encode"] == 0.0  # from disk


def test_no_class_no_exemplar_is_refused(pack, photo):
    _, folder = pack
    with pytest.raises(PromptError, match="no class name"):
        TextSegmenter(folder).detect(photo, " , ,")


def test_wrong_graphs_are_refused_with_the_tensor_named(tmp_path):
    folder = fake.write_text_pack(tmp_path / "p", "A2")
    import onnx

    from sam3_canvas.testing.fake_models import build_decoder
    onnx.save(build_decoder(), str(folder / "sam3_decoder.onnx"))  # a tracker decoder
    with pytest.raises(LayoutError, match="sam3_decoder.onnx .*neither boxes/scores/masks"):
        TextSegmenter(folder)


def test_nms_drops_the_weaker_duplicate():
    yy, xx = np.mgrid[0:288, 0:288]
    disc = lambda cx, r: (r - np.hypot(xx - cx, yy - 140)).astype(np.float32)  # noqa: E731
    logits = np.stack([disc(100, 30), disc(102, 30), disc(200, 30)])
    result = ClassResult("thing", "A2", (576, 576), np.array([0.9, 0.8, 0.7]),
                         np.zeros((3, 4)), logits=logits)
    assert [d.query for d in result.detections(0.5, nms_iou=0.7)] == [0, 2]
    assert [d.query for d in result.detections(0.5, nms_iou=0.99)] == [0, 1, 2]


# -- the CLI ----------------------------------------------------------------------------------

def test_detect_command_writes_resumes_and_exports(tmp_path):
    from sam3_canvas.document.annotation import Document
    from tests.e2e.test_cli import cli
    folder = tmp_path / "photos"
    folder.mkdir()
    for image in fixture_path("coco").glob("*.jpg"):
        shutil.copy(image, folder / image.name)
    pack = fake.write_text_pack(tmp_path / "pack", "A2")
    result = cli("detect", folder, "--classes", "person", "car", "--model-dir", pack)
    assert result.returncode == 0, result.stderr
    assert "in 2 images (0 already done" in result.stdout
    doc = Document.load(folder / ".sam3-canvas" / "street.jpg.json")
    assert {i.label for i in doc.instances} == {"person", "car"}
    assert all(i.source["kind"] == "detect" and i.score > 0.5 for i in doc.instances)
    again = cli("detect", folder, "--classes", "person", "car", "--model-dir", pack)
    assert "0 instances in 0 images (2 already done" in again.stdout
    export = cli("export", "--format", "yolo", "--out", tmp_path / "yolo", folder)
    assert export.returncode == 0 and "exported" in export.stdout
    long = cli("detect", folder, "--classes", " ".join(["very"] * 40), "--model-dir", pack,
               "--overwrite")
    assert long.returncode == 0 and "longer than 32 tokens" in long.stderr
    empty = cli("detect", folder, "--classes", " ", "--model-dir", pack)
    assert empty.returncode == 2 and "no class name" in empty.stderr


def test_features_left_on_the_device_give_the_same_detections(pack, photo, tmp_path):
    """IO binding on the text path, run with the CPU provider: the image features stay where
    the encoder wrote them, every class's decoder run binds them, and the cache gets the
    host copy in the background."""
    from sam3_canvas.engine.cache import EmbeddingCache
    from sam3_canvas.engine.device import DeviceEmbeddings, bindable
    _, folder = pack
    plain = TextSegmenter(folder)
    bound = TextSegmenter(folder, device_binding=True,
                          cache=EmbeddingCache(1 << 30, tmp_path / "cache"))
    assert bound.device_binding and not plain.device_binding
    _, features, _ = TextSegmenter(folder, device_binding=True).encode_image(photo)
    assert isinstance(features, DeviceEmbeddings)
    assert bindable(features, bound._inputs["decoder"])  # bound as they are, not copied
    reference = plain.detect(photo, "person, car").detections()
    found = bound.detect(photo, "person, car").detections()  # encodes: not in its cache
    assert [(d.label, d.query) for d in found] == [(d.label, d.query) for d in reference]
    for mine, theirs in zip(found, reference):
        assert mine.score == theirs.score and mine.box == theirs.box
        np.testing.assert_array_equal(mine.mask(), theirs.mask())
    bound.flush()
    fresh = TextSegmenter(folder, cache=EmbeddingCache(1 << 30, tmp_path / "cache"))
    again = fresh.detect(photo, "person, car")
    assert again.timings["encode"] == 0.0  # the host copy reached the disk cache
    assert [d.score for d in again.detections()] == [d.score for d in reference]
