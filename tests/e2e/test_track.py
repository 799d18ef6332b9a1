"""Following an object through a clip: synthetic clips made here, a fake whose answer depends
on the frame's colours (so the tracker really has to follow), the real CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from sam3_canvas.engine import Segmenter
from sam3_canvas.engine.prompts import Prompt
from sam3_canvas.testing.fake_video import Clip, write_colour_pack
from sam3_canvas.video.follow import StopRules, follow
from sam3_canvas.video.frames import FrameFolder, open_frames
from tests.e2e.test_cli import cli

CLIP = Clip(frames=40)  # the disc enters the right edge at frame 30 and is gone by frame 35


@pytest.fixture(scope="module")
def pack(tmp_path_factory):
    return write_colour_pack(tmp_path_factory.mktemp("colour_pack"))


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return CLIP.write_video(tmp_path_factory.mktemp("clip") / "disc.mp4")


def _iou(a, b):
    return (a & b).sum() / max((a | b).sum(), 1)


def test_track_follows_the_disc_and_stops_where_it_leaves(pack, video, tmp_path):
    out = tmp_path / "masks"
    x, y = CLIP.centre(0)
    result = cli("track", "--video", video, "--point", f"{x:.0f},{y:.0f}", "--output", out,
                 "--model-dir", pack, "--no-disk-cache", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["frames"] == CLIP.frames
    assert report["method"] == "reprompt"  # auto, on a pack without the memory graphs
    kept = [r for r in report["results"] if r["mask"]]
    assert [r["frame"] for r in kept] == list(range(len(kept)))  # no gap from frame 0
    for r in kept:
        mask = np.asarray(Image.open(r["mask"])) > 127
        assert mask.shape == (CLIP.height, CLIP.width)
        visible = CLIP.mask(r["frame"])  # the clip's size: cut at the picture's edge
        assert _iou(mask, visible) >= 0.8, (r["frame"], _iou(mask, visible))
        ys, xs = np.nonzero(mask)
        ty, tx = np.nonzero(visible)
        assert abs(xs.mean() - tx.mean()) <= 2 and abs(ys.mean() - ty.mean()) <= 2
    (stop,) = [r for r in report["results"] if r["stopped"]]
    full = CLIP.mask(0).sum()
    leaving = [i for i in range(CLIP.frames) if CLIP.mask(i).sum() < full / 2]
    # it stops on the frame where most of the disc is out of the picture, not before, and
    # never runs on into frames without it
    assert leaving[0] - 1 <= stop["frame"] <= leaving[0] + 2, (stop, leaving[0])
    assert stop["mask"] is None
    assert sorted(p.name for p in out.iterdir()) == [f"{r['frame']:06d}.png" for r in kept]


def test_a_folder_of_frames_tracked_backward_from_the_middle(pack, tmp_path):
    folder = CLIP.write_frames(tmp_path / "frames")
    frames = FrameFolder(folder)
    segmenter = Segmenter.from_dir(pack)
    x, y = CLIP.centre(20)
    results = list(follow(segmenter, frames, 20, Prompt.click(x, y), "backward"))
    assert [r.frame for r in results] == list(range(20, -1, -1))  # to the first frame
    assert all(r.stopped is None and _iou(r.mask, CLIP.mask(r.frame)) >= 0.8 for r in results)


def test_both_directions_with_a_limit(pack, video):
    segmenter = Segmenter.from_dir(pack)
    x, y = CLIP.centre(10)
    results = list(follow(segmenter, open_frames(video), 10, Prompt.click(x, y), "both",
                          max_frames=3))
    assert [r.frame for r in results] == [10, 11, 12, 13, 9, 8, 7]


def test_an_occluder_stops_the_track_and_says_why(pack, tmp_path):
    clip = Clip(frames=20, hidden=(8, 9, 10))
    video = clip.write_video(tmp_path / "occluded.avi")
    segmenter = Segmenter.from_dir(pack)
    x, y = clip.centre(0)
    results = list(follow(segmenter, open_frames(video), 0, Prompt.click(x, y)))
    assert results[-1].frame == 8 and results[-1].mask is None
    assert "area jumped" in results[-1].stopped or "uncertain" in results[-1].stopped
    assert all(r.stopped is None for r in results[:-1])


def test_cancelling_stops_between_frames(pack, video):
    segmenter = Segmenter.from_dir(pack)
    done = []
    x, y = CLIP.centre(0)
    for result in follow(segmenter, open_frames(video), 0, Prompt.click(x, y),
                         cancelled=lambda: len(done) >= 4):
        done.append(result.frame)
    assert done == [0, 1, 2, 3]


def test_the_stop_rules():
    rules = StopRules(min_iou=0.5, min_presence=0.5, max_area_change=3.0)
    assert rules.why(0.9, 0.9, 100, 120) is None
    assert "gone" in rules.why(0.9, 0.2, 100, 120)
    assert "uncertain" in rules.why(0.3, 0.9, 100, 120)
    assert "empty" in rules.why(0.9, 0.9, 0, 120)
    assert "jumped" in rules.why(0.9, 0.9, 400, 100)
    assert "jumped" in rules.why(0.9, 0.9, 30, 100)


@pytest.mark.parametrize("args, message", [
    (["--point", "10,10", "--frame", "99"], "the clip has frames 0 to 39"),
    (["--bg-point", "10,10"], "give the object with --point or --box"),
    (["--point", "60,120", "--method", "memory"],
     "cannot track with memory: the pack has no memory graphs"),
])
def test_bad_track_requests_are_one_line(pack, video, tmp_path, args, message):
    result = cli("track", "--video", video, *args, "--output", tmp_path / "o", "--model-dir",
                 pack, "--no-disk-cache")
    assert result.returncode == 2 and message in result.stderr


def test_a_file_that_is_not_a_video_is_one_line(pack, tmp_path):
    fake = tmp_path / "broken.mp4"
    fake.write_bytes(b"\x00" * 1000)
    result = cli("track", "--video", fake, "--point", "1,1", "--output", tmp_path / "o",
                 "--model-dir", pack)
    assert result.returncode == 2 and "not a video OpenCV can read" in result.stderr
    result = cli("track", "--video", tmp_path / "notes.txt", "--point", "1,1", "--output",
                 tmp_path / "o", "--model-dir", pack)
    assert result.returncode == 2 and "not a video" in result.stderr


def test_frames_stay_within_their_byte_bound_and_a_seek_gives_the_same_frame(video):
    frame_bytes = CLIP.width * CLIP.height * 3
    frames = open_frames(video, cache_bytes=5 * frame_bytes)
    sequential = [frames.frame(i).rgb for i in range(len(frames))]  # decoded in order
    assert frames.cache.bytes <= 5 * frame_bytes and len(frames.cache) == 5
    fresh = open_frames(video, cache_bytes=0)  # nothing kept: every read decodes (a seek)
    for index in (33, 3, 17):
        again = fresh.frame(index)
        assert np.abs(again.rgb.astype(int) - sequential[index]).mean() < 1.0
        assert again.key.endswith(f":{index:06d}") and again.key.startswith("video-")
    assert frames.frame(3).key == fresh.frame(3).key  # the same clip, the same identity


def _track_ids(folder, name="disc.avi"):
    from sam3_canvas.app.project import Project
    from sam3_canvas.document.annotation import Document
    project = Project(folder)
    found = {}
    for frame in project.annotated_frames(folder / name):
        doc = Document.load(project.frame_annotation_path(folder / name, frame))
        assert doc.frame == frame and doc.version == 2
        found[frame] = sorted((i.track_id, i.label) for i in doc.instances)
    return found


def test_a_track_saved_in_the_annotations_and_tracked_again_from_a_corrected_frame(
        pack, tmp_path):
    folder = tmp_path / "clips"
    video = Clip(frames=24).write_video(folder / "disc.avi")
    x, y = CLIP.centre(0)
    base = ["track", "--video", video, "--model-dir", pack, "--no-disk-cache", "--json"]
    first = cli(*base, "--point", f"{x:.0f},{y:.0f}", "--label", "disc")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["track_id"] == 1
    assert _track_ids(folder) == {f: [(1, "disc")] for f in range(24)}
    second = cli(*base, "--point", f"{x:.0f},{y:.0f}", "--label", "ball", "--max-frames", "2")
    assert json.loads(second.stdout)["track_id"] == 2  # a new track beside the first
    assert _track_ids(folder)[1] == [(1, "disc"), (2, "ball")]
    # track 1 again from frame 10 for 3 frames: 10..13 are new, 14.. followed the old mask
    x, y = CLIP.centre(10)
    again = cli(*base, "--frame", "10", "--point", f"{x:.0f},{y:.0f}", "--label", "disc",
                "--track-id", "1", "--max-frames", "3")
    assert again.returncode == 0, again.stderr
    ids = _track_ids(folder)
    assert all(ids[f] == [(1, "disc")] for f in range(3, 14))
    assert all(ids[f] == [] for f in range(14, 24))
    assert ids[0] == [(1, "disc"), (2, "ball")]


def test_track_needs_somewhere_to_write(pack, video, tmp_path):
    result = cli("track", "--video", video, "--point", "60,120", "--model-dir", pack)
    assert result.returncode == 2 and "say where the track goes" in result.stderr


def test_track_with_the_memory_graphs(tmp_path):
    """The CLI on a pack with the memory graphs (the tiny video twin, random weights: the
    masks are not the disc; parity with transformers is test_video_memory_parity.py)."""
    pytest.importorskip("torch", reason="the export extra (torch) is not installed")
    pytest.importorskip("transformers", reason="the export extra is not installed")
    from sam3_canvas.twins.video_export import build_tiny_video_tracker, export_video_tracker

    pack = tmp_path / "video_twin"
    export_video_tracker(build_tiny_video_tracker(0), pack)
    clip = Clip(frames=3, width=160, height=120, radius=14, start=(40.0, 60.0))
    video = clip.write_frames(tmp_path / "frames")
    out = tmp_path / "masks"
    for method in ("memory", "reprompt"):
        result = cli("track", "--video", video, "--point", "40,60", "--output", out / method,
                     "--model-dir", pack, "--no-disk-cache", "--json", "--method", method,
                     "--min-iou", "0", "--min-presence", "0")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["method"] == method
        assert [r["frame"] for r in report["results"]] == [0, 1, 2]
        assert len(list((out / method).glob("*.png"))) == 3
    # the same first frame (the same click), then two ways of following it
    first = [np.asarray(Image.open(out / m / "000000.png")) for m in ("memory", "reprompt")]
    np.testing.assert_array_equal(*first)
    later = [np.asarray(Image.open(out / m / "000002.png")) for m in ("memory", "reprompt")]
    assert (later[0] != later[1]).any()
