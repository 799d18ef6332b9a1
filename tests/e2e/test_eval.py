"""``eval clicks``, ``eval coco`` and ``bench`` through the real CLI, over real ONNX sessions of
the fakes: the oracle reaches the truth in one click, the geometric fake gives the numbers a
hand computation gives, COCO AP agrees with pycocotools, and the results reach the app."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sam3_canvas.evaluation import history
from sam3_canvas.testing import fake_models
from tests.conftest import fixture_path
from tests.faults.conftest import write_photo


def disc(shape, centre, radius):
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius ** 2


def _dataset(root: Path, size=(320, 240)) -> tuple[Path, Path, np.ndarray]:
    images, masks = root / "images", root / "masks"
    write_photo(images / "ring.jpg", *size, seed=3)
    truth = disc((size[1], size[0]), (size[1] // 2, size[0] // 2), 50)
    masks.mkdir(parents=True)
    Image.fromarray(truth.astype(np.uint8) * 255).save(masks / "ring.png")
    return images, masks, truth


def test_the_oracle_reaches_the_truth_with_the_first_click(cli, tmp_path):
    images, masks, truth = _dataset(tmp_path)
    oracle = fake_models.write_oracle_pack(tmp_path / "oracle", truth)
    run = cli("eval", "clicks", "--images", images, "--masks", masks, "--model-dir", oracle,
              "--no-disk-cache", "--max-clicks", "3", "--json")
    assert run.code == 0, run.err
    result = json.loads(run.out)
    detail = result["objects_detail"][0]
    assert detail["image"] == "ring.jpg" and detail["ious"][0] >= 0.99
    assert result["noc"] == {"85": 1.0, "90": 1.0} and result["nof"] == {"85": 0, "90": 0}
    first = detail["clicks"][0]
    assert (first["x"], first["y"], first["positive"]) == (160, 120, True)


def test_the_geometric_fake_gives_the_hand_computed_numbers(cli, tmp_path):
    """A square image, so model pixels are image pixels: a truth disc of radius 100 clicked at
    its centre gets the fake's radius-120 disc (ranked first): IoU (100/120)^2; the best of
    three is the same disc; the next click is a background click in the ring between the two
    radii, at about 110 from the centre."""
    images, masks = tmp_path / "images", tmp_path / "masks"
    write_photo(images / "square.png", 1008, 1008, seed=1)
    masks.mkdir()
    truth = disc((1008, 1008), (500, 500), 100)
    ids = truth.astype(np.uint8)
    ids[disc((1008, 1008), (150, 150), 60)] = 2  # a second object: an instance-id PNG
    Image.fromarray(ids).save(masks / "square.png")
    pack = fake_models.write_tracker_pack(tmp_path / "fake")
    run = cli("eval", "clicks", "--images", images, "--masks", masks, "--model-dir", pack,
              "--no-disk-cache", "--max-clicks", "2", "--json")
    assert run.code == 0, run.err
    result = json.loads(run.out)
    first, second = result["objects_detail"]
    assert (first["image"], second["image"]) == ("square.png#1", "square.png#2")
    assert first["ious"][0] == pytest.approx((100 / 120) ** 2, abs=0.01)
    assert first["best_of_three_ious"][0] == pytest.approx(first["ious"][0])
    assert (first["clicks"][0]["x"], first["clicks"][0]["y"]) == (500, 500)
    back = first["clicks"][1]
    assert not back["positive"]
    assert np.hypot(back["x"] - 500, back["y"] - 500) == pytest.approx(110, abs=2)
    # object 2, radius 60: the fake's smallest disc (radius 60) fits it, but the model ranks
    # the radius-120 disc first: the best of three shows what a person picking would get
    assert second["ious"][0] == pytest.approx((60 / 120) ** 2, abs=0.01)
    assert second["best_of_three_ious"][0] > 0.97
    assert result["miou"][0] == pytest.approx(np.mean([first["ious"][0], second["ious"][0]]),
                                              abs=1e-4)


def test_the_table_the_curve_and_the_apps_history(cli, tmp_path, fake_pack):
    images, masks, _ = _dataset(tmp_path)
    out = tmp_path / "curve"
    run = cli("eval", "clicks", "--images", images, "--masks", masks, "--model-dir", fake_pack,
              "--no-disk-cache", "--max-clicks", "5", "--out", out)
    assert run.code == 0, run.err
    assert "NoC@85" in run.out and "best of three vs truth" in run.out
    rows = (out / "miou_per_click.csv").read_text().splitlines()
    assert rows[0] == "clicks,miou,miou_best_of_three" and len(rows) == 6
    assert Image.open(out / "miou_per_click.png").size[0] > 100
    latest = history.load()[0]
    assert latest["kind"] == "clicks" and latest["summary"]["max_clicks"] == 5
    assert "NoC@85" in history.describe(latest)


def test_masks_that_match_no_image_are_one_line(cli, tmp_path, fake_pack):
    images, _, _ = _dataset(tmp_path)
    empty = tmp_path / "other"
    empty.mkdir()
    run = cli("eval", "clicks", "--images", images, "--masks", empty, "--model-dir", fake_pack)
    assert run.code == 2 and "matched by file stem" in run.last_error


def _coco_results(data: dict) -> list[dict]:
    return [{"image_id": a["image_id"], "category_id": a["category_id"],
             "segmentation": a["segmentation"], "bbox": a["bbox"], "score": 1.0}
            for a in data["annotations"]]


def test_coco_ap_is_one_for_the_truth_itself(cli, tmp_path):
    gt = fixture_path("coco/instances.json")
    pred = tmp_path / "results.json"
    pred.write_text(json.dumps(_coco_results(json.loads(gt.read_text()))))
    run = cli("eval", "coco", "--gt", gt, "--pred", pred, "--json")
    assert run.code == 0, run.err
    result = json.loads(run.out)
    for kind in ("segm", "bbox"):
        assert result[kind]["ap"] == pytest.approx(1.0) and result[kind]["ap50"] == 1.0
        assert set(result[kind]["per_class"]) >= {"person", "car", "dog"}


def test_coco_ap_matches_pycocotools_on_a_perturbed_copy(cli, tmp_path):
    from pycocotools import mask as mask_utils
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
    gt_path = fixture_path("coco/instances.json")
    data = json.loads(gt_path.read_text())
    rng = np.random.default_rng(7)
    results = []
    for ann in data["annotations"][::2] + data["annotations"][1::4]:  # some left out
        image = next(i for i in data["images"] if i["id"] == ann["image_id"])
        rle = ann["segmentation"]
        if isinstance(rle, list):
            rle = mask_utils.merge(mask_utils.frPyObjects(rle, image["height"], image["width"]))
        elif isinstance(rle["counts"], list):
            rle = mask_utils.frPyObjects(rle, image["height"], image["width"])
        mask = mask_utils.decode(rle)
        mask = np.roll(mask, int(rng.integers(-6, 7)), axis=1)  # shifted a little
        encoded = mask_utils.encode(np.asfortranarray(mask))
        encoded["counts"] = encoded["counts"].decode()
        x, y, w, h = ann["bbox"]
        results.append({"image_id": ann["image_id"], "category_id": ann["category_id"],
                        "segmentation": encoded, "bbox": [x + rng.uniform(-5, 5), y, w, h],
                        "score": float(rng.uniform(0.3, 1.0))})
    pred = tmp_path / "results.json"
    pred.write_text(json.dumps(results))
    run = cli("eval", "coco", "--gt", gt_path, "--pred", pred, "--json")
    assert run.code == 0, run.err
    ours = json.loads(run.out)
    coco = COCO(str(gt_path))
    for kind, drop in (("segm", "bbox"), ("bbox", "segmentation")):
        own = [{k: v for k, v in copy.deepcopy(r).items() if k != drop} for r in results]
        evaluation = COCOeval(coco, coco.loadRes(own), kind)
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
        assert ours[kind]["ap"] == pytest.approx(evaluation.stats[0], abs=1e-4)
        assert ours[kind]["ap75"] == pytest.approx(evaluation.stats[2], abs=1e-4)
        assert 0.1 < ours[kind]["ap"] < 0.9  # perturbed: neither perfect nor nothing


def test_coco_ap_of_the_apps_annotation_files(cli, tmp_path):
    """The folder's own files (here imported from the ground truth) as the predictions."""
    folder = tmp_path / "street"
    folder.mkdir()
    for name in ("street.jpg", "park.jpg"):
        shutil.copy(fixture_path(f"coco/{name}"), folder / name)
    gt = fixture_path("coco/instances.json")
    assert cli("import", "--format", "coco", gt, folder).code == 0
    run = cli("eval", "coco", "--gt", gt, "--pred", folder, "--json")
    assert run.code == 0, run.err
    assert json.loads(run.out)["segm"]["ap"] == pytest.approx(1.0)


