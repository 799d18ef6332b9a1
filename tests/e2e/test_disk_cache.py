"""The bounded disk cache (LRU by last read, shared by processes), model identity from content,
and the cache options of `segment` and `detect`."""

from __future__ import annotations

import errno
import json
import logging
import multiprocessing
import os
import time
from pathlib import Path

import numpy as np
import onnx
import pytest
from PIL import Image

from sam3_canvas.engine import identity
from sam3_canvas.engine.cache import DEFAULT_DISK_CACHE_BYTES, DiskCache, EmbeddingCache
from sam3_canvas.engine.identity import IdentityMemo, model_identity

MIB = 1 << 20
DTYPES = {"x": np.float32}


# -- helpers ------------------------------------------------------------------------------

def entries_size(root: Path) -> int:
    """What the cache's entries really take in the folder (apparent sizes of the .npz)."""
    return sum(p.stat().st_size for p in Path(root).rglob("*.npz"))


def folder_size(root: Path) -> int:
    return sum(p.stat().st_size for p in Path(root).rglob("*") if p.is_file())


def value(seed: int, n: int = 1000) -> dict[str, np.ndarray]:
    return {"x": np.full(n, seed, np.float32)}


def entry_bytes(n: int = 1000) -> int:
    import io
    buffer = io.BytesIO()
    np.savez(buffer, x=np.zeros(n, np.float16))
    return len(buffer.getbuffer())


@pytest.fixture()
def count_hashes(monkeypatch):
    """Every file that identity reads in full, in order."""
    read = []
    real = identity.hash_file

    def counting(path):
        read.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(identity, "hash_file", counting)
    return read


# -- model identity -------------------------------------------------------------------------

def _blob(middle: int) -> bytes:
    head = bytes(range(256)) * 4096  # 1 MiB
    return head + bytes([middle]) * (2 * MIB) + head[::-1]


def test_identity_sees_the_middle_of_a_file(tmp_path):
    """Same name, same size, same first and last MiB: the old key matched, this one doesn't."""
    a, b = tmp_path / "a" / "vision_encoder.onnx", tmp_path / "b" / "vision_encoder.onnx"
    for path, middle in ((a, 1), (b, 2)):
        path.parent.mkdir()
        path.write_bytes(_blob(middle))
    assert a.stat().st_size == b.stat().st_size
    assert model_identity(a) != model_identity(b)
    b.write_bytes(_blob(1))
    assert model_identity(a) == model_identity(b)  # content, not name or folder


