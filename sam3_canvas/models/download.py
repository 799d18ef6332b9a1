"""Downloading a model pack with huggingface_hub: staged, verified, installed only when whole.

1. Ask the hub for each file's exact size and (for LFS files) sha256 (``HfApi.get_paths_info``).
2. Fetch each file into a staging folder beside the destination, into a partial file of our own
   (``<name>.part``), with one HTTP GET per file. A partial file left by an earlier attempt
   (cancelled from the progress class, a broken connection, the process killed) is continued
   with a ``Range: bytes=<size of the .part file>-`` request, not started over.
3. Check every staged file's size and sha256 against step 1; a mismatch deletes the file and
   fails with the file's name.
4. Write a manifest and move the staging folder into place with one rename. Until then the
   destination holds nothing (or the previous complete install), so a crash never leaves a
   half pack that the app would try to load.

Only public, documented huggingface_hub API is used, all of it present from 0.20 to 2.x:
``HfApi.get_paths_info`` (the last of them to arrive, in 0.20.0), ``hf_hub_url``,
``get_session`` and ``huggingface_hub.utils.build_hf_headers`` / ``hf_raise_for_status`` /
``are_progress_bars_disabled`` (.ci/min_versions.sh runs the download tests on 0.20.0). Why the
byte transfer is ours and not ``hf_hub_download``'s:

* ``hf_hub_download`` does not resume in 2.x: it downloads into a uniquely named temporary file
  that it deletes when the call fails (an exception from the tqdm class, a broken connection)
  and leaves orphaned after a kill, so every attempt starts from byte 0. Old releases resumed
  from a shared ``.incomplete`` file instead; no behaviour holds across the range.
* ``file_download.http_get`` (what this module used before) is not public: its keyword
  arguments changed between releases, and a TypeError from it was reported as a network error.
* ``HfFileSystem`` reads through an fsspec block cache and asks the hub for more endpoints
  (repo info, tree listing) per file, for no gain over one ranged GET.

So the URL comes from ``hf_hub_url``, the headers (user agent, token) from ``build_hf_headers``
and the bytes from the hub's own HTTP client (``get_session()``: a ``requests.Session`` before
huggingface_hub 1.0, an httpx or httpx2 client since: proxies, certificates and a client
factory set with ``set_client_factory`` / ``configure_http_backend`` apply, and the token is not
forwarded to a CDN on another host when the hub redirects). HTTP errors go through
``hf_raise_for_status``. The price: no hf_xet acceleration; files come over plain HTTPS, which
every hub release serves.

Errors: only a network failure (no connection, a reset, a timeout, a body cut short, HTTP 5xx,
408 or 429) says "run the same command again to resume". HTTP 401/403/404 and anything else
(a bug, a full disk) get their own one-line message: running again would not help there.
A cancel (an exception raised by the progress class's ``update``, as the GUI does) keeps the
partial file and says so. No network (or no Hugging Face) gives one line saying which files to
put where by hand. ``endpoint`` (or ``HF_ENDPOINT``) points it at a mirror, or at the tests'
local stand-in hub. HF_HUB_DOWNLOAD_TIMEOUT (seconds, default 10) bounds each network wait.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine.errors import DownloadError
from .catalogue import Pack, PackFile, Variant
from .store import MANIFEST, ModelStore

CHUNK = 1 << 20  # bytes per read: what is written to the .part file between two progress updates
TRANSIENT_STATUS = (408, 429)  # besides 5xx: the same request may well work a moment later


@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int
    sha256: str | None  # None for small non-LFS files (the hub gives a git blob id only)


class TransferInterrupted(ConnectionError):
    """The server ended a response before the whole body arrived (a network failure)."""


class TransferStopped(Exception):
    """The caller's progress class raised from ``update``: a cancel (the GUI's way)."""

    def __init__(self, cause: BaseException, kept: int):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.kept = kept


def _size(megabytes: float) -> str:
    return f"~{megabytes:,.0f} MB" if megabytes >= 10 else f"~{megabytes:.1f} MB"


def _manual_hint(pack: Pack, variant: Variant, target: Path) -> str:
    """Where to put which files by hand: every file of the variant, sidecars included (a pack
    without them does not load), with its approximate size."""
    files = ", ".join(f"{f.path} ({_size(f.approx_mb)})" for f in variant.files
                      if not f.optional)
    page = pack.homepage or f"https://huggingface.co/{pack.repo}"
    return (f"download {files} from {page}/tree/{pack.revision} by hand, put them in {target} "
            f"keeping their paths, then run `sam3-canvas models verify {pack.name} "
            f"--variant {variant.name}`")


def _network_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean the network failed, from the HTTP stacks that are loaded.

    The stack is that of huggingface_hub's session: requests/urllib3 before 1.0, httpx from 1.0,
    httpx2 from 2.0. A type only matters if its module is loaded, so none is imported here.
    """
    import http.client
    found: list[type[BaseException]] = [ConnectionError, TimeoutError, socket.gaierror,
                                         http.client.IncompleteRead]
    wanted = {
        "requests.exceptions": ("ConnectionError", "Timeout", "ChunkedEncodingError"),
        "urllib3.exceptions": ("ProtocolError", "TimeoutError", "NewConnectionError"),
        "httpx": ("TimeoutException", "NetworkError", "RemoteProtocolError", "ProxyError"),
        "httpx2": ("TimeoutException", "NetworkError", "RemoteProtocolError", "ProxyError"),
    }
    for module_name, names in wanted.items():
        module = sys.modules.get(module_name)
        for name in names:
            kind = getattr(module, name, None)
            if isinstance(kind, type) and issubclass(kind, BaseException):
                found.append(kind)
    return tuple(found)


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0][:200] if lines else type(exc).__name__


