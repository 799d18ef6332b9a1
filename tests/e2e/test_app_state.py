"""The Qt-free application layer: documents, autosave, commands, and the inference worker."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from sam3_canvas.app.editor import Editor
from sam3_canvas.app.project import Project
from sam3_canvas.app.worker import Callbacks, InferenceWorker
from sam3_canvas.document.annotation import Document, DocumentError, Instance
from sam3_canvas.document.labels import LabelSet
from sam3_canvas.engine import Prompt, Segmenter
from tests.conftest import fixture_path


@pytest.fixture()
def folder(tmp_path) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("ring.jpg", "banana1.jpg", "banana2.jpg", "teddy.jpg"):  # ring: 481 x 321
        shutil.copy(fixture_path(f"objects/images/{name}"), folder / name)
    return folder


def _ring_mask(h=50, w=80):
    yy, xx = np.mgrid[0:h, 0:w]
    r = np.hypot(xx - 40, yy - 25)
    return (r < 20) & (r > 8)  # a mask with a hole


def test_document_round_trip_keeps_holes_exactly():
    mask = _ring_mask()
    doc = Document("a.jpg", 80, 50, "abc")
    doc.insert(Instance.from_mask(1, "ring", mask, score=0.9, source={"kind": "test"}))
    again = Document.from_json(json.loads(doc.dumps()))
    inst = again.get(1)
    assert np.array_equal(inst.mask(), mask) and not inst.mask()[25, 40]
    assert inst.label == "ring" and inst.score == 0.9 and inst.area == int(mask.sum())
    data = json.loads(doc.dumps())
    assert data["format"] == "sam3-canvas/annotation" and isinstance(
        data["instances"][0]["mask"]["counts"], str)


def test_labels_from_a_real_classes_file():
    labels = LabelSet.from_classes_file(fixture_path("labelme/labels.txt"))
    assert "__ignore__" not in labels and "_background_" not in labels
    assert "person" in labels and labels.class_id(labels.names[0]) == 1
    assert len({c.colour for c in labels}) == len(labels)


def _editor_with_prediction(folder, fake_pack, name="ring.jpg"):
    project = Project(folder)
    editor = Editor(project)
    seg = Segmenter.from_dir(fake_pack)
    encoded = seg.encode(folder / name)
    editor.open_image(folder / name, encoded.size, encoded.image.key)
    return editor, seg, encoded


def _accepted(folder, fake_pack):
    """An editor on ring.jpg where a click's third candidate was accepted as "cat"."""
    editor, seg, encoded = _editor_with_prediction(folder, fake_pack)
    events: list[str] = []
    editor.subscribe(events.append)
    editor.cmd_add_point(240, 160).redo()
    assert editor.set_prediction(seg.predict(encoded, editor.prompt))
    editor.select_candidate(2)
    editor.set_label("cat")
    accept = editor.cmd_accept()
    accept.redo()
    return editor, accept, events


def test_accepting_saves_the_instance_and_its_label(folder, fake_pack):
    editor, _, events = _accepted(folder, fake_pack)
    assert [i.label for i in editor.doc.instances] == ["cat"]
    assert editor.prompt.is_empty and editor.prediction is None
    saved = Document.load(editor.project.annotation_path(folder / "ring.jpg"))
    assert len(saved.instances) == 1 and saved.instances[0].source["candidate"] == 2
    assert json.loads((folder / ".sam3-canvas" / "labels.json").read_text())["labels"][0][
        "name"] == "cat"
    assert "saved" in events and "document" in events


def test_undoing_an_accept_brings_the_prompt_back_and_the_file_follows(folder, fake_pack):
    editor, accept, _ = _accepted(folder, fake_pack)
    accept.undo()
    assert editor.doc.instances == [] and editor.prompt == Prompt.click(240, 160)
    assert Document.load(editor.project.annotation_path(folder / "ring.jpg")).instances == []
    accept.redo()
    assert len(editor.doc.instances) == 1
    assert len(Document.load(editor.project.annotation_path(folder / "ring.jpg")).instances) == 1


