"""Every format, broken in every way fuzz_imports.py knows: no traceback, no kill, bounded
memory, one line per problem; and `import` exits 2 when nothing was imported."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from collections import Counter
from pathlib import Path

from tests.faults.conftest import run_cli_process

MEMORY_LIMIT = 2 << 30
GROUP = "Dataset files"


def _limited():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def test_broken_dataset_files_of_every_format(tmp_path, fault):
    record = fault("fuzzed COCO, labelme, YOLO, VOC and PNG files (wrong types at every level, "
                   "NaN, inf, 1e300, negative, missing keys, truncated, garbled)", GROUP)
    script = Path(__file__).with_name("fuzz_imports.py")
    done = subprocess.run([sys.executable, str(script), str(tmp_path)], capture_output=True,
                          text=True, timeout=900, preexec_fn=_limited,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-3000:]  # not killed, not out of memory
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(results) > 500
    crashes = [r for r in results if r["outcome"] == "crash"]
    assert not crashes, crashes[:5]
    for result in results:
        for line in result["lines"]:
            assert isinstance(line, str) and "\n" not in line and "Traceback" not in line, \
                result
    counts = Counter(r["format"] for r in results)
    assert set(counts) == {"coco", "labelme", "yolo", "voc", "png"}
    # the good annotations of a file survive the broken ones beside them
    coco = [r for r in results if r["format"] == "coco" and r["case"].startswith(
        "annotations/0/segmentation/0/")]  # the polygon broken, the crowd RLE beside it
    assert coco and all(r["instances"] >= 1 for r in coco if r["outcome"] == "ok")
    record.seen(f"{len(results)} broken files: each problem one line "
                f"(e.g. “{next(r['lines'][0] for r in results if r['lines']).split(': ', 1)[-1]}”)")
    record.keeps("everything well-formed in each file imported; memory under 2 GB")


def test_import_exits_2_when_nothing_was_imported(tmp_path, fault):
    record = fault("`import` of a file with nothing usable", GROUP)
    photos = tmp_path / "photos"
    photos.mkdir()
    from PIL import Image
    Image.new("RGB", (64, 48)).save(photos / "a.jpg")
    broken = tmp_path / "instances.json"
    broken.write_text('{"images": "not a list"}')
    result = run_cli_process("import", "--format", "coco", broken, photos)
    assert result.returncode == 2
    assert "nothing was imported" in result.stderr.splitlines()[-1]
    record.seen(result.stderr.strip().splitlines()[-1].replace(str(tmp_path), "…"))
    record.keeps("the dataset file and the folder's annotations, unchanged")
