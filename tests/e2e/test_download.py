"""Downloads for real, over HTTP, against a local stand-in for the hub on 127.0.0.1.

Every resume test fails first for certain (a cut connection, a cancel, a kill), then checks that
the next attempt asked the server for exactly the bytes the ``.part`` file lacked (a Range
request starting where it ended) and that the installed file has the hub's sha256.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tqdm import tqdm

from sam3_canvas.engine import Prompt
from sam3_canvas.engine.errors import DownloadError
from sam3_canvas.models import download
from sam3_canvas.models.catalogue import Catalogue, Pack, PackFile, Variant
from sam3_canvas.models.download import download_pack, verify_installed
from sam3_canvas.models.store import ModelStore, open_segmenter
from tests.hubserver import StandInHub

ROOT = Path(__file__).resolve().parents[2]

REPO = "onnx-community/sam3-tracker-ONNX"
RESUME = "run the same command again to resume"
BIG = "onnx/big_weights.bin"
MIB = 1024 * 1024


def _catalogue(*extra: PackFile, repo: str = REPO) -> Catalogue:
    files = extra + (PackFile("onnx/vision_encoder.onnx", 0.01, "encoder"),
             PackFile("onnx/vision_encoder.onnx_data", 0.01, "data", optional=True),
             PackFile("onnx/prompt_encoder_mask_decoder.onnx", 0.01, "decoder"))
    variant = Variant("fp32", files)
    pack = Pack("sam3-tracker", "tracker", repo, "main", "tracker", "fp32", {"fp32": variant})
    return Catalogue({"sam3-tracker": pack})


@pytest.fixture()
def hub(fake_pack_external):
    with StandInHub.from_folder(REPO, fake_pack_external, prefix="onnx/") as server:
        yield server


@pytest.fixture()
def store(tmp_path):
    return ModelStore(tmp_path / "models", _catalogue())


def _big_store(hub, tmp_path, megabytes: int) -> tuple[ModelStore, bytes]:
    """A store whose pack starts with a big random file (fetched first) served by ``hub``."""
    data = np.random.default_rng(megabytes).bytes(megabytes * MIB)
    hub.files[BIG] = data
    return ModelStore(tmp_path / "models", _catalogue(PackFile(BIG, megabytes, "data"))), data


def _part(store: ModelStore) -> os.PathLike:
    return store.root / ".staging" / "sam3-tracker-fp32" / (BIG + ".part")


def _installed_sha256(store: ModelStore, path: str) -> str:
    return hashlib.sha256((store.pack_dir("sam3-tracker") / path).read_bytes()).hexdigest()


class DownloadCancelled(Exception):
    pass


class CancelAfter(tqdm):
    """Cancels the way the GUI's progress class does: ``update`` raises once asked to."""

    limit = 3 * MIB
    seen: list[tuple[int, int]] = []  # (initial, total) of every bar made

    def __init__(self, *args, **kwargs):
        kwargs["disable"] = True
        super().__init__(*args, **kwargs)
        CancelAfter.seen.append((int(self.n), int(self.total or 0)))

    def update(self, n=1):
        self.n += n
        if self.n >= self.limit:
            raise DownloadCancelled("cancelled by the user")


def test_whole_download_installs_a_working_pack(hub, store, tmp_path):
    folder = download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    assert folder == tmp_path / "models" / "sam3-tracker" / "fp32"
    assert store.is_installed("sam3-tracker")
    assert not (tmp_path / "models" / ".staging" / "sam3-tracker-fp32").exists()
    manifest = store.manifest("sam3-tracker")
    assert {f["path"] for f in manifest["files"]} == set(hub.files)
    assert all(len(f["sha256"]) == 64 for f in manifest["files"])
    lines = verify_installed(store, "sam3-tracker")
    assert sum(line.startswith("ok  onnx/") for line in lines) == len(hub.files) == 4
    # one plain GET per file, no Range (nothing to resume), with the hub's user agent
    gets = [h for m, p, h in hub.requests if m == "GET"]
    assert len(gets) == 4 and not any("range" in h for h in gets)
    assert all("sam3-canvas/" in h["user-agent"] for h in gets)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((321, 481, 3), 128, np.uint8)).save(photo)
    seg = open_segmenter("sam3-tracker", store=store, cache_dir=tmp_path / "cache")
    assert seg.segment(photo, Prompt.click(100, 100)).mask()[100, 100]


def test_interrupted_download_resumes_with_a_range_request(hub, tmp_path):
    store, data = _big_store(hub, tmp_path, 21)
    hub.cut_after = 15 * MIB  # the first GET breaks off after 15 MiB
    with pytest.raises(DownloadError) as info:
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    message = str(info.value)
    assert message.startswith(f"{BIG}: the transfer broke off") and RESUME in message
    assert "\n" not in message
    assert not store.is_installed("sam3-tracker")  # nothing half-installed
    kept = _part(store).stat().st_size
    assert 0 < kept <= 15 * MIB
    download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    assert store.is_installed("sam3-tracker")
    gets = hub.gets(BIG)
    assert len(gets) == 2 and "range" not in gets[0]
    assert gets[1]["range"] == f"bytes={kept}-"
    assert _installed_sha256(store, BIG) == hashlib.sha256(data).hexdigest()
    verify_installed(store, "sam3-tracker")