def test_bench_times_each_variant_and_compares_their_masks(cli, tmp_path):
    pack = fake_models.write_tracker_pack(tmp_path / "pack")
    fake_models.write_tracker_pack(pack, "fp16")
    out = tmp_path / "bench"
    run = cli("bench", "--model-dir", pack, "--json", "--out", out)
    assert run.code == 0, run.err
    rows = json.loads(run.out)["rows"]
    assert [(r["variant"], r["provider"], r["ran_on"]) for r in rows] == [
        ("fp32", "cpu", "cpu"), ("fp16", "cpu", "cpu")]
    assert rows[0]["agreement_iou"] == 1.0 and rows[1]["agreement_iou"] > 0.95
    for row in rows:
        assert row["encode_ms"]["median"] > 0 and row["load_ms"] > 0 and row["peak_mb"] > 50
    assert (out / "bench.csv").read_text().count("\n") == 3
    assert (out / "bench.png").is_file()
    table = cli("bench", "--model-dir", pack, "--variants", "fp16,q4")
    assert table.code == 2 and "no variant q4" in table.last_error


def test_the_model_menu_shows_the_last_measurements(cli, qtbot, tmp_path, monkeypatch,
                                                    fake_pack):
    """What `eval clicks` and `bench` measured shows in the window's Model menu."""
    pytest.importorskip("pytestqt")
    from PySide6.QtWidgets import QTableWidget

    from tests.gui_helpers import window_factory
    images, masks, _ = _dataset(tmp_path)
    assert cli("eval", "clicks", "--images", images, "--masks", masks, "--model-dir",
               fake_pack, "--no-disk-cache", "--max-clicks", "2").code == 0
    make, stop = window_factory(qtbot, tmp_path, monkeypatch)
    try:
        window = make(fake_pack)
        menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Model")
        action = next(a for a in menu.actions() if a.text().startswith("Measurements"))
        action.trigger()
        table = window.measurements_box.findChild(QTableWidget, "measurements")
        rows = [[table.item(r, c).text() for c in range(table.columnCount())]
                for r in range(table.rowCount())]
        assert ["clicks (NoC)", fake_pack.name, str(images)] == \
            [rows[0][1], rows[0][2], rows[0][4]], rows
        assert rows[0][3].startswith("NoC@85 ") and "(1 objects)" in rows[0][3]
    finally:
        stop()


