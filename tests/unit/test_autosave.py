"""The autosave thread: the newest state of each document reaches the disk, a failure is
reported, and nothing is pending after flush or stop."""

from __future__ import annotations

import threading

import numpy as np

from sam3_canvas.app.autosave import Autosaver
from sam3_canvas.app.project import Project
from sam3_canvas.document.annotation import Document, Instance
from tests.faults.conftest import read_only, write_photo


def _project(tmp_path) -> Project:
    write_photo(tmp_path / "photos" / "a.jpg", 40, 30)
    project = Project(tmp_path / "photos")
    project.dir.mkdir()
    return project


def test_the_newest_state_is_written_and_reported(tmp_path):
    project = _project(tmp_path)
    reports = []
    saver = Autosaver(project, lambda name, error: reports.append((name, error)))
    doc = Document("a.jpg", 40, 30)
    mask = np.zeros((30, 40), bool)
    mask[2:5, 2:5] = True
    for n in range(1, 21):  # twenty quick changes
        doc.insert(Instance.from_mask(doc.next_id(), f"l{n}", mask))
        saver.save(doc)
    assert saver.flush(10)
    assert len(Document.load(project.annotation_path(project.images[0])).instances) == 20
    assert reports and all(r == ("a.jpg", None) for r in reports)
    assert len(reports) <= 20  # changes waiting for the writer were one write
    assert saver.stop(10)


def test_a_failed_write_is_reported_with_its_reason(tmp_path):
    project = _project(tmp_path)
    reports = []
    done = threading.Event()

    def report(name, error):
        reports.append((name, error))
        done.set()

    saver = Autosaver(project, report)
    with read_only(project.dir):
        saver.save(Document("a.jpg", 40, 30))
        assert done.wait(10)
    (name, error), = reports
    assert name == "a.jpg" and "read-only" in error
    saver.stop(10)


def test_stop_writes_what_is_pending(tmp_path):
    project = _project(tmp_path)
    saver = Autosaver(project, lambda name, error: None)
    saver.save(Document("a.jpg", 40, 30))
    assert saver.stop(10)
    assert project.annotation_path(project.images[0]).is_file()
