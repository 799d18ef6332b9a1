"""A clip's tracks exported as video datasets and read back as their consumers read them."""

from __future__ import annotations

import configparser
import json
import shutil

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from sam3_canvas.app.project import Project
from sam3_canvas.app.video_tracks import write_track
from sam3_canvas.document.annotation import Document, Instance
from sam3_canvas.engine import Segmenter
from sam3_canvas.engine.prompts import Prompt
from sam3_canvas.testing.fake_video import Clip, write_colour_pack
from sam3_canvas.video.follow import follow
from sam3_canvas.video.frames import open_frames
from tests.e2e.test_cli import cli

CLIP = Clip(frames=12)


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    """A folder with disc.avi whose disc is track 1 ("disc") on every frame, and one
    hand-drawn instance without a track on frame 0."""
    folder = tmp_path_factory.mktemp("clips")
    video = CLIP.write_video(folder / "disc.avi")
    frames = open_frames(video)
    segmenter = Segmenter.from_dir(write_colour_pack(folder.parent / "colour"))
    x, y = CLIP.centre(0)
    project = Project(folder)
    size = (frames.width, frames.height)
    write_track(project, video, size, follow(segmenter, frames, 0, Prompt.click(x, y)),
                "disc", 0)
    doc = project.frame_document(video, 0, size)
    corner = np.zeros((CLIP.height, CLIP.width), bool)
    corner[:10, :10] = True
    doc.insert(Instance.from_mask(doc.next_id(), "note", corner))
    project.save(doc)
    return folder, video


def _saved(folder, video, frame):
    project = Project(folder)
    return Document.load(project.frame_annotation_path(video, frame))


def _disc(folder, video, frame):
    (inst,) = [i for i in _saved(folder, video, frame).instances if i.track_id == 1]
    return inst


def test_davis_layout_with_frames(tracked, tmp_path):
    folder, video = tracked
    out = tmp_path / "davis"
    result = cli("export", "--format", "davis", "--copy-images", "--out", out, video)
    assert result.returncode == 0, result.stderr
    assert "exported 12 instances of 1 tracks on 12 frames" in result.stdout
    assert "1 instance(s) without a track id" in result.stderr
    pngs = sorted((out / "Annotations" / "disc").glob("*.png"))
    assert [p.name for p in pngs] == [f"{f:05d}.png" for f in range(12)]
    for frame, path in enumerate(pngs):
        image = Image.open(path)
        assert image.mode == "P"  # DAVIS ships palette PNGs: index = object id
        ids = np.asarray(image)
        assert set(np.unique(ids)) == {0, 1}
        assert np.array_equal(ids == 1, _disc(folder, video, frame).mask())
    assert len(list((out / "JPEGImages" / "disc").glob("*.jpg"))) == 12
    assert json.loads((out / "tracks.json").read_text())["tracks"] == [
        {"track_id": 1, "label": "disc"}]


def test_coco_video_as_mmtracking_and_pycocotools_read_it(tracked, tmp_path):
    folder, video = tracked
    out = tmp_path / "cocovid"
    assert cli("export", "--format", "coco-video", "--out", out, video).returncode == 0
    data = json.loads((out / "annotations.json").read_text())
    assert data["videos"][0]["name"] == "disc" and data["videos"][0]["length"] == 12
    frames = {img["id"]: img["frame_id"] for img in data["images"]}
    assert sorted(frames.values()) == list(range(12))
    assert {c["name"] for c in data["categories"]} >= {"disc"}
    for ann in data["annotations"]:
        assert ann["track_id"] == ann["instance_id"] == 1 and ann["video_id"] == 1
        rle = {"size": ann["segmentation"]["size"],
               "counts": ann["segmentation"]["counts"].encode()}
        mask = mask_utils.decode(rle).astype(bool)
        disc = _disc(folder, video, frames[ann["image_id"]])
        assert np.array_equal(mask, disc.mask()) and ann["area"] == disc.area
        assert ann["bbox"] == list(disc.bbox)