def _hub_version() -> str:
    try:
        from huggingface_hub import __version__
        return __version__
    except Exception:  # pragma: no cover - a broken install
        return "?"


def _classify(exc: BaseException) -> tuple[str, bool]:
    """A one-line reason for ``exc``, and whether it is a network failure (worth a retry)."""
    name = type(exc).__name__
    text = _first_line(exc)
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int) and status >= 400:
        if status >= 500 or status in TRANSIENT_STATUS:
            return f"the model hub answered HTTP {status}, a failure on its side ({text})", True
        if status in (401, 403):
            return (f"the model hub refused access (HTTP {status}): the repository may be "
                    f"gated or private; accept its terms on the hub and log in "
                    f"(`hf auth login`, or HF_TOKEN) ({text})"), False
        if "RepositoryNotFound" in name:
            return f"the hub has no such repository (HTTP {status})", False
        if "RevisionNotFound" in name:
            return f"the hub has no such revision (HTTP {status})", False
        if status == 404:
            return f"the hub has no such file (HTTP 404, {text})", False
        return f"the model hub answered HTTP {status} ({text})", False
    if isinstance(exc, TransferInterrupted):
        return f"the transfer broke off ({text})", True
    if isinstance(exc, _network_errors()):
        return f"cannot reach the model hub ({name}: {text})", True
    if isinstance(exc, OSError):  # a local file problem: disk full, no permission
        return f"{name}: {text}", False
    return (f"{name}: {text} (an error in sam3-canvas or in huggingface_hub "
            f"{_hub_version()}, not a network failure: please report it)"), False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def with_sidecars(files: tuple[PackFile, ...]) -> list[PackFile]:
    """The pack's files plus, for every graph, its possible external-data files.

    Which graphs of a repo keep their weights in ``X.onnx_data`` (transformers.js exports) or
    ``X.onnx.data`` (torch exports) cannot be confirmed offline; asking the hub for both
    costs nothing and a present one is fetched like any other file.
    """
    out = list(files)
    declared = {f.path for f in files}
    for item in files:
        if item.path.endswith(".onnx"):
            for suffix in ("_data", ".data"):
                path = item.path + suffix
                if path not in declared:
                    out.append(PackFile(path, 0.0, "data", optional=True))
    return out


def remote_files(pack: Pack, variant: Variant, endpoint: str | None = None,
                 token: str | None = None) -> dict[str, RemoteFile]:
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint, token=token)
    infos = api.get_paths_info(pack.repo, [f.path for f in with_sidecars(variant.files)],
                               revision=pack.revision)
    out = {}
    for info in infos:
        size = getattr(info, "size", None)
        if size is None:
            continue  # a folder
        lfs = getattr(info, "lfs", None)
        # a plain dict in huggingface_hub 0.20, a dict with attributes from 0.21 on
        out[info.path] = RemoteFile(info.path, int(size),
                                    lfs["sha256"] if lfs is not None else None)
    return out


def verify_file(path: Path, expected: RemoteFile) -> None:
    """Raise :class:`DownloadError` unless ``path`` has the hub's size and sha256."""
    size = path.stat().st_size
    if size != expected.size:
        raise DownloadError(f"{expected.path}: got {size} bytes, the hub says {expected.size}")
    if expected.sha256 is not None:
        actual = _sha256(path)
        if actual != expected.sha256:
            raise DownloadError(
                f"{expected.path}: sha256 {actual[:12]}... does not match the hub's "
                f"{expected.sha256[:12]}... (corrupted transfer)")


