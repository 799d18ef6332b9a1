"""The click/box path end to end over real onnxruntime sessions on the contract fakes."""

from __future__ import annotations

import numpy as np
import pytest

from sam3_canvas.engine import Prompt, Segmenter
from sam3_canvas.engine.errors import LayoutError, ModelLoadError, ModelNotFoundError, PromptError
from sam3_canvas.testing import fake_models


def _centre_and_radii(mask):
    ys, xs = np.nonzero(mask)
    return xs.mean(), ys.mean(), (xs.max() - xs.min() + 1) / 2, (ys.max() - ys.min() + 1) / 2


def test_click_gives_three_discs_on_the_click_ranked_by_iou(segmenter, photo):
    encoded = segmenter.encode(photo)
    width, height = encoded.size
    prediction = segmenter.predict(encoded, Prompt.click(300, 90))
    assert prediction.ious == pytest.approx(fake_models.IOUS)
    assert prediction.ranking == [1, 2, 0] and prediction.best_index == 1
    assert [c.rank for c in prediction.candidates] == [2, 0, 1]
    assert prediction.object_score > 0.99
    areas = []
    for index, radius in enumerate(fake_models.RADII):
        mask = prediction.mask(index)
        assert mask.shape == (height, width) and mask[90, 300]
        cx, cy, rx, ry = _centre_and_radii(mask)
        # centred on the click, stretched per axis like the model's square resize
        assert abs(cx - 300) <= 1.5 and abs(cy - 90) <= 1.5
        if index == 0:
            assert rx == pytest.approx(radius * width / 1008, abs=1.5)
            assert ry == pytest.approx(radius * height / 1008, abs=1.5)
        areas.append(mask.sum())
    assert areas[0] < areas[1] < areas[2]


def test_best_mask_is_the_default(segmenter, photo):
    prediction = segmenter.segment(photo, Prompt.click(240, 160))
    assert np.array_equal(prediction.mask(), prediction.mask(prediction.best_index))
    for stage in ("read", "preprocess", "encode", "decode"):
        assert stage in prediction.timings


def test_background_click_carves_a_hole(segmenter, photo):
    encoded = segmenter.encode(photo)
    plain = segmenter.predict(encoded, Prompt.click(240, 160)).mask(2)
    carved = segmenter.predict(encoded, Prompt.click(240, 160).add_point(260, 170, 0)).mask(2)
    assert plain[170, 260] and not carved[170, 260]
    assert carved.sum() < plain.sum()
    assert not (carved & ~plain).any()  # carving only removes


def test_box_gives_that_box(segmenter, photo):
    prediction = segmenter.segment(photo, Prompt.from_box(40, 30, 300, 250))
    mask = prediction.mask(1, exact=True)
    ys, xs = np.nonzero(mask)
    assert (xs.min(), xs.max() + 1, ys.min(), ys.max() + 1) == (40, 300, 30, 250)
    assert prediction.mask(0).sum() < mask.sum() < prediction.mask(2).sum()


def test_points_and_box_together(segmenter, photo):
    encoded = segmenter.encode(photo)
    both = segmenter.predict(encoded, Prompt.click(420, 60).with_box((40, 30, 200, 150))).mask(1)
    assert both[60, 420] and both[100, 100]  # the click's disc and the box


def test_background_only_means_no_object(segmenter, photo):
    prediction = segmenter.segment(photo, Prompt(points=((20.0, 20.0),), labels=(0,)))
    assert prediction.object_score < 0.01
    assert not prediction.mask().any()


def test_prompt_outside_the_image_is_refused(segmenter, photo):
    encoded = segmenter.encode(photo)
    with pytest.raises(PromptError, match="outside the 481 x 321 image"):
        segmenter.predict(encoded, Prompt.click(481, 10))


def test_encode_once_then_memory_then_disk(fake_pack, photo, tmp_path):
    first = Segmenter.from_dir(fake_pack, cache_dir=tmp_path / "cache")
    fresh = first.encode(photo)
    assert fresh.cache_hit is None and fresh.timings["encode"] > 0
    assert first.encode(photo).cache_hit == "memory"
    # a new process (new segmenter): the disk cache answers, in float16
    second = Segmenter.from_dir(fake_pack, cache_dir=tmp_path / "cache")
    again = second.encode(photo)
    assert again.cache_hit == "disk" and again.timings["encode"] == 0
    for name, value in fresh.embeddings.items():
        assert again.embeddings[name].dtype == value.dtype
        np.testing.assert_allclose(again.embeddings[name], value, rtol=1e-3, atol=1e-3)
    a = first.predict(fresh, Prompt.click(200, 100)).mask()
    b = second.predict(again, Prompt.click(200, 100)).mask()
    assert np.array_equal(a, b)


def test_cache_is_keyed_by_content_and_model(fake_pack, fake_pack_fp16, photo, tmp_path):
    cache_dir = tmp_path / "cache"
    Segmenter.from_dir(fake_pack, cache_dir=cache_dir).encode(photo)
    other_model = Segmenter.from_dir(fake_pack_fp16, cache_dir=cache_dir)
    assert other_model.encode(photo).cache_hit is None
    renamed = tmp_path / "same-bytes.jpg"
    renamed.write_bytes(photo.read_bytes())
    assert Segmenter.from_dir(fake_pack, cache_dir=cache_dir).encode(renamed).cache_hit == "disk"


