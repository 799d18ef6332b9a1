"""Embeddings left on the device (IO binding), run with the CPU provider: the same masks as the
plain path, the caches filled from the host copy, and the plain path where the decoder wants
another dtype than the encoder gives."""

from __future__ import annotations

import numpy as np

from sam3_canvas.engine.device import DeviceEmbeddings
from sam3_canvas.engine.prompts import BACKGROUND, FOREGROUND, Prompt
from sam3_canvas.engine.segmenter import Segmenter
from sam3_canvas.testing import fake_models

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
