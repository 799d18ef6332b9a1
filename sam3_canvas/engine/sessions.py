"""Opening ONNX graphs by path, with a clear message for every way that can fail.

Graphs are always loaded by path, never from bytes, so that onnxruntime finds external-data
files (``X.onnx.data`` or ``X.onnx_data``) beside them. If the chosen provider cannot start a
session, the session is made on CPU and the reason is kept for the UI to show.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelLoadError, ProviderError
from .providers import (PROVIDERS, _ort, active_provider, available_providers,
                        explain_missing, normalise, session_providers)


@dataclass(frozen=True)
class SessionInfo:
    """Which provider was asked for, which one runs, and why they differ (if they do)."""

    requested: str
    active: str
    fallback_reason: str | None = None


def open_session(path: str | os.PathLike, provider: str = "cpu",
                 threads: int | None = None):
    """An ``InferenceSession`` for ``path`` on ``provider``, falling back to CPU.

    Returns ``(session, SessionInfo)``. Raises :class:`ModelLoadError` when the file is missing
    or not a loadable graph, :class:`ProviderError` for an unknown provider name.
    """
    path = Path(path)
    requested = normalise(provider)
    if not path.is_file():
        raise ModelLoadError(f"{path}: model file not found")
    if path.stat().st_size == 0:
        raise ModelLoadError(f"{path}: model file is empty (interrupted download?)")
    ort = _ort()
    options = ort.SessionOptions()
    options.log_severity_level = 3  # keep the benign MergeShapeInfo warnings off the console
    if threads:
        options.intra_op_num_threads = threads
    reason = None
    if requested in ("cuda", "tensorrt") and hasattr(ort, "preload_dlls"):
        try:  # CUDA and cuDNN from pip's nvidia-* packages, when the system has none
            ort.preload_dlls()
        except Exception:  # noqa: BLE001 - the session start below reports what is missing
            pass
    if requested != "cpu" and PROVIDERS[requested] not in ort.get_available_providers():
        offered = ", ".join(available_providers())
        reason = (f"{requested} is not offered by this onnxruntime (offers: {offered}); "
                  f"{explain_missing(requested)}").rstrip("; ")
        providers = [PROVIDERS["cpu"]]
    else:
        providers = session_providers(requested)
    try:
        session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own classes, not exported stably
        if providers != [PROVIDERS["cpu"]] and _is_provider_failure(exc):
            reason = f"{requested} failed to start ({_first_line(exc)}); running on CPU"
            try:
                session = ort.InferenceSession(str(path), sess_options=options,
                                               providers=[PROVIDERS["cpu"]])
            except Exception as exc2:
                raise _load_error(path, exc2) from None
        else:
            raise _load_error(path, exc) from None
    active = active_provider(session)
    if reason is None and active != requested and requested != "tensorrt":
        reason = f"{requested} was asked for but onnxruntime runs this graph on {active}"
    return session, SessionInfo(requested=requested, active=active, fallback_reason=reason)


def _is_provider_failure(exc: Exception) -> bool:
    text = str(exc).lower()
    graph_errors = ("protobuf", "invalid model", "no such file", "load model", "not a valid")
    return not any(marker in text for marker in graph_errors)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def _load_error(path: Path, exc: Exception) -> ModelLoadError:
    text = str(exc)
    lowered = text.lower()
    if "protobuf" in lowered or "invalid model" in lowered or "parse" in lowered:
        why = "is not a valid ONNX graph (truncated or corrupt download?)"
    elif "external" in lowered or "data file" in lowered or "no such file" in lowered:
        why = "refers to an external-data file that is missing beside it"
    else:
        why = "could not be loaded"
    return ModelLoadError(f"{path.name} {why}: {_first_line(exc)}")


def file_identity(path: str | os.PathLike, sample: int = 1 << 20) -> str:
    """A cheap content identity for a model file: its name, size and first and last MiB.

    Hashing a whole 2 GB encoder on every start would cost seconds; a re-export or another
    variant differs in its size or in its first or last bytes.
    """
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha256(f"{path.name}:{size}".encode())
    with open(path, "rb") as fh:
        digest.update(fh.read(sample))
        if size > sample:
            fh.seek(max(size - sample, sample))
            digest.update(fh.read(sample))
    for sidecar in (path.with_name(path.name + ".data"), path.with_name(path.name + "_data")):
        if sidecar.is_file():
            digest.update(f"{sidecar.name}:{sidecar.stat().st_size}".encode())
    return digest.hexdigest()[:16]


__all__ = ["SessionInfo", "open_session", "file_identity", "ProviderError"]
