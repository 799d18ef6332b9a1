"""Atomic writes keep file modes (a team's shared folder stays readable) and a killed write's
temporary file is recognised as stale."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from sam3_canvas.annotations.export_target import staged_export
from sam3_canvas.fsutil import (
    atomic_write_text,
    is_stale,
    remove_stale_temporaries,
    temporary_name,
    writer_pid,
)


@pytest.fixture()
def umask_002():
    old = os.umask(0o002)
    yield 0o002
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_new_file_gets_the_umask_mode(tmp_path, umask_002):
    path = atomic_write_text(tmp_path / "new.json", "{}")
    assert mode(path) == 0o664  # not mkstemp's 0600


def test_a_rewritten_file_keeps_its_mode(tmp_path, umask_002):
    path = tmp_path / "shared.json"
    path.write_text("{}")
    os.chmod(path, 0o640)
    atomic_write_text(path, '{"a": 1}')
    assert mode(path) == 0o640 and path.read_text() == '{"a": 1}'


def test_export_folders_and_files_get_the_umask_mode(tmp_path, umask_002):
    out = tmp_path / "dataset"
    with staged_export(out, "coco") as staging:
        (staging / "labels").mkdir()
        atomic_write_text(staging / "labels" / "a.txt", "0 0 0 1 0 1 1\n")
    assert mode(out) == 0o775 and mode(out / "labels") == 0o775  # not mkdtemp's 0700
    assert mode(out / "labels" / "a.txt") == 0o664


def test_temporary_names_carry_the_writer(tmp_path):
    name = temporary_name(tmp_path / "a.jpg.json").name
    assert name.startswith(".a.jpg.json.") and writer_pid(name) == os.getpid()
    assert writer_pid(".sam3-canvas-export.tmp-4242-00ff00ff") == 4242


def test_a_dead_writers_temporary_file_is_stale_a_live_ones_is_not(tmp_path):
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout)
    stale = tmp_path / f".x.json.{dead}.12345678.tmp"
    live = temporary_name(tmp_path / "y.json")
    for path in (stale, live):
        path.write_text("{")
        os.utime(path, (os.path.getmtime(path) - 5,) * 2)
    assert is_stale(stale) and not is_stale(live)
    unrelated = tmp_path / ".notes.tmp"  # not a name we make: never removed
    unrelated.write_text("mine")
    assert remove_stale_temporaries(tmp_path) == [stale]
    assert live.exists() and unrelated.exists()

