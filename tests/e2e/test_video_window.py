"""A clip in the real window: open it, click the object on frame 0, accept, track forward,
correct a later frame, track again from there, undo, export."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("pytestqt")
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from sam3_canvas.app.project import Project  # noqa: E402
from sam3_canvas.document.annotation import Document  # noqa: E402
from sam3_canvas.testing.fake_video import Clip, write_colour_pack  # noqa: E402
from tests.gui_helpers import (  # noqa: E402
    click_image,
    open_and_wait,
    wait_prediction,
    window_factory,
)

CLIP = Clip(frames=16)


@pytest.fixture()
def window(qtbot, tmp_path, monkeypatch):
    make, stop = window_factory(qtbot, tmp_path, monkeypatch)
    video = CLIP.write_video(tmp_path / "clips" / "disc.avi")
    window = make(write_colour_pack(tmp_path / "colour"))
    open_and_wait(qtbot, window, video)
    qtbot.waitUntil(lambda: "encode" in window.status_times.text(), timeout=20000)
    yield window
    stop()


def _key(window, key, modifiers=Qt.KeyboardModifier.NoModifier):
    QTest.keyClick(window, key, modifiers)


def _track(window, frame) -> list:
    window.flush_saves()
    project = Project(window.video.video.parent)
    path = project.frame_annotation_path(window.video.video, frame)
    if not path.is_file():
        return []
    return [(i.id, i.track_id, i.label) for i in Document.load(path).instances]


def _go(qtbot, window, frame):
    window.video.slider.setValue(frame)
    qtbot.waitUntil(lambda: window.editor.doc is not None and window.editor.doc.frame == frame
                    and window.photo is not None, timeout=10000)


def _track_key(qtbot, window, key=Qt.Key.Key_T):
    window.video.last_track = None
    _key(window, key)
    qtbot.waitUntil(lambda: window.video.last_track is not None or bool(window.messages),
                    timeout=60000)
    assert window.video.last_track is not None, window.messages


def test_open_click_track_correct_track_again_undo_export(qtbot, window, tmp_path):
    assert window.video.active and window.video.bar.isVisible()
    assert window.editor.doc.frame == 0 and window.video.slider.maximum() == CLIP.frames - 1
    assert "frame 0 / 15" in window.video.position.text()
    x, y = CLIP.centre(0)
    doc0 = window.editor.doc
    click_image(window, int(x), int(y))
    wait_prediction(qtbot, window)
    window.editor.set_label("disc")
    _key(window, Qt.Key.Key_Return)
    assert doc0 is window.editor.doc
    (first,) = window.editor.doc.instances
    assert first.track_id is None
    _track_key(qtbot, window)  # T: track forward from the only instance
    tracked = window.video.last_track["frames"]
    assert tracked == list(range(1, CLIP.frames))
    assert window.editor.doc.instances[0].track_id == 1  # the start became track 1
    for frame in range(CLIP.frames):
        ((_, track, label),) = _track(window, frame)
        assert (track, label) == (1, "disc")
    before = {f: _track(window, f) for f in range(CLIP.frames)}

    # frame 8: the user corrects the mask (here: erases nothing but selects it) and tracks
    # again from there: frames 9.. get new instances of the same track, one undo step
    _go(qtbot, window, 8)
    assert "frame 8 / 15" in window.video.position.text()
    window.select_instance(window.editor.doc.instances[0].id)
    truth = CLIP.mask(8)
    disc = window.editor.doc.instances[0].mask()
    assert (disc & truth).sum() / (disc | truth).sum() >= 0.8  # it followed the disc here
    _track_key(qtbot, window)
    after = {f: _track(window, f) for f in range(CLIP.frames)}
    assert all(after[f] == before[f] for f in range(9))
    assert all(after[f] != before[f] and after[f][0][1:] == (1, "disc")
               for f in range(9, CLIP.frames))
    _key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the second track
    qtbot.waitUntil(lambda: {f: _track(window, f) for f in range(CLIP.frames)} == before,
                    timeout=10000)

    # step with the keys, then export the clip's track as DAVIS PNGs
    _key(window, Qt.Key.Key_Period)
    qtbot.waitUntil(lambda: window.editor.doc is not None and window.editor.doc.frame == 9,
                    timeout=10000)
    out = tmp_path / "davis"
    window.video.export("davis", out)
    qtbot.waitUntil(lambda: (out / "tracks.json").is_file(), timeout=20000)
    pngs = sorted((out / "Annotations" / "disc").glob("*.png"))
    assert len(pngs) == CLIP.frames


def test_tracking_needs_a_selection_when_a_frame_has_several(qtbot, window):
    for x, y in (CLIP.centre(0), (300, 20)):
        click_image(window, int(x), int(y))
        wait_prediction(qtbot, window)
        window.editor.set_label("thing")
        _key(window, Qt.Key.Key_Return)
    window.select_instance(-1)
    _key(window, Qt.Key.Key_T)
    assert window.messages and "Select the instance to follow" in window.messages[-1][1]


def test_opening_photos_after_a_clip_reads_files_again(qtbot, window, tmp_path):
    from PIL import Image
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(CLIP.frame(3)).save(photos / "still.png")
    open_and_wait(qtbot, window, photos)
    assert not window.video.active and not window.video.bar.isVisible()
    assert window.editor.doc.frame is None and window.editor.image.name == "still.png"
    assert np.array_equal(np.asarray(Image.open(photos / "still.png")).shape[:2],
                          (window.editor.doc.height, window.editor.doc.width))


def test_a_whole_track_relabelled_deleted_and_visited(qtbot, window):
    x, y = CLIP.centre(0)
    click_image(window, int(x), int(y))
    wait_prediction(qtbot, window)
    window.editor.set_label("disc")
    _key(window, Qt.Key.Key_Return)
    _track_key(qtbot, window)
    assert window.files.list.item(3).text().split()[1:3] == ["frame", "3"]
    window.select_instance(window.editor.doc.instances[0].id)
    _key(window, Qt.Key.Key_End)  # the track's last frame
    qtbot.waitUntil(lambda: window.editor.doc.frame == CLIP.frames - 1, timeout=10000)
    window.select_instance(window.editor.doc.instances[0].id)
    window.video.relabel_track("ball")
    assert {lab for f in range(CLIP.frames) for _, _, lab in _track(window, f)} == {"ball"}
    assert "ball" in window.project.labels
    window.video.delete_track()
    assert all(_track(window, f) == [] for f in range(CLIP.frames))
    _key(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # one undo: all back
    qtbot.waitUntil(lambda: all(len(_track(window, f)) == 1 for f in range(CLIP.frames)),
                    timeout=10000)
    window.select_instance(window.editor.doc.instances[0].id)
    _key(window, Qt.Key.Key_Home)  # and its first frame
    qtbot.waitUntil(lambda: window.editor.doc.frame == 0, timeout=10000)


def test_the_timeline_shows_each_track_and_a_click_on_it_goes_there(qtbot, window):
    from PySide6.QtCore import QPoint
    assert window.video.timeline.tracks == {}
    x, y = CLIP.centre(0)
    click_image(window, int(x), int(y))
    wait_prediction(qtbot, window)
    window.editor.set_label("disc")
    _key(window, Qt.Key.Key_Return)
    _track_key(qtbot, window)
    qtbot.waitUntil(lambda: 1 in window.video.timeline.tracks, timeout=5000)
    colour, frames = window.video.timeline.tracks[1]
    assert frames == list(range(CLIP.frames))
    assert colour == window.project.labels.get("disc").colour
    timeline = window.video.timeline
    x5 = round(timeline._x(5))
    QTest.mouseClick(timeline, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(x5, 3))
    qtbot.waitUntil(lambda: window.editor.doc is not None and window.editor.doc.frame == 5,
                    timeout=10000)
    assert timeline.current == 5
    window.select_instance(window.editor.doc.instances[0].id)
    window.video.delete_track()
    qtbot.waitUntil(lambda: window.video.timeline.tracks == {}, timeout=5000)


def test_find_by_name_on_a_frame(qtbot, tmp_path, monkeypatch):
    """The text path reads the frame through the clip, not as a file."""
    from sam3_canvas.testing.fake_text_models import write_text_pack
    make, stop = window_factory(qtbot, tmp_path, monkeypatch)
    try:
        video = CLIP.write_video(tmp_path / "clips" / "disc.avi")
        window = make(write_colour_pack(tmp_path / "colour"),
                      text_model_dir=str(write_text_pack(tmp_path / "text", "A2")))
        open_and_wait(qtbot, window, video)
        window.text.entry.setText("person")
        QTest.keyClick(window.text.entry, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.text_controller.result is not None, timeout=30000)
        assert window.text.results.count() >= 1
        window.text.accept_all.click()
        qtbot.waitUntil(lambda: len(window.editor.doc.instances) >= 1, timeout=10000)
        assert window.editor.doc.frame == 0
    finally:
        stop()


def test_home_and_end_without_a_track_go_to_the_clip_ends(qtbot, window):
    window.select_instance(-1)
    _key(window, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: window.editor.doc.frame == CLIP.frames - 1, timeout=10000)
    _key(window, Qt.Key.Key_Home)
    qtbot.waitUntil(lambda: window.editor.doc.frame == 0, timeout=10000)
    assert not window.messages  # nothing to say: there was nothing to select


def test_memory_tracking_on_a_pack_without_memory_graphs_says_what_to_do(qtbot, window):
    x, y = CLIP.centre(0)
    click_image(window, int(x), int(y))
    wait_prediction(qtbot, window)
    window.editor.set_label("disc")
    _key(window, Qt.Key.Key_Return)
    window.tracking_method_actions["memory"].trigger()
    assert window.video.method == "memory"
    _key(window, Qt.Key.Key_T)
    assert window.messages and "cannot track with memory" in window.messages[-1][1]
    assert "video_export" in window.messages[-1][1]
    assert _track(window, 1) == []  # nothing was tracked
    from PySide6.QtWidgets import QApplication, QMessageBox
    for box in QApplication.topLevelWidgets():  # the user reads the message and presses OK
        if isinstance(box, QMessageBox) and box.isVisible():
            QTest.keyClick(box, Qt.Key.Key_Return)
    window.messages.clear()
    window.activateWindow()
    window.tracking_method_actions["auto"].trigger()  # auto: re-prompting on this pack
    _track_key(qtbot, window)
    assert window.video.last_track["method"] == "reprompt"
    assert window.video.last_track["frames"] == list(range(1, CLIP.frames))


def test_tracking_with_the_memory_graphs(qtbot, tmp_path, monkeypatch):
    """A pack with the memory graphs (the tiny video twin) tracks with memory by default."""
    pytest.importorskip("torch", reason="the export extra (torch) is not installed")
    pytest.importorskip("transformers", reason="the export extra is not installed")
    from sam3_canvas.twins.video_export import build_tiny_video_tracker, export_video_tracker

    pack = tmp_path / "video_twin"
    export_video_tracker(build_tiny_video_tracker(0), pack)
    clip = Clip(frames=4, width=160, height=120, radius=14, start=(40.0, 60.0), step=(6.0, 1.0))
    make, stop = window_factory(qtbot, tmp_path, monkeypatch)
    try:
        window = make(pack)
        open_and_wait(qtbot, window, clip.write_video(tmp_path / "clips" / "disc.avi"))
        x, y = clip.centre(0)
        click_image(window, int(x), int(y))
        wait_prediction(qtbot, window)
        window.editor.set_label("disc")
        _key(window, Qt.Key.Key_Return)
        _track_key(qtbot, window)
        assert window.video.last_track["method"] == "memory"
        assert window.video.last_track["frames"] == [1, 2, 3]
        for frame in range(4):
            ((_, track, _),) = _track(window, frame)
            assert track == 1
    finally:
        stop()