@pytest.mark.parametrize("sidecar", ["encoder.onnx_data", "encoder.onnx.data", "weights.bin"])
def test_a_sidecar_with_new_bytes_of_the_same_size_changes_the_identity(tmp_path, sidecar):
    from onnx import TensorProto, helper, numpy_helper
    weight = numpy_helper.from_array(np.arange(4096, dtype=np.float32), "w")
    graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4096])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4096])],
                              [weight])
    graph_path = tmp_path / "encoder.onnx"
    onnx.save(helper.make_model(graph), str(graph_path), save_as_external_data=True,
              all_tensors_to_one_file=True, location=sidecar, size_threshold=0)
    data = tmp_path / sidecar
    assert data.is_file()
    if sidecar == "weights.bin":  # only the graph names it: found by reading the graph
        assert identity.external_locations(graph_path) == ["weights.bin"]
    before = model_identity(graph_path)
    raw = bytearray(data.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    data.write_bytes(bytes(raw))
    assert model_identity(graph_path) != before


def test_known_files_are_not_read_again(tmp_path, count_hashes):
    graph = tmp_path / "m.onnx"
    graph.write_bytes(_blob(3))
    (tmp_path / "m.onnx_data").write_bytes(b"weights" * 1000)
    memo = IdentityMemo(tmp_path / "memo.json")
    first = memo.identity(graph)
    assert sorted(count_hashes) == ["m.onnx", "m.onnx_data"]
    assert memo.identity(graph) == first and len(count_hashes) == 2  # nothing read again
    # the documented trade-off: same size and a restored mtime are trusted without a read
    st = graph.stat()
    graph.write_bytes(_blob(4))
    os.utime(graph, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert memo.identity(graph) == first and len(count_hashes) == 2
    # any real copy or download moves the mtime: read again, new identity
    os.utime(graph, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert memo.identity(graph) != first and count_hashes[-1] == "m.onnx"


def test_the_memo_survives_a_new_process(tmp_path, count_hashes):
    graph = tmp_path / "m.onnx"
    graph.write_bytes(_blob(5))
    memo_file = tmp_path / "cache" / identity.MEMO_NAME
    first = IdentityMemo(memo_file).identity(graph)
    doc = json.loads(memo_file.read_text())
    assert doc["files"][str(graph.resolve())]["size"] == graph.stat().st_size
    count_hashes.clear()
    assert IdentityMemo(memo_file).identity(graph) == first  # a new instance, as a new process
    assert count_hashes == []


def test_a_corrupt_or_unwritable_memo_only_logs(tmp_path, caplog):
    graph = tmp_path / "m.onnx"
    graph.write_bytes(b"graph bytes")
    expected = IdentityMemo(None).identity(graph)
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    with caplog.at_level(logging.WARNING, logger="sam3_canvas.engine.identity"):
        assert IdentityMemo(bad).identity(graph) == expected
        assert "unreadable model identity memo" in caplog.text
        json.loads(bad.read_text())  # rewritten whole
        blocker = tmp_path / "a-file"
        blocker.write_text("x")
        assert IdentityMemo(blocker / "memo.json").identity(graph) == expected
        assert "could not write the model identity memo" in caplog.text


def test_models_use_the_content_identity(fake_pack, tmp_path):
    from sam3_canvas.engine import Segmenter
    from sam3_canvas.engine.sessions import file_identity
    from sam3_canvas.engine.text import TextSegmenter
    from sam3_canvas.testing import fake_text_models
    seg = Segmenter.from_dir(fake_pack, cache_dir=tmp_path / "cache")
    assert seg.model.identity == model_identity(seg.model.encoder_path)
    assert seg.model.identity == file_identity(seg.model.encoder_path)
    assert (tmp_path / "cache" / identity.MEMO_NAME).is_file()
    pack = fake_text_models.write_text_pack(tmp_path / "text", "A2")
    text = TextSegmenter(pack, cache=EmbeddingCache(1 << 20, tmp_path / "tcache"))
    assert text.image_identity == "text-" + model_identity(pack / fake_text_models.IMAGE_ENCODER)
    assert text.language_identity == model_identity(pack / fake_text_models.LANGUAGE_ENCODER)
    assert (tmp_path / "tcache" / identity.MEMO_NAME).is_file()


# -- the bounded disk cache --------------------------------------------------------------------

def test_many_entries_never_exceed_the_bound(tmp_path):
    bound = 5 * entry_bytes() + 100
    cache = DiskCache(tmp_path, bound)
    for i in range(40):
        assert cache.save(f"{i:08x}", "m", value(i))
        assert entries_size(tmp_path) <= bound
        assert folder_size(tmp_path) <= bound + 4096  # the lock file: a few bytes
    assert len(list(tmp_path.rglob("*.npz"))) == 5
    assert cache.load(f"{39:08x}", "m", DTYPES)["x"][0] == 39


def test_the_least_recently_read_entry_goes_first(tmp_path):
    cache = DiskCache(tmp_path, 3 * entry_bytes() + 100)
    for key in ("aa", "bb", "cc"):
        cache.save(key, "m", value(1))
    assert cache.load("aa", "m", DTYPES) is not None  # aa: now the most recent
    cache.save("dd", "m", value(2))
    assert [cache.path(k, "m").is_file() for k in ("aa", "bb", "cc", "dd")] == \
        [True, False, True, True]
    # another object (as another process) orders by the mtimes, which reads touch
    now = time.time()
    for age, key in ((30, "aa"), (20, "cc"), (10, "dd")):
        os.utime(cache.path(key, "m"), (now - age, now - age))
    other = DiskCache(tmp_path, cache.max_bytes)
    assert other.load("aa", "m", DTYPES) is not None
    assert cache.path("aa", "m").stat().st_mtime > now - 5  # the read touched it
    other.save("ee", "m", value(3))
    assert [other.path(k, "m").is_file() for k in ("aa", "cc", "dd", "ee")] == \
        [True, False, True, True]


def test_an_entry_larger_than_the_budget_is_not_written(tmp_path):
    cache = DiskCache(tmp_path, 3 * entry_bytes())
    assert cache.save("aa", "m", value(1))
    assert not cache.save("bb", "m", value(2, n=100_000))
    assert not cache.path("bb", "m").exists() and cache.path("aa", "m").is_file()
    assert not list(tmp_path.rglob(".tmp-*"))


def test_two_caches_on_one_folder_keep_the_bound(tmp_path):
    bound = 4 * entry_bytes() + 100
    a, b = DiskCache(tmp_path, bound), DiskCache(tmp_path, bound)
    for i in range(30):
        assert (a if i % 3 else b).save(f"{i:08x}", "m", value(i))
        assert entries_size(tmp_path) <= bound
    assert b.load(f"{29:08x}", "m", DTYPES) is not None


def _writer(root: str, bound: int, start: int, count: int) -> None:
    cache = DiskCache(root, bound)
    for i in range(start, start + count):
        cache.save(f"{i:08x}", "m", value(i))


def test_two_processes_writing_at_once_keep_the_bound(tmp_path):
    bound = 6 * entry_bytes() + 100
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), bound, s, 40)) for s in (0, 1000)]
    for p in procs:
        p.start()
    peak = 0
    while any(p.is_alive() for p in procs):
        try:
            peak = max(peak, entries_size(tmp_path))
        except FileNotFoundError:  # an entry evicted while we looked
            pass
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert peak <= bound and entries_size(tmp_path) <= bound
    assert len(list(tmp_path.rglob("*.npz"))) == 6