def test_mot_boxes(tracked, tmp_path):
    folder, video = tracked
    out = tmp_path / "mot"
    assert cli("export", "--format", "mot", "--out", out, video).returncode == 0
    rows = [line.split(",") for line in (out / "disc" / "gt" / "gt.txt").read_text().split()]
    assert [int(r[0]) for r in rows] == list(range(1, 13))  # MOT frames count from 1
    for row in rows:
        disc = _disc(folder, video, int(row[0]) - 1)
        assert int(row[1]) == 1 and [int(v) for v in row[2:6]] == list(disc.bbox)
        labels = dict(line.split(" ", 1) for line in
                      (out / "labels.txt").read_text().splitlines())
        assert labels[row[7]] == "disc"
    info = configparser.ConfigParser()
    info.read(out / "disc" / "seqinfo.ini")
    assert info["Sequence"]["seqLength"] == "12"
    assert info["Sequence"]["imWidth"] == str(CLIP.width)


def test_the_davis_sequence_imports_back_once(tracked, tmp_path):
    folder, video = tracked
    out = tmp_path / "davis"
    assert cli("export", "--format", "davis", "--out", out, video).returncode == 0
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copy(video, fresh / video.name)
    result = cli("import", "--format", "davis", out, fresh / video.name)
    assert result.returncode == 0, result.stderr
    assert "imported 12 instances" in result.stdout
    for frame in range(12):
        (inst,) = _saved(fresh, fresh / video.name, frame).instances
        assert inst.track_id == 1 and inst.label == "disc"
        assert np.array_equal(inst.mask(), _disc(folder, video, frame).mask())
    again = cli("import", "--format", "davis", out, fresh / video.name)
    assert again.returncode == 0 and "imported 0 instances" in again.stdout
    assert "12 already imported before" in again.stdout


def test_a_video_export_never_writes_over_other_files(tracked, tmp_path):
    _, video = tracked
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    result = cli("export", "--format", "mot", "--out", busy, video)
    assert result.returncode == 2 and "notes.txt" not in result.stdout
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]


def test_a_video_format_needs_a_video(tracked, tmp_path):
    folder, _ = tracked
    result = cli("export", "--format", "davis", "--out", tmp_path / "x", folder)
    assert result.returncode == 2 and "is not a video file" in result.stderr


def test_class_names_on_a_clip_become_tracks(tmp_path):
    """detect on a video: the text path on every 2nd frame, ByteTrack (supervision) joins the
    detections into tracks; the same object keeps its track id from frame to frame."""
    from sam3_canvas.testing.fake_text_models import write_text_pack
    pack = write_text_pack(tmp_path / "text", "A2")
    folder = tmp_path / "clips"
    video = Clip(frames=10).write_video(folder / "street.avi")
    result = cli("detect", "--model-dir", pack, "--classes", "person", "car", "--every", "2",
                 "--no-disk-cache", video)
    assert result.returncode == 0, result.stderr
    assert "on 5 frames, joined into" in result.stdout
    project = Project(folder)
    assert project.annotated_frames(video) == [0, 2, 4, 6, 8]
    per_frame = {}
    for frame in project.annotated_frames(video):
        doc = Document.load(project.frame_annotation_path(video, frame))
        assert doc.instances and all(i.track_id is not None for i in doc.instances)
        assert all(i.source["kind"] == "detect" for i in doc.instances)
        per_frame[frame] = {(i.label, i.bbox): i.track_id for i in doc.instances}
    # the fake's detections stand still: each keeps one track id through the clip
    first = per_frame[0]
    assert all(per_frame[f] == first for f in per_frame), per_frame
    assert len(set(first.values())) == len(first)  # one track each
    again = cli("detect", "--model-dir", pack, "--classes", "person", "--every", "2",
                "--no-disk-cache", video)
    assert again.returncode == 0
    doc = Document.load(project.frame_annotation_path(video, 0))
    assert {i.label for i in doc.instances} == {"person"}  # the rerun replaced the detections
    assert min(i.track_id for i in doc.instances) > max(first.values())  # new track ids
