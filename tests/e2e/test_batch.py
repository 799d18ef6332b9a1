"""Batch jobs in one process: a box dataset to masks (COCO and YOLO), resuming, fsspec sources,
a killed run started again, and Ray never imported without ``--ray``."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import fsspec
import numpy as np
import pytest

from sam3_canvas.document import rle as rle_codec
from sam3_canvas.document.annotation import Document, Instance
from sam3_canvas.testing.fake_text_models import write_text_pack
from tests.conftest import fixture_path
from tests.faults.conftest import write_photo

COCO = "coco/instances.json"


@pytest.fixture(scope="module")
def text_pack(tmp_path_factory):
    return write_text_pack(tmp_path_factory.mktemp("text") / "pack", "A2")


@pytest.fixture()
def street(tmp_path) -> Path:
    """The COCO fixture's two photos in a folder of their own."""
    folder = tmp_path / "street"
    folder.mkdir()
    for name in ("street.jpg", "park.jpg"):
        shutil.copy(fixture_path(f"coco/{name}"), folder / name)
    return folder


def _boxes(cli, fake_pack, folder, source=None, *extra):
    return cli("segment", "--boxes-from", source or fixture_path(COCO), "--image", folder,
               "--model-dir", fake_pack, "--no-disk-cache", *extra)


def _docs(folder: Path) -> dict[str, Document]:
    return {p.name[:-5]: Document.load(p) for p in sorted((folder / ".sam3-canvas").glob(
        "*.jpg.json"))}


def test_every_coco_box_becomes_an_instance_with_its_class_and_id(cli, fake_pack, street):
    run = _boxes(cli, fake_pack, street)
    assert run.code == 0, run.err
    assert "28 instances in 2 images" in run.out
    data = json.loads(fixture_path(COCO).read_text())
    names = {c["id"]: c["name"] for c in data["categories"]}
    files = {i["id"]: i["file_name"] for i in data["images"]}
    docs = _docs(street)
    for ann in data["annotations"]:
        doc = docs[files[ann["image_id"]]]
        inst = next(i for i in doc.instances if i.source.get("id") == ann["id"])
        assert inst.label == names[ann["category_id"]]
        assert inst.source["kind"] == "boxes" and inst.source["category_id"] == \
            ann["category_id"] and inst.source["image_id"] == ann["image_id"]
        # the fake decoder's best mask fills the box it was given: the box reached the model
        # in the right place, at the image's own size
        assert np.allclose(inst.bbox, ann["bbox"], atol=1), (ann["id"], inst.bbox)
    labels = json.loads((street / ".sam3-canvas" / "labels.json").read_text())["labels"]
    used = {names[a["category_id"]] for a in data["annotations"]}
    assert [x["name"] for x in labels] == [names[k] for k in sorted(names) if names[k] in used]


def test_the_coco_export_at_the_end_keeps_the_datasets_ids(cli, fake_pack, street, tmp_path):
    out = tmp_path / "export"
    run = _boxes(cli, fake_pack, street, None, "--format", "coco", "--export-to", out)
    assert run.code == 0, run.err
    original = json.loads(fixture_path(COCO).read_text())
    exported = json.loads((out / "annotations.json").read_text())
    assert sorted((a["id"], a["image_id"], a["category_id"]) for a in exported["annotations"]) \
        == sorted((a["id"], a["image_id"], a["category_id"]) for a in original["annotations"])


def test_a_rerun_skips_what_is_done_and_overwrite_keeps_hand_made_instances(cli, fake_pack,
                                                                             street):
    assert _boxes(cli, fake_pack, street).code == 0
    path = street / ".sam3-canvas" / "park.jpg.json"
    doc = Document.load(path)
    mask = np.zeros((doc.height, doc.width), bool)
    mask[5:25, 5:30] = True
    doc.insert(Instance.from_mask(doc.next_id(), "kite", mask, source={"kind": "manual"}))
    path.write_text(doc.dumps())
    before = path.read_bytes()
    again = _boxes(cli, fake_pack, street)
    assert "0 images (2 already done" in again.out
    assert path.read_bytes() == before
    redo = _boxes(cli, fake_pack, street, None, "--overwrite")
    assert "28 instances in 2 images" in redo.out
    kinds = [i.source["kind"] for i in Document.load(path).instances]
    assert kinds.count("manual") == 1 and kinds.count("boxes") == 12


