"""Exports never delete or overwrite what they did not write, and fail with one line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sam3_canvas.annotations.export_target import MANIFEST, STAGING_PREFIX
from sam3_canvas.app.project import Project
from sam3_canvas.document.annotation import Instance
from tests.faults.conftest import digest_tree, fill, read_only, small_disk, write_photo

GROUP = "Exports"


@pytest.fixture()
def photos(tmp_path):
    """A user's photo folder: two annotated photos, an unannotated one and a notes file."""
    folder = tmp_path / "photos"
    for n, name in enumerate(("a.jpg", "b.jpg", "c.jpg")):
        write_photo(folder / name, seed=n)
    (folder / "notes.txt").write_text("shot on the 3rd, lens cap on for c.jpg\n")
    project = Project(folder)
    for name in ("a.jpg", "b.jpg"):
        doc = project.document(folder / name)
        mask = np.zeros((doc.height, doc.width), bool)
        mask[20:80, 30:110] = True
        mask[40:50, 60:70] = False  # a hole
        doc.insert(Instance.from_mask(doc.next_id(), "thing", mask))
        project.save(doc)
    return folder


def test_export_into_the_photo_folder_is_refused_and_deletes_nothing(photos, cli, fault):
    record = fault("export into the photo folder (CLI)", GROUP)
    before = digest_tree(photos)
    result = cli("export", "--format", "coco", "--out", photos, photos)
    assert result.code == 2
    assert "did not write" in result.last_error and "nothing was written" in result.last_error
    assert digest_tree(photos) == before  # every photo, the notes and .sam3-canvas
    assert not any(p.name.startswith(STAGING_PREFIX) for p in photos.iterdir())
    record.seen(result.last_error)
    record.keeps("every file, byte for byte; nothing written")


def test_export_beside_the_photos_adds_files_and_changes_none(photos, cli, fault):
    record = fault("export into the photo folder with --beside", GROUP)
    before = digest_tree(photos)
    result = cli("export", "--format", "yolo", "--copy-images", "--beside", "--out", photos,
                 photos)
    assert result.code == 0, result.err
    after = digest_tree(photos)
    assert all(after[name] == digest for name, digest in before.items())
    written = set(after) - set(before)
    assert {"labels/a.txt", "labels/b.txt", "data.yaml", MANIFEST} <= written
    # and a second export replaces only its own files
    again = cli("export", "--format", "coco", "--beside", "--out", photos, photos)
    assert again.code == 0, again.err
    final = digest_tree(photos)
    assert all(final[name] == digest for name, digest in before.items())
    assert "labels/a.txt" not in final and "annotations.json" in final
    record.seen(result.out.strip())
    record.keeps("every existing file; the export's own files, listed in its manifest, are "
                 "the only ones a re-export replaces")


def test_export_into_a_non_empty_folder_is_refused(photos, tmp_path, cli, fault):
    record = fault("export into a non-empty folder (another tool's dataset)", GROUP)
    other = tmp_path / "dataset"
    (other / "labels").mkdir(parents=True)
    (other / "labels" / "a.txt").write_text("0 0.1 0.1 0.2 0.2 0.3 0.1\n")
    (other / "data.yaml").write_text("names: [cat]\n")
    before = digest_tree(other)
    result = cli("export", "--format", "yolo", "--out", other, photos)
    assert result.code == 2 and "did not write" in result.last_error
    assert digest_tree(other) == before
    # even beside them, a file that is not ours is never overwritten
    beside = cli("export", "--format", "yolo", "--beside", "--out", other, photos)
    assert beside.code == 2 and "labels/a.txt" in beside.last_error
    assert digest_tree(other) == before
    record.seen(result.last_error)
    record.seen(beside.last_error)
    record.keeps("the other dataset, byte for byte")


def test_reexport_into_our_previous_export_replaces_only_ours(photos, tmp_path, cli):
    out = tmp_path / "export"
    assert cli("export", "--format", "png", "--out", out, photos).code == 0
    manifest = json.loads((out / MANIFEST).read_text())
    assert "classes.txt" in manifest["files"]
    (out / "README.txt").write_text("my notes about this dataset\n")  # the user adds a file
    result = cli("export", "--format", "png", "--out", out, photos)
    assert result.code == 2 and "README.txt" in result.last_error
    assert cli("export", "--format", "png", "--beside", "--out", out, photos).code == 0
    assert (out / "README.txt").read_text() == "my notes about this dataset\n"


def test_export_to_dot_and_to_an_existing_empty_folder(photos, tmp_path, cli, monkeypatch):
    target = tmp_path / "empty"
    target.mkdir()
    monkeypatch.chdir(target)
    result = cli("export", "--format", "coco", "--out", ".", photos)
    assert result.code == 0, result.err
    assert (target / "annotations.json").is_file()
    assert not any(p.name.startswith(STAGING_PREFIX) for p in target.iterdir())
    assert not any(p.name.startswith(STAGING_PREFIX) for p in tmp_path.iterdir())


