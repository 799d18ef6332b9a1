"""Mask PNGs as public sets store them: 0/255, 0/1, palette index, GrabCut trimaps, RGB;
empty masks reported; overlapping instances kept from the per-instance files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from sam3_canvas.app.datasets import export_project, import_into_project
from sam3_canvas.app.project import Project
from sam3_canvas.document.annotation import Instance
from tests.faults.conftest import write_photo

H, W = 60, 80


@pytest.fixture()
def photos(tmp_path):
    folder = tmp_path / "photos"
    write_photo(folder / "a.jpg", W, H)
    return folder


def _truth():
    mask = np.zeros((H, W), bool)
    mask[10:40, 15:60] = True
    mask[20:25, 30:35] = False  # a hole
    return mask


def _save(path, array, mode=None, palette=False):
    image = Image.fromarray(array.astype(np.uint8) * 255).convert(mode) if mode else \
        Image.fromarray(array)
    if palette:
        image = Image.fromarray(array.astype(np.uint8), "P")
        image.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    image.save(path)


LAYOUTS = {
    "0/255": lambda m: (m.astype(np.uint8) * 255, None, False),
    "0/1": lambda m: (m.astype(np.uint8), None, False),
    "palette index 1": lambda m: (m.astype(np.uint8), None, True),
    "GrabCut trimap (128 = uncertain)": lambda m: (np.where(m, 255, np.where(
        np.roll(m, 2, axis=1), 128, 0)).astype(np.uint8), None, False),
    "1-bit": lambda m: (m, "1", False),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_binary_mask_layout_imports_its_object(layout, photos, tmp_path):
    truth = _truth()
    array, mode, palette = LAYOUTS[layout](truth)
    masks = tmp_path / "masks"
    masks.mkdir()
    _save(masks / "a_1_thing.png", array, mode, palette)
    report = import_into_project(Project(photos), "png", masks)
    assert not report.problems, report.problems
    (inst,) = Project(photos).document(photos / "a.jpg").instances
    assert np.array_equal(inst.mask(), truth), layout


def test_an_rgb_mask_imports_too(photos, tmp_path):
    masks = tmp_path / "masks"
    masks.mkdir()
    Image.fromarray(np.stack([_truth().astype(np.uint8) * 255] * 3, axis=2)).save(
        masks / "a_1_thing.png")
    import_into_project(Project(photos), "png", masks)
    assert np.array_equal(Project(photos).document(photos / "a.jpg").instances[0].mask(),
                          _truth())


def test_an_empty_mask_is_a_problem_not_an_instance(photos, tmp_path):
    masks = tmp_path / "masks"
    masks.mkdir()
    _save(masks / "a_1_thing.png", np.zeros((H, W), np.uint8))
    report = import_into_project(Project(photos), "png", masks)
    assert report.instances == 0 and "the mask is empty" in report.problems[0]


def test_overlapping_instances_survive_the_png_round_trip(photos, tmp_path):
    project = Project(photos)
    doc = project.document(photos / "a.jpg")
    under = np.zeros((H, W), bool)
    under[5:50, 5:50] = True
    over = np.zeros((H, W), bool)
    over[20:55, 30:75] = True
    doc.insert(Instance.from_mask(doc.next_id(), "under", under))
    doc.insert(Instance.from_mask(doc.next_id(), "over", over))
    project.save(doc)
    export_project(project, "png", tmp_path / "out")
    target = tmp_path / "copy"
    write_photo(target / "a.jpg", W, H)
    import_into_project(Project(target), "png", tmp_path / "out")
    back = {i.label: i.mask() for i in Project(target).document(target / "a.jpg").instances}
    assert np.array_equal(back["under"], under) and np.array_equal(back["over"], over)


def test_an_instance_id_map_in_palette_form_with_void(photos, tmp_path):
    """DAVIS / VOC SegmentationObject style: palette indices are object ids, 255 is void."""
    ids = np.zeros((H, W), np.uint8)
    ids[5:20, 5:30] = 1
    ids[30:50, 40:70] = 2
    ids[4, :] = 255
    (tmp_path / "ds" / "instance_ids").mkdir(parents=True)
    _save(tmp_path / "ds" / "instance_ids" / "a.png", ids, palette=True)
    report = import_into_project(Project(photos), "png", tmp_path / "ds")
    assert report.instances == 2 and not report.problems


def _labelme_dataset(tmp_path, points):
    import json
    folder = tmp_path / "lm"
    folder.mkdir(exist_ok=True)
    (folder / "a.json").write_text(json.dumps(
        {"shapes": [{"label": "thing", "points": points, "shape_type": "polygon"}],
         "imagePath": "a.jpg", "imageWidth": W, "imageHeight": H}))
    return folder


def test_import_modes(photos, tmp_path):
    from sam3_canvas.document.annotation import Instance as Inst
    project = Project(photos)
    doc = project.document(photos / "a.jpg")
    mine = np.zeros((H, W), bool)
    mine[50:58, 60:78] = True
    doc.insert(Inst.from_mask(doc.next_id(), "made in the app", mine))
    project.save(doc)
    source = _labelme_dataset(tmp_path, [[10, 10], [40, 10], [40, 30]])

    def labels():
        return sorted(i.label for i in Project(photos).document(photos / "a.jpg").instances)

    assert import_into_project(Project(photos), "labelme", source).instances == 1
    again = import_into_project(Project(photos), "labelme", source)  # default: skip-existing
    assert again.instances == 0 and again.skipped == 1
    assert labels() == ["made in the app", "thing"]
    import_into_project(Project(photos), "labelme", source, mode="append")
    assert labels() == ["made in the app", "thing", "thing"]
    source = _labelme_dataset(tmp_path, [[5, 5], [70, 5], [70, 50]])  # the dataset changed
    replaced = import_into_project(Project(photos), "labelme", source, mode="replace")
    assert replaced.replaced == 2 and replaced.instances == 1
    assert labels() == ["made in the app", "thing"]
    big = [i for i in Project(photos).document(photos / "a.jpg").instances if i.label == "thing"]
    assert big[0].area > 1000


def test_the_cli_says_when_nothing_was_imported(photos, tmp_path, capsys):
    from sam3_canvas.cli import main
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["import", "--format", "labelme", str(empty), str(photos)]) == 2
    assert "nothing was imported" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["yolo", "voc"])
def test_label_names_with_quotes_colons_and_accents_survive(fmt, photos, tmp_path):
    import yaml
    name = 'chat "noir": é'
    project = Project(photos)
    doc = project.document(photos / "a.jpg")
    doc.insert(Instance.from_mask(doc.next_id(), name, _truth()))
    project.save(doc)
    export_project(project, fmt, tmp_path / "out")
    if fmt == "yolo":  # what ultralytics reads: PyYAML's safe_load
        data = yaml.safe_load((tmp_path / "out" / "data.yaml").read_text(encoding="utf-8"))
        assert data["names"] == {0: name} and data["nc"] == 1
    target = tmp_path / "copy"
    write_photo(target / "a.jpg", W, H)
    import_into_project(Project(target), fmt, tmp_path / "out")
    assert [i.label for i in Project(target).document(target / "a.jpg").instances] == [name]


@pytest.mark.parametrize("fmt, options", [("yolo", {"copy_images": True}), ("voc", {}),
                                          ("labelme", {}), ("png", {}), ("coco", {})])
def test_images_sharing_a_stem_never_overwrite_each_other(fmt, options, tmp_path):
    folder = tmp_path / "photos"
    write_photo(folder / "a.jpg", W, H, seed=1)
    write_photo(folder / "a.png", W, H, seed=2)
    project = Project(folder)
    boxes = {"a.jpg": (5, 20), "a.png": (40, 70)}
    for name, (x0, x1) in boxes.items():
        doc = project.document(folder / name)
        mask = np.zeros((H, W), bool)
        mask[10:30, x0:x1] = True
        doc.insert(Instance.from_mask(doc.next_id(), name.replace(".", "-"), mask))
        project.save(doc)
    export_project(project, fmt, tmp_path / "out", **options)
    target = tmp_path / "copy"
    write_photo(target / "a.jpg", W, H, seed=1)
    write_photo(target / "a.png", W, H, seed=2)
    report = import_into_project(Project(target), fmt, tmp_path / "out")
    assert not report.problems, report.problems
    for name, (x0, x1) in boxes.items():
        (inst,) = Project(target).document(target / name).instances
        ys, xs = np.nonzero(inst.mask())
        assert abs(xs.min() - x0) <= 1 and abs(xs.max() - (x1 - 1)) <= 1, (fmt, name)


def test_one_image_of_two_sharing_a_stem_exports_under_its_own_name(tmp_path):
    from sam3_canvas.app.datasets import export_documents
    folder = tmp_path / "photos"
    write_photo(folder / "a.jpg", W, H, seed=1)
    write_photo(folder / "a.png", W, H, seed=2)
    project = Project(folder)
    doc = project.document(folder / "a.png")
    doc.insert(Instance.from_mask(doc.next_id(), "thing", _truth()))
    project.save(doc)
    export_documents(project, [doc], "voc", tmp_path / "out")  # "this image only"
    assert (tmp_path / "out" / "SegmentationObject" / "a_png.png").is_file()
    import_into_project(Project(folder), "voc", tmp_path / "out", mode="append")
    assert len(Project(folder).document(folder / "a.png").instances) == 2
    assert Project(folder).document(folder / "a.jpg").instances == []


def test_a_labelme_mask_shape_partly_or_wholly_off_the_image(photos, tmp_path):
    import base64
    import io
    import json
    small = np.zeros((10, 20), np.uint8)
    small[:, :] = 1
    buf = io.BytesIO()
    Image.fromarray(small * 255).save(buf, format="PNG")
    encoded = base64.b64encode(buf.getvalue()).decode()
    folder = tmp_path / "lm"
    folder.mkdir()
    shapes = [{"label": "edge", "shape_type": "mask", "mask": encoded,
               "points": [[-5, -3], [14, 6]]},
              {"label": "gone", "shape_type": "mask", "mask": encoded,
               "points": [[500, 500], [519, 509]]}]
    (folder / "a.json").write_text(json.dumps({"shapes": shapes, "imagePath": "a.jpg",
                                               "imageWidth": W, "imageHeight": H}))
    report = import_into_project(Project(photos), "labelme", folder)
    (inst,) = Project(photos).document(photos / "a.jpg").instances
    ys, xs = np.nonzero(inst.mask())
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (0, 14, 0, 6)  # clipped, not wrapped
    assert any("outside" in p and "gone" in p for p in report.problems)
