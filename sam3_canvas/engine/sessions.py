"""Opening ONNX graphs by path, with a clear message for every way that can fail.

Graphs are always loaded by path, never from bytes, so that onnxruntime finds external-data
files (``X.onnx.data`` or ``X.onnx_data``) beside them. If the chosen provider cannot start a
session, the session is made on CPU and the reason is kept for the UI to show.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import Cancelled, InferenceError, ModelLoadError, ProviderError
from .providers import (
    PROVIDERS,
    _ort,
    active_provider,
    available_providers,
    explain_missing,
    normalise,
    session_providers,
    tensorrt_cache_dir,
    tensorrt_needs_build,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SessionInfo:
    """Which provider was asked for, which one runs, and why they differ (if they do)."""

    requested: str
    active: str
    fallback_reason: str | None = None
    note: str | None = None  # e.g. TensorRT built its engine, once


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
    offered_now = ort.get_available_providers()
    if requested != "cpu" and PROVIDERS[requested] not in offered_now:
        offered = ", ".join(available_providers())
        fallback = "cuda" if requested == "tensorrt" and PROVIDERS["cuda"] in offered_now \
            else "cpu"
        reason = (f"{requested} is not offered by this onnxruntime (offers: {offered}); "
                  "running on {active}; " + explain_missing(requested)).rstrip("; ")
        providers = session_providers(fallback)
    else:
        providers = session_providers(requested)
    building = requested == "tensorrt" and PROVIDERS["tensorrt"] in offered_now and \
        tensorrt_needs_build()
    if building:
        tensorrt_cache_dir().mkdir(parents=True, exist_ok=True)
        log.info("TensorRT: optimising %s for this GPU, once (engines cached in %s)",
                 path.name, tensorrt_cache_dir())
    started = time.perf_counter()
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
    note = None
    if building and active == "tensorrt":
        note = (f"TensorRT optimised {path.name} for this GPU in "
                f"{time.perf_counter() - started:.0f} s (once: kept in {tensorrt_cache_dir()})")
        log.info(note)
    if reason is not None:
        reason = reason.replace("{active}", active.upper())
    if reason is None and active != requested:
        reason = f"{requested} was asked for but onnxruntime runs this graph on {active}"
        if requested == "tensorrt" and active == "cuda":
            reason += " (TensorRT did not start; CUDA runs it)"
    return session, SessionInfo(requested=requested, active=active, fallback_reason=reason,
                                note=note)


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


def file_identity(path: str | os.PathLike) -> str:
    """The content identity of a model file and its external data (in-process memo only);
    kept for older callers: see :func:`sam3_canvas.engine.identity.model_identity`."""
    from .identity import model_identity

    return model_identity(path)


__all__ = ["SessionInfo", "open_session", "file_identity", "ProviderError"]


def run_graph(session, outputs, feed: dict, what: str, run_options=None) -> list:
    """``session.run`` with onnxruntime's own exceptions turned into one-line project errors:
    :class:`Cancelled` when ``run_options.terminate`` stopped it, else :class:`InferenceError`
    naming the graph (``what``) and what to try."""
    try:
        return session.run(outputs, feed, run_options)
    except Exception as exc:  # onnxruntime's exception classes are not a stable API
        if run_options is not None and getattr(run_options, "terminate", False):
            raise Cancelled(f"{what}: cancelled") from None
        raise InferenceError(_inference_message(what, exc)) from None


def run_bound(session, binding, what: str, run_options=None) -> None:
    """``session.run_with_iobinding`` with the same one-line errors as :func:`run_graph`."""
    try:
        session.run_with_iobinding(binding, run_options)
    except Exception as exc:  # onnxruntime's exception classes are not a stable API
        if run_options is not None and getattr(run_options, "terminate", False):
            raise Cancelled(f"{what}: cancelled") from None
        raise InferenceError(_inference_message(what, exc)) from None


def _inference_message(what: str, exc: Exception) -> str:
    text = _first_line(exc)
    lowered = str(exc).lower()
    if "allocate" in lowered or "out of memory" in lowered or isinstance(exc, MemoryError):
        hint = "not enough memory: close other programs, use a smaller variant, or run on CPU"
    elif "invalid argument" in lowered or "invalid_argument" in lowered or "shape" in lowered \
            or "dimension" in lowered or "type" in lowered:
        hint = ("the graph does not accept these inputs; is the model pack complete and of a "
                "supported layout? (sam3-canvas models verify NAME)")
    else:
        hint = "check the model files (sam3-canvas models verify NAME) or try --provider cpu"
    return f"{what} failed: {hint} (onnxruntime: {text})"