def test_a_ground_truth_with_annotation_id_0_still_scores_its_match(cli, tmp_path):
    """COCOeval's "no match" is id 0: the COCO panoptic sample uses id 0, and the truth itself
    scored AP 0.99 on it until the ids were renumbered."""
    data = json.loads(fixture_path("coco/instances.json").read_text())
    data["annotations"][0]["id"] = 0
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps(data))
    pred = tmp_path / "results.json"
    pred.write_text(json.dumps(_coco_results(data)))
    result = json.loads(cli("eval", "coco", "--gt", gt, "--pred", pred, "--json").out)
    assert result["segm"]["ap"] == pytest.approx(1.0) and result["bbox"]["ap"] == \
        pytest.approx(1.0)


def test_a_measurement_row_shows_its_whole_line_on_hover(qtbot, tmp_path, monkeypatch):
    """Cells are cut to the column; the tooltip is the row as one line."""
    pytest.importorskip("pytestqt")
    from PySide6.QtWidgets import QTableWidget, QWidget

    from sam3_canvas.gui.measurements import measurements_dialog
    monkeypatch.setenv("SAM3_CANVAS_DATA_DIR", str(tmp_path))
    history.record("coco", "results.json", {"segm": {"ap": 0.5, "ap50": 0.7, "ap75": 0.4}},
                   "gt.json")
    parent = QWidget()
    qtbot.addWidget(parent)
    table = measurements_dialog(parent).findChild(QTableWidget, "measurements")
    assert table.rowCount() == 1
    tip = table.item(0, 3).toolTip()
    assert tip.startswith("results.json: AP 0.5, AP50 0.7, AP75 0.4 (gt.json, ")
