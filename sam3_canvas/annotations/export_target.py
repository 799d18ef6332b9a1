"""Where an export may write, and how it lands there without deleting what it did not write.

An export is written into a staging folder and then put in place:

* a destination that does not exist yet: the staging folder, made beside it, is renamed to it
  (one atomic step);
* an existing destination (an empty folder, ``.``, a mount point, a previous export of ours):
  the staging folder is made inside it and its files are renamed into place one by one.

Every export leaves a manifest, ``.sam3-canvas-export.json``, listing the files it wrote with
their size and modification time. A re-export replaces and removes only files listed there and
unchanged since; a file the user edited after the export wrote it is theirs again. A destination
that holds any other file (the photos, someone's notes, another tool's dataset, an edited
``classes.txt``) is refused with one line unless the user asks to write beside them
(``beside=True``); even then no existing file is overwritten. The annotation store
(``.sam3-canvas/``) is neither: an export never writes there and does not count it. Before
files move, the manifest already lists both the old and the new files, so an export killed
half-way leaves a folder that the next export still recognises as its own. Staging folders of
killed exports are removed by the next export into the same place.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..document.annotation import ANNOTATION_DIR
from ..engine.errors import Sam3CanvasError
from ..fsutil import atomic_write_text, is_stale, unique_folder

MANIFEST = ".sam3-canvas-export.json"
MANIFEST_FORMAT = "sam3-canvas/export"
STAGING_PREFIX = ".sam3-canvas-export.tmp-"
#: files that operating systems drop into any folder: never ours, never in the way
SYSTEM_FILES = {".DS_Store", "Thumbs.db", "desktop.ini", ".directory", ".localized"}


class ExportRefused(Sam3CanvasError):
    """The destination holds files this program did not write (or is not a folder)."""


@dataclass
class Destination:
    """What is in an export destination now."""

    folder: Path
    exists: bool
    ours: set[str] = field(default_factory=set)  # files a previous export wrote, unchanged
    foreign: list[str] = field(default_factory=list)  # every other file
    previous_format: str = ""  # the format of the previous export there, if any

    def describe_foreign(self, limit: int = 3) -> str:
        shown = ", ".join(self.foreign[:limit])
        more = f" and {len(self.foreign) - limit} more" if len(self.foreign) > limit else ""
        return f"{shown}{more}"


def _stamp(path: Path) -> list[int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _read_manifest(folder: Path) -> tuple[dict[str, list | None], str]:
    """{file: [size, mtime_ns] as written (None: not recorded)} and the dataset format."""
    path = folder / MANIFEST
    if not path.is_file():
        return {}, ""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != MANIFEST_FORMAT:
            return {}, ""
        files = data.get("files", {})
        if isinstance(files, list):  # version 1: names only
            files = {str(p): None for p in files if isinstance(p, str)}
        return {str(k): v if isinstance(v, list) else None for k, v in files.items()}, \
            str(data.get("dataset_format", ""))
    except (OSError, ValueError, AttributeError):
        return {}, ""


def _files(folder: Path) -> list[str]:
    """Relative POSIX paths of every file and link under ``folder`` (links not followed),
    leaving out our manifest, our staging folders and the system's own files."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not (Path(root) == folder and (
            d.startswith(STAGING_PREFIX) or d == ANNOTATION_DIR)))
        for name in sorted(files + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
            if name in SYSTEM_FILES:
                continue
            rel = Path(root, name).relative_to(folder).as_posix()
            if rel != MANIFEST:
                found.append(rel)
    return found


def inspect(folder: str | os.PathLike) -> Destination:
    """What a destination holds; raises :class:`ExportRefused` if it cannot be one at all."""
    folder = Path(folder).absolute()
    if folder.exists() and not folder.is_dir():
        raise ExportRefused(f"{folder} is a file, not a folder")
    if any(part == ANNOTATION_DIR for part in folder.parts):
        raise ExportRefused(f"{folder} is inside an annotation folder (.sam3-canvas); choose "
                            "another folder for the dataset")
    if not folder.exists():
        return Destination(folder, exists=False)
    listed, fmt = _read_manifest(folder)
    ours = {rel for rel, stamp in listed.items()
            if stamp is None or _stamp(folder / rel) == stamp}  # edited since: theirs now
    foreign = [f for f in _files(folder) if f not in ours]
    return Destination(folder, exists=True, ours=ours, foreign=foreign, previous_format=fmt)


def refusal(dest: Destination) -> str:
    return (f"{dest.folder} already holds {len(dest.foreign)} file(s) that sam3-canvas did not "
            f"write ({dest.describe_foreign()}); nothing was written. Choose a new or empty "
            "folder, or write beside them (--beside; no file is deleted or overwritten)")


def _remove_stale_staging(parent: Path) -> None:
    try:
        entries = [p for p in parent.iterdir() if p.name.startswith(STAGING_PREFIX)]
    except OSError:
        return
    for path in entries:
        if path.is_dir() and is_stale(path, min_age_s=0.0):
            shutil.rmtree(path, ignore_errors=True)


def _write_manifest(folder: Path, files: dict[str, list | None], fmt: str) -> None:
    atomic_write_text(folder / MANIFEST, json.dumps(
        {"format": MANIFEST_FORMAT, "version": 2, "dataset_format": fmt,
         "written": time.strftime("%Y-%m-%dT%H:%M:%S"),
         "files": {rel: files[rel] for rel in sorted(files)}}, indent=1))


def _remove_empty_parents(path: Path, stop: Path) -> None:
    parent = path.parent
    while parent != stop and stop in parent.parents:
        try:
            parent.rmdir()  # only when empty
        except OSError:
            return
        parent = parent.parent


@dataclass
class Outcome:
    """What an export did to its destination (filled in when it lands)."""

    replaced: list[str] = field(default_factory=list)  # files of the previous export rewritten
    removed: list[str] = field(default_factory=list)  # files of the previous export removed
    previous_format: str = ""


@contextlib.contextmanager
def staged_export(out: str | os.PathLike, fmt: str = "", beside: bool = False,
                  outcome: Outcome | None = None):
    """Yield an empty staging folder; when the block ends without an error, put its files
    in ``out`` as described above (and say in ``outcome`` which files of a previous export
    were replaced or removed). On an error the staging folder is removed and ``out`` is left
    exactly as it was."""
    outcome = outcome if outcome is not None else Outcome()
    dest = inspect(out)
    if dest.foreign and not beside:
        raise ExportRefused(refusal(dest))
    outcome.previous_format = dest.previous_format
    out = dest.folder
    parent = out if dest.exists else out.parent
    if not dest.exists:
        parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(parent)
    staging = unique_folder(parent, STAGING_PREFIX)
    try:
        yield staging
        new = {rel: _stamp(staging / rel) for rel in _files(staging)}
        if not dest.exists:
            _write_manifest(staging, new, fmt)
            os.rename(staging, out)  # fails if something appeared there meanwhile
            return
        clashes = sorted(f for f in new if f not in dest.ours and os.path.lexists(out / f))
        if clashes:
            raise ExportRefused(
                f"{out} already holds {', '.join(clashes[:3])}"
                f"{' and more' if len(clashes) > 3 else ''}, which sam3-canvas did not write "
                "(or which was edited since); nothing was written. Choose a new or empty folder")
        old = {rel: _stamp(out / rel) for rel in dest.ours}
        _write_manifest(out, {**old, **new}, fmt)  # a kill from here on leaves it ours
        for rel in sorted(new):
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, target)
        for rel in sorted(dest.ours - set(new)):
            target = out / rel
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            _remove_empty_parents(target, out)
        _write_manifest(out, new, fmt)
        outcome.replaced = sorted(set(new) & dest.ours)
        outcome.removed = sorted(dest.ours - set(new))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
