"""Renaming, merging, deleting and recolouring a label across a folder's annotation files."""

from __future__ import annotations

import numpy as np
import pytest

from sam3_canvas.app.label_ops import count_label, delete_label, recolour_label, rename_label
from sam3_canvas.app.project import Project
from sam3_canvas.document.annotation import Document, Instance
from tests.faults.conftest import read_only, write_photo


@pytest.fixture()
def project(tmp_path) -> Project:
    folder = tmp_path / "photos"
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        write_photo(folder / name, 40, 30)
    project = Project(folder)
    for label in ("cat", "dog"):
        project.labels.add(label)
    project.save_labels()
    mask = np.zeros((30, 40), bool)
    mask[5:10, 5:10] = True
    for name, labels in (("a.jpg", ["cat", "dog"]), ("b.jpg", ["cat", "cat"])):
        doc = Document(name, 40, 30)
        for label in labels:
            doc.insert(Instance.from_mask(doc.next_id(), label, mask))
        project.save(doc)
    return Project(folder)  # as opened again: nothing in memory


def _labels_on_disk(project: Project) -> dict[str, list[str]]:
    out = {}
    for image in project.images:
        path = project.annotation_path(image)
        if path.is_file():
            out[image.name] = [i.label for i in Document.load(path).instances]
    return out


def test_rename_changes_every_file_and_keeps_the_colour(project):
    colour = project.labels.get("cat").colour
    assert count_label(project, "cat") == 3
    change = rename_label(project, "cat", "kitten")
    assert (change.instances, change.files, change.problems) == (3, 2, [])
    assert _labels_on_disk(project) == {"a.jpg": ["kitten", "dog"],
                                        "b.jpg": ["kitten", "kitten"]}
    again = Project(project.folder)
    assert again.labels.names == ["kitten", "dog"] and again.labels.get("kitten").colour == colour


def test_renaming_into_an_existing_label_merges(project):
    rename_label(project, "dog", "cat")
    assert Project(project.folder).labels.names == ["cat"]
    assert _labels_on_disk(project)["a.jpg"] == ["cat", "cat"]


def test_delete_removes_the_instances_or_relabels_them(project):
    change = delete_label(project, "cat")
    assert change.instances == 3 and _labels_on_disk(project) == {"a.jpg": ["dog"], "b.jpg": []}
    assert Project(project.folder).labels.names == ["dog"]


def test_delete_with_relabel_keeps_the_instances(project):
    delete_label(project, "cat", relabel_as="dog")
    assert _labels_on_disk(project) == {"a.jpg": ["dog", "dog"], "b.jpg": ["dog", "dog"]}


def test_recolour_is_saved(project):
    recolour_label(project, "dog", (1, 2, 3))
    assert Project(project.folder).labels.get("dog").colour == (1, 2, 3)


def test_an_unreadable_file_is_reported_and_left_as_it_is(project):
    bad = project.annotation_path(project.folder / "c.jpg")
    bad.write_text("{not json")
    change = rename_label(project, "cat", "kitten")
    assert any("c.jpg" in p for p in change.problems) and bad.read_text() == "{not json"
    assert change.instances == 3


def test_a_read_only_folder_changes_no_file(project):
    with read_only(project.dir):
        change = rename_label(project, "cat", "kitten")
    assert change.files == 0 and change.problems
    assert _labels_on_disk(project)["b.jpg"] == ["cat", "cat"]
