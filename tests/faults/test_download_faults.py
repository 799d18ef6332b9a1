"""`sam3-canvas models download` against a local stand-in hub: an interrupted transfer and a
corrupted file end in one line, install nothing half-done, and the next run resumes."""

from __future__ import annotations

import numpy as np
import pytest

from tests.hubserver import StandInHub

GROUP = "Downloads"
REPO = "onnx-community/sam3-tracker-ONNX"  # the catalogue's sam3-tracker, served locally


@pytest.fixture()
def hub(fake_pack_external):
    with StandInHub.from_folder(REPO, fake_pack_external, prefix="onnx/") as server:
        server.files["onnx/vision_encoder.onnx_data"] += np.random.default_rng(0).bytes(
            12 * 1024 * 1024)  # big enough to be cut in the middle
        yield server


def _download(cli, hub, tmp_path):
    return cli("models", "--models-dir", tmp_path / "models", "download", "sam3-tracker",
               "--variant", "fp32", "--endpoint", hub.endpoint)


def test_an_interrupted_download_resumes(cli, hub, tmp_path, fault):
    record = fault("an interrupted download (`models download`)", GROUP)
    hub.cut_after = 5 * 1024 * 1024
    hub.cut_path = "onnx/vision_encoder.onnx_data"
    first = _download(cli, hub, tmp_path)
    assert first.code == 2 and "run the same command again to resume" in first.last_error
    assert not (tmp_path / "models" / "sam3-tracker" / "fp32").exists()
    second = _download(cli, hub, tmp_path)
    assert second.code == 0, second.err
    ranges = [h["range"] for m, p, h in hub.requests if m == "GET" and h.get("range")]
    assert ranges and not ranges[-1].startswith("bytes=0-")
    verify = cli("models", "--models-dir", tmp_path / "models", "verify", "sam3-tracker",
                 "--variant", "fp32")
    assert verify.code == 0 and "sha256 matches" in verify.out
    record.seen(first.last_error.split(";")[0] + "; run the same command again to resume …")
    record.keeps(f"the bytes already fetched; the rerun continues with `Range: {ranges[-1]}` "
                 "and installs a verified pack")


def test_a_corrupted_download_is_refused(cli, hub, tmp_path, fault):
    record = fault("a corrupted download (`models download`)", GROUP)
    hub.corrupt.add("onnx/prompt_encoder_mask_decoder.onnx")
    result = _download(cli, hub, tmp_path)
    assert result.code == 2
    assert "prompt_encoder_mask_decoder.onnx: sha256" in result.last_error
    assert not (tmp_path / "models" / "sam3-tracker" / "fp32").exists()
    record.seen(result.last_error)
    record.keeps("nothing installed; a previous install of the pack stays as it was")
