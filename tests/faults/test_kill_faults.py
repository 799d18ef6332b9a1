"""kill -9 in the middle of a batch: every file left is whole, and the next run resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
from pycocotools import mask as mask_utils

from sam3_canvas.testing.fake_text_models import write_text_pack
from tests.faults.conftest import all_json_valid, run_cli_process, write_photo

GROUP = "Killed processes"


def _start(*args) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sam3_canvas", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_when(process: subprocess.Popen, ready, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run never got going"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_kill_during_a_batch_detect_then_resume(tmp_path, fault):
    record = fault("kill -9 during a batch `detect`", GROUP)
    pack = write_text_pack(tmp_path / "pack", "A2")
    photos = tmp_path / "photos"
    for n in range(24):
        write_photo(photos / f"img{n:02d}.jpg", 320, 240, seed=n)
    annotations = photos / ".sam3-canvas"
    args = ("detect", photos, "--classes", "thing", "--model-dir", pack, "--no-disk-cache")
    process = _start(*args)
    _kill_when(process, lambda: len(list(annotations.glob("img*.json"))) >= 3)
    done_before = len(list(annotations.glob("img*.json")))
    assert done_before < 24  # it really was killed in the middle
    assert all_json_valid(photos) == []
    second = run_cli_process(*args, timeout=300)
    assert second.returncode == 0, second.stderr
    assert f"({done_before} already done" in second.stdout or \
        f"({done_before - 1} already done" in second.stdout  # the one in flight may be whole
    assert len(list(annotations.glob("img*.json"))) == 24
    assert all_json_valid(photos) == []
    assert not list(annotations.glob(".*.tmp"))  # a killed save's leftover is cleaned
    record.seen(f"the rerun: {second.stdout.strip()}")
    record.keeps(f"every annotation file whole ({done_before} written before the kill); the "
                 "rerun skips them and does the rest")


def _coco_dataset(tmp_path, photos, count):
    images, annotations = [], []
    for n in range(count):
        name = f"img{n:03d}.jpg"
        write_photo(photos / name, 400, 300, seed=n)
        images.append({"id": n + 1, "file_name": name, "width": 400, "height": 300})
        for k in range(12):
            mask = np.zeros((300, 400), np.uint8, order="F")
            mask[10 + k * 20: 25 + k * 20, 10 + k * 25: 60 + k * 25] = 1
            rle = mask_utils.encode(mask)
            rle["counts"] = rle["counts"].decode()
            annotations.append({"id": len(annotations) + 1, "image_id": n + 1,
                                "category_id": 1, "segmentation": rle, "iscrowd": 0,
                                "area": int(mask.sum()), "bbox": [0, 0, 1, 1]})
    path = tmp_path / "instances.json"
    path.write_text(json.dumps({"images": images, "annotations": annotations,
                                "categories": [{"id": 1, "name": "thing"}]}))
    return path


def test_kill_during_an_import_then_resume(tmp_path, fault):
    record = fault("kill -9 during an `import`", GROUP)
    photos = tmp_path / "photos"
    dataset = _coco_dataset(tmp_path, photos, 150)
    annotations = photos / ".sam3-canvas"
    args = ("import", "--format", "coco", dataset, photos)
    process = _start(*args)
    _kill_when(process, lambda: len(list(annotations.glob("img*.json"))) >= 5)
    done_before = len(list(annotations.glob("img*.json")))
    assert done_before < 150
    assert all_json_valid(photos) == []
    second = run_cli_process(*args, timeout=300)
    assert second.returncode == 0, second.stderr
    counts = [len(json.loads(p.read_text())["instances"]) for p in annotations.glob("img*.json")]
    assert len(counts) == 150 and set(counts) == {12}  # nothing lost, nothing doubled
    third = run_cli_process(*args, timeout=300)
    assert "imported 0 instances" in third.stdout and "1800 already imported" in third.stdout
    record.seen(f"the rerun: {second.stdout.strip()}")
    record.keeps(f"every annotation file whole ({done_before} images written before the kill);"
                 " the rerun adds only what is missing (no duplicates)")


def test_a_killed_save_leaves_a_temporary_file_the_next_start_removes(tmp_path):
    """What a kill between write and rename leaves: the next open removes it."""
    from sam3_canvas.app.project import Project
    photos = tmp_path / "photos"
    write_photo(photos / "a.jpg")
    annotations = photos / ".sam3-canvas"
    annotations.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    leftover = annotations / f".a.jpg.json.{dead}.0badc0de.tmp"
    leftover.write_text('{"format": "sam3-canvas/annotation", "ins')
    old = time.time() - 10
    os.utime(leftover, (old, old))
    live = annotations / f".a.jpg.json.{os.getpid()}.0badc0de.tmp"  # a save in flight
    live.write_text("{")
    Project(photos)
    assert not leftover.exists()
    assert live.exists()
