"""The fault suite: every way a user's input or machine can go wrong, through the real CLI and
the real window.

Each test names its case with the ``fault`` fixture and records what the user saw and what was
kept. With ``SAM3_CANVAS_FAULT_TABLE=FILE`` set, the run writes those
records as a table; pointed at docs/reliability.md, it replaces the table between the doc's
``<!-- fault table -->`` markers:
``SAM3_CANVAS_FAULT_TABLE=docs/reliability.md pytest tests/faults``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# the tests' log file stays out of the user's log folder
os.environ.setdefault("SAM3_CANVAS_LOG_DIR", str(Path(__import__("tempfile").mkdtemp(
    prefix="sam3-canvas-test-logs-"))))

_RECORDS: dict[str, dict] = {}


@dataclass
class Fault:
    case: str
    group: str
    saw: list[str] = field(default_factory=list)
    kept: str = ""

    def seen(self, text: str) -> None:
        text = re.sub(r"/tmp/pytest-of-[^/\s]+/pytest-\d+/[^/\s]+/", "…/", str(text))
        self.saw.append(" ".join(text.split()))

    def keeps(self, text: str) -> None:
        self.kept = text


@pytest.fixture()
def fault(request):
    """``fault(case, group)`` -> a record for the reliability table."""
    made = []

    def make(case: str, group: str) -> Fault:
        record = Fault(case, group)
        made.append(record)
        return record

    yield make
    if request.node.rep_call.passed if hasattr(request.node, "rep_call") else True:
        for record in made:
            _RECORDS[record.case] = {"group": record.group, "saw": record.saw,
                                     "kept": record.kept, "test": request.node.nodeid}


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.rep_call = report


def pytest_sessionfinish(session, exitstatus):
    target = os.environ.get("SAM3_CANVAS_FAULT_TABLE")
    if not target or not _RECORDS:
        return
    rows = ["| case | what the user sees | what is kept |", "|---|---|---|"]
    for group in dict.fromkeys(r["group"] for r in _RECORDS.values()):
        rows.append(f"| **{group}** | | |")
        for case, r in _RECORDS.items():
            if r["group"] == group:
                saw = "<br>".join(s.replace("|", "\\|") for s in r["saw"]) or "—"
                rows.append(f"| {case} | {saw} | {r['kept'].replace('|', chr(92) + '|')} |")
    table = "\n".join(rows) + "\n"
    path = Path(target)
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    start, end = "<!-- fault table -->\n", "<!-- /fault table -->"
    if start in text and end in text:  # splice into the doc, between its markers
        table = text[:text.index(start) + len(start)] + table + text[text.index(end):]
    path.write_text(table, encoding="utf-8")


# -- the CLI in its own process (``cli``, in this process, is in tests/conftest.py) ----------

def run_cli_process(*args, timeout: float = 120, env: dict | None = None,
                    **kwargs) -> subprocess.CompletedProcess:
    """The CLI in its own process (for kills and real exit codes)."""
    return subprocess.run([sys.executable, "-m", "sam3_canvas", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, **kwargs)


# -- files ----------------------------------------------------------------------------------

def digest_tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with the sha256 of its bytes (to prove nothing changed)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def photo_array(width: int = 160, height: int = 120, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([xx * 255 // max(width - 1, 1), yy * 255 // max(height - 1, 1),
                     (xx + yy) * 255 // max(width + height - 2, 1)], axis=2)
    noise = rng.integers(0, 40, (height, width, 3))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def write_photo(path: Path, width: int = 160, height: int = 120, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(photo_array(width, height, seed)).save(path, quality=90)
    return path


def bad_image(kind: str, folder: Path) -> Path:
    """An image file that is broken, or odd, in one way a user's folder can hold."""
    folder.mkdir(parents=True, exist_ok=True)
    good = io.BytesIO()
    Image.fromarray(photo_array()).save(good, format="JPEG", quality=90)
    if kind == "corrupt":
        data = bytearray(good.getvalue())
        # the same bytes every run: random ones broke the JPEG header in some runs and only
        # the pixels in others, so the message (and the tests reading it) changed by chance
        data[200:2000] = np.random.default_rng(1800).bytes(1800)
        path = folder / "corrupt.jpg"
        path.write_bytes(bytes(data[:600]) + b"\x00" * 64)
    elif kind == "zero-byte":
        path = folder / "empty.jpg"
        path.write_bytes(b"")
    elif kind == "truncated":
        path = folder / "truncated.jpg"
        path.write_bytes(good.getvalue()[: len(good.getvalue()) // 3])
    elif kind == "non-image":
        path = folder / "notes.png"
        path.write_text("these are my notes, not a picture\n")
    elif kind == "huge":
        # 15000 x 14000 = 210 MP, over the default limit: a valid PNG header that says so and
        # a body a decoder would choke on (it must never be decoded)
        path = folder / "huge.png"
        path.write_bytes(png_header(15000, 14000))
    elif kind == "16-bit":
        path = folder / "sixteen.png"
        values = (photo_array()[:, :, 0].astype(np.uint16) * 257)
        Image.fromarray(values).save(path)
    elif kind == "12-bit":
        path = folder / "twelve.tif"
        values = (photo_array()[:, :, 0].astype(np.uint16) * 16)  # 0..4080 in a 16-bit TIFF
        Image.fromarray(values).save(path)
    elif kind == "cmyk":
        path = folder / "cmyk.jpg"
        Image.fromarray(photo_array()).convert("CMYK").save(path, quality=90)
    elif kind == "palette":
        path = folder / "palette.png"
        Image.fromarray(photo_array()).convert("P", palette=Image.Palette.ADAPTIVE).save(path)
    elif kind == "exif-rotated":
        path = folder / "rotated.jpg"
        img = Image.fromarray(photo_array(160, 120))
        exif = img.getexif()
        exif[0x0112] = 6  # rotate 90° clockwise to display: shown as 120 x 160
        img.save(path, exif=exif, quality=90)
    else:
        raise ValueError(kind)
    return path


def png_header(width: int, height: int) -> bytes:
    """PNG signature and IHDR chunk of an 8-bit greyscale image of that size."""
    import struct
    import zlib
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return b"\x89PNG\r\n\x1a\n" + \
        chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\0" * 4096))


@contextlib.contextmanager
def read_only(folder: Path):
    """``folder`` read-only for this process: a read-only bind mount as root (root ignores
    permission bits), file modes otherwise."""
    if os.geteuid() == 0:
        subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
            yield folder
        finally:
            subprocess.run(["umount", "-l", str(folder)], check=False)
    else:
        modes = {p: p.stat().st_mode for p in [folder, *folder.rglob("*")] if p.is_dir()}
        for p in modes:
            p.chmod(0o555)
        try:
            yield folder
        finally:
            for p, mode in modes.items():
                p.chmod(mode)


@contextlib.contextmanager
def small_disk(folder: Path, kilobytes: int):
    """A tmpfs of ``kilobytes`` at ``folder`` (a full disk on demand); needs root."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a full disk is simulated with a small tmpfs, which needs root")
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs", str(folder)],
                   check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path, leave_bytes: int = 0) -> None:
    """Fill the file system of ``folder`` up to ``leave_bytes`` free."""
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize - leave_bytes
    with open(folder / "filler.bin", "wb") as fh:
        while free > 0:
            chunk = min(free, 1 << 16)
            try:
                fh.write(b"\0" * chunk)
                fh.flush()
            except OSError:
                break
            free -= chunk


def all_json_valid(folder: Path) -> list[str]:
    """The JSON files under ``folder`` that do not parse (should be none)."""
    bad = []
    for path in folder.rglob("*.json"):
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            bad.append(str(path))
    return bad