def test_export_into_a_read_only_folder(photos, tmp_path, cli, fault):
    record = fault("export into a read-only folder", GROUP)
    out = tmp_path / "ro"
    out.mkdir()
    with read_only(out):
        result = cli("export", "--format", "coco", "--out", out, photos)
    assert result.code == 2
    assert "nothing written" in result.last_error and "read-only" in result.last_error.lower()
    assert list(out.iterdir()) == []
    record.seen(result.last_error)
    record.keeps("the folder as it was; the annotations")


def test_export_onto_a_full_disk(photos, tmp_path, cli, fault):
    record = fault("export onto a full disk", GROUP)
    disk = tmp_path / "disk"
    with small_disk(disk, 256):
        previous = disk / "export"
        assert cli("export", "--format", "png", "--out", previous, photos).code == 0
        before = digest_tree(previous)
        fill(disk, leave_bytes=2048)
        result = cli("export", "--format", "coco", "--copy-images", "--out", previous, photos)
        assert result.code == 2, result.err
        assert "disk is full" in result.last_error and "nothing written" in result.last_error
        assert digest_tree(previous) == before  # the previous export is whole
        assert not any(p.name.startswith(STAGING_PREFIX) for p in previous.iterdir())
    record.seen(result.last_error)
    record.keeps("the previous export in that folder, whole; no staging files")


def test_a_killed_export_leaves_a_staging_folder_the_next_export_removes(photos, tmp_path,
                                                                         cli):
    out = tmp_path / "export"
    assert cli("export", "--format", "coco", "--out", out, photos).code == 0
    stale = out / f"{STAGING_PREFIX}999999-deadbeef"  # pid 999999: no such process
    stale.mkdir()
    (stale / "annotations.json").write_text("{}")
    assert cli("export", "--format", "coco", "--out", out, photos).code == 0
    assert not stale.exists()


def test_a_corrupt_annotation_file_is_reported_and_left_as_it_is(photos, tmp_path, cli,
                                                                 fault):
    record = fault("export with a corrupt annotation file", GROUP)
    broken = photos / ".sam3-canvas" / "b.jpg.json"
    broken.write_text('{"format": "sam3-canvas/annotation", "instances": [tru')
    before = broken.read_bytes()
    result = cli("export", "--format", "coco", "--out", tmp_path / "out", photos)
    assert result.code == 2
    assert "b.jpg.json" in result.err and "left out" in result.err
    assert broken.read_bytes() == before
    assert not list((photos / ".sam3-canvas").glob("*.corrupt*"))
    data = json.loads((tmp_path / "out" / "annotations.json").read_text())
    assert [i["file_name"] for i in data["images"]] == ["a.jpg"]
    record.seen([line for line in result.err.splitlines() if "b.jpg.json" in line][0])
    record.seen(result.last_error)
    record.keeps("the unreadable file untouched (not renamed); the other images exported")


def test_export_to_a_path_that_is_a_file(photos, tmp_path, cli):
    target = tmp_path / "file.json"
    target.write_text("{}")
    result = cli("export", "--format", "coco", "--out", target, photos)
    assert result.code == 2 and "is a file" in result.last_error
    assert target.read_text() == "{}"


def test_a_file_edited_after_the_export_wrote_it_is_the_users(photos, tmp_path, cli, fault):
    record = fault("re-export over a previous export whose classes.txt the user edited", GROUP)
    out = tmp_path / "export"
    assert cli("export", "--format", "yolo", "--out", out, photos).code == 0
    edited = out / "classes.txt"
    edited.write_text(edited.read_text() + "my extra class\n")
    before = digest_tree(out)
    result = cli("export", "--format", "yolo", "--out", out, photos)
    assert result.code == 2 and "classes.txt" in result.last_error
    assert digest_tree(out) == before
    beside = cli("export", "--format", "yolo", "--beside", "--out", out, photos)
    assert beside.code == 2 and "edited since" in beside.last_error
    assert edited.read_text().endswith("my extra class\n")
    record.seen(result.last_error)
    record.keeps("the edited file (it is the user's now) and the whole previous export")


def test_a_reexport_says_what_it_replaced(photos, tmp_path, cli):
    out = tmp_path / "export"
    assert cli("export", "--format", "coco", "--out", out, photos).code == 0
    result = cli("export", "--format", "yolo", "--out", out, photos)
    assert result.code == 0
    assert "replaced the previous coco export there (0 files rewritten, 1 of its files " \
           "removed)" in result.err
    assert not (out / "annotations.json").exists() and (out / "data.yaml").exists()


def test_an_empty_export_says_so(tmp_path, cli):
    photos = tmp_path / "photos"
    write_photo(photos / "a.jpg")
    result = cli("export", "--format", "coco", "--out", tmp_path / "out", photos)
    assert result.code == 0 and "the dataset is empty" in result.err
