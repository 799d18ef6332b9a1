"""Batch jobs on a local Ray (``ray.init(num_cpus=2)``) over the fake packs: the same files as
in one process, a worker killed mid-run, a bad image in the middle, a ``file://`` source."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from sam3_canvas.batch.jobs import DetectJob, ModelSpec
from sam3_canvas.batch.plan import plan
from sam3_canvas.batch.ray_runner import Cluster, ClusterError, Layout, run_on_ray, sizing
from sam3_canvas.document.annotation import Document
from sam3_canvas.testing.fake_text_models import write_text_pack
from tests.conftest import fixture_path
from tests.faults.conftest import bad_image, write_photo

ray = pytest.importorskip("ray")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    import ray.data  # noqa: F401  (its log handler binds to stderr now, not to one test's capture)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def text_pack(tmp_path_factory):
    return write_text_pack(tmp_path_factory.mktemp("text") / "pack", "A2")


def _photos(folder: Path, count: int, size=(320, 240)) -> Path:
    for n in range(count):
        write_photo(folder / f"p{n:02d}.jpg", *size, seed=n)
    return folder


def _files(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((folder / ".sam3-canvas").glob("*.json"))}


def test_detect_on_ray_writes_the_same_files_as_in_one_process(local_ray, cli, text_pack,
                                                               tmp_path):
    here, there = _photos(tmp_path / "here", 6), _photos(tmp_path / "there", 6)
    args = ("--classes", "thing", "--model-dir", text_pack, "--no-disk-cache")
    assert cli("detect", here, *args).code == 0
    run = cli("detect", there, *args, "--ray")
    assert run.code == 0, run.err
    assert "in 6 images (0 already done, 0 failed)" in run.out and "images/s" in run.out
    assert _files(there) == _files(here)
    again = cli("detect", there, *args, "--ray")
    assert "in 0 images (6 already done, 0 failed)" in again.out


def test_boxes_on_ray_from_a_file_url_equal_the_single_process_run(local_ray, cli, fake_pack,
                                                                   tmp_path):
    folders = []
    for name in ("here", "there"):
        folder = tmp_path / name
        folder.mkdir()
        for image in ("street.jpg", "park.jpg"):
            shutil.copy(fixture_path(f"coco/{image}"), folder / image)
        folders.append(folder)
    args = ("--boxes-from", fixture_path("coco/instances.json"), "--model-dir", fake_pack,
            "--no-disk-cache")
    assert cli("segment", "--image", folders[0], *args).code == 0
    # the workers encode both photos in one run: the same files as one at a time
    run = cli("segment", "--image", f"file://{folders[1]}", *args, "--ray", "--encoder-batch",
              "2")
    assert run.code == 0, run.err
    assert "28 instances in 2 images" in run.out
    assert _files(folders[1]) == _files(folders[0])


def test_a_bad_image_in_the_middle_fails_alone(local_ray, cli, text_pack, tmp_path):
    photos = _photos(tmp_path / "photos", 4)
    bad_image("corrupt", photos)
    run = cli("detect", photos, "--classes", "thing", "--model-dir", text_pack,
              "--no-disk-cache", "--ray")
    assert run.code == 2
    assert "in 4 images (0 already done, 1 failed)" in run.out
    summary = run.err[run.err.index("failed:"):]
    line = next(line.strip() for line in summary.splitlines() if "corrupt.jpg" in line)
    assert line == f"{photos / 'corrupt.jpg'}: not an image file Pillow can read"
    assert len(_files(photos)) == 4 + 1  # four photos and labels.json


def test_a_worker_killed_mid_run_is_replaced_and_nothing_is_lost(local_ray, text_pack,
                                                                 tmp_path):
    # enough images that the worker is still busy when the first results (8 at a time) come
    here, there = _photos(tmp_path / "here", 96), _photos(tmp_path / "there", 96)
    job = DetectJob(("thing",))
    model = ModelSpec(model_dir=str(text_pack))
    engine = model.open("text")
    from sam3_canvas.batch.local import run_here
    run_here(engine, job, plan([str(here)]).tasks, lambda result: None)

    results, killed = [], []

    def on_result(result):
        results.append(result)
        if not killed:
            os.kill(result.worker, signal.SIGKILL)
            killed.append(result.worker)

    run_on_ray(model, job, plan([str(there)]).tasks, engine.input_size, on_result,
               Cluster(workers=1))
    assert sorted(r.task.name for r in results) == sorted(p.name for p in here.glob("*.jpg"))
    assert {r.status for r in results} == {"done"}
    after = [r.worker for r in results[1:]]
    assert any(pid != killed[0] for pid in after), "the kill came after the last image"
    assert _files(there) == _files(here)
    for path in (there / ".sam3-canvas").glob("*.jpg.json"):
        Document.load(path)
    assert not list((there / ".sam3-canvas").glob(".*.tmp"))


def test_the_pool_is_sized_from_the_cluster(local_ray):
    """Two CPUs: one worker of one core, with room left for reading and writing. Workers that
    would leave no CPU for reading (so no progress until the end), or GPUs asked of a cluster
    without any (a job that waits forever), are one line."""
    assert sizing(Cluster(), "cpu") == Layout(1, 0.0, 1.0, 2, "cpu")
    assert sizing(Cluster(workers=2, cpus_per_worker=0.7), "cpu") == Layout(2, 0.0, 0.7, 1,
                                                                            "cpu")
    with pytest.raises(ClusterError, match="leave no CPU for reading"):
        sizing(Cluster(workers=2, cpus_per_worker=0.8), "cpu")
    with pytest.raises(ClusterError, match="has 0 GPU"):
        sizing(Cluster(gpus_per_worker=1), "cpu")
