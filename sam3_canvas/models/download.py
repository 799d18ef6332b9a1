"""Downloading a model pack with huggingface_hub: staged, verified, installed only when whole.

1. Ask the hub for each file's exact size and (for LFS files) sha256 (``get_paths_info``).
2. Fetch each file into a staging folder beside the destination with huggingface_hub's own
   transport (``hf_hub_url``, ``http_get``: headers, auth, redirects, retries). The partial file
   (``<name>.part``) is ours, not a temporary of huggingface_hub's: huggingface_hub 2.x deletes
   its partial file when a call fails, so a cancelled or killed download would start over; here
   the next attempt continues from the last byte written, with an HTTP Range request.
3. Check every staged file's size and sha256 against step 1; a mismatch deletes the file and
   fails with the file's name.
4. Write a manifest and move the staging folder into place with one rename. Until then the
   destination holds nothing (or the previous complete install), so a crash never leaves a
   half pack that the app would try to load.

No network (or no Hugging Face) gives one line saying where to put the files by hand.
``endpoint`` (or ``HF_ENDPOINT``) points it at a mirror, or at the tests' local stand-in hub.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ..engine.errors import DownloadError
from .catalogue import Pack, PackFile, Variant
from .store import MANIFEST, ModelStore


@dataclass(frozen=True)
class RemoteFile:
    path: str
    size: int
    sha256: str | None  # None for small non-LFS files (the hub gives a git blob id only)


def _manual_hint(pack: Pack, variant: Variant, target: Path) -> str:
    files = ", ".join(f.path for f in variant.files if not f.optional)
    page = pack.homepage or f"https://huggingface.co/{pack.repo}"
    return (f"download {files} from {page}/tree/{pack.revision} by hand, put them in {target} "
            f"keeping their paths, then run `sam3-canvas models verify {pack.name} "
            f"--variant {variant.name}`")


def _classify(exc: Exception) -> str:
    name = type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    if any(k in name for k in ("Connect", "Timeout", "LocalEntryNotFound", "Network")) or \
            any(k in text.lower() for k in ("connection", "resolve", "unreachable", "offline")):
        return f"cannot reach the model hub ({text[:160]})"
    if "RepositoryNotFound" in name or "RevisionNotFound" in name:
        return f"the hub has no such repository or revision ({text[:160]})"
    return f"{name}: {text[:200]}"


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
        if getattr(info, "size", None) is None:
            continue  # a folder
        lfs = getattr(info, "lfs", None)
        out[info.path] = RemoteFile(info.path, int(info.size),
                                    lfs.sha256 if lfs is not None else None)
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
    """Download, verify and install one variant of a pack; returns the installed folder."""
    pack = store.catalogue.get(name)
    chosen = pack.variant(variant)
    target = store.pack_dir(name, chosen.name)
    staging = store.root / ".staging" / f"{pack.name}-{chosen.name}"
    staging.mkdir(parents=True, exist_ok=True)
    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or None
    try:
        expected = remote_files(pack, chosen, endpoint, token)
    except Exception as exc:
        raise DownloadError(f"{_classify(exc)}; {_manual_hint(pack, chosen, target)}") from None

    fetched: list[tuple[PackFile, RemoteFile]] = []
    for item in with_sidecars(chosen.files):
        remote = expected.get(item.path)
        if remote is None:
            if item.optional:
                continue
            hint = "" if item.confirmed else " (this file name was never confirmed offline)"
            raise DownloadError(f"{pack.repo}@{pack.revision} has no file {item.path}{hint}")
        staged = staging / item.path
        if not (staged.is_file() and staged.stat().st_size == remote.size):
            try:
                _fetch(pack, item, remote, staged, endpoint, token, tqdm_class)
            except Exception as exc:
                raise DownloadError(
                    f"{item.path}: {_classify(exc)}; run the same command again to resume, or "
                    f"{_manual_hint(pack, chosen, target)}") from None
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
           endpoint: str | None, token: str | None, tqdm_class) -> None:
    """Download one file into ``staged``, continuing a ``.part`` file left by an earlier try."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.file_download import http_get
    from huggingface_hub.utils import build_hf_headers

    part = staged.with_name(staged.name + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    url = hf_hub_url(pack.repo, item.path, revision=pack.revision, endpoint=endpoint)
    with open(part, "ab") as fh:
        done = fh.tell()
        if done > remote.size:  # a different file than the hub's now: start over
            fh.truncate(0)
            done = 0
        if done < remote.size:
            http_get(url, fh, resume_size=done, headers=build_hf_headers(token=token),
                     expected_size=remote.size, displayed_filename=item.name,
                     tqdm_class=tqdm_class)
    os.replace(part, staged)


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
