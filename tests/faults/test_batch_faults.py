"""`detect` and `import` on folders that refuse writes or are full, with images over the limit
and damaged annotation files: one line each, exit code 2, the batch goes on, nothing lost."""

from __future__ import annotations

import json

import pytest

from sam3_canvas.testing.fake_text_models import write_text_pack
from tests.faults.conftest import (
    all_json_valid,
    bad_image,
    digest_tree,
    fill,
    read_only,
    small_disk,
    write_photo,
)

GROUP = "Batch commands"


@pytest.fixture(scope="module")
def text_pack(tmp_path_factory):
    return write_text_pack(tmp_path_factory.mktemp("text") / "pack", "A2")


def _detect(cli, pack, *paths):
    return cli("detect", *paths, "--classes", "thing", "--model-dir", pack, "--no-disk-cache")


def _labelme(folder, names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f"{name[:-4]}.json").write_text(json.dumps(
            {"shapes": [{"label": "x", "points": [[10, 10], [60, 10], [60, 50]],
                         "shape_type": "polygon"}],
             "imagePath": name, "imageWidth": 160, "imageHeight": 120}))
    return folder


def test_detect_goes_on_past_bad_images_and_a_damaged_annotation_file(tmp_path, cli, text_pack,
                                                                       fault):
    record = fault("`detect` over a folder with a huge image, a corrupt one and a damaged "
                   "annotation file", GROUP)
    photos = tmp_path / "photos"
    for name in ("a.jpg", "c.jpg"):
        write_photo(photos / name, seed=len(name))
    bad_image("huge", photos)
    bad_image("corrupt", photos)
    (photos / ".sam3-canvas").mkdir()
    damaged = photos / ".sam3-canvas" / "c.jpg.json"
    damaged.write_text('{"format": "sam3-canvas/annotation", "ima')
    result = _detect(cli, text_pack, photos)
    assert result.code == 2
    assert "1 instances in 1 images" in result.out or "instances in 1 images" in result.out
    summary = result.err[result.err.index("failed:"):]
    assert "huge.png" in summary and "over the 200 MP limit" in summary
    assert "corrupt.jpg" in summary
    assert "c.jpg.json" in summary and "left as it is" in summary
    assert damaged.read_text() == '{"format": "sam3-canvas/annotation", "ima'
    assert (photos / ".sam3-canvas" / "a.jpg.json").is_file()
    record.seen(result.err.splitlines()[-4])
    record.seen(next(line for line in result.err.splitlines()[-3:] if "c.jpg" in line)
                .strip())
    record.keeps("every good image detected; the damaged file untouched; each failure listed "
                 "at the end")


def test_detect_into_a_read_only_folder(tmp_path, cli, text_pack, fault):
    record = fault("`detect` with a read-only .sam3-canvas", GROUP)
    photos = tmp_path / "photos"
    write_photo(photos / "a.jpg")
    (photos / ".sam3-canvas").mkdir()
    with read_only(photos / ".sam3-canvas"):
        result = _detect(cli, text_pack, photos)
    assert result.code == 2
    assert "read-only" in result.err and "could not save" in result.err
    assert list((photos / ".sam3-canvas").iterdir()) == []
    record.seen(result.err.splitlines()[0].replace(str(tmp_path), "…"))
    record.keeps("nothing written; the photos")


def test_detect_onto_a_full_disk(tmp_path, cli, text_pack, fault):
    record = fault("`detect` onto a full disk", GROUP)
    disk = tmp_path / "disk"
    with small_disk(disk, 512):
        photos = disk / "photos"
        write_photo(photos / "a.jpg")
        write_photo(photos / "b.jpg", seed=1)
        assert _detect(cli, text_pack, photos / "a.jpg").code == 0
        before = digest_tree(photos)
        fill(disk)
        result = _detect(cli, text_pack, photos / "b.jpg")
        assert result.code == 2 and "the disk is full" in result.err
        after = digest_tree(photos)
        assert all(after[k] == v for k, v in before.items())  # a.jpg's file untouched
        assert all_json_valid(photos) == []
    record.seen(result.err.splitlines()[0].replace(str(tmp_path), "…"))
    record.keeps("every annotation file already written, whole")