def test_stale_prediction_is_dropped(folder, fake_pack):
    editor, seg, encoded = _editor_with_prediction(folder, fake_pack)
    editor.cmd_add_point(100, 100).redo()
    old = seg.predict(encoded, editor.prompt)
    editor.cmd_add_point(150, 100, background=True).redo()
    assert not editor.set_prediction(old)
    assert editor.set_prediction(seg.predict(encoded, editor.prompt))


def test_delete_relabel_hide_are_undoable(folder, fake_pack):
    editor, seg, encoded = _editor_with_prediction(folder, fake_pack)
    for x in (100, 300):
        editor.cmd_add_point(x, 100).redo()
        editor.set_prediction(seg.predict(encoded, editor.prompt))
        editor.cmd_accept("thing").redo()
    first, second = editor.doc.instances
    relabel = editor.cmd_relabel(first.id, "other")
    relabel.redo()
    assert editor.doc.get(first.id).label == "other"
    relabel.undo()
    assert editor.doc.get(first.id).label == "thing"
    hide = editor.cmd_set_hidden(second.id, True)
    hide.redo()
    assert editor.doc.get(second.id).hidden
    delete = editor.cmd_delete(first.id)
    delete.redo()
    assert [i.id for i in editor.doc.instances] == [second.id]
    delete.undo()
    assert [i.id for i in editor.doc.instances] == [first.id, second.id]  # same place


def test_reopening_the_folder_restores_the_work(folder, fake_pack):
    editor, seg, encoded = _editor_with_prediction(folder, fake_pack)
    editor.cmd_add_point(240, 160).redo()
    editor.set_prediction(seg.predict(encoded, editor.prompt))
    editor.cmd_accept("cat").redo()
    again = Project(folder)
    doc = again.document(folder / "ring.jpg")
    assert [i.label for i in doc.instances] == ["cat"] and "cat" in again.labels
    assert again.has_annotations(folder / "ring.jpg")
    assert not again.has_annotations(folder / "banana1.jpg")


def test_an_empty_document_with_meta_is_not_annotated(folder):
    project = Project(folder)
    doc = Document("teddy.jpg", 10, 10, meta={"detect": {"classes": ["x"] * 30}})
    project.save(doc)
    assert not Project(folder).has_annotations(folder / "teddy.jpg")
    doc.insert(Instance.from_mask(1, "x", np.ones((10, 10), bool)))
    project.save(doc)
    assert Project(folder).has_annotations(folder / "teddy.jpg")