def test_leftover_temporary_files_are_cleaned(tmp_path):
    folder = tmp_path / "m" / "ab"
    folder.mkdir(parents=True)
    old, fresh = folder / ".tmp-99-dead.npz", folder / ".tmp-99-live.npz"
    for path in (old, fresh):
        path.write_bytes(b"x" * 1000)
    os.utime(old, (time.time() - 120, time.time() - 120))
    DiskCache(tmp_path, 1 * MIB).save("ab00", "m", value(1))
    assert not old.exists() and fresh.exists()  # a write in flight is left alone


def test_a_read_only_cache_folder_only_logs(tmp_path, caplog, monkeypatch):
    root = tmp_path / "cache"
    DiskCache(root, MIB).save("aa", "m", value(1))
    for path in sorted(root.rglob("*"), reverse=True) + [root]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # root ignores modes: refuse as for a user
        real_open, real_utime = os.open, os.utime

        def refuse(path):
            if Path(path).is_relative_to(root):
                raise PermissionError(errno.EACCES, "Permission denied", str(path))

        def guarded_open(path, flags, *args, **kwargs):
            if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
                refuse(path)
            return real_open(path, flags, *args, **kwargs)

        def guarded_utime(path, *args, **kwargs):
            refuse(path)
            return real_utime(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", guarded_open)
        monkeypatch.setattr(os, "utime", guarded_utime)
    try:
        cache = EmbeddingCache(1 << 20, root)
        with caplog.at_level(logging.WARNING, logger="sam3_canvas.engine.cache"):
            cache.put("bb", "m", value(2))
            assert cache.get("aa", "m", DTYPES)[1] == "disk"  # still served
        assert "could not write cache entry" in caplog.text
        assert not cache.disk.path("bb", "m").exists()
    finally:
        for path in [root, *root.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)


def test_a_cache_that_refuses_writes_only_logs(tmp_path, caplog, monkeypatch):
    """As a read-only folder behaves (also when the tests run as root)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    cache = EmbeddingCache(1 << 20, blocker / "cache")
    with caplog.at_level(logging.WARNING, logger="sam3_canvas.engine.cache"):
        cache.put("aa", "m", value(1))
        assert cache.get("aa", "m", DTYPES)[1] == "memory"
        assert "could not write cache entry" in caplog.text
    good = DiskCache(tmp_path / "ok", MIB)
    good.save("aa", "m", value(1))

    def refuse(*args, **kwargs):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(os, "utime", refuse)
    with caplog.at_level(logging.WARNING, logger="sam3_canvas.engine.cache"):
        assert good.load("aa", "m", DTYPES)["x"][0] == 1  # served, the use not recorded
        assert "could not mark cache entry" in caplog.text


def test_a_zero_or_disabled_bound_writes_nothing(tmp_path):
    assert EmbeddingCache(1 << 20, tmp_path / "c", disk_max_bytes=0).disk is None
    zero = DiskCache(tmp_path / "d", 0)
    assert not zero.save("aa", "m", value(1)) and not (tmp_path / "d").exists()
    assert EmbeddingCache(1 << 20, tmp_path / "e").disk.max_bytes == DEFAULT_DISK_CACHE_BYTES \
        == 2 << 30


# -- the CLI ----------------------------------------------------------------------------------

@pytest.fixture()
def photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(20):
        pixels = rng.integers(0, 256, (48 + i, 64, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"img{i:02d}.png")
    return folder


@pytest.fixture()
def watch_puts(monkeypatch):
    """The entries' total size in the cache folder after every disk write, and the results."""
    sizes, results = [], []
    real = DiskCache.save

    def save(self, *args):
        results.append(real(self, *args))
        sizes.append(entries_size(self.root))
        return results[-1]

    monkeypatch.setattr(DiskCache, "save", save)
    return sizes, results


def test_segment_keeps_the_disk_cache_under_its_bound(fake_pack, photos, tmp_path, watch_puts):
    from sam3_canvas.cli import main
    cache = tmp_path / "cache"
    args = ["segment", "--model-dir", str(fake_pack), "--image", str(photos), "--point", "5,5",
            "--output", str(tmp_path / "masks"), "--cache-dir", str(cache)]
    assert main(args + ["--disk-cache-mb", "25"]) == 0  # a fake entry is ~10.6 MB: two fit
    sizes, results = watch_puts
    assert len(sizes) == 20 and all(results) and max(sizes) <= 25 * MIB
    assert len(list(cache.rglob("*.npz"))) == 2
    assert main(args + ["--disk-cache-mb", "1"]) == 0  # smaller than one entry: none written
    assert entries_size(cache) <= MIB
    nothing = tmp_path / "nothing"
    assert main(args[:-1] + [str(nothing), "--no-disk-cache"]) == 0
    assert not nothing.exists()


def test_detect_honours_the_cache_options(photos, tmp_path, watch_puts):
    from sam3_canvas.cli import main
    from sam3_canvas.testing import fake_text_models
    for image in sorted(photos.iterdir())[4:]:
        image.unlink()
    pack = fake_text_models.write_text_pack(tmp_path / "pack", "A2")
    cache = tmp_path / "cache"
    args = ["detect", str(photos), "--classes", "person", "--model-dir", str(pack),
            "--out", str(tmp_path / "out"), "--overwrite"]
    # the fake's features are ~58 MB an image: two fit in 150 MB, with the word's entry
    assert main(args + ["--cache-dir", str(cache), "--disk-cache-mb", "150"]) == 0
    sizes, results = watch_puts
    assert len(sizes) == 5 and all(results) and max(sizes) <= 150 * MIB
    assert 2 <= len(list(cache.rglob("*.npz"))) <= 3  # two images (and the class name)
    nothing = tmp_path / "nothing"
    assert main(args + ["--cache-dir", str(nothing), "--no-disk-cache"]) == 0
    assert not nothing.exists()


def test_the_disk_bound_is_a_setting(qtbot):
    from sam3_canvas.app.settings import Settings
    from sam3_canvas.gui.settings_dialog import SettingsDialog
    assert Settings().disk_cache_mb == 2048
    assert Settings.from_mapping({"disk_cache_mb": "300"}).disk_cache_mb == 300
    dialog = SettingsDialog(Settings(disk_cache=False, disk_cache_mb=512))
    qtbot.addWidget(dialog)
    assert dialog.disk_mb.value() == 512 and not dialog.disk_mb.isEnabled()
    dialog.disk.setChecked(True)
    dialog.disk_mb.setValue(4096)
    assert dialog.disk_mb.isEnabled() and dialog.result_settings().disk_cache_mb == 4096