def test_cancel_from_the_progress_class_then_resume(hub, tmp_path):
    store, data = _big_store(hub, tmp_path, 8)
    CancelAfter.seen = []
    with pytest.raises(DownloadError) as info:
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint, tqdm_class=CancelAfter)
    message = str(info.value)
    assert "cancelled by the user" in message and "kept" in message and RESUME not in message
    kept = _part(store).stat().st_size
    assert CancelAfter.limit <= kept < len(data)
    assert f"{kept:,} of {len(data):,} bytes" in message  # what the message says is on disk
    assert not store.is_installed("sam3-tracker")

    CancelAfter.limit = float("inf")
    try:
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint, tqdm_class=CancelAfter)
    finally:
        CancelAfter.limit = 3 * MIB
    gets = hub.gets(BIG)
    assert len(gets) == 2 and gets[1]["range"] == f"bytes={kept}-"
    assert CancelAfter.seen[:2] == [(0, len(data)), (kept, len(data))]  # the 2nd starts there
    assert _installed_sha256(store, BIG) == hashlib.sha256(data).hexdigest()


KILLED_DOWNLOAD = """
import sys
from sam3_canvas.models.catalogue import PackFile
from sam3_canvas.models.download import download_pack
from sam3_canvas.models.store import ModelStore
from tests.e2e.test_download import BIG, _catalogue
store = ModelStore(sys.argv[2], _catalogue(PackFile(BIG, 8, "data")))
download_pack(store, "sam3-tracker", endpoint=sys.argv[1], progress=False)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_killed_download_resumes_in_the_next_process(hub, tmp_path):
    store, data = _big_store(hub, tmp_path, 8)
    hub.bytes_per_second = 4 * MIB  # 2 s for the file: time to kill it half-way
    child = subprocess.Popen([sys.executable, "-c", KILLED_DOWNLOAD, hub.endpoint,
                              str(store.root)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not (_part(store).exists() and _part(store).stat().st_size >= MIB):
            assert child.poll() is None, "the download ended before it could be killed"
            assert time.monotonic() < deadline, "the download never started"
            time.sleep(0.02)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    assert child.returncode == -signal.SIGKILL
    kept = _part(store).stat().st_size
    assert MIB <= kept < len(data)
    assert not store.is_installed("sam3-tracker")

    hub.bytes_per_second = None
    download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    gets = hub.gets(BIG)
    assert len(gets) == 2 and "range" not in gets[0] and gets[1]["range"] == f"bytes={kept}-"
    assert _installed_sha256(store, BIG) == hashlib.sha256(data).hexdigest()
    verify_installed(store, "sam3-tracker")


def test_a_stalled_transfer_times_out_and_resumes(hub, tmp_path, monkeypatch):
    store, data = _big_store(hub, tmp_path, 3)
    hub.stall_after = MIB + 5  # then silence: the read times out
    monkeypatch.setenv("HF_HUB_DOWNLOAD_TIMEOUT", "0.5")
    with pytest.raises(DownloadError) as info:
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    assert "the transfer broke off" in str(info.value) and RESUME in str(info.value)
    kept = _part(store).stat().st_size
    assert kept > 0
    hub.stalled.set()
    download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    assert hub.gets(BIG)[1]["range"] == f"bytes={kept}-"
    assert _installed_sha256(store, BIG) == hashlib.sha256(data).hexdigest()


def test_a_server_that_ignores_the_range_restarts_the_file(hub, tmp_path):
    store, data = _big_store(hub, tmp_path, 4)
    hub.cut_after = 2 * MIB
    with pytest.raises(DownloadError, match=RESUME):
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    assert _part(store).stat().st_size > 0
    hub.ignore_range = True  # answers 200 with the whole file: appending it would corrupt it
    download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    assert hub.gets(BIG)[1]["range"].startswith("bytes=")
    assert _installed_sha256(store, BIG) == hashlib.sha256(data).hexdigest()


def test_corrupted_file_is_refused(hub, store):
    hub.corrupt.add("onnx/vision_encoder.onnx")
    with pytest.raises(DownloadError, match="vision_encoder.onnx: sha256 .* does not match"):
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    assert not store.is_installed("sam3-tracker")
    staged = store.root / ".staging" / "sam3-tracker-fp32" / "onnx" / "vision_encoder.onnx"
    assert not staged.exists()  # the bad file is not kept for a later "resume"
    hub.corrupt.clear()
    download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    assert store.is_installed("sam3-tracker")


def test_file_missing_from_the_repo(hub, store):
    del hub.files["onnx/prompt_encoder_mask_decoder.onnx"]
    with pytest.raises(DownloadError, match="has no file onnx/prompt_encoder_mask_decoder.onnx"):
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)


@pytest.mark.parametrize("status, says", [
    (404, "the hub has no such file (HTTP 404"),
    (403, "refused access (HTTP 403)"),
    (401, "refused access (HTTP 401)"),
])
def test_http_client_errors_do_not_claim_a_resume(hub, store, status, says):
    hub.status["onnx/vision_encoder.onnx"] = status  # listed by paths-info, refused by GET
    with pytest.raises(DownloadError) as info:
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    message = str(info.value)
    assert message.startswith("onnx/vision_encoder.onnx: ") and says in message
    assert "resume" not in message and "\n" not in message
    assert "by hand" in message  # the way out that does work


def test_server_errors_are_network_failures(hub, store):
    hub.status["onnx/vision_encoder.onnx"] = 503
    with pytest.raises(DownloadError) as info:
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    assert "HTTP 503" in str(info.value) and RESUME in str(info.value)
    del hub.status["onnx/vision_encoder.onnx"]
    download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    assert store.is_installed("sam3-tracker")


def test_unknown_repository_is_not_a_network_failure(hub, tmp_path):
    store = ModelStore(tmp_path / "models", _catalogue(repo="onnx-community/no-such-repo"))
    with pytest.raises(DownloadError) as info:
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    message = str(info.value)
    assert "no such repository" in message and "cannot reach" not in message
    assert "resume" not in message and "\n" not in message


@pytest.mark.parametrize("error", [
    TypeError("http_get() got an unexpected keyword argument 'expected_size'"),
    AttributeError("'Response' object has no attribute 'iter_bytes'"),
])
def test_a_programming_error_is_not_reported_as_the_network(hub, store, monkeypatch, error):
    def broken(*args, **kwargs):
        raise error
    monkeypatch.setattr(download, "_transfer", broken)
    with pytest.raises(DownloadError) as info:
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    message = str(info.value)
    assert type(error).__name__ in message and "please report it" in message
    assert "resume" not in message and "cannot reach" not in message and "\n" not in message
    assert info.value.__cause__ is error  # kept for a traceback, not hidden


def test_a_bug_inside_the_http_client_is_not_reported_as_the_network(hub, store,
                                                                     monkeypatch):
    import huggingface_hub

    class Broken:
        def __getattr__(self, name):
            def call(*args, **kwargs):
                raise TypeError(f"{name}() got an unexpected keyword argument 'timeout'")
            return call
    monkeypatch.setattr(huggingface_hub, "get_session", lambda: Broken())
    with pytest.raises(DownloadError) as info:
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    assert "TypeError" in str(info.value) and "resume" not in str(info.value)


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


def test_connection_refused_during_the_files_says_resume(hub, store, monkeypatch):
    """The hub answers the sizes, then goes away before the files: a network failure."""
    real = download._transfer

    def refused(url, *args, **kwargs):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        return real(url.replace(hub.endpoint, f"http://127.0.0.1:{port}"), *args, **kwargs)
    monkeypatch.setattr(download, "_transfer", refused)
    with pytest.raises(DownloadError) as info:
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    assert "cannot reach the model hub" in str(info.value) and RESUME in str(info.value)


def test_a_previous_install_survives_a_failed_update(hub, store):
    download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    before = store.manifest("sam3-tracker")
    hub.corrupt.add("onnx/vision_encoder.onnx_data")
    # force a re-download of everything
    import shutil
    shutil.rmtree(store.root / ".staging", ignore_errors=True)
    with pytest.raises(DownloadError):
        download_pack(store, "sam3-tracker", endpoint=hub.endpoint, progress=False)
    assert store.is_installed("sam3-tracker") and store.manifest("sam3-tracker") == before


def cli(*args):
    """The CLI as a user runs it (a subprocess); the cache stays out of the checkout."""
    cache = os.path.join(tempfile.gettempdir(), "sam3-canvas-test-cache")
    result = subprocess.run([sys.executable, "-m", "sam3_canvas", *map(str, args)],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "SAM3_CANVAS_CACHE": cache})
    assert "Traceback" not in result.stderr, result.stderr
    return result


def test_cli_download_and_verify(hub, tmp_path):
    models = tmp_path / "models"
    # the CLI uses the real catalogue: serve the tracker's fp16 files from the stand-in
    import shutil

    from sam3_canvas.testing.fake_models import write_tracker_pack
    # as published: float16 weights with float32 I/O, each graph with its .onnx_data sidecar
    fp16 = write_tracker_pack(tmp_path / "fp16", variant="fp16", external_data=True)
    hub.files.update({f"onnx/{p.name}": p.read_bytes() for p in fp16.iterdir()})
    result = cli("models", "--models-dir", models, "download", "sam3-tracker", "--variant",
                 "fp16", "--endpoint", hub.endpoint)
    assert result.returncode == 0, result.stderr
    result = cli("models", "--models-dir", models, "verify", "sam3-tracker", "--variant", "fp16")
    assert result.returncode == 0 and "float type float32" in result.stdout
    (models / "sam3-tracker" / "fp16" / "onnx" / "vision_encoder_fp16.onnx").write_bytes(b"x")
    result = cli("models", "--models-dir", models, "verify", "sam3-tracker", "--variant", "fp16")
    assert result.returncode == 2 and "vision_encoder_fp16.onnx" in result.stderr
    shutil.rmtree(models)
