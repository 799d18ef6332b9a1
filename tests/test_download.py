"""Downloads for real, over HTTP, against a local stand-in for the hub on 127.0.0.1."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from sam3_canvas.engine import Prompt
from sam3_canvas.engine.errors import DownloadError
from sam3_canvas.models.catalogue import Catalogue, Pack, PackFile, Variant
from sam3_canvas.models.download import download_pack, verify_installed
from sam3_canvas.models.store import ModelStore, open_segmenter
from tests.hubserver import StandInHub

REPO = "onnx-community/sam3-tracker-ONNX"


def _catalogue(*extra: PackFile) -> Catalogue:
    files = extra + (PackFile("onnx/vision_encoder.onnx", 0.01, "encoder"),
             PackFile("onnx/vision_encoder.onnx_data", 0.01, "data", optional=True),
             PackFile("onnx/prompt_encoder_mask_decoder.onnx", 0.01, "decoder"))
    variant = Variant("fp32", files)
    pack = Pack("sam3-tracker", "tracker", REPO, "main", "tracker", "fp32", {"fp32": variant})
    return Catalogue({"sam3-tracker": pack})


@pytest.fixture()
def hub(fake_pack_external):
    with StandInHub.from_folder(REPO, fake_pack_external, prefix="onnx/") as server:
        yield server


@pytest.fixture()
def store(tmp_path):
    return ModelStore(tmp_path / "models", _catalogue())


def test_whole_download_installs_a_working_pack(hub, store, photo, tmp_path):
    folder = download_pack(store, "sam3-tracker", endpoint=hub.endpoint)
    assert folder == tmp_path / "models" / "sam3-tracker" / "fp32"
    assert store.is_installed("sam3-tracker")
    assert not (tmp_path / "models" / ".staging" / "sam3-tracker-fp32").exists()
    manifest = store.manifest("sam3-tracker")
    assert {f["path"] for f in manifest["files"]} == set(hub.files)
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])
    lines = verify_installed(store, "sam3-tracker")
    assert sum(line.startswith("ok  onnx/") for line in lines) == len(hub.files) == 4
    seg = open_segmenter("sam3-tracker", store=store, cache_dir=tmp_path / "cache")
    assert seg.segment(photo, Prompt.click(100, 100)).mask()[100, 100]


def test_interrupted_download_resumes_with_a_range_request(hub, tmp_path):
    # huggingface_hub writes in 10 MiB chunks: a resume shows only past the first chunk
    name = "onnx/big_weights.bin"
    hub.files[name] = np.random.default_rng(0).bytes(21 * 1024 * 1024)
    size = len(hub.files[name])
    store = ModelStore(tmp_path / "models", _catalogue(PackFile(name, 21, "data")))
    hub.cut_after = 15 * 1024 * 1024  # the first GET breaks off after 15 MiB
    first = None
    try:
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint)
    except DownloadError as exc:
        first = str(exc)
    if first is not None:
        assert "run the same command again to resume" in first
        assert not store.is_installed("sam3-tracker")  # nothing half-installed
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint)
    assert store.is_installed("sam3-tracker")
    ranged = [h for m, p, h in hub.requests if m == "GET" and h.get("range")]
    assert ranged and ranged[0]["range"] == f"bytes={10 * 1024 * 1024}-"
    assert (store.pack_dir("sam3-tracker") / name).stat().st_size == size
    verify_installed(store, "sam3-tracker")


def test_corrupted_file_is_refused(hub, store):
    hub.corrupt.add("onnx/vision_encoder.onnx")
    with pytest.raises(DownloadError, match="vision_encoder.onnx: sha256 .* does not match"):
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint)
    assert not store.is_installed("sam3-tracker")
    staged = store.root / ".staging" / "sam3-tracker-fp32" / "onnx" / "vision_encoder.onnx"
    assert not staged.exists()  # the bad file is not kept for a later "resume"
    hub.corrupt.clear()
    download_pack(store, "sam3-tracker", endpoint=hub.endpoint)
    assert store.is_installed("sam3-tracker")


def test_file_missing_from_the_repo(hub, store):
    del hub.files["onnx/prompt_encoder_mask_decoder.onnx"]
    with pytest.raises(DownloadError, match="has no file onnx/prompt_encoder_mask_decoder.onnx"):
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint)


def test_offline_says_where_to_put_the_files(store):
    with socket.socket() as sock:  # a port on which nothing listens
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(DownloadError) as info:
        download_pack(store, "sam3-tracker", endpoint=f"http://127.0.0.1:{port}")
    message = str(info.value)
    assert "cannot reach the model hub" in message
    assert str(store.pack_dir("sam3-tracker")) in message
    assert "onnx/vision_encoder.onnx" in message and "models verify sam3-tracker" in message
    assert "\n" not in message


def test_a_previous_install_survives_a_failed_update(hub, store):
    download_pack(store, "sam3-tracker", endpoint=hub.endpoint)
    before = store.manifest("sam3-tracker")
    hub.corrupt.add("onnx/vision_encoder.onnx_data")
    # force a re-download of everything
    import shutil
    shutil.rmtree(store.root / ".staging", ignore_errors=True)
    with pytest.raises(DownloadError):
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint)
    assert store.is_installed("sam3-tracker") and store.manifest("sam3-tracker") == before


def test_cli_download_and_verify(hub, tmp_path):
    from tests.test_cli import cli
    models = tmp_path / "models"
    # the CLI uses the real catalogue: serve the tracker's fp16 files from the stand-in
    import shutil
    from sam3_canvas.testing.fake_models import write_tracker_pack
    fp16 = write_tracker_pack(tmp_path / "fp16", variant="fp16")
    hub.files.update({f"onnx/{p.name}": p.read_bytes() for p in fp16.iterdir()})
    result = cli("models", "--models-dir", models, "download", "sam3-tracker", "--variant",
                 "fp16", "--endpoint", hub.endpoint)
    assert result.returncode == 0, result.stderr
    result = cli("models", "--models-dir", models, "verify", "sam3-tracker", "--variant", "fp16")
    assert result.returncode == 0 and "float type float16" in result.stdout
    (models / "sam3-tracker" / "fp16" / "onnx" / "vision_encoder_fp16.onnx").write_bytes(b"x")
    result = cli("models", "--models-dir", models, "verify", "sam3-tracker", "--variant", "fp16")
    assert result.returncode == 2 and "vision_encoder_fp16.onnx" in result.stderr
    shutil.rmtree(models)