def download_pack(store: ModelStore, name: str, variant: str | None = None,
                  endpoint: str | None = None, token: str | None = None,
                  progress: bool = True, tqdm_class=None) -> Path:
    """Download, verify and install one variant of a pack; returns the installed folder.

    ``tqdm_class`` gets the progress of each file (``total``, ``initial`` = bytes already on
    disk, ``desc`` = the file name); an exception raised from its ``update`` stops the download
    and keeps the part downloaded, which the next call continues. Without one, a tqdm bar is
    shown unless ``progress`` is false.
    """
    pack = store.catalogue.get(name)
    chosen = pack.variant(variant)
    target = store.pack_dir(name, chosen.name)
    staging = store.root / ".staging" / f"{pack.name}-{chosen.name}"
    staging.mkdir(parents=True, exist_ok=True)
    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or None
    hint = _manual_hint(pack, chosen, target)
    try:
        expected = remote_files(pack, chosen, endpoint, token)
    except Exception as exc:
        reason, transient = _classify(exc)
        later = "try again later, or " if transient and "HTTP" in reason else ""
        raise DownloadError(f"{reason}; {later}{hint}") from (None if transient else exc)

    fetched: list[tuple[PackFile, RemoteFile]] = []
    for item in with_sidecars(chosen.files):
        remote = expected.get(item.path)
        if remote is None:
            if item.optional:
                continue
            note = "" if item.confirmed else " (this file name was never confirmed offline)"
            raise DownloadError(f"{pack.repo}@{pack.revision} has no file {item.path}{note}")
        staged = staging / item.path
        if not (staged.is_file() and staged.stat().st_size == remote.size):
            try:
                _fetch(pack, item, remote, staged, endpoint, token, tqdm_class, progress)
            except TransferStopped as stop:
                raise DownloadError(
                    f"{item.path}: stopped ({stop}) with {stop.kept:,} of {remote.size:,} bytes "
                    f"downloaded; they are kept, and the next download of this pack continues "
                    f"from there") from None
            except Exception as exc:
                reason, transient = _classify(exc)
                if transient:
                    raise DownloadError(f"{item.path}: {reason}; run the same command again to "
                                        f"resume, or {hint}") from None
                raise DownloadError(f"{item.path}: {reason}; {hint}") from exc
        try:
            verify_file(staged, remote)
        except DownloadError:
            staged.unlink(missing_ok=True)
            raise
        fetched.append((item, remote))

    if chosen.archive:
        _unpack_archives(staging, [f for f, _ in fetched if f.role == "archive"])
    _write_manifest(staging, pack, chosen, fetched)
    shutil.rmtree(staging / ".cache", ignore_errors=True)
    _install(staging, target)
    return target


def _fetch(pack: Pack, item: PackFile, remote: RemoteFile, staged: Path,
           endpoint: str | None, token: str | None, tqdm_class, progress: bool = True) -> None:
    """Download one file into ``staged``, continuing a ``.part`` file left by an earlier try."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers

    from .. import __version__

    part = staged.with_name(staged.name + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    url = hf_hub_url(pack.repo, item.path, revision=pack.revision, endpoint=endpoint)
    headers = build_hf_headers(token=token, library_name="sam3-canvas",
                               library_version=__version__)
    headers["Accept-Encoding"] = "identity"  # byte offsets must be those of the file itself
    with open(part, "ab") as fh:
        done = fh.tell()
        if done > remote.size:  # a different file than the hub's now: start over
            fh.truncate(0)
            done = 0
        if done < remote.size:
            bar = _progress_bar(tqdm_class, progress, remote.size, done, item.name)
            try:
                _transfer(url, headers, fh, done, remote.size, bar)
            finally:
                bar.close()
    os.replace(part, staged)


def _progress_bar(tqdm_class, progress: bool, total: int, initial: int, name: str):
    kwargs = dict(total=total, initial=initial, desc=name, unit="B", unit_scale=True,
                  unit_divisor=1024)
    if tqdm_class is None:  # a bar on the terminal, off as huggingface_hub's are off
        from huggingface_hub.utils import are_progress_bars_disabled
        from tqdm.auto import tqdm
        kwargs["disable"] = not progress or are_progress_bars_disabled()
        return tqdm(**kwargs)
    return tqdm_class(**kwargs)


def _timeout() -> float:
    try:
        return float(os.environ.get("HF_HUB_DOWNLOAD_TIMEOUT") or 10)
    except ValueError:
        return 10.0


def _open_stream(url: str, headers: dict[str, str]):
    """A streamed GET through huggingface_hub's session, as a context manager."""
    from huggingface_hub import get_session

    session: Any = get_session()  # requests.Session or httpx.Client, by hub version
    if callable(getattr(session, "stream", None)):  # httpx / httpx2 client (hub >= 1.0)
        return session.stream("GET", url, headers=headers, timeout=_timeout(),
                              follow_redirects=True)
    # requests.Session (hub < 1.0), whose ``stream`` is a plain flag; a Response is closable
    return session.get(url, headers=headers, stream=True, timeout=_timeout())


