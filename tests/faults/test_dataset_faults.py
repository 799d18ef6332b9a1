"""Dataset files with NaN, negative, huge and malformed values: each problem is one line, the
rest is imported, and memory stays bounded (each import runs under a 3 GB address-space
limit; one NaN or 1e300 coordinate once made pycocotools allocate ~20 GB or crash)."""

from __future__ import annotations

import json
import resource
import sys

import numpy as np
import pytest
from PIL import Image

from tests.faults.conftest import all_json_valid, run_cli_process, write_photo

GROUP = "Dataset files"
MEMORY_LIMIT = 3 << 30


def _limited():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _import(fmt, source, photos):
    return run_cli_process("import", "--format", fmt, source, photos, timeout=300,
                           preexec_fn=_limited if sys.platform != "win32" else None)


def _photos(folder, names, size=(64, 48)):
    for n, name in enumerate(names):
        write_photo(folder / name, *size, seed=n)
    return folder


GOOD = [[10, 10], [50, 10], [50, 40], [10, 40]]
LABELME_BAD = {
    "nan-point": {"shapes": [{"label": "a", "points": [[float("nan"), 1], [5, 5], [9, 1]],
                              "shape_type": "polygon"}]},
    "huge-point": {"shapes": [{"label": "a", "points": [[1e300, 1], [5, 5], [9, 1]],
                               "shape_type": "polygon"}]},
    "negative-far": {"shapes": [{"label": "a", "points": [[-1e6, 1], [5, 5], [9, 1]],
                                 "shape_type": "polygon"}]},
    "points-a-string": {"shapes": [{"label": "a", "points": "10,10 50,10 50,40",
                                    "shape_type": "polygon"}]},
    "shape-not-a-dict": {"shapes": ["polygon"]},
    "shapes-not-a-list": {"shapes": {"label": "a"}},
    "group-id-a-list": {"shapes": [{"label": "a", "points": GOOD, "group_id": [1],
                                    "shape_type": "polygon"}]},
    "huge-size": {"imageWidth": 10 ** 9, "imageHeight": 10 ** 9},
    "negative-size": {"imageWidth": -64},
}


def test_malformed_labelme_files(tmp_path, fault):
    record = fault("labelme files with NaN, 1e300, negative, huge and malformed values",
                   GROUP)
    names = [f"{case}.jpg" for case in LABELME_BAD] + ["good.jpg"]
    photos = _photos(tmp_path / "photos", names)
    source = tmp_path / "labelme"
    source.mkdir()
    for name in names:
        case = name[:-4]
        data = {"version": "5.5.0", "flags": {}, "imagePath": name, "imageData": None,
                "imageWidth": 64, "imageHeight": 48,
                "shapes": [{"label": "good", "points": GOOD, "group_id": None,
                            "shape_type": "polygon", "flags": {}}]}
        data.update(LABELME_BAD.get(case, {}))
        (source / f"{case}.json").write_text(json.dumps(data))
    result = _import("labelme", source, photos)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    skipped = [line for line in result.stderr.splitlines() if "skipped:" in line]
    for case in LABELME_BAD:
        assert any(f"{case}.json" in line for line in skipped), (case, result.stderr)
    # the good file and the good shape of the group-id case are imported
    good = json.loads((photos / ".sam3-canvas" / "good.jpg.json").read_text())
    assert len(good["instances"]) == 1
    assert all_json_valid(photos) == []
    record.seen(next(line for line in skipped if "nan-point" in line).split("labelme/")[-1])
    record.seen(next(line for line in skipped if "huge-size" in line).split("labelme/")[-1])
    record.keeps("every well-formed shape and file imported; the dataset files untouched")


def _coco_rle(mask):
    from pycocotools import mask as mask_utils
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode()}