def test_import_into_a_read_only_folder(tmp_path, cli, fault):
    record = fault("`import` with a read-only .sam3-canvas", GROUP)
    photos = tmp_path / "photos"
    write_photo(photos / "a.jpg")
    (photos / ".sam3-canvas").mkdir()
    source = _labelme(tmp_path / "lm", ["a.jpg"])
    with read_only(photos / ".sam3-canvas"):
        result = cli("import", "--format", "labelme", source, photos)
    assert result.code == 2 and "read-only" in result.last_error
    assert len(result.err.strip().splitlines()) == 1
    record.seen(result.last_error.replace(str(tmp_path), "…"))
    record.keeps("nothing written; the dataset and the photos")


def test_import_onto_a_full_disk(tmp_path, cli, fault):
    record = fault("`import` onto a full disk", GROUP)
    disk = tmp_path / "disk"
    with small_disk(disk, 512):
        photos = disk / "photos"
        names = [f"img{n}.jpg" for n in range(3)]
        for n, name in enumerate(names):
            write_photo(photos / name, seed=n)
        source = _labelme(tmp_path / "lm", names)
        fill(disk)
        result = cli("import", "--format", "labelme", source, photos)
        assert result.code == 2 and "the disk is full" in result.last_error
        assert all_json_valid(photos) == []
    record.seen(result.last_error.replace(str(tmp_path), "…"))
    record.keeps("every annotation file whole (an import that runs again adds only what is "
                 "missing)")


def test_export_onto_a_mount_point(tmp_path, cli):
    """`--out` a mount point: the staging folder goes inside it (a rename across file systems
    would fail), and the dataset lands there."""
    photos = tmp_path / "photos"
    write_photo(photos / "a.jpg")
    source = _labelme(tmp_path / "lm", ["a.jpg"])
    assert cli("import", "--format", "labelme", source, photos).code == 0
    with small_disk(tmp_path / "usb", 2048) as usb:
        result = cli("export", "--format", "coco", "--out", usb, photos)
        assert result.code == 0, result.err
        assert json.loads((usb / "annotations.json").read_text())["annotations"]
        assert sorted(p.name for p in usb.iterdir()) == [".sam3-canvas-export.json",
                                                         "annotations.json"]


def _coco_boxes(path, names):
    """One box per image, in the middle of a 160 x 120 photo."""
    path.write_text(json.dumps({
        "images": [{"id": n, "file_name": name, "width": 160, "height": 120}
                   for n, name in enumerate(names, 1)],
        "annotations": [{"id": n, "image_id": n, "category_id": 1, "bbox": [40, 30, 80, 60],
                         "area": 4800, "iscrowd": 0} for n in range(1, len(names) + 1)],
        "categories": [{"id": 1, "name": "thing"}]}))
    return path


def test_an_encoder_that_gives_nan_for_one_image_of_a_shared_run(tmp_path, cli, fault):
    """Three images in one encoder run, one of which the model turns into NaN: that image
    fails alone with one line, the others are done exactly as one by one, nothing is cached
    from the bad one."""
    from PIL import Image

    from sam3_canvas.testing.fake_models import write_nan_pack
    record = fault("`segment --boxes-from --encoder-batch 3` with an encoder that gives NaN "
                   "for one image", GROUP)
    pack = write_nan_pack(tmp_path / "pack")
    names = ["a.jpg", "dark.jpg", "c.jpg"]
    runs = {}
    for batch in ("3", "1"):
        photos = tmp_path / f"photos{batch}"
        for seed, name in enumerate(names):
            write_photo(photos / name, seed=seed)  # brighter than mid-grey
        Image.new("RGB", (160, 120), (25, 30, 35)).save(photos / "dark.jpg")
        boxes = _coco_boxes(tmp_path / "boxes.json", names)
        run = cli("segment", "--boxes-from", boxes, "--image", photos, "--model-dir", pack,
                  "--no-disk-cache", "--encoder-batch", batch)
        assert run.code == 2, run.err
        assert "2 instances in 2 images" in run.out
        line = next(line for line in run.err.splitlines() if "dark.jpg" in line)
        assert "NaN or infinite" in line and "Traceback" not in run.err
        done = photos / ".sam3-canvas"
        assert sorted(p.name for p in done.glob("*.jpg.json")) == ["a.jpg.json", "c.jpg.json"]
        runs[batch] = {p.name: p.read_bytes() for p in done.glob("*.jpg.json")}
    assert runs["3"] == runs["1"]
    record.seen(line.strip())
    record.keeps("the two good images of the run done, byte for byte as one image per run; "
                 "nothing written or cached for the bad one")