def test_yolo_boxes_and_polygons_in_fractions_of_the_image(cli, fake_pack, street, tmp_path):
    labels = tmp_path / "yolo"
    (labels / "labels").mkdir(parents=True)
    (labels / "data.yaml").write_text("names:\n  0: person\n  1: dog\n")
    (labels / "labels" / "street.txt").write_text(
        "0 0.5 0.5 0.25 0.5\n"          # a box: cx cy w h
        "1 0.1 0.1 0.3 0.1 0.3 0.4\n"   # a polygon: its box is used
        "7 0.5 0.5 0.1 0.1\n"           # no class 7
        "1 0.5 0.5 0 0.2\n")            # an empty box
    run = _boxes(cli, fake_pack, street, labels)
    assert run.code == 0, run.err
    assert "line 3: class 7 is not in the class list" in run.err
    assert "line 4: the box is empty" in run.err
    docs = _docs(street)
    assert set(docs) == {"street.jpg"}  # park.jpg has no label file: not the dataset's
    person, dog = docs["street.jpg"].instances
    assert (person.label, dog.label) == ("person", "dog")
    assert np.allclose(person.bbox, [240, 106.75, 160, 213.5], atol=1)
    assert np.allclose(dog.bbox, [64, 42.7, 128, 128.1], atol=1)
    assert dog.source == {"kind": "boxes", "format": "yolo", "file": "street.txt", "line": 2,
                          "box": [0.1, 0.1, 0.3, 0.4], "candidate": dog.source["candidate"]}


def test_boxes_from_a_file_that_is_not_coco_is_one_line(cli, fake_pack, street, tmp_path):
    bad = tmp_path / "boxes.json"
    bad.write_text('{"images": 3}')
    run = _boxes(cli, fake_pack, street, bad)
    assert run.code == 2 and "not a readable COCO file" in run.err
    assert not (street / ".sam3-canvas").exists()


def test_detect_reads_and_writes_through_fsspec(cli, text_pack, tmp_path):
    """An in-memory filesystem stands in for s3:// or gs://: the same files as a folder."""
    local = tmp_path / "photos"
    for n in range(3):
        write_photo(local / f"p{n}.jpg", 200, 150, seed=n)
    memory = fsspec.filesystem("memory")
    for path in local.iterdir():
        memory.pipe_file(f"/shots/{path.name}", path.read_bytes())
    try:
        args = ("--classes", "thing", "--model-dir", text_pack, "--no-disk-cache")
        assert cli("detect", local, *args).code == 0
        run = cli("detect", "memory://shots", *args)
        assert run.code == 0, run.err
        for n in range(3):
            here = (local / ".sam3-canvas" / f"p{n}.jpg.json").read_text()
            assert memory.cat_file(f"/shots/.sam3-canvas/p{n}.jpg.json").decode() == here
        assert "already done" in cli("detect", "memory://shots", *args).out
        assert not [p for p in memory.find("/shots") if p.endswith(".tmp")]
    finally:
        memory.rm("/shots", recursive=True)