def test_different_images_give_different_embeddings(segmenter, photo):
    from tests.conftest import fixture_path
    other = fixture_path("objects/images/banana1.jpg")
    a = segmenter.encode(photo).embeddings["image_embeddings.2"]
    b = segmenter.encode(other).embeddings["image_embeddings.2"]
    assert not np.allclose(a, b)


def test_corrupt_disk_entry_is_dropped_and_recomputed(fake_pack, photo, tmp_path):
    seg = Segmenter.from_dir(fake_pack, cache_dir=tmp_path / "cache")
    image = seg.load(photo)
    seg.encode(image)
    entry = seg.cache.disk.path(image.key, seg.model.identity)
    entry.write_bytes(b"garbage")
    seg2 = Segmenter.from_dir(fake_pack, cache_dir=tmp_path / "cache")
    assert seg2.encode(photo).cache_hit is None  # recomputed, no exception
    assert entry.is_file() and entry.stat().st_size > 1000  # and rewritten


def test_unwritable_cache_never_breaks_a_prediction(fake_pack, photo, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    seg = Segmenter.from_dir(fake_pack, cache_dir=blocker / "cache")
    prediction = seg.segment(photo, Prompt.click(100, 100))
    assert prediction.mask()[100, 100]
    assert list(tmp_path.iterdir()) == [blocker]  # nothing half-written anywhere


def test_memory_cache_stays_within_its_byte_budget(fake_pack, tmp_path):
    from tests.conftest import fixture_path
    images = sorted(fixture_path("objects/images").glob("*.jpg"))[:4]
    one = Segmenter.from_dir(fake_pack).encode(images[0])
    per_image = sum(a.nbytes for a in one.embeddings.values())
    seg = Segmenter.from_dir(fake_pack, cache_bytes=int(per_image * 2.5))
    for path in images:
        seg.encode(path)
    assert len(seg.cache.memory) == 2 and seg.cache.memory.nbytes <= per_image * 2.5
    assert seg.encode(images[-1]).cache_hit == "memory"
    assert seg.encode(images[0]).cache_hit is None  # evicted, least recently used


def test_float16_io_variant_gives_the_same_masks(fake_pack, fake_pack_fp16, photo):
    seg32 = Segmenter.from_dir(fake_pack)
    seg16 = Segmenter.from_dir(fake_pack_fp16)
    assert seg16.model.layout.float_dtype == np.float16
    prompt = Prompt.click(240, 160).add_point(250, 150, 0)
    m32 = seg32.segment(photo, prompt).mask(1)
    m16 = seg16.segment(photo, prompt).mask(1)
    iou = (m32 & m16).sum() / (m32 | m16).sum()
    assert iou > 0.99


def test_external_data_files_are_found_beside_the_graph(fake_pack_external, photo):
    names = sorted(p.name for p in fake_pack_external.iterdir())
    assert "vision_encoder.onnx_data" in names
    prediction = Segmenter.from_dir(fake_pack_external).segment(photo, Prompt.click(50, 60))
    assert prediction.mask()[60, 50]


def test_missing_external_data_is_a_clear_error(fake_pack_external, tmp_path):
    import shutil
    folder = tmp_path / "pack"
    shutil.copytree(fake_pack_external, folder)
    (folder / "vision_encoder.onnx_data").unlink()
    with pytest.raises(ModelLoadError, match="vision_encoder.onnx"):
        Segmenter.from_dir(folder)


def test_truncated_model_file(fake_pack, tmp_path):
    import shutil
    folder = tmp_path / "pack"
    shutil.copytree(fake_pack, folder)
    decoder = folder / "prompt_encoder_mask_decoder.onnx"
    decoder.write_bytes(decoder.read_bytes()[:700])
    with pytest.raises(ModelLoadError, match="prompt_encoder_mask_decoder.onnx .*not a valid"):
        Segmenter.from_dir(folder)
    decoder.write_bytes(b"")
    with pytest.raises(ModelLoadError, match="empty"):
        Segmenter.from_dir(folder)


def test_wrong_layout_names_the_tensor(tmp_path):
    folder = fake_models.write_wrong_layout_pack(tmp_path / "wrong")
    with pytest.raises(LayoutError) as info:
        Segmenter.from_dir(folder)
    message = str(info.value)
    assert "vision_encoder.onnx" in message and "'pixel_values'" in message
    assert "image uint8[3, 1008, 1008]" in message and "text-path" in message


def test_folder_without_graphs(tmp_path):
    with pytest.raises(ModelNotFoundError, match="no vision_encoder"):
        Segmenter.from_dir(tmp_path)
    (tmp_path / "sam3_image_encoder.onnx").write_bytes(b"x")
    with pytest.raises(ModelNotFoundError, match="text-path pack"):
        Segmenter.from_dir(tmp_path)


def test_variants_in_the_onnx_subfolder_are_found(tmp_path):
    from sam3_canvas.engine.packfiles import find_tracker_files
    fake_models.write_tracker_pack(tmp_path / "onnx", variant="fp16")
    fake_models.write_tracker_pack(tmp_path / "onnx")
    assert find_tracker_files(tmp_path).variant == "fp32"
    chosen = find_tracker_files(tmp_path, "fp16")
    assert chosen.encoder.name == "vision_encoder_fp16.onnx"
    with pytest.raises(ModelNotFoundError, match="variants here: fp16, fp32"):
        find_tracker_files(tmp_path, "q4")