def _transfer(url: str, headers: dict[str, str], fh, done: int, size: int, bar) -> None:
    """GET ``url`` from byte ``done`` on, appending to ``fh`` until it holds ``size`` bytes.

    Every chunk is written and flushed before the progress class hears of it, so what a cancel
    or a kill leaves on disk is exactly what the next attempt asks the server for.
    """
    from huggingface_hub.utils import hf_raise_for_status

    if done:
        headers = {**headers, "Range": f"bytes={done}-"}
    with _open_stream(url, headers) as response:
        hf_raise_for_status(response)
        if done and response.status_code != 206:  # the server ignored the Range: start over
            fh.seek(0)
            fh.truncate()
            done = 0
            bar.reset(total=size)
        elif done:
            answered = response.headers.get("Content-Range", "")
            if not answered.startswith(f"bytes {done}-"):  # a proxy mangled the Range
                fh.truncate(0)  # the next attempt starts this file over
                raise TransferInterrupted(f"asked for bytes {done}- and got {answered!r}")
        chunks = iter(response.iter_bytes(CHUNK) if hasattr(response, "iter_bytes")
                      else response.iter_content(CHUNK))
        while True:
            try:
                chunk = next(chunks, None)
            except _network_errors() as exc:  # the body broke off: a reset, a timeout...
                raise TransferInterrupted(
                    f"{done:,} of {size:,} bytes received; {type(exc).__name__}: "
                    f"{_first_line(exc)}") from exc
            if chunk is None:
                break
            if not chunk:
                continue
            fh.write(chunk)
            fh.flush()
            done += len(chunk)
            try:
                bar.update(len(chunk))
            except Exception as exc:
                raise TransferStopped(exc, done) from exc
    if done < size:
        raise TransferInterrupted(f"{done:,} of {size:,} bytes received")


def _unpack_archives(staging: Path, archives: list[PackFile]) -> None:
    for item in archives:
        path = staging / item.path
        try:
            with zipfile.ZipFile(path) as zf:
                for member in zf.namelist():
                    resolved = (staging / member).resolve()
                    if not str(resolved).startswith(str(staging.resolve())):
                        raise DownloadError(f"{item.path}: unsafe path {member!r} in the archive")
                zf.extractall(staging)
        except zipfile.BadZipFile:
            raise DownloadError(f"{item.path}: not a valid zip archive") from None
        path.unlink()


def _write_manifest(staging: Path, pack: Pack, variant: Variant,
                    fetched: list[tuple[PackFile, RemoteFile]]) -> None:
    manifest = {
        "pack": pack.name, "variant": variant.name, "repo": pack.repo,
        "revision": pack.revision, "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                 time.gmtime()),
        "files": [{"path": f.path, "size": r.size, "sha256": r.sha256} for f, r in fetched
                  if not variant.archive or f.role != "archive"],
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))


def _install(staging: Path, target: Path) -> None:
    """Swap the staged folder into place; the old install is removed only after the swap."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    shutil.rmtree(old, ignore_errors=True)


def verify_installed(store: ModelStore, name: str, variant: str | None = None) -> list[str]:
    """Check an installed pack; returns lines of findings, raises on the first real fault.

    With a manifest (a download), sizes and sha256 are checked; without one (files placed by
    hand) the graphs are opened and their layout checked, which catches truncated files too.
    """
    pack, folder = store.require(name, variant)
    chosen = pack.variant(variant)
    lines = []
    manifest = store.manifest(name, chosen.name)
    if manifest:
        for entry in manifest["files"]:
            remote = RemoteFile(entry["path"], entry["size"], entry.get("sha256"))
            verify_file(folder / entry["path"], remote)
            lines.append(f"ok  {entry['path']} ({entry['size']} bytes"
                         f"{', sha256 matches' if entry.get('sha256') else ''})")
    else:
        lines.append(f"no manifest in {folder} (files placed by hand): checking the graphs")
    if pack.layout == "tracker":
        from ..engine.packfiles import find_tracker_files
        from ..engine.tracker import TrackerModel
        files = find_tracker_files(folder, chosen.name)
        model = TrackerModel(files.encoder, files.decoder)
        lines.append(f"ok  layout: SAM3 tracker, input {model.layout.model_size[0]} x "
                     f"{model.layout.model_size[1]}, {len(model.layout.embedding_names)} "
                     f"embeddings, float type {model.layout.float_dtype.__name__}")
    return lines