def test_a_killed_run_started_again_finishes_with_the_same_files(text_pack, tmp_path):
    photos, reference = tmp_path / "photos", tmp_path / "reference"
    for n in range(40):
        for folder in (photos, reference):
            write_photo(folder / f"p{n:02d}.jpg", 320, 240, seed=n)
    command = [sys.executable, "-m", "sam3_canvas", "detect", "--classes", "thing",
               "--model-dir", str(text_pack), "--no-disk-cache"]
    subprocess.run(command + [str(reference)], check=True, capture_output=True, timeout=300)
    running = subprocess.Popen(command + [str(photos)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    done = photos / ".sam3-canvas"
    deadline = time.monotonic() + 120
    while len(list(done.glob("*.jpg.json"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    running.send_signal(signal.SIGKILL)
    running.wait()
    written = sorted(done.glob("*.jpg.json"))
    assert 3 <= len(written) < 40, "the run was not killed mid-way"
    for path in written:  # every file there is whole
        Document.load(path)
    again = subprocess.run(command + [str(photos)], capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert f"({len(written)} already done, 0 failed)" in again.stdout
    for path in sorted((reference / ".sam3-canvas").glob("*.jpg.json")):
        assert (done / path.name).read_text() == path.read_text()
    assert not list(done.glob(".*.tmp"))


def test_the_single_process_commands_never_import_ray(fake_pack, text_pack, street):
    code = (
        "import sys\n"
        "from sam3_canvas.cli import main\n"
        f"assert main(['detect', {str(street)!r}, '--classes', 'thing', '--model-dir', "
        f"{str(text_pack)!r}, '--no-disk-cache']) == 0\n"
        f"assert main(['segment', '--boxes-from', {str(fixture_path(COCO))!r}, '--image', "
        f"{str(street)!r}, '--model-dir', {str(fake_pack)!r}, '--no-disk-cache']) == 0\n"
        "import sam3_canvas.gui.main_window\n"
        "assert 'ray' not in sys.modules, 'ray was imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, env={"QT_QPA_PLATFORM": "offscreen",
                                            **__import__("os").environ})
    assert done.returncode == 0, done.stderr


def test_a_box_mask_is_exact_at_the_images_size(cli, fake_pack, street):
    """The masks are stored at the photo's size, not the model's (1008 or the fake's)."""
    assert _boxes(cli, fake_pack, street).code == 0
    doc = _docs(street)["park.jpg"]
    for inst in doc.instances:
        assert rle_codec.decode(inst.rle).shape == (360, 640)


@pytest.mark.parametrize("encoder_batch", [1, 2])
def test_a_ray_workers_call_in_this_process_writes_what_one_process_writes(fake_pack, street,
                                                                           encoder_batch):
    """The worker's own code (Ray is not needed to call it): the read tasks' packed rows in,
    the model on them, with the encoder inputs of the later images made on its thread; the
    annotation files equal those of the single-process runner."""
    import pickle

    from sam3_canvas.batch import steps
    from sam3_canvas.batch.boxes import BoxPrompt
    from sam3_canvas.batch.jobs import BoxesJob, ModelSpec
    from sam3_canvas.batch.local import run_here
    from sam3_canvas.batch.ray_runner import Worker, _pack, _read_batch
    from sam3_canvas.batch.steps import Task
    from sam3_canvas.batch.storage import Folder
    box = (BoxPrompt((0.2, 0.2, 0.7, 0.8), "thing", {"kind": "boxes"}, relative=True),)
    job = BoxesJob("test", overwrite=True)
    for name in ("street", "park"):
        shutil.copy(street / f"{name}.jpg", street / f"{name}2.jpg")
    names = ["street.jpg", "park.jpg", "street2.jpg", "park2.jpg"]
    outputs = {}
    for how in ("here", "worker"):
        out = street.parent / f"out-{how}"
        tasks = [Task(Folder(str(street)), Folder(str(out)), name, box) for name in names]
        spec = ModelSpec(model_dir=str(fake_pack))
        if how == "here":
            run_here(spec.open("tracker"), job, tasks, lambda r: None, batch=encoder_batch)
        else:
            worker = Worker(spec, job, batch=encoder_batch)
            size = worker.engine.input_size
            rows = _read_batch({"task": [_pack(t) for t in tasks]}, job, size, None)
            for packed in worker(rows)["result"]:
                assert steps.write(pickle.loads(packed)).status == "done"
            assert worker._prepare is not None
        outputs[how] = {p.name: p.read_bytes() for p in out.glob("*.json")}
    assert sorted(outputs["worker"]) == sorted(f"{name}.json" for name in names)
    assert outputs["worker"] == outputs["here"]


def test_encoder_batch_is_refused_where_it_means_nothing_or_too_much(cli, fake_pack, street):
    """One line each, before a model opens: with clicks (one image per run there), and a size
    that would hold too many images in memory at once; nothing is written."""
    clicks = cli("segment", "-i", street / "street.jpg", "--point", "10,10", "--model-dir",
                 fake_pack, "--encoder-batch", "4", "-o", street / "mask.png")
    assert clicks.code == 2
    assert clicks.err.strip().splitlines()[-1] == (
        "sam3-canvas: error: --ray, --format and --encoder-batch are for --boxes-from (a "
        "dataset's boxes); clicks and a box run here, one image at a time")
    huge = _boxes(cli, fake_pack, street, None, "--encoder-batch", "1000")
    assert huge.code == 2 and "--encoder-batch: expected at most 64, got 1000" in huge.err
    assert not (street / "mask.png").exists() and not (street / ".sam3-canvas").exists()