def test_malformed_coco_file(tmp_path, fault):
    record = fault("a COCO file with NaN, 1e300, negative and malformed values", GROUP)
    photos = _photos(tmp_path / "photos", ["a.jpg", "b.jpg", "c.jpg"])
    mask = np.zeros((48, 64), bool)
    mask[10:30, 10:40] = True
    good_rle = _coco_rle(mask)
    annotations = [
        {"id": 1, "image_id": 1, "category_id": 1, "segmentation": [[10, 10, 50, 10, 50, 40]]},
        {"id": 2, "image_id": 1, "category_id": 1,
         "segmentation": [[float("nan"), 10, 50, 10, 50, 40]]},
        {"id": 3, "image_id": 1, "category_id": 1, "segmentation": [[1e300, 10, 50, 10, 50, 40]]},
        {"id": 4, "image_id": 1, "category_id": 1, "segmentation": [[-1e7, 10, 50, 10, 50, 40]]},
        {"id": 5, "image_id": 1, "category_id": 1,
         "segmentation": {"size": [48, 64], "counts": [10, 5]}},  # too few pixels
        {"id": 6, "image_id": 1, "category_id": 1,
         "segmentation": {"size": [48, 64], "counts": "0" + "zzzz" * 50}},  # garbage
        {"id": 7, "image_id": 1, "category_id": 1,
         "segmentation": {"size": [48, 64], "counts": good_rle["counts"][:-3] + "Z02"}},
        "not an annotation",
        {"id": 8, "image_id": 1, "category_id": 1, "segmentation": [["x", 1, 2, 3, 4, 5]]},
        {"id": 9, "image_id": 1, "category_id": 1, "segmentation": good_rle},
        {"id": 10, "image_id": 2, "category_id": 1, "segmentation": good_rle},
        {"id": 11, "image_id": 3, "category_id": 1, "segmentation": good_rle},
    ]
    data = {"images": [{"id": 1, "file_name": "a.jpg", "width": 64, "height": 48},
                       {"id": 2, "file_name": "b.jpg", "height": 48},  # no width
                       {"id": 3, "file_name": "c.jpg", "width": -64, "height": 48}],
            "annotations": annotations, "categories": [{"id": 1, "name": "thing"}]}
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(data))  # Python writes NaN as the bare word NaN
    result = _import("coco", path, photos)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    skipped = [line for line in result.stderr.splitlines() if "skipped:" in line]
    for ann in range(2, 9):
        assert any(f"annotation {ann}:" in line for line in skipped) or ann == 7, ann
    assert any("not an object" in line for line in skipped)
    assert any("image 2:" in line for line in skipped) and any("image 3:" in line
                                                              for line in skipped)
    doc = json.loads((photos / ".sam3-canvas" / "a.jpg.json").read_text())
    assert [i["source"]["id"] for i in doc["instances"]][:1] == [1]
    assert 9 in [i["source"]["id"] for i in doc["instances"]]
    record.seen(next(line for line in skipped if "annotation 2:" in line).split("json: ")[-1])
    record.seen(next(line for line in skipped if "annotation 6:" in line).split("json: ")[-1])
    record.keeps("every well-formed annotation imported; the file untouched")


def test_malformed_yolo_files(tmp_path, fault):
    record = fault("YOLO label files with NaN, inf, fractional classes, 1e300, non-UTF-8",
                   GROUP)
    photos = _photos(tmp_path / "photos", ["a.jpg", "b.jpg"])
    labels = tmp_path / "yolo" / "labels"
    labels.mkdir(parents=True)
    (tmp_path / "yolo" / "data.yaml").write_text("names:\n  0: thing\n  1: other\n")
    lines = ["0 0.1 0.1 0.5 0.1 0.5 0.6",  # good
             "nan 0.1 0.1 0.5 0.1 0.5 0.6", "inf 0.1 0.1 0.5 0.1 0.5 0.6",
             "0.7 0.1 0.1 0.5 0.1 0.5 0.6", "0 nan 0.1 0.5 0.1 0.5 0.6",
             "0 1e300 0.1 0.5 0.1 0.5 0.6", "0 -1e9 0.1 0.5 0.1 0.5 0.6", "7 0.1 0.1 0.5 0.1 0.5",
             "0 0.1 0.1"]
    (labels / "a.txt").write_text("\n".join(lines) + "\n")
    (labels / "b.txt").write_bytes(b"0 0.1 0.1 0.5 \xff\xfe 0.1\n")
    result = _import("yolo", tmp_path / "yolo", photos)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    skipped = [line for line in result.stderr.splitlines() if "skipped:" in line]
    for number in range(2, len(lines) + 1):
        assert any(f"line {number}:" in line for line in skipped), (number, result.stderr)
    assert any("b.txt" in line for line in skipped)
    doc = json.loads((photos / ".sam3-canvas" / "a.jpg.json").read_text())
    assert len(doc["instances"]) == 1
    record.seen(next(line for line in skipped if "line 4:" in line).split("labels/")[-1])
    record.seen(next(line for line in skipped if "line 6:" in line).split("labels/")[-1])
    record.keeps("every well-formed line imported; the files untouched")


