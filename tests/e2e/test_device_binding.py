"""Embeddings left on the device (IO binding), run with the CPU provider: the same masks as the
plain path, the caches filled from the host copy, and the plain path where the decoder wants
another dtype than the encoder gives."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from sam3_canvas.engine.device import DeviceEmbeddings
from sam3_canvas.engine.prompts import BACKGROUND, FOREGROUND, Prompt
from sam3_canvas.engine.segmenter import Segmenter
from sam3_canvas.testing import fake_models
from tests.conftest import fixture_path

PROMPTS = [Prompt.click(200, 150),
           Prompt(points=((200, 150), (230, 160)), labels=(FOREGROUND, BACKGROUND)),
           Prompt(box=(40, 30, 300, 250))]


def _same(a, b) -> None:
    assert a.ious == b.ious and a.object_logit == b.object_logit
    np.testing.assert_array_equal(a.logits, b.logits)


def test_bound_embeddings_give_the_plain_paths_masks_and_reach_the_cache(fake_pack, photo):
    plain = Segmenter.from_dir(fake_pack)
    bound = Segmenter.from_dir(fake_pack, device_binding=True)
    assert not plain.model.device_binding and bound.model.device_binding
    assert bound.model._binding_ok  # the embeddings really are bound, not copied
    reference = plain.encode(photo)
    encoded = bound.encode(photo)
    assert isinstance(encoded.embeddings, DeviceEmbeddings)
    assert encoded.embeddings.device == "cpu"
    for prompt in PROMPTS:
        _same(bound.predict(encoded, prompt), plain.predict(reference, prompt))
    bound.flush()  # the host copy went into the memory cache in the background
    again = bound.encode(photo)
    assert again.cache_hit == "memory" and not isinstance(again.embeddings, DeviceEmbeddings)
    for name, value in reference.embeddings.items():
        np.testing.assert_array_equal(again.embeddings[name], value)
    _same(bound.predict(again, PROMPTS[0]), plain.predict(reference, PROMPTS[0]))


def test_a_decoder_of_another_dtype_takes_the_host_copy(tmp_path, photo):
    """A float16-I/O encoder beside the fp32 decoder (the catalogue pairs them so): the
    embeddings cannot be bound as they are, so they are read back and cast, as before."""
    pack = fake_models.write_tracker_pack(tmp_path / "pack")
    fake_models.write_tracker_pack(pack, "fp16", io="float16", decoder=False)
    bound = Segmenter.from_dir(pack, variant="fp16", device_binding=True)
    plain = Segmenter.from_dir(pack, variant="fp16")
    assert bound.model.device_binding and not bound.model._binding_ok
    encoded = bound.encode(photo)
    assert isinstance(encoded.embeddings, DeviceEmbeddings)
    _same(bound.predict(encoded, PROMPTS[0]), plain.predict(plain.encode(photo), PROMPTS[0]))
    assert encoded.embeddings.on_host


# -- several images per encoder run --------------------------------------------------------

IMAGES = [fixture_path(f"objects/images/{name}.jpg") for name in ("ring", "llama", "sheep")]


@pytest.mark.parametrize("binding", [False, True], ids=["host", "device"])
def test_one_encoder_run_over_several_images_gives_each_its_own_masks(fake_pack, binding):
    """Each image of a batch gets its own embeddings, in order, in the caches and for the
    decoder (the geometric fake's decoder ignores them: that each photo's slice is bound is
    checked on the twin, test_twin_parity)."""
    plain = Segmenter.from_dir(fake_pack)
    batched = Segmenter.from_dir(fake_pack, device_binding=binding)
    references = [plain.encode(path) for path in IMAGES]
    first = references[0].embeddings["image_embeddings.0"]
    assert not np.array_equal(first, references[1].embeddings["image_embeddings.0"])
    encoded = batched.encode_many(IMAGES, batch=3)
    assert [e.timings.get("batch") for e in encoded] == [3, 3, 3]
    assert [e.image.name for e in encoded] == [p.name for p in IMAGES]
    for mine, reference in zip(encoded, references):
        assert isinstance(mine.embeddings, DeviceEmbeddings) == binding
        for prompt in PROMPTS:
            _same(batched.predict(mine, prompt), plain.predict(reference, prompt))
    batched.flush()
    again = batched.encode_many(IMAGES)  # every image's own embeddings reached the cache
    assert [e.cache_hit for e in again] == ["memory"] * 3
    for mine, reference in zip(again, references):
        for name, value in reference.embeddings.items():
            np.testing.assert_array_equal(mine.embeddings[name], value)
            assert mine.embeddings[name].shape[0] == 1


def test_batches_are_cut_to_the_size_asked_and_cached_images_are_not_encoded(fake_pack):
    seg = Segmenter.from_dir(fake_pack)
    seg.encode(IMAGES[1])
    encoded = seg.encode_many([IMAGES[0], IMAGES[1], IMAGES[2], IMAGES[0].parent / "bicycle.jpg"],
                              batch=2)
    assert [e.cache_hit for e in encoded] == [None, "memory", None, None]
    assert [e.timings.get("batch") for e in encoded] == [2, None, 2, None]
    assert [e.image.name for e in encoded] == ["ring.jpg", "llama.jpg", "sheep.jpg",
                                               "bicycle.jpg"]


def test_a_graph_with_a_fixed_batch_of_one_runs_image_by_image(tmp_path):
    pack = fake_models.write_tracker_pack(tmp_path / "pack")
    encoder_path = pack / fake_models.ENCODER_FILE.format(suffix="")
    encoder = onnx.load(str(encoder_path))
    for value in [*encoder.graph.input, *encoder.graph.output]:
        value.type.tensor_type.shape.dim[0].dim_value = 1  # as some exports fix it
    onnx.save(encoder, str(encoder_path))
    seg = Segmenter.from_dir(pack)
    assert seg.model.batch_limit == 1
    encoded = seg.encode_many(IMAGES, batch=8)
    assert [e.timings.get("batch") for e in encoded] == [None] * 3
    reference = Segmenter.from_dir(fake_models.write_tracker_pack(tmp_path / "plain"))
    _same(seg.predict(encoded[2], PROMPTS[0]),
          reference.predict(reference.encode(IMAGES[2]), PROMPTS[0]))


@pytest.mark.parametrize("binding", [False, True], ids=["host", "device"])
def test_nan_embeddings_are_never_cached(tmp_path, binding):
    """An encoder that gives NaN for one image: on the host path encoding it fails with one
    line; on the device path (checked by the decoder's own NaN check) the background copy
    leaves it out of the caches. The other image is encoded and cached either way."""
    from PIL import Image

    from sam3_canvas.engine.errors import InferenceError
    pack = fake_models.write_nan_pack(tmp_path / "pack")
    dark = tmp_path / "dark.png"
    Image.new("RGB", (64, 48), (25, 30, 35)).save(dark)
    seg = Segmenter.from_dir(pack, device_binding=binding)
    if binding:
        seg.encode(dark)
    else:
        with pytest.raises(InferenceError, match="NaN or infinite values .* for dark.png"):
            seg.encode(dark)
    bright = seg.encode(IMAGES[0])
    seg.flush()
    assert not seg.is_cached(seg.load(dark))
    assert seg.is_cached(bright.image)


def test_an_input_made_ahead_is_the_one_encoded_and_the_memo_stays_small(fake_pack):
    """A batch job's reader makes the encoder input ahead (Segmenter.prepare); the encode
    takes it, gives what it gives without it, and images never encoded do not pile up."""
    seg = Segmenter.from_dir(fake_pack)
    plain = Segmenter.from_dir(fake_pack)
    image = seg.load(IMAGES[1])
    seg.prepare(image)
    assert image.key in seg._ahead
    encoded = seg.encode(image)
    assert image.key not in seg._ahead  # taken, not made again
    for name, value in plain.encode(IMAGES[1]).embeddings.items():
        np.testing.assert_array_equal(encoded.embeddings[name], value)
    for n in range(Segmenter.AHEAD + 3):  # prepared, then never encoded (failures)
        seg.prepare(seg.load(np.full((20 + n, 30, 3), n, np.uint8)))
    assert len(seg._ahead) == Segmenter.AHEAD
