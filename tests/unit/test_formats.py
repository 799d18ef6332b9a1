"""Datasets out and in, measured on the GrabCut-style masks of tests/fixtures/objects.

Every mask (holes down to one pixel, 1-3 px parts, separate parts, a tiny object, one cut by
the border) goes out in each format and back in; the 128 band of the ground truth is ignored
when scoring. Exact formats must give IoU 1.0; polygon formats are held to floors (the
figures on the real GrabCut set are printed by bench/bench_formats.py).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from sam3_canvas.app.datasets import export_project, import_into_project
from sam3_canvas.app.project import Project
from sam3_canvas.document.annotation import Document, Instance
from tests.conftest import fixture_path

POLYGON_FLOOR_MEAN = 0.995
POLYGON_FLOOR_WORST = 0.99
OBJECTS = 14  # photo + mask pairs in tests/fixtures/objects


def _truth(name: str) -> tuple[np.ndarray, np.ndarray]:
    gt = np.asarray(Image.open(fixture_path(f"objects/masks/{Path(name).stem}.png")))
    return gt == 255, gt != 128  # object, pixels that count


@pytest.fixture(scope="module")
def grabcut(tmp_path_factory) -> Path:
    """A folder of the 14 fixture photos, each annotated with its ground-truth mask."""
    folder = tmp_path_factory.mktemp("grabcut")
    project = Project(folder, images=[])
    for image in sorted(fixture_path("objects/images").glob("*.jpg")):
        shutil.copy(image, folder / image.name)
        mask, _ = _truth(image.name)
        doc = Document(image.name, mask.shape[1], mask.shape[0])
        label = "person" if image.name.startswith("person") else "object"
        doc.insert(Instance.from_mask(1, label, mask))
        project.labels.add(label)
        project.save(doc)
    project.save_labels()
    return folder


def _fresh_copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "again"
    target.mkdir()
    for image in folder.glob("*.jpg"):
        shutil.copy(image, target / image.name)
    return target


def _round_trip(grabcut, tmp_path, fmt, **options):
    out = tmp_path / f"out-{fmt}"
    report = export_project(Project(grabcut), fmt, out, **options)
    target = _fresh_copy(grabcut, tmp_path)
    imported = import_into_project(Project(target), fmt, out)
    assert not imported.problems, imported.problems
    ious, labels = {}, {}
    for doc in Project(target).images and [Project(target).document(p)
                                           for p in Project(target).images]:
        (inst,) = doc.instances
        mask = inst.mask()
        truth, valid = _truth(doc.image_file)
        ious[doc.image_file] = ((mask & truth) & valid).sum() / ((mask | truth) & valid).sum()
        labels[doc.image_file] = inst.label
    assert len(ious) == OBJECTS
    assert all(labels[n] == ("person" if n.startswith("person") else "object") for n in labels)
    return report, ious


@pytest.mark.parametrize("fmt, options", [("coco", {}), ("png", {}), ("voc", {})])
def test_exact_formats_give_every_mask_back(grabcut, tmp_path, fmt, options):
    report, ious = _round_trip(grabcut, tmp_path, fmt, **options)
    assert report.images == OBJECTS and report.instances == OBJECTS and not report.warnings
    assert min(ious.values()) == 1.0


@pytest.mark.parametrize("fmt, options", [("coco", {"polygons": True}), ("yolo", {}),
                                          ("labelme", {})])
def test_polygon_formats_keep_shape_holes_and_parts(grabcut, tmp_path, fmt, options):
    report, ious = _round_trip(grabcut, tmp_path, fmt, **options)
    values = list(ious.values())
    assert np.mean(values) >= POLYGON_FLOOR_MEAN and min(values) >= POLYGON_FLOOR_WORST
    # every hole and every part survives, as the format's reader draws it (the fixtures hold a
    # one-pixel hole, 1-px wires, spokes, separate stones and a tiny object)
    assert not report.warnings, report.warnings
    assert report.lost.parts == 0 and report.lost.holes == 0
    assert report.lost.mean_iou >= 0.99


def test_holes_and_parts_survive_polygons_exactly_enough():
    from sam3_canvas.annotations.polygons import bridge_parts, mask_to_polygons, polygons_to_mask
    yy, xx = np.mgrid[0:120, 0:200]
    ring = (np.hypot(xx - 50, yy - 60) < 40) & (np.hypot(xx - 50, yy - 60) > 15)
    square = (xx >= 120) & (xx < 180) & (yy >= 20) & (yy < 100)
    mask = ring | square
    found = mask_to_polygons(mask, tolerance=0.0)
    assert len(found.parts) == 2 and found.holes == 1 and found.holes_kept == 1
    back = polygons_to_mask(found.parts, 200, 120)
    assert not back[60, 50]  # the hole is still a hole
    assert (back ^ mask).sum() <= 0.01 * mask.sum()
    single = polygons_to_mask([bridge_parts(found.parts)], 200, 120)  # YOLO: one ring
    assert not single[60, 50] and (single ^ mask).sum() <= 0.02 * mask.sum()


def test_real_coco_file_imports_and_exports_faithfully(tmp_path):
    source = fixture_path("coco/instances.json")
    folder = tmp_path / "coco"
    folder.mkdir()
    for image in fixture_path("coco").glob("*.jpg"):
        shutil.copy(image, folder / image.name)
    project = Project(folder)
    report = import_into_project(project, "coco", source)
    assert report.instances == 28 and not report.problems  # 16 + 12, see fixtures/README.md
    reference = COCO(str(source))
    # the file holds compressed RLE, uncompressed RLE (the crowds) and polygons
    kinds = {"polygons" if isinstance(a["segmentation"], list) else
             type(a["segmentation"]["counts"]).__name__ for a in reference.dataset["annotations"]}
    assert kinds == {"polygons", "str", "list"}
    crowd = [i for d in report.documents for i in d.instances if i.source["iscrowd"]]
    assert len(crowd) == 2
    for fmt_options in ({}, {"polygons": True}):
        out = tmp_path / f"export-{len(fmt_options)}"
        export_project(Project(folder), "coco", out, **fmt_options)
        written = COCO(str(out / "annotations.json"))  # pycocotools reads what we wrote
        assert len(written.getAnnIds()) == 28
        by_name = {img["file_name"]: img for img in written.dataset["images"]}
        for ref_ann in reference.dataset["annotations"]:
            ref_img = reference.imgs[ref_ann["image_id"]]
            ref_mask = reference.annToMask(ref_ann).astype(bool)
            ref_label = reference.cats[ref_ann["category_id"]]["name"]
            img_id = by_name[ref_img["file_name"]]["id"]
            candidates = [a for a in written.loadAnns(written.getAnnIds(imgIds=[img_id]))
                          if written.cats[a["category_id"]]["name"] == ref_label]
            best = max(_iou(written.annToMask(a).astype(bool), ref_mask) for a in candidates)
            if fmt_options:
                assert best >= 0.98  # polygons of all the masks, tiny and crowd ones too
            else:
                assert best == 1.0


def test_real_labelme_files_import_and_export(tmp_path):
    folder = tmp_path / "voc"
    folder.mkdir()
    for image in fixture_path("labelme").glob("*.jpg"):
        shutil.copy(image, folder / image.name)
    report = import_into_project(Project(folder), "labelme", fixture_path("labelme"))
    counts = {d.image_file: len(d.instances) for d in report.documents}
    # group_id 0 joins two person shapes, and four sofa shapes, into one instance each; road
    # has a rectangle and a circle shape besides its polygons
    assert counts == {"kitchen.jpg": 3, "living_room.jpg": 6, "road.jpg": 5}
    assert sum("ignore (void) region" in p for p in report.problems) == 2
    assert len(report.problems) == 2
    first = {d.image_file: d for d in (Project(folder).document(folder / n) for n in counts)}
    out = tmp_path / "labelme-out"
    export_project(Project(folder), "labelme", out)
    written = json.loads((out / "living_room.json").read_text())
    assert {s["label"] for s in written["shapes"]} == {"person", "chair", "sofa"}
    sofa_groups = {s["group_id"] for s in written["shapes"] if s["label"] == "sofa"}
    assert len(sofa_groups) == 1 and None not in sofa_groups  # still one instance, 4 parts
    again = tmp_path / "again"
    again.mkdir()
    for image in folder.glob("*.jpg"):
        shutil.copy(image, again / image.name)
    import_into_project(Project(again), "labelme", out)
    for name, doc in first.items():
        redone = Project(again).document(again / name)
        assert [i.label for i in redone.instances] == [i.label for i in doc.instances]
        for a, b in zip(doc.instances, redone.instances):
            assert _iou(a.mask(), b.mask()) >= 0.98


def _iou(a, b):
    union = (a | b).sum()
    return 1.0 if union == 0 else (a & b).sum() / union


def test_bad_coco_input_is_reported_and_the_rest_imported(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    shutil.copy(fixture_path("objects/images/teddy.jpg"), folder / "teddy.jpg")
    w, h = Image.open(folder / "teddy.jpg").size
    good = {"size": [h, w], "counts": _rle_counts(np.ones((h, w), bool))}
    data = {"images": [{"id": 1, "file_name": "teddy.jpg", "width": w, "height": h},
                       {"id": 2, "file_name": "missing.jpg", "width": 10, "height": 10}],
            "categories": [{"id": 1, "name": "toy"}],
            "annotations": [
                {"id": 10, "image_id": 1, "category_id": 1, "segmentation": good},
                {"id": 11, "image_id": 1, "category_id": 99, "segmentation": good},
                {"id": 12, "image_id": 1, "category_id": 1,
                 "segmentation": {"size": [h + 1, w], "counts": good["counts"]}},
                {"id": 13, "image_id": 1, "category_id": 1, "segmentation": [[1, 1, 5, 5]]},
                {"id": 14, "image_id": 2, "category_id": 1, "segmentation": good}]}
    path = tmp_path / "ann.json"
    path.write_text(json.dumps(data))
    report = import_into_project(Project(folder), "coco", path)
    text = "\n".join(report.problems)
    assert report.instances == 1
    assert "annotation 11: unknown category 99" in text
    assert "annotation 12: RLE size" in text and "disagrees" in text
    assert "annotation 13: a polygon needs at least three points" in text
    assert "missing.jpg" in text and str(path) in text
    path.write_text("{not json")
    broken = import_into_project(Project(folder), "coco", path)
    assert broken.instances == 0 and "not a readable COCO file" in broken.problems[0]


def _rle_counts(mask):
    from sam3_canvas.document import rle
    return rle.encode(mask)["counts"]


def test_bad_labelme_and_yolo_input(tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    shutil.copy(fixture_path("objects/images/teddy.jpg"), folder / "teddy.jpg")
    w, h = Image.open(folder / "teddy.jpg").size
    shapes = [{"label": "toy", "points": [[10, 10], [100, 10], [100, 100]],
               "shape_type": "polygon"},
              {"label": "toy", "points": [[10, 10], [20, 20]], "shape_type": "polygon"},
              {"label": "x", "points": [[1, 1]], "shape_type": "point"}]
    source = tmp_path / "lm"
    source.mkdir()
    (source / "teddy.json").write_text(json.dumps(
        {"shapes": shapes, "imagePath": "teddy.jpg", "imageWidth": w, "imageHeight": h}))
    (source / "broken.json").write_text("{")
    report = import_into_project(Project(folder), "labelme", source)
    text = "\n".join(report.problems)
    assert report.instances == 1
    assert "teddy.json: shape 2 (toy): a polygon needs at least three points" in text
    assert "shape 3 (x): shape type 'point' is not an area" in text
    assert "broken.json: not a readable labelme file" in text
    yolo = tmp_path / "yolo"
    (yolo / "labels").mkdir(parents=True)
    (yolo / "classes.txt").write_text("toy\n")
    (yolo / "labels" / "teddy.txt").write_text("0 0.1 0.1 0.5 0.1 0.5 0.5\n0 0.1 0.1\n"
                                               "3 0.1 0.1 0.2 0.2 0.3 0.1\nzero one\n")
    report = import_into_project(Project(folder), "yolo", yolo)
    text = "\n".join(report.problems)
    assert report.instances == 1
    assert "line 2: a polygon needs at least three points" in text
    assert "line 3: class 3 is not in the class list" in text and "line 4: not numbers" in text


def test_a_failed_export_leaves_nothing_half_written(grabcut, tmp_path):
    out = tmp_path / "dataset"
    export_project(Project(grabcut), "voc", out)  # a previous, complete export
    before = sorted(p.name for p in (out / "SegmentationClass").iterdir())
    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copytree(grabcut / ".sam3-canvas", broken / ".sam3-canvas")
    for image in list(grabcut.glob("*.jpg"))[:4]:  # most images (10 of 14) are missing
        shutil.copy(image, broken / image.name)
    project = Project(broken, images=sorted(grabcut.glob("*.jpg")))
    project.folder = broken
    with pytest.raises(FileNotFoundError):
        export_project(project, "voc", out, copy_images=True)
    assert sorted(p.name for p in (out / "SegmentationClass").iterdir()) == before
    assert not (out / "JPEGImages").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".dataset")] == []


def test_coco_identity_survives_import_and_export(tmp_path):
    """iscrowd, image ids, category ids and supercategories come back as they went in;
    polygon area and bbox are those of the written polygons as pycocotools reads them."""
    source = fixture_path("coco/instances.json")
    folder = tmp_path / "coco"
    folder.mkdir()
    for image in fixture_path("coco").glob("*.jpg"):
        shutil.copy(image, folder / image.name)
    import_into_project(Project(folder), "coco", source)
    reference = COCO(str(source))
    for polygons in (False, True):
        out = tmp_path / f"out-{polygons}"
        export_project(Project(folder), "coco", out, polygons=polygons)
        written = COCO(str(out / "annotations.json"))
        assert {(i["id"], i["file_name"]) for i in written.dataset["images"]} == \
            {(i["id"], i["file_name"]) for i in reference.dataset["images"]}
        used = {a["category_id"] for a in reference.dataset["annotations"]}
        kept = {(c["id"], c["name"], c["supercategory"]) for c in written.dataset["categories"]}
        assert {(c["id"], c["name"], c["supercategory"]) for c in reference.dataset["categories"]
                if c["id"] in used} <= kept
        by_id = {a["id"]: a for a in written.dataset["annotations"]}
        for ref in reference.dataset["annotations"]:
            ann = by_id[ref["id"]]
            assert (ann["image_id"], ann["category_id"], ann["iscrowd"]) == \
                (ref["image_id"], ref["category_id"], ref["iscrowd"])
            if ann["iscrowd"]:
                assert isinstance(ann["segmentation"], dict)  # crowds stay RLE
            mask = written.annToMask(ann)
            assert ann["area"] == int(mask.sum())
            if isinstance(ann["segmentation"], list):
                img = written.imgs[ann["image_id"]]
                flat = np.concatenate([np.asarray(p) for p in ann["segmentation"]])
                assert flat[0::2].min() >= 0 and flat[0::2].max() <= img["width"]
                assert flat[1::2].min() >= 0 and flat[1::2].max() <= img["height"]
                ys, xs = np.nonzero(mask)
                assert ann["bbox"][0] <= xs.min() and ann["bbox"][1] <= ys.min()


def test_version_1_files_load_and_stay_version_1(tmp_path):
    """Files written before video (version 1) load unchanged, and a document that uses no
    video field is still written as version 1, so an older app reads it."""
    from sam3_canvas.document.annotation import Document, Instance
    old = {"format": "sam3-canvas/annotation", "version": 1,
           "image": {"file": "a.jpg", "width": 4, "height": 3, "sha256": ""},
           "instances": [{"id": 1, "label": "x", "mask": {"size": [3, 4], "counts": "039"},
                          "bbox": [0, 0, 1, 1], "area": 3, "score": None, "source": {},
                          "hidden": False}], "next_id": 2}
    (tmp_path / "a.json").write_text(json.dumps(old))
    doc = Document.load(tmp_path / "a.json")
    assert doc.frame is None and doc.instances[0].track_id is None
    assert doc.to_json()["version"] == 1
    mask = np.zeros((3, 4), bool)
    mask[1, 1:3] = True
    doc.insert(Instance.from_mask(doc.next_id(), "y", mask, track_id=4))
    video = Document("clip.mp4", 4, 3, frame=12, instances=list(doc.instances))
    data = video.to_json()
    assert data["version"] == 2 and data["image"]["frame"] == 12
    back = Document.from_json(json.loads(json.dumps(data)))
    assert back.frame == 12 and [i.track_id for i in back.instances] == [None, 4]
    data["version"] = 3
    with pytest.raises(Exception, match="newer sam3-canvas"):
        Document.from_json(data)
