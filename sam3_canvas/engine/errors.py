"""Typed errors: every failure the user can cause has one, with a one-line message.

The CLI prints ``str(error)`` and exits with code 2; the GUI shows it in a dialog. Nothing in
the engine lets a bare library exception (PIL, onnxruntime, OSError) reach the caller.
"""

from __future__ import annotations


class Sam3CanvasError(Exception):
    """Base class of every error the engine raises on purpose."""


class ImageLoadError(Sam3CanvasError):
    """An image could not be read: missing, corrupt, truncated, empty or too large."""


class PromptError(Sam3CanvasError):
    """A prompt does not make sense for the image (outside it, inverted box, no prompt)."""


class ModelLoadError(Sam3CanvasError):
    """A model file is missing, truncated or not an ONNX graph."""


class LayoutError(ModelLoadError):
    """A graph loads but its inputs or outputs do not fit any known SAM3 layout."""


class ProviderError(Sam3CanvasError):
    """An execution provider was asked for that this onnxruntime cannot give."""


class ModelNotFoundError(Sam3CanvasError):
    """A catalogue name is unknown, or its files are not installed."""


class DownloadError(Sam3CanvasError):
    """A model download failed; the message says how to install the files by hand."""


class CacheError(Sam3CanvasError):
    """The embedding cache could not be read or written (never fatal for a prediction)."""


class InferenceError(Sam3CanvasError):
    """onnxruntime failed while running a graph (out of memory, a graph that does not fit
    its inputs, a provider error); the message says which graph and what to try."""


class Cancelled(Sam3CanvasError):
    """A run was cancelled on purpose (``RunOptions.terminate``); not a failure."""
