"""Atomic file writes that keep file modes, and the clean-up of what a killed write left.

A crash or a full disk never leaves a half-written file in place: the data goes to a temporary
file beside the target, is fsynced, then renamed over it. The temporary file is created with
mode 0666 minus the umask (what ``open()`` gives a new file), and a rewritten file keeps the
mode it had, so a team's shared folder stays readable to the team. Temporary names carry the
writer's process id, so a later start can tell a leftover of a killed process from a write in
flight (``remove_stale_temporaries``).
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import time
from collections.abc import Callable
from pathlib import Path

#: temporary files are named ``.<target name>.<pid>.<random>.tmp``
TEMP_SUFFIX = ".tmp"


def temporary_name(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def _existing_mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None


def atomic_write(path: str | os.PathLike, write: Callable[[object], None],
                 mode: str = "wb") -> Path:
    """Call ``write(fh)`` on a temporary file beside ``path``, fsync it, then rename it in.

    On any error the temporary file is removed and the previous ``path`` (if any) is intact.
    A new file gets the umask's mode; a rewritten one keeps its own.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, mode) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        keep = _existing_mode(path)
        if keep is not None:
            os.chmod(tmp, keep)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    return atomic_write(path, lambda fh: fh.write(data))  # type: ignore[attr-defined]


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def make_folder(path: Path) -> Path:
    """``mkdir`` with the umask's mode (``tempfile.mkdtemp`` would make it 0700)."""
    os.mkdir(path, 0o777)
    return path


def unique_folder(parent: Path, prefix: str) -> Path:
    """A new folder ``parent/<prefix><pid>-<random>`` with the umask's mode."""
    while True:
        candidate = parent / f"{prefix}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            return make_folder(candidate)
        except FileExistsError:
            continue


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    except OSError:
        return True
    return True


def writer_pid(name: str) -> int | None:
    """The process id in a temporary name made here (``.x.<pid>.<hex>.tmp`` or
    ``<prefix><pid>-<hex>``), or None."""
    if name.endswith(TEMP_SUFFIX):
        parts = name[:-len(TEMP_SUFFIX)].split(".")
        pid = parts[-2] if len(parts) >= 3 else ""
        return int(pid) if pid.isdigit() else None
    head, _, tail = name.rpartition("-")
    digits = ""
    while head and head[-1].isdigit():
        digits, head = head[-1] + digits, head[:-1]
    return int(digits) if digits and tail else None


def is_stale(path: Path, min_age_s: float = 2.0, max_age_s: float = 3600.0) -> bool:
    """A leftover of a killed writer: its process is gone (and it is not brand new), or it is
    older than ``max_age_s`` whoever wrote it (a writer on another machine)."""
    try:
        age = time.time() - path.lstat().st_mtime
    except OSError:
        return False
    if age > max_age_s:
        return True
    pid = writer_pid(path.name)
    return age >= min_age_s and pid is not None and not pid_alive(pid)


def remove_stale_temporaries(folder: Path, **age) -> list[Path]:
    """Delete the temporary files that killed ``atomic_write`` calls left in ``folder``
    (only names this module makes); returns what was removed."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and name.endswith(TEMP_SUFFIX) and entry.is_file()):
            continue
        path = Path(entry.path)
        if is_stale(path, **age):
            try:
                path.unlink()
                removed.append(path)
            except OSError:
                pass
    return removed


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def describe_os_error(exc: OSError) -> str:
    """What a failed write means for the user, in a few words."""
    if is_disk_full(exc):
        return "the disk is full"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return "the folder is read-only (permission denied)" if exc.errno != errno.EROFS \
            else "the folder is on a read-only file system"
    return exc.strerror or str(exc)