def test_corrupt_annotation_file_is_kept_aside_not_overwritten(folder):
    project = Project(folder)
    path = project.annotation_path(folder / "teddy.jpg")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"format": "sam3-canvas/annotation", "image": ')  # torn by hand
    with pytest.raises(DocumentError, match="teddy.jpg.json: cannot be read"):
        Project(folder).document(folder / "teddy.jpg")  # readers leave it as it is
    assert path.read_text().startswith('{"format"')
    project = Project(folder)
    doc = project.document(folder / "teddy.jpg", move_corrupt=True)  # the app, which tells
    assert doc.instances == [] and "kept as teddy.jpg.json.corrupt-" in project.warnings[0]
    kept = list(path.parent.glob("teddy.jpg.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text().startswith('{"format"')
    assert not path.exists()


def test_a_failed_save_keeps_the_document_in_memory(folder, fake_pack):
    editor, seg, encoded = _editor_with_prediction(folder, fake_pack)
    blocker = editor.project.dir
    blocker.write_text("a file where the annotations folder should be")  # saves now fail
    editor.cmd_add_point(240, 160).redo()
    editor.set_prediction(seg.predict(encoded, editor.prompt))
    editor.cmd_accept("cat").redo()
    assert editor.last_save_error and "kept in memory" in editor.last_save_error
    assert len(editor.doc.instances) == 1
    blocker.unlink()  # space again: the next change saves everything
    editor.cmd_set_hidden(editor.doc.instances[0].id, True).redo()
    assert editor.last_save_error is None
    saved = Document.load(editor.project.annotation_path(folder / "ring.jpg"))
    assert len(saved.instances) == 1 and saved.instances[0].hidden


KILLER = r"""
import sys, time
from pathlib import Path
from sam3_canvas.document.annotation import Document, Instance
from sam3_canvas.app.project import Project
import numpy as np
project = Project(Path(sys.argv[1]))
doc = project.document(Path(sys.argv[1]) / "teddy.jpg")
mask = np.zeros((doc.height, doc.width), bool)
i = 0
print("ready", flush=True)
while True:  # save as fast as possible until killed
    i += 1
    mask[:] = False
    mask[: (i % doc.height) + 1] = True
    doc.instances = [Instance.from_mask(1, f"v{i}", mask)]
    project.save(doc)
"""


def test_killed_process_leaves_a_readable_file(folder):
    proc = subprocess.Popen([sys.executable, "-c", KILLER, str(folder)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    proc.kill()
    proc.wait()
    path = folder / ".sam3-canvas" / "teddy.jpg.json"
    doc = Document.load(path)  # never torn: either the previous or the new version
    assert doc.instances[0].label.startswith("v")
    leftovers = [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    assert len(leftovers) <= 1  # at most the one write in flight, never read as a document


class Recorder(Callbacks):
    def __init__(self):
        self.events = []
        self.times = []  # time.monotonic() of each event
        self.done = threading.Event()

    def __getattribute__(self, name):
        if name in ("model_loaded", "model_failed", "image_loaded", "image_failed", "encoded",
                    "predicted", "predict_failed", "image_state"):
            def record(*args):
                self.times.append(time.monotonic())
                self.events.append((name, *args))
                self.done.set()
            return record
        return object.__getattribute__(self, name)

    def wait_for(self, name, timeout=20.0, count=1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sum(1 for e in self.events if e[0] == name) >= count:
                return [e for e in self.events if e[0] == name]
            time.sleep(0.01)
        raise AssertionError(f"no {name} within {timeout}s: {self.events}")


def _burst(worker, rec, image) -> tuple[list[int], float]:
    """Twenty clicks as fast as they come; (request ids, when the last was sent)."""
    ids = [worker.predict(image, Prompt.click(10 + i, 10)) for i in range(20)]
    last_click = time.monotonic()
    deadline = time.monotonic() + 20
    while not any(e[0] == "predicted" and e[1] == ids[-1] for e in rec.events):
        assert time.monotonic() < deadline, "the newest request was never answered"
        time.sleep(0.01)
    return ids, last_click


def test_a_burst_of_clicks_is_coalesced_and_the_newest_wins(folder, fake_pack):
    rec = Recorder()
    worker = InferenceWorker(rec, prefetch_depth=0)
    try:
        worker.load_model(lambda: Segmenter.from_dir(fake_pack))
        images = sorted(folder.glob("*.jpg"))
        worker.show(images[0])
        rec.wait_for("encoded")
        ids, _ = _burst(worker, rec, images[0])
        predicted = [e for e in rec.events if e[0] == "predicted"]
        assert predicted[-1][1] == ids[-1]
        assert predicted[-1][3].prompt == Prompt.click(29, 10)
        assert len(predicted) < 20
    finally:
        assert worker.stop()


def test_prefetch_waits_for_an_idle_user_and_stops_at_its_depth(folder, fake_pack):
    from sam3_canvas.app.worker import PREFETCH_IDLE_S
    rec = Recorder()
    worker = InferenceWorker(rec, prefetch_depth=2)
    try:
        worker.load_model(lambda: Segmenter.from_dir(fake_pack))
        images = sorted(folder.glob("*.jpg"))
        worker.show(images[0], prefetch=images[1:])
        rec.wait_for("encoded")
        _, last_click = _burst(worker, rec, images[0])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            states = [(e[1].name, e[2]) for e in rec.events if e[0] == "image_state"]
            if (images[2].name, "ready") in states:
                break
            time.sleep(0.02)
        assert (images[1].name, "ready") in states and (images[2].name, "ready") in states
        assert (images[3].name, "ready") not in states  # beyond the prefetch depth
        first_prefetch = next(i for i, e in enumerate(rec.events)
                              if e[0] == "image_state" and e[1] == images[1])
        assert all(e[0] != "predicted" for e in rec.events[first_prefetch:])
        assert rec.times[first_prefetch] - last_click >= PREFETCH_IDLE_S
    finally:
        assert worker.stop()


def test_switching_images_during_a_slow_encode_delivers_only_the_current(folder, tmp_path):
    from sam3_canvas.testing.fake_models import write_tracker_pack
    slow = write_tracker_pack(tmp_path / "slow", encoder_work=25)
    rec = Recorder()
    worker = InferenceWorker(rec, prefetch_depth=0)
    try:
        worker.load_model(lambda: Segmenter.from_dir(slow))
        images = sorted(folder.glob("*.jpg"))
        worker.show(images[0])
        rec.wait_for("image_state")  # the first encode has started
        last = worker.show(images[1])
        encoded = rec.wait_for("encoded")
        time.sleep(0.5)
        encoded = [e for e in rec.events if e[0] == "encoded"]
        assert [e[2].name for e in encoded] == [images[1].name] and encoded[0][1] == last
    finally:
        assert worker.stop()


def test_switching_images_cancels_the_encode_of_the_image_left(folder, tmp_path):
    from sam3_canvas.testing.fake_models import write_tracker_pack
    slow = write_tracker_pack(tmp_path / "slower", encoder_work=400)  # about 5 s an image
    rec = Recorder()
    worker = InferenceWorker(rec, prefetch_depth=0)
    try:
        worker.load_model(lambda: Segmenter.from_dir(slow))
        images = sorted(folder.glob("*.jpg"))
        worker.show(images[0])
        rec.wait_for("image_state")  # its encode has started
        time.sleep(0.2)
        switched = time.monotonic()
        worker.show(images[1])
        deadline = switched + 3.0
        while (images[0], "new") not in [(e[1], e[2]) for e in rec.events
                                          if e[0] == "image_state"]:
            assert time.monotonic() < deadline, "the encode of the image left went on"
            time.sleep(0.02)
        assert not [e for e in rec.events if e[0] == "encoded" and e[2] == images[0]]
    finally:
        assert worker.stop()


def test_stop_during_an_encode_is_quick(folder, tmp_path):
    from sam3_canvas.testing.fake_models import write_tracker_pack
    slow = write_tracker_pack(tmp_path / "slower", encoder_work=400)  # about 5 s an image
    rec = Recorder()
    worker = InferenceWorker(rec)
    worker.load_model(lambda: Segmenter.from_dir(slow))
    worker.show(sorted(folder.glob("*.jpg"))[0])
    rec.wait_for("image_state")
    time.sleep(0.2)
    start = time.monotonic()
    assert worker.stop(timeout=5.0)
    assert time.monotonic() - start < 2.0  # the run was cancelled, not waited for
    assert not [e for e in rec.events if e[0] == "encoded"]


def test_worker_reports_a_model_that_fails_to_load(tmp_path):
    rec = Recorder()
    worker = InferenceWorker(rec)
    try:
        worker.load_model(lambda: Segmenter.from_dir(tmp_path))
        (event,) = rec.wait_for("model_failed")
        assert "no vision_encoder" in event[1]
    finally:
        worker.stop()
