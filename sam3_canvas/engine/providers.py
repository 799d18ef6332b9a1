"""Execution providers: what the user may choose, what this onnxruntime offers, what ran.

The user picks a short name (cpu, cuda, tensorrt, directml, coreml, openvino).
``session_providers`` turns it into the provider list for a session with CPU as the fallback;
after the session exists,
``active_provider`` reads back what onnxruntime actually uses, because onnxruntime drops a GPU
provider it cannot load without raising. ``conflicting_packages`` finds the most common cause of
"the GPU is not used" in the tools before this one: two onnxruntime wheels installed together.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from .errors import ProviderError

PROVIDERS: dict[str, str] = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "directml": "DmlExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
}
SHORT_NAMES = {v: k for k, v in PROVIDERS.items()}

#: onnxruntime wheels that all install the same ``onnxruntime`` module and overwrite each other.
ORT_DISTRIBUTIONS = ("onnxruntime", "onnxruntime-gpu", "onnxruntime-directml",
                     "onnxruntime-openvino", "onnxruntime-silicon", "onnxruntime-qnn")


def _ort():
    try:
        import onnxruntime
    except ImportError:
        raise ProviderError(
            "onnxruntime is not installed: pip install 'sam3-canvas[cpu]' (or [cuda] / "
            "[directml] for a GPU)") from None
    return onnxruntime


def available_providers() -> list[str]:
    """Short names of the providers this onnxruntime build offers, best first."""
    offered = set(_ort().get_available_providers())
    return [short for short in ("tensorrt", "cuda", "directml", "coreml", "openvino", "cpu")
            if PROVIDERS[short] in offered]


def normalise(name: str) -> str:
    key = name.strip().lower()
    if key in PROVIDERS:
        return key
    if name in SHORT_NAMES:
        return SHORT_NAMES[name]
    raise ProviderError(
        f"unknown provider {name!r}: choose one of {', '.join(PROVIDERS)}")


def session_providers(name: str) -> list:
    """The onnxruntime provider list for ``name``: it first, then CPU as the fallback.
    TensorRT comes with its options (fp16, the engine cache) and CUDA behind it."""
    key = normalise(name)
    if key == "cpu":
        return [PROVIDERS["cpu"]]
    if key == "tensorrt":
        return [(PROVIDERS["tensorrt"], tensorrt_options()), PROVIDERS["cuda"],
                PROVIDERS["cpu"]]
    return [PROVIDERS[key], PROVIDERS["cpu"]]


def tensorrt_cache_dir() -> Path:
    """Where TensorRT keeps the engines it builds for this GPU (``$SAM3_CANVAS_CACHE``'s
    sibling ``tensorrt``, or the user cache folder's)."""
    import os

    import platformdirs
    env = os.environ.get("SAM3_CANVAS_CACHE")
    root = Path(env).parent if env else platformdirs.user_cache_path("sam3-canvas",
                                                                     appauthor=False)
    return root / "tensorrt"


def tensorrt_options() -> dict[str, str]:
    """TensorRT in fp16 with its engines and timing cache kept, so only the first start on a
    GPU builds them (minutes); onnxruntime's documented option names."""
    cache = tensorrt_cache_dir()
    return {"trt_fp16_enable": "True", "trt_engine_cache_enable": "True",
            "trt_engine_cache_path": str(cache), "trt_timing_cache_enable": "True",
            "trt_timing_cache_path": str(cache)}


def tensorrt_needs_build() -> bool:
    """No engine is cached yet: the next TensorRT session builds one ("optimising the model
    for this GPU, once"). Engines are per model and GPU; a cache with any is taken as built
    for the model the app uses (the usual case, one model)."""
    cache = tensorrt_cache_dir()
    return not (cache.is_dir() and any(cache.glob("*.engine")))


def active_provider(session) -> str:
    """Short name of the provider that runs a session's first node."""
    used = session.get_providers()
    return SHORT_NAMES.get(used[0], used[0]) if used else "cpu"


def installed_ort_distributions() -> list[str]:
    found = []
    for dist in ORT_DISTRIBUTIONS:
        try:
            metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        found.append(dist)
    return found


def conflicting_packages() -> str | None:
    """A message with the fix when several onnxruntime wheels are installed; else None."""
    found = installed_ort_distributions()
    if len(found) <= 1:
        return None
    keep = next((d for d in found if d != "onnxruntime"), found[0])
    return (f"several onnxruntime packages are installed together ({', '.join(found)}); they "
            f"overwrite each other and the GPU is silently not used. Fix: pip uninstall -y "
            f"{' '.join(found)} && pip install {keep}")


def explain_missing(name: str) -> str:
    """Why a provider is not offered, and what to install."""
    key = normalise(name)
    hint = {
        "cuda": "install the CUDA build: pip install 'sam3-canvas[cuda]' (CUDA 12 and cuDNN 9 "
                "must be on the machine)",
        "tensorrt": "install onnxruntime-gpu with TensorRT libraries on the machine",
        "directml": "on Windows: pip install 'sam3-canvas[directml]'",
        "coreml": "on macOS the standard onnxruntime wheel offers CoreML",
        "openvino": "install the OpenVINO build instead of the CPU one: pip install "
                    "'sam3-canvas[openvino]' (Intel CPUs and GPUs)",
    }.get(key, "")
    conflict = conflicting_packages()
    return "; ".join(x for x in (hint, conflict) if x)
