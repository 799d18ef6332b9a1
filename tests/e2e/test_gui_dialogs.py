"""The model dialog (download with progress, cancel, resume; files on disk) and settings."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings  # noqa: E402

from sam3_canvas.app.settings import Settings  # noqa: E402
from sam3_canvas.gui.model_dialog import ModelDialog  # noqa: E402
from sam3_canvas.gui.settings_dialog import SettingsDialog, load_settings, save_settings  # noqa: E402
from sam3_canvas.models.store import ModelStore  # noqa: E402
from sam3_canvas.testing.fake_models import write_tracker_pack  # noqa: E402
from tests.hubserver import StandInHub  # noqa: E402

REPO = "onnx-community/sam3-tracker-ONNX"


@pytest.fixture()
def hub(tmp_path):
    pack = write_tracker_pack(tmp_path / "served", variant="fp16", external_data=True)
    with StandInHub.from_folder(REPO, pack, prefix="onnx/") as server:
        yield server


def _dialog(qtbot, tmp_path) -> ModelDialog:
    store = ModelStore(tmp_path / "models")
    dialog = ModelDialog(store)
    qtbot.addWidget(dialog)
    dialog.variant.setCurrentIndex(dialog.variant.findData("fp16"))
    return dialog


def test_download_with_progress_installs_the_pack(qtbot, tmp_path, hub, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    dialog = _dialog(qtbot, tmp_path)
    progress = []
    original = dialog._progress
    dialog._progress = lambda done, total, name: (progress.append((done, total)),
                                                  original(done, total, name))
    dialog.start_download(endpoint=hub.endpoint)
    qtbot.waitUntil(lambda: dialog.download.isEnabled(), timeout=30000)  # finished either way
    assert dialog.downloaded is not None, dialog.status.text()
    assert dialog.downloaded == ("sam3-tracker", "fp16")
    assert dialog.store.is_installed("sam3-tracker", "fp16")
    assert progress and progress[-1][0] == progress[-1][1] > 0


def test_cancel_keeps_the_part_and_download_resumes(qtbot, tmp_path, hub):
    big = "onnx/prompt_encoder_mask_decoder_fp16.onnx"
    hub.files[big + "_data"] = np.random.default_rng(1).bytes(24 * 1024 * 1024)
    hub.bytes_per_second = 8 * 1024 * 1024  # 3 s for the big file: time to press Cancel
    dialog = _dialog(qtbot, tmp_path)
    dialog.start_download(endpoint=hub.endpoint)
    # press Cancel once the big file is partly on disk (progress comes in 10 MiB chunks)
    qtbot.waitUntil(lambda: "onnx_data: 10.5 of 25.2 MB" in dialog.status.text(), timeout=30000)
    dialog.cancel.click()
    qtbot.waitUntil(lambda: dialog.download.isEnabled(), timeout=30000)
    part = dialog.store.root / ".staging" / "sam3-tracker-fp16" / (big + "_data.part")
    kept = part.stat().st_size
    assert 10 * 1024 * 1024 <= kept < 24 * 1024 * 1024  # the part is kept
    assert dialog.downloaded is None and "Cancelled" in dialog.status.text()
    assert not dialog.store.is_installed("sam3-tracker", "fp16")
    hub.bytes_per_second = None
    dialog.start_download(endpoint=hub.endpoint)
    qtbot.waitUntil(lambda: dialog.download.isEnabled(), timeout=30000)
    assert dialog.downloaded == ("sam3-tracker", "fp16"), dialog.status.text()
    assert dialog.store.is_installed("sam3-tracker", "fp16")
    resumed = [h for m, p, h in hub.requests if m == "GET" and p.endswith(big + "_data")
               and h.get("range")]
    assert resumed and resumed[-1]["range"] == f"bytes={kept}-"  # exactly where it stopped
    assert (dialog.store.pack_dir("sam3-tracker", "fp16") / (big + "_data")).stat().st_size \
        == 24 * 1024 * 1024


def test_no_network_says_so_in_the_dialog(qtbot, tmp_path):
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dialog = _dialog(qtbot, tmp_path)
    dialog.start_download(endpoint=f"http://127.0.0.1:{port}")
    qtbot.waitUntil(lambda: dialog.download.isEnabled(), timeout=30000)
    assert "cannot reach the model hub" in dialog.status.text()
    assert "by hand" in dialog.status.text()


def test_settings_dialog_and_qsettings_round_trip(qtbot, tmp_path):
    store = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    assert load_settings(store) == Settings()
    dialog = SettingsDialog(Settings(variant="fp16", provider="cuda", prefetch=5))
    qtbot.addWidget(dialog)
    assert dialog.variant.currentData() == "fp16"
    assert [dialog.provider.itemText(i) for i in range(dialog.provider.count())][-1] == "cpu"
    assert dialog.provider.currentText() in ("cuda", "cpu")  # only what onnxruntime offers
    dialog.cache.setValue(2048)
    dialog.folder.setText(str(tmp_path / "graphs"))
    chosen = dialog.result_settings()
    assert chosen.cache_mb == 2048 and chosen.prefetch == 5
    save_settings(store, chosen)
    again = load_settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert again == chosen and isinstance(again.cache_mb, int) and isinstance(
        again.disk_cache, bool)


def test_the_first_start_dialog_recommends_the_measured_variant_and_says_why(qtbot, tmp_path):
    from sam3_canvas.models.store import ModelStore
    store = ModelStore(tmp_path / "models")
    cpu = ModelDialog(store, provider="cpu")
    qtbot.addWidget(cpu)
    assert cpu.variant.currentData() == "int8"
    assert "(recommended)" in cpu.variant.currentText()
    assert cpu.why.text().startswith("Recommended on CPU: int8.") and "docs/variants.md" in \
        cpu.why.text()
    gpu = ModelDialog(store, provider="directml")
    qtbot.addWidget(gpu)
    assert gpu.variant.currentData() == "fp32" and "DirectML" in gpu.why.text()