def test_malformed_voc_pngs(tmp_path, fault):
    record = fault("VOC label maps that are corrupt, truncated or of the wrong size", GROUP)
    photos = _photos(tmp_path / "photos", ["a.jpg", "b.jpg", "c.jpg", "d.jpg"])
    voc = tmp_path / "voc"
    for sub in ("SegmentationClass", "SegmentationObject"):
        (voc / sub).mkdir(parents=True)
    objects = np.zeros((48, 64), np.uint8)
    objects[5:20, 5:30] = 1
    classes = objects * 3
    for name in ("a", "b", "c", "d"):
        Image.fromarray(objects).save(voc / "SegmentationObject" / f"{name}.png")
        Image.fromarray(classes).save(voc / "SegmentationClass" / f"{name}.png")
    (voc / "SegmentationObject" / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    data = (voc / "SegmentationClass" / "c.png").read_bytes()
    (voc / "SegmentationClass" / "c.png").write_bytes(data[: len(data) // 2])
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(voc / "SegmentationObject" / "d.png")
    result = _import("voc", voc, photos)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    skipped = [line for line in result.stderr.splitlines() if "skipped:" in line]
    for name in ("b.png", "c.png", "d.png"):
        assert any(name in line for line in skipped), (name, result.stderr)
    assert json.loads((photos / ".sam3-canvas" / "a.jpg.json").read_text())["instances"]
    record.seen(next(line for line in skipped if "b.png" in line).split("voc/")[-1])
    record.keeps("every readable map imported; the files untouched")


@pytest.mark.parametrize("damage", ["truncated", "nan-size", "garbage-rle"])
def test_a_damaged_annotation_file_of_our_own(damage, tmp_path, cli, fault):
    """Our own .sam3-canvas/<image>.json damaged by hand or by a broken disk: import and
    export report it, never rename it and never overwrite it."""
    record = fault(f"our own annotation file damaged ({damage}), then `import`", GROUP) \
        if damage == "garbage-rle" else None
    photos = _photos(tmp_path / "photos", ["a.jpg"])
    (photos / ".sam3-canvas").mkdir()
    path = photos / ".sam3-canvas" / "a.jpg.json"
    body = {"format": "sam3-canvas/annotation", "version": 1,
            "image": {"file": "a.jpg", "width": 64, "height": 48},
            "instances": [{"id": 1, "label": "x", "mask": {"size": [48, 64], "counts": "P`0"}}]}
    if damage == "truncated":
        path.write_text(json.dumps(body)[:50])
    elif damage == "nan-size":
        body["image"]["width"] = float("nan")
        path.write_text(json.dumps(body))
    else:
        path.write_text(json.dumps(body))
    before = path.read_bytes()
    labelme = tmp_path / "lm"
    labelme.mkdir()
    (labelme / "a.json").write_text(json.dumps(
        {"shapes": [{"label": "x", "points": GOOD, "shape_type": "polygon"}],
         "imagePath": "a.jpg", "imageWidth": 64, "imageHeight": 48}))
    result = cli("import", "--format", "labelme", labelme, photos)
    assert result.code == 2  # nothing could be imported
    assert "a.jpg.json" in result.err and "unchanged" in result.err
    assert path.read_bytes() == before
    assert not [p.name for p in (photos / ".sam3-canvas").iterdir() if "corrupt" in p.name]
    if record:
        record.seen(result.err.splitlines()[0].split("photos/")[-1])
        record.keeps("the damaged file, untouched and not renamed")
