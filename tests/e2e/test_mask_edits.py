"""Hand edits and refinement as undoable commands on a real document (and the fake pack's
real sessions for refining), saved after every step."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from sam3_canvas.app import mask_edits
from sam3_canvas.app.editor import Editor
from sam3_canvas.app.project import Project
from sam3_canvas.document.annotation import Document
from sam3_canvas.editing.brush import Stroke
from sam3_canvas.engine import Prompt, Segmenter
from tests.conftest import fixture_path


@pytest.fixture()
def editor(tmp_path) -> Editor:
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(fixture_path("objects/images/ring.jpg"), folder / "ring.jpg")  # 481 x 321
    editor = Editor(Project(folder))
    editor.open_image(folder / "ring.jpg", (481, 321))
    editor.set_label("ring")
    return editor


def _saved(editor: Editor) -> Document:
    return Document.load(editor.project.annotation_path(editor.image))


def _square(x0, y0, x1, y1, size=(321, 481)) -> np.ndarray:
    mask = np.zeros(size, bool)
    mask[y0:y1, x0:x1] = True
    return mask


def _draw(editor, mask, tool="polygon") -> int:
    command = mask_edits.cmd_new_instance(editor, mask, tool)
    command.redo()
    return editor.doc.instances[-1].id


def test_a_drawn_instance_is_manual_and_saved(editor):
    iid = _draw(editor, _square(10, 10, 50, 50), "brush")
    saved = _saved(editor).get(iid)
    assert saved.label == "ring" and saved.source == {"kind": "manual", "tool": "brush"}
    assert saved.area == 1600


def test_a_brush_stroke_is_one_step_that_undo_takes_back(editor):
    iid = _draw(editor, _square(10, 10, 50, 50))
    stroke = Stroke(editor.doc.get(iid).mask(), radius=5)
    for x in range(50, 120, 7):  # a drag to the right
        stroke.to(float(x), 30.0)
    command = mask_edits.cmd_set_mask(editor, iid, stroke.mask, "brush")
    command.redo()
    grown = _saved(editor).get(iid)
    assert grown.area > 1600 and grown.mask()[30, 110] and grown.source["edited"]
    assert grown.score is None
    command.undo()
    assert _saved(editor).get(iid).area == 1600 and "edited" not in editor.doc.get(iid).source


def test_erasing_everything_removes_the_instance_in_the_same_step(editor):
    iid = _draw(editor, _square(10, 10, 20, 20))
    command = mask_edits.cmd_set_mask(editor, iid, np.zeros((321, 481), bool), "eraser")
    command.redo()
    assert not editor.doc.has(iid) and _saved(editor).instances == []
    command.undo()
    assert editor.doc.has(iid)


def test_an_edit_that_changes_nothing_is_no_step(editor):
    iid = _draw(editor, _square(10, 10, 20, 20))
    assert mask_edits.cmd_set_mask(editor, iid, editor.doc.get(iid).mask(), "brush") is None


def test_clean_ups_fill_holes_and_drop_specks(editor):
    mask = _square(10, 10, 60, 60)
    mask[30:40, 30:40] = False
    mask[100:102, 100:102] = True
    iid = _draw(editor, mask)
    mask_edits.cmd_fill_holes(editor, iid).redo()
    assert editor.doc.get(iid).mask()[35, 35]
    mask_edits.cmd_remove_islands(editor, iid, 10).redo()
    assert not editor.doc.get(iid).mask()[100, 100] and _saved(editor).get(iid).area == 2500
    assert mask_edits.cmd_fill_holes(editor, iid) is None  # nothing left to fill


def test_overlaps_are_removed_and_the_order_changes(editor):
    below = _draw(editor, _square(10, 10, 60, 60))
    above = _draw(editor, _square(40, 40, 90, 90))
    mask_edits.cmd_take_free_pixels(editor, below).redo()
    assert editor.doc.get(below).area == 2500 - 400
    assert mask_edits.cmd_take_free_pixels(editor, above) is None  # nothing above it
    command = mask_edits.cmd_order(editor, above, front=False)
    command.redo()
    assert [i.id for i in _saved(editor).instances] == [above, below]
    command.undo()
    assert [i.id for i in editor.doc.instances] == [below, above]


def test_new_instances_take_only_free_pixels_when_asked(editor):
    _draw(editor, _square(10, 10, 60, 60))
    editor.take_free_pixels = True
    second = _draw(editor, _square(40, 40, 90, 90))
    assert editor.doc.get(second).area == 2500 - 400


@pytest.fixture()
def clicked(editor, fake_pack):
    """The editor with an instance accepted from one click, and the segmenter."""
    seg = Segmenter.from_dir(fake_pack)
    encoded = seg.encode(editor.image)
    editor.cmd_add_point(240, 160).redo()
    editor.set_prediction(seg.predict(encoded, editor.prompt))
    editor.cmd_accept().redo()
    return editor, seg, encoded, editor.doc.instances[-1].id


def test_a_refining_click_adds_to_the_instance_prompt_and_replaces_it(clicked):
    editor, seg, encoded, iid = clicked
    prompt = mask_edits.refine_prompt(editor, iid, 250, 165, background=True)
    assert prompt == Prompt.click(240, 160).add_point(250, 165, 0)
    prediction = seg.predict(encoded, prompt)
    before = editor.doc.get(iid)
    command = mask_edits.cmd_refine(editor, iid, prediction)
    command.redo()
    after = _saved(editor).get(iid)
    assert after.source["points"] == [[240.0, 160.0], [250.0, 165.0]]
    assert after.source["labels"] == [1, 0] and after.rle != before.rle
    assert np.array_equal(after.mask(), prediction.mask(prediction.best_index, exact=True))
    command.undo()
    assert editor.doc.get(iid) == before  # mask and prompt both back


def test_an_instance_not_made_by_clicks_refines_from_its_box(editor):
    iid = _draw(editor, _square(100, 50, 200, 150))
    prompt = mask_edits.refine_prompt(editor, iid, 150, 100, background=False)
    assert prompt.box == (100.0, 50.0, 200.0, 150.0) and prompt.points == ((150.0, 100.0),)


def test_ctrl_and_alt_click_add_and_take_away_a_candidate(clicked):
    editor, seg, encoded, iid = clicked
    area = editor.doc.get(iid).area
    other = seg.predict(encoded, Prompt.click(60, 60))
    extra = other.mask(other.best_index, exact=True)
    mask_edits.cmd_combine(editor, iid, extra, subtract=False).redo()
    union = editor.doc.get(iid).area
    assert union >= area
    mask_edits.cmd_combine(editor, iid, extra, subtract=True).redo()
    assert not (editor.doc.get(iid).mask() & extra).any()


def test_commands_on_a_missing_instance_are_none(editor):
    assert mask_edits.cmd_fill_holes(editor, 99) is None
    assert mask_edits.cmd_order(editor, 99, True) is None
    assert mask_edits.refine_prompt(editor, 99, 1, 1, False) is None

