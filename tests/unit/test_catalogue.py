"""models.toml as the publishers' repositories hold the packs: every variant with every file
(sidecars as required files carrying the sizes), the right default per provider, and an
offline message that lists everything to fetch by hand."""

from __future__ import annotations

import socket

import pytest

from sam3_canvas.engine.errors import DownloadError
from sam3_canvas.engine.providers import PROVIDERS
from sam3_canvas.models.catalogue import load_catalogue
from sam3_canvas.models.download import download_pack
from sam3_canvas.models.store import ModelStore

TRACKER_VARIANTS = {"fp32", "fp16", "q4", "q4f16", "int8", "quantized", "uint8", "bnb4"}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def test_every_tracker_variant_lists_both_graphs_and_their_sidecars(catalogue):
    pack = catalogue.get("sam3-tracker")
    assert set(pack.variants) == TRACKER_VARIANTS
    for name, variant in pack.variants.items():
        suffix = "" if name == "fp32" else f"_{name}"
        paths = {f.path: f for f in variant.files}
        for graph in (f"onnx/vision_encoder{suffix}.onnx",
                      f"onnx/prompt_encoder_mask_decoder{suffix}.onnx"):
            assert graph in paths, (name, graph)
            sidecar = paths.get(graph + "_data")
            assert sidecar is not None and not sidecar.optional, (name, graph)
            # the weights, and so the size, are in the sidecar
            assert sidecar.approx_mb > paths[graph].approx_mb, (name, graph)
        encoder_mb = paths[f"onnx/vision_encoder{suffix}.onnx_data"].approx_mb
        assert 200 < encoder_mb < 2000, (name, encoder_mb)


def test_unconfirmed_variants_say_so(catalogue):
    pack = catalogue.get("sam3-tracker")
    for name, variant in pack.variants.items():
        confirmed = all(f.confirmed for f in variant.files)
        assert confirmed == (name not in ("uint8", "bnb4")), name


def test_fp16_has_float32_inputs_and_outputs_says_the_note(catalogue):
    note = catalogue.get("sam3-tracker").variants["fp16"].note
    assert "float32 inputs and outputs" in note


def test_the_default_follows_the_measurement_per_provider(catalogue):
    pack = catalogue.get("sam3-tracker")
    assert pack.default_variant == pack.default_for("cpu") == "int8"
    assert pack.default_for(None) == "int8"
    assert set(pack.defaults) <= set(PROVIDERS)
    for provider in ("cuda", "directml", "coreml"):
        assert pack.default_for(provider) == "fp32" and pack.default_reason(provider)
    assert "docs/variants.md" in pack.default_reason("cpu")


def test_the_a2_pack_is_where_nrl_ai_put_it(catalogue):
    files = {f.path for f in catalogue.get("sam3-text-a2").variant(None).files}
    assert files == {"sam3/sam3_image_encoder.onnx", "sam3/sam3_language_encoder.onnx",
                     "sam3/sam3_decoder.onnx", "sam3/sam3_decoder.onnx.data"}


def test_litetext_points_at_the_published_checkpoint(catalogue):
    pack = catalogue.get("sam3-litetext")
    assert pack.repo == "vil-uob/sam3-litetext-s0" and "vil-uob/sam3-litetext-s0" in pack.how


def test_the_offline_message_lists_every_file_with_its_size(tmp_path):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = ModelStore(tmp_path / "models")
    with pytest.raises(DownloadError) as caught:
        download_pack(store, "sam3-tracker", "q4", endpoint=f"http://127.0.0.1:{port}",
                      progress=False)
    message = str(caught.value)
    for item in store.catalogue.get("sam3-tracker").variants["q4"].files:
        assert item.path in message
    assert "onnx/vision_encoder_q4.onnx_data (~" in message


def test_a_variant_that_is_not_the_default_is_used_when_it_is_the_one_installed(tmp_path):
    from sam3_canvas.testing.fake_models import write_tracker_pack
    store = ModelStore(tmp_path / "models")
    assert store.chosen_variant("sam3-tracker", "cpu") == "int8"  # nothing installed yet
    folder = store.pack_dir("sam3-tracker", "q4") / "onnx"
    write_tracker_pack(folder, variant="q4", external_data=True)
    assert store.chosen_variant("sam3-tracker", "cpu") == "q4"
    write_tracker_pack(store.pack_dir("sam3-tracker", "int8") / "onnx", variant="int8",
                       external_data=True)
    assert store.chosen_variant("sam3-tracker", "cpu") == "int8"
